/**
 * Running the gateway the way operators do: reloads, signals, workers, the
 * admin API's auth, metrics validity, and the CLI's own commands.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { hasTool } from "../helpers/tools.ts";
import { freePort, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let a: Upstream;
let b: Upstream;

beforeAll(async () => {
  [a, b] = await Promise.all([startUpstream("a"), startUpstream("b")]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const base = (extra = "") => `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\n${extra}`;

async function upstreamOf(url: string): Promise<string> {
  const res = await fetch(url);
  return ((await res.json()) as { upstream: string }).upstream;
}

describe("hot reload", () => {
  test("a changed file is applied; an invalid one is rejected and the old config keeps serving", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, base(`routes:\n  - name: r\n    upstream: ${a.url}\n`));
    const gw = await startFicus(["-c", path]);
    try {
      expect(await upstreamOf(`${gw.url}/echo`)).toBe("a");
      writeFileSync(path, base(`routes:\n  - name: r\n    upstream: ${b.url}\n`));
      await gw.waitForLog((l) => l.msg === "config reloaded");
      expect(await upstreamOf(`${gw.url}/echo`)).toBe("b");

      writeFileSync(path, base(`routes:\n  - name: r\n    upstream: htp:/broken\n`));
      const rejected = await gw.waitForLog((l) => l.msg === "config rejected; keeping the current config");
      expect(JSON.stringify(rejected.errors)).toContain('routes[0].upstream: expected an http(s) URL, got \\"htp:/broken\\" (ficus.yaml:6)');
      expect(await upstreamOf(`${gw.url}/echo`)).toBe("b");

      const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_config_reloads_total\{result="success"\} 1/);
      expect(metrics).toMatch(/ficus_config_reloads_total\{result="failure"\} 1/);
    } finally {
      await gw.stop();
    }
  });

  test("SIGHUP reloads; in-flight requests finish on the config they started with", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, base(`routes:\n  - name: r\n    upstream: ${a.url}\n`));
    const gw = await startFicus(["-c", path]);
    try {
      const slow = fetch(`${gw.url}/slow?ms=600`).then(async (r) => ({ status: r.status, upstream: r.headers.get("x-upstream"), body: await r.text() }));
      await Bun.sleep(100);
      // Write the new file and signal at once; the watcher may see it too, both paths converge on one config.
      writeFileSync(path, base(`routes:\n  - name: r\n    upstream: ${b.url}\n`));
      gw.proc.kill("SIGHUP");
      await gw.waitForLog((l) => l.msg === "config reloaded");
      expect(await upstreamOf(`${gw.url}/echo`)).toBe("b");
      const old = await slow;
      expect(old).toEqual({ status: 200, upstream: "a", body: "slow 600 from a" });
    } finally {
      await gw.stop();
    }
  });

  test("POST /admin/reload reports validation errors", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, base(`routes:\n  - name: r\n    upstream: ${a.url}\n`));
    const gw = await startFicus(["-c", path]);
    try {
      writeFileSync(path, base(`routes:\n  - name: r\n    upstreem: ${a.url}\n`));
      const res = await fetch(`${gw.admin}/admin/reload`, { method: "POST" });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { ok: boolean; errors: string[] };
      expect(body.ok).toBe(false);
      expect(body.errors.join("\n")).toContain('unknown key "upstreem"; did you mean "upstream"?');
    } finally {
      await gw.stop();
    }
  });
});

describe("graceful shutdown", () => {
  test("SIGTERM during a long request: the request completes, then the process exits 0", async () => {
    const gw = await startFicus(["--legacy", a.url, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", "1"]);
    const long = fetch(`${gw.url}/slow?ms=800`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await Bun.sleep(150);
    const code = gw.stop("SIGTERM");
    expect(await long).toEqual({ status: 200, body: "slow 800 from a" });
    expect(await code).toBe(0);
    expect(gw.logs.some((l) => l.msg === "stopped" && l.clean === true)).toBe(true);
  });

  test("past the drain deadline the remaining requests are cut and the process still exits 0", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, base(`shutdown: { drain_timeout: 300ms }\nroutes:\n  - name: r\n    upstream: ${a.url}\n`));
    const gw = await startFicus(["-c", path]);
    const long = fetch(`${gw.url}/slow?ms=5000`).then((r) => r.status, () => "reset");
    await Bun.sleep(100);
    const t0 = performance.now();
    expect(await gw.stop("SIGTERM")).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect([504, "reset"]).toContain(await long);
    expect(gw.logs.some((l) => l.msg === "stopped" && l.clean === false)).toBe(true);
  });
});

describe("workers", () => {
  test("--workers 2 runs two processes sharing the port; the admin API merges their metrics", async () => {
    const port = freePort();
    const gw = await startFicus(["--legacy", a.url, "--listen", `127.0.0.1:${port}`, "--admin", "127.0.0.1:0", "--workers", "2"]);
    try {
      expect(gw.port).toBe(port);
      await gw.waitForLog((l) => l.msg === "supervisor started");
      const pids = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${gw.url}/echo/${i}`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        await res.text();
      }
      for (const l of gw.logs) if (l.msg === "listening") pids.add(l.pid as number);
      expect(pids.size).toBe(2);
      let total = 0;
      for (let i = 0; i < 20 && total < 40; i++) {
        const text = await (await fetch(`${gw.admin}/metrics`)).text();
        total = Number(text.match(/ficus_requests_total\{route="default",method="GET",status_class="2xx"\} (\d+)/)?.[1] ?? 0);
        if (total < 40) await Bun.sleep(50);
      }
      expect(total).toBe(40);
      expect((await fetch(`${gw.admin}/readyz`)).status).toBe(200);
    } finally {
      expect(await gw.stop("SIGTERM")).toBe(0);
    }
  });

  test("a worker that dies is restarted", async () => {
    const port = freePort();
    const gw = await startFicus(["--legacy", a.url, "--listen", `127.0.0.1:${port}`, "--admin", "127.0.0.1:0", "--workers", "2"]);
    try {
      const first = gw.logs.find((l) => l.msg === "listening");
      process.kill(first?.pid as number, "SIGKILL");
      await gw.waitForLog((l) => l.msg === "worker exited; restarting");
      await gw.waitForLog((l) => l.msg === "listening" && l.pid !== first?.pid && gw.logs.filter((x) => x.msg === "listening").length >= 3, 5000);
      const res = await fetch(`${gw.url}/echo`);
      expect(res.status).toBe(200);
      await res.text();
    } finally {
      await gw.stop("SIGTERM");
    }
  });
});

describe("admin API", () => {
  test("health, readiness, effective config with secrets redacted, routes", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, base(`routes:\n  - name: r\n    upstream: ${a.url}\n    request_headers: { add: { x-api-key: "\${UP_KEY}" } }\n`));
    const gw = await startFicus(["-c", path], { env: { UP_KEY: "very-secret-value" } });
    try {
      expect(await (await fetch(`${gw.admin}/healthz`)).json()).toEqual({ status: "ok" });
      expect(await (await fetch(`${gw.admin}/readyz`)).json()).toEqual({ status: "ready" });
      const cfg = await (await fetch(`${gw.admin}/admin/config`)).text();
      expect(cfg).not.toContain("very-secret-value");
      expect(cfg).toContain("[redacted]");
      const routes = (await (await fetch(`${gw.admin}/admin/routes`)).json()) as { routes: { name: string; endpoints: { url: string }[] }[] };
      expect(routes.routes[0]?.endpoints[0]?.url).toBe(a.url);
      // The secret reached the upstream, not the logs.
      const echo = (await (await fetch(`${gw.url}/echo`)).json()) as { headers: Record<string, string> };
      expect(echo.headers["x-api-key"]).toBe("very-secret-value");
      expect(JSON.stringify(gw.logs)).not.toContain("very-secret-value");
      const nf = await fetch(`${gw.admin}/nope`);
      expect(nf.status).toBe(404);
      expect(((await nf.json()) as { error: { code: string } }).error.code).toBe("FICUS_ADMIN_NOT_FOUND");
    } finally {
      await gw.stop();
    }
  });

  test("a non-loopback admin address without a token refuses to start", async () => {
    const r = await runCli(["start", "--legacy", a.url, "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0", "--workers", "1"], { FICUS_ADMIN_TOKEN: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FICUS_ADMIN_TOKEN_REQUIRED");
  });

  test("with a token, the admin API requires it (probes stay open)", async () => {
    const gw = await startFicus(["--legacy", a.url, "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0", "--workers", "1"], { env: { FICUS_ADMIN_TOKEN: "t0ken" } });
    try {
      expect((await fetch(`${gw.admin}/healthz`)).status).toBe(200);
      const denied = await fetch(`${gw.admin}/metrics`);
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("FICUS_UNAUTHORIZED");
      expect((await fetch(`${gw.admin}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await fetch(`${gw.admin}/metrics`, { headers: { authorization: "Bearer t0ken" } })).status).toBe(200);
      expect(JSON.stringify(gw.logs)).not.toContain("t0ken");
    } finally {
      await gw.stop();
    }
  });

  test.if(hasTool("promtool", "the /metrics format check"))("/metrics passes promtool check metrics", async () => {
    const gw = await startFicus(["--legacy", a.url, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", "1"]);
    try {
      await (await fetch(`${gw.url}/echo`)).text();
      await (await fetch(`${gw.url}/status/503`)).text();
      const text = await (await fetch(`${gw.admin}/metrics`)).text();
      const p = Bun.spawn(["promtool", "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(`${out}${err}`.trim()).toBe("");
      expect(code).toBe(0);
    } finally {
      await gw.stop();
    }
  });
});

describe("routing outcomes", () => {
  test("no matching route → 404 FICUS_ROUTE_NOT_FOUND; default_route serves the rest when set", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, base(`routes:\n  - name: only\n    match: { path: /echo/only }\n    upstream: ${a.url}\n`));
    const gw = await startFicus(["-c", path]);
    try {
      const res = await fetch(`${gw.url}/other`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
      expect(body.error.code).toBe("FICUS_ROUTE_NOT_FOUND");
      expect(body.error.request_id).toBe(res.headers.get("x-request-id") as string);
      writeFileSync(path, base(`default_route: only\nroutes:\n  - name: only\n    match: { path: /echo/only }\n    upstream: ${a.url}\n`));
      await gw.waitForLog((l) => l.msg === "config reloaded");
      expect(await upstreamOf(`${gw.url}/echo/other`)).toBe("a");
      const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_requests_total\{route="\(none\)",method="GET",status_class="4xx"\} 1/);
    } finally {
      await gw.stop();
    }
  });

  test("retries: an idempotent request moves to the next endpoint on 503 and on connect failure; POST does not", async () => {
    const dir = tempDir();
    const path = writeConfig(
      dir,
      base(`routes:
  - name: r
    upstream: { endpoints: ["http://127.0.0.1:1", ${b.url}], balance: round_robin, health: { max_failures: 100 } }
    retries: { attempts: 2, backoff: 0ms }
  - name: flaky
    match: { prefix: /status }
    upstream: { endpoints: [${a.url}, ${b.url}] }
    retries: { attempts: 1, backoff: 0ms }
`),
    );
    const gw = await startFicus(["-c", path]);
    try {
      for (let i = 0; i < 4; i++) expect(await upstreamOf(`${gw.url}/echo/${i}`)).toBe("b");
      const post = await Promise.all([0, 1].map(async () => (await fetch(`${gw.url}/echo`, { method: "POST", body: "x" })).status));
      expect(post.sort()).toEqual([200, 502]);
      // Both endpoints answer 503: one retry, then the 503 is passed on.
      const res = await fetch(`${gw.url}/status/503`);
      expect(res.status).toBe(503);
      await res.text();
      const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_retries_total\{route="r",outcome="attempted"\} [1-9]/);
      expect(metrics).toMatch(/ficus_retries_total\{route="flaky",outcome="attempted"\} 1/);
    } finally {
      await gw.stop();
    }
  });
});

describe("the CLI", () => {
  test("--help lists the commands", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["start", "validate", "schema"]) expect(r.stdout).toContain(c);
  });

  test("validate exits 0 for a valid file and 1 with every problem otherwise", async () => {
    const dir = tempDir();
    const ok = writeConfig(dir, `routes:\n  - name: r\n    upstream: ${a.url}\n`, "ok.yaml");
    expect(await runCli(["validate", "-c", ok])).toMatchObject({ code: 0, stdout: `${ok}: OK (1 route)\n` });
    const bad = writeConfig(dir, "routes:\n  - name: r\n    upstream: htp:/x\n    timeouts: { total: soon }\n", "bad.yaml");
    const r = await runCli(["validate", "-c", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('routes[0].upstream: expected an http(s) URL, got "htp:/x" (bad.yaml:3)');
    expect(r.stderr).toContain("routes[0].timeouts.total:");
    const missing = await runCli(["validate", "-c", `${dir}/nope.yaml`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("FICUS_CONFIG_READ");
  });

  test("schema prints a JSON Schema", async () => {
    const r = await runCli(["schema"]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toContain("json-schema.org");
    expect(Object.keys(schema.properties)).toContain("routes");
  });

  test("usage errors exit 2", async () => {
    expect((await runCli(["start"])).code).toBe(2);
    expect((await runCli(["start", "--legacy", "nope"])).code).toBe(2);
    expect((await runCli(["start", "--legacy", a.url, "--workers", "zero"])).code).toBe(2);
    expect((await runCli(["frobnicate"])).code).toBe(2);
  });

  test("a port in use is a clear error", async () => {
    const r = await runCli(["start", "--legacy", a.url, "--listen", `127.0.0.1:${a.port}`, "--admin", "127.0.0.1:0", "--workers", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FICUS_LISTEN_FAILED");
  });
});

describe("failing to start", () => {
  test("with workers, a refused admin address stops everything promptly (regression: a pending timer kept the supervisor alive 5 s)", async () => {
    const t0 = performance.now();
    const r = await runCli(["start", "--legacy", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0", "--workers", "2"], { FICUS_ADMIN_TOKEN: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FICUS_ADMIN_TOKEN_REQUIRED");
    expect(performance.now() - t0).toBeLessThan(4000);
  });
});
