/**
 * The known-failures list (test/conformance/opa-known-failures.tsv): OPA
 * cases the engine is allowed to fail, each with the reason a person wrote.
 * One line per case: `<file>\t<note>\t<reason>`; lines starting with `#` are
 * comments. The unit test holds the engine to it both ways (a failure not
 * listed is a regression, a listed case that passes must be removed), and
 * scripts/conformance-known.ts rewrites it from a run.
 */
import type { CaseResult } from "./runner.ts";

export interface KnownFailure {
  readonly file: string;
  readonly note: string;
  readonly reason: string;
}

/** The reason given to a failure new to the list, until a person writes one. */
export const TODO_REASON = "TODO: reason";

const HEADER = [
  "# OPA conformance cases the Rego engine is allowed to fail (file, note, reason; tab-separated).",
  "# The test fails on a failure not listed here and on a listed case that passes.",
  "# Regenerate with `bun scripts/conformance-known.ts` (existing reasons are kept; replace every TODO).",
];

const keyOf = (x: { file: string; note: string }) => `${x.file}\t${x.note}`;

export function parseKnown(text: string): KnownFailure[] {
  const out: KnownFailure[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const [file, note, ...rest] = line.split("\t");
    if (file === undefined || note === undefined || rest.length === 0) throw new Error(`known failures line ${i + 1}: expected <file>\\t<note>\\t<reason>`);
    out.push({ file, note, reason: rest.join("\t") });
  });
  return out;
}

export function formatKnown(entries: readonly KnownFailure[]): string {
  const lines = [...entries].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)).map((e) => `${e.file}\t${e.note}\t${e.reason.replace(/[\t\n]/g, " ")}`);
  return `${[...HEADER, ...lines].join("\n")}\n`;
}

export interface KnownCheck {
  /** Failed and not listed. */
  readonly regressions: readonly CaseResult[];
  /** Listed and passing now: to be removed from the list. */
  readonly fixed: readonly KnownFailure[];
  /** Listed with no reason written yet. */
  readonly todo: readonly KnownFailure[];
  /** Listed but not among the cases run (renamed or removed). */
  readonly stale: readonly KnownFailure[];
}

export function checkKnown(results: readonly CaseResult[], known: readonly KnownFailure[]): KnownCheck {
  const listed = new Map(known.map((k) => [keyOf(k), k]));
  const byKey = new Map(results.map((r) => [keyOf(r), r]));
  return {
    regressions: results.filter((r) => !r.passed && !listed.has(keyOf(r))),
    fixed: known.filter((k) => byKey.get(keyOf(k))?.passed === true),
    todo: known.filter((k) => k.reason.trim() === "" || k.reason.startsWith("TODO")),
    stale: known.filter((k) => !byKey.has(keyOf(k))),
  };
}

/** The list for the current failures: reasons already written are kept, new failures get TODO_REASON. */
export function regenerateKnown(results: readonly CaseResult[], known: readonly KnownFailure[]): KnownFailure[] {
  const reasons = new Map(known.map((k) => [keyOf(k), k.reason]));
  return results.filter((r) => !r.passed).map((r) => ({ file: r.file, note: r.note, reason: reasons.get(keyOf(r)) ?? TODO_REASON }));
}
