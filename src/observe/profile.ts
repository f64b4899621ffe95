/**
 * Per-endpoint traffic profiles for observe mode (issue 14): for each method
 * and template, requests, 5xx and 4xx errors, the status mix (by class, and
 * by exact code up to a bound), latency as an HDR histogram (p50/p95/p99),
 * the total latency (for the endpoint's share of all time) and bytes in and out.
 *
 * A `ProfileRecorder` lives in one worker and is cheap on the request path:
 * fixed-size structures per endpoint, no allocation for a known endpoint, and
 * 1-in-k sampling with counts scaled by k. Its `snapshot()`/`drain()` give a
 * JSON `ProfileSnapshot`; snapshots merge exactly (counts add, histograms add
 * bucket by bucket), so the store can combine workers and instances, and
 * `rekeyProfiles` re-keys them when endpoint discovery renames a template.
 */
import * as hdr from "hdr-histogram-js";
import { FicusError } from "../core/errors.ts";
import { OTHER } from "./templates.ts";

/** Latency is kept in microseconds, 1 µs to 1 hour, 2 significant digits (1% error, ~14 KB per endpoint). */
export const LATENCY_HIGHEST_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 2;

function newLatencyHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_HIGHEST_US, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS, useWebAssembly: false });
}

/** The method of the endpoint that takes every request past `maxEndpoints`. */
export const ANY_METHOD = "*";

export interface ProfileOptions {
  /** Record one request in k, counting it k times. Default 1 (every request). */
  readonly sampleEvery?: number;
  /** Endpoints (method + template) at most; past it requests count under `* (other)`. Default 1000. */
  readonly maxEndpoints?: number;
  /** Exact status codes kept per endpoint; others count only in their class. Default 16. */
  readonly maxStatusCodes?: number;
}

export const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** One endpoint's counts, serialized. Integers only (latency in µs), so merging is exact. */
export interface EndpointProfile {
  readonly method: string;
  readonly template: string;
  requests: number;
  /** Responses with a 5xx status. */
  serverErrors: number;
  /** Responses with a 4xx status. */
  clientErrors: number;
  statusClasses: Record<StatusClass, number>;
  /** Exact codes with counts, sorted by code (at most `maxStatusCodes`). */
  statusCodes: [number, number][];
  /** Responses whose exact code was not kept (they are in `statusClasses`). */
  statusCodesOther: number;
  latencyTotalUs: number;
  bytesIn: number;
  bytesOut: number;
  /** The latency histogram (µs), HDR compressed base64. */
  histogram: string;
}

/** A recorder's (or a merged) state: JSON, sorted by method then template. */
export interface ProfileSnapshot {
  readonly version: 1;
  readonly endpoints: EndpointProfile[];
}

