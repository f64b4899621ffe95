/**
 * `ficus mcp pins` and `ficus mcp approve`: edge-mcp's tool-definition pins
 * through a running gateway's admin API (--admin URL, FICUS_ADMIN_TOKEN).
 * `pins` prints each change waiting for approval with its diff (exit 0);
 * `approve` approves the selected ones (exit 0 when it approved some, 1 when
 * none matched, 2 on errors). Definitions come from upstream servers: what
 * is printed is escaped for the terminal.
 */
import { FicusError } from "../../core/errors.ts";
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
