/**
 * The replay report: per route the same shape as `ficus report --json` (stage
 * "replay"), plus a summary of the run and the failed requests. Noise is
 * learned from the run's A/A pairs at the end, so mismatches whose every
 * differing path turned out to be noise are counted as noise_only, as the
 * shadow stage would count them once it had learned the same.
 */
import type { Severity } from "../compare/index.ts";
import { currentSignatures, DEFAULT_NOISE, type RouteReport } from "../migration/report.ts";
import type { Sample } from "../migration/results.ts";
import type { RouteResults } from "../migration/store.ts";
import type { Corrupt } from "./exchange.ts";
import type { Replay, ReplayError } from "./runner.ts";

export const REPORT_VERSION = 1;
/** Failed requests and corrupt inputs listed in report.json (all are counted). */
const LIST_LIMIT = 1000;

export interface ReplaySummary {
  readonly mode: "two-services" | "recording";
  readonly files: readonly string[];
  readonly read: number;
  readonly selected: number;
  readonly corrupt: number;
  readonly compared: number;
  readonly matched: number;
  readonly mismatched: number;
  readonly noise_only: number;
  readonly skipped: number;
  readonly errors: { readonly legacy: number; readonly candidate: number };
  /** The least severity of a mismatch counted by mismatch_rate (--min-severity). */
  readonly min_severity: Severity;
  /** Mismatches at min_severity or above (the rest are reported, not gated on). */
  readonly mismatched_counted: number;
  /** (mismatched_counted + candidate failures) / (compared + candidate failures): what --fail-on-mismatch-rate gates on. */
  readonly mismatch_rate: number;
  readonly duration_s: number;
  readonly exchanges_per_s: number;
}

/** A route's results: the shape of `ficus report --json`, plus the latency distributions for charts. */
export type ReplayRouteReport = RouteReport & { readonly latency: RouteReport["latency"] & { readonly curve: RouteResults["latency"]["curve"] } };

export interface ReplayReport {
  readonly version: number;
  readonly summary: ReplaySummary;
  readonly routes: readonly ReplayRouteReport[];
  readonly errors: readonly ReplayError[];
  readonly corrupt: readonly Corrupt[];
}

/** Sample pairs of the signatures a report lists, by route and signature id (for the HTML report). */
export type ReportSamples = Map<string, Map<string, readonly Sample[]>>;

export async function buildReport(
  replay: Replay,
  mode: ReplaySummary["mode"],
  files: readonly string[],
  errors: readonly ReplayError[],
  corrupt: readonly Corrupt[],
  minSeverity: Severity = "medium",
): Promise<{ report: ReplayReport; samples: ReportSamples }> {
  const routes: ReplayRouteReport[] = [];
  const rank: Record<Severity, number> = { low: 0, medium: 1, high: 2 };
  let counted = 0;
  const samples: ReportSamples = new Map();
  for (const info of [...replay.routes.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const store = replay.store;
    const r = await store.route(info.name);
    const noise = await store.noise(info.name, info.noise ?? DEFAULT_NOISE);
    const noisy = new Set(noise.map((n) => n.path));
    const all = await store.signatures(info.name, 1_000_000);
    let onlyNoise = 0;
    const noiseBySeverity: Record<Severity, number> = { low: 0, medium: 0, high: 0 };
    for (const s of all) {
      if (s.status[0] === s.status[1] && s.paths.every((p) => noisy.has(p))) {
        onlyNoise += s.count;
        noiseBySeverity[s.severity] += s.count;
      }
    }
    for (const sev of ["low", "medium", "high"] as const) if (rank[sev] >= rank[minSeverity]) counted += r.counters[`mismatched_${sev}`] - noiseBySeverity[sev];
    const signatures = currentSignatures(all, noise, 50);
    const mine = new Map<string, readonly Sample[]>();
    for (const sig of signatures) mine.set(sig.id, (await store.samples(info.name, sig.id)) ?? []);
    samples.set(info.name, mine);
    routes.push({
      route: info.name,
      stage: "replay",
      percent: 0,
      paused: false,
      ...r.counters,
      mismatched: r.counters.mismatched - onlyNoise,
      noise_only: r.counters.noise_only + onlyNoise,
      skipped: r.skipped,
      latency: { legacy: r.latency.legacy, candidate: r.latency.candidate, ratio_p50: r.latency.ratio_p50, curve: r.latency.curve },
      signatures,
      noise,
    });
  }
  const sum = (f: (r: RouteReport) => number) => routes.reduce((n, r) => n + f(r), 0);
  const compared = sum((r) => r.compared);
  const mismatched = sum((r) => r.mismatched);
  const mismatchedCounted = counted;
  const candidateFailures = sum((r) => r.candidate_error + r.candidate_timeout);
  const st = replay.stats;
  const duration = st.elapsedMs / 1000;
  const report: ReplayReport = {
    version: REPORT_VERSION,
    summary: {
      mode,
      files,
      read: st.read,
      selected: st.selected,
      corrupt: st.corrupt,
      compared,
      matched: sum((r) => r.matched),
      mismatched,
      noise_only: sum((r) => r.noise_only),
      skipped: sum((r) => Object.values(r.skipped).reduce((a, b) => a + b, 0)),
      errors: { legacy: st.legacyErrors, candidate: st.candidateErrors },
      min_severity: minSeverity,
      mismatched_counted: mismatchedCounted,
      mismatch_rate: compared + candidateFailures === 0 ? 0 : (mismatchedCounted + candidateFailures) / (compared + candidateFailures),
      duration_s: Math.round(duration * 1000) / 1000,
      exchanges_per_s: duration > 0 ? Math.round(st.selected / duration) : 0,
    },
    routes,
    errors: errors.slice(0, LIST_LIMIT),
    corrupt: corrupt.slice(0, LIST_LIMIT),
  };
  return { report, samples };
}

/** The one-line summary printed at the end of a run. */
export function summaryLine(s: ReplaySummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const parts = [
    `replayed ${s.selected} of ${s.read} exchanges in ${s.duration_s.toFixed(1)} s (${s.exchanges_per_s}/s)`,
    `compared ${s.compared}: ${s.matched} matched, ${s.mismatched} mismatched, ${s.noise_only} noise only`,
    `mismatch rate ${pct(s.mismatch_rate)}${s.mismatched_counted < s.mismatched ? ` (${s.mismatched - s.mismatched_counted} mismatches below ${s.min_severity} severity not counted)` : ""}`,
  ];
  if (s.errors.legacy + s.errors.candidate > 0) parts.push(`errors: legacy ${s.errors.legacy}, ${s.mode === "recording" ? "target" : "candidate"} ${s.errors.candidate}`);
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`);
  if (s.corrupt > 0) parts.push(`${s.corrupt} corrupt`);
  return parts.join("; ");
}
