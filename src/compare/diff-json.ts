/**
 * Structural comparison of two JSON documents under compare rules.
 *
 * Object key order never matters. Numbers compare by exact decimal value
 * (10 = 10.0 = 1e1; 9007199254740993 ≠ 9007199254740992), within tolerances
 * when set. Arrays are ordered unless a rule says unordered or keyed; an
 * ordered array whose elements are only rearranged is one `order` difference.
 * The walk keeps one mutable path and formats it only for a difference.
 */
import { formatPath, KeyedSegment, type MatchState, type Segment } from "../core/json-path.ts";
import { PAST_DEADLINE, TOO_LONG } from "../core/regex.ts";
import { BUDGET_EXCEEDED, type Budget } from "./budget.ts";
import { canonicalNumber, decimalEquals, parseDecimal, withinTolerance } from "./decimal.ts";
import { JsonNumber, type JsonValue, kindOf, numberText } from "./json-value.ts";
import { type ArrayMode, type CompiledRules, NORMALIZE_MAX_CHARS, NORMALIZE_MAX_RESULT, type NormalizeRule, type PathRule } from "./rules.ts";

import { parseInstant, sameInstant } from "./timestamps.ts";

export type State = MatchState<PathRule>;

export type DiffKind = "value" | "type" | "missing" | "extra" | "order" | "status" | "header";
export type Severity = "high" | "medium" | "low";

export interface Difference {
  readonly path: string;
  readonly kind: DiffKind;
  readonly severity: Severity;
  /** The legacy side's value (undefined when absent). */
  readonly legacy: unknown;
  /** The candidate side's value (undefined when absent). */
  readonly candidate: unknown;
}

export const SEVERITY: Readonly<Record<DiffKind, Severity>> = {
  type: "high",
  missing: "high",
  status: "high",
  value: "medium",
  order: "medium",
  extra: "low",
  header: "low",
};

/** At most this many differences are collected per comparison; the verdict says when more were cut. */
export const MAX_DIFFERENCES = 1000;

export interface DiffSink {
  readonly differences: Difference[];
  truncated: boolean;
}

export function addDifference(sink: DiffSink, path: string, kind: DiffKind, legacy: unknown, candidate: unknown): void {
  if (sink.differences.length >= MAX_DIFFERENCES) {
    sink.truncated = true;
    return;
  }
  sink.differences.push({ path, kind, severity: SEVERITY[kind], legacy: plain(legacy), candidate: plain(candidate) });
}

/** Values as they appear in a report: a JsonNumber as a number when a double holds its value exactly, else its text. */
function plain(v: unknown): unknown {
  if (v instanceof JsonNumber) {
    const n = Number(v.raw);
    return Number.isFinite(n) && canonicalNumber(String(n)) === canonicalNumber(v.raw) ? n : v.raw;
  }
  return v;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** canonicalNumber for a double: integers by arithmetic (the common case), others through their text. */
function canonicalJsNumber(v: number): string {
  if (v === 0) return "0";
  if (Number.isSafeInteger(v)) {
    let m = v;
    let e = 0;
    while (m % 10 === 0) {
      m /= 10;
      e++;
    }
    return `${m}e${e}`;
  }
  return canonicalNumber(String(v));
}

/** A canonical text of a value (sorted keys, exact numbers), for multiset comparison of array elements. */
export function canonical(v: JsonValue): string {
  if (v === null || typeof v === "boolean") return String(v);
  // Plain strings are quoted directly (JSON.stringify per string was a tenth of a comparison's time).
  if (typeof v === "string") return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
  if (typeof v === "number") return canonicalJsNumber(v);
  if (v instanceof JsonNumber) return canonicalNumber(v.raw);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k] as JsonValue)}`).join(",")}}`;
}

/** Equal numbers: by exact decimal value, within the rules' tolerances. */
export function numbersEqual(a: number | JsonNumber, b: number | JsonNumber, r: CompiledRules): boolean {
  if (typeof a === "number" && typeof b === "number" && a === b) return true;
  if (typeof a === "number" && typeof b === "number" && !r.absTol && !r.relTol) return false;
  const da = parseDecimal(numberText(a));
  const db = parseDecimal(numberText(b));
  if (!da || !db) return numberText(a) === numberText(b);
  return r.absTol || r.relTol ? withinTolerance(da, db, r.absTol, r.relTol) : decimalEquals(da, db);
}

/** True when an ignore rule ends at this state. */
export function ignoredAt(states: State): boolean {
  const m = states.matched;
  return m !== undefined && m.some((r) => r.kind === "ignore");
}

