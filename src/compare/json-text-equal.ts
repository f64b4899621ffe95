/**
 * The fast path of a JSON comparison: are these two JSON texts equal under
 * the rules? Both texts are read side by side, without building either tree:
 * where they are spelled alike (the common case: the same serializer) the
 * walk is a character comparison that also checks the syntax; an object whose
 * keys come in another order is indexed by key on the legacy side; numbers and
 * escaped strings are compared by value. Most mirrored answers are equal, and
 * for them this replaces two native parses and a tree walk. At the first
 * difference (or anything it leaves to the full diff) it answers false, and
 * the caller runs the structural diff (diff-json.ts), which explains them.
 *
 * Written as plain functions passing cursors along: measured several times
 * faster on Bun than methods keeping the cursor in a field.
 */
import { BUDGET_EXCEEDED, type Budget } from "./budget.ts";
import { type DiffSink, diffJson, ignoredAt, numbersEqual, type State } from "./diff-json.ts";
import { JsonNumber, parseJson } from "./json-value.ts";
import type { CompiledRules } from "./rules.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** 10^0 … 10^22: each exact in a double, so m / 10^k and m × 10^k (m < 2^53) are correctly rounded. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The end of the string whose opening quote is at `i` (just past the closing quote); -1 when it is not a JSON string. */
function skipString(s: string, i: number): number {
  for (i++; ; ) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const e = escapeLength(s, i);
      if (e < 0) return -1;
      i += e;
    } else if (c < 0x20 || c !== c) return -1; // control character, or the end of the text (NaN)
    else i++;
  }
}

