/**
 * The declared form of an HTTP tool (what a `tools:` entry of an http source, or
 * one OpenAPI operation, becomes) and the two wire shapes around a call: the HTTP
 * request a call's arguments make, and the HTTP answer that becomes its result.
 * The gateway sends the request; nothing here does I/O.
 */

import type { JsonObject, ToolDescription } from "../../types.ts";

export type { JsonObject };

/** One tool backed by one HTTP call. The config schema produces exactly this shape. */
export interface HttpToolSpec extends ToolDescription {
  // inputSchema: the arguments (`type: object`). outputSchema: when set, a JSON body is also returned as
  // `structuredContent`; a schema that is not `type: object` is wrapped as `{result: <schema>}` (and the body
  // as `{result: body}`). annotations: readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title.
  call: HttpCallSpec;
}

export interface HttpCallSpec {
  /** GET, POST, … (a token; case is normalized to upper). */
  method: string;
  /** Path template: `/orders/{id}`; each `{x}` is an argument, percent-encoded as one path segment. */
  path: string;
  /** Query name → argument name. Omitted when the argument is absent or null; an array repeats the name. */
  query?: Record<string, string>;
  /** Header name → argument name. Omitted when absent or null; an array is joined with ", ". */
  headers?: Record<string, string>;
  /**
   * The JSON body: one argument name (that argument IS the body), a list of argument
   * names (a JSON object of those present), or "*" (an object of every argument not
   * used by path, query or headers). No body when unset.
   */
  body?: string | string[];
  /** Headers sent with every call. */
  fixed_headers?: Record<string, string>;
}

/** The HTTP request one call makes. `target` is the origin-form target: path, then `?` and the query, percent-encoded. */
export interface HttpCall {
  method: string;
  target: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
}

/** The HTTP response a call got (body decoded of any content coding). */
export interface HttpAnswer {
  status: number;
  headers: readonly [string, string][];
  body: Uint8Array;
}
