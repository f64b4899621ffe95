/**
 * The regex family: regex.match, regex.is_valid, regex.split, regex.find_n,
 * regex.find_all_string_submatch_n, regex.replace, regex.template_match and
 * regex.globs_match.
 *
 * Patterns are Go's RE2 syntax, as in OPA, and run on re2js: matching takes
 * time linear in the input whatever the pattern, so a policy fed an
 * attacker's string (or pattern) cannot stall the gateway. What re2js says
 * of a bad pattern is Go's own message ("error parsing regexp: missing
 * closing ]: `[[[`"). A pattern compiling to more than MAX_PROGRAM
 * instructions is refused: matching costs up to program size × input length.
 *
 * Compiled patterns are kept in the policy's cache (ctx.cache), bounded, so
 * a policy matching against patterns taken from its input cannot grow it
 * without limit.
 *
 * The find/split/replace loops are Go's (regexp.FindAllString, Split,
 * ReplaceAllString): after an empty match the search moves on one code
 * point, and an empty match right after the previous match is skipped.
 * Replacements expand `$1`, `${1}`, `$name`, `${name}` and `$$` as Go's
 * Regexp.Expand does.
 */
import { RE2JS, RE2JSException } from "re2js";
import type { Value } from "../value.ts";
import { intArg, stringArg, utf8Length } from "./text-operands.ts";
import { builtinError, type BuiltinContext, type BuiltinDef } from "./types.ts";

/**
 * Largest compiled program accepted. A counted repetition is expanded
 * (`[a-z]{1000}` is 1,002 instructions), so this admits a few of those or a
 * few hundred alternatives of literal text, while bounding the per-character
 * cost of a match.
 */
export const MAX_PROGRAM = 5000;

/** Compiled patterns kept per policy; the oldest goes first beyond this. */
const CACHE_LIMIT = 512;
const CACHE_KEY = "regex:compiled";

/** Charged per this many (instruction × input character) units of matching work. */
const WORK_PER_STEP = 16_384;

type Re2 = ReturnType<RE2JS["re2"]>;

/** A compiled pattern, or the message of why it could not be. */
type Compiled = { readonly re: RE2JS; readonly re2: Re2; readonly size: number } | { readonly error: string };

function cacheOf(ctx: BuiltinContext): Map<string, Compiled> {
  let m = ctx.cache.get(CACHE_KEY) as Map<string, Compiled> | undefined;
  if (m === undefined) {
    m = new Map();
    ctx.cache.set(CACHE_KEY, m);
  }
  return m;
}

function compileUncached(pattern: string): Compiled {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    if (err instanceof RE2JSException) return { error: err.message };
    throw err;
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM) {
    return { error: `pattern too large: it compiles to ${size} instructions, more than the ${MAX_PROGRAM} allowed (each counted repetition is expanded)` };
  }
  return { re, re2: re.re2(), size };
}

/** The pattern compiled (from the policy's cache when it was before), or its error. */
export function compiled(pattern: string, ctx: BuiltinContext): Compiled {
  const cache = cacheOf(ctx);
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const c = compileUncached(pattern);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, c);
  return c;
}

/** The compiled pattern for built-in `name`, charged for matching `input`; a bad pattern is the built-in's error. */
export function regexFor(name: string, pattern: string, input: string, ctx: BuiltinContext): Re2 {
  const c = compiled(pattern, ctx);
  if ("error" in c) throw builtinError(name, c.error);
  ctx.charge(1 + Math.floor(((input.length + 1) * c.size) / WORK_PER_STEP));
  return c.re2;
}

/** Match positions as re2js gives them: [start, end, group1start, group1end, …], -1 for a group that did not take part. */
function allIndexes(re2: Re2, s: string, n: number, groups: boolean): number[][] {
  if (n === 0) return [];
  const found = (groups ? re2.findAllSubmatchIndex(s, n) : re2.findAllIndex(s, n)) as number[][] | null;
  return found ?? [];
}

function match(args: readonly Value[], ctx: BuiltinContext): Value {
  const pattern = stringArg("regex.match", args, 1);
  const s = stringArg("regex.match", args, 2);
  return regexFor("regex.match", pattern, s, ctx).match(s) as boolean;
}

function isValid(args: readonly Value[], ctx: BuiltinContext): Value {
  const pattern = args[0] as Value;
  // Any value may be asked about; only a string can be a valid pattern.
  return typeof pattern === "string" && !("error" in compiled(pattern, ctx));
}

