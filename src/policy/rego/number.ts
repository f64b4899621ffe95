/**
 * Rego numbers with OPA's semantics: integers of any size, decimals compared
 * exactly, and no float surprises in equality.
 *
 * Representation (one per value, so equal numbers are always represented
 * alike):
 * - a JS `number` when it is finite, not -0, and either a safe integer or a
 *   non-integer whose shortest round-trip text (`String(x)`) is the decimal;
 * - otherwise a `BigNum`: coefficient × 10^exponent, normalized (no trailing
 *   zeros in the coefficient; zero is never a BigNum).
 *
 * Addition, subtraction and multiplication are exact, as decimals (so
 * 0.1 + 0.2 == 0.3, as in OPA); division that is not exact between integers
 * is done in doubles (OPA uses big floats with a 64-bit mantissa, so a
 * quotient like 1/3 shows a few more digits there).
 */

export class BigNum {
  /** Use makeBig/parseNumber; the fields are normalized. */
  constructor(
    readonly coef: bigint,
    readonly exp: number,
  ) {}

  get isInteger(): boolean {
    return this.exp >= 0;
  }

  toString(): string {
    return bigText(this.coef, this.exp);
  }
}

export type RNumber = number | BigNum;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** The canonical number for a double. NaN and ±Infinity are not numbers in Rego: undefined. */
export function num(x: number): RNumber | undefined {
  if (!Number.isFinite(x)) return undefined;
  if (x === 0) return 0;
  if (Number.isSafeInteger(x) || !Number.isInteger(x)) return x;
  // An integer double beyond 2^53: exact as a bigint.
  return numFromBigInt(BigInt(x));
}

/** The canonical number for an integer. */
export function numFromBigInt(b: bigint): RNumber {
  if (b >= MIN_SAFE && b <= MAX_SAFE) return Number(b);
  return normalize(b, 0);
}

function normalize(coef: bigint, exp: number): RNumber {
  if (coef === 0n) return 0;
  while (coef % 10n === 0n) {
    coef /= 10n;
    exp++;
  }
  if (exp >= 0) {
    // An integer: a JS number when safe.
    if (exp <= 16) {
      const v = coef * 10n ** BigInt(exp);
      if (v >= MIN_SAFE && v <= MAX_SAFE) return Number(v);
    }
    return new BigNum(coef, exp);
  }
  // A fraction: a double when its shortest text is exactly this decimal.
  const digits = coef < 0n ? (-coef).toString() : coef.toString();
  if (digits.length <= 17 && exp > -330) {
    const d = Number(bigText(coef, exp));
    if (Number.isFinite(d) && d !== 0) {
      const back = decimalOf(d);
      if (back.coef === coef && back.exp === exp) return d;
    }
  }
  return new BigNum(coef, exp);
}

/** A BigNum or double from coefficient and exponent, canonicalized. */
export function makeNumber(coef: bigint, exp: number): RNumber {
  return normalize(coef, exp);
}

const LEXEME = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Parses a JSON/Rego number lexeme exactly; undefined when it is not one. */
export function parseNumber(text: string): RNumber | undefined {
  const m = LEXEME.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? "";
  const expPart = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(expPart)) return undefined;
  const digits = (m[2] as string) + frac;
  let coef = BigInt(digits);
  if (m[1] === "-") coef = -coef;
  // Fast path: short integers and ordinary decimals.
  if (frac === "" && m[4] === undefined && digits.length < 16) return coef === 0n ? 0 : Number(coef);
  return normalize(coef, expPart - frac.length);
}

/** coefficient/exponent of any number (a double's shortest text read exactly). */
export function decimalOf(n: RNumber): { coef: bigint; exp: number } {
  if (n instanceof BigNum) return { coef: n.coef, exp: n.exp };
  if (Number.isSafeInteger(n)) {
    let coef = BigInt(n);
    let exp = 0;
    if (coef === 0n) return { coef, exp };
    while (coef % 10n === 0n) {
      coef /= 10n;
      exp++;
    }
    return { coef, exp };
  }
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(n));
  if (!m) throw new Error(`not a finite number: ${n}`);
  const frac = m[3] ?? "";
  let coef = BigInt((m[2] as string) + frac);
  if (m[1] === "-") coef = -coef;
  let exp = Number(m[4] ?? 0) - frac.length;
  if (coef === 0n) return { coef, exp: 0 };
  while (coef % 10n === 0n) {
    coef /= 10n;
    exp++;
  }
  return { coef, exp };
}

/** OPA's text for a number (as `sprintf("%v")`, `format_int`'s input, JSON output). */
export function numberText(n: RNumber): string {
  if (typeof n === "number") return String(n);
  return n.toString();
}

function bigText(coef: bigint, exp: number): string {
  const neg = coef < 0n;
  const digits = (neg ? -coef : coef).toString();
  const sign = neg ? "-" : "";
  if (exp >= 0) {
    if (exp <= 400) return sign + digits + "0".repeat(exp);
    return `${sign}${digits}e+${exp}`;
  }
  const point = digits.length + exp; // digits before the decimal point
  if (point > 0) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  if (point > -400) return `${sign}0.${"0".repeat(-point)}${digits}`;
  return `${sign}${digits}e${exp}`;
}

/**
 * A double's exact value as mant · 2^exp: the significand (53 bits, fewer
 * for subnormals) and the binary exponent of its lowest bit. The sign is
 * left out.
 */
export function floatBits(x: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mant: frac, exp: -1074 } : { mant: frac | (1n << 52n), exp: biased - 1075 };
}

export function isInteger(n: RNumber): boolean {
  return typeof n === "number" ? Number.isInteger(n) : n.exp >= 0;
}

