/**
 * semver.is_valid and semver.compare under strict Semantic Versioning 2.0.0
 * (https://semver.org): MAJOR.MINOR.PATCH without leading zeros or a "v",
 * pre-release identifiers that are non-empty and, when numeric, without
 * leading zeros, and build metadata that is non-empty and takes no part in
 * ordering. Version numbers are bounded to 64-bit integers, as OPA parses
 * them.
 */
import type { Value } from "../value.ts";
import { stringArg } from "./text-operands.ts";
import { builtinError, type BuiltinDef } from "./types.ts";

interface Version {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  /** Pre-release identifiers; empty for a release. */
  readonly pre: readonly string[];
}

const NUMBER = "0|[1-9]\\d*";
const PRE_ID = `(?:${NUMBER}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const BUILD_ID = "[0-9a-zA-Z-]+";
const SEMVER = new RegExp(`^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`);

const INT64_MAX = (1n << 63n) - 1n;

/** The version, or undefined when `s` is not strict SemVer 2.0.0. */
export function parseSemver(s: string): Version | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  const [major, minor, patch] = [BigInt(m[1] as string), BigInt(m[2] as string), BigInt(m[3] as string)];
  if (major > INT64_MAX || minor > INT64_MAX || patch > INT64_MAX) return undefined;
  return { major, minor, patch, pre: m[4] === undefined ? [] : m[4].split(".") };
}

function sign(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const NUMERIC = /^\d+$/;

/** Precedence (semver.org item 11): numbers, then pre-release (a release ranks above its pre-releases). */
export function compareSemver(a: Version, b: Version): number {
  const core = sign(a.major, b.major) || sign(a.minor, b.minor) || sign(a.patch, b.patch);
  if (core !== 0) return core;
  if (a.pre.length === 0 || b.pre.length === 0) return sign(BigInt(b.pre.length), BigInt(a.pre.length));
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const x = a.pre[i] as string;
    const y = b.pre[i] as string;
    if (x === y) continue;
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    // Numeric identifiers rank below alphanumeric ones; alphanumeric ones compare in ASCII order.
    if (xn && yn) return sign(BigInt(x), BigInt(y));
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return sign(BigInt(a.pre.length), BigInt(b.pre.length));
}

function isValid(args: readonly Value[]): Value {
  const v = args[0] as Value;
  return typeof v === "string" && parseSemver(v) !== undefined;
}

function compare(args: readonly Value[]): Value {
  const a = stringArg("semver.compare", args, 1);
  const b = stringArg("semver.compare", args, 2);
  const va = parseSemver(a);
  if (va === undefined) throw builtinError("semver.compare", `operand 1: string ${JSON.stringify(a)} is not a valid SemVer`);
  const vb = parseSemver(b);
  if (vb === undefined) throw builtinError("semver.compare", `operand 2: string ${JSON.stringify(b)} is not a valid SemVer`);
  return compareSemver(va, vb);
}

export const SEMVER_BUILTINS: readonly BuiltinDef[] = [
  { name: "semver.is_valid", arity: 1, args: ["any"], fn: isValid },
  { name: "semver.compare", arity: 2, args: ["string", "string"], fn: compare },
];
