/**
 * sprintf(format, values): Go's fmt.Sprintf as OPA calls it.
 *
 * OPA hands Go each value as one of four things, and the verbs behave
 * accordingly: an integer that fits 64 bits is a Go int; a larger integer a
 * *big.Int (exact, so sprintf("%d", [2^70]) shows every digit); any other
 * number a float64 (or, beyond a double's range, its text as a string); a
 * string itself; and every other value (booleans, null, arrays, sets,
 * objects) the string of its Rego text, e.g. `["there", 5, 3.14]`. Hence
 * OPA's own oddities are kept: `%s` of an integer is `%!s(int=5)`, `%d` of a
 * boolean `%!d(string=true)`.
 *
 * Implemented: the verbs v s q d b o O x X c U e E f F g G t T p and %%,
 * flags + - # space 0, width and precision (also `*`), explicit argument
 * indexes `[n]`, and Go's error forms (%!v(MISSING), %!(EXTRA …),
 * %!d(BADINDEX), %!(BADWIDTH), %!(BADPREC), %!(NOVERB)). Floats are
 * formatted from their exact binary value with Go's round-half-even, so
 * `%.2f` of 0.125 is 0.12 as in Go, not 0.13 as JS's toFixed says.
 *
 * A difference that cannot be helped: OPA tells integers from floats by the
 * number's text, so `1.0` written in a policy is a float to OPA (`%v` → 1)
 * and an int here (also 1, but `%d` of it differs).
 */
import { BigNum, floatBits, numberText, toBigInt } from "../number.ts";
import { RegoObject, RegoSet, scalarText, type Value } from "../value.ts";
import { codePointLength, goQuote, goQuoteRune, stringArg } from "./text-operands.ts";
import { operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

/** A value as Go's fmt sees it after OPA's conversion. */
type Arg =
  | { readonly kind: "int"; readonly v: bigint }
  | { readonly kind: "big"; readonly v: bigint }
  | { readonly kind: "float"; readonly v: number }
  | { readonly kind: "string"; readonly v: string };

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function toArg(v: Value): Arg {
  if (typeof v === "string") return { kind: "string", v };
  if (typeof v === "number" || v instanceof BigNum) {
    const i = toBigInt(v);
    if (i !== undefined) return i >= INT64_MIN && i <= INT64_MAX ? { kind: "int", v: i } : { kind: "big", v: i };
    const d = typeof v === "number" ? v : Number(v.toString());
    return Number.isFinite(d) && d !== 0 ? { kind: "float", v: d } : { kind: "string", v: numberText(v) };
  }
  return { kind: "string", v: regoText(v) };
}

/** A value's text as OPA prints a Rego term: strings quoted Go-style, sets as `{…}` or `set()`. */
export function regoText(v: Value): string {
  const scalar = scalarText(v, goQuote);
  if (scalar !== undefined) return scalar;
  if (v instanceof RegoSet) return v.size === 0 ? "set()" : `{${v.values().map(regoText).join(", ")}}`;
  if (v instanceof RegoObject) return `{${v.entries().map(([k, x]) => `${regoText(k)}: ${regoText(x)}`).join(", ")}}`;
  return `[${(v as readonly Value[]).map(regoText).join(", ")}]`;
}

const GO_TYPE: Readonly<Record<Arg["kind"], string>> = { int: "int", big: "*big.Int", float: "float64", string: "string" };

/** The flags, width and precision of one verb. */
interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  /** %+v and %#v: '+' and '#' as the v verb reads them. */
  plusV: boolean;
  sharpV: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function newSpec(): Spec {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, width: undefined, prec: undefined };
}

/** Go pads to the width in runes: spaces (or zeros with the 0 flag) on the left, spaces on the right with '-'. */
function pad(s: string, spec: Spec): string {
  if (spec.width === undefined) return s;
  const n = spec.width - codePointLength(s);
  if (n <= 0) return s;
  if (spec.minus) return s + " ".repeat(n);
  return (spec.zero ? "0" : " ").repeat(n) + s;
}

