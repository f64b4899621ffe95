/**
 * "Port this first" (issue 14): ranks observed endpoints by how much moving
 * them would matter. By default the score is the endpoint's share of all time
 * spent serving requests, times an error weight (1 + 5xx rate × w), so a hot
 * endpoint that also fails rises to the top. Each result carries its factors
 * and a sentence that explains it with the same numbers ("38% of all time
 * spent (p99 420 ms), 2.1% errors → score 0.41"). The ranking is plain JSON.
 */
import { FicusError } from "../core/errors.ts";
import { ANY_METHOD, type EndpointSummary, type ProfileSnapshot, type ProfileSummary, summarizeProfiles } from "./profile.ts";
import { OTHER } from "./templates.ts";

export interface RankingWeights {
  /** The exponent on time share: 1 is linear; above 1 favours the hottest endpoints more. Default 1. */
  readonly timeShare?: number;
  /** w in the error weight 1 + (5xx rate) × w. Default 4. */
  readonly serverErrors?: number;
  /** Weight of the 4xx rate in the error weight (client errors say little about the backend). Default 0. */
  readonly clientErrors?: number;
  /** Endpoints with fewer requests are left out (too little evidence). Default 1. */
  readonly minRequests?: number;
  /** At most this many results. Default: all. */
  readonly limit?: number;
}

export const DEFAULT_WEIGHTS = { timeShare: 1, serverErrors: 4, clientErrors: 0, minRequests: 1 } as const;

export interface RankedEndpoint {
  readonly rank: number;
  readonly method: string;
  readonly template: string;
  readonly score: number;
  readonly requests: number;
  readonly timeShare: number;
  readonly errorRate: number;
  readonly clientErrorRate: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly latencyTotalMs: number;
  /** score = factors.time × factors.errors. */
  readonly factors: { readonly time: number; readonly errors: number };
  readonly explanation: string;
}

export interface Ranking {
  readonly version: 1;
  readonly weights: Required<Omit<RankingWeights, "limit">>;
  readonly totalRequests: number;
  readonly totalLatencyMs: number;
  /** Time spent in requests past the endpoint cap (`(other)`): counted in the total, not ranked. */
  readonly otherTimeShare: number;
  readonly endpoints: RankedEndpoint[];
}

function weight(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new FicusError("FICUS_CONFIG_INVALID", `observe ranking: ${name} must be a number ≥ 0, got ${String(v)}`);
  return v;
}

/** A percentage as the explanation prints it: "38%", "2.1%", "0.42%". */
export function formatPercent(fraction: number): string {
  const v = fraction * 100;
  if (v === 0) return "0%";
  if (v >= 10) return `${Math.round(v)}%`;
  if (v >= 1) return `${v.toFixed(1)}%`;
  return `${Number(v.toPrecision(2))}%`;
}

/** A latency as the explanation prints it: "420 ms", "12.5 ms", "0.85 ms". */
export function formatMs(v: number): string {
  if (v >= 100) return `${Math.round(v)} ms`;
  if (v >= 10) return `${Number(v.toFixed(1))} ms`;
  return `${Number(v.toFixed(2))} ms`;
}

/** A score with two significant digits: "0.41", "0.012", "1.2". */
export function formatScore(v: number): string {
  return v === 0 ? "0" : String(Number(v.toPrecision(2)));
}

const isOther = (e: { method: string; template: string }) => e.template === OTHER || e.method === ANY_METHOD;

/** Ranks the endpoints of a profile (a snapshot, or its summary when already computed). */
export function rankEndpoints(input: ProfileSnapshot | ProfileSummary, weights: RankingWeights = {}): Ranking {
  const summary: ProfileSummary = "version" in input ? summarizeProfiles(input) : input;
  const w = {
    timeShare: weight("timeShare", weights.timeShare, DEFAULT_WEIGHTS.timeShare),
    serverErrors: weight("serverErrors", weights.serverErrors, DEFAULT_WEIGHTS.serverErrors),
    clientErrors: weight("clientErrors", weights.clientErrors, DEFAULT_WEIGHTS.clientErrors),
    minRequests: weight("minRequests", weights.minRequests, DEFAULT_WEIGHTS.minRequests),
  };
  let otherTimeShare = 0;
  const scored: Omit<RankedEndpoint, "rank">[] = [];
  for (const e of summary.endpoints) {
    if (isOther(e)) {
      otherTimeShare += e.timeShare;
      continue;
    }
    if (e.requests < w.minRequests) continue;
    const time = e.timeShare ** w.timeShare;
    const errors = 1 + e.errorRate * w.serverErrors + e.clientErrorRate * w.clientErrors;
    const score = time * errors;
    scored.push({
      method: e.method,
      template: e.template,
      score,
      requests: e.requests,
      timeShare: e.timeShare,
      errorRate: e.errorRate,
      clientErrorRate: e.clientErrorRate,
      p50Ms: e.p50Ms,
      p95Ms: e.p95Ms,
      p99Ms: e.p99Ms,
      latencyTotalMs: e.latencyTotalMs,
      factors: { time, errors },
      explanation: explain(e, score, w.clientErrors > 0),
    });
  }
  scored.sort((a, b) => b.score - a.score || b.timeShare - a.timeShare || (a.method < b.method ? -1 : a.method > b.method ? 1 : 0) || (a.template < b.template ? -1 : 1));
  const limited = weights.limit === undefined ? scored : scored.slice(0, Math.max(0, Math.floor(weights.limit)));
  return {
    version: 1,
    weights: w,
    totalRequests: summary.requests,
    totalLatencyMs: summary.latencyTotalMs,
    otherTimeShare,
    endpoints: limited.map((e, i) => ({ rank: i + 1, ...e })),
  };
}

function explain(e: EndpointSummary, score: number, withClientErrors: boolean): string {
  const clientErrors = withClientErrors ? `, ${formatPercent(e.clientErrorRate)} 4xx` : "";
  return `${formatPercent(e.timeShare)} of all time spent (p99 ${formatMs(e.p99Ms)}), ${formatPercent(e.errorRate)} errors${clientErrors} → score ${formatScore(score)}`;
}