/** The integer as a bigint; undefined when n is not an integer. */
export function toBigInt(n: RNumber): bigint | undefined {
  if (typeof n === "number") return Number.isInteger(n) ? BigInt(n) : undefined;
  return n.exp >= 0 ? n.coef * 10n ** BigInt(n.exp) : undefined;
}

/** The nearest double (±Infinity or 0 for magnitudes beyond a double's range). */
export function toDouble(n: RNumber): number {
  return typeof n === "number" ? n : Number(n.toString());
}

/** A safe JS integer, or undefined when n is not an integer in ±(2^53−1). */
export function toSafeInteger(n: RNumber): number | undefined {
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined;
}

export function sign(n: RNumber): -1 | 0 | 1 {
  const c = typeof n === "number" ? n : n.coef;
  return c > 0 ? 1 : c < 0 ? -1 : 0;
}

/** Exact order of two numbers: negative, zero or positive. */
export function compareNumbers(a: RNumber, b: RNumber): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  const sa = sign(a);
  const sb = sign(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  const da = decimalOf(a);
  const db = decimalOf(b);
  // Compare magnitudes by their order (number of digits + exponent) first, so
  // 1e-400 against 1e400 never builds a 800-digit integer.
  const ma = digitCount(da.coef) + da.exp;
  const mb = digitCount(db.coef) + db.exp;
  if (ma !== mb) return (ma < mb ? -1 : 1) * sa;
  const e = Math.min(da.exp, db.exp);
  const x = da.coef * 10n ** BigInt(da.exp - e);
  const y = db.coef * 10n ** BigInt(db.exp - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

function digitCount(c: bigint): number {
  return (c < 0n ? -c : c).toString().length;
}

export function equalNumbers(a: RNumber, b: RNumber): boolean {
  if (typeof a === "number") return a === b;
  return typeof b !== "number" && a.coef === b.coef && a.exp === b.exp;
}

/** Arithmetic: exact for integers, doubles when an operand has a fraction. Undefined when the result is not finite. */
export function add(a: RNumber, b: RNumber): RNumber | undefined {
  if (typeof a === "number" && typeof b === "number") {
    // Both safe integers with a safe result: the double is exact.
    const r = a + b;
    if (Number.isSafeInteger(r) && Number.isInteger(a) && Number.isInteger(b)) return r === 0 ? 0 : r;
  }
  return exact(a, b, (x, y) => x + y) ?? decimalSum(a, b, 1n);
}

export function subtract(a: RNumber, b: RNumber): RNumber | undefined {
  if (typeof a === "number" && typeof b === "number") {
    // Both safe integers with a safe result: the double is exact.
    const r = a - b;
    if (Number.isSafeInteger(r) && Number.isInteger(a) && Number.isInteger(b)) return r === 0 ? 0 : r;
  }
  return exact(a, b, (x, y) => x - y) ?? decimalSum(a, b, -1n);
}

export function multiply(a: RNumber, b: RNumber): RNumber | undefined {
  if (typeof a === "number" && typeof b === "number") {
    // Both safe integers with a safe result: the double is exact.
    const r = a * b;
    if (Number.isSafeInteger(r) && Number.isInteger(a) && Number.isInteger(b)) return r === 0 ? 0 : r;
  }
  const da = decimalOf(a);
  const db = decimalOf(b);
  return boundedDecimal(da.coef * db.coef, da.exp + db.exp);
}

/** a / b; undefined for division by zero (the caller raises OPA's "divide by zero"). */
export function divide(a: RNumber, b: RNumber): RNumber | undefined {
  if (sign(b) === 0) return undefined;
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x !== undefined && y !== undefined && x % y === 0n) return numFromBigInt(x / y);
  return num(toDouble(a) / toDouble(b));
}

/** Integer remainder with the dividend's sign; undefined when either is not an integer or b is zero. */
export function remainder(a: RNumber, b: RNumber): RNumber | undefined {
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x === undefined || y === undefined || y === 0n) return undefined;
  return numFromBigInt(x % y);
}

export function negate(a: RNumber): RNumber {
  if (typeof a === "number") return a === 0 ? 0 : -a;
  return new BigNum(-a.coef, a.exp);
}

export function abs(a: RNumber): RNumber {
  return sign(a) < 0 ? negate(a) : a;
}

/** a + sign·b, exact; undefined when the exponents are so far apart the result would need > MAX_DIGITS digits. */
function decimalSum(a: RNumber, b: RNumber, sign: bigint): RNumber | undefined {
  const da = decimalOf(a);
  const db = decimalOf(b);
  const e = Math.min(da.exp, db.exp);
  if (da.exp - e > MAX_DIGITS || db.exp - e > MAX_DIGITS) return num(toDouble(a) + Number(sign) * toDouble(b));
  return boundedDecimal(da.coef * 10n ** BigInt(da.exp - e) + sign * db.coef * 10n ** BigInt(db.exp - e), e);
}

/** Beyond this many digits a result is rounded to a double's precision (a policy never needs more; a hostile one cannot grow numbers without bound). */
const MAX_DIGITS = 1000;

function boundedDecimal(coef: bigint, exp: number): RNumber | undefined {
  if ((coef < 0n ? -coef : coef).toString().length > MAX_DIGITS) return num(Number(bigText(coef, exp)));
  return normalize(coef, exp);
}

function exact(a: RNumber, b: RNumber, op: (x: bigint, y: bigint) => bigint): RNumber | undefined {
  const x = toBigInt(a);
  const y = toBigInt(b);
  if (x === undefined || y === undefined) return undefined;
  return numFromBigInt(op(x, y));
}
