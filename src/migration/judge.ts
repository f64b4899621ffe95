/**
 * Judging one legacy/candidate pair and recording the verdict: the shared
 * step of the shadow and canary stages (live traffic) and of `ficus replay`
 * (recorded traffic). The pair is always oriented legacy → candidate.
 */
import { type CompiledRules, compareMessages, type Difference, type HttpMessage, type Severity } from "../compare/index.ts";
import { generalizePath, type ResultsBuffer, type Sample } from "./results.ts";

/** One side's whole answer. */
export interface Answer {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  readonly durationMs: number;
}

export type Judgement =
  | { readonly outcome: "matched" | "noise_only" }
  | { readonly outcome: "incomplete"; readonly reason: string }
  | { readonly outcome: "mismatched"; readonly severity: Severity; readonly differences: readonly Difference[]; readonly significant: readonly Difference[] };

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

/**
 * Compares legacy and candidate, and records into `buffer`: paired latency,
 * compared (+ 5xx per side), then matched, noise_only (every differing path is
 * in `noise`) or mismatched under its signature (`sample` is built only when
 * the signature keeps one). A comparison that ran out of its time budget is
 * neither: it is counted as skipped.compare_budget, and not as compared.
 */
export function judgePair(
  buffer: ResultsBuffer,
  route: string,
  legacy: Answer,
  candidate: Answer,
  rules: CompiledRules,
  noise: ReadonlySet<string>,
  sample: (differences: readonly Difference[]) => Sample,
  now = Date.now(),
): Judgement {
  // A recording may not say how long legacy took: then the pair has no latency.
  if (Number.isFinite(legacy.durationMs) && Number.isFinite(candidate.durationMs)) buffer.latency(route, legacy.durationMs, candidate.durationMs);
  const verdict = compareMessages(message(legacy), message(candidate), rules);
  if (verdict.incomplete) {
    buffer.count(route, "skipped.compare_budget");
    return { outcome: "incomplete", reason: verdict.reason ?? "" };
  }
  buffer.count(route, "compared");
  if (legacy.status >= 500) buffer.count(route, "legacy_5xx");
  if (candidate.status >= 500) buffer.count(route, "candidate_5xx");
  if (verdict.equal) {
    buffer.count(route, "matched");
    return { outcome: "matched" };
  }
  buffer.pathsDiffered(route, new Set(verdict.differences.map((d) => generalizePath(d.path))), "raw");
  // Differences only on noise paths say nothing about the candidate.
  const significant = noise.size === 0 ? verdict.differences : verdict.differences.filter((d) => !noise.has(generalizePath(d.path)));
  if (significant.length === 0) {
    buffer.count(route, "noise_only");
    return { outcome: "noise_only" };
  }
  let severity: Severity = "low";
  for (const d of significant) if (RANK[d.severity] > RANK[severity]) severity = d.severity;
  buffer.count(route, "mismatched");
  buffer.count(route, `mismatched_${severity}`);
  buffer.mismatch(route, [legacy.status, candidate.status], significant, now, () => sample(verdict.differences));
  return { outcome: "mismatched", severity, differences: verdict.differences, significant };
}

/** Legacy against itself (A/A): records which paths differ between two legacy answers, i.e. what noise looks like. */
export function judgeAA(buffer: ResultsBuffer, route: string, first: Answer, second: Answer, rules: CompiledRules): void {
  const v = compareMessages(message(first), message(second), rules);
  if (v.incomplete) return;
  buffer.count(route, "aa_compared");
  buffer.pathsDiffered(route, new Set(v.differences.map((d) => generalizePath(d.path))), "aa");
}

/** A live answer or a recorded response as the compare engine takes it (it undoes framing fields and content codings itself). */
function message(a: Answer): HttpMessage {
  return { status: a.status, headers: a.headers, body: a.body };
}
