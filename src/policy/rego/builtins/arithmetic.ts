/**
 * Arithmetic built-ins: the infix operators (plus, minus, mul, div, rem), abs,
 * round/ceil/floor, numbers.range/range_step and the bits.* family.
 *
 * Every number goes through number.ts, so integers stay exact past 2^53 the
 * way OPA's big.Int path keeps them, and fractions follow number.ts's rules.
 * `minus` is also set difference, as in OPA, and its type errors are worded
 * per operand the way OPA words them.
 */
import {
  abs,
  add,
  decimalOf,
  divide,
  isInteger,
  multiply,
  numFromBigInt,
  remainder,
  sign,
  subtract,
  toBigInt,
  type RNumber,
} from "../number.ts";
import { isNumber, RegoSet, type Value } from "../value.ts";
import { builtinError, BuiltinError, operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

function numberArg(name: string, args: readonly Value[], i: number): RNumber {
  const v = args[i] as Value;
  if (!isNumber(v)) throw operandError(name, i + 1, "number", v);
  return v;
}

/** OPA's integer operand (BigIntOperand): any size, but no fraction. */
function integerArg(name: string, args: readonly Value[], i: number): bigint {
  const v = args[i] as Value;
  if (!isNumber(v)) throw operandError(name, i + 1, "integer", v);
  const b = toBigInt(v);
  if (b === undefined) {
    throw new BuiltinError("eval_type_error", `${name}: operand ${i + 1} must be integer number but got floating-point number`);
  }
  return b;
}

/**
 * number.ts answers undefined when a fraction's result leaves the doubles'
 * range; OPA's big floats never do, so this is an error of ours, raised (not
 * "undefined") so strict mode shows it.
 */
function finite(name: string, r: RNumber | undefined): RNumber {
  if (r === undefined) throw builtinError(name, "result is not a finite number");
  return r;
}

function binary(name: string, op: (a: RNumber, b: RNumber) => RNumber | undefined): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["number", "number"],
    fn: (args) => finite(name, op(numberArg(name, args, 0), numberArg(name, args, 1))),
  };
}

function setDifference(a: RegoSet, b: RegoSet): RegoSet {
  const out = new RegoSet();
  for (const v of a.values()) if (!b.has(v)) out.add(v);
  return out;
}

/**
 * Numbers subtract, sets differ. A mixed pair is worded as OPA words it: when
 * operand 1 is fine, operand 2 "must be set" if it is a number and "must be
 * number" otherwise (so `{1} - "x"` asks for a number).
 */
function minus(args: readonly Value[]): Value {
  const [a, b] = args as [Value, Value];
  if (isNumber(a) && isNumber(b)) return finite("minus", subtract(a, b));
  if (a instanceof RegoSet && b instanceof RegoSet) return setDifference(a, b);
  if (!isNumber(a) && !(a instanceof RegoSet)) throw operandError("minus", 1, "one of {number, set}", a);
  throw operandError("minus", 2, isNumber(b) ? "set" : "number", b);
}

function div(args: readonly Value[]): Value {
  const a = numberArg("div", args, 0);
  const b = numberArg("div", args, 1);
  if (sign(b) === 0) throw builtinError("div", "divide by zero");
  return finite("div", divide(a, b));
}

/** Modulo exists only on integers (4.0 is one), with the dividend's sign. */
function rem(args: readonly Value[]): Value {
  const a = numberArg("rem", args, 0);
  const b = numberArg("rem", args, 1);
  if (!isInteger(a) || !isInteger(b)) throw builtinError("rem", "modulo on floating-point number");
  if (sign(b) === 0) throw builtinError("rem", "modulo by zero");
  return remainder(a, b) as RNumber;
}

type Rounding = "round" | "ceil" | "floor";

/**
 * Rounds a number to an integer exactly, from its decimal digits: a double's
 * shortest text is the decimal it denotes here, so 2.5 rounds to 3 and
 * 0.49999999999999994 to 0. `round` goes half away from zero, as OPA's does.
 */
function roundNumber(n: RNumber, mode: Rounding): RNumber {
  if (isInteger(n)) return n;
  const { coef, exp } = decimalOf(n);
  const digits = (coef < 0n ? -coef : coef).toString().length;
  const neg = coef < 0n;
  if (digits < -exp) {
    // |n| < 0.1: no need to build 10^-exp, which can be huge (1e-400000).
    if (mode === "floor") return neg ? -1 : 0;
    if (mode === "ceil") return neg ? 0 : 1;
    return 0;
  }
  const scale = 10n ** BigInt(-exp);
  let q = coef / scale; // truncated toward zero
  const r = coef % scale; // carries the sign of coef
  if (mode === "floor" && r < 0n) q -= 1n;
  else if (mode === "ceil" && r > 0n) q += 1n;
  else if (mode === "round" && 2n * (neg ? -r : r) >= scale) q += neg ? -1n : 1n;
  return numFromBigInt(q);
}

