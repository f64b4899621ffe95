/**
 * Experiment results where they are stored: batch validation (field-naming
 * 400s), judging like a route (judgePair, noise, redaction), the admin
 * endpoint, the report, the local store, and that no controller or command
 * ever moves an experiment entry.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { adminApp, type AdminBackend } from "../../../src/admin/server.ts";
import { compileRules } from "../../../src/compare/index.ts";
import { configSchema, type FicusConfig } from "../../../src/config/schema.ts";
import { createExperiments, type ExperimentBatch, type ExperimentResult } from "../../../src/experiment/index.ts";
import { ExperimentJudge, ingestBatch, parseBatch } from "../../../src/experiment/ingest.ts";
import { localStore } from "../../../src/experiment/local.ts";
import { controllerTick } from "../../../src/migration/controller.ts";
import { type Answer, judgePair } from "../../../src/migration/judge.ts";
import { DEFAULT_REDACT, REDACTED, Redactor } from "../../../src/migration/redact.ts";
import { migrationsReport } from "../../../src/migration/report.ts";
import { ResultsBuffer } from "../../../src/migration/results.ts";
import { SqliteStore } from "../../../src/migration/store.ts";

const stores: SqliteStore[] = [];
const memory = () => {
  const s = new SqliteStore(":memory:", 5, 7 * 86_400_000);
  stores.push(s);
  return s;
};
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const now = Date.now();
const value = (v: string, ms = 1) => ({ value: v, ms });
const error = (name: string, message: string, ms = 1) => ({ error: { name, message }, ms });
const batchOf = (results: ExperimentResult[], extra: Record<string, unknown> = {}): ExperimentBatch =>
  ({ version: 1, experiments: [{ name: "pricing", calls: results.length, results, ...extra }] }) as ExperimentBatch;

describe("batch validation names the field", () => {
  const ok = { version: 1, experiments: [{ name: "pricing", calls: 1, results: [{ time: now, use: value("1"), try: value("1") }] }] };
  const withResult = (r: unknown) => ({ ...ok, experiments: [{ ...ok.experiments[0], results: [r] }] });
  test.each([
    ["not JSON", "{", /^an experiment batch must be JSON/],
    ["another version", { ...ok, version: 2 }, /^version: /],
    ["an unknown field", { ...ok, extra: 1 }, /extra/],
    ["a bad name", { ...ok, experiments: [{ ...ok.experiments[0], name: "no spaces" }] }, /^experiments\[0\]\.name: expected a name/],
    ["negative calls", { ...ok, experiments: [{ ...ok.experiments[0], calls: -1 }] }, /^experiments\[0\]\.calls: /],
    ["an outcome of no known shape", withResult({ time: now, use: value("1"), try: { nope: 1 } }), /^experiments\[0\]\.results\[0\]\.try: expected \{"value": JSON text/],
    ["use timing out", withResult({ time: now, use: { timeout: true, ms: 1 }, try: value("1") }), /^experiments\[0\]\.results\[0\]\.use: use is always waited for/],
    ["a bad compare rule", { ...ok, experiments: [{ ...ok.experiments[0], compare: { ignore: ["total"] } }] }, /^experiments\[0\]\.compare\.ignore\[0\]: a path must start with "\$"/],
    ["an unknown compare key", { ...ok, experiments: [{ ...ok.experiments[0], compare: { ignroe: [] } }] }, /^experiments\[0\]\.compare/],
    ["a bad redact path", { ...ok, experiments: [{ ...ok.experiments[0], redact: ["card"] }] }, /^experiments\[0\]\.redact\[0\]: /],
    ["a name twice", { ...ok, experiments: [ok.experiments[0], ok.experiments[0]] }, /^experiments\[1\]\.name: "pricing" appears twice/],
  ])("%s", (_what, input, message) => {
    let err: unknown;
    try {
      parseBatch(typeof input === "string" ? input : JSON.stringify(input));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "FICUS_BAD_REQUEST" });
    expect((err as Error).message).toMatch(message);
  });

  test("a valid batch passes", () => {
    expect(parseBatch(JSON.stringify(ok)).experiments[0]?.name).toBe("pricing");
  });
});

describe("judged like a route", () => {
  test("counters, candidate errors and timeouts, errors compared as answers, rules, latency", async () => {
    const store = memory();
    const results: ExperimentResult[] = [
      { time: now, use: value('{"total":10,"at":1}'), try: value('{"total":10.0,"at":2}') }, // matched: numbers by value, $.at ignored
      { time: now, use: value('{"total":10}'), try: value('{"total":11}') }, // mismatched on $.total
      { time: now, use: value('{"total":12345678901234567890}'), try: value('{"total":12345678901234567891}') }, // exact digits
      { time: now, use: value("1"), try: error("TypeError", "boom") }, // candidate error: not compared
      { time: now, use: value("1"), try: { timeout: true, ms: 1000 } }, // candidate timeout
      { time: now, use: error("RangeError", "bad input"), try: error("RangeError", "bad input") }, // the same failure: matched
      { time: now, use: error("RangeError", "bad input"), try: value("3") }, // legacy failed, candidate answered: mismatched
      { time: now, use: value("5"), try: value("5"), aa: value("5") }, // A/A
    ];
    const out = await ingestBatch(new ExperimentJudge(), parseBatch(batchOf(results, { calls: 100, compare: { ignore: ["$.at"] }, skipped: { concurrency_limit: 2 } })), store, 5);
    expect(out).toEqual({ experiments: 1, results: 8 });
    const r = await store.route("experiment:pricing");
    expect(r.counters).toMatchObject({ total: 100, shadowed: 8, compared: 6, matched: 3, mismatched: 3, candidate_error: 1, candidate_timeout: 1, aa_compared: 1, legacy_5xx: 2, candidate_5xx: 1 });
    expect(r.skipped.concurrency_limit).toBe(2);
    expect(r.latency.pairs).toBe(6);
    const sigs = await store.signatures("experiment:pricing");
    expect(sigs.map((s) => [s.status, s.paths, s.count])).toEqual([
      [[200, 200], ["$.total"], 2],
      [[500, 200], ["$", "status"], 1],
    ]);
  });

  test("the same pair gives the same verdict, signature and latency as a route's pair", async () => {
    const store = memory();
    const pair = { time: now, use: value('{"a":1,"b":[1,2]}', 2), try: value('{"a":2,"b":[2,1]}', 3) };
    await ingestBatch(new ExperimentJudge(), parseBatch(batchOf([pair])), store, 5);
    const buffer = new ResultsBuffer(5);
    const answer = (v: { value: string; ms: number }): Answer => ({ status: 200, headers: [], body: new TextEncoder().encode(v.value), durationMs: v.ms });
    const redactor = new Redactor();
    judgePair(buffer, "route", answer(pair.use), answer(pair.try), compileRules(), new Set(), (d) => redactor.sample(new Date(now).toISOString(), { method: "GET", target: "/", headers: [], body: undefined }, answer(pair.use), answer(pair.try), d), now);
    await store.apply(buffer.drain());
    const [exp, route] = [await store.route("experiment:pricing"), await store.route("route")];
    const { total: _t, shadowed: _s, ...expCounters } = exp.counters;
    const { total: _t2, shadowed: _s2, ...routeCounters } = route.counters;
    expect(expCounters).toEqual(routeCounters);
    expect(exp.latency).toEqual(route.latency);
    const strip = (s: { paths: readonly string[]; status: readonly number[]; severity: string }) => [s.paths, s.status, s.severity];
    expect((await store.signatures("experiment:pricing")).map(strip)).toEqual((await store.signatures("route")).map(strip));
  });

  test("noise marked on the entry makes a difference noise_only; A/A pairs teach it too", async () => {
    const store = memory();
    await store.markNoise("experiment:pricing", "$.served_at", "clock");
    await ingestBatch(new ExperimentJudge(), parseBatch(batchOf([{ time: now, use: value('{"served_at":1}'), try: value('{"served_at":2}') }])), store, 5);
    expect((await store.route("experiment:pricing")).counters).toMatchObject({ compared: 1, noise_only: 1, mismatched: 0 });
    const aa = Array.from({ length: 25 }, (_, i) => ({ time: now, use: value(`{"id":${i}}`), try: value(`{"id":${i + 1}}`), aa: value(`{"id":${i + 100}}`) }));
    await ingestBatch(new ExperimentJudge(), parseBatch(batchOf(aa, { name: "ids" })), store, 5);
    const report = await migrationsReport(configSchema.parse({}), store);
    expect(report.routes.find((x) => x.route === "experiment:ids")?.noise.map((n) => [n.path, n.source])).toEqual([["$.id", "learned"]]);
  });

  test("samples are redacted: secret context keys, and the experiment's redact paths in both values", async () => {
    const store = memory();
    const r = { time: now, context: '{"order":7,"api_token":"t0k"}', use: value('{"card":"4111","n":1}'), try: value('{"card":"4111","n":2}') };
    await ingestBatch(new ExperimentJudge(), parseBatch(batchOf([r], { redact: ["$.card"] })), store, 5);
    const [sig] = await store.signatures("experiment:pricing");
    const [sample] = (await store.samples("experiment:pricing", sig?.id as string)) ?? [];
    expect(sample?.request).toMatchObject({ method: "CALL", path: "experiment:pricing", body: `{"order":7,"api_token":"${REDACTED}"}` });
    expect(sample?.legacy.body).toBe(`{"card":"${REDACTED}","n":1}`);
    expect(sample?.candidate.body).toBe(`{"card":"${REDACTED}","n":2}`);
  });

  test("rules are compiled once per name and again when they change", async () => {
    const store = memory();
    const judge = new ExperimentJudge();
    const pair = [{ time: now, use: value('{"at":1}'), try: value('{"at":2}') }];
    await ingestBatch(judge, parseBatch(batchOf(pair, { compare: { ignore: ["$.at"] } })), store, 5);
    await ingestBatch(judge, parseBatch(batchOf(pair, { compare: {} })), store, 5);
    expect((await store.route("experiment:pricing")).counters).toMatchObject({ matched: 1, mismatched: 1 });
  });
});

describe("the admin endpoint and the report", () => {
  const config = configSchema.parse({
    routes: [{ name: "orders", match: { prefix: "/" }, legacy: "http://127.0.0.1:1", candidate: "http://127.0.0.1:2", stage: "shadow", canary: { auto: true } }],
  }) as FicusConfig;
  const backendFor = (store: SqliteStore): AdminBackend =>
    ({ migrations: async () => ({ config, store }), recorded: () => {} }) as unknown as AdminBackend;
  const post = (app: ReturnType<typeof adminApp>, body: string, headers: Record<string, string> = {}) =>
    app.request("/admin/experiments/results", { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  test("POST /admin/experiments/results stores the batch; GET /admin/migrations lists experiment:NAME with stage experiment", async () => {
    const store = memory();
    const app = adminApp(backendFor(store), undefined);
    const res = await post(app, JSON.stringify(batchOf([{ time: now, use: value("1"), try: value("2") }])));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: { experiments: 1, results: 1 } });
    const report = (await (await app.request("/admin/migrations")).json()) as { routes: { route: string; stage: string; compared: number; mismatched: number }[] };
    expect(report.routes.find((r) => r.route === "experiment:pricing")).toMatchObject({ stage: "experiment", compared: 1, mismatched: 1 });
    const sigs = await app.request("/admin/migrations/experiment:pricing/signatures");
    expect(sigs.status).toBe(200);
  });

  test("bad input is a 400 FICUS_BAD_REQUEST naming the field, a body over 8 MiB a 413, and nothing is stored", async () => {
    const store = memory();
    const app = adminApp(backendFor(store), undefined);
    const bad = await post(app, JSON.stringify({ version: 1, experiments: [{ name: "x", calls: "many", results: [] }] }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "FICUS_BAD_REQUEST", message: expect.stringContaining("experiments[0].calls") });
    const big = await post(app, "x".repeat(8 * 1024 * 1024 + 1));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("FICUS_BODY_TOO_LARGE");
    expect(await store.routes()).toEqual([]);
  });

  test("behind the admin token like the rest", async () => {
    const app = adminApp(backendFor(memory()), "s3cret");
    const body = JSON.stringify(batchOf([]));
    expect((await post(app, body)).status).toBe(401);
    expect((await post(app, body, { authorization: "Bearer s3cret" })).status).toBe(200);
  });

  test("an experiment entry is never promoted, rolled back or commanded", async () => {
    const store = memory();
    const app = adminApp(backendFor(store), undefined);
    const many = Array.from({ length: 600 }, () => ({ time: now, use: value("1"), try: value("1") }));
    await ingestBatch(new ExperimentJudge(), parseBatch(batchOf(many)), store, 5);
    const promote = await app.request("/admin/migrations/experiment:pricing/promote", { method: "POST" });
    expect(promote.status).toBe(404);
    expect(await (await app.request("/admin/rollback-all", { method: "POST" })).json()).toMatchObject({ events: [expect.objectContaining({ route: "orders" })] });
    await controllerTick(config, store, now + 3_600_000);
    expect((await store.events()).filter((e) => e.route.startsWith("experiment:"))).toEqual([]);
    expect((await store.controlRows()).map((r) => r.route)).not.toContain("experiment:pricing");
  });
});

describe("the local store (Bun)", () => {
  test("judges in process and writes to SQLite; a gateway on the same file reports it", async () => {
    const publisher = localStore({ path: ":memory:" });
    const ex = createExperiments({ publish: publisher, flushInterval: 60_000 });
    for (let i = 0; i < 10; i++) ex("local", { use: () => ({ n: i }), try: () => ({ n: i === 3 ? -1 : i }) });
    await ex.flush();
    const store = publisher.store();
    expect((await store.route("experiment:local")).counters).toMatchObject({ total: 10, compared: 10, matched: 9, mismatched: 1 });
    const report = await migrationsReport(configSchema.parse({}), store);
    expect(report.routes[0]).toMatchObject({ route: "experiment:local", stage: "experiment" });
    await ex.close();
  });

  test("bad compare rules are refused (told through onError), never thrown at the caller; that experiment turns off, the others go on", async () => {
    const problems: string[] = [];
    const publisher = localStore({ path: ":memory:", redact: DEFAULT_REDACT });
    const ex = createExperiments({ publish: publisher, flushInterval: 60_000, onError: (e) => problems.push(e.message) });
    let badTries = 0;
    expect(ex("good", { use: () => 1, try: () => 1 })).toBe(1);
    expect(ex("rules", { use: () => 1, try: () => ++badTries, compare: { ignore: ["nope"] } })).toBe(1);
    await ex.flush();
    expect(ex.stats().dropped.rejected).toBe(2);
    expect(problems[0]).toContain('experiments[1].compare.ignore[0]: a path must start with "$"');
    expect(problems[1]).toBe('experiment "rules" is off (only use runs): its options were refused');
    expect(ex("rules", { use: () => 2, try: () => ++badTries, compare: { ignore: ["nope"] } })).toBe(2);
    expect(ex("good", { use: () => 2, try: () => 2 })).toBe(2);
    await ex.flush();
    expect(badTries).toBe(1);
    expect((await publisher.store().route("experiment:good")).counters).toMatchObject({ compared: 1, matched: 1 });
    await ex.close();
  });
});
