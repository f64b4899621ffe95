/** Quotas (keys, tool globs, GCRA through src/ratelimit's Limiter) and budgets (SQLite shared by processes, Redis, the UTC day, costs, the admin answer). */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Identity } from "../../../../src/auth/identity.ts";
import type { FicusConfig } from "../../../../src/config/schema.ts";
import type { GuardedCall } from "../../../../src/mcp/governance/guard.ts";
import { budgetsAdminHandler } from "../../../../src/mcp/governance/quota/admin.ts";
import { RedisBudgetStore, SqliteBudgetStore, utcDay } from "../../../../src/mcp/governance/quota/budget-store.ts";
import { compileKeyPart, keyOf, QuotaGuard, type QuotaGuardOptions } from "../../../../src/mcp/governance/quota/index.ts";
import { budgetSchema, quotaSchema } from "../../../../src/mcp/governance/quota/schema.ts";
import type { CatalogTool } from "../../../../src/mcp/registry/registry.ts";
import type { CallToolResult } from "../../../../src/mcp/types.ts";
import { tempDir } from "../../../helpers/processes.ts";
import { testRedis } from "../../../helpers/redis.ts";

function tool(name: string, upstreamName = name): CatalogTool {
  return { name, upstreamName, definition: { name, inputSchema: { type: "object" } }, fixed: undefined, entry: { source: { name: "shop" } as CatalogTool["entry"]["source"], curation: {} as CatalogTool["entry"]["curation"], timeout: 0 } };
}
const alice: Identity = { method: "jwt", subject: "alice", issuer: "i", scopes: [], roles: [], claims: { org: { id: "acme" }, n: 7 } };
const bob: Identity = { method: "jwt", subject: "bob", issuer: "i", scopes: [], roles: [], claims: { org: { id: "acme" } } };

function call(t: CatalogTool, identity: Identity | undefined, address = "10.0.0.1", endpoint = "mcp"): GuardedCall {
  return { caller: { identity, subject: identity?.subject ?? "", address, endpoint, era: "modern" }, tool: t, args: {}, requestId: "r", traceId: undefined, started: 0, retry: false, notes: {} };
}

const text = (r: CallToolResult | undefined): string => (r?.content ?? []).map((c) => String(c.text ?? "")).join("");

describe("keys", () => {
  const t = tool("get");
  const cases: { parts: string[]; c: GuardedCall; key: string }[] = [
    { parts: ["principal"], c: call(t, alice), key: "alice" },
    { parts: ["principal"], c: call(t, undefined, "10.9.9.9"), key: "anonymous@10.9.9.9" },
    { parts: ["principal", "tool"], c: call(t, alice), key: "alice\u0001get" },
    { parts: ["endpoint", "client_ip"], c: call(t, alice, "1.2.3.4", "agents"), key: "agents\u00011.2.3.4" },
    { parts: ["claim:org.id"], c: call(t, alice), key: "acme" },
    { parts: ["claim:n"], c: call(t, alice), key: "7" },
    { parts: ["claim:org.missing"], c: call(t, alice), key: "\u0002" },
    { parts: ["claim:org"], c: call(t, alice), key: "\u0002" }, // an object is not a key
  ];
  for (const k of cases) test(`${k.parts.join("+")} → ${JSON.stringify(k.key)}`, () => expect(keyOf(k.c, k.parts.map(compileKeyPart))).toBe(k.key));
});

function quotaGuard(quotas: unknown[], extra: Partial<QuotaGuardOptions> = {}, clock = { ms: 0 }): QuotaGuard {
  return new QuotaGuard({
    endpoint: "mcp",
    quotas: quotas.map((q) => quotaSchema.parse(q)),
    budget: undefined,
    rateLimit: undefined,
    cost: () => 1,
    redis: undefined,
    budgetStore: undefined,
    metrics: undefined,
    monotonic: () => clock.ms,
    ...extra,
  });
}

