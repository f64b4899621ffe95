/**
 * Type predicates and conversion: is_number, is_string, is_boolean, is_array,
 * is_set, is_object, is_null, type_name and to_number.
 *
 * (Named value-types.ts because builtins/types.ts is the built-in contract.)
 *
 * The predicates answer false, never undefined, for a value of another type,
 * as OPA's do. to_number reads null as 0, booleans as 0 and 1, numbers as
 * themselves, and strings as Go's strconv.ParseFloat accepts decimal numbers,
 * keeping every digit (no trip through a double): "inf", "infinity" and
 * "nan" (any case, any sign) are a type error, text that is no number
 * ParseFloat's "invalid syntax", a magnitude beyond a double its "value out
 * of range". Go's hexadecimal float syntax ("0x1p-2") is not accepted.
 */
import { parseNumber } from "../number.ts";
import { RegoObject, RegoSet, isNumber, typeName, type Value } from "../value.ts";
import { goQuote, operandMessage } from "./text-operands.ts";
import { builtinError, operandError, type BuiltinDef } from "./types.ts";

function predicate(name: string, test: (v: Value) => boolean): BuiltinDef {
  return { name, arity: 1, args: ["any"], fn: (args) => test(args[0] as Value) };
}

/** Go's ParseFloat syntax for decimals: sign, digits with an optional point (a digit on at least one side), exponent. */
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

const NOT_FINITE = new Set(["inf", "infinity", "nan"]);

function parseNumberString(s: string): Value {
  if (NOT_FINITE.has(s.replace(/^[+-]+/, "").toLowerCase())) throw operandMessage("to_number", 1, "must be valid number string but got string");
  const m = DECIMAL.exec(s);
  const whole = m?.[2] ?? "";
  const frac = m?.[3] ?? "";
  if (!m || (whole === "" && frac === "")) throw builtinError("to_number", `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
  // Go rejects what would round to ±Inf as a double; tiny magnitudes are fine (they round to 0 there).
  if (!Number.isFinite(Number(s))) throw builtinError("to_number", `strconv.ParseFloat: parsing ${goQuote(s)}: value out of range`);
  const lexeme = `${m[1] === "-" ? "-" : ""}${whole === "" ? "0" : whole}${frac === "" ? "" : `.${frac}`}${m[4] === undefined ? "" : `e${m[4]}`}`;
  return parseNumber(lexeme) as Value;
}

function toNumber(args: readonly Value[]): Value {
  const v = args[0] as Value;
  if (v === null) return 0;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (isNumber(v)) return v;
  if (typeof v === "string") return parseNumberString(v);
  throw operandError("to_number", 1, "one of {null, boolean, number, string}", v);
}

export const VALUE_TYPE_BUILTINS: readonly BuiltinDef[] = [
  predicate("is_number", isNumber),
  predicate("is_string", (v) => typeof v === "string"),
  predicate("is_boolean", (v) => typeof v === "boolean"),
  predicate("is_array", (v) => Array.isArray(v)),
  predicate("is_set", (v) => v instanceof RegoSet),
  predicate("is_object", (v) => v instanceof RegoObject),
  predicate("is_null", (v) => v === null),
  { name: "type_name", arity: 1, args: ["any"], fn: (args) => typeName(args[0] as Value) },
  { name: "to_number", arity: 1, args: ["any"], fn: toNumber },
];
