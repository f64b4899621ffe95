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

/** A value as JSON text (see the module comment for what JSON cannot say). */
export function toJsonText(value: unknown): string {
  if (value === undefined) return "(undefined)";
  sawBigInt = false;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer);
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