describe("quotas", () => {
  test("past the rate, a tool error names the quota and the tool, with the retry delay; time frees it", async () => {
    const clock = { ms: 1000 };
    const g = quotaGuard([{ name: "per-user", rate: "2/m" }], {}, clock);
    const t = tool("get");
    expect(await g.before(call(t, alice))).toBeUndefined();
    expect(await g.before(call(t, alice))).toBeUndefined();
    const c = call(t, alice);
    const r = await g.before(c);
    expect(r?.isError).toBe(true);
    expect(text(r)).toBe("rate limit per-user exceeded for get; retry after 30 s");
    expect(r?._meta?.["io.ficus/retry_after_ms"]).toBe(30_000);
    expect(c.notes.quota).toBe("per-user");
    // Another principal, and another tool (default key [principal, tool]), have their own buckets.
    expect(await g.before(call(t, bob))).toBeUndefined();
    expect(await g.before(call(tool("put"), alice))).toBeUndefined();
    clock.ms += 30_000;
    expect(await g.before(call(t, alice))).toBeUndefined();
    expect((await g.before(call(t, alice)))?.isError).toBe(true);
  });

  test("a quota applies only to the tools its globs match; burst lets calls arrive at once", async () => {
    const g = quotaGuard([{ name: "writes", rate: "1/h", burst: 2, tools: ["create_*", "delete_*"], key: ["principal"] }]);
    for (let i = 0; i < 5; i++) expect(await g.before(call(tool("get_order"), alice))).toBeUndefined();
    expect(await g.before(call(tool("create_order"), alice))).toBeUndefined();
    expect(await g.before(call(tool("delete_order"), alice))).toBeUndefined(); // same key: [principal]
    expect(text(await g.before(call(tool("create_order"), alice)))).toStartWith("rate limit writes exceeded for create_order; retry after ");
  });

  test("every quota that applies must admit; a refusal by one spends nothing of the others", async () => {
    const g = quotaGuard([
      { name: "tenant", rate: "3/m", key: ["claim:org.id"] },
      { name: "user", rate: "1/m", key: ["principal"] },
    ]);
    expect(await g.before(call(tool("a"), alice))).toBeUndefined();
    expect(text(await g.before(call(tool("a"), alice)))).toStartWith("rate limit user exceeded");
    expect(await g.before(call(tool("a"), bob))).toBeUndefined(); // tenant: 2 of 3 (alice's refused call was not counted)
    const third = call(tool("a"), { ...bob, subject: "carol" });
    expect(await g.before(third)).toBeUndefined(); // tenant: 3 of 3
    const fourth = call(tool("a"), { ...bob, subject: "dave" });
    expect(text(await g.before(fourth))).toStartWith("rate limit tenant exceeded");
    expect(fourth.notes.quota).toBe("tenant");
  });

  test("the schema: default key [principal, tool], default tools all; bad rates and key parts refused", () => {
    const q = quotaSchema.parse({ name: "q", rate: "100/m" });
    expect(q.key).toEqual(["principal", "tool"]);
    expect(q.tools).toEqual(["*"]);
    expect(q.rate).toEqual({ count: 100, periodMs: 60_000 });
    expect(quotaSchema.safeParse({ name: "q", rate: "lots" }).success).toBe(false);
    expect(quotaSchema.safeParse({ name: "q", rate: "1/s", key: ["header"] }).success).toBe(false);
    expect(budgetSchema.parse({ limit: 5 }).key).toBe("principal");
    expect(budgetSchema.safeParse({ limit: 5, key: "tool" }).success).toBe(false);
  });
});

