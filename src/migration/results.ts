/**
 * Shadow-stage results of one process, accumulated between flushes: per-route
 * counters, mismatch signatures (route, status pair, sorted set of differing
 * paths) with redacted samples, and paired latency as HDR histograms. The
 * store merges these deltas (several processes can share one store).
 */
import * as hdr from "hdr-histogram-js";
import type { Difference, Severity } from "../compare/index.ts";

export const COUNTERS = [
  "total",
  "shadowed",
  "compared",
  "matched",
  "mismatched",
  // Mismatches by their most severe significant difference (they add up to "mismatched").
  "mismatched_low",
  "mismatched_medium",
  "mismatched_high",
  "noise_only",
  "candidate_error",
  "candidate_timeout",
  "aa_compared",
  "legacy_5xx",
  "candidate_5xx",
] as const;
export type CounterName = (typeof COUNTERS)[number];

export const SKIP_REASONS = ["unsafe_method", "body_too_large", "concurrency_limit", "legacy_failed", "legacy_streamed", "no_recorded_response", "compare_budget"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SampleSide {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly duration_ms: number;
}

export interface Sample {
  readonly time: string;
  readonly request: { readonly method: string; readonly path: string; readonly headers: Record<string, string>; readonly body: string };
  readonly legacy: SampleSide;
  readonly candidate: SampleSide;
  readonly differences: readonly Difference[];
}

export interface SignatureDelta {
  readonly id: string;
  readonly route: string;
  readonly status: readonly [number, number];
  readonly paths: readonly string[];
  readonly severity: Severity;
  count: number;
  firstSeen: number;
  lastSeen: number;
  readonly samples: Sample[];
}

/** Latency histograms hold microseconds; ratios are stored ×1000 (1.0 = 1000). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

/** How often a (generalized) path differed: in legacy-vs-candidate pairs, and in legacy-vs-legacy (A/A) pairs. */
export interface PathCounts {
  raw: number;
  aa: number;
}

export interface RouteDelta {
  readonly counters: Map<CounterName | `skipped.${SkipReason}`, number>;
  readonly paths: Map<string, PathCounts>;
  readonly signatures: Map<string, SignatureDelta>;
  readonly legacy: hdr.Histogram;
  readonly candidate: hdr.Histogram;
  readonly ratio: hdr.Histogram;
}

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

/** Signature paths name a field, not an element: array positions and keys become [*], text lines "line *". */
export function generalizePath(path: string): string {
  return path.replace(/\[(\d+|[^\]=]+=[^\]]*)\]/g, "[*]").replace(/^body:line \d+$/, "body:line *");
}

export function signatureOf(route: string, status: readonly [number, number], differences: readonly Difference[]): { id: string; paths: string[]; severity: Severity } {
  const paths = [...new Set(differences.map((d) => generalizePath(d.path)))].sort();
  let severity: Severity = "low";
  for (const d of differences) if (SEVERITY_RANK[d.severity] > SEVERITY_RANK[severity]) severity = d.severity;
  const id = new Bun.CryptoHasher("sha256").update(`${route}\n${status[0]}\n${status[1]}\n${paths.join("\n")}`).digest("hex").slice(0, 16);
  return { id, paths, severity };
}

export class ResultsBuffer {
  private routes = new Map<string, RouteDelta>();

  constructor(private readonly samplesPerSignature: number) {}

  private route(name: string): RouteDelta {
    let r = this.routes.get(name);
    if (!r) {
      r = { counters: new Map(), paths: new Map(), signatures: new Map(), legacy: newHistogram(), candidate: newHistogram(), ratio: newHistogram() };
      this.routes.set(name, r);
    }
    return r;
  }

  count(route: string, name: CounterName | `skipped.${SkipReason}`, n = 1): void {
    const c = this.route(route).counters;
    c.set(name, (c.get(name) ?? 0) + n);
  }

  /** Counts each path that differed in one pair (legacy vs candidate: "raw"; legacy vs legacy: "aa"). */
  pathsDiffered(route: string, paths: Iterable<string>, kind: "raw" | "aa"): void {
    const m = this.route(route).paths;
    for (const p of paths) {
      let c = m.get(p);
      if (!c) {
        c = { raw: 0, aa: 0 };
        m.set(p, c);
      }
      c[kind]++;
    }
  }

  /** Paired latency of one request served by both sides. */
  latency(route: string, legacyMs: number, candidateMs: number): void {
    const r = this.route(route);
    const l = Math.max(1, Math.round(legacyMs * 1000));
    const c = Math.max(1, Math.round(candidateMs * 1000));
    r.legacy.recordValue(l);
    r.candidate.recordValue(c);
    r.ratio.recordValue(Math.max(1, Math.round((c / l) * 1000)));
  }

  /** Records a mismatch under its signature; `sample` is built (and redacted) only when one is kept. */
  mismatch(route: string, status: readonly [number, number], differences: readonly Difference[], now: number, sample: () => Sample): void {
    const sig = signatureOf(route, status, differences);
    const sigs = this.route(route).signatures;
    let s = sigs.get(sig.id);
    if (!s) {
      s = { ...sig, route, status, count: 0, firstSeen: now, lastSeen: now, samples: [] };
      sigs.set(sig.id, s);
    }
    s.count++;
    s.lastSeen = now;
    if (s.samples.length < this.samplesPerSignature) s.samples.push(sample());
  }

  /** Takes the accumulated deltas, leaving the buffer empty. */
  drain(): Map<string, RouteDelta> {
    const out = this.routes;
    this.routes = new Map();
    return out;
  }

  get empty(): boolean {
    return this.routes.size === 0;
  }
}
