/**
 * Aggregate built-ins over collections: count, sum, product, max, min, sort.
 *
 * sum and product fold with number.ts's add and multiply, so a collection of
 * integers sums exactly at any size (as OPA's big.Int path does) and the
 * result agrees with the `+` and `*` operators on the same numbers.
 */
import { add, multiply, type RNumber } from "../number.ts";
import { compare, isNumber, RegoObject, RegoSet, typeName, type Value } from "../value.ts";
import { builtinError, BuiltinError, operandError, type BuiltinDef } from "./types.ts";

/** The members of an array or set operand; anything else is OPA's "one of {set, array}" error. */
function members(name: string, v: Value): readonly Value[] {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RegoSet) return v.values();
  throw operandError(name, 1, "one of {set, array}", v);
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function count(args: readonly Value[]): Value {
  const v = args[0] as Value;
  if (typeof v === "string") return codePoints(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof RegoSet || v instanceof RegoObject) return v.size;
  throw operandError("count", 1, "one of {array, object, set, string}", v);
}

/** sum/product: every member a number, or OPA's "array of numbers but got array containing string". */
function fold(name: string, v: Value, start: RNumber, op: (a: RNumber, b: RNumber) => RNumber | undefined): Value {
  const xs = members(name, v);
  const kind = typeName(v);
  let acc: RNumber = start;
  for (const x of xs) {
    if (!isNumber(x)) {
      throw new BuiltinError("eval_type_error", `${name}: operand 1 must be ${kind} of numbers but got ${kind} containing ${typeName(x)}`);
    }
    const next = op(acc, x);
    if (next === undefined) throw builtinError(name, "result is not a finite number");
    acc = next;
  }
  return acc;
}

/** The greatest (or least) member by OPA's order; no result for an empty collection. */
function extreme(name: string, v: Value, sign: 1 | -1): Value | undefined {
  const xs = members(name, v);
  if (xs.length === 0) return undefined;
  let best = xs[0] as Value;
  for (const x of xs) if (compare(x, best) * sign > 0) best = x;
  return best;
}

function sort(args: readonly Value[]): Value {
  const v = args[0] as Value;
  // A set's members are already in OPA's order; an array is sorted on a copy.
  if (v instanceof RegoSet) return [...v.values()];
  return [...members("sort", v)].sort(compare);
}

export const AGGREGATES: readonly BuiltinDef[] = [
  { name: "count", arity: 1, args: ["any"], fn: count },
  { name: "sum", arity: 1, args: ["any"], fn: (args) => fold("sum", args[0] as Value, 0, add) },
  { name: "product", arity: 1, args: ["any"], fn: (args) => fold("product", args[0] as Value, 1, multiply) },
  { name: "max", arity: 1, args: ["any"], fn: (args) => extreme("max", args[0] as Value, 1) },
  { name: "min", arity: 1, args: ["any"], fn: (args) => extreme("min", args[0] as Value, -1) },
  { name: "sort", arity: 1, args: ["any"], fn: sort },
];
