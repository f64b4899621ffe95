/**
 * One contract for every results store: the same operations give the same
 * answers on SQLite and on PostgreSQL (a real server on 127.0.0.1:5432,
 * each run in its own schema, dropped afterwards).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import type { Plan } from "../../src/migration/control.ts";
import { ResultsBuffer, type Sample } from "../../src/migration/results.ts";
import { PostgresStore, redactUrl } from "../../src/migration/store-postgres.ts";
import { type ResultsStore, SqliteStore } from "../../src/migration/store.ts";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const schemas: string[] = [];
afterAll(async () => {
  const sql = new SQL({ url: PG_URL, max: 1 });
  for (const s of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await sql.close();
});

function pgSchema(): string {
  const s = `ficus_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  schemas.push(s);
  return s;
}

const STORES: [string, () => ResultsStore][] = [
  ["sqlite", () => new SqliteStore(":memory:", 2, 0)],
  ["postgres", () => new PostgresStore(PG_URL, pgSchema(), 2, 0)],
];

const sample = (n: number): Sample => ({
  time: new Date(1_700_000_000_000 + n).toISOString(),
  request: { method: "GET", path: `/u/${n}`, headers: {}, body: "" },
  legacy: { status: 200, headers: {}, body: `{"n":${n}}`, duration_ms: 1 },
  candidate: { status: 200, headers: {}, body: `{"n":${n + 1}}`, duration_ms: 2 },
  differences: [{ path: "$.n", kind: "value", severity: "high", legacy: n, candidate: n + 1 }],
});

function deltas(route: string, compared: number, mismatched: number) {
  const b = new ResultsBuffer(2);
  b.count(route, "total", compared);
  b.count(route, "shadowed", compared);
  b.count(route, "compared", compared);
  b.count(route, "matched", compared - mismatched);
  b.count(route, "mismatched", mismatched);
  b.count(route, "aa_compared", compared);
  b.pathsDiffered(route, ["$.time"], "aa");
  b.pathsDiffered(route, ["$.time"], "raw");
  for (let i = 0; i < compared; i++) b.latency(route, 10, 12);
  for (let i = 0; i < mismatched; i++) b.mismatch(route, [200, 200], sample(i).differences, 1_700_000_000_000 + i, () => sample(i));
  return b.drain();
}

const plan: Plan = { steps: [5, 25, 50], rollbackTo: "shadow" };
const shadow = { stage: "shadow" as const, percent: 0, paused: false };

describe.each(STORES)("%s store", (_name, make) => {
  test("merges deltas from several writers", async () => {
    const a = make();
    try {
      await a.apply(deltas("users", 10, 3));
      await a.apply(deltas("users", 5, 1));
      await a.apply(deltas("orders", 4, 0));
      const users = await a.route("users");
      expect(users.counters.compared).toBe(15);
      expect(users.counters.mismatched).toBe(4);
      expect(users.latency.pairs).toBe(15);
      expect(users.latency.legacy.p50_ms).toBeCloseTo(10, 1);
      expect(users.latency.ratio_p50).toBeCloseTo(1.2, 2);
      expect((await a.routes()).map((r) => r.route)).toEqual(["orders", "users"]);
      const sigs = await a.signatures("users");
      expect(sigs).toHaveLength(1);
      expect(sigs[0]?.count).toBe(4);
      expect(sigs[0]?.status).toEqual([200, 200]);
      expect(sigs[0]?.paths).toEqual(["$.n"]);
      // Samples are capped per signature across flushes.
      expect(await a.samples("users", sigs[0]?.id as string)).toHaveLength(2);
      expect(await a.samples("orders", sigs[0]?.id as string)).toBeUndefined();
    } finally {
      await a.close();
    }
  });

  test("noise marks and learned noise", async () => {
    const a = make();
    try {
      await a.apply(deltas("users", 100, 0));
      const settings = { relative: 0.5, absolute: 0.1, min_aa: 10 };
      const before = await a.noise("users", settings);
      await a.markNoise("users", "$.etag", "set by hand");
      const after = await a.noise("users", settings);
      expect(after.length).toBe(before.length + 1);
      expect(after.find((e) => e.path === "$.etag")).toBeDefined();
      expect(await a.unmarkNoise("users", "$.etag")).toBe(true);
      expect(await a.unmarkNoise("users", "$.etag")).toBe(false);
    } finally {
      await a.close();
    }
  });

  test("commands move the route, are audited, and refuse stale decisions", async () => {
    const a = make();
    try {
      expect(await a.controlRows()).toEqual([]);
      const p = await a.command({ route: "users", key: "k1", configured: shadow, action: "promote", plan, actor: "alice", reason: "looks good" });
      expect(p.transition.changed).toBe(true);
      expect(p.transition.to).toEqual({ stage: "canary", percent: 5, paused: false });
      const rows = await a.controlRows();
      expect(rows).toEqual([{ route: "users", stage: "canary", percent: 5, paused: false, config_key: "k1", version: 1 }]);
      const stale = await a.command({ route: "users", key: "k1", configured: shadow, action: "promote", plan, actor: "controller", reason: "", detail: {}, expectedVersion: 0 });
      expect(stale.transition.changed).toBe(false);
      const ok = await a.command({ route: "users", key: "k1", configured: shadow, action: "promote", plan, actor: "controller", reason: "", detail: { gates: [] }, expectedVersion: 1 });
      expect(ok.transition.to.percent).toBe(25);
      const rb = await a.command({ route: "users", key: "k1", configured: shadow, action: "rollback", plan, actor: "bob", reason: "errors" });
      expect(rb.transition.to).toEqual({ stage: "shadow", percent: 0, paused: true });
      // A changed ficus.yaml (another key) starts from the configured state again.
      const fresh = await a.command({ route: "users", key: "k2", configured: shadow, action: "pause", plan, actor: "carol", reason: "" });
      expect(fresh.from).toEqual(shadow);
      const events = await a.events("users");
      expect(events.map((e) => [e.actor, e.action, e.changed])).toEqual([
        ["carol", "pause", true],
        ["bob", "rollback", true],
        ["controller", "promote", true],
        ["controller", "promote", false],
        ["alice", "promote", true],
      ]);
      expect(events[2]?.detail).toEqual({ gates: [] });
      expect(events[4]?.message).toContain("looks good");
      expect((await a.events()).length).toBe(5);
      expect(await a.events("orders")).toEqual([]);
    } finally {
      await a.close();
    }
  });

  test("a step counts only what happened since it began", async () => {
    const a = make();
    try {
      await a.apply(deltas("users", 10, 2));
      const first = await a.step("users", "k1", shadow);
      expect(first.state).toEqual(shadow);
      expect(first.stats.compared).toBe(0);
      await a.apply(deltas("users", 6, 1));
      const mid = await a.step("users", "k1", shadow);
      expect(mid.version).toBe(first.version);
      expect(mid.stats.compared).toBe(6);
      expect(mid.stats.mismatched).toBe(1);
      expect(mid.stats.candidate.totalCount).toBe(6);
      await a.command({ route: "users", key: "k1", configured: shadow, action: "promote", plan, actor: "alice", reason: "" });
      const next = await a.step("users", "k1", shadow);
      expect(next.version).toBe(first.version + 1);
      expect(next.state.percent).toBe(5);
      expect(next.stats.compared).toBe(0);
      expect(next.stats.candidate.totalCount).toBe(0);
    } finally {
      await a.close();
    }
  });
});

test("two PostgreSQL clients on one schema see each other's writes", async () => {
  const schema = pgSchema();
  const a = new PostgresStore(PG_URL, schema, 2, 0);
  const b = new PostgresStore(PG_URL, schema, 2, 0);
  try {
    await Promise.all([a.apply(deltas("users", 10, 1)), b.apply(deltas("users", 20, 2))]);
    expect((await a.route("users")).counters.compared).toBe(30);
    expect((await b.route("users")).latency.pairs).toBe(30);
    // Concurrent promotions with the same expected version: exactly one wins.
    await a.command({ route: "users", key: "k", configured: shadow, action: "promote", plan, actor: "x", reason: "" });
    const [r1, r2] = await Promise.all([
      a.command({ route: "users", key: "k", configured: shadow, action: "promote", plan, actor: "controller-a", reason: "", detail: {}, expectedVersion: 1 }),
      b.command({ route: "users", key: "k", configured: shadow, action: "promote", plan, actor: "controller-b", reason: "", detail: {}, expectedVersion: 1 }),
    ]);
    expect([r1.transition.changed, r2.transition.changed].filter(Boolean)).toHaveLength(1);
    expect((await b.controlRows())[0]?.percent).toBe(25);
  } finally {
    await a.close();
    await b.close();
  }
});

test("regression: tables dropped under running instances are created again, the stages last read put back, and operations go on", async () => {
  const schema = pgSchema();
  const a = new PostgresStore(PG_URL, schema, 2, 0);
  const b = new PostgresStore(PG_URL, schema, 2, 0);
  const dropped: string[][] = [];
  a.onDropped = (routes) => dropped.push(routes);
  b.onDropped = (routes) => dropped.push(routes);
  const admin = new SQL({ url: PG_URL, max: 1 });
  try {
    await a.apply(deltas("users", 10, 1));
    await a.command({ route: "users", key: "k", configured: shadow, action: "promote", plan, actor: "alice", reason: "" });
    expect(await a.controlRows()).toMatchObject([{ route: "users", stage: "canary", percent: 5, version: 1 }]);
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);

    // Both go on: writes and reads succeed (no FICUS_STORE_UNAVAILABLE), the stage is back.
    await Promise.all([a.apply(deltas("users", 3, 0)), b.apply(deltas("users", 2, 0))]);
    expect((await b.route("users")).counters.compared).toBe(5);
    expect(await b.controlRows()).toMatchObject([{ route: "users", stage: "canary", percent: 5, version: 2 }]);
    expect(dropped.flat()).toEqual(["users"]); // put back once, by the instance that had read it
    // Commands work on the new tables.
    const p = await b.command({ route: "users", key: "k", configured: shadow, action: "promote", plan, actor: "bob", reason: "" });
    expect(p.transition.to.percent).toBe(25);
  } finally {
    await admin.close();
    await a.close();
    await b.close();
  }
});

test("database URLs are shown without their password", () => {
  expect(redactUrl("postgres://ficus:s3cret@db:5432/x")).toBe("postgres://ficus:[redacted]@db:5432/x");
  expect(redactUrl("postgres://ficus@db/x")).toBe("postgres://ficus@db/x");
  expect(new PostgresStore("postgres://u:pw@127.0.0.1:1/x", "public", 1, 0).location).not.toContain("pw");
});
