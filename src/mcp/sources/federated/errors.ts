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

/** A tools/call outcome the agent sees as a tool error. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** The message of anything thrown, for status lines and tool errors. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
