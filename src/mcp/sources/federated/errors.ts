/**
 * Errors a federated MCP source raises or relays: `UpstreamRpcError` carries an upstream's
 * JSON-RPC error (code, message, data) for a pass-through request (resources/read, prompts/get,
 * completion/complete) so the front can answer the agent with the same code; `toolError` builds
 * the CallToolResult with isError that a failed tools/call becomes.
 */
import type { CallToolResult } from "../../types.ts";

/** A JSON-RPC error the upstream answered a pass-through request with, kept whole for relaying. */
export class UpstreamRpcError extends Error {
  readonly code: number;
  readonly data?: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "UpstreamRpcError";
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/** Says in `_meta` which of Ficus's own failures a tool error is (snapshots and the audit line read it; agents may). */
export const ERROR_META_KEY = "io.ficus/error";

/** A tools/call outcome the agent sees as a tool error; `code` names Ficus's own failure (FICUS_MCP_UPSTREAM, FICUS_MCP_CALL_TIMEOUT). */
export function toolError(message: string, code?: string): CallToolResult {
  const r: CallToolResult = { content: [{ type: "text", text: message }], isError: true };
  if (code !== undefined) r._meta = { [ERROR_META_KEY]: code };
  return r;
}

/** The message of anything thrown, for status lines and tool errors. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
