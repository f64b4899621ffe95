/**
 * Gates: the conditions a route must meet in its current step to be promoted,
 * and whose failure rolls it back. Pure functions of the step's statistics and
 * the clock, so they are tested with a fake clock.
 *
 * - mismatch rate: non-noise mismatches / compared ≤ budget;
 * - error rate: candidate (5xx, timeouts, failures) ≤ legacy's (5xx) + margin;
 * - latency p50: a one-sided Mann–Whitney U test (as Netflix's Kayenta does) of
 *   "the candidate is slower than legacy × p50_factor"; it fails when that is
 *   significant at alpha;
 * - latency p99: candidate p99 ≤ legacy p99 × p99_factor.
 * Rate gates judge once `min_compared` pairs exist, latency gates once each side
 * has `min_samples`; before that they are pending. A step is promoted when every
 * gate passes, `min_duration` has passed and `min_requests` were compared; any
 * failing gate rolls the route back.
 */
import type { Histogram } from "hdr-histogram-js";
import type { Severity } from "../compare/index.ts";

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

export interface GateSettings {
  readonly mismatch_rate: number;
  /** Mismatches whose most severe significant difference is below this do not count toward mismatch_rate. */
  readonly min_severity: Severity;
  readonly error_margin: number;
  readonly min_compared: number;
  readonly latency: { readonly p50_factor: number; readonly p99_factor: number; readonly min_samples: number; readonly alpha: number };
}

export interface StepSettings {
  readonly min_duration: number;
  readonly min_requests: number;
}

/** What happened in the current step. Latency histograms hold microseconds. */
export interface StepStats {
  readonly compared: number;
  readonly mismatched: number;
  /** `mismatched`, split by each mismatch's most severe significant difference. */
  readonly mismatchedBySeverity: Readonly<Record<Severity, number>>;
  readonly candidateFailures: number;
  readonly candidate5xx: number;
  readonly legacy5xx: number;
  readonly legacy: Histogram;
  readonly candidate: Histogram;
}

export type GateStatus = "pass" | "fail" | "pending";

export interface GateResult {
  readonly gate: "mismatch_rate" | "error_rate" | "latency_p50" | "latency_p99";
  readonly status: GateStatus;
  readonly value: number;
  readonly limit: number;
  readonly detail: string;
}

export type Decision =
  | { readonly action: "promote"; readonly reason: string; readonly gates: readonly GateResult[] }
  | { readonly action: "rollback"; readonly reason: string; readonly gates: readonly GateResult[] }
  | { readonly action: "wait"; readonly reason: string; readonly gates: readonly GateResult[] };

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

function valueCounts(h: Histogram, scale: number): [number, number][] {
  const out: [number, number][] = [];
  const it = (h as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push([v.valueIteratedTo * scale, v.countAtValueIteratedTo]);
  }
  return out;
}

/**
 * One-sided Mann–Whitney U test from two histograms: the p-value of "y tends to
 * be larger than x × scaleX", with average ranks for ties and the tie-corrected
 * normal approximation. Returns p = 1 when either side is empty.
 */
export function mannWhitneyGreater(x: Histogram, y: Histogram, scaleX = 1): { u: number; z: number; p: number } {
  const a = valueCounts(x, scaleX).map(([v, c]) => ({ v, cx: c, cy: 0 }));
  const b = valueCounts(y, 1).map(([v, c]) => ({ v, cx: 0, cy: c }));
  const nx = a.reduce((s, e) => s + e.cx, 0);
  const ny = b.reduce((s, e) => s + e.cy, 0);
  if (nx === 0 || ny === 0) return { u: 0, z: 0, p: 1 };
  const merged = [...a, ...b].sort((p, q) => p.v - q.v);
  let rank = 0;
  let rankSumY = 0;
  let tieTerm = 0;
  for (let i = 0; i < merged.length; ) {
    let j = i;
    let cx = 0;
    let cy = 0;
    while (j < merged.length && (merged[j] as { v: number }).v === (merged[i] as { v: number }).v) {
      cx += (merged[j] as { cx: number }).cx;
      cy += (merged[j] as { cy: number }).cy;
      j++;
    }
    const t = cx + cy;
    const avg = rank + (t + 1) / 2;
    rankSumY += avg * cy;
    tieTerm += t * t * t - t;
    rank += t;
    i = j;
  }
  const n = nx + ny;
  const u = rankSumY - (ny * (ny + 1)) / 2;
  const mean = (nx * ny) / 2;
  const variance = ((nx * ny) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mean) / Math.sqrt(variance) : 0;
  return { u, z, p: 1 - normalCdf(z) };
}

