/**
 * Operand checks and text helpers shared by the string-handling built-in
 * families (strings, sprintf, regex, glob, units, semver, uuid, casts).
 *
 * Two things make these more than one-liners. OPA words some operand errors
 * its own way ("must be integer number but got floating-point number",
 * "must be array of strings but got array containing number"), still as
 * eval_type_error, which the contract's operandError cannot say. And Rego
 * strings count code points while JS strings count UTF-16 units, so every
 * index or length a policy sees goes through the code-point helpers here.
 */
import { BigNum, toBigInt } from "../number.ts";
import { RegoSet, typeName, type Value } from "../value.ts";
import { BuiltinError, operandError } from "./types.ts";

/** An operand error in OPA's free wording: `"<name>: operand <n> <message>"` (eval_type_error). */
export function operandMessage(name: string, position: number, message: string): BuiltinError {
  return new BuiltinError("eval_type_error", `${name}: operand ${position} ${message}`);
}

/** The argument at 1-based `position`, which must be a string. */
export function stringArg(name: string, args: readonly Value[], position: number): string {
  const v = args[position - 1] as Value;
  if (typeof v !== "string") throw operandError(name, position, "string", v);
  return v;
}

/**
 * The argument at `position` as an integer, as OPA's IntOperand reads it:
 * "must be number" for a non-number, "must be integer number but got
 * floating-point number" for a fraction. Integers beyond a double's exact
 * range come back as the nearest double (they only ever bound a loop or an
 * index, where that makes no difference).
 */
export function intArg(name: string, args: readonly Value[], position: number): number {
  const v = args[position - 1] as Value;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw operandMessage(name, position, "must be integer number but got floating-point number");
    return v;
  }
  if (v instanceof BigNum) {
    const b = toBigInt(v);
    if (b === undefined) throw operandMessage(name, position, "must be integer number but got floating-point number");
    return Number(b);
  }
  throw operandError(name, position, "number", v);
}

/**
 * The strings of an array or set operand (OPA's StringSliceOperand): a member
 * of another type is `"must be array of strings but got array containing number"`.
 */
export function stringMembers(name: string, v: readonly Value[] | RegoSet, position: number): string[] {
  const members = v instanceof RegoSet ? v.values() : v;
  const kind = v instanceof RegoSet ? "set" : "array";
  const out: string[] = [];
  for (const m of members) {
    if (typeof m !== "string") throw operandMessage(name, position, `must be ${kind} of strings but got ${kind} containing ${typeName(m)}`);
    out.push(m);
  }
  return out;
}

/** True when every UTF-16 unit is ASCII, so units, code points and UTF-8 bytes all coincide. */
export function isASCII(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The code points of `s`, each as a string (a surrogate pair stays whole). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Number of code points in `s`. */
export function codePointLength(s: string): number {
  if (isASCII(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** UTF-16 units taken by the code point starting at index `i` of `s` (1 or 2). */
export function unitsAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** Number of UTF-8 bytes of `s` (what Go's len() says of a string). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/**
 * Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
 * ASCII space. What strconv.Quote leaves as it is.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote: a double-quoted Go string literal, printable runes as they are. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch, '"');
  return `${out}"`;
}

/** Go's strconv.QuoteRune for one code point: `'a'`, `'\n'`, `'\x00'`. */
export function goQuoteRune(ch: string): string {
  return `'${quoteRune(ch, "'")}'`;
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
};

function quoteRune(ch: string, quote: string): string {
  if (ch === quote) return `\\${quote}`;
  const esc = ESCAPES[ch];
  if (esc !== undefined) return esc;
  const cp = ch.codePointAt(0) as number;
  // A lone surrogate is no rune at all; Go would have read U+FFFD in its place.
  if (cp >= 0xd800 && cp <= 0xdfff) return "\uFFFD";
  if (PRINTABLE.test(ch)) return ch;
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}
