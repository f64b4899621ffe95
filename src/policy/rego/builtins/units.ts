/**
 * units.parse and units.parse_bytes: amounts with SI (k, M, G, …, and m for
 * milli) or IEC (Ki, Mi, …) suffixes, as Kubernetes-style resource strings
 * write them, in plain or scientific notation ("1.5Gi", "2.5e3K", "300MiB").
 *
 * Results are exact where OPA's are: units.parse computes with rationals and
 * gives an integer when the amount is one, otherwise the value rounded to 10
 * decimals (OPA's FloatString(10)); its milli factor is the double nearest
 * 0.001, as OPA's is, so "1e12m" is 1000000000.0000000208 in both.
 * units.parse_bytes truncates to an integer. Exponents are limited to six
 * digits (OPA's rule), and huge ones never expand into huge integers here:
 * numbers stay coefficient × 10^exponent.
 *
 * One difference: OPA multiplies parse_bytes amounts in 64-bit-mantissa
 * floats, this exactly, which can differ in the last unit for amounts with
 * more than about 19 significant digits.
 */
import { floatBits, makeNumber, numFromBigInt, type RNumber } from "../number.ts";
import type { Value } from "../value.ts";
import { stringArg } from "./text-operands.ts";
import { builtinError, type BuiltinDef } from "./types.ts";

const MAX_EXPONENT_DIGITS = 6;

const KI = 1n << 10n;

const SI: Readonly<Record<string, bigint>> = { k: 10n ** 3n, m: 10n ** 6n, g: 10n ** 9n, t: 10n ** 12n, p: 10n ** 15n, e: 10n ** 18n };
const IEC: Readonly<Record<string, bigint>> = { ki: KI, mi: KI ** 2n, gi: KI ** 3n, ti: KI ** 4n, pi: KI ** 5n, ei: KI ** 6n };

/** The exact value of a double as numerator / denominator (the denominator a power of two). */
function exactDouble(x: number): [bigint, bigint] {
  const { mant: mantissa, exp: e } = floatBits(x);
  return e >= 0 ? [mantissa << BigInt(e), 1n] : [mantissa, 1n << BigInt(-e)];
}

/** OPA's milli factor: the double 0.001, exactly. */
const MILLI = exactDouble(0.001);

/** A multiplier as numerator / denominator (denominator 1 or a power of two). */
type Factor = readonly [bigint, bigint];

/**
 * Splits "2.5e3Ki" into amount "2.5e3" and unit "Ki" as OPA does: the amount
 * runs over digits, '.', signs and an e/E that a digit or sign follows.
 * Undefined when an exponent has more than six digits.
 */
function splitAmount(s: string): { amount: string; unit: string } | undefined {
  let cut = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    const numeric = (c >= "0" && c <= "9") || c === "." || c === "+" || c === "-";
    if (!numeric && c !== "e" && c !== "E") {
      cut = i;
      break;
    }
    if (c !== "e" && c !== "E") continue;
    const after = s[i + 1];
    if (after === undefined || !((after >= "0" && after <= "9") || after === "+" || after === "-")) {
      cut = i;
      break;
    }
    if (after === "+" || after === "-") i++;
    let end = i + 1;
    while (end < s.length && (s[end] as string) >= "0" && (s[end] as string) <= "9") end++;
    if (end - (i + 1) > MAX_EXPONENT_DIGITS) return undefined;
  }
  if (cut < 0) return { amount: s, unit: "" };
  return { amount: s.slice(0, cut), unit: s.slice(cut) };
}

const AMOUNT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal amount as coefficient × 10^exponent; undefined when it is not one. */
function parseAmount(text: string): { coef: bigint; exp: number } | undefined {
  const m = AMOUNT.exec(text);
  if (!m) return undefined;
  const whole = m[2] ?? "";
  const frac = m[3] ?? "";
  if (whole === "" && frac === "") return undefined;
  let coef = BigInt(whole + frac);
  if (m[1] === "-") coef = -coef;
  return { coef, exp: Number(m[4] ?? 0) - frac.length };
}

function digits(b: bigint): number {
  return (b < 0n ? -b : b).toString().length;
}

/** num / den rounded to `places` decimals, halves away from zero (Go's Rat.FloatString). */
function roundedQuotient(num: bigint, den: bigint, places: number): RNumber {
  const scaled = num * 10n ** BigInt(places);
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  let q = abs / den;
  if ((abs % den) * 2n >= den) q++;
  return makeNumber(neg ? -q : q, -places);
}

