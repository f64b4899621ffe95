/**
 * The metrics of quotas and budgets, registered once per Metrics (kept
 * across reloads): ficus_mcp_quota_total{endpoint,quota,result},
 * ficus_mcp_budget_total{endpoint,result} and
 * ficus_mcp_budget_units_total{endpoint}. Counted as plain numbers on the
 * call path, moved into the counters when /metrics is scraped.
 */
import { Counter, type Metrics } from "../../../observability/metrics.ts";

export type QuotaResult = "admitted" | "limited" | "error";
export type BudgetResult = "spent" | "exhausted" | "error";

class Tally {
  n = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(by = 1): void {
    this.n += by;
  }
}

export class QuotaMetrics {
  private readonly tallies = new Map<string, { counter: Counter; tally: Tally }>();
  readonly quota: Counter<"endpoint" | "quota" | "result">;
  readonly budget: Counter<"endpoint" | "result">;
  readonly units: Counter<"endpoint">;

  constructor(metrics: Metrics) {
    const registry = metrics.registry;
    this.quota = new Counter(registry, {
      name: "ficus_mcp_quota_total",
      help: "Quota decisions on MCP tool calls, by endpoint, quota and result: admitted, limited (a tool error with the retry delay), error (the Redis backend failed; the quota failed open or closed).",
      labelNames: ["endpoint", "quota", "result"] as const,
    });
    this.budget = new Counter(registry, {
      name: "ficus_mcp_budget_total",
      help: "Budget decisions on MCP tool calls, by endpoint and result: spent (the call's cost was counted), exhausted (a tool error stating the reset), error (the store failed; the budget failed open or closed).",
      labelNames: ["endpoint", "result"] as const,
    });
    this.units = new Counter(registry, {
      name: "ficus_mcp_budget_units_total",
      help: "Cost units spent from MCP budgets, by endpoint.",
      labelNames: ["endpoint"] as const,
    });
    const publish = (): void => {
      for (const { counter, tally } of this.tallies.values()) {
        if (tally.n === 0) continue;
        counter.inc(tally.labels, tally.n);
        tally.n = 0;
      }
    };
    this.quota.collect = publish;
    this.budget.collect = publish;
    this.units.collect = publish;
  }

  private tally(counter: Counter, labels: Record<string, string>): Tally {
    const k = `${counter.name}\u0000${Object.values(labels).join("\u0000")}`;
    let t = this.tallies.get(k);
    if (t === undefined) {
      t = { counter, tally: new Tally(labels) };
      this.tallies.set(k, t);
    }
    return t.tally;
  }

  /** Counts of one quota of an endpoint (the shape src/ratelimit's Limiter binds). */
  bindQuota(endpoint: string, quota: string): Record<QuotaResult, { inc(): void }> {
    return {
      admitted: this.tally(this.quota, { endpoint, quota, result: "admitted" }),
      limited: this.tally(this.quota, { endpoint, quota, result: "limited" }),
      error: this.tally(this.quota, { endpoint, quota, result: "error" }),
    };
  }

  bindBudget(endpoint: string): Record<BudgetResult, { inc(): void }> & { units: { inc(by: number): void } } {
    return {
      spent: this.tally(this.budget, { endpoint, result: "spent" }),
      exhausted: this.tally(this.budget, { endpoint, result: "exhausted" }),
      error: this.tally(this.budget, { endpoint, result: "error" }),
      units: this.tally(this.units, { endpoint }),
    };
  }
}

const PER_METRICS = new WeakMap<Metrics, QuotaMetrics>();

export function quotaMetrics(metrics: Metrics): QuotaMetrics {
  let m = PER_METRICS.get(metrics);
  if (m === undefined) {
    m = new QuotaMetrics(metrics);
    PER_METRICS.set(metrics, m);
  }
  return m;
}
