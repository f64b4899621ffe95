/**
 * Prometheus metrics, `ficus_` names, documented in docs/observability.md.
 *
 * Metrics stay cheap: each process keeps its own as plain numbers (a map of
 * series per metric, bucket counts in an array), updated on the request path
 * without prom-client, and published only when /metrics is scraped: as the
 * text exposition format, or as prom-client's JSON form, which the supervisor
 * merges from its workers. prom-client is loaded then, and only for what it
 * is for: the default process metrics (ficus_process_*, ficus_nodejs_*) and
 * merging several processes' metrics (AggregatorRegistry). A data-plane
 * process therefore starts without it (see docs/architecture.md, "What the
 * data-plane process loads"). Hot-path callers hold pre-bound label children
 * (see RouteMetrics).
 */
import type { Registry as PromRegistry } from "prom-client";
import { VERSION } from "../core/version.ts";

export { VERSION };

/** Request duration buckets in seconds: sub-millisecond resolution for a proxy. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The content type of the text exposition format (what prom-client's Registry.PROMETHEUS_CONTENT_TYPE says). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type LabelValue = string | number;
/** Label values by name; a label left out is left out of the series. */
export type LabelValues<L extends string> = Partial<Record<L, LabelValue>>;
/** How the supervisor merges one metric of several processes (prom-client's aggregators). */
export type Aggregator = "sum" | "first" | "min" | "max" | "average" | "omit";

/** One sample, in prom-client's JSON form (Registry.getMetricsAsJSON), which its AggregatorRegistry merges. */
export interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, LabelValue>>;
  /** Set for a histogram's samples: NAME_bucket, NAME_sum, NAME_count. */
  readonly metricName?: string;
}

/** One metric in prom-client's JSON form. */
export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values: readonly MetricValue[];
  readonly aggregator: Aggregator;
}

interface MetricOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly aggregator?: Aggregator;
}

/** The metrics of one process, in registration order (the order of the exposition). */
export class Registry {
  private readonly metrics: Metric<string>[] = [];

  register(metric: Metric<string>): void {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`A metric with the name ${metric.name} has already been registered.`);
    this.metrics.push(metric);
  }

  /** Every metric's current values (each metric's collect hook runs first). */
  json(): MetricJson[] {
    return this.metrics.map((m) => {
      m.collect?.();
      return m.toJson();
    });
  }
}

abstract class Metric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator: Aggregator;
  abstract readonly type: "counter" | "gauge" | "histogram";
  /** Runs before the values are read at a scrape: fills in values kept elsewhere (request counts, in-flight). */
  collect: (() => void) | undefined;

  constructor(registry: Registry, o: MetricOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? [];
    this.aggregator = o.aggregator ?? "sum";
    registry.register(this as unknown as Metric<string>);
  }

  /** The series key: label values in labelNames order (a label left out differs from an empty one). */
  protected key(labels: LabelValues<L>): string {
    let k = "";
    for (const n of this.labelNames) {
      const v = labels[n];
      k += v === undefined ? "\u0001\u0000" : `${v}\u0000`;
    }
    return k;
  }

  /** The labels object of a bound child: values given in labelNames order. */
  protected named(values: readonly LabelValue[]): LabelValues<L> {
    const labels: LabelValues<L> = {};
    this.labelNames.forEach((n, i) => {
      if (values[i] !== undefined) labels[n] = values[i];
    });
    return labels;
  }

  abstract toJson(): MetricJson;
}

interface Series {
  readonly labels: Record<string, LabelValue>;
  value: number;
}

/** A counter or a gauge: one number per series. */
abstract class ValueMetric<L extends string> extends Metric<L> {
  protected series = new Map<string, Series>();

  constructor(registry: Registry, o: MetricOptions<L>) {
    super(registry, o);
    this.reset();
  }

  /** Forgets every series (a metric without labels goes back to 0). */
  reset(): void {
    this.series = new Map();
    if (this.labelNames.length === 0) this.series.set("", { labels: {}, value: 0 });
  }