/** coef × 10^exp × factor: an integer exactly, else rounded to 10 decimals. */
function scaledValue(coef: bigint, exp: number, [fn, fd]: Factor): RNumber {
  const n = coef * fn;
  if (n === 0n) return 0;
  if (fd === 1n) {
    if (exp >= 0) return makeNumber(n, exp);
  } else if (exp >= 0) {
    // 10^exp / 2^k is 5^k × 10^(exp-k) once exp ≥ k: an integer, with no expansion of 10^exp.
    const k = fd.toString(2).length - 1;
    if (exp >= k) return makeNumber(n * 5n ** BigInt(k), exp - k);
    return rational(n * 10n ** BigInt(exp), fd);
  }
  // A value below 10^-11 rounds to zero at 10 decimals: skip building 10^-exp for it.
  if (digits(n) - digits(fd) + exp < -12) return 0;
  return rational(n, fd * 10n ** BigInt(-exp));
}

function rational(num: bigint, den: bigint): RNumber {
  if (num % den === 0n) return numFromBigInt(num / den);
  return roundedQuotient(num, den, 10);
}

/** Common prefix of both: quotes removed, no spaces, amount and unit split. */
function prepare(name: string, raw: string, messages: { noAmount: string }): { amount: string; unit: string } {
  const s = raw.replaceAll('"', "");
  if (s.includes(" ")) throw builtinError(name, "spaces not allowed in resource strings");
  const parts = splitAmount(s);
  if (parts === undefined) throw builtinError(name, "exponent too large");
  if (parts.amount === "") throw builtinError(name, messages.noAmount);
  return parts;
}

/** units.parse's suffixes, after the letters past the first are lowercased ("KI" is "Ki", "MI" is "Mi"). */
const UNITS: ReadonlyMap<string, Factor> = new Map<string, Factor>([
  ["", [1n, 1n]],
  ["m", MILLI],
  ["k", [SI.k as bigint, 1n]],
  ["K", [SI.k as bigint, 1n]],
  ["M", [SI.m as bigint, 1n]],
  ...["g", "t", "p", "e"].flatMap((l): [string, Factor][] => [
    [l, [SI[l] as bigint, 1n]],
    [l.toUpperCase(), [SI[l] as bigint, 1n]],
  ]),
  ...["k", "m", "g", "t", "p", "e"].flatMap((l): [string, Factor][] => [
    [`${l}i`, [IEC[`${l}i`] as bigint, 1n]],
    [`${l.toUpperCase()}i`, [IEC[`${l}i`] as bigint, 1n]],
  ]),
]);

function normalizeUnit(unit: string): string {
  return unit.length > 1 ? unit[0] + unit.slice(1).toLowerCase() : unit;
}

function parseUnits(args: readonly Value[]): Value {
  const name = "units.parse";
  const { amount, unit } = prepare(name, stringArg(name, args, 1), { noAmount: "no amount provided" });
  const factor = UNITS.get(normalizeUnit(unit));
  if (factor === undefined) throw builtinError(name, `unit ${normalizeUnit(unit)} not recognized`);
  const n = parseAmount(amount);
  if (n === undefined) throw builtinError(name, "could not parse amount to a number");
  return scaledValue(n.coef, n.exp, factor);
}

/** units.parse_bytes's suffixes (the whole string is lowercased first): "k" or "kb", "ki" or "kib", … */
const BYTE_UNITS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  ["", 1n],
  ...Object.entries(SI).flatMap(([l, f]): [string, bigint][] => [
    [l, f],
    [`${l}b`, f],
  ]),
  ...Object.entries(IEC).flatMap(([l, f]): [string, bigint][] => [
    [l, f],
    [`${l}b`, f],
  ]),
]);

function parseBytes(args: readonly Value[]): Value {
  const name = "units.parse_bytes";
  const { amount, unit } = prepare(name, stringArg(name, args, 1).toLowerCase(), { noAmount: "no byte amount provided" });
  const factor = BYTE_UNITS.get(unit);
  if (factor === undefined) throw builtinError(name, `byte unit ${unit} not recognized`);
  const n = parseAmount(amount);
  if (n === undefined) throw builtinError(name, "could not parse byte amount to a number");
  const total = n.coef * factor;
  if (n.exp >= 0) return makeNumber(total, n.exp);
  // Truncated toward zero, as Go's big.Float.Int.
  if (-n.exp > digits(total)) return 0;
  return numFromBigInt(total / 10n ** BigInt(-n.exp));
}

export const UNITS_BUILTINS: readonly BuiltinDef[] = [
  { name: "units.parse", arity: 1, args: ["string"], fn: parseUnits },
  { name: "units.parse_bytes", arity: 1, args: ["string"], fn: parseBytes },
];
