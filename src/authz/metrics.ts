/**
 * The authorization metrics, one set per process (per Metrics instance, kept
 * across reloads): ficus_authz_decisions_total{route,result,dry_run},
 * ficus_policy_eval_seconds{route} and ficus_decision_log_dropped_total.
 * Decisions are counted as plain numbers per route and moved into the
 * counter when /metrics is scraped (no label key built per request).
 */
import { Counter, Histogram, type HistogramChild, type Metrics } from "../observability/metrics.ts";

/** Rego decisions take microseconds; the budget stops them at milliseconds. */
const EVAL_BUCKETS = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

export type DecisionResult = "allow" | "deny" | "error";

/** Index of a count: result (allow 0, deny 1, error 2) + 3 when dry-run. */
const SLOTS: readonly (readonly [DecisionResult, "true" | "false"])[] = [
  ["allow", "false"],
  ["deny", "false"],
  ["error", "false"],
  ["allow", "true"],
  ["deny", "true"],
  ["error", "true"],
];

/** One route's counts and its bound histogram child. */
export class RouteAuthzMetrics {
  readonly counts = [0, 0, 0, 0, 0, 0];
  readonly eval: HistogramChild;
  constructor(
    readonly route: string,
    histogram: Histogram<"route">,
  ) {
    this.eval = histogram.labels(route);
  }

  count(result: DecisionResult, dryRun: boolean): void {
    const i = (result === "allow" ? 0 : result === "deny" ? 1 : 2) + (dryRun ? 3 : 0);
    (this.counts[i] as number)++;
  }
}

export class AuthzMetrics {
  readonly decisions: Counter<"route" | "result" | "dry_run">;
  readonly evalSeconds: Histogram<"route">;
  readonly logDropped: Counter;
  private readonly routes = new Map<string, RouteAuthzMetrics>();

  constructor(metrics: Metrics) {
    const registry = metrics.registry;
    this.decisions = new Counter(registry, {
      name: "ficus_authz_decisions_total",
      help: "Authorization decisions, by route, result (allow, deny, error: the policy failed) and dry_run (true: logged and counted, never enforced).",
      labelNames: ["route", "result", "dry_run"] as const,
    });
    this.evalSeconds = new Histogram(registry, {
      name: "ficus_policy_eval_seconds",
      help: "Time to evaluate a route's Rego policy for one request (building its input included), by route.",
      labelNames: ["route"] as const,
      buckets: EVAL_BUCKETS,
    });
    this.logDropped = new Counter(registry, {
      name: "ficus_decision_log_dropped_total",
      help: "Decision log lines dropped because the output could not keep up (decision_log.max_buffer was full).",
    });
    this.decisions.collect = () => this.publish();
  }

  /** The metrics of the route with this name (the same object after a reload). */
  forRoute(route: string): RouteAuthzMetrics {
    let m = this.routes.get(route);
    if (m === undefined) {
      m = new RouteAuthzMetrics(route, this.evalSeconds);
      this.routes.set(route, m);
    }
    return m;
  }

  private publish(): void {
    for (const m of this.routes.values()) {
      for (let i = 0; i < 6; i++) {
        const n = m.counts[i] as number;
        if (n === 0) continue;
        const [result, dryRun] = SLOTS[i] as readonly [DecisionResult, "true" | "false"];
        this.decisions.inc({ route: m.route, result, dry_run: dryRun }, n);
        m.counts[i] = 0;
      }
    }
  }
}

const PER_METRICS = new WeakMap<Metrics, AuthzMetrics>();

/** The authorization metrics registered on `metrics` (created on first use: a registry takes each name once). */
export function authzMetrics(metrics: Metrics): AuthzMetrics {
  let m = PER_METRICS.get(metrics);
  if (m === undefined) {
    m = new AuthzMetrics(metrics);
    PER_METRICS.set(metrics, m);
  }
  return m;
}