  protected at(labels: LabelValues<L>): Series {
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels: { ...(labels as Record<string, LabelValue>) }, value: 0 };
      this.series.set(k, s);
    }
    return s;
  }

  toJson(): MetricJson {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) values.push({ value: s.value, labels: s.labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

function checkedValue(v: number): number {
  if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`);
  return v;
}

/** A counter (prom-client's API): inc(labels?, by = 1). */
export class Counter<L extends string = string> extends ValueMetric<L> {
  readonly type = "counter";

  inc(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v] = typeof labels === "object" ? [labels, value ?? 1] : [{} as LabelValues<L>, labels ?? 1];
    if (checkedValue(v) < 0) throw new Error("It is not possible to decrease a counter");
    this.at(l).value += v;
  }

  /** A child bound to these label values (in labelNames order). */
  labels(...values: LabelValue[]): { inc(value?: number): void } {
    const l = this.named(values);
    return { inc: (value?: number) => this.inc(l, value) };
  }
}

/** A gauge (prom-client's API): set, inc, dec, reset. */
export class Gauge<L extends string = string> extends ValueMetric<L> {
  readonly type = "gauge";

  set(labels: LabelValues<L> | number, value?: number): void {
    if (typeof labels === "number") this.at({}).value = checkedValue(labels);
    else this.at(labels).value = checkedValue(value as number);
  }

  inc(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v] = typeof labels === "object" ? [labels, value ?? 1] : [{} as LabelValues<L>, labels ?? 1];
    this.at(l).value += checkedValue(v);
  }

  dec(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v] = typeof labels === "object" ? [labels, value ?? 1] : [{} as LabelValues<L>, labels ?? 1];
    this.at(l).value -= checkedValue(v);
  }

  labels(...values: LabelValue[]): { set(value: number): void; inc(value?: number): void; dec(value?: number): void } {
    const l = this.named(values);
    return { set: (v) => this.set(l, v), inc: (v) => this.inc(l, v), dec: (v) => this.dec(l, v) };
  }
}

interface HistogramSeries {
  readonly labels: Record<string, LabelValue>;
  /** Observations per bucket (not cumulative), the last one past every bound (+Inf only). */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A histogram child bound to its label values: what the request path holds. */
export interface HistogramChild {
  observe(value: number): void;
  /** Starts a timer; the function returned observes the seconds elapsed and returns them. */
  startTimer(): () => number;
}

/** A histogram with fixed buckets (prom-client's API): observe(labels?, value), labels(...) for a bound child. */
export class Histogram<L extends string = string> extends Metric<L> {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  private series = new Map<string, HistogramSeries>();
  /** Bumped by reset(), so bound children stop writing into series that were dropped. */
  private generation = 0;

  constructor(registry: Registry, o: MetricOptions<L> & { readonly buckets: readonly number[] }) {
    super(registry, o);
    this.buckets = [...o.buckets].sort((a, b) => a - b);
    this.reset();
  }

  reset(): void {
    this.series = new Map();
    this.generation++;
    if (this.labelNames.length === 0) this.at({});
  }

  private at(labels: LabelValues<L>): HistogramSeries {
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels: { ...(labels as Record<string, LabelValue>) }, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    return s;
  }

  private record(s: HistogramSeries, value: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    (s.counts[i] as number)++;
    s.sum += value;
    s.count++;
  }

  observe(labels: LabelValues<L> | number, value?: number): void {
    const [l, v] = typeof labels === "number" ? [{} as LabelValues<L>, labels] : [labels, value as number];
    this.record(this.at(l), checkedValue(v));
  }

  /** A child bound to these label values (in labelNames order); its series appears with its first observation. */
  labels(...values: LabelValue[]): HistogramChild {
    const l = this.named(values);
    let series: HistogramSeries | undefined;
    let generation = -1;
    const observe = (value: number) => {
      if (series === undefined || generation !== this.generation) {
        series = this.at(l);
        generation = this.generation;
      }
      this.record(series, checkedValue(value));
    };
    return {
      observe,
      startTimer: () => {
        const start = performance.now();
        return () => {
          const seconds = (performance.now() - start) / 1000;
          observe(seconds);
          return seconds;
        };
      },
    };
  }

  toJson(): MetricJson {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += s.counts[i] as number;
        values.push({ value: acc, labels: { le, ...s.labels }, metricName: bucket });
      });
      values.push({ value: s.count, labels: { le: "+Inf", ...s.labels }, metricName: bucket });
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

const escapeText = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function valueText(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}

/** Metrics in the text exposition format, written as prom-client writes them (a blank line between two). */
export function exposition(metrics: readonly MetricJson[]): string {
  return `${metrics.map(block).join("\n\n")}\n`;
}

/** One metric in the text exposition format. */
function block(m: MetricJson): string {
  const name = escapeText(m.name);
  const lines = [`# HELP ${name} ${escapeText(m.help)}`, `# TYPE ${name} ${m.type}`];
  for (const v of m.values) {
    let labels = "";
    for (const [k, x] of Object.entries(v.labels)) {
      labels += `${labels === "" ? "" : ","}${k}="${typeof x === "string" ? escapeText(x).replace(/"/g, '\\"') : x}"`;
    }
    lines.push(`${v.metricName ?? name}${labels === "" ? "" : `{${labels}}`} ${valueText(v.value)}`);
  }
  return lines.join("\n");
}

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter(this.registry, {
    name: "ficus_requests_total",
    help: "Requests handled, by route, method and status class (route is \"(none)\" when no route matched).",
    labelNames: ["route", "method", "status_class"] as const,
  });
  readonly requestDuration = new Histogram(this.registry, {
    name: "ficus_request_duration_seconds",
    help: "Time from receiving the request to the end of the response body, by route.",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
  });
  readonly upstreamDuration = new Histogram(this.registry, {
    name: "ficus_upstream_duration_seconds",
    help: "Time from sending the request upstream to receiving the response headers, by route.",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
  });
  /** Requests being handled; read at scrape time (the data plane keeps the number, see setInFlightSource). */
  readonly inFlight = new Gauge(this.registry, {
    name: "ficus_requests_in_flight",
    help: "Requests being handled right now.",
  });
  /** One RouteMetrics per route name, kept across reloads so counts are never lost. */
  private readonly routeCounts = new Map<string, RouteMetrics>();
  readonly upstreamErrors = new Counter(this.registry, {
    name: "ficus_upstream_errors_total",
    help: "Upstream attempts that failed, by route and error code.",
    labelNames: ["route", "code"] as const,
  });
  readonly retries = new Counter(this.registry, {
    name: "ficus_retries_total",
    help: "Retries, by route and outcome (attempted, budget_exhausted).",
    labelNames: ["route", "outcome"] as const,
  });
  readonly configReloads = new Counter(this.registry, {
    name: "ficus_config_reloads_total",
    help: "Configuration reloads, by result: success, failure (invalid or empty; rejected) or refused (would remove too many routes).",
    labelNames: ["result"] as const,
  });
  readonly ejections = new Counter(this.registry, {
    name: "ficus_endpoint_ejections_total",
    help: "Endpoints ejected by passive health checking, by upstream and endpoint.",
    labelNames: ["upstream", "endpoint"] as const,
  });
  readonly ejected = new Gauge(this.registry, {
    name: "ficus_endpoints_ejected",
    help: "Endpoints currently ejected, by upstream.",
    labelNames: ["upstream"] as const,
  });
  readonly websockets = new Gauge(this.registry, {
    name: "ficus_websocket_connections",
    help: "Proxied WebSocket connections open right now.",
  });
  readonly stage = new Gauge(this.registry, {
    name: "ficus_route_stage",
    aggregator: "max",
    help: "1 for the current migration stage of each route with a candidate.",
    labelNames: ["route", "stage"] as const,
  });
  readonly canaryPercent = new Gauge(this.registry, {
    name: "ficus_canary_percent",
    aggregator: "max",
    help: "Share of requests the candidate serves, by route (0 at legacy/shadow, 100 at candidate).",
    labelNames: ["route"] as const,
  });
  readonly served = new Counter(this.registry, {
    name: "ficus_served_total",
    help: "Requests of routes with a candidate, by route and the side that served them.",
    labelNames: ["route", "side"] as const,
  });
  readonly gateValue = new Gauge(this.registry, {
    name: "ficus_gate_value",
    help: "Current value of each gate of a route in shadow or canary (rates, latency ratios), as last evaluated.",
    labelNames: ["route", "gate"] as const,
    aggregator: "max",
  });
  readonly gateState = new Gauge(this.registry, {
    name: "ficus_gate_state",
    help: "1 for the current state (pass, fail, pending) of each gate of a route, as last evaluated.",
    labelNames: ["route", "gate", "state"] as const,
    aggregator: "max",
  });
  readonly recordExchanges = new Counter(this.registry, {
    name: "ficus_record_exchanges_total",
    help: "Exchanges taken for recording by route and result: recorded (written), dropped (the writer lagged or failed), skipped (body too large, streamed, failed, served by the candidate).",
    labelNames: ["route", "result"] as const,
  });
  readonly storeUp = new Gauge(this.registry, {
    name: "ficus_store_up",
    help: "1 when the migration store could be read at the last attempt and results reach it; 0 when not (unreadable, writes failing, file deleted and not back yet, or results kept in memory).",
    aggregator: "min",
  });
  readonly storeErrors = new Counter(this.registry, {
    name: "ficus_store_errors_total",
    help: "Problems of the results store, by reason: deleted (the SQLite file deleted or replaced while in use), restore_failed, failed SQLite flushes kept for a retry (full, ioerr, readonly, busy), dropped (PostgreSQL tables dropped while in use).",
    labelNames: ["reason"] as const,
  });
  readonly storeDropped = new Counter(this.registry, {
    name: "ficus_store_dropped_total",
    help: "Entries of results kept for a retry (while the store fails) dropped past the cap, oldest first, by kind (signature, path).",
    labelNames: ["kind"] as const,
  });
  readonly transitions = new Counter(this.registry, {
    name: "ficus_migration_transitions_total",
    help: "Migration stage transitions made, by route, action (promote, pause, resume, rollback, rollback_all) and actor.",
    labelNames: ["route", "action", "actor"] as const,
  });
  readonly shadowCompared = new Counter(this.registry, {
    name: "ficus_shadow_compared_total",
    help: "Shadowed requests whose legacy and candidate answers were compared, by route.",
    labelNames: ["route"] as const,
  });
  readonly shadowMismatched = new Counter(this.registry, {
    name: "ficus_shadow_mismatched_total",
    help: "Compared requests whose answers differ, by route and highest severity of the differences.",
    labelNames: ["route", "severity"] as const,
  });
  readonly shadowNoise = new Counter(this.registry, {
    name: "ficus_shadow_noise_total",
    help: "Compared requests whose answers differed only on noise paths, by route.",
    labelNames: ["route"] as const,
  });
  readonly shadowSkipped = new Counter(this.registry, {
    name: "ficus_shadow_skipped_total",
    help: "Requests of a shadow-stage route not mirrored or not compared, by route and reason.",
    labelNames: ["route", "reason"] as const,
  });
  readonly shadowCandidateErrors = new Counter(this.registry, {
    name: "ficus_shadow_candidate_errors_total",
    help: "Mirrored requests the candidate did not answer, by route and kind (error, timeout).",
    labelNames: ["route", "kind"] as const,
  });
  readonly shadowCandidateDuration = new Histogram(this.registry, {
    name: "ficus_shadow_candidate_duration_seconds",
    help: "Candidate response time (to the end of the body) for mirrored requests, by route.",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
  });
  readonly shadowStoreErrors = new Counter(this.registry, {
    name: "ficus_shadow_store_errors_total",
    help: "Failed writes of shadow results to the store (results are then kept in memory).",
  });
  readonly buildInfo = new Gauge(this.registry, {
    name: "ficus_build_info",
    aggregator: "max",
    help: "Always 1; labels carry the version and runtime.",
    labelNames: ["version", "runtime"] as const,
  });

  private readonly defaultMetrics: boolean;
  /** prom-client's default process metrics, registered on the first scrape (loading prom-client then). */
  private processMetrics: Promise<PromRegistry> | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.buildInfo.set({ version: VERSION, runtime: `bun-${Bun.version}` }, 1);
    // Up until a store says otherwise: with several workers the supervisor's value is merged with "min".
    this.storeUp.set(1);
    // Per-request counts live in plain numbers on RouteMetrics (no label hashing per request);
    // they are copied into the counter when the metrics are read.
    const routeCounts = this.routeCounts;
    const requests = this.requests;
    requests.collect = () => {
      for (const rm of routeCounts.values()) rm.publish(requests);
    };
    this.defaultMetrics = options.defaultMetrics !== false;
  }

  /**
   * prom-client's default metrics (CPU, memory, heap, event-loop lag, file descriptors), loaded on the first
   * scrape rather than at start: the data plane answers its first request without prom-client. Counters among
   * them (CPU seconds) count from that first scrape, which rate() does not notice.
   */
  private defaults(): Promise<PromRegistry> | undefined {
    if (!this.defaultMetrics) return undefined;
    this.processMetrics ??= import("prom-client").then(({ Registry: Reg, collectDefaultMetrics }) => {
      const registry = new Reg();
      collectDefaultMetrics({ register: registry, prefix: "ficus_" });
      // These default gauges end in _total, which Prometheus reserves for counters (promtool rejects them).
      for (const name of ["active_handles_total", "active_requests_total", "active_resources_total"]) {
        registry.removeSingleMetric(`ficus_nodejs_${name}`);
      }
      return registry;
    });
    return this.processMetrics;
  }

  /** Reads the in-flight count from the data plane at scrape time. */
  setInFlightSource(read: () => number): void {
    this.inFlight.collect = () => this.inFlight.set(read());
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

  /** The text exposition format (this process's metrics, then the default process metrics). */
  async text(): Promise<string> {
    const own = exposition(this.registry.json());
    const defaults = await this.defaults();
    return defaults ? `${own}\n${await defaults.metrics()}` : own;
  }

  /** prom-client's JSON form, for the supervisor to merge (aggregateMetrics). */
  async json(): Promise<MetricJson[]> {
    const own = this.registry.json();
    const defaults = await this.defaults();
    return defaults ? [...own, ...((await defaults.getMetricsAsJSON()) as unknown as MetricJson[])] : own;
  }
}

/** Merges the metrics of several processes into one exposition (prom-client's AggregatorRegistry, loaded here). */
export async function aggregateMetrics(parts: MetricJson[][]): Promise<string> {
  // Gauges that describe the whole process group are summed too, which is right for in-flight and ejected counts.
  const { AggregatorRegistry } = await import("prom-client");
  return AggregatorRegistry.aggregate(parts as unknown as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
}

const STATUS_CLASS = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/**
 * A route's metrics: duration histograms bound to the route once, and request
 * counts kept as plain numbers by method and status class, published to
 * ficus_requests_total at scrape time. Counts carry over a reload because a
 * route of the same name shares the same series.
 */
export class RouteMetrics {
  readonly duration: HistogramChild;
  readonly upstream: HistogramChild;
  /** Unpublished counts: per method, one number per status class (no key built per request). */
  private readonly counts = new Map<string, number[]>();

  constructor(
    metrics: Metrics,
    readonly route: string,
  ) {
    this.duration = metrics.requestDuration.labels(route);
    this.upstream = metrics.upstreamDuration.labels(route);
  }

  count(method: string, status: number): void {
    let byClass = this.counts.get(method);
    if (byClass === undefined) {
      byClass = [0, 0, 0, 0, 0];
      this.counts.set(method, byClass);
    }
    const c = Math.floor(status / 100) - 1;
    const i = c >= 0 && c < 5 ? c : 4;
    byClass[i] = (byClass[i] as number) + 1;
  }

  /** Moves the counts accumulated since the last scrape into the counter. */
  publish(counter: Counter<"route" | "method" | "status_class">): void {
    for (const [method, byClass] of this.counts) {
      for (let i = 0; i < 5; i++) {
        const n = byClass[i] as number;
        if (n === 0) continue;
        counter.inc({ route: this.route, method, status_class: STATUS_CLASS[i] as string }, n);
        byClass[i] = 0;
      }
    }
  }
}
