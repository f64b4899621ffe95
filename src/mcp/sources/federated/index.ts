/**
 * Federated MCP servers as tool sources: over Streamable HTTP (McpHttpSource, kind "mcp") and
 * over stdio as a supervised child process (StdioSource, kind "stdio"), both on the official v2
 * client SDK.
 */
export { McpHttpSource, type McpHttpSourceOptions } from "./http-source.ts";
export { StdioSource, type StdioSourceOptions } from "./stdio-source.ts";
export { UpstreamRpcError } from "./errors.ts";
export type { EraChoice } from "./client-source.ts";
