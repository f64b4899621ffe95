/**
 * Exact decimal numbers from JSON lexemes: `10`, `10.0` and `1e1` are the same
 * value; `9007199254740993` and `9007199254740992` are not. Tolerances are
 * applied with BigInt arithmetic, so they never lose precision either.
 */

export interface Decimal {
  /** Sign and significant digits, as a BigInt (0n for zero). */
  readonly mantissa: bigint;
  /** Power of ten: value = mantissa × 10^exponent. */
  readonly exponent: number;
}

const LEXEME = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Parses a JSON number lexeme (or a JS number's text); undefined for anything else (NaN, Infinity). */
export function parseDecimal(text: string): Decimal | undefined {
  const m = LEXEME.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? "";
  let digits = ((m[2] as string) + frac).replace(/^0+/, "");
  let exponent = Number(m[4] ?? 0) - frac.length;
  if (digits === "") return { mantissa: 0n, exponent: 0 };
  const trailing = digits.length - digits.replace(/0+$/, "").length;
  if (trailing > 0) {
    digits = digits.slice(0, digits.length - trailing);
    exponent += trailing;
  }
  const mantissa = BigInt(digits);
  return { mantissa: m[1] === "-" ? -mantissa : mantissa, exponent };
}

/**
 * A canonical text of a number lexeme, equal for equal values ("10", "10.0", "1e1" → "1e1"),
 * built with string operations only (no BigInt): for hashing and multiset keys.
 */
export function canonicalNumber(text: string): string {
  const m = LEXEME.exec(text);
  if (!m) return text;
  const frac = m[3] ?? "";
  let digits = ((m[2] as string) + frac).replace(/^0+/, "");
  if (digits === "") return "0";
  let exponent = Number(m[4] ?? 0) - frac.length;
  const stripped = digits.replace(/0+$/, "");
  exponent += digits.length - stripped.length;
  digits = stripped;
  return `${m[1]}${digits}e${exponent}`;
}

export function decimalEquals(a: Decimal, b: Decimal): boolean {
  return a.mantissa === b.mantissa && (a.mantissa === 0n || a.exponent === b.exponent);
}

/** Beyond this exponent gap, aligning two values would build enormous integers; doubles decide instead. */
const MAX_ALIGN = 400;

function align(a: Decimal, b: Decimal): [bigint, bigint, number] | undefined {
  const e = Math.min(a.exponent, b.exponent);
  if (a.exponent - e > MAX_ALIGN || b.exponent - e > MAX_ALIGN) return undefined;
  return [a.mantissa * 10n ** BigInt(a.exponent - e), b.mantissa * 10n ** BigInt(b.exponent - e), e];
}

const abs = (x: bigint) => (x < 0n ? -x : x);

/**
 * True when |a − b| ≤ absTol, or |a − b| ≤ relTol × max(|a|, |b|). Exact for
 * values within 400 orders of magnitude of each other and of the tolerances.
 */
export function withinTolerance(a: Decimal, b: Decimal, absTol: Decimal | undefined, relTol: Decimal | undefined): boolean {
  if (decimalEquals(a, b)) return true;
  const ab = align(a, b);
  if (!ab) {
    const x = Number(`${a.mantissa}e${a.exponent}`);
    const y = Number(`${b.mantissa}e${b.exponent}`);
    const d = Math.abs(x - y);
    const at = absTol ? Number(`${absTol.mantissa}e${absTol.exponent}`) : 0;
    const rt = relTol ? Number(`${relTol.mantissa}e${relTol.exponent}`) : 0;
    return d <= at || d <= rt * Math.max(Math.abs(x), Math.abs(y));
  }
  const [x, y, e] = ab;
  const diff = abs(x - y);
  if (absTol && absTol.mantissa > 0n) {
    const t = align({ mantissa: diff, exponent: e }, absTol);
    if (t && t[0] <= t[1]) return true;
  }
  if (relTol && relTol.mantissa > 0n) {
    // diff ≤ rel × max  ⇔  diff × 10^-relExp ≤ relMantissa × max (all integers at exponent e)
    const big = abs(x) > abs(y) ? abs(x) : abs(y);
    const left = relTol.exponent < 0 ? diff * 10n ** BigInt(-relTol.exponent) : diff;
    const right = relTol.exponent > 0 ? relTol.mantissa * big * 10n ** BigInt(relTol.exponent) : relTol.mantissa * big;
    if (left <= right) return true;
  }
  return false;
}
