/**
 * `ficus mcp pins` and `ficus mcp approve`: edge-mcp's tool-definition pins
 * through a running gateway's admin API (--admin URL, FICUS_ADMIN_TOKEN).
 * `pins` prints each change waiting for approval with its diff (exit 0);
 * `approve` approves the selected ones (exit 0 when it approved some, 1 when
 * none matched, 2 on errors). Definitions come from upstream servers: what
 * is printed is escaped for the terminal.
 *
 * `ficus mcp errors` lists failed tool calls grouped by signature and
 * `ficus mcp replay ID` makes one again (exit 0 when it now succeeds, 1 when
 * it still fails, 2 on errors), both through the admin API; `ficus mcp audit`
 * reads an audit file (mcp.audit) with filters.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { FicusError } from "../../core/errors.ts";
import { parseDuration } from "../../config/units.ts";
import type { AuditLine } from "../../mcp/governance/audit/line.ts";
import { filterAuditLines, parseAuditFilter } from "../../mcp/governance/audit/query.ts";
import type { Snapshot } from "../../mcp/governance/snapshots/snapshot.ts";
import type { SnapshotGroup } from "../../mcp/governance/snapshots/store.ts";
import type { PendingChange } from "../../mcp/pinning/guard.ts";
import { reportError, safeJson, safeText } from "../output.ts";
import { fetchAdmin } from "./report.ts";

interface PinsAnswer {
  readonly enabled: boolean;
  readonly mode?: string;
  readonly pending: PendingChange[];
  readonly counts: { readonly pending: number; readonly changed: number; readonly new: number };
}

const short = (hash: string | undefined) => (hash === undefined ? "(none)" : hash.slice(0, 12));

function table(r: PinsAnswer): string {
  if (!r.enabled) return "this gateway pins no MCP tool definitions (no MCP route, or mcp.pinning.mode is off)\n";
  if (r.pending.length === 0) return `no tool definition waits for approval (mode ${r.mode})\n`;
  const out: string[] = [`${r.counts.pending} tool definition${r.counts.pending === 1 ? "" : "s"} wait for approval (mode ${r.mode}): ${r.counts.changed} changed, ${r.counts.new} new`, ""];
  for (const p of r.pending) {
    const what = p.approved === undefined ? "new" : "changed";
    out.push(safeText(`${p.source}  ${p.tool}  ${what} since ${p.since}  approved ${short(p.approved?.hash)} → current ${short(p.current.hash)}  fields: ${p.diff.map((d) => d.field).join(", ")}`));
    for (const d of p.diff) out.push(safeText(d.diff.replace(/\n$/, ""), true).replace(/^/gm, "    "));
    out.push("");
  }
  out.push("approve with: ficus mcp approve --source SOURCE --tool TOOL (or --all)");
  return `${out.join("\n")}\n`;
}

export async function mcpPinsCommand(o: { admin: string; json?: boolean }): Promise<number> {
  try {
    const r = (await fetchAdmin(o.admin, "/admin/mcp/pins")) as PinsAnswer;
    process.stdout.write(o.json ? `${safeJson(r)}\n` : table(r));
    return 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}

export async function mcpApproveCommand(o: { admin: string; source?: string; tool?: string; all?: boolean }): Promise<number> {
  try {
    if (o.all && (o.source !== undefined || o.tool !== undefined)) throw new FicusError("FICUS_USAGE", "give --all, or --source and/or --tool, not both");
    if (!o.all && o.source === undefined && o.tool === undefined) throw new FicusError("FICUS_USAGE", "say what to approve: --source S, --tool T (or both), or --all");
    const body = o.all ? { all: true } : { ...(o.source !== undefined ? { source: o.source } : {}), ...(o.tool !== undefined ? { tool: o.tool } : {}) };
    const r = (await fetchAdmin(o.admin, "/admin/mcp/approve", { method: "POST", body })) as { approved: number };
    process.stdout.write(r.approved > 0 ? `approved ${r.approved} tool definition${r.approved === 1 ? "" : "s"}; agents see ${r.approved === 1 ? "it" : "them"} within a second\n` : "nothing to approve: no pending change matches\n");
    return r.approved > 0 ? 0 : 1;
  } catch (err) {
    return err instanceof FicusError && err.code === "FICUS_USAGE" ? reportError(err) : (reportError(err), 2);
  }
}

/** One JSON line for stdout: C1 and bidirectional controls escaped too (JSON.stringify escapes C0). */
function jsonLine(v: unknown): string {
  return `${JSON.stringify(v).replace(/[\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}

/** Columns padded to their widest cell. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => safeText(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  "))).join("\n");
}

/** The audit file: --file, else the config's mcp.audit.output when it is a file. */
function auditFileOf(o: { file?: string; config?: string }): string {
  if (o.file !== undefined) return o.file;
  if (o.config === undefined) throw new FicusError("FICUS_USAGE", "say which audit file to read: --file F, or -c ficus.yaml (its mcp.audit.output)");
  const { loadConfigFile } = require("../../config/load.ts") as typeof import("../../config/load.ts");
  const out = loadConfigFile(o.config).config.mcp.audit.output;
  if (out === "stdout" || out === "stderr") throw new FicusError("FICUS_USAGE", `${o.config} writes the audit log to ${out}, not a file: give --file with where it was collected`);
  return isAbsolute(out) ? out : resolve(o.config.includes("/") ? dirname(o.config) : process.cwd(), out);
}

export function mcpAuditCommand(o: { file?: string; config?: string; tool?: string; principal?: string; since?: string; result?: string; json?: boolean }): number {
  try {
    const file = auditFileOf(o);
    let filter: ReturnType<typeof parseAuditFilter>;
    try {
      filter = parseAuditFilter(o);
    } catch (err) {
      throw new FicusError("FICUS_USAGE", (err as Error).message);
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new FicusError("FICUS_USAGE", `cannot read the audit file ${file}: ${(err as Error).message}`);
    }
    const lines = filterAuditLines(text, filter);
    if (o.json) {
      process.stdout.write(lines.map(jsonLine).join(""));
      return 0;
    }
    if (lines.length === 0) {
      process.stdout.write("no audit line matches\n");
      return 0;
    }
    const args = (l: AuditLine) => (l.args_digest !== undefined ? l.args_digest.slice(0, 12) : l.args !== undefined ? JSON.stringify(l.args) : "");
    const rows = [["TIME", "PRINCIPAL", "ENDPOINT", "TOOL", "DECISION", "CACHE", "RESULT", "MS", "ARGS"], ...lines.map((l) => [l.time, l.principal || "-", l.endpoint, l.tool, l.decision, l.cache ?? "-", l.result, String(l.duration_ms), args(l)])];
    process.stdout.write(`${columns(rows)}\n${lines.length} call${lines.length === 1 ? "" : "s"}\n`);
    return 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}

interface ErrorsAnswer {
  readonly enabled: boolean;
  readonly groups: SnapshotGroup[];
}

export async function mcpErrorsCommand(o: { admin: string; tool?: string; limit?: string; json?: boolean }): Promise<number> {
  try {
    const q = new URLSearchParams();
    if (o.tool !== undefined) q.set("tool", o.tool);
    if (o.limit !== undefined) q.set("limit", o.limit);
    const r = (await fetchAdmin(o.admin, `/admin/mcp/errors${q.size > 0 ? `?${q}` : ""}`)) as ErrorsAnswer;
    if (o.json) {
      process.stdout.write(`${safeJson(r)}\n`);
      return 0;
    }
    if (!r.enabled) process.stdout.write("this gateway keeps no MCP error snapshots (no MCP route, or mcp.snapshots.enabled is false)\n");
    else if (r.groups.length === 0) process.stdout.write(`no failed tool call${o.tool !== undefined ? ` of ${safeText(o.tool)}` : ""} is kept\n`);
    else {
      const rows = [["LAST SEEN", "COUNT", "TOOL", "KIND", "EXAMPLE", "MESSAGE"], ...r.groups.map((g) => [g.last_seen, String(g.count), g.tool, g.kind, g.example_id, g.message.length > 120 ? `${g.message.slice(0, 117)}...` : g.message])];
      process.stdout.write(`${columns(rows)}\n\nsee one with: ficus mcp replay EXAMPLE (--against URL to try it elsewhere)\n`);
    }
    return 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}

export async function mcpReplayCommand(id: string, o: { admin: string; against?: string; toolName?: string; timeout?: string; json?: boolean }): Promise<number> {
  try {
    if (!/^[0-9a-z-]{1,64}$/.test(id)) throw new FicusError("FICUS_USAGE", `not a snapshot id: ${JSON.stringify(id)} (ficus mcp errors lists them)`);
    const timeoutMs = parseDuration(o.timeout ?? "60s");
    if (timeoutMs === undefined || timeoutMs < 1) throw new FicusError("FICUS_USAGE", `--timeout expects a duration such as 30s, got ${JSON.stringify(o.timeout)}`);
    if (o.against !== undefined && !/^https?:\/\/[^/]/.test(o.against)) throw new FicusError("FICUS_USAGE", `--against expects an http(s) URL of an MCP endpoint, got ${JSON.stringify(o.against)}`);
    const snapshot = (await fetchAdmin(o.admin, `/admin/mcp/errors/${id}`)) as Snapshot;
    const { replaySnapshot } = await import("../../mcp/governance/snapshots/replay.ts");
    const r = await replaySnapshot(snapshot, { against: o.against, toolName: o.toolName, timeoutMs });
    if (o.json) process.stdout.write(`${safeJson({ ...r, snapshot: { kind: snapshot.kind, tool: snapshot.tool, message: snapshot.message } })}\n`);
    else {
      const head = `snapshot ${r.id} (${snapshot.kind}, ${snapshot.tool}) replayed against ${r.against} as ${r.tool} in ${r.duration_ms} ms`;
      const body = r.fails ? `still fails: ${r.message ?? ""}` : `now succeeds:\n${JSON.stringify(r.result, null, 2)}`;
      process.stdout.write(`${safeText(head)}\n${safeText(body, true)}\n`);
    }
    return r.fails ? 1 : 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}
