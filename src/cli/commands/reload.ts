/**
 * `ficus reload [--force]`: asks a running gateway to re-read its config
 * (as SIGHUP does) and prints what changed. A config that removes every
 * route, or more than reload.max_removed_routes of them, is refused unless
 * --force. Exit 0 when applied, 1 when rejected or refused, 2 on errors.
 */
import type { ReloadResult } from "../../admin/server.ts";
import { reportError, safeJson, safeText } from "../output.ts";
import { fetchAdmin } from "./report.ts";

export async function reloadCommand(o: { admin: string; force?: boolean; json?: boolean }): Promise<number> {
  try {
    const r = (await fetchAdmin(o.admin, `/admin/reload${o.force ? "?force=true" : ""}`, { method: "POST", okStatuses: [409, 422] })) as ReloadResult;
    if (o.json) {
      process.stdout.write(`${safeJson(r)}\n`);
      return r.ok ? 0 : 1;
    }
    const c = r.changes;
    const changes = c ? `routes added: ${c.added.join(", ") || "none"}; removed: ${c.removed.join(", ") || "none"}; changed: ${c.changed.join(", ") || "none"}` : "";
    if (r.ok) {
      process.stdout.write(`reloaded. ${safeText(changes)}\n`);
      return 0;
    }
    process.stderr.write(`${r.code ?? "FICUS_CONFIG_INVALID"}: the gateway kept its current config\n${(r.errors ?? []).map((e) => `  ${safeText(e)}\n`).join("")}`);
    if (r.code === "FICUS_RELOAD_REFUSED") process.stderr.write("  (ficus reload --force applies it anyway)\n");
    return 1;
  } catch (err) {
    reportError(err);
    return 2;
  }
}
