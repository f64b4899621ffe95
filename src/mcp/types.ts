/**
 * The contracts between the parts of edge-mcp: what a tool source is (declared
 * HTTP tools, OpenAPI documents, federated MCP servers over Streamable HTTP or
 * stdio), what a call carries, and the wire shapes the front serves. The front
 * (src/mcp/front/) speaks MCP to agents; the registry (src/mcp/registry/)
 * merges and curates what the sources offer; the sources (src/mcp/sources/)
 * know how to reach what is behind them. No part imports another's internals.
 */

/** A JSON object as it travels in MCP messages. */
export type JsonObject = Record<string, unknown>;

/** Whether a parsed JSON value is an object (not null, not an array): the one guard every part of edge-mcp uses. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A tool as MCP lists it (`tools/list`): the fields the spec defines, kept as the source gave them. */
export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonObject;
  outputSchema?: JsonObject;
  annotations?: JsonObject;
  icons?: unknown[];
  execution?: JsonObject;
  _meta?: JsonObject;
}

/** What describes a tool to an agent (what pinning hashes, what an HTTP tool declares): its definition without icons, execution or _meta. */
export type ToolDescription = Pick<ToolDefinition, "name" | "title" | "description" | "inputSchema" | "outputSchema" | "annotations">;

/** A tool call's result as MCP returns it (`tools/call`). */
export interface CallToolResult {
  content: JsonObject[];
  structuredContent?: JsonObject;
  isError?: boolean;
  _meta?: JsonObject;
  [key: string]: unknown;
}

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** What a source gets with one call from an agent (tools/call, resources/read, prompts/get, completion/complete). */
export interface CallContext {
  /** Aborted when the agent cancels, disconnects, or the call's timeout passes; the source must stop and propagate it. */
  readonly signal: AbortSignal;
  /** Set when the agent asked for progress (it sent a progressToken): report upstream progress through it. */
  readonly progress?: ((p: Progress) => void) | undefined;
  /** `_meta` to carry to the upstream (traceparent, tracestate, baggage); never the agent's progressToken (the source makes its own). */
  readonly meta?: JsonObject | undefined;
  /**
   * A request the upstream server sends to the client during the call (sampling/createMessage,
   * elicitation/create, roots/list): relayed to the agent; resolves with the agent's result or
   * rejects with its error. Undefined when the agent's connection cannot carry one.
   */
  readonly request?: ((method: string, params: JsonObject | undefined) => Promise<JsonObject>) | undefined;
  /** A notification the upstream sends during the call that the agent should see (notifications/message). */
  readonly notify?: ((method: string, params: JsonObject | undefined) => void) | undefined;
  /** The gateway's request id, for logs. */
  readonly requestId: string;
  /**
   * The agent speaks 2026-07-28: an upstream's `input_required` result goes back to it as it is
   * (the agent fulfils it and retries), never fulfilled by the gateway on its behalf.
   */
  readonly passInputRequired?: boolean | undefined;
  /**
   * The caller's own bearer token, for a source that exchanges it (RFC 8693) for a token of its upstream's
   * audience. Never sent upstream as it is (no token passthrough).
   */
  readonly subjectToken?: string | undefined;
  /** A 2026-07-28 retry of an `input_required` call: the agent's answers and the upstream's requestState, sent on untouched. */
  readonly retry?: { readonly inputResponses?: unknown; readonly requestState?: unknown } | undefined;
}

export interface ResourceDefinition {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: JsonObject;
  _meta?: JsonObject;
}

export interface ResourceTemplateDefinition {
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  annotations?: JsonObject;
  _meta?: JsonObject;
}

export interface PromptDefinition {
  name: string;
  title?: string;
  description?: string;
  arguments?: { name: string; description?: string; required?: boolean }[];
  _meta?: JsonObject;
}

export type SourceKind = "http" | "openapi" | "mcp" | "stdio";

/** What changed at a source: its tools, resources or prompts list. */
export type ListKind = "tools" | "resources" | "prompts";

/**
 * A source of tools (and, for federated servers, resources and prompts). The registry
 * starts it, reads its lists, and calls into it by the source's own names (before
 * prefixing or renaming). Errors a call meets at the upstream come back as a
 * CallToolResult with isError (the agent sees them); a call the source cannot make at
 * all throws a FicusError (FICUS_MCP_*).
 */
export interface ToolSource {
  readonly name: string;
  readonly kind: SourceKind;
  /** Loads the document or connects; resolves when the first lists are known. Rejects with a FicusError naming the source. */
  start(): Promise<void>;
  tools(): readonly ToolDefinition[];
  call(tool: string, args: JsonObject, ctx: CallContext): Promise<CallToolResult>;
  resources?(): readonly ResourceDefinition[];
  resourceTemplates?(): readonly ResourceTemplateDefinition[];
  readResource?(uri: string, ctx: CallContext): Promise<JsonObject>;
  prompts?(): readonly PromptDefinition[];
  getPrompt?(name: string, args: Record<string, string>, ctx: CallContext): Promise<JsonObject>;
  complete?(params: JsonObject, ctx: CallContext): Promise<JsonObject>;
  /** Set by the registry: called when one of the source's lists changed (the source has already refreshed it). */
  onListChanged?: ((what: ListKind) => void) | undefined;
  /** Health for /admin and metrics: "up", "starting", "down" (with why). */
  status(): { state: "up" | "starting" | "down"; detail?: string };
  close(): Promise<void>;
}
