/**
 * GET /admin/mcp/budgets?principal=KEY: what each budgeted MCP endpoint's
 * key has spent today (UTC), from the same store the calls count in (the
 * SQLite file, or Redis). Without a principal, the SQLite backend lists
 * today's heaviest keys (up to 1000); Redis keys are hashed, so Redis needs
 * the principal.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { FicusConfig } from "../../../config/schema.ts";
import { RedisBudgetStore, SqliteBudgetStore, utcDay } from "./budget-store.ts";

export interface AdminAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface Row {
  endpoint: string;
  key: string;
  used: number;
  limit: number;
  remaining: number;
}

const MAX_ROWS = 1000;

/** The answer of GET /admin/mcp/budgets (status and JSON body). `principal` is the budget key (a subject, or a claim's value). */
export async function budgetsAdminHandler(config: FicusConfig, configDir: string, principal: string | undefined, now: number = Date.now()): Promise<AdminAnswer> {
  const budgeted = config.routes.filter((r) => r.mcp?.budget !== undefined).map((r) => ({ endpoint: r.name, budget: r.mcp?.budget as NonNullable<NonNullable<typeof r.mcp>["budget"]> }));
  const { day, endMs } = utcDay(now);
  const base = { day, resets_at: new Date(endMs).toISOString() };
  if (budgeted.length === 0) return { status: 200, body: { enabled: false, ...base, budgets: [] } };
  const p = principal === "" ? undefined : principal;
  const rows: Row[] = [];
  const redis = config.rate_limit?.redis;
  if (redis !== undefined) {
    if (p === undefined) return { status: 400, body: { error: { code: "FICUS_BAD_REQUEST", message: "budgets are counted in Redis under hashed keys: give ?principal=<subject or claim value>", request_id: "" } } };
    const store = new RedisBudgetStore({ url: redis.url, prefix: redis.key_prefix, timeoutMs: Math.max(redis.timeout, 1000), retryMs: redis.retry });
    try {
      for (const b of budgeted) {
        const used = await store.used(b.endpoint, p, day);
        rows.push({ endpoint: b.endpoint, key: p, used, limit: b.budget.limit, remaining: Math.max(0, b.budget.limit - used) });
      }
    } catch (err) {
      return { status: 503, body: { error: { code: "FICUS_RATE_LIMIT_UNAVAILABLE", message: `the budget store (Redis) did not answer: ${err instanceof Error ? err.message : String(err)}`, request_id: "" } } };
    } finally {
      store.close();
    }
    return { status: 200, body: { enabled: true, backend: "redis", ...base, budgets: rows } };
  }
  const byPath = new Map<string, typeof budgeted>();
  for (const b of budgeted) {
    const path = resolve(configDir, b.budget.store);
    byPath.set(path, [...(byPath.get(path) ?? []), b]);
  }
  for (const [path, list] of byPath) {
    if (!existsSync(path)) {
      if (p !== undefined) for (const b of list) rows.push({ endpoint: b.endpoint, key: p, used: 0, limit: b.budget.limit, remaining: b.budget.limit });
      continue;
    }
    const store = new SqliteBudgetStore(path, { readonly: true });
    try {
      const limits = new Map(list.map((b) => [b.endpoint, b.budget.limit]));
      if (p !== undefined) {
        for (const b of list) {
          const used = store.used(b.endpoint, p, day);
          rows.push({ endpoint: b.endpoint, key: p, used, limit: b.budget.limit, remaining: Math.max(0, b.budget.limit - used) });
        }
      } else {
        for (const r of store.day(day, MAX_ROWS)) {
          const limit = limits.get(r.endpoint);
          if (limit === undefined) continue;
          rows.push({ endpoint: r.endpoint, key: r.key, used: r.used, limit, remaining: Math.max(0, limit - r.used) });
        }
      }
    } finally {
      store.close();
    }
  }
  return { status: 200, body: { enabled: true, backend: "sqlite", ...base, budgets: rows } };
}
