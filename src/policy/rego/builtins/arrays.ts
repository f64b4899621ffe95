/**
 * Array built-ins: array.concat, array.slice, array.reverse, array.flatten.
 *
 * Arrays are immutable values here, so a result that equals an operand (a
 * concat with an empty side, a slice of everything) is that operand itself.
 */
import { toBigInt } from "../number.ts";
import { isNumber, type Value } from "../value.ts";
import { BuiltinError, operandError, type BuiltinDef } from "./types.ts";

function arrayArg(name: string, args: readonly Value[], i: number): readonly Value[] {
  const v = args[i] as Value;
  if (!Array.isArray(v)) throw operandError(name, i + 1, "array", v);
  return v as readonly Value[];
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * OPA's IntOperand: a number that is an integer in Go's int range. Past it
 * OPA reports the operand as floating-point, and so do we.
 */
function indexArg(name: string, args: readonly Value[], i: number): bigint {
  const v = args[i] as Value;
  if (!isNumber(v)) throw operandError(name, i + 1, "number", v);
  const b = toBigInt(v);
  if (b === undefined || b < INT64_MIN || b > INT64_MAX) {
    throw new BuiltinError("eval_type_error", `${name}: operand ${i + 1} must be integer number but got floating-point number`);
  }
  return b;
}

function concat(args: readonly Value[]): Value {
  const a = arrayArg("array.concat", args, 0);
  const b = arrayArg("array.concat", args, 1);
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...a, ...b];
}

/** Both ends are clamped into the array, and a start past the stop gives []: never an error. */
function slice(args: readonly Value[]): Value {
  const arr = arrayArg("array.slice", args, 0);
  const len = BigInt(arr.length);
  let start = indexArg("array.slice", args, 1);
  let stop = indexArg("array.slice", args, 2);
  if (stop < 0n) stop = 0n;
  else if (stop > len) stop = len;
  if (start < 0n) start = 0n;
  else if (start > stop) start = stop;
  if (start === 0n && stop === len) return arr;
  return arr.slice(Number(start), Number(stop));
}

function reverse(args: readonly Value[]): Value {
  return [...arrayArg("array.reverse", args, 0)].reverse();
}

/** One level only: nested arrays are spliced in, anything else is kept as it is. */
function flatten(args: readonly Value[]): Value {
  const out: Value[] = [];
  for (const v of arrayArg("array.flatten", args, 0)) {
    if (Array.isArray(v)) out.push(...(v as readonly Value[]));
    else out.push(v);
  }
  return out;
}

export const ARRAYS: readonly BuiltinDef[] = [
  { name: "array.concat", arity: 2, args: ["array", "array"], fn: concat },
  { name: "array.slice", arity: 3, args: ["array", "number", "number"], fn: slice },
  { name: "array.reverse", arity: 1, args: ["array"], fn: reverse },
  { name: "array.flatten", arity: 1, args: ["array"], fn: flatten },
];