/** Go's Regexp.Split(s, -1). */
function split(args: readonly Value[], ctx: BuiltinContext): Value {
  const pattern = stringArg("regex.split", args, 1);
  const s = stringArg("regex.split", args, 2);
  const re2 = regexFor("regex.split", pattern, s, ctx);
  if (pattern !== "" && s === "") return [""];
  const out: string[] = [];
  let begin = 0;
  let end = 0;
  for (const m of allIndexes(re2, s, -1, false)) {
    end = m[0] as number;
    if (m[1] !== 0) out.push(s.slice(begin, end));
    begin = m[1] as number;
  }
  if (end !== s.length) out.push(s.slice(begin));
  return out;
}

function findN(args: readonly Value[], ctx: BuiltinContext): Value {
  const pattern = stringArg("regex.find_n", args, 1);
  const s = stringArg("regex.find_n", args, 2);
  const n = intArg("regex.find_n", args, 3);
  const re2 = regexFor("regex.find_n", pattern, s, ctx);
  return allIndexes(re2, s, n, false).map((m) => s.slice(m[0], m[1]));
}

function findAllSubmatchN(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "regex.find_all_string_submatch_n";
  const pattern = stringArg(name, args, 1);
  const s = stringArg(name, args, 2);
  const n = intArg(name, args, 3);
  const re2 = regexFor(name, pattern, s, ctx);
  return allIndexes(re2, s, n, true).map((m) => {
    const groups: string[] = [];
    // A group that took no part in the match is "" (Go's FindAllStringSubmatch).
    for (let i = 0; i + 1 < m.length; i += 2) groups.push((m[i] as number) < 0 ? "" : s.slice(m[i], m[i + 1]));
    return groups;
  });
}

/** One piece of a Go replacement template: literal text, a group number, or a group name. */
type TemplatePart = string | { readonly group: number } | { readonly name: string };

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** Go's Regexp.Expand template, parsed once per replacement. */
function parseTemplate(t: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = "";
  let i = 0;
  while (i < t.length) {
    const dollar = t.indexOf("$", i);
    if (dollar < 0) break;
    text += t.slice(i, dollar);
    i = dollar + 1;
    if (t[i] === "$") {
      text += "$";
      i++;
      continue;
    }
    const ref = readReference(t, i);
    if (ref === undefined) {
      // Malformed: the $ is literal text.
      text += "$";
      continue;
    }
    if (text !== "") parts.push(text);
    text = "";
    parts.push(/^\d+$/.test(ref.name) && ref.name.length < 9 ? { group: Number(ref.name) } : { name: ref.name });
    i = ref.next;
  }
  text += t.slice(i);
  if (text !== "") parts.push(text);
  return parts;
}

/** A `name` or `{name}` at index i: the longest run of letters, digits and underscores. */
function readReference(t: string, i: number): { name: string; next: number } | undefined {
  const brace = t[i] === "{";
  let j = brace ? i + 1 : i;
  const start = j;
  while (j < t.length) {
    const ch = String.fromCodePoint(t.codePointAt(j) as number);
    if (!NAME_CHAR.test(ch)) break;
    j += ch.length;
  }
  if (j === start) return undefined;
  const name = t.slice(start, j);
  if (!brace) return { name, next: j };
  return t[j] === "}" ? { name, next: j + 1 } : undefined;
}

function replace(args: readonly Value[], ctx: BuiltinContext): Value {
  const s = stringArg("regex.replace", args, 1);
  const pattern = stringArg("regex.replace", args, 2);
  const template = stringArg("regex.replace", args, 3);
  const re2 = regexFor("regex.replace", pattern, s, ctx);
  const c = compiled(pattern, ctx) as { readonly re: RE2JS };
  const named = c.re.namedGroups();
  const parts = parseTemplate(template);
  let out = "";
  let last = 0;
  for (const m of allIndexes(re2, s, -1, true)) {
    out += s.slice(last, m[0]);
    for (const p of parts) {
      if (typeof p === "string") {
        out += p;
        continue;
      }
      const g = "group" in p ? p.group : named[p.name];
      if (g === undefined || 2 * g + 1 >= m.length || (m[2 * g] as number) < 0) continue;
      out += s.slice(m[2 * g], m[2 * g + 1]);
    }
    last = m[1] as number;
    if (out.length > 1024) ctx.charge(Math.floor(out.length / 1024));
  }
  return out + s.slice(last);
}

