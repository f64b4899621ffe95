/**
 * HTTP tools for edge-mcp: declared tools (`compileHttpTool`) and tools from an
 * OpenAPI document (`openApiTools`), each a pure mapping between MCP calls and
 * HTTP exchanges; the gateway sends the requests.
 */

export { type CompiledHttpTool, type CompileOptions, compileHttpTool } from "./compile.ts";
export { type OpenApiSelection, type OpenApiSelectionLists, type OpenApiTools, openApiTools, openApiToolsFromDocument } from "./openapi.ts";
export { ERROR_BODY_MAX, RESPONSE_URI } from "./result.ts";
export type { HttpAnswer, HttpCall, HttpCallSpec, HttpToolSpec } from "./spec.ts";
