/**
 * The SQLite store's file deleted under a running gateway (two workers and the
 * supervisor share it): noticed, logged, counted, put back with its results,
 * stages and audit trail; traffic and commands go on there; a restart sees it all.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, freePort, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

let legacy: Upstream;
let twin: Upstream;
beforeAll(async () => {
  [legacy, twin] = await Promise.all([startUpstream("same"), startUpstream("same")]);
});
afterAll(async () => {
  await Promise.all([legacy?.stop(), twin?.stop()]);
});

interface RouteReport {
  route: string;
  stage: string;
  total: number;
  compared: number;
  matched: number;
}


const report = async (g: Ficus) => ((await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: RouteReport[] }).routes[0] as RouteReport;
const metrics = async (g: Ficus) => (await fetch(`${g.admin}/metrics`)).text();
const metric = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.split(" ")[1] ?? Number.NaN);

/** n requests on new connections, so both workers get some. */
async function traffic(g: Ficus, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${g.url}/status/200`, { headers: { connection: "close" } });
    expect(res.status).toBe(200);
    await res.text();
  }
}

async function post(g: Ficus, path: string) {
  const res = await fetch(`${g.admin}${path}`, { method: "POST", body: JSON.stringify({ reason: "test" }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("a store file deleted while running is put back with its results, stages and audit trail; a restart sees them", async () => {
  const dir = tempDir("ficus-store-deleted-");
  const db = join(dir, "state", "results.db");
  const port = freePort();
  const cfg = writeConfig(
    dir,
    `listen: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:0 }\nworkers: 2\nstore: { path: ${db}, flush_interval: 100ms }\nroutes:\n  - name: orders\n    legacy: ${legacy.url}\n    candidate: ${twin.url}\n    stage: shadow\n    canary: { steps: [10, 100], auto: false }\n`,
  );
  let g = await startFicus(["-c", cfg]);
  try {
    await traffic(g, 20);
    expect(await until(() => report(g), (r) => r.compared >= 20)).toMatchObject({ total: 20, compared: 20, matched: 20 });
    // With several workers the supervisor's own gauge is merged in too ("min"): it must say up.
    expect(metric(await metrics(g), "ficus_store_up")).toBe(1);
    expect((await post(g, "/admin/migrations/orders/promote")).body).toMatchObject({ changed: true, to: { stage: "canary", percent: 10 } });
    const before = statSync(db).ino;

    rmSync(db);
    await traffic(g, 20);
    const lost = await g.waitForLog((l) => l.msg === "results store file deleted or replaced while in use; putting it back");
    expect(lost).toMatchObject({ level: "error", path: db });
    await g.waitForLog((l) => l.msg === "results store file put back; results, stages and audit trail carried over" && l.how === "recreated");
    expect(existsSync(db) && statSync(db).ino !== before).toBe(true);

    // Everything counted before and after the deletion is in the new file, and the stage held.
    expect(await until(() => report(g), (r) => r.compared >= 40)).toMatchObject({ stage: "canary", total: 40, compared: 40, matched: 40 });
    const text = await until(
      () => metrics(g),
      (t) => metric(t, "ficus_store_up") === 1,
    );
    expect(metric(text, 'ficus_store_errors_total{reason="deleted"}')).toBeGreaterThanOrEqual(1);
    expect(metric(text, "ficus_store_up")).toBe(1);
    // Commands go on in the new file.
    expect((await post(g, "/admin/migrations/orders/pause")).status).toBe(200);
    expect(await g.stop()).toBe(0);

    const file = new Database(db, { readonly: true });
    try {
      expect(file.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      expect(file.query("SELECT value FROM counters WHERE route = 'orders' AND name = 'total'").get()).toEqual({ value: 40 });
    } finally {
      file.close();
    }

    g = await startFicus(["-c", cfg]);
    expect(await report(g)).toMatchObject({ stage: "canary", total: 40, compared: 40 });
    const events = ((await (await fetch(`${g.admin}/admin/events?route=orders`)).json()) as { events: { action: string; to: { stage: string; percent: number } }[] }).events;
    expect(events.map((e) => e.action)).toEqual(["pause", "promote"]);
    expect(events[1]?.to).toEqual({ stage: "canary", percent: 10 });
  } finally {
    await g.stop();
  }
});