/** Go's regexp.QuoteMeta: every character special to RE2 behind a backslash. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/**
 * The pattern a template stands for: text outside the delimiters is literal,
 * each delimited part is a regular expression in a group, anchored at both
 * ends. Undefined with the reason when the delimiters are unbalanced.
 */
function templatePattern(tpl: string, open: string, close: string): { pattern: string; parts: string[] } | { error: string } {
  const bounds: [number, number][] = [];
  let level = 0;
  let start = 0;
  for (let i = 0; i < tpl.length; i++) {
    const ch = tpl[i];
    if (ch === open) {
      if (++level === 1) start = i;
    } else if (ch === close) {
      if (--level === 0) bounds.push([start, i + 1]);
      else if (level < 0) return { error: `unbalanced braces in ${JSON.stringify(tpl)}` };
    }
  }
  if (level !== 0) return { error: `unbalanced braces in ${JSON.stringify(tpl)}` };
  let pattern = "^";
  let end = 0;
  const parts: string[] = [];
  for (const [a, b] of bounds) {
    const part = tpl.slice(a + 1, b - 1);
    parts.push(part);
    pattern += `${quoteMeta(tpl.slice(end, a))}(${part})`;
    end = b;
  }
  return { pattern: `${pattern}${quoteMeta(tpl.slice(end))}$`, parts };
}

function templateMatch(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "regex.template_match";
  const tpl = stringArg(name, args, 1);
  const s = stringArg(name, args, 2);
  const open = stringArg(name, args, 3);
  const close = stringArg(name, args, 4);
  // Go measures the delimiters in bytes: each must be one ASCII character.
  if (utf8Length(open) !== 1) throw builtinError(name, `start delimiter has to be exactly one character long but is ${utf8Length(open)} long`);
  if (utf8Length(close) !== 1) throw builtinError(name, `end delimiter has to be exactly one character long but is ${utf8Length(close)} long`);
  const t = templatePattern(tpl, open, close);
  if ("error" in t) throw builtinError(name, t.error);
  // Each delimited part must be a pattern on its own too (OPA compiles each).
  for (const part of t.parts) regexFor(name, `^${part}$`, "", ctx);
  return regexFor(name, t.pattern, s, ctx).match(s) as boolean;
}

/** A character class of regex.globs_match: any character, or a union of inclusive code-point ranges. */
type CharClass = "any" | readonly (readonly [number, number])[];

interface GlobToken {
  readonly chars: CharClass;
  /** `*`: zero or more; `+` is rewritten as the token followed by its starred copy. */
  readonly star: boolean;
}

class GlobSyntaxError extends Error {}

function invalid(pos: number, message: string): GlobSyntaxError {
  return new GlobSyntaxError(`pos:${pos}:${message}: the input provided is invalid`);
}

/**
 * Reads a glob of regex.globs_match: `.` any character, `[...]` a class with
 * `a-z` ranges, `*` and `+` after a token, `\` escaping anything. Everything
 * else is itself.
 */
function parseGlob(src: string): GlobToken[] {
  const cps = Array.from(src, (c) => c.codePointAt(0) as number);
  const out: { chars: CharClass; flag: "" | "*" | "+" }[] = [];
  let i = 0;
  /** The code point at i, and whether a backslash escaped it. */
  const next = (): { cp: number; escaped: boolean } => {
    const cp = cps[i] as number;
    if (cp !== 0x5c) {
      i++;
      return { cp, escaped: false };
    }
    if (i + 1 >= cps.length) throw invalid(i, "input ends with a \\ (escape) character");
    i += 2;
    return { cp: cps[i - 1] as number, escaped: true };
  };
  while (i < cps.length) {
    const { cp, escaped } = next();
    const ch = escaped ? "" : String.fromCodePoint(cp);
    if (ch === ".") out.push({ chars: "any", flag: "" });
    else if (ch === "[") out.push({ chars: parseClass(cps, () => i, (v) => (i = v), next), flag: "" });
    else if (ch === "]") throw invalid(i, "set-close ']' with no preceding '['");
    else if (ch === "*" || ch === "+") {
      const last = out[out.length - 1];
      if (last === undefined || last.flag !== "") throw invalid(i, `flag '${ch}' must be preceded by a non-flag`);
      last.flag = ch;
    } else out.push({ chars: [[cp, cp]], flag: "" });
  }
  const tokens: GlobToken[] = [];
  for (const t of out) {
    if (t.flag !== "*") tokens.push({ chars: t.chars, star: false });
    if (t.flag !== "") tokens.push({ chars: t.chars, star: true });
  }
  return tokens;
}