class Walker {
  /** The current path; formatted only for a difference. */
  private readonly path: Segment[] = [];

  constructor(
    private readonly rules: CompiledRules,
    private readonly sink: DiffSink,
    private readonly budget: Budget,
  ) {}

  private here(): string {
    return formatPath(this.path);
  }

  private child(states: State, seg: Segment): State {
    return this.rules.paths.advance(states, seg);
  }

  private ignored(states: State): boolean {
    return ignoredAt(states);
  }

  walk(a: JsonValue | undefined, b: JsonValue | undefined, states: State): void {
    this.budget.tick();
    const here = states.matched;
    let arrayMode: ArrayMode | undefined;
    let timestamp = false;
    if (here) {
      for (const r of here) {
        if (r.kind === "ignore") return;
        if (r.kind === "array") arrayMode = r.array;
        else if (r.kind === "timestamp") timestamp = true;
        // Equal strings stay equal whatever a pattern does to them: only differing ones are run through it.
        else if (r.kind === "normalize" && !(typeof a === "string" && a === b)) {
          if (typeof a === "string") a = this.normalize(r, a);
          if (typeof b === "string") b = this.normalize(r, b);
        }
      }
    }
    if (timestamp) {
      const ta = parseInstant(a instanceof JsonNumber ? Number(a.raw) : a);
      const tb = parseInstant(b instanceof JsonNumber ? Number(b.raw) : b);
      if (ta && tb) {
        if (!sameInstant(ta, tb)) addDifference(this.sink, this.here(), "value", a, b);
        return;
      }
    }
    const ka = kindOf(a);
    const kb = kindOf(b);
    if (ka !== kb) {
      addDifference(this.sink, this.here(), "type", a, b);
      return;
    }
    switch (ka) {
      case "null":
        return;
      case "boolean":
      case "string":
        if (a !== b) addDifference(this.sink, this.here(), "value", a, b);
        return;
      case "number":
        if (!numbersEqual(a as number | JsonNumber, b as number | JsonNumber, this.rules)) addDifference(this.sink, this.here(), "value", a, b);
        return;
      case "object":
        this.objects(a as Record<string, JsonValue>, b as Record<string, JsonValue>, states);
        return;
      case "array":
        this.arrays(a as JsonValue[], b as JsonValue[], states, arrayMode ?? { mode: "ordered" });
    }
  }

  /**
   * One normalize replacement, within the budget: a pattern is never started on
   * a string over NORMALIZE_MAX_CHARS, nor when its worst-case cost exceeds the
   * time left (a regex cannot be interrupted); a result growing past
   * NORMALIZE_MAX_RESULT is abandoned; the clock is read after it. Each stops
   * the comparison: its verdict is incomplete, never a guess.
   */
  private normalize(r: NormalizeRule, s: string): string {
    if (s.length > NORMALIZE_MAX_CHARS) {
      this.budget.stop(`${r.name} (${r.pattern.source}) was not applied at ${this.here()}: the string has ${s.length} characters, more than the ${NORMALIZE_MAX_CHARS} a pattern is run on`);
    }
    const cost = r.pattern.costMs(s.length);
    const left = this.budget.remaining();
    if (cost > left) {
      this.budget.stop(
        `the compare budget of ${this.budget.ms} ms ran out: ${r.name} at ${this.here()} could take up to ${Math.ceil(cost)} ms on a string of ${s.length} characters, and ${Math.max(0, Math.floor(left))} ms were left`,
      );
    }
    const out = r.pattern.replaceWithin(s, r.replace, { maxLength: NORMALIZE_MAX_RESULT, deadline: this.budget.deadline });
    if (out === TOO_LONG) this.budget.stop(`${r.name} (${r.pattern.source}) was not applied at ${this.here()}: its result would be longer than ${NORMALIZE_MAX_RESULT} characters`);
    if (out === PAST_DEADLINE) throw BUDGET_EXCEEDED;
    this.budget.check();
    return out;
  }

  private objects(a: Record<string, JsonValue>, b: Record<string, JsonValue>, states: State): void {
    const nullOk = this.rules.nullEqualsMissing;
    for (const k in a) {
      const av = a[k] as JsonValue;
      const cs = this.child(states, k);
      this.path.push(k);
      if (Object.hasOwn(b, k)) this.walk(av, b[k] as JsonValue, cs);
      else if (!(nullOk && av === null) && !this.ignored(cs)) addDifference(this.sink, this.here(), "missing", av, undefined);
      this.path.pop();
    }
    for (const k in b) {
      if (Object.hasOwn(a, k)) continue;
      const bv = b[k] as JsonValue;
      const cs = this.child(states, k);
      this.path.push(k);
      if (!(nullOk && bv === null) && !this.ignored(cs)) addDifference(this.sink, this.here(), "extra", undefined, bv);
      this.path.pop();
    }
  }

