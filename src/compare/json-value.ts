/**
 * JSON parsing for comparison, without losing number precision.
 *
 * Fast path: the native JSON.parse, when the text holds no number lexeme that
 * a double cannot represent exactly (every decimal with at most 15 significant
 * digits and a small exponent survives the round trip, so equal doubles mean
 * equal values). Otherwise the parse keeps each number's source text (the
 * reviver's `context.source`) in a JsonNumber, so 9007199254740993 and
 * 9007199254740992 stay different.
 */

export class JsonNumber {
  constructor(readonly raw: string) {}
  toJSON(): number {
    return Number(this.raw);
  }
}

export type JsonValue = null | boolean | number | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

/**
 * Sixteen digits (dots allowed in between) or a three-digit exponent: a double may not hold such a number
 * exactly. Two simple scans: one regex with an alternation measured 4× slower on a 9 KB document.
 */
const LONG_DIGITS = /[\d.]{16}/;
/** A cheap first look, then only number tokens (after ":", "[", "," or space), so hex in strings (UUIDs) does not count. */
const MAYBE_BIG_EXPONENT = /\d[eE][+-]?\d{3}/;
const BIG_EXPONENT = /[:[,\s]-?\d+(?:\.\d+)?[eE][+-]?\d{3}/;

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
const keepSource: Reviver = (_key, value, context) => (typeof value === "number" && context?.source !== undefined ? new JsonNumber(context.source) : value);

/** Parses JSON text; returns undefined when it is not JSON (the caller then compares text). */
export function parseJson(text: string): JsonValue | undefined {
  try {
    if (!LONG_DIGITS.test(text) && !(MAYBE_BIG_EXPONENT.test(text) && BIG_EXPONENT.test(text))) return JSON.parse(text) as JsonValue;
    return JSON.parse(text, keepSource as (k: string, v: unknown) => unknown) as JsonValue;
  } catch (err) {
    // A document too deep for the reviver is still JSON: fall back to the native parse (doubles).
    if (err instanceof RangeError) {
      try {
        return JSON.parse(text) as JsonValue;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

export type JsonKind = "null" | "boolean" | "number" | "string" | "array" | "object";

export function kindOf(v: JsonValue | undefined): JsonKind {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || v instanceof JsonNumber) return "number";
  if (Array.isArray(v)) return "array";
  return typeof v === "object" ? "object" : (typeof v as "boolean" | "string");
}

/** The number's exact decimal text. */
export function numberText(v: number | JsonNumber): string {
  return typeof v === "number" ? String(v) : v.raw;
}
