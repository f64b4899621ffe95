/**
 * The metrics of rate limiting, registered once per process on the registry
 * of the Metrics instance (create one RateLimitMetrics per Metrics and keep
 * it across reloads: a registry refuses a second metric of the same name).
 */
import { Counter, Gauge, type Metrics } from "../observability/metrics.ts";

export type LimitResult = "admitted" | "limited" | "error";

/** A count kept as a plain number on the request path, moved into the counter at scrape time. */
class Tally {
  n = 0;
  constructor(readonly labels: { readonly route: string; readonly limit: string; readonly result: LimitResult }) {}
  inc(): void {
    this.n++;
  }
}

export class RateLimitMetrics {
  readonly total: Counter<"route" | "limit" | "result">;
  readonly backendUp: Gauge;
  readonly evictions: Counter<"limit">;
  /** Bound tallies by route, limit and result (kept across reloads: the same names share them). */
  private readonly tallies = new Map<string, Tally>();

  constructor(metrics: Metrics) {
    const registry = metrics.registry;
    this.total = new Counter(registry, {
      name: "ficus_ratelimit_total",
      help: "Rate-limit decisions by route, limit and result: admitted, limited (refused: 429; 503 for the concurrency cap, limit=\"concurrency\"), error (the Redis backend failed; the limit failed open or closed).",
      labelNames: ["route", "limit", "result"] as const,
    });
    this.backendUp = new Gauge(registry, {
      name: "ficus_ratelimit_backend_up",
      help: "0 while the Redis rate-limit backend is down (its last call failed or missed its deadline; Redis limits fail open or closed), else 1 (also when no Redis backend is configured).",
      aggregator: "min",
    });
    this.evictions = new Counter(registry, {
      name: "ficus_ratelimit_evictions_total",
      help: "Keys of a local limit forgotten while still counting because the limit's map was full (rate_limit.local.max_keys); such a key starts afresh.",
      labelNames: ["limit"] as const,
    });
    const total = this.total;
    const tallies = this.tallies;
    total.collect = () => {
      for (const t of tallies.values()) {
        if (t.n === 0) continue;
        total.inc(t.labels, t.n);
        t.n = 0;
      }
    };
  }

  /** Counts bound to a route and limit, for the request path: a plain increment, published at scrape time. */
  bind(route: string, limit: string): Record<LimitResult, { inc(): void }> {
    return { admitted: this.tally(route, limit, "admitted"), limited: this.tally(route, limit, "limited"), error: this.tally(route, limit, "error") };
  }

  private tally(route: string, limit: string, result: LimitResult): Tally {
    const k = `${route}\u0000${limit}\u0000${result}`;
    let t = this.tallies.get(k);
    if (t === undefined) {
      t = new Tally({ route, limit, result });
      this.tallies.set(k, t);
    }
    return t;
  }
}