  private arrays(a: JsonValue[], b: JsonValue[], states: State, mode: ArrayMode): void {
    if (mode.mode === "keyed") return this.keyed(a, b, states, mode.key);
    if (mode.mode === "unordered") return this.unordered(a, b, states);
    if (a.length === b.length) {
      // Elementwise first. If elements differ at two or more positions and those elements are only
      // rearranged among themselves, the arrays are a permutation: one "order" difference instead.
      const before = this.sink.differences.length;
      const wasTruncated = this.sink.truncated;
      const differing: number[] = [];
      for (let i = 0; i < a.length; i++) {
        const n = this.sink.differences.length;
        this.element(a[i] as JsonValue, b[i] as JsonValue, states, i);
        if (this.sink.differences.length !== n || (this.sink.truncated && !wasTruncated)) differing.push(i);
      }
      if (differing.length >= 2 && isPermutation(differing.map((i) => a[i] as JsonValue), differing.map((i) => b[i] as JsonValue))) {
        this.sink.differences.length = before;
        this.sink.truncated = wasTruncated;
        addDifference(this.sink, this.here(), "order", a, b);
      }
      return;
    }
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) this.element(a[i] as JsonValue, b[i] as JsonValue, states, i);
    for (let i = n; i < a.length; i++) this.lone(a[i] as JsonValue, undefined, states, i);
    for (let i = n; i < b.length; i++) this.lone(undefined, b[i] as JsonValue, states, i);
  }

  private element(x: JsonValue, y: JsonValue, states: State, seg: Segment): void {
    this.path.push(seg);
    this.walk(x, y, this.child(states, seg));
    this.path.pop();
  }

  private lone(x: JsonValue | undefined, y: JsonValue | undefined, states: State, seg: Segment): void {
    const cs = this.child(states, seg);
    if (this.ignored(cs)) return;
    this.path.push(seg);
    addDifference(this.sink, this.here(), x === undefined ? "extra" : "missing", x, y);
    this.path.pop();
  }

  private unordered(a: JsonValue[], b: JsonValue[], states: State): void {
    this.multiset(a, indices(a.length), b, indices(b.length), states, (i) => i, (j) => j);
  }

  /**
   * Matches elements as multisets: equal ones (by canonical text) first; then,
   * when few are left, pairs equal under the rules (an ignored or normalized
   * field, a tolerance); then what is left in order, so a changed element shows
   * its field-level differences. `segA` and `segB` name an element in paths.
   */
  private multiset(a: JsonValue[], ia: readonly number[], b: JsonValue[], ib: readonly number[], states: State, segA: (i: number) => Segment, segB: (j: number) => Segment): void {
    const pool = new Map<string, number[]>();
    for (const j of ib) {
      const c = canonical(b[j] as JsonValue);
      const list = pool.get(c);
      if (list) list.push(j);
      else pool.set(c, [j]);
    }
    const used = new Set<number>();
    let leftA: number[] = [];
    for (const i of ia) {
      const j = pool.get(canonical(a[i] as JsonValue))?.pop();
      if (j === undefined) leftA.push(i);
      else used.add(j);
    }
    let leftB = ib.filter((j) => !used.has(j));
    if (leftA.length > 0 && leftB.length > 0 && leftA.length * leftB.length <= MAX_RULED_PAIRINGS) {
      const pairedB = new Set<number>();
      leftA = leftA.filter((i) => {
        const x = a[i] as JsonValue;
        const st = this.child(states, segA(i));
        const j = leftB.find((j) => !pairedB.has(j) && this.equalUnderRules(x, b[j] as JsonValue, st));
        if (j === undefined) return true;
        pairedB.add(j);
        return false;
      });
      leftB = leftB.filter((j) => !pairedB.has(j));
    }
    const n = Math.min(leftA.length, leftB.length);
    for (let k = 0; k < n; k++) this.element(a[leftA[k] as number] as JsonValue, b[leftB[k] as number] as JsonValue, states, segA(leftA[k] as number));
    for (let k = n; k < leftA.length; k++) this.lone(a[leftA[k] as number] as JsonValue, undefined, states, segA(leftA[k] as number));
    for (let k = n; k < leftB.length; k++) this.lone(undefined, b[leftB[k] as number] as JsonValue, states, segB(leftB[k] as number));
  }

  /** True when two values compare equal under the rules (a trial walk; its differences are dropped). */
  private equalUnderRules(x: JsonValue, y: JsonValue, st: State): boolean {
    const trial: DiffSink = { differences: [], truncated: false };
    new Walker(this.rules, trial, this.budget).walk(x, y, st);
    return trial.differences.length === 0 && !trial.truncated;
  }

  /**
   * Elements matched by the value of `field`, compared by JSON type and value
   * (1 and "1" are different keys, as are true and "true"; 1 and 1.0 are one).
   * Elements sharing a key are matched among themselves as a multiset;
   * elements without the key are compared by position among themselves.
   */
  private keyed(a: JsonValue[], b: JsonValue[], states: State, field: string): void {
    const keyOf = (v: JsonValue): string | undefined => {
      if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof JsonNumber || !Object.hasOwn(v, field)) return undefined;
      return canonical(v[field] as JsonValue);
    };
    const segment = (v: JsonValue) => new KeyedSegment(field, keyText((v as Record<string, JsonValue>)[field] as JsonValue));
    const group = (xs: JsonValue[], unkeyed: number[]) => {
      const groups = new Map<string, number[]>();
      xs.forEach((v, i) => {
        const k = keyOf(v);
        if (k === undefined) unkeyed.push(i);
        else {
          const list = groups.get(k);
          if (list) list.push(i);
          else groups.set(k, [i]);
        }
      });
      return groups;
    };
    const unkeyedA: number[] = [];
    const unkeyedB: number[] = [];
    const groupsA = group(a, unkeyedA);
    const groupsB = group(b, unkeyedB);
    for (const [k, ia] of groupsA) {
      const ib = groupsB.get(k);
      const seg = segment(a[ia[0] as number] as JsonValue);
      if (ib === undefined) for (const i of ia) this.lone(a[i] as JsonValue, undefined, states, seg);
      else if (ia.length === 1 && ib.length === 1) this.element(a[ia[0] as number] as JsonValue, b[ib[0] as number] as JsonValue, states, seg);
      else this.multiset(a, ia, b, ib, states, () => seg, () => seg);
    }
    for (const [k, ib] of groupsB) if (!groupsA.has(k)) for (const j of ib) this.lone(undefined, b[j] as JsonValue, states, segment(b[j] as JsonValue));
    const n = Math.min(unkeyedA.length, unkeyedB.length);
    for (let i = 0; i < n; i++) this.element(a[unkeyedA[i] as number] as JsonValue, b[unkeyedB[i] as number] as JsonValue, states, unkeyedA[i] as number);
    for (let i = n; i < unkeyedA.length; i++) this.lone(a[unkeyedA[i] as number] as JsonValue, undefined, states, unkeyedA[i] as number);
    for (let i = n; i < unkeyedB.length; i++) this.lone(undefined, b[unkeyedB[i] as number] as JsonValue, states, unkeyedB[i] as number);
  }
}

