/**
 * A fleet: two gateways (separate processes) sharing one PostgreSQL store.
 * A command through either is obeyed by both within a second, and the report
 * of either counts the traffic of both. Each test runs in its own schema.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { type Ficus, freePort, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";
import { hasService } from "../helpers/tools.ts";

const withPg = await hasService("PostgreSQL", 5432, "the fleet tests");
const pgTest = withPg ? test : test.skip;

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const schemas: string[] = [];
let legacy: Upstream;
let candidate: Upstream;

beforeAll(async () => {
  if (!withPg) return;
  [legacy, candidate] = await Promise.all([startUpstream("legacy"), startUpstream("candidate")]);
});
afterAll(async () => {
  await Promise.all([legacy?.stop(), candidate?.stop()]);
  if (!withPg) return;
  const sql = new SQL({ url: PG_URL, max: 1 });
  for (const s of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await sql.close();
});

function config(url: string, schema: string, extra = { workers: 1, listen: "127.0.0.1:0", store: "" }): string {
  return [
    `listen: ${extra.listen}`,
    `workers: ${extra.workers}`,
    "admin: { listen: 127.0.0.1:0 }",
    `store: { url: "${url}", schema: ${schema}, flush_interval: 100ms${extra.store} }`,
    "routes:",
    "  - name: orders",
    `    legacy: ${legacy.url}`,
    `    candidate: ${candidate.url}`,
    "    stage: shadow",
    "    canary: { steps: [100], auto: false }",
    "",
  ].join("\n");
}

async function servedBy(g: Ficus): Promise<string> {
  const res = await fetch(`${g.url}/status/200`);
  await res.text();
  return res.headers.get("x-ficus-served-by") ?? "?";
}

/** Time until `g` serves from `side`, polling every 20 ms (gives up after 3 s). */
async function until(g: Ficus, side: string, t0: number): Promise<number> {
  while ((await servedBy(g)) !== side && performance.now() - t0 < 3000) await Bun.sleep(20);
  return performance.now() - t0;
}

async function post(g: Ficus, path: string) {
  const res = await fetch(`${g.admin}${path}`, { method: "POST", body: JSON.stringify({ reason: "fleet test" }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function compared(g: Ficus): Promise<number> {
  const body = (await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: { route: string; compared: number }[] };
  return body.routes.find((r) => r.route === "orders")?.compared ?? 0;
}

pgTest("two gateways on one PostgreSQL store: merged report, commands obeyed by both within a second", async () => {
  const schema = `ficus_fleet_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  schemas.push(schema);
  const dir = tempDir("ficus-fleet-");
  const cfgA = writeConfig(dir, config(PG_URL, schema, { workers: 1, listen: "127.0.0.1:0", store: ", affects_readiness: true" }), "a.yaml");
  const cfgB = writeConfig(dir, config(PG_URL, schema), "b.yaml");
  const [a, b] = await Promise.all([startFicus(["-c", cfgA]), startFicus(["-c", cfgB])]);
  try {
    // Shadow traffic through both; either report counts all of it.
    for (let i = 0; i < 6; i++) expect(await servedBy(a)).toBe("legacy");
    for (let i = 0; i < 4; i++) expect(await servedBy(b)).toBe("legacy");
    const t = performance.now();
    while ((await compared(b)) < 10 && performance.now() - t < 5000) await Bun.sleep(50);
    expect(await compared(a)).toBe(10);
    expect((await fetch(`${a.admin}/readyz`)).status).toBe(200);
    const report = JSON.parse((await runCli(["report", "--admin", b.admin, "--json"])).stdout) as { routes: { route: string; compared: number }[] };
    expect(report.routes.find((r) => r.route === "orders")?.compared).toBe(10);
    expect(await compared(b)).toBe(10);

    // Promote through A: B follows.
    let t0 = performance.now();
    expect((await post(a, "/admin/migrations/orders/promote")).body).toMatchObject({ changed: true, to: { stage: "candidate", percent: 100 } });
    expect(await until(b, "candidate", t0)).toBeLessThan(1000);

    // Roll back through B: A follows, within a second.
    t0 = performance.now();
    expect((await post(b, "/admin/migrations/orders/rollback")).body).toMatchObject({ changed: true, actor: expect.any(String), to: { stage: "shadow" } });
    expect(await until(a, "legacy", t0)).toBeLessThan(1000);

    // One audit trail: A lists B's rollback.
    const events = (await (await fetch(`${a.admin}/admin/events?route=orders`)).json()) as { events: { action: string; message: string }[] };
    expect(events.events.map((e) => e.action)).toEqual(["rollback", "promote"]);

    // A promote through one instance racing a rollback through the other always ends rolled back.
    for (let round = 0; round < 3; round++) {
      await post(a, "/admin/migrations/orders/resume");
      await Promise.all([post(a, "/admin/migrations/orders/promote"), post(b, "/admin/migrations/orders/rollback")]);
      const state = (await (await fetch(`${b.admin}/admin/migrations`)).json()) as { routes: { stage: string; paused: boolean }[] };
      expect(state.routes[0]).toMatchObject({ stage: "shadow", paused: true });
    }
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

pgTest("an unreachable database: traffic flows on the configured stage, commands fail with FICUS_STORE_UNAVAILABLE", async () => {
  const dir = tempDir("ficus-fleet-down-");
  const url = `postgres://ficus:hunter2@127.0.0.1:${freePort()}/test`;
  const g = await startFicus(["-c", writeConfig(dir, config(url, "ficus"))]);
  try {
    for (let i = 0; i < 3; i++) expect(await servedBy(g)).toBe("legacy");
    const r = await post(g, "/admin/migrations/orders/promote");
    expect(r.status).toBe(503);
    expect((r.body.error as { code: string }).code).toBe("FICUS_STORE_UNAVAILABLE");
    expect(JSON.stringify(r.body)).not.toContain("hunter2");
    await Bun.sleep(300);
    expect(await servedBy(g)).toBe("legacy");
    const metrics = await (await fetch(`${g.admin}/metrics`)).text();
    expect(metrics).toMatch(/^ficus_store_up 0$/m);
    // Serving on the last known stage counts as ready unless the store is made part of readiness.
    expect((await fetch(`${g.admin}/readyz`)).status).toBe(200);
    expect(await g.stop()).toBe(0);
    expect(JSON.stringify(g.logs)).not.toContain("hunter2");
  } finally {
    await g.stop();
  }
});

pgTest("store.affects_readiness: /readyz answers 503 while the store cannot be read (one process and with workers)", async () => {
  const dir = tempDir("ficus-fleet-ready-");
  const url = `postgres://ficus@127.0.0.1:${freePort()}/test`;
  const one = await startFicus(["-c", writeConfig(dir, config(url, "ficus", { workers: 1, listen: "127.0.0.1:0", store: ", affects_readiness: true" }), "one.yaml")]);
  const two = await startFicus(["-c", writeConfig(dir, config(url, "ficus", { workers: 2, listen: `127.0.0.1:${freePort()}`, store: ", affects_readiness: true" }), "two.yaml")]);
  try {
    for (const g of [one, two]) {
      const t0 = performance.now();
      let status = 0;
      while (status !== 503 && performance.now() - t0 < 3000) {
        status = (await fetch(`${g.admin}/readyz`)).status;
        if (status !== 503) await Bun.sleep(50);
      }
      expect(status).toBe(503);
      expect(await servedBy(g)).toBe("legacy");
    }
  } finally {
    await Promise.all([one.stop(), two.stop()]);
  }
});
