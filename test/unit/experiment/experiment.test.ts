/**
 * ficus/experiment, the caller's side: what the call returns or throws never
 * depends on `try`; sampling is exact; what is recorded for each side.
 */
import { afterEach, describe, expect, jest, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExperiments, type ExperimentBatch, type ExperimentResult, type ExperimentsConfig, gatewayPublisher, PublishError } from "../../../src/experiment/index.ts";

const made: { close(): Promise<void> }[] = [];
afterEach(async () => {
  jest.useRealTimers();
  for (const ex of made.splice(0)) await ex.close();
});

/** A runner whose publisher keeps every batch. */
function lab(config: ExperimentsConfig = {}) {
  const batches: ExperimentBatch[] = [];
  const ex = createExperiments({ publish: { publish: async (b) => void batches.push(structuredClone(b)) }, flushInterval: 60_000, ...config });
  made.push(ex);
  const entries = (name: string) => batches.flatMap((b) => b.experiments.filter((e) => e.name === name));
  return {
    ex,
    batches,
    results: (name: string): ExperimentResult[] => entries(name).flatMap((e) => [...e.results]),
    calls: (name: string) => entries(name).reduce((n, e) => n + e.calls, 0),
    skipped: (name: string, reason: "concurrency_limit" | "body_too_large") => entries(name).reduce((n, e) => n + (e.skipped?.[reason] ?? 0), 0),
  };
}

const never = <T,>() => new Promise<T>(() => {});

