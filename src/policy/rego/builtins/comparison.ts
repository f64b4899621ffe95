/**
 * Comparison built-ins (what `== != < <= > >=` compile to), membership
 * (`x in xs` → internal.member_2, `k, v in xs` → internal.member_3) and
 * print. Comparisons use OPA's total order over all values, so `1 < "a"` is
 * true and never an error.
 */
import { compare, equal, RegoObject, RegoSet, type Value } from "../value.ts";
import { formatValue } from "../eval/format.ts";
import type { BuiltinDef } from "./types.ts";

function member(x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) {
    for (const e of coll) if (equal(e as Value, x)) return true;
    return false;
  }
  if (coll instanceof RegoSet) return coll.has(x);
  if (coll instanceof RegoObject) {
    for (const [, v] of coll.entries()) if (equal(v, x)) return true;
    return false;
  }
  return false;
}

function memberWithKey(k: Value, x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) {
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= coll.length) return false;
    return equal(coll[k] as Value, x);
  }
  if (coll instanceof RegoObject) {
    const v = coll.get(k);
    return v !== undefined && equal(v, x);
  }
  if (coll instanceof RegoSet) return equal(k, x) && coll.has(x);
  return false;
}

export const COMPARISON: readonly BuiltinDef[] = [
  { name: "equal", arity: 2, fn: ([a, b]) => equal(a as Value, b as Value) },
  { name: "neq", arity: 2, fn: ([a, b]) => !equal(a as Value, b as Value) },
  { name: "lt", arity: 2, fn: ([a, b]) => compare(a as Value, b as Value) < 0 },
  { name: "lte", arity: 2, fn: ([a, b]) => compare(a as Value, b as Value) <= 0 },
  { name: "gt", arity: 2, fn: ([a, b]) => compare(a as Value, b as Value) > 0 },
  { name: "gte", arity: 2, fn: ([a, b]) => compare(a as Value, b as Value) >= 0 },
  { name: "internal.member_2", arity: 2, fn: ([x, c]) => member(x as Value, c as Value) },
  { name: "internal.member_3", arity: 3, fn: ([k, x, c]) => memberWithKey(k as Value, x as Value, c as Value) },
  {
    // The compiler calls print with every argument, undefined ones shown as <undefined>; this entry serves direct calls.
    name: "print",
    arity: 1,
    fn: (args, ctx) => {
      ctx.print(args.map((a) => formatValue(a, true)).join(" "));
      return true;
    },
  },
];