/** The length of the escape sequence at `i` (RFC 8259 §7); -1 when it is not one. */
function escapeLength(s: string, i: number): number {
  const c = s.charCodeAt(i + 1);
  if (c === 0x75) {
    for (let k = 2; k < 6; k++) {
      const h = s.charCodeAt(i + k);
      if (!((h >= ZERO && h <= NINE) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) return -1;
    }
    return 6;
  }
  return c === QUOTE || c === BACKSLASH || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74 ? 2 : -1;
}

/** Where the number read by `readNumber` ended. */
const numberAt = { end: 0 };

/**
 * Reads the number at `i` as the tree parse holds it: a double when it has at
 * most 15 significant digits and a small exponent (then equal doubles mean
 * equal decimals), else its exact text. Undefined when it is not a JSON number.
 */
function readNumber(s: string, i: number): number | JsonNumber | undefined {
  const start = i;
  let c = s.charCodeAt(i);
  const negative = c === MINUS;
  if (negative) c = s.charCodeAt(++i);
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  if (c === ZERO) c = s.charCodeAt(++i);
  else if (c > ZERO && c <= NINE) {
    do {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      c = s.charCodeAt(++i);
    } while (c >= ZERO && c <= NINE);
  } else return undefined;
  if (c === 0x2e) {
    c = s.charCodeAt(++i);
    if (!(c >= ZERO && c <= NINE)) return undefined;
    do {
      mantissa = mantissa * 10 + (c - ZERO);
      if (mantissa !== 0) digits++;
      scale++;
      c = s.charCodeAt(++i);
    } while (c >= ZERO && c <= NINE);
  }
  let exponent = 0;
  let expDigits = 0;
  if (c === 0x65 || c === 0x45) {
    c = s.charCodeAt(++i);
    const expNegative = c === MINUS;
    if (c === 0x2b || c === MINUS) c = s.charCodeAt(++i);
    if (!(c >= ZERO && c <= NINE)) return undefined;
    do {
      exponent = exponent * 10 + (c - ZERO);
      expDigits++;
      c = s.charCodeAt(++i);
    } while (c >= ZERO && c <= NINE);
    if (expNegative) exponent = -exponent;
  }
  numberAt.end = i;
  if (digits > 15 || expDigits > 2) return new JsonNumber(s.slice(start, i));
  const e = exponent - scale;
  const m = negative ? -mantissa : mantissa;
  if (e === 0) return m;
  if (e > 0 && e <= 22) return m * (POW10[e] as number);
  if (e < 0 && e >= -22) return m / (POW10[-e] as number);
  return Number(s.slice(start, i));
}

/** The end of the JSON value at `i` (whitespace before it skipped); -1 when the text there is not one JSON value. */
export function skipJsonValue(s: string, i: number): number {
  const closers: number[] = [];
  for (;;) {
    let c = s.charCodeAt(i);
    while (isWs(c)) c = s.charCodeAt(++i);
    if (c === QUOTE) i = skipString(s, i);
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      c = s.charCodeAt(++i);
      while (isWs(c)) c = s.charCodeAt(++i);
      if (c === close) i++;
      else {
        closers.push(close);
        if (close === CLOSE_OBJECT) {
          if (c !== QUOTE) return -1;
          i = skipString(s, i);
          if (i < 0) return -1;
          c = s.charCodeAt(i);
          while (isWs(c)) c = s.charCodeAt(++i);
          if (c !== COLON) return -1;
          i++;
        }
        continue;
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      if (readNumber(s, i) === undefined) return -1;
      i = numberAt.end;
    } else if (c === 0x74 && s.startsWith("true", i)) i += 4;
    else if (c === 0x66 && s.startsWith("false", i)) i += 5;
    else if (c === 0x6e && s.startsWith("null", i)) i += 4;
    else return -1;
    if (i < 0) return -1;
    // After a value: close what ends here, or go on to the next member.
    for (;;) {
      const close = closers[closers.length - 1];
      if (close === undefined) return i;
      c = s.charCodeAt(i);
      while (isWs(c)) c = s.charCodeAt(++i);
      if (c === close) {
        closers.pop();
        i++;
        continue;
      }
      if (c !== COMMA) return -1;
      i++;
      if (close === CLOSE_OBJECT) {
        c = s.charCodeAt(i);
        while (isWs(c)) c = s.charCodeAt(++i);
        if (c !== QUOTE) return -1;
        i = skipString(s, i);
        if (i < 0) return -1;
        c = s.charCodeAt(i);
        while (isWs(c)) c = s.charCodeAt(++i);
        if (c !== COLON) return -1;
        i++;
      }
      break;
    }
  }
}

function skipWs(s: string, i: number): number {
  while (isWs(s.charCodeAt(i))) i++;
  return i;
}

/** skipWs for the hot spots: one comparison when no whitespace follows (compact JSON). */
function ws(s: string, i: number): number {
  return s.charCodeAt(i) > 0x20 ? i : skipWs(s, i);
}

interface Context {
  readonly rules: CompiledRules;
  readonly budget: Budget;
  /** The matcher's state where no rule can apply below: no path work at all. */
  readonly dead: State;
  /** Values left until the next look at the clock. */
  countdown: number;
  /** Where the legacy value just compared ends (the functions return the candidate's end). */
  aEnd: number;
  /** Where the key just read ends. */
  keyEnd: number;
  /** Failed whole-subtree comparisons on the current path (see `member`). */
  rescans: number;
}

const CHECK_EVERY = 1024;

/**
 * Compares the values at `a[ia]` and `b[ib]`; returns where the candidate's
 * ends (and sets cx.aEnd), or -1 when they differ, a text is not JSON there,
 * or the case is left to the full diff.
 */
function value(a: string, ia: number, b: string, ib: number, st: State, cx: Context): number {
  if (--cx.countdown === 0) {
    cx.countdown = CHECK_EVERY;
    cx.budget.check();
  }
  ia = ws(a, ia);
  ib = ws(b, ib);
  if (st.matched !== undefined) return ruled(a, ia, b, ib, st, cx);
  const ca = a.charCodeAt(ia);
  const cb = b.charCodeAt(ib);
  if (ca === QUOTE) return cb === QUOTE ? string(a, ia, b, ib, cx) : -1;
  if (ca === OPEN_OBJECT) return cb === OPEN_OBJECT ? object(a, ia, b, ib, st, cx) : -1;
  if (ca === OPEN_ARRAY) return cb === OPEN_ARRAY ? array(a, ia, b, ib, st, cx) : -1;
  if (ca === MINUS || (ca >= ZERO && ca <= NINE)) {
    if (!(cb === MINUS || (cb >= ZERO && cb <= NINE))) return -1;
    const x = readNumber(a, ia);
    if (x === undefined) return -1;
    cx.aEnd = numberAt.end;
    const y = readNumber(b, ib);
    if (y === undefined || (x !== y && !numbersEqual(x, y, cx.rules))) return -1;
    return numberAt.end;
  }
  const word = ca === 0x74 ? "true" : ca === 0x66 ? "false" : ca === 0x6e ? "null" : undefined;
  if (word === undefined || !a.startsWith(word, ia) || !b.startsWith(word, ib)) return -1;
  cx.aEnd = ia + word.length;
  return ib + word.length;
}

/**
 * A member or element: a container spelled exactly as legacy spells it is
 * equal under any rules (one native comparison, after checking its syntax);
 * anything else is compared by `value`.
 */
function member(a: string, ia: number, b: string, ib: number, st: State, cx: Context): number {
  ia = ws(a, ia);
  ib = ws(b, ib);
  const c = b.charCodeAt(ib);
  // Each attempt scans the subtree; below MAX_RESCANS failed ones (a difference deep down) it would rescan it each
  // level, so deeper the characters are compared as they come.
  if ((c === OPEN_OBJECT || c === OPEN_ARRAY) && a.charCodeAt(ia) === c && cx.rescans < MAX_RESCANS) {
    const eb = skipJsonValue(b, ib);
    if (eb < 0) return -1;
    if (a.startsWith(b.slice(ib, eb), ia)) {
      cx.aEnd = ia + (eb - ib);
      return eb;
    }
    // A rule over most of the document (say, `$.items` by key): the full diff will walk it anyway, and explain.
    if (st.matched !== undefined && !ignoredAt(st) && eb - ib > b.length / 2) return -1;
    cx.rescans++;
    const end = value(a, ia, b, ib, st, cx);
    cx.rescans--;
    return end;
  }
  return value(a, ia, b, ib, st, cx);
}

/** Failed whole-subtree comparisons allowed on one path (bounds the rescanning to this many passes over the text). */
const MAX_RESCANS = 8;

/** Two strings: compared character by character while spelled alike; else by what they say. */
function string(a: string, ia: number, b: string, ib: number, cx: Context): number {
  for (let k = 1; ; k++) {
    const c = a.charCodeAt(ia + k);
    if (c !== b.charCodeAt(ib + k) || c === BACKSLASH) return stringByValue(a, ia, b, ib, cx);
    if (c === QUOTE) {
      cx.aEnd = ia + k + 1;
      return ib + k + 1;
    }
    if (c < 0x20 || c !== c) return -1;
  }
}

function stringByValue(a: string, ia: number, b: string, ib: number, cx: Context): number {
  const ea = skipString(a, ia);
  const eb = skipString(b, ib);
  if (ea < 0 || eb < 0) return -1;
  if (JSON.parse(a.slice(ia, ea)) !== JSON.parse(b.slice(ib, eb))) return -1;
  cx.aEnd = ea;
  return eb;
}

/** The key (a string) at `i`, its end in cx.keyEnd; undefined when it is not a string. */
function keyAt(s: string, i: number, cx: Context): string | undefined {
  if (s.charCodeAt(i) !== QUOTE) return undefined;
  const end = skipString(s, i);
  if (end < 0) return undefined;
  cx.keyEnd = end;
  const raw = s.slice(i + 1, end - 1);
  return raw.includes("\\") ? (JSON.parse(s.slice(i, end)) as string) : raw;
}

/** A subtree under a rule: ignored, or parsed and compared by the tree walk (keyed or unordered arrays, timestamps, normalize). */
function ruled(a: string, ia: number, b: string, ib: number, st: State, cx: Context): number {
  const ea = skipJsonValue(a, ia);
  const eb = skipJsonValue(b, ib);
  if (ea < 0 || eb < 0) return -1;
  cx.aEnd = ea;
  if (ignoredAt(st)) return eb;
  if (eb - ib > b.length / 2) return -1; // see `member`
  const x = parseJson(a.slice(ia, ea));
  const y = parseJson(b.slice(ib, eb));
  if (x === undefined || y === undefined) return -1;
  const sink: DiffSink = { differences: [], truncated: false };
  try {
    diffJson(x, y, cx.rules, sink, cx.budget, st);
  } catch (err) {
    // A rule that stopped the comparison (a normalize pattern it could not afford) is left to the full
    // diff, which stops there too and, knowing the path, names it.
    if (err !== BUDGET_EXCEEDED || cx.budget.stopReason === undefined) throw err;
    cx.budget.stopReason = undefined;
    return -1;
  }
  if (sink.differences.length > 0 || sink.truncated) return -1;
  cx.aEnd = ea;
  return eb;
}

function advance(st: State, seg: string | number, cx: Context): State {
  return st === cx.dead ? st : cx.rules.paths.advance(st, seg);
}

/** True when the text at `i` (to `end`) is the literal null. */
function isNull(s: string, i: number, end: number): boolean {
  return end - i === 4 && s.startsWith("null", i);
}

/** Two objects member by member while their keys come in the same order; else `objectByKey`. */
function object(a: string, ia: number, b: string, ib: number, st: State, cx: Context): number {
  const sa = ia;
  const sb = ib;
  ia = ws(a, ia + 1);
  ib = ws(b, ib + 1);
  if (a.charCodeAt(ia) === CLOSE_OBJECT && b.charCodeAt(ib) === CLOSE_OBJECT) {
    cx.aEnd = ia + 1;
    return ib + 1;
  }
  for (;;) {
    if (a.charCodeAt(ia) !== QUOTE || b.charCodeAt(ib) !== QUOTE) return objectByKey(a, sa, b, sb, st, cx);
    // The keys, spelled alike?
    let k = 1;
    for (;;) {
      const c = a.charCodeAt(ia + k);
      if (c !== b.charCodeAt(ib + k) || c === BACKSLASH || c < 0x20 || c !== c) return objectByKey(a, sa, b, sb, st, cx);
      if (c === QUOTE) break;
      k++;
    }
    const cs = st === cx.dead ? st : cx.rules.paths.advance(st, a.slice(ia + 1, ia + k));
    ia = ws(a, ia + k + 1);
    ib = ws(b, ib + k + 1);
    if (a.charCodeAt(ia) !== COLON || b.charCodeAt(ib) !== COLON) return -1;
    ib = member(a, ia + 1, b, ib + 1, cs, cx);
    if (ib < 0) return -1;
    ia = ws(a, cx.aEnd);
    ib = ws(b, ib);
    const ca = a.charCodeAt(ia);
    const cb = b.charCodeAt(ib);
    if (ca === CLOSE_OBJECT && cb === CLOSE_OBJECT) {
      cx.aEnd = ia + 1;
      return ib + 1;
    }
    if (ca === COMMA && cb === COMMA) {
      ia = ws(a, ia + 1);
      ib = ws(b, ib + 1);
      continue;
    }
    // One has more members than the other (perhaps excused), or the text is broken: compare by key.
    return objectByKey(a, sa, b, sb, st, cx);
  }
}

/** Two objects whose keys differ in order or number: legacy's members indexed by key, the candidate's looked up. */
function objectByKey(a: string, ia: number, b: string, ib: number, st: State, cx: Context): number {
  const index = new Map<string, number>();
  ia = ws(a, ia + 1);
  if (a.charCodeAt(ia) === CLOSE_OBJECT) ia++;
  else {
    for (;;) {
      const key = keyAt(a, ia, cx);
      if (key === undefined) return -1;
      ia = ws(a, cx.keyEnd);
      if (a.charCodeAt(ia) !== COLON) return -1;
      const v = ws(a, ia + 1);
      index.set(key, v); // a repeated key: the last one counts, as with JSON.parse
      ia = skipWs(a, skipJsonValue(a, v));
      if (ia < 0) return -1;
      const c = a.charCodeAt(ia++);
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) return -1;
      ia = ws(a, ia);
    }
  }
  const aEnd = ia;
  const nullOk = cx.rules.nullEqualsMissing;
  const seen = new Set<string>();
  /** Legacy's keys the candidate has: `seen` also holds the candidate's own extra keys, so it cannot tell. */
  let matched = 0;
  ib = ws(b, ib + 1);
  if (b.charCodeAt(ib) === CLOSE_OBJECT) ib++;
  else {
    for (;;) {
      const key = keyAt(b, ib, cx);
      if (key === undefined || seen.has(key)) return -1; // a repeated key: left to the full diff
      seen.add(key);
      ib = ws(b, cx.keyEnd);
      if (b.charCodeAt(ib) !== COLON) return -1;
      const cs = advance(st, key, cx);
      const v = index.get(key);
      if (v !== undefined) {
        matched++;
        ib = member(a, v, b, ib + 1, cs, cx);
      } else {
        // A key legacy lacks: equal only when ignored, or null under null_equals_missing.
        const vb = ws(b, ib + 1);
        ib = skipJsonValue(b, vb);
        if (ib < 0 || !(ignoredAt(cs) || (nullOk && isNull(b, vb, ib)))) return -1;
      }
      if (ib < 0) return -1;
      ib = ws(b, ib);
      const c = b.charCodeAt(ib++);
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) return -1;
      ib = ws(b, ib);
    }
  }
  if (matched < index.size) {
    for (const [key, v] of index) {
      if (seen.has(key)) continue;
      if (!(ignoredAt(advance(st, key, cx)) || (nullOk && isNull(a, v, skipJsonValue(a, v))))) return -1;
    }
  }
  cx.aEnd = aEnd;
  return ib;
}