class Entry {
  requests = 0;
  serverErrors = 0;
  clientErrors = 0;
  readonly classes = new Float64Array(6);
  readonly codes = new Map<number, number>();
  codesOther = 0;
  latencyTotalUs = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly histogram = newLatencyHistogram();
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new FicusError("FICUS_CONFIG_INVALID", `observe profile: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

const classIndex = (status: number) => (status >= 100 && status <= 599 ? Math.floor(status / 100) - 1 : 5);

export class ProfileRecorder {
  readonly sampleEvery: number;
  readonly maxEndpoints: number;
  readonly maxStatusCodes: number;
  /** method → template → entry: no key string built per request. */
  private byMethod = new Map<string, Map<string, Entry>>();
  private endpoints = 0;
  private tick = 0;

  constructor(opts: ProfileOptions = {}) {
    this.sampleEvery = positiveInt("sampleEvery", opts.sampleEvery, 1);
    this.maxEndpoints = positiveInt("maxEndpoints", opts.maxEndpoints, 1000);
    this.maxStatusCodes = positiveInt("maxStatusCodes", opts.maxStatusCodes, 16);
  }

  /** Is this request in the sample? Call once per request; record it only when true (every k-th request). */
  admit(): boolean {
    if (this.sampleEvery === 1) return true;
    if (++this.tick < this.sampleEvery) return false;
    this.tick = 0;
    return true;
  }

  /**
   * Records one exchange. `weight` is how many requests it stands for:
   * `sampleEvery` by default (the request was admitted by `admit()`).
   */
  record(method: string, template: string, status: number, latencyMs: number, bytesIn: number, bytesOut: number, weight = this.sampleEvery): void {
    const e = this.entry(method, template);
    e.requests += weight;
    if (status >= 500 && status <= 599) e.serverErrors += weight;
    else if (status >= 400 && status <= 499) e.clientErrors += weight;
    const ci = classIndex(status);
    e.classes[ci] = (e.classes[ci] as number) + weight;
    const known = e.codes.get(status);
    if (known !== undefined) e.codes.set(status, known + weight);
    else if (e.codes.size < this.maxStatusCodes && Number.isInteger(status)) e.codes.set(status, weight);
    else e.codesOther += weight;
    const us = Math.min(LATENCY_HIGHEST_US, Math.max(1, Math.round(latencyMs * 1000) || 1));
    e.latencyTotalUs += us * weight;
    e.histogram.recordValueWithCount(us, weight);
    if (bytesIn > 0) e.bytesIn += bytesIn * weight;
    if (bytesOut > 0) e.bytesOut += bytesOut * weight;
  }

  /** The counts so far (the recorder keeps them). */
  snapshot(): ProfileSnapshot {
    const out: EndpointProfile[] = [];
    for (const [method, m] of this.byMethod) for (const [template, e] of m) out.push(serialize(method, template, e));
    return { version: 1, endpoints: out.sort(byKey) };
  }

  /** The counts so far, leaving the recorder empty (a delta for the store). */
  drain(): ProfileSnapshot {
    const s = this.snapshot();
    this.byMethod = new Map();
    this.endpoints = 0;
    return s;
  }

  private entry(method: string, template: string): Entry {
    let m = this.byMethod.get(method);
    let e = m?.get(template);
    if (e) return e;
    if (this.endpoints >= this.maxEndpoints && !(method === ANY_METHOD && template === OTHER)) return this.entry(ANY_METHOD, OTHER);
    if (!m) {
      m = new Map();
      this.byMethod.set(method, m);
    }
    e = new Entry();
    m.set(template, e);
    this.endpoints++;
    return e;
  }
}

function serialize(method: string, template: string, e: Entry): EndpointProfile {
  const statusClasses = {} as Record<StatusClass, number>;
  STATUS_CLASSES.forEach((c, i) => {
    statusClasses[c] = e.classes[i] as number;
  });
  return {
    method,
    template,
    requests: e.requests,
    serverErrors: e.serverErrors,
    clientErrors: e.clientErrors,
    statusClasses,
    statusCodes: [...e.codes].sort((a, b) => a[0] - b[0]),
    statusCodesOther: e.codesOther,
    latencyTotalUs: e.latencyTotalUs,
    bytesIn: e.bytesIn,
    bytesOut: e.bytesOut,
    histogram: hdr.encodeIntoCompressedBase64(e.histogram),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: EndpointProfile, b: EndpointProfile) => cmp(a.method, b.method) || cmp(a.template, b.template);

/** The latency histogram of a profile (µs). */
export function latencyHistogram(p: EndpointProfile): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(p.histogram, 32, false);
}

/** Two endpoints' counts added (the same endpoint, or two folded into one). */
function add(a: EndpointProfile, b: EndpointProfile, method: string, template: string, maxStatusCodes: number): EndpointProfile {
  const statusClasses = {} as Record<StatusClass, number>;
  for (const c of STATUS_CLASSES) statusClasses[c] = a.statusClasses[c] + b.statusClasses[c];
  const codes = new Map<number, number>(a.statusCodes);
  for (const [code, n] of b.statusCodes) codes.set(code, (codes.get(code) ?? 0) + n);
  let statusCodesOther = a.statusCodesOther + b.statusCodesOther;
  let statusCodes = [...codes];
  if (statusCodes.length > maxStatusCodes) {
    // Keep the most frequent codes (ties: the lower code); the rest count in their class only.
    statusCodes.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [, n] of statusCodes.slice(maxStatusCodes)) statusCodesOther += n;
    statusCodes = statusCodes.slice(0, maxStatusCodes);
  }
  const h = latencyHistogram(a);
  h.add(latencyHistogram(b));
  return {
    method,
    template,
    requests: a.requests + b.requests,
    serverErrors: a.serverErrors + b.serverErrors,
    clientErrors: a.clientErrors + b.clientErrors,
    statusClasses,
    statusCodes: statusCodes.sort((x, y) => x[0] - y[0]),
    statusCodesOther,
    latencyTotalUs: a.latencyTotalUs + b.latencyTotalUs,
    bytesIn: a.bytesIn + b.bytesIn,
    bytesOut: a.bytesOut + b.bytesOut,
    histogram: hdr.encodeIntoCompressedBase64(h),
  };
}

export interface MergeLimits {
  readonly maxEndpoints?: number;
  readonly maxStatusCodes?: number;
}

/**
 * The profile of the union of the inputs of several snapshots. Past
 * `maxEndpoints` the endpoints with the fewest requests fold into `* (other)`.
 */
export function mergeProfiles(snapshots: readonly ProfileSnapshot[], limits: MergeLimits = {}): ProfileSnapshot {
  return rekeyProfiles(snapshots, (method, template) => [method, template], limits);
}

/**
 * Re-keys and merges snapshots: `key` gives each endpoint its (method,
 * template) now, e.g. `TemplateLearner.canonical` after a position collapsed;
 * endpoints that land on one key are added together.
 */
export function rekeyProfiles(snapshots: readonly ProfileSnapshot[], key: (method: string, template: string) => readonly [string, string], limits: MergeLimits = {}): ProfileSnapshot {
  const maxEndpoints = positiveInt("maxEndpoints", limits.maxEndpoints, 1000);
  const maxStatusCodes = positiveInt("maxStatusCodes", limits.maxStatusCodes, 16);
  const byKeyMap = new Map<string, EndpointProfile>();
  const put = (p: EndpointProfile, method: string, template: string) => {
    const k = `${method} ${template}`;
    const mine = byKeyMap.get(k);
    byKeyMap.set(k, mine ? add(mine, p, method, template, maxStatusCodes) : { ...p, method, template });
  };
  for (const s of snapshots) {
    for (const p of s.endpoints) {
      const [method, template] = key(p.method, p.template);
      put(p, method, template);
    }
  }
  let out = [...byKeyMap.values()];
  if (out.length > maxEndpoints) {
    out.sort((a, b) => b.requests - a.requests || byKey(a, b));
    const kept = out.slice(0, maxEndpoints - 1).filter((p) => !(p.method === ANY_METHOD && p.template === OTHER));
    const keep = new Set(kept);
    let other: EndpointProfile | undefined;
    for (const p of out) {
      if (keep.has(p)) continue;
      other = other ? add(other, p, ANY_METHOD, OTHER, maxStatusCodes) : { ...p, method: ANY_METHOD, template: OTHER };
    }
    out = other ? [...kept, other] : kept;
  }
  return { version: 1, endpoints: out.sort(byKey) };
}

/** What the dashboard and the ranking read: one endpoint's profile in milliseconds and rates. */
export interface EndpointSummary {
  readonly method: string;
  readonly template: string;
  readonly requests: number;
  readonly serverErrors: number;
  readonly clientErrors: number;
  /** 5xx / requests. */
  readonly errorRate: number;
  /** 4xx / requests. */
  readonly clientErrorRate: number;
  /** This endpoint's total latency / all endpoints' total latency. */
  readonly timeShare: number;
  readonly latencyTotalMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly statusClasses: Readonly<Record<StatusClass, number>>;
  readonly statusCodes: Readonly<Record<string, number>>;
}

export interface ProfileSummary {
  readonly requests: number;
  readonly latencyTotalMs: number;
  /** Sorted by total latency, largest first. */
  readonly endpoints: EndpointSummary[];
}

const ms = (us: number) => Math.round(us) / 1000;

/** Rates, percentiles and time shares of a snapshot. */
export function summarizeProfiles(s: ProfileSnapshot): ProfileSummary {
  let totalUs = 0;
  let requests = 0;
  for (const p of s.endpoints) {
    totalUs += p.latencyTotalUs;
    requests += p.requests;
  }
  const endpoints = s.endpoints.map((p): EndpointSummary => {
    const h = latencyHistogram(p);
    const at = (q: number) => (h.totalCount === 0 ? 0 : ms(h.getValueAtPercentile(q)));
    return {
      method: p.method,
      template: p.template,
      requests: p.requests,
      serverErrors: p.serverErrors,
      clientErrors: p.clientErrors,
      errorRate: p.requests === 0 ? 0 : p.serverErrors / p.requests,
      clientErrorRate: p.requests === 0 ? 0 : p.clientErrors / p.requests,
      timeShare: totalUs === 0 ? 0 : p.latencyTotalUs / totalUs,
      latencyTotalMs: ms(p.latencyTotalUs),
      meanMs: p.requests === 0 ? 0 : ms(p.latencyTotalUs / p.requests),
      p50Ms: at(50),
      p95Ms: at(95),
      p99Ms: at(99),
      maxMs: h.totalCount === 0 ? 0 : ms(h.maxValue),
      bytesIn: p.bytesIn,
      bytesOut: p.bytesOut,
      statusClasses: { ...p.statusClasses },
      statusCodes: Object.fromEntries(p.statusCodes.map(([c, n]) => [String(c), n])),
    };
  });
  endpoints.sort((a, b) => b.latencyTotalMs - a.latencyTotalMs || cmp(a.method, b.method) || cmp(a.template, b.template));
  return { requests, latencyTotalMs: ms(totalUs), endpoints };
}