function parseClass(
  cps: readonly number[],
  pos: () => number,
  setPos: (v: number) => void,
  next: () => { cp: number; escaped: boolean },
): CharClass {
  const ranges: [number, number][] = [];
  let prev: number | undefined;
  while (pos() < cps.length) {
    const { cp, escaped } = next();
    if (!escaped && cp === 0x5d) return ranges;
    if (escaped || cp !== 0x2d) {
      ranges.push([cp, cp]);
      prev = cp;
      continue;
    }
    // A range: the character before the '-' up to the one after it.
    if (prev === undefined) throw invalid(pos(), "range character '-' must be preceded by a Unicode character");
    if (pos() >= cps.length - 1) throw invalid(pos(), "range character '-' must be followed by a Unicode character");
    const hi = next();
    if (!hi.escaped && (hi.cp === 0x5d || hi.cp === 0x2d)) throw invalid(pos(), "range character '-' cannot be followed by a special symbol");
    if (hi.cp < prev) throw invalid(pos(), `range is out of order: '${String.fromCodePoint(hi.cp)}' comes before '${String.fromCodePoint(prev)}' in Unicode`);
    ranges.push([prev, hi.cp]);
    prev = undefined;
  }
  setPos(cps.length);
  throw invalid(cps.length, "found [ without matching ]");
}

function overlaps(a: CharClass, b: CharClass): boolean {
  if (a === "any") return b === "any" || b.length > 0;
  if (b === "any") return a.length > 0;
  for (const [lo, hi] of a) for (const [lo2, hi2] of b) if (lo <= hi2 && lo2 <= hi) return true;
  return false;
}

/** States reachable from `i` without reading: past every starred token. */
function closure(g: readonly GlobToken[], i: number): number[] {
  const out = [i];
  while (i < g.length && (g[i] as GlobToken).star) out.push(++i);
  return out;
}

/**
 * Whether some non-empty string matches both globs (each anchored at both
 * ends): a search over pairs of positions in the two, reading one character
 * at a time that both tokens accept. Quadratic in the globs' lengths at worst.
 */
function globsIntersect(g1: readonly GlobToken[], g2: readonly GlobToken[], ctx: BuiltinContext): boolean {
  const width = g2.length + 1;
  const seen = new Set<number>();
  let frontier: [number, number][] = [];
  for (const i of closure(g1, 0)) for (const j of closure(g2, 0)) frontier.push([i, j]);
  while (frontier.length > 0) {
    ctx.charge(1);
    const next: [number, number][] = [];
    for (const [i, j] of frontier) {
      const a = g1[i];
      const b = g2[j];
      if (a === undefined || b === undefined || !overlaps(a.chars, b.chars)) continue;
      for (const i2 of closure(g1, a.star ? i : i + 1)) {
        for (const j2 of closure(g2, b.star ? j : j + 1)) {
          if (i2 === g1.length && j2 === g2.length) return true;
          const key = i2 * width + j2;
          if (seen.has(key)) continue;
          seen.add(key);
          next.push([i2, j2]);
        }
      }
    }
    frontier = next;
  }
  return false;
}

function globsMatch(args: readonly Value[], ctx: BuiltinContext): Value {
  const a = stringArg("regex.globs_match", args, 1);
  const b = stringArg("regex.globs_match", args, 2);
  try {
    return globsIntersect(parseGlob(a), parseGlob(b), ctx);
  } catch (err) {
    if (err instanceof GlobSyntaxError) throw builtinError("regex.globs_match", err.message);
    throw err;
  }
}

export const REGEX_BUILTINS: readonly BuiltinDef[] = [
  { name: "regex.match", arity: 2, args: ["string", "string"], fn: match },
  { name: "regex.is_valid", arity: 1, args: ["any"], fn: isValid },
  { name: "regex.split", arity: 2, args: ["string", "string"], fn: split },
  { name: "regex.find_n", arity: 3, args: ["string", "string", "number"], fn: findN },
  { name: "regex.find_all_string_submatch_n", arity: 3, args: ["string", "string", "number"], fn: findAllSubmatchN },
  { name: "regex.replace", arity: 3, args: ["string", "string", "string"], fn: replace },
  { name: "regex.template_match", arity: 4, args: ["string", "string", "string", "string"], fn: templateMatch },
  { name: "regex.globs_match", arity: 2, args: ["string", "string"], fn: globsMatch },
];
