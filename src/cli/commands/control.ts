/**
 * `ficus promote|pause|resume|rollback ROUTE`, `ficus rollback --all`, and
 * `ficus events [ROUTE]`: migration control through a running gateway's admin
 * API (--admin URL, FICUS_ADMIN_TOKEN). Exit 0 when the command changed the
 * route, 1 when it changed nothing (the message says why), 2 on errors.
 */
import { FicusError } from "../../core/errors.ts";
import type { MigrationEvent } from "../../migration/store.ts";
import { reportError, safeJson, safeText } from "../output.ts";
import { fetchAdmin } from "./report.ts";

const where = (s: { stage: string; percent: number }) => (s.stage === "canary" ? `canary ${s.percent}%` : s.stage);

/** One event on one line; route, actor and reason are the client's text, escaped. */
function line(e: MigrationEvent): string {
  return safeText(`${e.time}  ${e.route}  ${e.action}${e.changed ? "" : " (no change)"}  ${where(e.from)} → ${where(e.to)}  by ${e.actor}: ${e.message}`);
}

export async function controlCommand(action: "promote" | "pause" | "resume" | "rollback", route: string | undefined, o: { admin: string; reason?: string; all?: boolean }): Promise<number> {
  try {
    if (action === "rollback" && o.all) {
      if (route !== undefined) throw new FicusError("FICUS_USAGE", "give a route or --all, not both");
      const r = (await fetchAdmin(o.admin, "/admin/rollback-all", { method: "POST", body: { reason: o.reason ?? "" } })) as { events: MigrationEvent[] };
      for (const e of r.events) process.stdout.write(`${line(e)}\n`);
      if (r.events.length === 0) process.stdout.write("no route has a candidate: nothing to roll back\n");
      return 0;
    }
    if (route === undefined) throw new FicusError("FICUS_USAGE", `${action} needs a ROUTE${action === "rollback" ? " (or --all)" : ""}`);
    const e = (await fetchAdmin(o.admin, `/admin/migrations/${encodeURIComponent(route)}/${action}`, { method: "POST", body: { reason: o.reason ?? "" }, okStatuses: [409] })) as MigrationEvent;
    process.stdout.write(`${line(e)}\n`);
    return e.changed ? 0 : 1;
  } catch (err) {
    reportError(err);
    return 2;
  }
}

export async function eventsCommand(route: string | undefined, o: { admin: string; json?: boolean; limit?: string }): Promise<number> {
  try {
    const q = new URLSearchParams();
    if (route !== undefined) q.set("route", route);
    if (o.limit !== undefined) q.set("limit", o.limit);
    const r = (await fetchAdmin(o.admin, `/admin/events?${q}`)) as { events: MigrationEvent[] };
    if (o.json) process.stdout.write(`${safeJson(r)}\n`);
    else if (r.events.length === 0) process.stdout.write("no events\n");
    else for (const e of [...r.events].reverse()) process.stdout.write(`${line(e)}\n`);
    return 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}
