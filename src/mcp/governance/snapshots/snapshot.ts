/**
 * What a snapshot holds, and how one is made from a failed call: off the
 * call path (the recorder's flush), the arguments are redacted, the result
 * or error and the definition cut to max_bytes, the definition hashed as
 * pinning hashes it, and the source's address kept so the call can be
 * replayed where it failed.
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { Redactor } from "../../../migration/redact.ts";
import { definitionHash } from "../../pinning/hash.ts";
import type { SourceKind } from "../../types.ts";
import type { CallEnd, GuardedCall } from "../guard.ts";
import { type Failure, signatureOf } from "./classify.ts";

/** Where the source of a snapshot's tool was, as the config said when it failed (no headers or env: they hold secrets). */
export interface SnapshotTarget {
  readonly kind: SourceKind;
  /** A federated server over Streamable HTTP. */
  readonly url?: string;
  /** A federated server over stdio: the command and its arguments. */
  readonly command?: readonly string[];
  readonly cwd?: string;
  /** Declared or OpenAPI tools: where their HTTP calls go (none: through the gateway's routes). */
  readonly upstream?: string;
  readonly openapi?: string;
}

/** A value longer than max_bytes, as stored: its first max_bytes of JSON text. */
export interface Truncated {
  readonly "io.ficus/truncated": true;
  readonly bytes: number;
  readonly text: string;
}

export interface Snapshot {
  /** Sortable by time: base-36 milliseconds, then random. */
  readonly id: string;
  readonly time: string;
  readonly endpoint: string;
  /** The tool's public name. */
  readonly tool: string;
  readonly source: string;
  /** The tool's name at its source. */
  readonly upstream_tool: string;
  readonly target: SnapshotTarget | undefined;
  readonly kind: string;
  readonly signature: string;
  readonly message: string;
  readonly definition_hash: string;
  readonly definition: unknown;
  /** The arguments sent, secrets redacted (or Truncated). */
  readonly arguments: unknown;
  /** The result the agent got (a tool error, a denial, a result breaking the outputSchema), or Truncated. */
  readonly result?: unknown;
  /** The JSON-RPC error (rpc_error). */
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
  readonly duration_ms: number;
  readonly principal: string;
  readonly trace_id: string | null;
  readonly request_id: string;
}

/** What the guard keeps of a failed call until the recorder's flush: references only, no work on the call path. */
export interface PendingSnapshot {
  readonly call: GuardedCall;
  readonly end: CallEnd;
  readonly failure: Failure;
  readonly time: number;
  readonly durationMs: number;
}

/** A snapshot id: 9 base-36 digits of milliseconds (sortable until the year 5188), then 8 random hex digits. */
export function snapshotId(now: number): string {
  return `${now.toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}`;
}

/** The value, or its JSON text cut at `max` bytes when longer. */
export function cut(value: unknown, max: number): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value) ?? "null";
  if (text.length <= max / 3 || Buffer.byteLength(text) <= max) return value;
  let s = text.slice(0, max);
  while (Buffer.byteLength(s) > max) s = s.slice(0, Math.floor(s.length * 0.9));
  return { "io.ficus/truncated": true, bytes: Buffer.byteLength(text), text: s } satisfies Truncated;
}

export function isTruncated(v: unknown): v is Truncated {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)["io.ficus/truncated"] === true;
}

/** The redacted arguments: secret-looking keys (the top-level redact block) hidden. */
function redactedArgs(args: unknown, redactor: Redactor): unknown {
  const text = JSON.stringify(args) ?? "{}";
  const out = redactor.text(text, "application/json");
  if (out === text) return args;
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
}

export function buildSnapshot(p: PendingSnapshot, targets: ReadonlyMap<string, SnapshotTarget>, redactor: Redactor, maxBytes: number): Snapshot {
  const { call, end, failure } = p;
  const tool = call.tool;
  const source = tool.entry.source.name;
  const base = {
    id: snapshotId(p.time),
    time: new Date(p.time).toISOString(),
    endpoint: call.caller.endpoint,
    tool: tool.name,
    source,
    upstream_tool: tool.upstreamName,
    target: targets.get(source),
    kind: failure.kind,
    signature: signatureOf(tool.name, failure.kind, failure.message),
    message: failure.message,
    definition_hash: definitionHash(tool.definition),
    definition: cut(tool.definition, maxBytes),
    arguments: cut(redactedArgs(call.args, redactor), maxBytes),
    duration_ms: Math.round(p.durationMs * 1000) / 1000,
    principal: call.caller.subject,
    trace_id: call.traceId ?? null,
    request_id: call.requestId,
  };
  if (end.kind === "error") return { ...base, error: cut({ code: end.code, message: end.message, ...(end.data !== undefined ? { data: end.data } : {}) }, maxBytes) as Snapshot["error"] };
  return { ...base, result: cut(end.result, maxBytes) };
}

/** The target of each configured source (a stdio command's folder made absolute, as the service runs it). */
export function targetsOf(sources: Readonly<Record<string, { url?: string | undefined; command?: readonly string[] | undefined; cwd?: string | undefined; upstream?: string | undefined; openapi?: string | undefined }>>, configDir: string): Map<string, SnapshotTarget> {
  const out = new Map<string, SnapshotTarget>();
  for (const [name, s] of Object.entries(sources)) {
    const kind: SourceKind = s.url !== undefined ? "mcp" : s.command !== undefined ? "stdio" : s.openapi !== undefined ? "openapi" : "http";
    const t: { -readonly [K in keyof SnapshotTarget]: SnapshotTarget[K] } = { kind };
    if (s.url !== undefined) t.url = s.url;
    if (s.command !== undefined) t.command = s.command;
    if (s.command !== undefined) t.cwd = resolve(configDir, s.cwd ?? ".");
    if (s.upstream !== undefined) t.upstream = s.upstream;
    if (s.openapi !== undefined) t.openapi = s.openapi;
    out.set(name, t);
  }
  return out;
}
