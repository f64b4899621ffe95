/**
 * Governance of tool calls: small guards around each `tools/call` of an MCP
 * endpoint, as layers are around each HTTP request. A guard decides (a
 * policy, a quota), answers (a cache hit, a denial as a tool error), changes
 * what is sent (arguments rewritten by a policy) or what is returned (a
 * result redacted or cut), or observes (snapshots of failures, the audit
 * line). An endpoint runs its guards in order; `before` may answer, and then
 * the guards after it and the source are skipped; `after` runs in reverse
 * for the guards whose `before` ran, and may replace the result. A guard
 * never throws to the agent: what it cannot do it reports and lets the call
 * go on, or denies, as its own configuration says.
 *
 * `listTools` filters what an endpoint lists for a caller (a policy hides the
 * tools the caller may not call); the filtered list is not cached across
 * callers.
 */
import type { Identity } from "../../auth/identity.ts";
import type { CatalogTool } from "../registry/registry.ts";
import type { CallToolResult, JsonObject } from "../types.ts";

/** Who calls, and where. */
export interface Caller {
  /** The authenticated identity (the route's auth), or undefined on an endpoint without authentication. */
  readonly identity: Identity | undefined;
  /** identity.subject, or "" when anonymous. */
  readonly subject: string;
  /** The client's address (for anonymous quotas). */
  readonly address: string;
  /** The endpoint: the name of the route with the `mcp:` block. */
  readonly endpoint: string;
  readonly era: "legacy" | "modern";
}

/** One tool call as the guards see it. */
export interface GuardedCall {
  readonly caller: Caller;
  readonly tool: CatalogTool;
  /** The arguments that will be sent (fixed arguments applied). A guard may replace them (a policy's rewrite). */
  args: JsonObject;
  readonly requestId: string;
  /** The W3C trace id of the request, when traced. */
  readonly traceId: string | undefined;
  /** performance.now() when the call arrived. */
  readonly started: number;
  /** A 2026-07-28 retry carrying the agent's answers to an input_required result (inputResponses, requestState). */
  readonly retry: boolean;
  /**
   * What guards noted for later guards and the audit line: decision, cache, quota, … (plain JSON values).
   * The endpoint sets `asked: true` when the upstream asked the agent something during the call (sampling,
   * elicitation, roots): such a result depends on the agent's answer.
   */
  readonly notes: Record<string, unknown>;
}

/** How a call ended, as `after` sees it. */
export type CallEnd =
  /** The source answered (the result may be a tool error: isError). */
  | { readonly kind: "result"; readonly result: CallToolResult }
  /** A guard's `before` answered: a denial, a quota, a cache hit. */
  | { readonly kind: "answered"; readonly result: CallToolResult; readonly by: string }
  /** The call failed as a JSON-RPC error (the upstream's own error, relayed with its code). */
  | { readonly kind: "error"; readonly code: number; readonly message: string; readonly data?: unknown };

/** A prompt or a resource of an endpoint, as guards that decide who may see and use them get it. */
export type GuardedItem =
  | { readonly kind: "prompt"; readonly name: string; readonly source: string; readonly upstreamName: string }
  | { readonly kind: "resource"; readonly uri: string; readonly name: string; readonly source: string };

export interface CallGuard {
  /** For logs and the audit line: "policy", "quota", "cache", … */
  readonly name: string;
  before?(call: GuardedCall): CallToolResult | undefined | Promise<CallToolResult | undefined>;
  after?(call: GuardedCall, end: CallEnd): CallToolResult | undefined;
  listTools?(caller: Caller, tools: readonly CatalogTool[]): readonly CatalogTool[] | Promise<readonly CatalogTool[]>;
  /**
   * Whether a caller may see (action "list") or use ("get" a prompt, "read" a resource) a prompt or a resource:
   * undefined to allow, else why not (an item a caller may not see is left out of lists; using it is refused).
   */
  allowsItem?(caller: Caller, action: "list" | "get" | "read", item: GuardedItem): string | undefined;
  /** Called when the endpoint is replaced (a reload) or the gateway stops. */
  close?(): void | Promise<void>;
}

/** A tool error result: what a guard answers with when it stops a call (the agent reads it and may act on it). */
export function toolError(text: string, meta?: JsonObject): CallToolResult {
  const r: CallToolResult = { content: [{ type: "text", text }], isError: true };
  if (meta !== undefined) r._meta = meta;
  return r;
}

/**
 * Runs a call through guards: each `before` in order (the first answer stops there), the call itself, then `after`
 * in reverse for the guards whose `before` ran. Kept free of the endpoint so guards can be tested without one.
 */
export async function guarded(guards: readonly CallGuard[], call: GuardedCall, run: (args: JsonObject) => Promise<CallToolResult>): Promise<CallToolResult> {
  let ran = 0;
  let end: CallEnd | undefined;
  for (; ran < guards.length; ran++) {
    const g = guards[ran] as CallGuard;
    // Most guards decide synchronously: no microtask for them.
    let answer = g.before === undefined ? undefined : g.before(call);
    if (answer instanceof Promise) answer = await answer;
    if (answer !== undefined) {
      end = { kind: "answered", result: answer, by: g.name };
      ran++;
      break;
    }
  }
  if (end === undefined) {
    try {
      end = { kind: "result", result: await run(call.args) };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      end = { kind: "error", code: typeof code === "number" ? code : -32603, message: err instanceof Error ? err.message : String(err), data: (err as { data?: unknown }).data };
      for (let i = ran - 1; i >= 0; i--) guards[i]?.after?.(call, end);
      throw err;
    }
  }
  const ended = end as Exclude<CallEnd, { kind: "error" }>;
  let result = ended.result;
  for (let i = ran - 1; i >= 0; i--) {
    const replaced = guards[i]?.after?.(call, { ...ended, result });
    if (replaced !== undefined) result = replaced;
  }
  return result;
}
