/**
 * The shadow stage end to end: the real CLI, real legacy and candidate
 * processes, the SQLite store on disk, the admin API and `ficus report`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, freePort, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

interface RouteReport {
  route: string;
  stage: string;
  total: number;
  shadowed: number;
  compared: number;
  matched: number;
  mismatched: number;
  noise_only: number;
  aa_compared: number;
  noise: { path: string; source: string; why: string }[];
  candidate_error: number;
  candidate_timeout: number;
  skipped: Record<string, number>;
  latency: { legacy: { p50_ms: number }; candidate: { p50_ms: number }; ratio_p50: number };
  signatures: { id: string; count: number; status: [number, number]; paths: string[]; severity: string }[];
}

let legacy: Upstream;
let twin: Upstream; // answers like legacy (same name)
let slow: Upstream; // a candidate that takes 800 ms
let gw: Ficus;
let storeDir: string;

const cfg = (routes: string, extra = "") => `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(storeDir, "results.db")}, flush_interval: 100ms }\n${extra}routes:\n${routes}`;

beforeAll(async () => {
  [legacy, twin, slow] = await Promise.all([startUpstream("same"), startUpstream("same"), startUpstream("slow", 0, { DELAY_MS: "800" })]);
  storeDir = tempDir("ficus-shadow-");
  const path = writeConfig(
    storeDir,
    cfg(`  - name: twin
    match: { prefix: /twin }
    legacy: ${legacy.url}
    candidate: ${twin.url}
    stage: shadow
    rewrite: { strip_prefix: /twin }
    compare: { ignore: ["$.headers.host"] }
    shadow: { allow_unsafe: true, max_body: 1KiB, redact: ["$.headers.authorization", "$.headers.cookie", "$.path"] }
  - name: slow
    match: { prefix: /slow-candidate }
    legacy: ${legacy.url}
    candidate: ${slow.url}
    stage: shadow
    rewrite: { strip_prefix: /slow-candidate }
    shadow: { timeout: 300ms, max_concurrency: 2 }
  - name: down
    match: { prefix: /down }
    legacy: ${legacy.url}
    candidate: "http://127.0.0.1:1"
    stage: shadow
    rewrite: { strip_prefix: /down }
  - name: garbage
    match: { prefix: /garbage }
    legacy: ${legacy.url}
    candidate: http://127.0.0.1:${legacy.raw}
    stage: shadow
    rewrite: { strip_prefix: /garbage }
  - name: sampled
    match: { prefix: /sampled }
    legacy: ${legacy.url}
    candidate: ${twin.url}
    stage: shadow
    rewrite: { strip_prefix: /sampled }
    shadow: { sample: 0.25 }
  - name: cut-over
    match: { prefix: /cut-over }
    legacy: ${legacy.url}
    candidate: ${slow.url}
    stage: candidate
    rewrite: { strip_prefix: /cut-over }
`),
  );
  gw = await startFicus(["-c", path]);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([legacy?.stop(), twin?.stop(), slow?.stop()]);
});

async function report(): Promise<Record<string, RouteReport>> {
  const r = (await (await fetch(`${gw.admin}/admin/migrations`)).json()) as { routes: RouteReport[] };
  return Object.fromEntries(r.routes.map((x) => [x.route, x]));
}


describe("the client always gets legacy's answer", () => {
  test("equal answers are compared and matched; the candidate request carries X-Ficus-Shadow: 1", async () => {
    const res = await fetch(`${gw.url}/twin/status/200`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("status 200 from same");
    const r = await until(report, (x) => (x.twin?.matched ?? 0) >= 1);
    expect(r.twin).toMatchObject({ stage: "shadow", shadowed: 1, compared: 1, matched: 1, mismatched: 0 });
    // The candidate saw the mirror header: its echo differs from legacy's exactly there.
    await (await fetch(`${gw.url}/twin/echo/x`)).text();
    const r2 = await until(report, (x) => (x.twin?.mismatched ?? 0) >= 1);
    expect(r2.twin).toMatchObject({ compared: 2, mismatched: 1 });
    expect(r2.twin?.signatures[0]).toMatchObject({ count: 1, status: [200, 200], paths: ["$.headers.x-ficus-shadow"], severity: "low" });
  });

  test("a slow candidate never slows the client; its timeout is counted", async () => {
    const t0 = performance.now();
    const res = await fetch(`${gw.url}/slow-candidate/echo/1`);
    expect(((await res.json()) as { upstream: string }).upstream).toBe("same");
    expect(performance.now() - t0).toBeLessThan(250);
    const r = await until(report, (x) => (x.slow?.candidate_timeout ?? 0) >= 1);
    expect(r.slow).toMatchObject({ shadowed: 1, candidate_timeout: 1, compared: 0 });
  });

  test("past the concurrency cap the mirror copy is dropped and counted, never queued", async () => {
    const before = (await report()).slow?.skipped.concurrency_limit ?? 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, async (_, i) => (await fetch(`${gw.url}/slow-candidate/echo/c${i}`)).text()));
    expect(performance.now() - t0).toBeLessThan(400);
    const r = await until(report, (x) => (x.slow?.candidate_timeout ?? 0) >= 3);
    expect((r.slow?.skipped.concurrency_limit ?? 0) - before).toBe(4);
  });

  test("a candidate that is down is a candidate error", async () => {
    expect((await fetch(`${gw.url}/down/echo/1`)).status).toBe(200);
    const r = await until(report, (x) => (x.down?.candidate_error ?? 0) >= 1);
    expect(r.down).toMatchObject({ shadowed: 1, candidate_error: 1 });
  });

  test("a candidate answering garbage is a candidate error, and a wrong answer is a mismatch", async () => {
    expect((await fetch(`${gw.url}/garbage/echo/1`)).status).toBe(200);
    const r = await until(report, (x) => (x.garbage?.candidate_error ?? 0) >= 1);
    expect(r.garbage?.candidate_error).toBe(1);
  });

  test("stage candidate serves from the candidate", async () => {
    const res = await fetch(`${gw.url}/cut-over/status/201`);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("status 201 from slow");
  });
});

describe("what is and is not mirrored", () => {
  test("unsafe methods are mirrored only when the route allows it", async () => {
    // twin allows unsafe methods; slow does not.
    const res = await fetch(`${gw.url}/slow-candidate/echo/p`, { method: "POST", body: "hello" });
    expect(((await res.json()) as { body_length: number }).body_length).toBe(5);
    const post = await fetch(`${gw.url}/twin/echo/p`, { method: "POST", body: "hello" });
    expect(((await post.json()) as { body_length: number }).body_length).toBe(5);
    const r = await until(report, (x) => (x.slow?.skipped.unsafe_method ?? 0) >= 1 && (x.twin?.compared ?? 0) >= 3);
    expect(r.slow?.skipped.unsafe_method).toBe(1);
    expect(r.twin?.compared).toBe(3);
  });

  test("a body above shadow.max_body is not mirrored, and legacy still gets it whole", async () => {
    const big = "x".repeat(4000);
    const res = await fetch(`${gw.url}/twin/echo/big`, { method: "PUT", body: big });
    expect(((await res.json()) as { body_length: number }).body_length).toBe(4000);
    const r = await until(report, (x) => (x.twin?.skipped.body_too_large ?? 0) >= 1);
    expect(r.twin?.skipped.body_too_large).toBe(1);
  });

  test("a legacy answer too large to buffer is not compared", async () => {
    const res = await fetch(`${gw.url}/twin/chunked?n=600000`);
    expect((await res.arrayBuffer()).byteLength).toBe(600000);
    const r = await until(report, (x) => (x.twin?.skipped.legacy_streamed ?? 0) >= 1);
    expect(r.twin?.skipped.legacy_streamed).toBe(1);
  });

  test("sampling is deterministic: exactly a quarter of 400 requests", async () => {
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 50; i++) await (await fetch(`${gw.url}/sampled/status/200?w=${w}&i=${i}`)).text();
    }));
    const r = await until(report, (x) => (x.sampled?.compared ?? 0) >= 100);
    expect(r.sampled).toMatchObject({ total: 400, shadowed: 100, compared: 100, matched: 100 });
  });
});

describe("results", () => {
  test("mismatches are grouped by signature with redacted samples; paired latency is reported", async () => {
    await fetch(`${gw.url}/twin/echo/s?token=abc123&page=2`, { headers: { authorization: "Bearer very-secret", cookie: "session=s3cr3t" } }).then((r) => r.text());
    await fetch(`${gw.url}/twin/status/404`).then((r) => r.text());
    const r = await until(report, (x) => (x.twin?.signatures.length ?? 0) >= 1);
    const twinReport = r.twin as RouteReport;
    expect(twinReport.latency.legacy.p50_ms).toBeGreaterThan(0);
    expect(twinReport.latency.candidate.p50_ms).toBeGreaterThan(0);
    expect(twinReport.latency.ratio_p50).toBeGreaterThan(0);
    const sigs = (await (await fetch(`${gw.admin}/admin/migrations/twin/signatures`)).json()) as { signatures: RouteReport["signatures"] };
    const echoSig = sigs.signatures.find((s) => s.paths.includes("$.headers.x-ficus-shadow")) as RouteReport["signatures"][number];
    expect(echoSig.count).toBeGreaterThanOrEqual(2);
    const samples = (await (await fetch(`${gw.admin}/admin/migrations/twin/signatures/${echoSig.id}/samples`)).json()) as {
      samples: { request: { path: string; headers: Record<string, string> }; legacy: { status: number; body: string }; candidate: { body: string }; differences: { path: string }[] }[];
    };
    const sample = samples.samples.find((s) => s.request.path.startsWith("/echo/s")) as (typeof samples.samples)[number];
    expect(sample.request.headers.authorization).toBe("[redacted]");
    expect(sample.request.headers.cookie).toBe("[redacted]");
    expect(sample.request.path).toBe("/echo/s?token=[redacted]&page=2");
    const legacyBody = JSON.parse(sample.legacy.body) as { path: string; headers: Record<string, string> };
    expect(legacyBody.headers.authorization).toBe("[redacted]");
    expect(legacyBody.path).toBe("[redacted]");
    expect(sample.differences[0]?.path).toBe("$.headers.x-ficus-shadow");
    // Nothing secret reached the store file.
    await Bun.sleep(200);
    for (const f of readdirSync(storeDir).filter((n) => n.startsWith("results.db"))) {
      const bytes = readFileSync(join(storeDir, f), "latin1");
      expect(bytes).not.toContain("very-secret");
      expect(bytes).not.toContain("s3cr3t");
      expect(bytes).not.toContain("abc123");
    }
  });

  test("ficus report prints the table and the documented JSON", async () => {
    const text = await runCli(["report", "--admin", gw.admin]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("route twin  stage shadow");
    const json = await runCli(["report", "--admin", gw.admin, "--json"]);
    const parsed = JSON.parse(json.stdout) as { routes: RouteReport[] };
    const twinRoute = parsed.routes.find((x) => x.route === "twin") as RouteReport;
    for (const k of ["route", "stage", "compared", "matched", "mismatched", "noise_only", "skipped", "latency", "signatures"]) expect(twinRoute).toHaveProperty(k);
    expect(Object.keys(twinRoute.latency.legacy)).toEqual(["p50_ms", "p95_ms", "p99_ms"]);
    const down = await runCli(["report", "--admin", "http://127.0.0.1:1"]);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain("FICUS_ADMIN_UNREACHABLE");
  });

  test("unknown routes and signatures are clear 404s", async () => {
    const res = await fetch(`${gw.admin}/admin/migrations/nope/signatures`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("FICUS_ROUTE_UNKNOWN");
    expect(body.error.message).toContain("twin");
    const sig = await fetch(`${gw.admin}/admin/migrations/twin/signatures/ffff/samples`);
    expect(sig.status).toBe(404);
    expect(((await sig.json()) as { error: { code: string } }).error.code).toBe("FICUS_SIGNATURE_UNKNOWN");
  });

  test("shadow metrics", async () => {
    const text = await (await fetch(`${gw.admin}/metrics`)).text();
    expect(text).toMatch(/ficus_shadow_compared_total\{route="twin"\} [1-9]/);
    expect(text).toMatch(/ficus_shadow_skipped_total\{route="slow",reason="concurrency_limit"\} [1-9]/);
    expect(text).toMatch(/ficus_shadow_candidate_errors_total\{route="down",kind="error"\} 1/);
    expect(text).toMatch(/ficus_shadow_candidate_duration_seconds_count\{route="twin"\} [1-9]/);
  });
});

describe("noise", () => {
  test("A/A pairs teach which paths are noise; a real bug stays a mismatch, without the noise paths", async () => {
    const dir = tempDir("ficus-noise-");
    const buggy = await startUpstream("buggy");
    const path = writeConfig(
      dir,
      `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(dir, "r.db")}, flush_interval: 100ms }\nroutes:
  - name: noisy
    match: { prefix: /noisy }
    legacy: ${legacy.url}
    candidate: ${twin.url}
    stage: shadow
    rewrite: { strip_prefix: /noisy }
    shadow: { aa: 1, noise: { min_aa: 10 } }
  - name: bug
    match: { prefix: /bug }
    legacy: ${legacy.url}
    candidate: ${buggy.url}
    stage: shadow
    rewrite: { strip_prefix: /bug }
    shadow: { aa: 1, noise: { min_aa: 10 } }
`,
    );
    const g = await startFicus(["-c", path]);
    try {
      const read = async () => Object.fromEntries(((await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: (RouteReport & { aa_compared: number; noise: { path: string; source: string; why: string }[] })[] }).routes.map((r) => [r.route, r]));
      // Learning: 15 requests each, every one also sent to legacy twice.
      for (let i = 0; i < 15; i++) await Promise.all([fetch(`${g.url}/noisy/random`).then((r) => r.text()), fetch(`${g.url}/bug/random`).then((r) => r.text())]);
      const learned = await until(read, (x) => (x.noisy?.noise.length ?? 0) > 0 && (x.bug?.noise.length ?? 0) > 0);
      expect(learned.noisy?.aa_compared).toBeGreaterThanOrEqual(10);
      expect(learned.noisy?.noise).toEqual([expect.objectContaining({ path: "$.nonce", source: "learned" })]);
      expect(learned.noisy?.noise[0]?.why).toContain("A/A pairs");
      // Let every worker pick up the learned noise, then measure.
      await Bun.sleep(250);
      const before = await read();
      for (let i = 0; i < 10; i++) await Promise.all([fetch(`${g.url}/noisy/random`).then((r) => r.text()), fetch(`${g.url}/bug/random`).then((r) => r.text())]);
      const after = await until(read, (x) => (x.noisy?.noise_only ?? 0) - (before.noisy?.noise_only ?? 0) >= 10 && (x.bug?.compared ?? 0) - (before.bug?.compared ?? 0) >= 10);
      expect((after.noisy?.noise_only ?? 0) - (before.noisy?.noise_only ?? 0)).toBe(10);
      expect((after.noisy?.mismatched ?? 0) - (before.noisy?.mismatched ?? 0)).toBe(0);
      expect((after.bug?.mismatched ?? 0) - (before.bug?.mismatched ?? 0)).toBe(10);
      // The bug's signature names the real difference only; the nonce is noise there too.
      expect(after.bug?.signatures.map((s) => s.paths)).toContainEqual(["$.value"]);
      const report = await runCli(["report", "--admin", g.admin]);
      expect(report.stdout).toContain("noise  $.nonce  [learned]");
    } finally {
      await g.stop();
      await buggy.stop();
    }
  });

  test("noise marks by hand, through the admin API", async () => {
    const mark = await fetch(`${gw.admin}/admin/migrations/twin/noise`, { method: "POST", body: JSON.stringify({ path: "$.headers.x-ficus-shadow", reason: "the mirror header" }) });
    expect(mark.status).toBe(201);
    await Bun.sleep(300);
    const before = await report();
    await (await fetch(`${gw.url}/twin/echo/marked`)).text();
    const after = await until(report, (x) => (x.twin?.noise_only ?? 0) > (before.twin?.noise_only ?? 0));
    expect((after.twin?.noise_only ?? 0) - (before.twin?.noise_only ?? 0)).toBe(1);
    expect((after.twin as RouteReport & { noise: { path: string; source: string; why: string }[] }).noise).toContainEqual(
      expect.objectContaining({ path: "$.headers.x-ficus-shadow", source: "manual", why: "marked by hand: the mirror header" }),
    );
    const del = await fetch(`${gw.admin}/admin/migrations/twin/noise?path=${encodeURIComponent("$.headers.x-ficus-shadow")}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect((await fetch(`${gw.admin}/admin/migrations/twin/noise?path=nope`, { method: "DELETE" })).status).toBe(404);
    const bad = await fetch(`${gw.admin}/admin/migrations/twin/noise`, { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
    await Bun.sleep(300);
    const again = await report();
    await (await fetch(`${gw.url}/twin/echo/unmarked`)).text();
    const last = await until(report, (x) => (x.twin?.mismatched ?? 0) > (again.twin?.mismatched ?? 0));
    expect((last.twin?.mismatched ?? 0) - (again.twin?.mismatched ?? 0)).toBe(1);
  });
});

describe("reload", () => {
  test("a reload that gives a route a candidate starts the shadow stage", async () => {
    const dir = tempDir("ficus-reload-shadow-");
    const head = `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(dir, "r.db")}, flush_interval: 100ms }\nroutes:\n  - name: r\n    legacy: ${legacy.url}\n`;
    const path = writeConfig(dir, head);
    const g = await startFicus(["-c", path]);
    try {
      await (await fetch(`${g.url}/status/200`)).text();
      writeConfig(dir, `${head}    candidate: ${twin.url}\n    stage: shadow\n`);
      await g.waitForLog((l) => l.msg === "config reloaded");
      const read = async () => ((await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: RouteReport[] }).routes[0];
      await Bun.sleep(100);
      await (await fetch(`${g.url}/status/200`)).text();
      const r = await until(read, (x) => (x?.compared ?? 0) >= 1);
      expect(r).toMatchObject({ route: "r", stage: "shadow", compared: 1, matched: 1 });
    } finally {
      await g.stop();
    }
  });
});

describe("the store", () => {
  test("results survive a restart", async () => {
    const dir = tempDir("ficus-restart-");
    const config = `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(dir, "r.db")} }\nroutes:\n  - name: r\n    legacy: ${legacy.url}\n    candidate: ${twin.url}\n    stage: shadow\n`;
    const path = writeConfig(dir, config);
    const first = await startFicus(["-c", path]);
    for (let i = 0; i < 5; i++) await (await fetch(`${first.url}/status/200`)).text();
    await until(async () => (await (await fetch(`${first.admin}/admin/migrations`)).json()) as { routes: RouteReport[] }, (x) => (x.routes[0]?.compared ?? 0) >= 5);
    expect(await first.stop()).toBe(0);
    const second = await startFicus(["-c", path]);
    try {
      const r = (await (await fetch(`${second.admin}/admin/migrations`)).json()) as { routes: RouteReport[] };
      expect(r.routes[0]).toMatchObject({ route: "r", total: 5, compared: 5, matched: 5 });
    } finally {
      await second.stop();
    }
  });

  test("an unusable store degrades to memory: the gateway serves and still reports", async () => {
    const dir = tempDir("ficus-nostore-");
    const blocker = writeConfig(dir, "not a directory", "blocker");
    const path = writeConfig(dir, `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(blocker, "r.db")}, flush_interval: 100ms }\nroutes:\n  - name: r\n    legacy: ${legacy.url}\n    candidate: ${twin.url}\n    stage: shadow\n`);
    const g = await startFicus(["-c", path]);
    try {
      expect((await fetch(`${g.url}/status/200`)).status).toBe(200);
      const r = await until(async () => (await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: RouteReport[] }, (x) => (x.routes[0]?.compared ?? 0) >= 1);
      expect(r.routes[0]?.matched).toBe(1);
      await g.waitForLog((l) => l.msg === "results store unusable; keeping shadow results in memory");
      expect(await (await fetch(`${g.admin}/metrics`)).text()).toMatch(/ficus_shadow_store_errors_total [1-9]/);
    } finally {
      await g.stop();
    }
  });

  test("two workers share the store; the report merges them", async () => {
    const dir = tempDir("ficus-workers-");
    const port = freePort();
    const g = await startFicus(["--legacy", legacy.url, "--candidate", twin.url, "--stage", "shadow", "--store", join(dir, "r.db"), "--listen", `127.0.0.1:${port}`, "--admin", "127.0.0.1:0", "--workers", "2"]);
    try {
      for (let i = 0; i < 20; i++) await (await fetch(`${g.url}/status/200`, { headers: { connection: "close" } })).text();
      const r = await until(async () => (await (await fetch(`${g.admin}/admin/migrations`)).json()) as { routes: RouteReport[] }, (x) => (x.routes[0]?.compared ?? 0) >= 20, 5000);
      expect(r.routes[0]).toMatchObject({ route: "default", stage: "shadow", total: 20, compared: 20, matched: 20 });
    } finally {
      await g.stop();
    }
  });
});