/** Go's fmtInteger, for ints and big.Ints alike. */
function fmtInteger(value: bigint, base: number, verb: string, spec: Spec): string {
  const negative = value < 0n;
  const u = negative ? -value : value;
  let prec = 0;
  if (spec.prec !== undefined) {
    prec = spec.prec;
    // Precision 0 and value 0 print nothing but the padding.
    if (prec === 0 && u === 0n) return spec.width === undefined ? "" : " ".repeat(spec.width);
  } else if (spec.zero && !spec.minus && spec.width !== undefined) {
    prec = spec.width;
    if (negative || spec.plus || spec.space) prec--;
  }
  let digits = u.toString(base);
  if (verb === "X") digits = digits.toUpperCase();
  if (digits.length < prec) digits = "0".repeat(prec - digits.length) + digits;
  if (spec.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && !digits.startsWith("0")) digits = `0${digits}`;
    else if (base === 16) digits = `${verb === "X" ? "0X" : "0x"}${digits}`;
  }
  if (verb === "O") digits = `0o${digits}`;
  const sign = negative ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  // Zero padding was done above as precision; what is left pads with spaces.
  return pad(sign + digits, { ...spec, zero: false });
}

function fmtUnicode(value: bigint, spec: Spec): string {
  const hex = (value < 0n ? -value : value).toString(16).toUpperCase();
  let s = `U+${hex.padStart(Math.max(spec.prec ?? 4, 4), "0")}`;
  if (spec.sharp && value >= 0n && value <= 0x10ffffn) {
    const ch = String.fromCodePoint(Number(value));
    if (goQuoteRune(ch) === `'${ch}'`) s += ` '${ch}'`;
  }
  return pad(s, { ...spec, zero: false });
}

/** The rune an integer stands for (U+FFFD when it is none). */
function runeOf(value: bigint): string {
  const valid = value >= 0n && value <= 0x10ffffn && !(value >= 0xd800n && value <= 0xdfffn);
  return valid ? String.fromCodePoint(Number(value)) : "\uFFFD";
}

function formatInt(arg: { readonly kind: "int" | "big"; readonly v: bigint }, verb: string, spec: Spec): string | undefined {
  switch (verb) {
    case "v":
    case "d":
      return fmtInteger(arg.v, 10, verb, spec);
    case "b":
      return fmtInteger(arg.v, 2, verb, spec);
    case "o":
    case "O":
      return fmtInteger(arg.v, 8, verb, spec);
    case "x":
    case "X":
      return fmtInteger(arg.v, 16, verb, spec);
  }
  // big.Int formats itself: it knows s and v as decimal, and nothing else below.
  if (arg.kind === "big") return verb === "s" ? fmtInteger(arg.v, 10, "d", spec) : undefined;
  switch (verb) {
    case "c":
      return pad(runeOf(arg.v), spec);
    case "q":
      return pad(goQuoteRune(runeOf(arg.v)), spec);
    case "U":
      return fmtUnicode(arg.v, spec);
  }
  return undefined;
}

/** A positive double's exact decimal expansion: its digits (no leading zeros) and where the point goes. */
function exactDigits(x: number): { d: string; dp: number } {
  const { mant: mantissa, exp: e } = floatBits(x);
  if (e >= 0) {
    const d = (mantissa << BigInt(e)).toString();
    return trim(d, d.length);
  }
  // m / 2^k = m·5^k / 10^k.
  const d = (mantissa * 5n ** BigInt(-e)).toString();
  return trim(d, d.length + e);
}

function trim(d: string, dp: number): { d: string; dp: number } {
  let end = d.length;
  while (end > 0 && d[end - 1] === "0") end--;
  let start = 0;
  while (start < end && d[start] === "0") start++;
  return { d: d.slice(start, end), dp: dp - start };
}

/** Rounds digits to `keep` of them, halves to even (as strconv does on the exact value). */
function roundDigits(digits: { d: string; dp: number }, keep: number): { d: string; dp: number } {
  const { d, dp } = digits;
  if (keep >= d.length) return digits;
  if (keep < 0) return { d: "", dp };
  const next = d.charCodeAt(keep) - 48;
  const restZero = /^0*$/.test(d.slice(keep + 1));
  const up = next > 5 || (next === 5 && (!restZero || (keep > 0 && (d.charCodeAt(keep - 1) - 48) % 2 === 1)));
  if (!up) return trim(d.slice(0, keep), dp);
  // Add one to the kept digits, carrying.
  const kept = d.slice(0, keep).split("");
  let i = keep - 1;
  while (i >= 0 && kept[i] === "9") kept[i--] = "0";
  if (i < 0) return trim(`1${kept.join("")}`, dp + 1);
  kept[i] = String.fromCharCode((kept[i] as string).charCodeAt(0) + 1);
  return trim(kept.join(""), dp);
}

