/**
 * One audit line: what a tool call was and how it ended, as one JSON object
 * on one line. Built in the audit guard's `after` (it is the outermost guard,
 * so it sees the decisions of every guard inside it and the final result).
 * Arguments go in as a digest (SHA-256 of their RFC 8785 canonical JSON:
 * the same arguments in any key order give the same digest), as values with
 * secrets redacted, or not at all.
 */
import { createHash } from "node:crypto";
import type { Redactor } from "../../../migration/redact.ts";
import { canonicalJson } from "../../pinning/hash.ts";
import type { CallEnd, GuardedCall } from "../guard.ts";

export type AuditArguments = "digest" | "values" | "none";

/** How a call ended, as the audit line says it: ok, tool_error, error, or answered:<guard>. */
export function auditResult(end: CallEnd): string {
  if (end.kind === "error") return "error";
  if (end.kind === "answered") return `answered:${end.by}`;
  return end.result.isError === true ? "tool_error" : "ok";
}

/** SHA-256 (hex) of the arguments' canonical JSON. */
export function argsDigest(args: unknown): string {
  return createHash("sha256").update(canonicalJson(args)).digest("hex");
}

/** The fields of a line, in the order they are written (for readers and the docs). */
export interface AuditLine {
  readonly time: string;
  readonly request_id: string;
  readonly trace_id: string | null;
  /** The caller's subject; "" when anonymous. */
  readonly principal: string;
  readonly endpoint: string;
  readonly tool: string;
  readonly source: string;
  readonly decision: string;
  readonly cache: string | null;
  readonly quota: unknown;
  readonly duration_ms: number;
  readonly result: string;
  readonly args_digest?: string;
  readonly args?: unknown;
}

/**
 * The line (without its newline). `now` is Date.now() and `end` performance.now() at the end of the call.
 * With `values`, the redacted arguments' JSON text is written as the redactor gives it (no re-parse).
 */
export function auditLine(call: GuardedCall, end: CallEnd, mode: AuditArguments, redactor: Redactor | undefined, now: number, ended: number): string {
  const notes = call.notes;
  const decision = notes.decision;
  const head = JSON.stringify({
    time: new Date(now).toISOString(),
    request_id: call.requestId,
    trace_id: call.traceId ?? null,
    principal: call.caller.subject,
    endpoint: call.caller.endpoint,
    tool: call.tool.name,
    source: call.tool.entry.source.name,
    decision: typeof decision === "string" ? decision : "allow",
    cache: notes.cache ?? null,
    quota: notes.quota ?? null,
    duration_ms: Math.round((ended - call.started) * 1000) / 1000,
    result: auditResult(end),
  });
  if (mode === "none") return head;
  if (mode === "digest") return `${head.slice(0, -1)},"args_digest":"${argsDigest(call.args)}"}`;
  const text = JSON.stringify(call.args);
  return `${head.slice(0, -1)},"args":${redactor === undefined ? text : redactor.text(text, "application/json")}}`;
}
