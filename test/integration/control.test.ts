/**
 * Migration control end to end: commands through the admin API and the CLI,
 * obeyed by every worker within a second, kept across restarts, audited.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, freePort, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let legacy: Upstream;
let candidate: Upstream;

beforeAll(async () => {
  [legacy, candidate] = await Promise.all([startUpstream("legacy"), startUpstream("candidate")]);
});
afterAll(async () => {
  await Promise.all([legacy?.stop(), candidate?.stop()]);
});

const configText = (dir: string, port: number, extra = "") =>
  `listen: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:0 }\nstore: { path: ${join(dir, "r.db")} }\nroutes:\n  - name: orders\n    legacy: ${legacy.url}\n    candidate: ${candidate.url}\n    stage: canary\n    canary: { percent: 100, steps: [10, 100] }\n${extra}`;

/** Which sides answer a batch of new connections (so both workers are asked). */
async function sides(g: Ficus, n = 30): Promise<Set<string>> {
  const out = new Set<string>();
  await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(`${g.url}/status/200`, { headers: { connection: "close" } });
      out.add(res.headers.get("x-ficus-served-by") ?? "?");
      await res.text();
    }),
  );
  return out;
}

async function post(g: Ficus, path: string, reason = "") {
  const res = await fetch(`${g.admin}${path}`, { method: "POST", body: JSON.stringify({ reason }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("manual control", () => {
  test("a rollback is obeyed by every worker within a second, survives a restart, and needs a resume to promote again", async () => {
    const dir = tempDir("ficus-control-");
    const port = freePort();
    const cfg = writeConfig(dir, configText(dir, port, ""));
    let g = await startFicus(["-c", cfg, "--workers", "2"]);
    try {
      expect(await sides(g)).toEqual(new Set(["candidate"]));
      const t0 = performance.now();
      const r = await post(g, "/admin/migrations/orders/rollback", "errors up");
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ route: "orders", action: "rollback", changed: true, to: { stage: "shadow", percent: 0 } });
      let seen = await sides(g);
      while (!(seen.size === 1 && seen.has("legacy")) && performance.now() - t0 < 3000) seen = await sides(g);
      expect(seen).toEqual(new Set(["legacy"]));
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(await g.stop()).toBe(0);

      g = await startFicus(["-c", cfg, "--workers", "2"]);
      expect(await sides(g)).toEqual(new Set(["legacy"]));
      const refused = await post(g, "/admin/migrations/orders/promote");
      expect(refused.status).toBe(409);
      expect(refused.body.message).toBe("the route is paused at shadow; resume it first");
      expect((await post(g, "/admin/migrations/orders/resume")).status).toBe(200);
      expect((await post(g, "/admin/migrations/orders/promote")).body).toMatchObject({ changed: true, to: { stage: "canary", percent: 10 } });
      const report = (await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: { route: string; stage: string; percent: number; paused: boolean }[] };
      expect(report.routes[0]).toMatchObject({ route: "orders", stage: "canary", percent: 10, paused: false });
    } finally {
      await g.stop();
    }
  });

  test("editing the stage in ficus.yaml wins over runtime state", async () => {
    const dir = tempDir("ficus-control-edit-");
    const cfg = writeConfig(dir, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1"));
    const g = await startFicus(["-c", cfg]);
    try {
      await post(g, "/admin/migrations/orders/rollback");
      await Bun.sleep(250);
      expect(await sides(g, 5)).toEqual(new Set(["legacy"]));
      writeFileSync(cfg, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1").replace("stage: canary", "stage: candidate"));
      await g.waitForLog((l) => l.msg === "config reloaded");
      expect(await sides(g, 5)).toEqual(new Set(["candidate"]));
    } finally {
      await g.stop();
    }
  });

  test("a reload keeps a rollback in force when the route's plan is unchanged", async () => {
    const dir = tempDir("ficus-control-reload-");
    const text = configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1");
    const cfg = writeConfig(dir, text);
    const g = await startFicus(["-c", cfg]);
    try {
      await post(g, "/admin/migrations/orders/rollback");
      writeFileSync(cfg, `${text}    response_headers: { add: { x-reloaded: "1" } }\n`);
      await g.waitForLog((l) => l.msg === "config reloaded");
      const res = await fetch(`${g.url}/status/200`);
      expect(res.headers.get("x-reloaded")).toBe("1");
      expect(res.headers.get("x-ficus-served-by")).toBe("legacy");
      await res.text();
    } finally {
      await g.stop();
    }
  });

  test("a promote and a rollback sent together always end rolled back; both are in the audit trail", async () => {
    const dir = tempDir("ficus-control-race-");
    const cfg = writeConfig(dir, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1").replace("stage: canary\n    canary: { percent: 100, steps: [10, 100] }", "stage: shadow"));
    const g = await startFicus(["-c", cfg]);
    try {
      for (let round = 0; round < 5; round++) {
        await Promise.all([post(g, "/admin/migrations/orders/promote", `race ${round}`), post(g, "/admin/migrations/orders/rollback", `race ${round}`)]);
        const state = (await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: { stage: string; paused: boolean }[] };
        expect(state.routes[0]).toMatchObject({ stage: "shadow", paused: true });
        await post(g, "/admin/migrations/orders/resume");
      }
      const events = (await (await fetch(`${g.admin}/admin/events?route=orders`)).json()) as { events: { action: string; message: string; actor: string }[] };
      for (let round = 0; round < 5; round++) {
        const mine = events.events.filter((e) => e.message.endsWith(`race ${round}`));
        expect(mine.map((e) => e.action).sort()).toEqual(["promote", "rollback"]);
      }
      const metrics = await (await fetch(`${g.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_migration_transitions_total\{route="orders",action="rollback",actor="admin:api"\} \d+/);
      await g.waitForLog((l) => l.msg === "migration transition" && l.action === "rollback");
    } finally {
      await g.stop();
    }
  });
});

describe("the CLI", () => {
  test("promote, rollback --all, events, and clear errors", async () => {
    const dir = tempDir("ficus-control-cli-");
    const cfg = writeConfig(dir, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1").replace("stage: canary\n    canary: { percent: 100, steps: [10, 100] }", "stage: legacy\n    canary: { steps: [10, 100] }"));
    const g = await startFicus(["-c", cfg]);
    try {
      const p1 = await runCli(["promote", "orders", "--admin", g.admin, "--reason", "diffs clean"]);
      expect(p1.code).toBe(0);
      expect(p1.stdout).toContain("orders  promote  legacy → shadow  by admin:cli:");
      expect(p1.stdout).toContain("promoted from legacy to shadow — diffs clean");
      for (const want of ["shadow → canary 10%", "canary 10% → candidate"]) expect((await runCli(["promote", "orders", "--admin", g.admin])).stdout).toContain(want);
      const last = await runCli(["promote", "orders", "--admin", g.admin]);
      expect(last.code).toBe(1);
      expect(last.stdout).toContain("already served by the candidate: there is no further step");
      const all = await runCli(["rollback", "--all", "--admin", g.admin, "--reason", "kill switch"]);
      expect(all.code).toBe(0);
      expect(all.stdout).toContain("rollback_all  candidate → legacy");
      const unknown = await runCli(["rollback", "nope", "--admin", g.admin]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('FICUS_ROUTE_UNKNOWN: no migration route "nope"; known routes: orders');
      expect((await runCli(["promote", "--admin", g.admin])).code).toBe(2);
      const events = await runCli(["events", "orders", "--admin", g.admin, "--json"]);
      const parsed = JSON.parse(events.stdout) as { events: { action: string; from: { stage: string }; to: { stage: string } }[] };
      expect(parsed.events.map((e) => e.action)).toEqual(["rollback_all", "promote", "promote", "promote", "promote"]);
      const text = await runCli(["events", "--admin", g.admin]);
      expect(text.stdout.split("\n")[0]).toContain("promote  legacy → shadow");
    } finally {
      await g.stop();
    }
  });

  test("steps that do not increase are a config error naming the field", async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, `routes:\n  - name: r\n    legacy: ${legacy.url}\n    candidate: ${candidate.url}\n    canary: { steps: [10, 5] }\n`);
    const r = await runCli(["validate", "-c", cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("routes[0].canary.steps[1]: steps must increase: 5 after 10 (ficus.yaml:5)");
  });
});
