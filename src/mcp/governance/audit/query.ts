/**
 * Reading an audit file back (`ficus mcp audit`): lines filtered by tool,
 * principal, age and result. Lines that are not audit lines (other output
 * sharing stdout) are skipped.
 */
import { parseDuration } from "../../../config/units.ts";
import type { AuditLine } from "./line.ts";

export interface AuditFilter {
  readonly tool?: string | undefined;
  readonly principal?: string | undefined;
  /** Lines at or after this time (ms since the epoch). */
  readonly since?: number | undefined;
  /** ok, tool_error, error, answered:<guard>, or answered (any guard). */
  readonly result?: string | undefined;
}

/** The filter of the command's options; `since` is a duration before `now` ("10m", "2h") or an ISO time. */
export function parseAuditFilter(o: { tool?: string | undefined; principal?: string | undefined; since?: string | undefined; result?: string | undefined }, now = Date.now()): AuditFilter {
  let since: number | undefined;
  if (o.since !== undefined) {
    const d = parseDuration(o.since);
    since = d !== undefined ? now - d : Date.parse(o.since);
    if (!Number.isFinite(since)) throw new Error(`--since expects a duration such as 10m or 2h, or an ISO time; got ${JSON.stringify(o.since)}`);
  }
  return { tool: o.tool, principal: o.principal, since, result: o.result };
}

function isAuditLine(v: unknown): v is AuditLine {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.time === "string" && typeof o.tool === "string" && typeof o.result === "string" && typeof o.request_id === "string";
}

function matches(l: AuditLine, f: AuditFilter): boolean {
  if (f.tool !== undefined && l.tool !== f.tool) return false;
  if (f.principal !== undefined && l.principal !== f.principal) return false;
  if (f.result !== undefined && l.result !== f.result && !(f.result === "answered" && l.result.startsWith("answered:"))) return false;
  if (f.since !== undefined && !(Date.parse(l.time) >= f.since)) return false;
  return true;
}

/** The audit lines of a text (one JSON object per line) that pass the filter, in file order. */
export function filterAuditLines(text: string, f: AuditFilter): AuditLine[] {
  const out: AuditLine[] = [];
  for (const raw of text.split("\n")) {
    if (raw.length < 2 || raw.charCodeAt(0) !== 123 /* { */) continue;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      continue;
    }
    if (isAuditLine(v) && matches(v, f)) out.push(v);
  }
  return out;
}
