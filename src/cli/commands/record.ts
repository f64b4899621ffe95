/**
 * `ficus record start --route R [--sample F] [--max N] [--out DIR] [--gzip]`,
 * `ficus record stop [--route R]`, `ficus record status`: traffic recording in
 * a running gateway, through its admin API (--admin URL, FICUS_ADMIN_TOKEN).
 * Exit 0, 2 on errors.
 */
import { resolve } from "node:path";
import { FicusError } from "../../core/errors.ts";
import type { SessionStatus } from "../../record/recorder.ts";
import { reportError, safeJson, safeText } from "../output.ts";
import { fetchAdmin } from "./report.ts";

function line(s: SessionStatus): string {
  const skipped = Object.entries(s.skipped)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return `${safeText(s.route)}  ${s.state}  ${s.recorded} of ${s.max} recorded (sample ${s.sample})${s.dropped ? `, ${s.dropped} dropped` : ""}${skipped ? `, skipped: ${skipped}` : ""}${s.files.length ? `\n  ${s.files.map((f) => safeText(f)).join("\n  ")}` : ""}`;
}

export async function recordCommand(action: "start" | "stop" | "status", o: { admin: string; route?: string; sample: string; max: string; out?: string; gzip?: boolean; json?: boolean }): Promise<number> {
  try {
    let r: { sessions: SessionStatus[] };
    if (action === "start") {
      if (!o.route) throw new FicusError("FICUS_USAGE", "record start needs --route NAME");
      const sample = Number(o.sample);
      if (!(sample > 0 && sample <= 1)) throw new FicusError("FICUS_USAGE", `--sample: expected a fraction above 0 and at most 1, got ${JSON.stringify(o.sample)}`);
      const max = Number(o.max);
      if (!Number.isInteger(max) || max < 1) throw new FicusError("FICUS_USAGE", `--max: expected a positive integer, got ${JSON.stringify(o.max)}`);
      // A folder given here is where the gateway writes; make it absolute against this shell's directory.
      r = (await fetchAdmin(o.admin, "/admin/record/start", { method: "POST", body: { route: o.route, sample, max, out: o.out === undefined ? undefined : resolve(o.out), gzip: o.gzip === true } })) as typeof r;
    } else if (action === "stop") {
      r = (await fetchAdmin(o.admin, "/admin/record/stop", { method: "POST", body: { route: o.route } })) as typeof r;
    } else {
      r = (await fetchAdmin(o.admin, "/admin/record")) as typeof r;
    }
    if (o.json) process.stdout.write(`${safeJson(r)}\n`);
    else if (r.sessions.length === 0) process.stdout.write("no recording\n");
    else for (const s of r.sessions) process.stdout.write(`${line(s)}\n`);
    return 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}
