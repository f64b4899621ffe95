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
  `listen: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:0 }\nstore: { path: ${join(dir, "r.db")} }\nroutes:\n  - name: orders\n    legacy: ${legacy.url}\n    candidate: ${candidate.url}\n    stage: canary\n    canary: { percent: 100, steps: [10, 100], auto: false }\n${extra}`;

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
    const cfg = writeConfig(dir, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1").replace("stage: canary\n    canary: { percent: 100, steps: [10, 100], auto: false }", "stage: shadow\n    canary: { auto: false }"));
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
    const cfg = writeConfig(dir, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1").replace("stage: canary\n    canary: { percent: 100, steps: [10, 100], auto: false }", "stage: legacy\n    canary: { steps: [10, 100], auto: false }"));
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

  test("regression: terminal escape codes in a reason are printed escaped by ficus events; an overlong reason or actor is 400 and not stored", async () => {
    const dir = tempDir("ficus-control-escape-");
    const cfg = writeConfig(dir, configText(dir, 0).replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\nworkers: 1").replace("stage: canary\n    canary: { percent: 100, steps: [10, 100], auto: false }", "stage: shadow\n    canary: { steps: [10, 100], auto: false }"));
    const g = await startFicus(["-c", cfg]);
    try {
      const hostile = "\x1b[31mred\x1b]0;owned\x07 \u009b2J\rover\nnext \u202eevil";
      expect((await post(g, "/admin/migrations/orders/pause", hostile)).status).toBe(200);
      const text = await runCli(["events", "--admin", g.admin]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain("paused at shadow — \\x1b[31mred\\x1b]0;owned\\x07 \\x9b2J\\x0dover\\x0anext \\u202eevil\n");
      expect(text.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(text.stdout.trimEnd().split("\n")).toHaveLength(1);
      const json = await runCli(["events", "--admin", g.admin, "--json"]);
      expect(json.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
      expect((JSON.parse(json.stdout) as { events: { message: string }[] }).events[0]?.message).toEndWith(hostile);

      const long = await post(g, "/admin/migrations/orders/resume", "r".repeat(501));
      expect(long.status).toBe(400);
      expect(long.body).toMatchObject({ error: { code: "FICUS_BAD_REQUEST", message: "reason: at most 500 characters, got 501" } });
      const all = await post(g, "/admin/rollback-all", "r".repeat(501));
      expect(all.status).toBe(400);
      const actor = await fetch(`${g.admin}/admin/migrations/orders/resume`, { method: "POST", headers: { "x-ficus-actor": "a".repeat(300) } });
      expect(actor.status).toBe(400);
      const cli = await runCli(["resume", "orders", "--admin", g.admin, "--reason", "r".repeat(501)]);
      expect(cli.code).toBe(2);
      expect(cli.stderr).toContain("FICUS_BAD_REQUEST: reason: at most 500 characters");
      const events = (await (await fetch(`${g.admin}/admin/events`)).json()) as { events: { action: string }[] };
      expect(events.events.map((e) => e.action)).toEqual(["pause"]);
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

describe("automatic steps and gates", () => {
  test("a healthy route is promoted step by step to candidate; a buggy one is rolled back, with the failing gate recorded; low-severity differences do not count", async () => {
    const twin = await startUpstream("legacy"); // answers exactly like legacy
    const other = await startUpstream("other"); // answers like legacy but with another X-Impl header
    const dir = tempDir("ficus-auto-");
    const fast = "step: { min_duration: 300ms, min_requests: 10 }, gates: { min_compared: 10, latency: { min_samples: 10, p50_factor: 5, p99_factor: 20 } }";
    const cfg = writeConfig(
      dir,
      `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(dir, "r.db")}, flush_interval: 100ms }\nroutes:
  - name: healthy
    match: { prefix: /healthy }
    legacy: ${legacy.url}
    candidate: ${twin.url}
    stage: shadow
    rewrite: { strip_prefix: /healthy }
    canary: { steps: [10, 50, 100], ${fast} }
  - name: buggy
    match: { prefix: /buggy }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: canary
    canary: { percent: 10, rollback_to: legacy, ${fast} }
    rewrite: { strip_prefix: /buggy }
  - name: headers
    match: { prefix: /headers }
    legacy: ${legacy.url}
    candidate: ${other.url}
    stage: canary
    canary: { percent: 10, steps: [10, 100], ${fast} }
    rewrite: { strip_prefix: /headers }
`,
    );
    const g = await startFicus(["-c", cfg]);
    try {
      const state = async () => Object.fromEntries(((await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: { route: string; stage: string; percent: number; paused: boolean }[] }).routes.map((r) => [r.route, r]));
      const until = Date.now() + 15_000;
      let s = await state();
      let u = 0;
      while ((s.healthy?.stage !== "candidate" || s.buggy?.stage !== "legacy" || s.headers?.stage !== "candidate") && Date.now() < until) {
        await Promise.all(Array.from({ length: 10 }, async () => {
          u++;
          await (await fetch(`${g.url}/healthy/status/200`, { headers: { "x-user-id": `u${u}` } })).text();
          await (await fetch(`${g.url}/buggy/status/200`, { headers: { "x-user-id": `u${u}` } })).text();
          await (await fetch(`${g.url}/headers/same-body`, { headers: { "x-user-id": `u${u}` } })).text();
        }));
        await Bun.sleep(50);
        s = await state();
      }
      expect(s.healthy).toMatchObject({ stage: "candidate", percent: 100, paused: false });
      expect(s.buggy).toMatchObject({ stage: "legacy", paused: true });
      // Regression: a differing X- header alone rolled a route back. It is reported, not counted by the gate.
      expect(s.headers).toMatchObject({ stage: "candidate", paused: false });
      const sigs = (await (await fetch(`${g.admin}/admin/migrations/headers/signatures`)).json()) as { signatures: { severity: string; paths: string[] }[] };
      expect(sigs.signatures).toContainEqual(expect.objectContaining({ severity: "low", paths: ["headers.x-impl"] }));
      const events = (await (await fetch(`${g.admin}/admin/events`)).json()) as { events: { route: string; actor: string; action: string; to: { stage: string; percent: number }; message: string; detail: { gates: { gate: string; status: string }[] } }[] };
      const healthy = events.events.filter((e) => e.route === "healthy").reverse();
      expect(healthy.map((e) => `${e.actor} ${e.action} ${e.to.stage} ${e.to.percent}`)).toEqual([
        "controller promote canary 10",
        "controller promote canary 50",
        "controller promote candidate 100",
      ]);
      expect(healthy[0]?.message).toContain("all gates passed");
      const rollback = events.events.find((e) => e.route === "buggy" && e.action === "rollback");
      expect(rollback?.actor).toBe("controller");
      expect(rollback?.message).toContain("gate failed: mismatch_rate");
      expect(rollback?.detail.gates.find((x) => x.gate === "mismatch_rate")?.status).toBe("fail");
      const metrics = await (await fetch(`${g.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_gate_state\{route="buggy",gate="mismatch_rate",state="fail"\} 1/);
      expect(metrics).toMatch(/ficus_gate_value\{route="buggy",gate="mismatch_rate"\} (0\.\d+|1)\n/);
      expect(metrics).toMatch(/ficus_route_stage\{route="healthy",stage="candidate"\} 1/);
      expect(metrics).toMatch(/ficus_canary_percent\{route="healthy"\} 100/);
      expect(metrics).toMatch(/ficus_store_up 1/);
      const cli = await runCli(["events", "--admin", g.admin]);
      expect(cli.stdout).toContain("healthy  promote  canary 50% → candidate  by controller");
      expect(cli.stdout).toContain("buggy  rollback  canary 10% → legacy  by controller: rolled back from canary 10% to legacy (held until resumed) — gate failed: mismatch_rate");
    } finally {
      await g.stop();
      await Promise.all([twin.stop(), other.stop()]);
    }
  }, 30_000);
});
