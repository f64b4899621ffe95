/**
 * ficus/experiment under Node for real: the package's Node bundle
 * (dist/experiment.js, `npm run build:lib`) imported as `ficus/experiment`
 * by a plain .mjs script run with `node`, publishing to a real gateway (two
 * workers, SQLite store) whose admin API and `ficus report` then show the
 * entry experiment:pricing like a route. And a gateway that is down or never
 * answers: the caller is never blocked or thrown at, and the drops are counted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RouteReport } from "../../src/migration/report.ts";
import { type Ficus, freePort, ROOT, runCli, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";

let gw: Ficus;
let app: string;

/** Runs a script with `node` from the app folder (where node_modules/ficus is this repository). */
async function node(script: string, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const file = join(app, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const t0 = performance.now();
  const proc = Bun.spawn(["node", file], { cwd: app, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: performance.now() - t0 };
}

beforeAll(async () => {
  const build = Bun.spawnSync(["npm", "run", "--silent", "build:lib"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`npm run build:lib failed: ${build.stderr.toString()}`);
  expect(existsSync(join(ROOT, "dist/experiment.js"))).toBe(true);
  // An application folder that depends on ficus, as a user's would.
  app = tempDir("ficus-experiment-app-");
  mkdirSync(join(app, "node_modules"));
  symlinkSync(ROOT, join(app, "node_modules/ficus"), "dir");
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module", private: true }));
  const dir = tempDir("ficus-experiment-gw-");
  const config = `listen: 127.0.0.1:${freePort()}\nadmin: { listen: 127.0.0.1:0 }\nworkers: 2\nstore: { path: ${join(dir, "results.db")}, flush_interval: 100ms }\nroutes:\n  - name: all\n    match: { prefix: / }\n    upstream: http://127.0.0.1:1\n`;
  gw = await startFicus(["-c", writeConfig(dir, config)]);
}, 60_000);

afterAll(async () => {
  await gw?.stop();
});


describe("under Node, publishing to a gateway", () => {
  test("the Node bundle holds no Bun API, and neither zod, the HDR histograms nor the compare engine", () => {
    const bundle = readFileSync(join(ROOT, "dist/experiment.js"), "utf8");
    expect(bundle).not.toMatch(/\bBun\.|["']bun:|from ["']bun["']/);
    expect(bundle).not.toMatch(/\/zod\/|hdr-histogram|src\/compare\//);
    expect(bundle.length).toBeLessThan(64 * 1024);
  });

  test("experiment:pricing shows calls, compared, matched, mismatched, a signature and latency in ficus report", async () => {
    const run = await node(`
import { experiment } from "ficus/experiment";
const legacyPrice = (o) => ({ total: o.qty * 10, currency: "EUR", quoted_at: Date.now() });
// The rewrite: async, off by one for qty 7, and failing for qty 9.
const rustPrice = async (o) => {
  if (o.qty === 9) throw new Error("unsupported quantity");
  return { total: o.qty === 7 ? o.qty * 10 + 1 : o.qty * 10, currency: "EUR", quoted_at: Date.now() + 1 };
};
let sum = 0;
for (let i = 0; i < 200; i++) {
  const o = { qty: i % 10 };
  const price = await experiment("pricing", { use: () => legacyPrice(o), try: () => rustPrice(o), compare: { ignore: ["$.quoted_at"] }, context: o });
  sum += price.total;
}
let same = false;
const err = new RangeError("no price");
try { await experiment("pricing-errors", { use: async () => { throw err; }, try: async () => { throw new RangeError("no price"); } }); } catch (e) { same = e === err; }
await experiment.flush();
console.log(JSON.stringify({ runtime: typeof Bun === "undefined" ? "node " + process.version : "bun", sum, same, stats: experiment.stats() }));
`, { FICUS_ADMIN_URL: gw.admin });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { runtime: string; sum: number; same: boolean; stats: { published: number; dropped: Record<string, number> } };
    expect(out.runtime).toMatch(/^node v2\d\./);
    expect(out.sum).toBe(20 * (0 + 10 + 20 + 30 + 40 + 50 + 60 + 70 + 80 + 90));
    expect(out.same).toBe(true);
    expect(out.stats.published).toBe(201);
    expect(out.stats.dropped).toEqual({ queue_full: 0, unreachable: 0, rejected: 0 });

    const cli = await runCli(["report", "--admin", gw.admin, "--json"]);
    expect(cli.code).toBe(0);
    const routes = (JSON.parse(cli.stdout) as { routes: RouteReport[] }).routes;
    const pricing = routes.find((r) => r.route === "experiment:pricing") as RouteReport;
    expect(pricing).toMatchObject({ stage: "experiment", total: 200, shadowed: 200, compared: 180, matched: 160, mismatched: 20, candidate_error: 20, candidate_timeout: 0 });
    expect(pricing.signatures).toEqual([expect.objectContaining({ count: 20, status: [200, 200], paths: ["$.total"], severity: "medium" })]);
    expect(pricing.latency.legacy.p50_ms).toBeGreaterThan(0);
    expect(pricing.latency.candidate.p50_ms).toBeGreaterThan(0);
    expect(pricing.latency.ratio_p50).toBeGreaterThan(0);
    expect(routes.find((r) => r.route === "experiment:pricing-errors")).toMatchObject({ compared: 1, matched: 1, candidate_error: 0 });

    const text = await runCli(["report", "--admin", gw.admin]);
    expect(text.stdout).toContain("experiment pricing\n  calls 200  tried 200  compared 180  matched 160 (88.9%)  mismatched 20 (11.1%)  candidate errors 20  timeouts 0");
    expect(text.stdout).toMatch(/latency ms {2}use p50 [\d.]+ .* try p50 [\d.]+/);
    expect(text.stdout).toContain("value→value  $.total");

    // The mismatch samples hold the call's context and both values.
    const sig = pricing.signatures[0]?.id as string;
    const samples = (await (await fetch(`${gw.admin}/admin/migrations/experiment:pricing/signatures/${sig}/samples`)).json()) as { samples: { request: { body: string }; legacy: { body: string }; candidate: { body: string } }[] };
    expect(samples.samples[0]?.request.body).toBe('{"qty":7}');
    expect(JSON.parse(samples.samples[0]?.candidate.body as string)).toMatchObject({ total: 71 });
  }, 60_000);
});

describe("a gateway that cannot take results", () => {
  test("down: calls return at once and never throw; the drops are counted and reported once; the process exits", async () => {
    const run = await node(`
import { experiment } from "ficus/experiment";
let worst = 0;
let sum = 0;
for (let i = 0; i < 20000; i++) {
  const t0 = performance.now();
  sum += experiment("down", { use: () => i, try: () => i + 1 });
  worst = Math.max(worst, performance.now() - t0);
  if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
}
await experiment.flush();
console.log(JSON.stringify({ sum, worst, stats: experiment.stats() }));
`, { FICUS_ADMIN_URL: `http://127.0.0.1:${freePort()}` });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { sum: number; worst: number; stats: { calls: number; published: number; dropped: { unreachable: number; queue_full: number } } };
    expect(out.sum).toBe((19999 * 20000) / 2);
    expect(out.stats.calls).toBe(20000);
    expect(out.stats.published).toBe(0);
    expect(out.stats.dropped.unreachable + out.stats.dropped.queue_full).toBe(20000);
    expect(out.stats.dropped.unreachable).toBeGreaterThan(0);
    // One warning for the one problem, however many batches failed.
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("[ficus experiment] cannot reach the gateway");
  }, 30_000);

  test("never answering: calls keep returning while a POST hangs; the queue fills and drops are counted", async () => {
    // Accepts connections and never answers.
    const sockets: { end(): void }[] = [];
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void sockets.push(s), data() {} } });
    try {
      const run = await node(`
import { experiment } from "ficus/experiment";
experiment.configure({ publish: { admin: "http://127.0.0.1:${silent.port}", timeout: 500 }, flushInterval: 20, maxQueue: 100 });
let worst = 0;
const t0 = performance.now();
let i = 0;
while (performance.now() - t0 < 300) {
  const c0 = performance.now();
  experiment("silent", { use: () => i, try: () => i });
  worst = Math.max(worst, performance.now() - c0);
  i++;
  if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
}
await experiment.flush();
console.log(JSON.stringify({ calls: i, worst, stats: experiment.stats() }));
`);
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout) as { calls: number; worst: number; stats: { dropped: { unreachable: number; queue_full: number } } };
      expect(out.calls).toBeGreaterThan(1000);
      expect(out.worst).toBeLessThan(200); // far below the 500 ms a POST hangs
      expect(out.stats.dropped.queue_full).toBeGreaterThan(0);
      expect(out.stats.dropped.unreachable).toBeGreaterThan(0);
      expect(run.stderr).toContain("[ficus experiment] cannot reach the gateway");
    } finally {
      for (const s of sockets) s.end();
      silent.stop(true);
    }
  }, 30_000);
});