/** At most this many trial comparisons pair the elements of a multiset left unmatched by their canonical text. */
const MAX_RULED_PAIRINGS = 64;

function indices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A string key that would read as another JSON value (1, true, null, "…", {…}, […]) or as nothing: shown quoted. */
const AMBIGUOUS_KEY = /^(?:true|false|null|-?\d[\d.eE+-]*|["{[][\s\S]*|)$/;

/** How a key value is shown in a path ($.items[id=7], $.items[id="7"] for the string "7"). */
function keyText(k: JsonValue): string {
  return typeof k === "string" && !AMBIGUOUS_KEY.test(k) ? k : jsonText(k);
}

/** JSON text with keys sorted and numbers as written. */
function jsonText(v: JsonValue): string {
  if (typeof v === "number" || v instanceof JsonNumber) return numberText(v);
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${jsonText(v[k] as JsonValue)}`)
    .join(",")}}`;
}

function isPermutation(a: JsonValue[], b: JsonValue[]): boolean {
  const counts = new Map<string, number>();
  for (const v of a) {
    const c = canonical(v);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  for (const v of b) {
    const c = canonical(v);
    const n = counts.get(c);
    if (!n) return false;
    counts.set(c, n - 1);
  }
  return true;
}

/**
 * Compares two parsed documents, adding differences (paths start at "$") to
 * the sink; throws BUDGET_EXCEEDED past the budget. `state` starts the rule
 * matcher below the root (json-text-equal.ts compares subtrees).
 */
export function diffJson(legacy: JsonValue, candidate: JsonValue, rules: CompiledRules, sink: DiffSink, budget: Budget, state: State = rules.paths.start): void {
  new Walker(rules, sink, budget).walk(legacy, candidate, state);
}