/** Mismatches at `min` severity or above. */
export function countedMismatches(s: StepStats, min: Severity): number {
  let n = 0;
  for (const sev of ["low", "medium", "high"] as const) if (SEVERITY_RANK[sev] >= SEVERITY_RANK[min]) n += s.mismatchedBySeverity[sev];
  return n;
}

export function evaluateGates(s: StepStats, g: GateSettings): GateResult[] {
  const results: GateResult[] = [];
  const attempts = s.compared + s.candidateFailures;
  if (s.compared < g.min_compared) {
    results.push({ gate: "mismatch_rate", status: "pending", value: 0, limit: g.mismatch_rate, detail: `${s.compared} of ${g.min_compared} pairs compared` });
    results.push({ gate: "error_rate", status: "pending", value: 0, limit: g.error_margin, detail: `${s.compared} of ${g.min_compared} pairs compared` });
  } else {
    const counted = countedMismatches(s, g.min_severity);
    const mr = counted / s.compared;
    const below = s.mismatched - counted;
    results.push({
      gate: "mismatch_rate",
      status: mr <= g.mismatch_rate ? "pass" : "fail",
      value: round(mr),
      limit: g.mismatch_rate,
      detail: `${counted} of ${s.compared} compared pairs mismatched at ${g.min_severity} severity or above${below > 0 ? ` (${below} more below it, reported but not counted)` : ""}`,
    });
    const cr = attempts === 0 ? 0 : (s.candidate5xx + s.candidateFailures) / attempts;
    const lr = s.legacy5xx / s.compared;
    results.push({
      gate: "error_rate",
      status: cr <= lr + g.error_margin ? "pass" : "fail",
      value: round(cr),
      limit: round(lr + g.error_margin),
      detail: `candidate ${round(cr * 100, 2)}% errors, legacy ${round(lr * 100, 2)}% + margin ${round(g.error_margin * 100, 2)} points`,
    });
  }
  const l = g.latency;
  const nl = s.legacy.totalCount;
  const nc = s.candidate.totalCount;
  if (nl < l.min_samples || nc < l.min_samples) {
    const detail = `${Math.min(nl, nc)} of ${l.min_samples} latency samples`;
    results.push({ gate: "latency_p50", status: "pending", value: 0, limit: l.p50_factor, detail });
    results.push({ gate: "latency_p99", status: "pending", value: 0, limit: l.p99_factor, detail });
  } else {
    const mw = mannWhitneyGreater(s.legacy, s.candidate, l.p50_factor);
    const ratio50 = s.candidate.getValueAtPercentile(50) / Math.max(1, s.legacy.getValueAtPercentile(50));
    results.push({
      gate: "latency_p50",
      status: mw.p < l.alpha ? "fail" : "pass",
      value: round(ratio50, 3),
      limit: l.p50_factor,
      detail: `Mann–Whitney U: candidate slower than legacy × ${l.p50_factor}: z = ${round(mw.z, 2)}, p = ${round(mw.p, 4)} (fails below ${l.alpha})`,
    });
    const p99l = s.legacy.getValueAtPercentile(99);
    const p99c = s.candidate.getValueAtPercentile(99);
    const ratio99 = p99c / Math.max(1, p99l);
    results.push({
      gate: "latency_p99",
      status: ratio99 <= l.p99_factor ? "pass" : "fail",
      value: round(ratio99, 3),
      limit: l.p99_factor,
      detail: `p99 candidate ${round(p99c / 1000, 3)} ms vs legacy ${round(p99l / 1000, 3)} ms`,
    });
  }
  return results;
}

/** What the controller does for a route in shadow or canary, at `now`. */
export function decide(s: StepStats, stepStartedAt: number, now: number, step: StepSettings, g: GateSettings): Decision {
  const gates = evaluateGates(s, g);
  const failed = gates.filter((r) => r.status === "fail");
  if (failed.length > 0) return { action: "rollback", reason: `gate failed: ${failed.map((f) => `${f.gate} ${f.value} > ${f.limit} (${f.detail})`).join("; ")}`, gates };
  const waiting: string[] = [];
  const elapsed = now - stepStartedAt;
  if (elapsed < step.min_duration) waiting.push(`${Math.round(elapsed / 1000)} s of ${Math.round(step.min_duration / 1000)} s in the step`);
  if (s.compared < step.min_requests) waiting.push(`${s.compared} of ${step.min_requests} requests compared`);
  const pending = gates.filter((r) => r.status === "pending");
  if (pending.length > 0) waiting.push(`gates pending: ${pending.map((p) => p.gate).join(", ")}`);
  if (waiting.length > 0) return { action: "wait", reason: waiting.join("; "), gates };
  return { action: "promote", reason: `all gates passed for ${Math.round(elapsed / 1000)} s and ${s.compared} compared requests`, gates };
}
