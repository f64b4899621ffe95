/**
 * Values and errors as the experiment results carry them. A value becomes
 * JSON text; what JSON cannot say is decided here, once, for both sides:
 * a BigInt is written as the exact number, a Map as an object (string keys)
 * or an array of [key, value] pairs, a Set as an array, `undefined` as the
 * text `(undefined)`, and a value that cannot be serialized (a cycle, a
 * throwing toJSON, a function) as the text `(not JSON: why)`. Texts that are
 * not JSON are compared as text, so two sides failing the same way are equal.
 */
import type { ErrorInfo } from "./wire.ts";

const BIG = "\u0000ficus-bigint:";
const BIG_TEXT = /"\\u0000ficus-bigint:(-?\d+)"/g;
let sawBigInt = false;

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") {
    sawBigInt = true;
    return `${BIG}${v}`;
  }
  if (v instanceof Map) {
    let stringKeys = true;
    for (const k of v.keys()) if (typeof k !== "string") stringKeys = false;
    return stringKeys ? Object.fromEntries(v) : [...v];
  }
  if (v instanceof Set) return [...v];
  return v;
}

/**
 * Whether a value holds something the native serializer gets wrong or throws
 * on (BigInt, Map, Set), or is too deep to tell. A walk in JavaScript is far
 * cheaper than a replacer, which the engine calls back for every key.
 */
function exotic(v: unknown, depth: number): boolean {
  const type = typeof v;
  if (type !== "object") return type === "bigint";
  if (v === null) return false;
  if (depth > 200) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (exotic(v[i], depth + 1)) return true;
    return false;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    if (v instanceof Map || v instanceof Set) return true;
    // Its own toJSON says what it is in JSON (Date, Buffer, decimal types).
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  }
  for (const k in v as object) if (exotic((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/** A value as JSON text (see the module comment for what JSON cannot say). */
export function toJsonText(value: unknown): string {
  if (value === undefined) return "(undefined)";
  sawBigInt = false;
  let text: string | undefined;
  try {
    text = exotic(value, 0) ? JSON.stringify(value, replacer) : JSON.stringify(value);
  } catch (err) {
    return `(not JSON: ${err instanceof Error ? err.message : String(err)})`;
  }
  if (text === undefined) return `(not JSON: ${typeof value})`;
  return sawBigInt ? text.replace(BIG_TEXT, "$1") : text;
}

/** What a thrown value is recorded as: name, message, and code when there is one. */
export function errorInfo(err: unknown): ErrorInfo {
  try {
    return describe(err);
  } catch {
    // A getter that throws, a revoked proxy: still an error, of an unknown kind.
    return { name: "Error", message: "(an error that cannot be read)" };
  }
}

function describe(err: unknown): ErrorInfo {
  if (err !== null && typeof err === "object") {
    const e = err as { name?: unknown; message?: unknown; code?: unknown; constructor?: { name?: unknown } };
    const name = typeof e.name === "string" ? e.name : typeof e.constructor?.name === "string" ? e.constructor.name : "Object";
    const message = typeof e.message === "string" ? e.message : toJsonText(err);
    return typeof e.code === "string" || typeof e.code === "number" ? { name, message, code: e.code } : { name, message };
  }
  return { name: typeof err, message: String(err) };
}
