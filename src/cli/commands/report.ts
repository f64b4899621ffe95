/**
 * `ficus report [--admin URL] [--json]`: the migration report of a running
 * gateway, from GET /admin/migrations. The admin token is read from
 * FICUS_ADMIN_TOKEN when set. Exit 0, or 2 when the gateway cannot be asked.
 */
import type { RouteReport } from "../../migration/report.ts";
import { userInfo } from "node:os";
import { FicusError } from "../../core/errors.ts";
import { reportError, safeJson, safeText } from "../output.ts";

export async function fetchAdmin(admin: string, path: string, init: { method?: string; body?: unknown; okStatuses?: number[] } = {}): Promise<unknown> {
  const token = process.env.FICUS_ADMIN_TOKEN;
  let res: Response;
  try {
    res = await fetch(new URL(path, admin), {
      method: init.method ?? "GET",
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body !== undefined ? { "content-type": "application/json" } : {}), "x-ficus-actor": `cli:${process.env.USER || userInfo().username}` },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  } catch (err) {
    throw new FicusError("FICUS_ADMIN_UNREACHABLE", `cannot reach the admin API at ${admin}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!res.ok && !(init.okStatuses ?? []).includes(res.status)) {
    const code = body?.error?.code;
    // The gateway understood and refused: its code and message, not "unreachable".
    if (code === "FICUS_ROUTE_UNKNOWN" || code === "FICUS_BAD_REQUEST") throw new FicusError(code, body?.error?.message ?? code);
    throw new FicusError("FICUS_ADMIN_UNREACHABLE", `${admin}${path} answered ${res.status}${body?.error ? `: ${body.error.code}: ${body.error.message}` : ""}`);
  }
  return body;
}

const pct = (n: number, d: number) => (d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`);

function table(routes: readonly RouteReport[]): string {
  if (routes.length === 0) return "No route has a candidate yet: give a route `candidate:` and `stage: shadow`.\n";
  const lines: string[] = [];
  for (const r of routes) {
    const skipped = Object.entries(r.skipped).filter(([, n]) => n > 0);
    // An in-process experiment (docs/experiment.md): calls instead of requests, use/try instead of legacy/candidate.
    const exp = r.stage === "experiment";
    const [legacy, candidate] = exp ? ["use", "try"] : ["legacy", "candidate"];
    const status = (code: number) => (exp ? (code >= 500 ? "error" : "value") : String(code));
    lines.push(exp ? `experiment ${r.route.replace(/^experiment:/, "")}` : `route ${r.route}  stage ${r.stage === "canary" ? `canary ${r.percent}%` : r.stage}${r.paused ? "  (paused)" : ""}`);
    lines.push(
      `  ${exp ? "calls" : "requests"} ${r.total}  ${exp ? "tried" : "shadowed"} ${r.shadowed}  compared ${r.compared}  matched ${r.matched} (${pct(r.matched, r.compared)})  mismatched ${r.mismatched} (${pct(r.mismatched, r.compared)})  candidate errors ${r.candidate_error}  timeouts ${r.candidate_timeout}`,
    );
    if (skipped.length > 0) lines.push(`  skipped ${skipped.map(([k, n]) => `${k} ${n}`).join(", ")}`);
    const l = r.latency;
    lines.push(`  latency ms  ${legacy} p50 ${l.legacy.p50_ms} p95 ${l.legacy.p95_ms} p99 ${l.legacy.p99_ms}  ${candidate} p50 ${l.candidate.p50_ms} p95 ${l.candidate.p95_ms} p99 ${l.candidate.p99_ms}  median ratio ${l.ratio_p50}`);
    if (r.noise_only > 0 || r.noise.length > 0) lines.push(`  noise only ${r.noise_only} (A/A pairs ${r.aa_compared})`);
    for (const n of r.noise) lines.push(`  noise  ${n.path}  [${n.source}] ${n.why}`);
    for (const s of r.signatures) lines.push(`  ${s.severity.padEnd(6)} ×${s.count}  ${status(s.status[0])}→${status(s.status[1])}  ${s.paths.join(", ")}  (${s.id})`);
    lines.push("");
  }
  // Route names, paths and noise reasons come from config, traffic and admin clients: each line is escaped.
  return lines.map((l) => safeText(l)).join("\n");
}

export async function reportCommand(o: { admin: string; json?: boolean }): Promise<number> {
  try {
    const report = (await fetchAdmin(o.admin, "/admin/migrations")) as { routes: RouteReport[] };
    process.stdout.write(o.json ? `${safeJson(report)}\n` : table(report.routes));
    return 0;
  } catch (err) {
    reportError(err);
    return 2;
  }
}
