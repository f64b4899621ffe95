/**
 * Set built-ins: `and` and `or` (the `&` and `|` operators), intersection and
 * union of a set of sets. Set difference (`-`) is `minus`, in arithmetic.ts,
 * because the same operator subtracts numbers.
 */
import { RegoSet, type Value } from "../value.ts";
import { operandError, type BuiltinDef } from "./types.ts";

function setArg(name: string, args: readonly Value[], i: number): RegoSet {
  const v = args[i] as Value;
  if (!(v instanceof RegoSet)) throw operandError(name, i + 1, "set", v);
  return v;
}

function intersect(a: RegoSet, b: RegoSet): RegoSet {
  // Probe the larger set with the smaller one's members.
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  const out = new RegoSet();
  for (const v of small.values()) if (large.has(v)) out.add(v);
  return out;
}

function unite(into: RegoSet, from: RegoSet): void {
  for (const v of from.values()) into.add(v);
}

/** The members of a set of sets; a member that is not a set is blamed on operand 1, as OPA does. */
function memberSets(name: string, args: readonly Value[]): RegoSet[] {
  return setArg(name, args, 0)
    .values()
    .map((m) => {
      if (!(m instanceof RegoSet)) throw operandError(name, 1, "set", m);
      return m;
    });
}

function intersection(args: readonly Value[]): Value {
  const sets = memberSets("intersection", args);
  let acc = sets[0];
  if (acc === undefined) return new RegoSet();
  for (const s of sets.slice(1)) acc = intersect(acc, s);
  return acc;
}

function union(args: readonly Value[]): Value {
  const out = new RegoSet();
  for (const s of memberSets("union", args)) unite(out, s);
  return out;
}

function or(args: readonly Value[]): Value {
  const a = setArg("or", args, 0);
  const b = setArg("or", args, 1);
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = new RegoSet();
  unite(out, a);
  unite(out, b);
  return out;
}

export const SETS: readonly BuiltinDef[] = [
  { name: "and", arity: 2, args: ["set", "set"], fn: (args) => intersect(setArg("and", args, 0), setArg("and", args, 1)) },
  { name: "or", arity: 2, args: ["set", "set"], fn: or },
  { name: "intersection", arity: 1, args: ["set"], fn: intersection },
  { name: "union", arity: 1, args: ["set"], fn: union },
];
