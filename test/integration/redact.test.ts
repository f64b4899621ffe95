/**
 * Secrets in traffic end to end: a request carrying credentials in its query,
 * headers and body (echoed back by the services) leaves no trace of them in
 * the shadow samples, the store file, a recording, the access log or the
 * application log — with no JSONPath configured, from the default rules and
 * one name added in the `redact:` block.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

let legacy: Upstream;
let candidate: Upstream;
beforeAll(async () => {
  [legacy, candidate] = await Promise.all([startUpstream("legacy"), startUpstream("candidate")]);
});
afterAll(async () => {
  await Promise.all([legacy?.stop(), candidate?.stop()]);
});


test("no secret of a request reaches samples, the store, a recording, the access log or the application log", async () => {
  const dir = tempDir("ficus-redact-");
  const cfg = writeConfig(
    dir,
    `listen: 127.0.0.1:0
workers: 1
admin: { listen: 127.0.0.1:0 }
store: { path: ${join(dir, "results.db")}, flush_interval: 100ms }
redact: { headers: [tenant-id], body_keys: [tenant-id] }
routes:
  - name: orders
    match: { prefix: /orders }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: shadow
    shadow: { allow_unsafe: true }
  - name: ws
    match: { prefix: /ws }
    upstream: http://127.0.0.1:${freePort()}
`,
  );
  const g = await startFicus(["-c", cfg]);
  try {
    const out = join(dir, "rec");
    const start = await runCli(["record", "start", "--route", "orders", "--sample", "1", "--max", "1", "--out", out, "--admin", g.admin]);
    expect(start.code).toBe(0);

    const res = await fetch(`${g.url}/orders/7?jwt=SECRET-JWT&pw=SECRET-PW&page=2`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-custom-token": "SECRET-HEADER", "x-tenant-id": "SECRET-TENANT", authorization: "Bearer SECRET-AUTH" },
      body: JSON.stringify({ name: "ann", password: "SECRET-BODY" }),
    });
    expect(res.status).toBe(200);
    await res.text();

    // A WebSocket whose upstream is down: a 502 the access log records by path, never with its query.
    const ws = new WebSocket(`ws://127.0.0.1:${g.port}/ws/chat?access_token=SECRET-WS`);
    await new Promise((resolve) => {
      ws.onclose = resolve;
      ws.onerror = resolve;
    });
    const logged = await until(async () => g.access.find((l) => l.path === "/ws/chat"), (l) => l !== undefined);
    expect(logged).toMatchObject({ status: 502, error: "FICUS_UPSTREAM_UNREACHABLE" });

    // One sample, one recorded exchange.
    const sigs = await until(
      async () => ((await (await fetch(`${g.admin}/admin/migrations/orders/signatures`)).json()) as { signatures: { id: string }[] }).signatures,
      (s) => s.length > 0,
    );
    const samples = await Promise.all(sigs.map(async (s) => (await fetch(`${g.admin}/admin/migrations/orders/signatures/${s.id}/samples`)).text()));
    const status = await until(
      async () => ((await (await fetch(`${g.admin}/admin/record`)).json()) as { sessions: { recorded: number; files: string[] }[] }).sessions,
      (s) => s[0]?.recorded === 1,
    );
    expect(status[0]?.recorded).toBe(1);
    await runCli(["record", "stop", "--admin", g.admin]);
    const recording = readdirSync(out)
      .map((f) => readFileSync(join(out, f), "utf8"))
      .join("\n");

    const sample = JSON.parse(samples[0] as string) as { samples: { request: { path: string; headers: Record<string, string>; body: string }; legacy: { body: string } }[] };
    const first = sample.samples[0];
    expect(first?.request.path).toBe("/orders/7?jwt=[redacted]&pw=[redacted]&page=2");
    expect(first?.request.headers).toMatchObject({ "x-custom-token": "[redacted]", "x-tenant-id": "[redacted]", authorization: "[redacted]", "content-type": "application/json" });
    expect(JSON.parse(first?.request.body ?? "")).toEqual({ name: "ann", password: "[redacted]" });
    // The echoed request in legacy's answer: its path (a URL in a JSON string) and its headers (by key).
    const echoed = JSON.parse(first?.legacy.body ?? "") as { path: string; headers: Record<string, string> };
    expect(echoed.path).toBe("/orders/7?jwt=[redacted]&pw=[redacted]&page=2");
    expect(echoed.headers["x-custom-token"]).toBe("[redacted]");
    expect(recording).toContain("/orders/7?jwt=[redacted]&pw=[redacted]&page=2");

    await Bun.sleep(200);
    const store = readdirSync(dir)
      .filter((n) => n.startsWith("results.db"))
      .map((f) => readFileSync(join(dir, f), "latin1"))
      .join("\n");
    const places: Record<string, string> = {
      samples: samples.join("\n"),
      store,
      recording,
      "access log": JSON.stringify(g.access),
      "application log": JSON.stringify(g.logs),
    };
    expect(g.access.length).toBeGreaterThan(0);
    for (const [where, text] of Object.entries(places)) {
      for (const secret of ["SECRET-JWT", "SECRET-PW", "SECRET-HEADER", "SECRET-TENANT", "SECRET-AUTH", "SECRET-BODY", "SECRET-WS"]) {
        expect({ where, leaked: text.includes(secret) ? secret : undefined }).toEqual({ where, leaked: undefined });
      }
    }
  } finally {
    await g.stop();
  }
});

test("ficus replay: a failed request's target is redacted and escaped on stderr, and redacted in report.json", async () => {
  const dir = tempDir("ficus-redact-replay-");
  const file = join(dir, "t.jsonl");
  const line = { v: 1, time: new Date().toISOString(), request: { method: "GET", url: "/status/200?token=SECRET-REPLAY&x=\x1b[31m", headers: [], body: "" } };
  writeFileSync(file, `${JSON.stringify(line)}\n`);
  const out = join(dir, "out");
  const r = await runCli(["replay", file, "--legacy", legacy.url, "--candidate", `http://127.0.0.1:${freePort()}`, "--out", out]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`${file}:1 GET /status/200?token=[redacted]&x=\\x1b[31m → candidate:`);
  expect(r.stderr).not.toContain("\x1b");
  const report = readFileSync(join(out, "report.json"), "utf8");
  expect((JSON.parse(report) as { errors: { target: string }[] }).errors[0]?.target).toBe("/status/200?token=[redacted]&x=\x1b[31m");
  expect(r.stderr + r.stdout + report).not.toContain("SECRET-REPLAY");
});
