/**
 * Judging one case's outcome the way OPA's Go harness (topdown's testRun)
 * does, so a case passes here exactly when it would pass there:
 *
 * - results are compared as a *set* of solutions (order and duplicates do not
 *   matter), each solution an object of variable → value;
 * - the engine's values go through JSON first (sets become arrays in OPA's
 *   order, non-string object keys their JSON text), numbers kept exact, and
 *   numbers compare by decimal value (1.0 = 1);
 * - with sort_bindings, each binding of the *actual* result (an array after
 *   the JSON step) is sorted in OPA's order; the expected side is taken as
 *   written, as in OPA;
 * - want_error is a substring of the error's message; want_error_code must
 *   equal the error's code; an error nobody expected fails the case, and so
 *   does a success when an error was expected.
 */
import { compare, equal, RegoObject, RegoSet, toJSONText, type Value } from "../value.ts";
import type { ConformanceCase } from "./cases.ts";

/** What running a case produced. */
export type Outcome =
  | { readonly kind: "results"; readonly results: readonly Readonly<Record<string, Value>>[] }
  /** An engine error (parse, compile or evaluation), with OPA's code. */
  | { readonly kind: "error"; readonly code: string; readonly message: string }
  /** Anything else thrown: a bug, a budget stop, a bad input_term. Always a failure. */
  | { readonly kind: "crash"; readonly message: string };

export interface Verdict {
  readonly passed: boolean;
  /** Why it failed ("" when it passed): one line. */
  readonly reason: string;
}

const MAX_SHOWN = 400;

export function judge(c: ConformanceCase, outcome: Outcome): Verdict {
  if (outcome.kind === "crash") return fail(`exception: ${outcome.message}`);
  if (c.wantResult === undefined && c.wantError === undefined && c.wantErrorCode === undefined) {
    return fail("the case has none of want_result, want_error_code, want_error");
  }
  if (outcome.kind === "error") {
    if (c.wantError === undefined && c.wantErrorCode === undefined) return fail(`unexpected error: ${oneLine(outcome.message)}`);
    if (c.wantError !== undefined && !outcome.message.includes(c.wantError)) {
      return fail(`expected error containing ${JSON.stringify(c.wantError)} but got: ${oneLine(outcome.message)}`);
    }
    if (c.wantErrorCode !== undefined && outcome.code !== c.wantErrorCode) {
      return fail(`expected error code ${c.wantErrorCode} but got ${outcome.code}: ${oneLine(outcome.message)}`);
    }
    // OPA still compares want_result, against the empty result set an error leaves.
    if (c.wantResult !== undefined && c.wantResult.length > 0) return fail(`expected results ${shown(solutionSet(c.wantResult))} but got error: ${oneLine(outcome.message)}`);
    return pass();
  }
  const got = actualSet(outcome.results, c.sortBindings);
  if (c.wantError !== undefined || c.wantErrorCode !== undefined) {
    const what = [c.wantErrorCode, c.wantError !== undefined ? JSON.stringify(c.wantError) : undefined].filter((x) => x !== undefined).join(" ");
    return fail(`expected error ${what} but got results ${shown(got)}`);
  }
  const want = solutionSet(c.wantResult ?? []);
  if (!equal(want, got)) return fail(`expected ${shown(want)} but got ${shown(got)}`);
  return pass();
}

/** The engine's solutions as OPA's harness sees them: a set of JSON-shaped objects. */
export function actualSet(results: readonly Readonly<Record<string, Value>>[], sortBindings: boolean): RegoSet {
  return RegoSet.of(
    results.map((b) => {
      const o = new RegoObject();
      for (const [name, v] of Object.entries(b)) {
        let j = jsonShape(v);
        if (sortBindings && Array.isArray(j)) j = [...j].sort(compare);
        o.set(name, j);
      }
      return o;
    }),
  );
}

function solutionSet(objects: readonly RegoObject[]): RegoSet {
  return RegoSet.of(objects);
}

/**
 * A value after a round trip through JSON, numbers kept exact: sets become
 * arrays (in OPA's order), object keys that are not strings their JSON text.
 */
export function jsonShape(v: Value): Value {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(jsonShape);
  if (v instanceof RegoSet) return v.values().map(jsonShape);
  if (v instanceof RegoObject) {
    const o = new RegoObject();
    for (const [k, val] of v.entries()) o.set(typeof k === "string" ? k : toJSONText(k), jsonShape(val));
    return o;
  }
  return v; // a BigNum
}

function shown(s: RegoSet): string {
  const text = toJSONText(s);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function oneLine(message: string): string {
  const s = message.replace(/\s*\n\s*/g, " ⏎ ");
  return s.length > MAX_SHOWN * 2 ? `${s.slice(0, MAX_SHOWN * 2)}…` : s;
}

function pass(): Verdict {
  return { passed: true, reason: "" };
}

function fail(reason: string): Verdict {
  return { passed: false, reason };
}
