/**
 * Metrics are plain numbers published at scrape time (src/observability/metrics.ts), written in the
 * exposition format as prom-client writes it: checked here against prom-client itself, used as the oracle
 * (same operations, same text, same JSON for the supervisor's merge).
 */
import { describe, expect, test } from "bun:test";
import * as prom from "prom-client";
import { aggregateMetrics, Counter, exposition, Gauge, Histogram, type MetricJson, Metrics, Registry } from "../../src/observability/metrics.ts";

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same operations on ours and on prom-client's. */
function both() {
  const ours = new Registry();
  const theirs = new prom.Registry();
  const mk = {
    ours: {
      c: new Counter(ours, { name: "t_requests_total", help: 'Requests, with "quotes" \\ and\nnewlines.', labelNames: ["route", "code"] as const }),
      u: new Counter(ours, { name: "t_unlabelled_total", help: "Never incremented." }),
      g: new Gauge(ours, { name: "t_stage", help: "A gauge.", labelNames: ["route"] as const, aggregator: "max" }),
      g0: new Gauge(ours, { name: "t_up", help: "An unlabelled gauge.", aggregator: "min" }),
      h: new Histogram(ours, { name: "t_duration_seconds", help: "A histogram.", labelNames: ["route"] as const, buckets: BUCKETS }),
      e: new Histogram(ours, { name: "t_empty_seconds", help: "No observation.", labelNames: ["route"] as const, buckets: BUCKETS }),
    },
    theirs: {
      c: new prom.Counter({ name: "t_requests_total", help: 'Requests, with "quotes" \\ and\nnewlines.', labelNames: ["route", "code"] as const, registers: [theirs] }),
      u: new prom.Counter({ name: "t_unlabelled_total", help: "Never incremented.", registers: [theirs] }),
      g: new prom.Gauge({ name: "t_stage", help: "A gauge.", labelNames: ["route"] as const, aggregator: "max", registers: [theirs] }),
      g0: new prom.Gauge({ name: "t_up", help: "An unlabelled gauge.", aggregator: "min", registers: [theirs] }),
      h: new prom.Histogram({ name: "t_duration_seconds", help: "A histogram.", labelNames: ["route"] as const, buckets: BUCKETS, registers: [theirs] }),
      e: new prom.Histogram({ name: "t_empty_seconds", help: "No observation.", labelNames: ["route"] as const, buckets: BUCKETS, registers: [theirs] }),
    },
  };
  for (const m of [mk.ours, mk.theirs]) {
    m.c.inc({ route: 'a"b\\c\nd', code: "E1" });
    m.c.inc({ route: "r", code: "E2" }, 3);
    m.c.inc({ route: 'a"b\\c\nd', code: "E1" }, 0.5);
    m.g.set({ route: "x" }, 1);
    m.g.reset();
    m.g.set({ route: "y" }, -2.5);
    m.g.inc({ route: "y" });
    m.g.dec({ route: "z" }, 4);
    m.g0.set(0);
    m.g0.inc(3);
    m.h.observe({ route: "r" }, 0.0005);
    m.h.observe({ route: "r" }, 0.001); // on a bound: counted in it (le is inclusive)
    m.h.observe({ route: "r" }, 0.05);
    m.h.observe({ route: "r" }, 7); // past every bound: +Inf only
    m.h.labels("bound").observe(0.002);
    m.h.labels("bound").observe(0.003);
  }
  return { ours, theirs };
}

/** prom-client's JSON without the fields no consumer reads (exemplars, an empty sharedLabels). */
function plain(json: unknown): MetricJson[] {
  return JSON.parse(JSON.stringify(json, (k, v) => (k === "exemplar" || k === "sharedLabels" ? undefined : v)));
}

describe("metrics as prom-client writes them", () => {
  test("the text exposition is prom-client's, byte for byte", async () => {
    const { ours, theirs } = both();
    expect(exposition(ours.json())).toBe(await theirs.metrics());
  });

  test("the JSON the supervisor merges is prom-client's, and merging several gives prom-client's result", async () => {
    const { ours, theirs } = both();
    expect(plain(ours.json())).toEqual(plain(await theirs.getMetricsAsJSON()));
    const t = await theirs.getMetricsAsJSON();
    expect(await aggregateMetrics([ours.json(), ours.json()])).toBe(await prom.AggregatorRegistry.aggregate([t, t]).metrics());
  });

  test("Metrics: request counts published at each scrape, histograms bound per route, in-flight read then", async () => {
    const a = new Metrics({ defaultMetrics: false });
    const rm = a.forRoute("orders");
    rm.count("GET", 200);
    rm.count("GET", 204);
    rm.count("POST", 503);
    rm.duration.observe(0.004);
    rm.upstream.observe(0.002);
    a.upstreamErrors.inc({ route: "orders", code: "FICUS_UPSTREAM_TIMEOUT" });
    a.setInFlightSource(() => 3);
    const text = await a.text();
    expect(text).toContain('ficus_requests_total{route="orders",method="GET",status_class="2xx"} 2\n');
    expect(text).toContain('ficus_requests_total{route="orders",method="POST",status_class="5xx"} 1\n');
    expect(text).toContain('ficus_request_duration_seconds_bucket{le="0.005",route="orders"} 1\n');
    expect(text).toContain('ficus_request_duration_seconds_bucket{le="+Inf",route="orders"} 1\n');
    expect(text).toContain('ficus_upstream_duration_seconds_count{route="orders"} 1\n');
    expect(text).toContain("ficus_requests_in_flight 3\n");
    expect(text).toContain('ficus_build_info{version="0.1.0",runtime="bun-');
    expect(text).toContain("ficus_store_up 1\n");
    expect(text.endsWith("\n")).toBe(true);
    // Counts published at one scrape are not published twice.
    const again = await a.text();
    expect(again).toContain('ficus_requests_total{route="orders",method="GET",status_class="2xx"} 2\n');
  });

  test("default process metrics come from prom-client, loaded at the first scrape", async () => {
    const m = new Metrics();
    const text = await m.text();
    expect(text).toContain("# TYPE ficus_process_cpu_seconds_total counter");
    expect(text).toContain("# TYPE ficus_process_resident_memory_bytes gauge");
    expect(text).not.toContain("ficus_nodejs_active_handles_total");
    const json = await m.json();
    expect(json.some((x) => x.name === "ficus_process_cpu_seconds_total")).toBe(true);
    expect(json.some((x) => x.name === "ficus_requests_total")).toBe(true);
  });

  test("values a counter refuses, as prom-client does", () => {
    const r = new Registry();
    const c = new Counter(r, { name: "x_total", help: "x" });
    expect(() => c.inc(-1)).toThrow("It is not possible to decrease a counter");
    expect(() => c.inc(Number.NaN)).toThrow();
    expect(() => new Counter(r, { name: "x_total", help: "again" })).toThrow("already been registered");
  });

  test("a bound histogram child keeps counting after a reset", async () => {
    const r = new Registry();
    const h = new Histogram(r, { name: "h_seconds", help: "h", labelNames: ["route"] as const, buckets: [1] });
    const child = h.labels("a");
    child.observe(0.5);
    h.reset();
    expect(r.json()[0]?.values).toEqual([]);
    child.observe(2);
    expect(r.json()[0]?.values.map((v) => [v.metricName, v.labels, v.value])).toEqual([
      ["h_seconds_bucket", { le: 1, route: "a" }, 0],
      ["h_seconds_bucket", { le: "+Inf", route: "a" }, 1],
      ["h_seconds_sum", { route: "a" }, 2],
      ["h_seconds_count", { route: "a" }, 1],
    ]);
  });
});