function rounding(name: Rounding): BuiltinDef {
  return { name, arity: 1, args: ["number"], fn: (args) => roundNumber(numberArg(name, args, 0), name) };
}

/** JS arrays stop at 2^32 − 1 elements; a range past that cannot be built at all. */
const MAX_RANGE = 2 ** 32 - 1;

function range(name: string, from: bigint, to: bigint, step: bigint, ctx: BuiltinContext): Value[] {
  const span = from <= to ? to - from : from - to;
  const count = span / step + 1n;
  ctx.charge(Number(count));
  if (count > BigInt(MAX_RANGE)) throw builtinError(name, "range is too large");
  const out: Value[] = [];
  const down = from > to;
  const lo = Number(from);
  // Doubles count exactly while both ends are safe integers (the usual case).
  if (Number.isSafeInteger(lo) && Number.isSafeInteger(Number(to)) && step <= BigInt(Number.MAX_SAFE_INTEGER)) {
    const d = Number(step) * (down ? -1 : 1);
    for (let i = 0, v = lo; i < Number(count); i++, v += d) out.push(v);
    return out;
  }
  const d = down ? -step : step;
  for (let i = 0n, v = from; i < count; i++, v += d) out.push(numFromBigInt(v));
  return out;
}

function numbersRange(args: readonly Value[], ctx: BuiltinContext): Value {
  const from = integerArg("numbers.range", args, 0);
  const to = integerArg("numbers.range", args, 1);
  return range("numbers.range", from, to, 1n, ctx);
}

function numbersRangeStep(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "numbers.range_step";
  const from = integerArg(name, args, 0);
  const to = integerArg(name, args, 1);
  const step = integerArg(name, args, 2);
  if (step <= 0n) throw builtinError(name, "step must be a positive integer");
  return range(name, from, to, step, ctx);
}

/** bigint operations throw a RangeError past the engine's size limit; a policy gets a built-in error. */
function bigResult(name: string, f: () => bigint): Value {
  try {
    return numFromBigInt(f());
  } catch (e) {
    if (e instanceof RangeError) throw builtinError(name, "result is too large");
    throw e;
  }
}

function bits2(name: string, op: (a: bigint, b: bigint) => bigint): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["number", "number"],
    fn: (args) => {
      const a = integerArg(name, args, 0);
      const b = integerArg(name, args, 1);
      return bigResult(name, () => op(a, b));
    },
  };
}

function shift(name: string, left: boolean): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["number", "number"],
    fn: (args, ctx) => {
      const a = integerArg(name, args, 0);
      const b = integerArg(name, args, 1);
      if (b < 0n) {
        throw new BuiltinError("eval_type_error", `${name}: operand 2 must be an unsigned integer number but got a negative integer`);
      }
      // A left shift allocates b bits: charge for the words it writes.
      if (left) ctx.charge(Number(b / 64n));
      return bigResult(name, () => (left ? a << b : a >> b));
    },
  };
}

export const ARITHMETIC: readonly BuiltinDef[] = [
  binary("plus", add),
  { name: "minus", arity: 2, args: ["any", "any"], fn: minus },
  binary("mul", multiply),
  { name: "div", arity: 2, args: ["number", "number"], fn: div },
  { name: "rem", arity: 2, args: ["number", "number"], fn: rem },
  { name: "abs", arity: 1, args: ["number"], fn: (args) => abs(numberArg("abs", args, 0)) },
  rounding("round"),
  rounding("ceil"),
  rounding("floor"),
  { name: "numbers.range", arity: 2, args: ["number", "number"], fn: numbersRange },
  { name: "numbers.range_step", arity: 3, args: ["number", "number", "number"], fn: numbersRangeStep },
  bits2("bits.and", (a, b) => a & b),
  bits2("bits.or", (a, b) => a | b),
  bits2("bits.xor", (a, b) => a ^ b),
  { name: "bits.negate", arity: 1, args: ["number"], fn: (args) => numFromBigInt(~integerArg("bits.negate", args, 0)) },
  shift("bits.lsh", true),
  shift("bits.rsh", false),
];
