/**
 * Which ended tool calls are failures worth a snapshot, of what kind, and
 * their signature: the same failure seen many times (another order id,
 * another timestamp in the message) groups under one signature.
 *
 * Kinds: "rpc_error" (a JSON-RPC error from the upstream), "tool_error" (the
 * tool answered isError), "timeout" (the call ran past its timeout,
 * FICUS_MCP_CALL_TIMEOUT), "upstream_down" (the source could not be reached
 * or failed mid-call), "schema_violation" (structuredContent that does not
 * fit the tool's outputSchema), "denied:<guard>" (policy, quota, guardrails).
 * A cache hit, a migration's answer, or a call that succeeded is no failure.
 */
import { createHash } from "node:crypto";
import type { CallToolResult } from "../../types.ts";
import type { CallEnd, GuardedCall } from "../guard.ts";
import { validatorFor } from "../json-schema.ts";

export type SnapshotKind = "rpc_error" | "tool_error" | "timeout" | "upstream_down" | "schema_violation" | `denied:${string}`;

export interface Failure {
  readonly kind: SnapshotKind;
  /** What went wrong, as text (the error's message, the tool error's text, the schema problem). */
  readonly message: string;
}

/** Guards whose answer is a denial (a cache or a migration answering is not a failure). */
const DENYING = new Set(["policy", "quota", "guardrails"]);
/** Longest message kept for the signature and the listing. */
const MESSAGE_MAX = 2048;

/**
 * The text of a tool error the endpoint made for a source that could not run the call (src/mcp/front/endpoint.ts,
 * relay): "<tool>: <message of FICUS_MCP_UPSTREAM>" (src/mcp/sources: federated client, HTTP invoke).
 */
const UPSTREAM_DOWN = /^(?:upstream \S+ (?:is down|is closed|\(.*?\): cannot connect)|upstream \S+: \S+ failed|the HTTP call (?:through the gateway's routes )?failed|the response body could not be read whole)/;

/** The text of a result's text content items, joined (cut at MESSAGE_MAX). */
export function resultText(r: CallToolResult): string {
  let out = "";
  for (const c of r.content ?? []) {
    if (c.type === "text" && typeof c.text === "string") out += out === "" ? c.text : `\n${c.text}`;
    if (out.length >= MESSAGE_MAX) break;
  }
  return out.length > MESSAGE_MAX ? out.slice(0, MESSAGE_MAX) : out;
}

/** The failure a call ended with, or undefined when it did not fail. Runs on the call path: cheap for successes. */
export function classify(call: GuardedCall, end: CallEnd, onBadSchema?: (message: string) => void): Failure | undefined {
  if (end.kind === "error") return { kind: "rpc_error", message: `${end.code}: ${end.message}`.slice(0, MESSAGE_MAX) };
  if (end.kind === "answered") return DENYING.has(end.by) ? { kind: `denied:${end.by}`, message: resultText(end.result) } : undefined;
  const r = end.result;
  if (r.isError === true) {
    const text = resultText(r);
    // Ficus's own failures say which in _meta; the text is the fallback for results relayed from elsewhere.
    const code = (r._meta as Record<string, unknown> | undefined)?.["io.ficus/error"];
    if (code === "FICUS_MCP_CALL_TIMEOUT") return { kind: "timeout", message: text };
    if (code === "FICUS_MCP_UPSTREAM") return { kind: "upstream_down", message: text };
    if (text.includes("FICUS_MCP_CALL_TIMEOUT")) return { kind: "timeout", message: text };
    const prefix = `${call.tool.name}: `;
    if (text.startsWith(prefix) && UPSTREAM_DOWN.test(text.slice(prefix.length))) return { kind: "upstream_down", message: text };
    return { kind: "tool_error", message: text };
  }
  const schema = call.tool.definition.outputSchema;
  if (r.structuredContent !== undefined && schema !== undefined) {
    const problem = validatorFor(schema, onBadSchema)?.(r.structuredContent);
    if (problem !== undefined) return { kind: "schema_violation", message: `structuredContent does not fit the outputSchema: ${problem}` };
  }
  return undefined;
}

// Order matters: quoted strings first (they may hold anything), then UUIDs, long hex ids, then numbers.
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX_ID = /\b(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b/gi;
const DIGITS = /\d+(?:\.\d+)?/g;

/** A message with what varies between occurrences of one failure replaced: quoted strings, UUIDs, hex ids, numbers. */
export function messageShape(message: string): string {
  return message.replace(QUOTED, "<str>").replace(UUID, "<uuid>").replace(HEX_ID, "<hex>").replace(DIGITS, "<n>");
}

/** The signature of a failure: SHA-256 of (tool, kind, message shape), 16 hex digits. */
export function signatureOf(tool: string, kind: string, message: string): string {
  return createHash("sha256").update(`${tool}\u0000${kind}\u0000${messageShape(message)}`).digest("hex").slice(0, 16);
}
