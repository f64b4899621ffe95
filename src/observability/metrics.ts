/**
 * Prometheus metrics (prom-client), `ficus_` names, documented in
 * docs/metrics.md. Each process has its own registry; with several workers
 * the supervisor merges them (AggregatorRegistry) when /metrics is scraped.
 * Hot-path callers hold pre-bound label children (see RouteMetrics).
 */
import client from "prom-client";

export const VERSION = "0.1.0";

/** Request duration buckets in seconds: sub-millisecond resolution for a proxy. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  readonly registry = new client.Registry();
  readonly requests = new client.Counter({
    name: "ficus_requests_total",
    help: "Requests handled, by route, method and status class (route is \"(none)\" when no route matched).",
    labelNames: ["route", "method", "status_class"] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new client.Histogram({
    name: "ficus_request_duration_seconds",
    help: "Time from receiving the request to the end of the response body, by route.",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new client.Histogram({
    name: "ficus_upstream_duration_seconds",
    help: "Time from sending the request upstream to receiving the response headers, by route.",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  /** Requests being handled; read at scrape time (the data plane keeps the number, see setInFlightSource). */
  readonly inFlight = new client.Gauge({
    name: "ficus_requests_in_flight",
    help: "Requests being handled right now.",
    registers: [this.registry],
  });
  /** One RouteMetrics per route name, kept across reloads so counts are never lost. */
  private readonly routeCounts = new Map<string, RouteMetrics>();
  readonly upstreamErrors = new client.Counter({
    name: "ficus_upstream_errors_total",
    help: "Upstream attempts that failed, by route and error code.",
    labelNames: ["route", "code"] as const,
    registers: [this.registry],
  });
  readonly retries = new client.Counter({
    name: "ficus_retries_total",
    help: "Retries, by route and outcome (attempted, budget_exhausted).",
    labelNames: ["route", "outcome"] as const,
    registers: [this.registry],
  });
  readonly configReloads = new client.Counter({
    name: "ficus_config_reloads_total",
    help: "Configuration reloads, by result: success, failure (invalid or empty; rejected) or refused (would remove too many routes).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly ejections = new client.Counter({
    name: "ficus_endpoint_ejections_total",
    help: "Endpoints ejected by passive health checking, by upstream and endpoint.",
    labelNames: ["upstream", "endpoint"] as const,
    registers: [this.registry],
  });
  readonly ejected = new client.Gauge({
    name: "ficus_endpoints_ejected",
    help: "Endpoints currently ejected, by upstream.",
    labelNames: ["upstream"] as const,
    registers: [this.registry],
  });
  readonly websockets = new client.Gauge({
    name: "ficus_websocket_connections",
    help: "Proxied WebSocket connections open right now.",
    registers: [this.registry],
  });
  readonly stage = new client.Gauge({
    name: "ficus_route_stage",
    aggregator: "max",
    help: "1 for the current migration stage of each route with a candidate.",
    labelNames: ["route", "stage"] as const,
    registers: [this.registry],
  });
  readonly canaryPercent = new client.Gauge({
    name: "ficus_canary_percent",
    aggregator: "max",
    help: "Share of requests the candidate serves, by route (0 at legacy/shadow, 100 at candidate).",
    labelNames: ["route"] as const,
    registers: [this.registry],
  });
  readonly served = new client.Counter({
    name: "ficus_served_total",
    help: "Requests of routes with a candidate, by route and the side that served them.",
    labelNames: ["route", "side"] as const,
    registers: [this.registry],
  });
  readonly gateValue = new client.Gauge({
    name: "ficus_gate_value",
    help: "Current value of each gate of a route in shadow or canary (rates, latency ratios), as last evaluated.",
    labelNames: ["route", "gate"] as const,
    aggregator: "max",
    registers: [this.registry],
  });
  readonly gateState = new client.Gauge({
    name: "ficus_gate_state",
    help: "1 for the current state (pass, fail, pending) of each gate of a route, as last evaluated.",
    labelNames: ["route", "gate", "state"] as const,
    aggregator: "max",
    registers: [this.registry],
  });
  readonly recordExchanges = new client.Counter({
    name: "ficus_record_exchanges_total",
    help: "Exchanges taken for recording by route and result: recorded (written), dropped (the writer lagged or failed), skipped (body too large, streamed, failed, served by the candidate).",
    labelNames: ["route", "result"] as const,
    registers: [this.registry],
  });
  readonly storeUp = new client.Gauge({
    name: "ficus_store_up",
    help: "1 when the migration store could be read at the last attempt and results reach it; 0 when not (unreadable, writes failing, file deleted and not back yet, or results kept in memory).",
    aggregator: "min",
    registers: [this.registry],
  });
  readonly storeErrors = new client.Counter({
    name: "ficus_store_errors_total",
    help: "Problems of the results store, by reason: deleted (the SQLite file deleted or replaced while in use), restore_failed, failed SQLite flushes kept for a retry (full, ioerr, readonly, busy), dropped (PostgreSQL tables dropped while in use).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly storeDropped = new client.Counter({
    name: "ficus_store_dropped_total",
    help: "Entries of results kept for a retry (while the store fails) dropped past the cap, oldest first, by kind (signature, path).",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly transitions = new client.Counter({
    name: "ficus_migration_transitions_total",
    help: "Migration stage transitions made, by route, action (promote, pause, resume, rollback, rollback_all) and actor.",
    labelNames: ["route", "action", "actor"] as const,
    registers: [this.registry],
  });
  readonly shadowCompared = new client.Counter({
    name: "ficus_shadow_compared_total",
    help: "Shadowed requests whose legacy and candidate answers were compared, by route.",
    labelNames: ["route"] as const,
    registers: [this.registry],
  });
  readonly shadowMismatched = new client.Counter({
    name: "ficus_shadow_mismatched_total",
    help: "Compared requests whose answers differ, by route and highest severity of the differences.",
    labelNames: ["route", "severity"] as const,
    registers: [this.registry],
  });
  readonly shadowNoise = new client.Counter({
    name: "ficus_shadow_noise_total",
    help: "Compared requests whose answers differed only on noise paths, by route.",
    labelNames: ["route"] as const,
    registers: [this.registry],
  });
  readonly shadowSkipped = new client.Counter({
    name: "ficus_shadow_skipped_total",
    help: "Requests of a shadow-stage route not mirrored or not compared, by route and reason.",
    labelNames: ["route", "reason"] as const,
    registers: [this.registry],
  });
  readonly shadowCandidateErrors = new client.Counter({
    name: "ficus_shadow_candidate_errors_total",
    help: "Mirrored requests the candidate did not answer, by route and kind (error, timeout).",
    labelNames: ["route", "kind"] as const,
    registers: [this.registry],
  });
  readonly shadowCandidateDuration = new client.Histogram({
    name: "ficus_shadow_candidate_duration_seconds",
    help: "Candidate response time (to the end of the body) for mirrored requests, by route.",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly shadowStoreErrors = new client.Counter({
    name: "ficus_shadow_store_errors_total",
    help: "Failed writes of shadow results to the store (results are then kept in memory).",
    registers: [this.registry],
  });
  readonly buildInfo = new client.Gauge({
    name: "ficus_build_info",
    aggregator: "max",
    help: "Always 1; labels carry the version and runtime.",
    labelNames: ["version", "runtime"] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.buildInfo.set({ version: VERSION, runtime: `bun-${Bun.version}` }, 1);
    // Up until a store says otherwise: with several workers the supervisor's value is merged with "min".
    this.storeUp.set(1);
    // Per-request counts live in plain numbers on RouteMetrics (no label hashing per request);
    // they are copied into the prom-client counter when the registry is collected.
    const routeCounts = this.routeCounts;
    const requests = this.requests;
    (requests as unknown as { collect: () => void }).collect = () => {
      for (const rm of routeCounts.values()) rm.publish(requests);
    };
    if (options.defaultMetrics !== false) {
      client.collectDefaultMetrics({ register: this.registry, prefix: "ficus_" });
      // These default gauges end in _total, which Prometheus reserves for counters (promtool rejects them).
      for (const name of ["active_handles_total", "active_requests_total", "active_resources_total"]) {
        this.registry.removeSingleMetric(`ficus_nodejs_${name}`);
      }
    }
  }

  /** Reads the in-flight count from the data plane at scrape time. */
  setInFlightSource(read: () => number): void {
    (this.inFlight as unknown as { collect: () => void }).collect = () => this.inFlight.set(read());
  }

  /** The metrics of the route with this name (the same object after a reload). */
  forRoute(name: string): RouteMetrics {
    let rm = this.routeCounts.get(name);
    if (!rm) {
      rm = new RouteMetrics(this, name);
      this.routeCounts.set(name, rm);
    }
    return rm;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  json(): Promise<client.MetricObjectWithValues<client.MetricValue<string>>[]> {
    return this.registry.getMetricsAsJSON();
  }
}

/** Merges the registries of several workers into one exposition. */
export async function aggregateMetrics(parts: client.MetricObjectWithValues<client.MetricValue<string>>[][]): Promise<string> {
  // Gauges that describe the whole process group are summed too, which is right for in-flight and ejected counts.
  return client.AggregatorRegistry.aggregate(parts).metrics();
}

export const METRICS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;

const STATUS_CLASS = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;


/**
 * A route's metrics: duration histograms bound to the route once, and request
 * counts kept as plain numbers by method and status class, published to
 * ficus_requests_total at scrape time. Counts carry over a reload because a
 * route of the same name shares the same prom-client series.
 */
export class RouteMetrics {
  readonly duration: client.Histogram.Internal<"route">;
  readonly upstream: client.Histogram.Internal<"route">;
  /** Unpublished counts by "METHOD status_class". */
  private counts = new Map<string, number>();

  constructor(
    metrics: Metrics,
    readonly route: string,
  ) {
    this.duration = metrics.requestDuration.labels(route);
    this.upstream = metrics.upstreamDuration.labels(route);
  }

  count(method: string, status: number): void {
    const key = `${method} ${STATUS_CLASS[Math.floor(status / 100) - 1] ?? "5xx"}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Moves the counts accumulated since the last scrape into the counter. */
  publish(counter: client.Counter<"route" | "method" | "status_class">): void {
    if (this.counts.size === 0) return;
    const counts = this.counts;
    this.counts = new Map();
    for (const [key, n] of counts) {
      const sp = key.indexOf(" ");
      counter.inc({ route: this.route, method: key.slice(0, sp), status_class: key.slice(sp + 1) }, n);
    }
  }
}
