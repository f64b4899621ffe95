/**
 * The metrics of rate limiting, registered once per process on the registry
 * of the Metrics instance (create one RateLimitMetrics per Metrics and keep
 * it across reloads: a registry refuses a second metric of the same name).
 */
import { Counter, Gauge, type Metrics } from "../observability/metrics.ts";

export type LimitResult = "admitted" | "limited" | "error";

export class RateLimitMetrics {
  readonly total: Counter<"route" | "limit" | "result">;
  readonly backendUp: Gauge;
  readonly evictions: Counter<"limit">;

  constructor(metrics: Metrics) {
    const registry = metrics.registry;
    this.total = new Counter(registry, {
      name: "ficus_ratelimit_total",
      help: "Rate-limit decisions by route, limit and result: admitted, limited (refused: 429; 503 for the concurrency cap, limit=\"concurrency\"), error (the Redis backend failed; the limit failed open or closed).",
      labelNames: ["route", "limit", "result"] as const,
    });
    this.backendUp = new Gauge(registry, {
      name: "ficus_ratelimit_backend_up",
      help: "1 when the Redis rate-limit backend answered its last call in time, 0 while it is down (limits fail open or closed); absent without a Redis backend.",
      aggregator: "min",
    });
    this.evictions = new Counter(registry, {
      name: "ficus_ratelimit_evictions_total",
      help: "Keys of a local limit forgotten while still counting because the limit's map was full (rate_limit.local.max_keys); such a key starts afresh.",
      labelNames: ["limit"] as const,
    });
  }

  /** Children bound to a route and limit, for the request path. */
  bind(route: string, limit: string): Record<LimitResult, { inc(value?: number): void }> {
    return {
      admitted: this.total.labels(route, limit, "admitted"),
      limited: this.total.labels(route, limit, "limited"),
      error: this.total.labels(route, limit, "error"),
    };
  }
}
