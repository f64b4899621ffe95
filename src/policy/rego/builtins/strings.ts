/**
 * The strings family: concat, contains, startswith, endswith, format_int,
 * indexof, indexof_n, lower, upper, replace, strings.replace_n, split,
 * strings.split_n, substring, the trim family, strings.count,
 * strings.reverse, strings.any_prefix_match and strings.any_suffix_match.
 *
 * Semantics follow OPA, which leans on Go's strings package: indexes and
 * lengths count code points (Go's runes), case mapping is per code point
 * (Go's simple mapping, not JS's context-sensitive one), `replace` and
 * `strings.replace_n` behave as Go's strings.Replacer (leftmost match wins,
 * among keys matching at one place the one sorted first, output never
 * rescanned), and trim_space trims what Go's unicode.IsSpace calls space.
 *
 * sprintf is in sprintf.ts. strings.render_template (Go's text/template) is
 * not provided.
 */
import { decimalOf, type RNumber } from "../number.ts";
import { RegoObject, RegoSet, compare, isNumber, type Value } from "../value.ts";
import {
  codePointLength,
  codePoints,
  intArg,
  isASCII,
  operandMessage,
  stringArg,
  stringMembers,
  unitsAt,
} from "./text-operands.ts";
import { builtinError, operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

/** Charged per this many characters a built-in scans or builds, so huge strings count against the step budget. */
const CHARS_PER_STEP = 64;

function chargeText(ctx: BuiltinContext, length: number): void {
  if (length >= CHARS_PER_STEP) ctx.charge(Math.floor(length / CHARS_PER_STEP));
}

function concat(args: readonly Value[], ctx: BuiltinContext): Value {
  const sep = stringArg("concat", args, 1);
  const list = args[1] as Value;
  if (!Array.isArray(list) && !(list instanceof RegoSet)) throw operandError("concat", 2, "one of {set, array}", list);
  const parts = stringMembers("concat", list as readonly Value[] | RegoSet, 2);
  const out = parts.join(sep);
  chargeText(ctx, out.length);
  return out;
}

/** Index, in code points, of every occurrence of `needle` in `s` (overlapping ones too), or only the first. */
function codePointIndexes(s: string, needle: string, all: boolean): number[] {
  const out: number[] = [];
  if (isASCII(s)) {
    for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
      out.push(i);
      if (!all) break;
    }
    return out;
  }
  // Walk code points, keeping the UTF-16 offset and the code-point count in step.
  let cp = 0;
  for (let i = 0; i < s.length; i += unitsAt(s, i), cp++) {
    if (s.startsWith(needle, i)) {
      out.push(cp);
      if (!all) break;
    }
  }
  return out;
}

function indexof(args: readonly Value[]): Value {
  const s = stringArg("indexof", args, 1);
  const needle = stringArg("indexof", args, 2);
  if (needle === "") throw builtinError("indexof", "empty search character");
  return codePointIndexes(s, needle, false)[0] ?? -1;
}

function indexofN(args: readonly Value[], ctx: BuiltinContext): Value {
  const s = stringArg("indexof_n", args, 1);
  const needle = stringArg("indexof_n", args, 2);
  if (needle === "") throw builtinError("indexof_n", "empty search character");
  chargeText(ctx, s.length);
  return codePointIndexes(s, needle, true);
}

function substring(args: readonly Value[]): Value {
  const s = stringArg("substring", args, 1);
  const start = intArg("substring", args, 2);
  const length = intArg("substring", args, 3);
  if (start < 0) throw builtinError("substring", "negative offset");
  if (isASCII(s)) return length < 0 ? s.slice(start) : s.slice(start, start + length);
  const cps = codePoints(s);
  return (length < 0 ? cps.slice(start) : cps.slice(start, start + length)).join("");
}