describe("the caller gets use's outcome, whatever try does", () => {
  test("sync use: its value when try throws, hangs, or returns something else", async () => {
    const { ex, results } = lab({ timeout: 20 });
    expect(ex("throws", { use: () => 7, try: () => { throw new Error("boom"); } })).toBe(7);
    expect(ex("hangs", { use: () => 7, try: never })).toBe(7);
    expect(ex("differs", { use: () => 7, try: () => 8 })).toBe(7);
    const obj = { a: 1 };
    expect(ex("same-object", { use: () => obj, try: () => ({ a: 2 }) })).toBe(obj);
    await ex.flush();
    expect(results("throws")[0]?.try).toMatchObject({ error: { name: "Error", message: "boom" } });
    expect(results("hangs")[0]?.try).toEqual({ timeout: true, ms: 20 });
    expect(results("differs")[0]).toMatchObject({ use: { value: "7" }, try: { value: "8" } });
  });

  test("async use: its value when try rejects, hangs, or resolves to something else", async () => {
    const { ex, results } = lab({ timeout: 20 });
    expect(await ex("rejects", { use: async () => "legacy", try: async () => Promise.reject(new TypeError("no")) })).toBe("legacy");
    expect(await ex("hangs", { use: async () => "legacy", try: never })).toBe("legacy");
    expect(await ex("differs", { use: async () => "legacy", try: async () => "rewrite" })).toBe("legacy");
    await ex.flush();
    expect(results("rejects")[0]?.try).toMatchObject({ error: { name: "TypeError", message: "no" } });
    expect(results("hangs")[0]?.try).toMatchObject({ timeout: true });
    expect(results("differs")[0]).toMatchObject({ use: { value: '"legacy"' }, try: { value: '"rewrite"' } });
  });

  test("use's error is thrown (or rejected) as the identical object, and recorded", async () => {
    const { ex, results } = lab();
    const err = Object.assign(new RangeError("out of range"), { code: "E_RANGE" });
    let caught: unknown;
    try {
      ex("sync", { use: (): number => { throw err; }, try: () => 1 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(err);
    const p = ex("async", { use: async (): Promise<number> => { throw err; }, try: async () => 1 });
    await expect(p).rejects.toBe(err);
    await ex.flush();
    expect(results("sync")[0]).toMatchObject({ use: { error: { name: "RangeError", message: "out of range", code: "E_RANGE" } }, try: { value: "1" } });
    expect(results("async")[0]?.use).toMatchObject({ error: { name: "RangeError" } });
  });

  test("a rejected use stays an unhandled rejection for a caller that ignores it", async () => {
    // In a process of its own: the test runner reports unhandled rejections itself.
    const dir = mkdtempSync(join(tmpdir(), "ficus-experiment-"));
    try {
      const script = join(dir, "unhandled.ts");
      writeFileSync(
        script,
        `import { createExperiments } from ${JSON.stringify(join(import.meta.dir, "../../../src/experiment/index.ts"))};
const ex = createExperiments({ publish: { publish: async () => {} } });
const err = new Error("ignored");
process.on("unhandledRejection", (reason) => { console.log(reason === err ? "same error" : "other"); process.exit(0); });
void ex("ignored", { use: async () => { throw err; }, try: async () => 1 });
setTimeout(() => { console.log("handled"); process.exit(0); }, 500);
`,
      );
      const proc = Bun.spawnSync([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
      expect(proc.stdout.toString().trim()).toBe("same error");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a publisher that fails, or a bad name, never reaches the caller", async () => {
    const problems: string[] = [];
    const ex = createExperiments({
      publish: { publish: async () => { throw new PublishError("gateway down", "unreachable"); } },
      flushInterval: 60_000,
      onError: (e) => problems.push(e.message),
    });
    made.push(ex);
    for (let i = 0; i < 5; i++) expect(ex("down", { use: () => i, try: () => i })).toBe(i);
    expect(ex("not a name!", { use: () => "ok", try: () => { throw new Error("never called"); } })).toBe("ok");
    await ex.flush();
    await ex.flush();
    expect(ex.stats().dropped.unreachable).toBe(5);
    expect(problems.filter((m) => m === "gateway down")).toHaveLength(1);
    expect(problems.some((m) => m.includes('"not a name!"'))).toBe(true);
  });
});

describe("when try runs", () => {
  test("after (default): only once use has settled, and never before the call returns", async () => {
    const { ex } = lab();
    const order: string[] = [];
    ex("after", { use: () => order.push("use"), try: () => order.push("try") });
    order.push("returned");
    await ex.flush();
    expect(order).toEqual(["use", "returned", "try"]);
  });

  test("concurrent: right after use is called, so async work overlaps", async () => {
    const { ex, results } = lab();
    const order: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const p = ex("concurrent", {
      run: "concurrent",
      use: async () => {
        order.push("use starts");
        await gate;
        order.push("use ends");
        return 1;
      },
      try: async () => {
        order.push("try starts");
        return 1;
      },
    });
    expect(order).toEqual(["use starts", "try starts"]);
    release();
    expect(await p).toBe(1);
    await ex.flush();
    expect(results("concurrent")).toHaveLength(1);
  });

  test("a try slower than its timeout is recorded as a timeout and its late result ignored (fake clock)", async () => {
    jest.useFakeTimers();
    const { ex, results } = lab();
    let finish = (_v: number) => {};
    const late = new Promise<number>((resolve) => (finish = resolve));
    expect(ex("slow", { use: () => 1, try: () => late, timeout: 5000, run: "concurrent" })).toBe(1);
    jest.advanceTimersByTime(4999);
    expect(ex.stats().pending).toBe(0);
    jest.advanceTimersByTime(1);
    expect(ex.stats().pending).toBe(1);
    finish(1);
    jest.useRealTimers();
    await ex.flush();
    expect(results("slow")).toHaveLength(1);
    expect(results("slow")[0]?.try).toEqual({ timeout: true, ms: 5000 });
  });
});

describe("sampling and switching off", () => {
  test("sample is exact and deterministic: 0.25 tries every 4th call, 0.01 every 100th, 0.3 three in ten", async () => {
    const { ex, results, calls } = lab();
    const tried: Record<string, number[]> = { quarter: [], hundredth: [], three: [] };
    const shares: Record<string, number> = { quarter: 0.25, hundredth: 0.01, three: 0.3 };
    for (let i = 1; i <= 1000; i++) {
      for (const name of Object.keys(shares)) ex(name, { use: () => i, try: () => (tried[name] as number[]).push(i) && i, sample: shares[name] });
    }
    await ex.flush();
    expect(tried.quarter).toEqual(Array.from({ length: 250 }, (_, k) => 4 * (k + 1)));
    expect(tried.hundredth).toEqual(Array.from({ length: 10 }, (_, k) => 100 * (k + 1)));
    expect(tried.three).toHaveLength(300);
    for (let t = 0; t < 1000; t += 10) expect((tried.three as number[]).filter((i) => i > t && i <= t + 10)).toHaveLength(3);
    expect(results("quarter")).toHaveLength(250);
    expect(calls("quarter")).toBe(1000);
  });

  test("the instance default applies when a call gives no sample", async () => {
    const { ex, results } = lab({ sample: 0.5 });
    for (let i = 0; i < 10; i++) ex("half", { use: () => i, try: () => i });
    await ex.flush();
    expect(results("half")).toHaveLength(5);
  });

  test("enabled: false runs only use (counted as calls); a function is asked on every call", async () => {
    const { ex, results, calls } = lab();
    let tries = 0;
    for (let i = 0; i < 3; i++) ex("off", { use: () => i, try: () => tries++, enabled: false });
    let asked = 0;
    for (let i = 0; i < 4; i++) ex("switch", { use: () => i, try: () => tries++, enabled: () => ++asked % 2 === 0 });
    await ex.flush();
    expect(tries).toBe(2);
    expect(asked).toBe(4);
    expect(results("off")).toHaveLength(0);
    expect(calls("off")).toBe(3);
    expect(results("switch")).toHaveLength(2);
  });

  test("configure({ enabled: false }) turns every experiment off; publish: false too", async () => {
    const { ex, batches } = lab();
    ex.configure({ enabled: false });
    let tries = 0;
    expect(ex("global", { use: () => 1, try: () => tries++ })).toBe(1);
    const quiet = createExperiments({ publish: false });
    expect(quiet("nowhere", { use: () => 2, try: () => tries++ })).toBe(2);
    await ex.flush();
    expect(tries).toBe(0);
    expect(batches).toHaveLength(0);
  });
});

describe("what is recorded", () => {
  test("clean maps both values (and the A/A value) before they are serialized", async () => {
    const { ex, results } = lab();
    ex("clean", { use: () => ({ total: 10, at: 1 }), try: () => ({ total: 10, at: 2 }), clean: (v) => v.total, aa: 1 });
    await ex.flush();
    expect(results("clean")[0]).toMatchObject({ use: { value: "10" }, try: { value: "10" }, aa: { value: "10" } });
  });

  test("compare rules and redact paths travel with the experiment's entry, as given on its first call", async () => {
    const { ex, batches } = lab();
    const compare = { ignore: ["$.at"], numbers: { abs: 0.01 } };
    ex("rules", { use: () => 1, try: () => 1, compare, redact: ["$.card"] });
    ex("rules", { use: () => 1, try: () => 1, compare: { ignore: ["$.other"] } });
    await ex.flush();
    expect(batches[0]?.experiments[0]).toMatchObject({ name: "rules", calls: 2, compare, redact: ["$.card"] });
  });

  test("use's value and the context are taken when use settles: a caller mutating them later changes nothing", async () => {
    const { ex, results } = lab();
    const ctx = { order: 1 };
    const out = ex("snapshot", { use: () => ({ n: 1 }), try: () => ({ n: 1 }), context: ctx });
    out.n = 99;
    ctx.order = 2;
    await ex.flush();
    expect(results("snapshot")[0]).toMatchObject({ context: '{"order":1}', use: { value: '{"n":1}' }, try: { value: '{"n":1}' } });
  });

  test("values JSON cannot say: exact BigInt, Map, Set, undefined, a cycle", async () => {
    const { ex, results } = lab();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    ex("big", { use: () => ({ id: 12345678901234567890n }), try: () => ({ id: 12345678901234567891n }) });
    ex("map", { use: (): unknown => new Map([["a", 1]]), try: () => new Map<unknown, number>([[1, 1]]) });
    ex("set", { use: () => new Set([1, 2]), try: () => new Set([2]) });
    ex("undefined", { use: (): unknown => undefined, try: () => null });
    ex("cycle", { use: () => cycle, try: () => cycle });
    await ex.flush();
    expect(results("big")[0]).toMatchObject({ use: { value: '{"id":12345678901234567890}' }, try: { value: '{"id":12345678901234567891}' } });
    expect(results("map")[0]).toMatchObject({ use: { value: '{"a":1}' }, try: { value: "[[1,1]]" } });
    expect(results("set")[0]).toMatchObject({ use: { value: "[1,2]" }, try: { value: "[2]" } });
    expect(results("undefined")[0]).toMatchObject({ use: { value: "(undefined)" }, try: { value: "null" } });
    expect((results("cycle")[0]?.use as { value: string }).value).toStartWith("(not JSON: ");
  });

  test("aa calls use a second time for that share of sampled calls", async () => {
    const { ex, results } = lab();
    let uses = 0;
    for (let i = 0; i < 8; i++) ex("aa", { use: () => ++uses, try: () => 0, aa: 0.25 });
    await ex.flush();
    expect(uses).toBe(10);
    expect(results("aa").filter((r) => r.aa !== undefined)).toHaveLength(2);
  });

  test("durations are each side's own, in ms", async () => {
    const { ex, results } = lab();
    await ex("timed", { use: () => new Promise((r) => setTimeout(() => r(1), 30)), try: async () => 1 });
    await ex.flush();
    const r = results("timed")[0] as ExperimentResult;
    expect(r.use.ms).toBeGreaterThanOrEqual(25);
    expect(r.try.ms).toBeLessThan(25);
  });
});

describe("bounds", () => {
  test("a full queue drops results and counts them (reported as concurrency_limit)", async () => {
    const { ex, results, skipped } = lab({ maxQueue: 2 });
    for (let i = 0; i < 5; i++) ex("full", { use: () => i, try: () => i });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ex.stats().dropped.queue_full).toBe(3);
    await ex.flush();
    expect(results("full")).toHaveLength(2);
    expect(skipped("full", "concurrency_limit")).toBe(3);
  });

  test("maxInflight tries at once; more sampled calls only run use", async () => {
    const { ex, skipped } = lab({ maxInflight: 2, timeout: 10 });
    for (let i = 0; i < 4; i++) ex("busy", { use: () => i, try: never, run: "concurrent" });
    await ex.flush();
    expect(ex.stats().skipped.concurrency_limit).toBe(2);
    expect(skipped("busy", "concurrency_limit")).toBe(2);
  });

  test("a value over maxValueChars is not sent, and counted as body_too_large", async () => {
    const { ex, results, skipped } = lab({ maxValueChars: 10 });
    ex("large", { use: () => "x".repeat(100), try: () => "x" });
    await ex.flush();
    expect(results("large")).toHaveLength(0);
    expect(skipped("large", "body_too_large")).toBe(1);
  });

  test("batches are cut by size", async () => {
    const { ex, batches } = lab({ maxBatchBytes: 4096 });
    for (let i = 0; i < 10; i++) ex("cut", { use: () => "y".repeat(1000), try: () => "y".repeat(1000) });
    await ex.flush();
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.reduce((n, b) => n + (b.experiments[0]?.results.length ?? 0), 0)).toBe(10);
  });
});

describe("the gateway publisher", () => {
  /** A stand-in admin API that records what it is sent and answers `status`. */
  function fakeAdmin(status = 200, answer: unknown = { accepted: {} }) {
    const seen: { auth: string | null; bytes: number; batch: ExperimentBatch }[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBodySize: 64 * 1024 * 1024,
      async fetch(req) {
        const text = await req.text();
        seen.push({ auth: req.headers.get("authorization"), bytes: Buffer.byteLength(text), batch: JSON.parse(text) as ExperimentBatch });
        return Response.json(answer, { status });
      },
    });
    return { server, seen, admin: `http://127.0.0.1:${server.port}` };
  }

  test("posts to /admin/experiments/results with the bearer token; 4xx is rejected, 5xx unreachable", async () => {
    const ok = fakeAdmin();
    const refusing = fakeAdmin(400, { error: { code: "FICUS_BAD_REQUEST", message: "experiments[0].calls: bad" } });
    const failing = fakeAdmin(503, { error: { code: "FICUS_STORE_UNAVAILABLE", message: "down" } });
    try {
      const batch: ExperimentBatch = { version: 1, experiments: [{ name: "x", calls: 1, results: [] }] };
      await gatewayPublisher({ admin: ok.admin, token: "t0k" }).publish(batch);
      expect(ok.seen[0]).toMatchObject({ auth: "Bearer t0k", batch });
      const refused = await gatewayPublisher({ admin: refusing.admin }).publish(batch).catch((e: unknown) => e);
      expect(refused).toMatchObject({ kind: "rejected", code: "FICUS_BAD_REQUEST", message: expect.stringContaining("experiments[0].calls: bad") });
      const failed = await gatewayPublisher({ admin: failing.admin }).publish(batch).catch((e: unknown) => e);
      expect(failed).toMatchObject({ kind: "unreachable", code: "FICUS_STORE_UNAVAILABLE" });
    } finally {
      for (const f of [ok, refusing, failing]) f.server.stop(true);
    }
  });

  test("a batch over the gateway's 8 MiB limit once escaped is sent in halves; one result alone over it is rejected", async () => {
    const fake = fakeAdmin();
    try {
      // JSON text full of quotes grows when escaped: 4 × 2 M characters become ~11 MB.
      const big = JSON.stringify(Array.from({ length: 400_000 }, () => "ab"));
      const result = { time: 1, use: { value: big, ms: 1 }, try: { value: "1", ms: 1 } };
      const batch: ExperimentBatch = { version: 1, experiments: [{ name: "big", calls: 9, results: [result, result, result, result] }] };
      await gatewayPublisher({ admin: fake.admin }).publish(batch);
      expect(fake.seen.length).toBeGreaterThan(1);
      for (const s of fake.seen) expect(s.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
      expect(fake.seen.reduce((n, s) => n + (s.batch.experiments[0]?.results.length ?? 0), 0)).toBe(4);
      expect(fake.seen.reduce((n, s) => n + (s.batch.experiments[0]?.calls ?? 0), 0)).toBe(9);
      const huge = { time: 1, use: { value: JSON.stringify("\u0001".repeat(2_000_000)), ms: 1 }, try: { value: "1", ms: 1 } };
      const alone = await gatewayPublisher({ admin: fake.admin }).publish({ version: 1, experiments: [{ name: "huge", calls: 1, results: [huge] }] }).catch((e: unknown) => e);
      expect(alone).toMatchObject({ kind: "rejected" });
    } finally {
      fake.server.stop(true);
    }
  });
});