/** Two arrays element by element (arrays under a rule are `ruled`). */
function array(a: string, ia: number, b: string, ib: number, st: State, cx: Context): number {
  ia = ws(a, ia + 1);
  ib = ws(b, ib + 1);
  const emptyA = a.charCodeAt(ia) === CLOSE_ARRAY;
  const emptyB = b.charCodeAt(ib) === CLOSE_ARRAY;
  if (emptyA || emptyB) {
    if (!(emptyA && emptyB)) return -1;
    cx.aEnd = ia + 1;
    return ib + 1;
  }
  for (let k = 0; ; k++) {
    ib = member(a, ia, b, ib, advance(st, k, cx), cx);
    if (ib < 0) return -1;
    ia = ws(a, cx.aEnd);
    ib = ws(b, ib);
    const ca = a.charCodeAt(ia);
    const cb = b.charCodeAt(ib);
    if (ca === CLOSE_ARRAY && cb === CLOSE_ARRAY) {
      cx.aEnd = ia + 1;
      return ib + 1;
    }
    if (ca !== COMMA || cb !== COMMA) return -1;
    ia++;
    ib++;
  }
}

/**
 * True when the JSON texts `legacy` and `candidate` are each one JSON
 * document and equal under the rules; false when they differ, either is not
 * JSON, or the case is left to the full diff (repeated keys, arrays of
 * different lengths). Throws BUDGET_EXCEEDED past the budget, and RangeError
 * for documents nested too deep for recursion (as the full diff does).
 */
export function equalJsonTexts(legacy: string, candidate: string, rules: CompiledRules, budget: Budget): boolean {
  const cx: Context = { rules, budget, dead: rules.paths.dead, countdown: CHECK_EVERY, aEnd: 0, keyEnd: 0, rescans: 0 };
  const end = value(legacy, 0, candidate, 0, rules.paths.start, cx);
  return end >= 0 && skipWs(candidate, end) === candidate.length && skipWs(legacy, cx.aEnd) === legacy.length;
}