/** Go's strings.Count: non-overlapping occurrences; the empty string occurs once per code point plus once. */
function count(args: readonly Value[]): Value {
  const s = stringArg("strings.count", args, 1);
  const needle = stringArg("strings.count", args, 2);
  if (needle === "") return codePointLength(s) + 1;
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * Go's unicode.ToLower/ToUpper applied to each code point. JS's own case
 * mapping is the full one (ß → SS, final sigma, İ → i̇); Go maps one code
 * point to one, so a JS mapping that changes the length is not Go's, except
 * for U+0130, which Go lowers to a plain i.
 */
function mapCase(s: string, upper: boolean): string {
  if (isASCII(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = "";
  for (const ch of s) {
    if (!upper && ch === "\u0130") {
      out += "i";
      continue;
    }
    const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += codePointLength(mapped) === 1 ? mapped : ch;
  }
  return out;
}

function split(args: readonly Value[], ctx: BuiltinContext): Value {
  const s = stringArg("split", args, 1);
  const sep = stringArg("split", args, 2);
  chargeText(ctx, s.length);
  return splitAll(s, sep);
}

/** Go's strings.Split: an empty separator splits into code points (none for the empty string). */
function splitAll(s: string, sep: string): string[] {
  return sep === "" ? codePoints(s) : s.split(sep);
}

/**
 * strings.split_n(s, sep, n): the first n parts of the split for n > 0, the
 * last |n| for n < 0, none for 0 (OPA's own semantics, not Go's SplitN).
 */
function splitN(args: readonly Value[], ctx: BuiltinContext): Value {
  const s = stringArg("strings.split_n", args, 1);
  const sep = stringArg("strings.split_n", args, 2);
  const n = intArg("strings.split_n", args, 3);
  chargeText(ctx, s.length);
  const parts = splitAll(s, sep);
  if (n === 0) return [];
  return n > 0 ? parts.slice(0, n) : parts.slice(Math.max(parts.length + n, 0));
}

/**
 * Go's strings.Replacer over (old, new) pairs in priority order: scanning left
 * to right, at each place the first pair whose old string starts there is
 * replaced and scanning resumes after it; the output is never rescanned. An
 * empty old string matches at every place, but not twice in a row at one
 * place (so it inserts between code points). Go steps through bytes; this
 * steps through code points, which only differs where Go would cut a
 * multi-byte character in two.
 */
function replacePairs(s: string, pairs: readonly (readonly [string, string])[], ctx: BuiltinContext): string {
  let out = "";
  let last = 0;
  let prevEmpty = false;
  let i = 0;
  while (i <= s.length) {
    let hit: readonly [string, string] | undefined;
    for (const p of pairs) {
      if (p[0] === "" && prevEmpty) continue;
      if (s.startsWith(p[0], i)) {
        hit = p;
        break;
      }
    }
    prevEmpty = hit !== undefined && hit[0] === "";
    if (hit !== undefined) {
      out += s.slice(last, i) + hit[1];
      i += hit[0].length;
      last = i;
      continue;
    }
    i += i < s.length ? unitsAt(s, i) : 1;
  }
  if (last < s.length) out += s.slice(last);
  chargeText(ctx, s.length * pairs.length + out.length);
  return out;
}

function replace(args: readonly Value[], ctx: BuiltinContext): Value {
  const s = stringArg("replace", args, 1);
  const old = stringArg("replace", args, 2);
  const replacement = stringArg("replace", args, 3);
  if (old !== "") {
    chargeText(ctx, s.length);
    return s.split(old).join(replacement);
  }
  return replacePairs(s, [[old, replacement]], ctx);
}

function replaceN(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "strings.replace_n";
  const patterns = args[0] as Value;
  if (!(patterns instanceof RegoObject)) throw operandError(name, 1, "object", patterns);
  const s = stringArg(name, args, 2);
  const pairs: [string, string][] = [];
  // OPA hands Go's Replacer the pairs in the keys' sorted order: the first sorted wins a tie.
  for (const [k, v] of [...patterns.entries()].sort((a, b) => compare(a[0], b[0]))) {
    if (typeof k !== "string") throw operandMessage(name, 1, "non-string key found in pattern object");
    if (typeof v !== "string") throw operandMessage(name, 1, "non-string value found in pattern object");
    pairs.push([k, v]);
  }
  return replacePairs(s, pairs, ctx);
}

/** Go's strings.Trim/TrimLeft/TrimRight: strip leading and/or trailing code points found in the cutset. */
function trimCutset(s: string, cutset: string, left: boolean, right: boolean): string {
  if (s === "" || cutset === "") return s;
  const cut = new Set(codePoints(cutset));
  const cps = codePoints(s);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && cut.has(cps[start] as string)) start++;
  if (right) while (end > start && cut.has(cps[end - 1] as string)) end--;
  return start === 0 && end === cps.length ? s : cps.slice(start, end).join("");
}

/** Go's unicode.IsSpace (which, unlike JS's \s, leaves U+FEFF alone and counts U+0085). */
function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function trimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  // None of the spaces is outside the BMP, so UTF-16 units suffice here.
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function trimPrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}

function trimSuffix(s: string, suffix: string): string {
  return suffix !== "" && s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s;
}

function reverse(args: readonly Value[]): Value {
  const s = stringArg("strings.reverse", args, 1);
  return isASCII(s) ? s.split("").reverse().join("") : codePoints(s).reverse().join("");
}

/** The strings of an any_*_match operand: one string, or an array or set of them. */
function stringOrStrings(name: string, v: Value, position: number): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) || v instanceof RegoSet) return stringMembers(name, v as readonly Value[] | RegoSet, position);
  throw operandError(name, position, "one of {string, set, array}", v);
}