describe("budgets (SQLite)", () => {
  const dir = tempDir("ficus-budget-");
  const path = join(dir, ".ficus", "b.db");
  const NOW = Date.UTC(2030, 0, 2, 23, 59, 0);

  test("spent per call by cost; past the limit a tool error states the reset (00:00 UTC); the next day starts afresh", async () => {
    const clock = { ms: NOW };
    const store = new SqliteBudgetStore(path, { now: clock.ms });
    const costs: Record<string, number> = { search: 3, free: 0 };
    const g = quotaGuard([], { budget: budgetSchema.parse({ limit: 7 }), budgetStore: store, cost: (t) => costs[t.name] ?? 1, now: () => clock.ms });
    expect(await g.before(call(tool("search"), alice))).toBeUndefined(); // 3
    expect(await g.before(call(tool("search"), alice))).toBeUndefined(); // 6
    const c = call(tool("search"), alice);
    const r = await g.before(c);
    expect(text(r)).toBe("budget exhausted: 6 of 7 units used today (UTC) and search costs 3; the budget resets at 2030-01-03T00:00:00.000Z");
    expect(r?._meta).toEqual({ "io.ficus/retry_after_ms": 60_000, "io.ficus/budget_reset": "2030-01-03T00:00:00.000Z" });
    expect(c.notes.budget).toBe("exhausted");
    expect(await g.before(call(tool("get"), alice))).toBeUndefined(); // 7: a cheaper tool still fits
    expect(await g.before(call(tool("free"), alice))).toBeUndefined(); // cost 0: never refused
    expect((await g.before(call(tool("get"), alice)))?.isError).toBe(true);
    expect(await g.before(call(tool("get"), bob))).toBeUndefined(); // bob's own budget
    clock.ms += 60_000; // midnight UTC
    expect(await g.before(call(tool("search"), alice))).toBeUndefined();
    store.close();
  });

  test("two processes' stores on one file share the count, and never pass the limit together", async () => {
    const shared = join(dir, "shared.db");
    const script = `
      import { SqliteBudgetStore } from ${JSON.stringify(join(import.meta.dir, "../../../../src/mcp/governance/quota/budget-store.ts"))};
      const s = new SqliteBudgetStore(${JSON.stringify(shared)});
      let ok = 0;
      for (let i = 0; i < 300; i++) if (s.spend("mcp", "alice", "2030-01-02", 1, 500).ok) ok++;
      console.log(ok);
    `;
    new SqliteBudgetStore(shared).close();
    const procs = [0, 1, 2].map(() => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe" }));
    const oks = await Promise.all(procs.map(async (p) => Number((await new Response(p.stdout).text()).trim())));
    expect(oks.reduce((a, b) => a + b, 0)).toBe(500);
    const s = new SqliteBudgetStore(shared);
    expect(s.used("mcp", "alice", "2030-01-02")).toBe(500);
    s.close();
  });

  test("a claim-keyed budget is shared by the claim's holders", async () => {
    const store = new SqliteBudgetStore(join(dir, "claims.db"), { now: NOW });
    const g = quotaGuard([], { budget: budgetSchema.parse({ limit: 2, key: "claim:org.id" }), budgetStore: store, now: () => NOW });
    expect(await g.before(call(tool("a"), alice))).toBeUndefined();
    expect(await g.before(call(tool("a"), bob))).toBeUndefined();
    expect((await g.before(call(tool("a"), alice)))?.isError).toBe(true);
    expect(store.used("mcp", "acme", utcDay(NOW).day)).toBe(2);
    store.close();
  });

  test("GET /admin/mcp/budgets answers from the same file", async () => {
    const adminDir = tempDir("ficus-budget-admin-");
    const store = new SqliteBudgetStore(join(adminDir, ".ficus/mcp-budgets.db"), { now: NOW });
    const day = utcDay(NOW).day;
    store.spend("agents", "alice", day, 4, 10);
    store.spend("agents", "bob", day, 9, 10);
    store.close();
    const config = { rate_limit: {}, routes: [{ name: "agents", mcp: { budget: budgetSchema.parse({ limit: 10 }) } }, { name: "plain" }] } as unknown as FicusConfig;
    const one = await budgetsAdminHandler(config, adminDir, "alice", NOW);
    expect(one).toEqual({ status: 200, body: { enabled: true, backend: "sqlite", day: "2030-01-02", resets_at: "2030-01-03T00:00:00.000Z", budgets: [{ endpoint: "agents", key: "alice", used: 4, limit: 10, remaining: 6 }] } });
    const all = await budgetsAdminHandler(config, adminDir, undefined, NOW);
    expect((all.body.budgets as { key: string }[]).map((b) => b.key)).toEqual(["bob", "alice"]);
    const none = await budgetsAdminHandler({ rate_limit: {}, routes: [] } as unknown as FicusConfig, adminDir, "alice", NOW);
    expect(none.body.enabled).toBe(false);
  });
});

describe("budgets (Redis)", async () => {
  const redis = await testRedis("the Redis budget tests");
  afterAll(() => redis?.close());
  test.skipIf(redis === undefined)("INCRBY within the limit, expiring at the day's end; the key holds no raw value", async () => {
    const prefix = `ficus:test:${crypto.randomUUID()}:`;
    const store = new RedisBudgetStore({ url: "redis://127.0.0.1:6379", prefix, timeoutMs: 1000, retryMs: 1000 });
    const end = Date.now() + 60_000;
    expect(await store.spend("mcp", "alice", "2030-01-02", 3, 5, end)).toEqual({ ok: true, used: 3 });
    expect(await store.spend("mcp", "alice", "2030-01-02", 3, 5, end)).toEqual({ ok: false, used: 3 });
    expect(await store.spend("mcp", "alice", "2030-01-02", 2, 5, end)).toEqual({ ok: true, used: 5 });
    expect(await store.used("mcp", "alice", "2030-01-02")).toBe(5);
    const key = store.redisKey("mcp", "alice", "2030-01-02");
    expect(key).not.toContain("alice");
    const ttl = Number(await redis?.send("PTTL", [key]));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await redis?.send("DEL", [key]);
    store.close();
  });

  test("an unreachable Redis fails open or closed as on_backend_error says", async () => {
    const store = new RedisBudgetStore({ url: "redis://127.0.0.1:1", prefix: "x:", timeoutMs: 200, retryMs: 60_000 });
    const open = quotaGuard([], { budget: budgetSchema.parse({ limit: 5 }), budgetStore: store });
    expect(await open.before(call(tool("a"), alice))).toBeUndefined();
    const closed = quotaGuard([], { budget: budgetSchema.parse({ limit: 5, on_backend_error: "closed" }), budgetStore: store });
    const c = call(tool("a"), alice);
    expect(text(await closed.before(c))).toBe("the budget could not be checked (its store is unavailable); a was not called, try again later");
    expect(c.notes.budget).toBe("error");
    store.close();
  });
});