/** Shortest digits that read back as x (JS and Go agree on these). */
function shortestDigits(x: number): { d: string; dp: number } {
  const [mant, exp] = x.toExponential().split("e") as [string, string];
  return { d: mant.replace(".", ""), dp: Number(exp) + 1 };
}

function fmtE(dg: { d: string; dp: number }, prec: number, e: string): string {
  let s = dg.d[0] ?? "0";
  if (prec > 0) s += `.${dg.d.slice(1, prec + 1).padEnd(prec, "0")}`;
  const exp = dg.d.length === 0 ? 0 : dg.dp - 1;
  return `${s}${e}${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function fmtF(dg: { d: string; dp: number }, prec: number): string {
  let s = dg.dp > 0 ? dg.d.slice(0, dg.dp).padEnd(dg.dp, "0") : "0";
  if (prec > 0) {
    s += ".";
    for (let i = 1; i <= prec; i++) {
      const j = dg.dp + i - 1;
      s += j >= 0 && j < dg.d.length ? dg.d[j] : "0";
    }
  }
  return s;
}

/** strconv.FormatFloat(|x|, verb, prec, 64) for e, E, f, F, g, G (prec -1: shortest). */
function formatAbs(x: number, verb: string, prec: number): string {
  const shortest = prec < 0;
  const exact = exactDigits(x);
  switch (verb) {
    case "e":
    case "E": {
      const dg = shortest ? shortestDigits(x) : roundDigits(exact, prec + 1);
      return fmtE(dg, shortest ? dg.d.length - 1 : prec, verb);
    }
    case "f":
    case "F": {
      const dg = shortest ? shortestDigits(x) : roundDigits(exact, exact.dp + prec);
      return fmtF(dg, shortest ? Math.max(dg.d.length - dg.dp, 0) : prec);
    }
  }
  // g and G.
  let p = prec === 0 ? 1 : prec;
  const dg = shortest ? shortestDigits(x) : roundDigits(exact, p);
  if (shortest) p = dg.d.length;
  let eprec = p;
  if (eprec > dg.d.length && dg.d.length >= dg.dp) eprec = dg.d.length;
  if (shortest) eprec = 6;
  const exp = dg.dp - 1;
  if (exp < -4 || exp >= eprec) return fmtE(dg, Math.min(p, dg.d.length) - 1, verb === "G" ? "E" : "e");
  return fmtF(dg, Math.max((p > dg.dp ? dg.d.length : p) - dg.dp, 0));
}

/** strconv's 'b' format: decimal significand, "p", binary exponent ("7070651414971679p-51"). */
function binaryExponent(x: number): string {
  const { mant, exp } = floatBits(x);
  return `${mant}p${exp >= 0 ? "+" : "-"}${Math.abs(exp)}`;
}

/** strconv's 'x' format: 0x1.hhhhp±dd, rounded (half to even) to `prec` hex digits when prec ≥ 0. */
function hexFloat(x: number, verb: string, prec: number): string {
  const { mant: m, exp: e } = floatBits(x);
  let mant = m;
  // The exponent of the leading bit, with that bit moved to position 60.
  let exp = mant === 0n ? 0 : e + 52;
  mant <<= 8n;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const digit = (v: bigint): string => {
    const h = v.toString(16);
    return verb === "X" ? h.toUpperCase() : h;
  };
  let out = `0${verb}${(mant >> 60n) & 1n}`;
  let frac = (mant << 4n) & ((1n << 64n) - 1n);
  if (prec < 0 && frac !== 0n) {
    out += ".";
    while (frac !== 0n) {
      out += digit((frac >> 60n) & 15n);
      frac = (frac << 4n) & ((1n << 64n) - 1n);
    }
  } else if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      out += digit((frac >> 60n) & 15n);
      frac = (frac << 4n) & ((1n << 64n) - 1n);
    }
  }
  return `${out}${verb === "X" ? "P" : "p"}${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/** Go's fmt.fmtFloat: sign, the '#' flag's trailing zeros, and zero padding after the sign. */
function formatFloat(x: number, verb: string, spec: Spec): string | undefined {
  let fverb = verb;
  let prec: number;
  if (verb === "v") {
    fverb = "g";
    prec = -1;
  } else if ("gGbxX".includes(verb)) prec = -1;
  else if ("eEfF".includes(verb)) prec = 6;
  else return undefined;
  if (spec.prec !== undefined) prec = spec.prec;
  let num = verb === "b" ? binaryExponent(Math.abs(x)) : verb === "x" || verb === "X" ? hexFloat(Math.abs(x), verb, prec) : formatAbs(Math.abs(x), fverb, prec);
  if (spec.sharp && !spec.sharpV && verb !== "b") num = keepPoint(num, fverb, prec);
  const sign = x < 0 ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  if (sign !== "" && spec.zero && !spec.minus && spec.width !== undefined && spec.width > num.length + 1) {
    return sign + "0".repeat(spec.width - num.length - 1) + num;
  }
  return pad(sign + num, spec);
}

/** The '#' flag: always a decimal point, and for g and x the trailing zeros up to the precision. */
function keepPoint(num: string, verb: string, prec: number): string {
  let digits = "gGxX".includes(verb) ? (prec < 0 ? 6 : prec) : 0;
  // In hexadecimal, e is a digit and p starts the exponent.
  const e = num.search(verb === "x" || verb === "X" ? /[pP]/ : /[eE]/);
  const body = e < 0 ? num : num.slice(0, e);
  const tail = e < 0 ? "" : num.slice(e);
  let seenNonZero = false;
  for (const c of body) {
    if (c === ".") continue;
    if (c !== "0") seenNonZero = true;
    if (seenNonZero) digits--;
  }
  let out = body;
  if (!body.includes(".")) {
    if (body === "0") digits--;
    out += ".";
  }
  return out + "0".repeat(Math.max(digits, 0)) + tail;
}

function formatString(s: string, verb: string, spec: Spec): string | undefined {
  const truncated = spec.prec === undefined ? s : Array.from(s).slice(0, spec.prec).join("");
  switch (verb) {
    case "v":
      return pad(spec.sharpV ? goQuote(truncated) : truncated, spec);
    case "s":
      return pad(truncated, spec);
    case "q": {
      if (spec.sharp && !/[`\x00-\x08\x0a-\x1f\x7f\uFEFF]/.test(truncated)) return pad(`\`${truncated}\``, spec);
      return pad(spec.plus ? asciiOnly(goQuote(truncated)) : goQuote(truncated), spec);
    }
    case "x":
    case "X":
      return pad(hexBytes(s, verb, spec), spec);
  }
  return undefined;
}

/** strconv.QuoteToASCII from Quote's output: every non-ASCII code point escaped. */
function asciiOnly(quoted: string): string {
  let out = "";
  for (const ch of quoted) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out;
}

/** %x of a string: its UTF-8 bytes in hex; the space flag separates them, '#' prefixes 0x. */
function hexBytes(s: string, verb: string, spec: Spec): string {
  let bytes = Buffer.from(s, "utf8");
  if (spec.prec !== undefined) bytes = bytes.subarray(0, spec.prec);
  const prefix = verb === "X" ? "0X" : "0x";
  const parts = Array.from(bytes, (b) => {
    const h = b.toString(16).padStart(2, "0");
    return verb === "X" ? h.toUpperCase() : h;
  });
  if (spec.space) return parts.map((p) => (spec.sharp ? prefix + p : p)).join(" ");
  return (spec.sharp && parts.length > 0 ? prefix : "") + parts.join("");
}

/** The %v text of an argument, as inside Go's %!verb(type=value) complaints. */
function plain(arg: Arg): string {
  return formatArg(arg, "v", newSpec()) as string;
}

function formatArg(arg: Arg, verb: string, spec: Spec): string | undefined {
  if (verb === "T") return pad(GO_TYPE[arg.kind], spec);
  switch (arg.kind) {
    case "int":
    case "big":
      return formatInt(arg, verb, spec);
    case "float":
      return formatFloat(arg.v, verb, spec);
    case "string":
      return formatString(arg.v, verb, spec);
  }
}

function badVerb(arg: Arg, verb: string): string {
  if (arg.kind === "big") return `%!${verb}(big.Int=${arg.v.toString()})`;
  return `%!${verb}(${GO_TYPE[arg.kind]}=${plain(arg)})`;
}

/** Widths and precisions beyond this are Go's "crazy long number": the rest of the format is consumed. */
const TOO_LARGE = 1e6;

/** Go's fmt.Sprintf over converted arguments. */
export function goSprintf(format: string, args: readonly Arg[]): string {
  let out = "";
  let argNum = 0;
  let reordered = false;
  const n = format.length;
  let i = 0;
  while (i < n) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec = newSpec();
    for (; i < n; i++) {
      const c = format[i];
      if (c === "#") spec.sharp = true;
      else if (c === "0") spec.zero = !spec.minus;
      else if (c === "+") spec.plus = true;
      else if (c === "-") {
        spec.minus = true;
        spec.zero = false;
      } else if (c === " ") spec.space = true;
      else break;
    }
    let goodArgNum = true;
    let afterIndex = false;
    /** An explicit `[n]` argument index at i, if any. */
    const argIndex = (): void => {
      if (format[i] !== "[") return;
      reordered = true;
      const close = format.indexOf("]", i + 1);
      const text = close < 0 ? "" : format.slice(i + 1, close);
      const index = /^\d+$/.test(text) ? Number(text) : NaN;
      if (close < 0 || !(index >= 1 && index <= args.length)) {
        goodArgNum = false;
        i = close < 0 ? i + 1 : close + 1;
        afterIndex = false;
        return;
      }
      argNum = index - 1;
      i = close + 1;
      afterIndex = true;
    };
    /** A number at i (width or precision digits); undefined when none, "huge" past TOO_LARGE. */
    const digits = (): number | "huge" | undefined => {
      let v: number | undefined;
      while (i < n && format[i] !== undefined && (format[i] as string) >= "0" && (format[i] as string) <= "9") {
        if ((v ?? 0) > TOO_LARGE) {
          i = n;
          return "huge";
        }
        v = (v ?? 0) * 10 + (format.charCodeAt(i) - 48);
        i++;
      }
      return v;
    };
    /** An int argument for `*`: its value, or undefined when it is no int (or too large). */
    const starArg = (): number | undefined => {
      const a = args[argNum];
      if (a === undefined) return undefined;
      argNum++;
      if (a.kind !== "int" || a.v > BigInt(TOO_LARGE) || a.v < -BigInt(TOO_LARGE)) return undefined;
      return Number(a.v);
    };

    argIndex();
    if (format[i] === "*") {
      i++;
      const w = starArg();
      if (w === undefined) out += "%!(BADWIDTH)";
      else if (w < 0) {
        spec.minus = true;
        spec.zero = false;
        spec.width = -w;
      } else spec.width = w;
      afterIndex = false;
    } else {
      const w = digits();
      if (w === "huge") {
        out += "%!(NOVERB)";
        break;
      }
      spec.width = w;
      if (afterIndex && w !== undefined) goodArgNum = false;
    }
    if (i + 1 < n && format[i] === ".") {
      i++;
      if (afterIndex) goodArgNum = false;
      argIndex();
      if (format[i] === "*") {
        i++;
        const p = starArg();
        // A negative precision is no precision, and as bad as a missing one.
        if (p === undefined || p < 0) out += "%!(BADPREC)";
        else spec.prec = p;
        afterIndex = false;
      } else {
        const p = digits();
        if (p === "huge") {
          out += "%!(NOVERB)";
          break;
        }
        spec.prec = p ?? 0;
      }
    }
    if (!afterIndex) argIndex();
    if (i >= n) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    const arg = args[argNum];
    if (arg === undefined) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    argNum++;
    if (verb === "v") {
      spec.sharpV = spec.sharp;
      spec.sharp = false;
      spec.plusV = spec.plus;
      spec.plus = false;
    }
    out += formatArg(arg, verb, spec) ?? badVerb(arg, verb);
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args
      .slice(argNum)
      .map((a) => `${GO_TYPE[a.kind]}=${plain(a)}`)
      .join(", ")})`;
  }
  return out;
}

function sprintf(args: readonly Value[], ctx: BuiltinContext): Value {
  const format = stringArg("sprintf", args, 1);
  const values = args[1] as Value;
  if (!Array.isArray(values)) throw operandError("sprintf", 2, "array", values);
  const out = goSprintf(format, (values as readonly Value[]).map(toArg));
  if (out.length >= 1024) ctx.charge(Math.floor(out.length / 1024));
  return out;
}

export const SPRINTF_BUILTINS: readonly BuiltinDef[] = [{ name: "sprintf", arity: 2, args: ["string", "array"], fn: sprintf }];