function anyMatch(name: string, suffix: boolean): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["any", "any"],
    fn: (args, ctx) => {
      const strs = stringOrStrings(name, args[0] as Value, 1);
      const affixes = stringOrStrings(name, args[1] as Value, 2);
      ctx.charge(Math.ceil((strs.length * affixes.length) / CHARS_PER_STEP));
      for (const s of strs) {
        for (const a of affixes) if (suffix ? s.endsWith(a) : s.startsWith(a)) return true;
      }
      return false;
    },
  };
}

/** The integer part of a number (toward zero), exactly. */
function truncate(n: RNumber): bigint {
  if (typeof n === "number") return BigInt(Math.trunc(n));
  if (n.isInteger) return n.coef * 10n ** BigInt(n.exp);
  const { coef, exp } = decimalOf(n);
  // Beyond its digits a fraction has no integer part.
  if (-exp > coef.toString().length) return 0n;
  return coef / 10n ** BigInt(-exp);
}

const BASES: ReadonlyMap<number, number> = new Map([
  [2, 2],
  [8, 8],
  [10, 10],
  [16, 16],
]);

function formatInt(args: readonly Value[]): Value {
  const input = args[0] as Value;
  if (!isNumber(input)) throw operandError("format_int", 1, "number", input);
  const base = args[1] as Value;
  if (!isNumber(base)) throw operandError("format_int", 2, "number", base);
  const radix = typeof base === "number" ? BASES.get(base) : undefined;
  if (radix === undefined) throw operandMessage("format_int", 2, "must be one of {2, 8, 10, 16}");
  return truncate(input).toString(radix);
}

function str1(name: string, f: (s: string) => Value): BuiltinDef {
  return { name, arity: 1, args: ["string"], fn: (args) => f(stringArg(name, args, 1)) };
}

function str2(name: string, f: (a: string, b: string) => Value): BuiltinDef {
  return { name, arity: 2, args: ["string", "string"], fn: (args) => f(stringArg(name, args, 1), stringArg(name, args, 2)) };
}

export const STRING_BUILTINS: readonly BuiltinDef[] = [
  { name: "concat", arity: 2, args: ["string", "any"], fn: concat },
  str2("contains", (s, sub) => s.includes(sub)),
  str2("startswith", (s, p) => s.startsWith(p)),
  str2("endswith", (s, p) => s.endsWith(p)),
  { name: "format_int", arity: 2, args: ["number", "number"], fn: formatInt },
  { name: "indexof", arity: 2, args: ["string", "string"], fn: indexof },
  { name: "indexof_n", arity: 2, args: ["string", "string"], fn: indexofN },
  str1("lower", (s) => mapCase(s, false)),
  str1("upper", (s) => mapCase(s, true)),
  { name: "replace", arity: 3, args: ["string", "string", "string"], fn: replace },
  { name: "strings.replace_n", arity: 2, args: ["object", "string"], fn: replaceN },
  { name: "split", arity: 2, args: ["string", "string"], fn: split },
  { name: "strings.split_n", arity: 3, args: ["string", "string", "number"], fn: splitN },
  { name: "substring", arity: 3, args: ["string", "number", "number"], fn: substring },
  str2("trim", (s, c) => trimCutset(s, c, true, true)),
  str2("trim_left", (s, c) => trimCutset(s, c, true, false)),
  str2("trim_right", (s, c) => trimCutset(s, c, false, true)),
  str2("trim_prefix", trimPrefix),
  str2("trim_suffix", trimSuffix),
  str1("trim_space", trimSpace),
  { name: "strings.count", arity: 2, args: ["string", "string"], fn: count },
  { name: "strings.reverse", arity: 1, args: ["string"], fn: reverse },
  anyMatch("strings.any_prefix_match", false),
  anyMatch("strings.any_suffix_match", true),
];
