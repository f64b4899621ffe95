/**
 * Object built-ins: object.get (a key or a path of keys), object.keys,
 * object.union and object.union_n (recursive merge, the right side winning),
 * object.remove, object.filter and object.subset.
 *
 * Semantics follow OPA's, quirks included where a policy could observe them:
 * object.get's path walks arrays by integer index and sets by member, and
 * object.subset of an array by a set asks only that every member appears.
 */
import { toSafeInteger } from "../number.ts";
import { compare, equal, isNumber, RegoObject, RegoSet, typeName, type Value } from "../value.ts";
import { BuiltinError, operandError, type BuiltinDef } from "./types.ts";

function objectArg(name: string, args: readonly Value[], i: number): RegoObject {
  const v = args[i] as Value;
  if (!(v instanceof RegoObject)) throw operandError(name, i + 1, "object", v);
  return v;
}

/**
 * One step into a document, as OPA's Value.Find takes it: an object by key, an
 * array by an integer index in range, a set by member. Undefined when absent.
 */
export function child(doc: Value, key: Value): Value | undefined {
  if (doc instanceof RegoObject) return doc.get(key);
  if (doc instanceof RegoSet) return doc.has(key) ? key : undefined;
  if (Array.isArray(doc) && isNumber(key)) {
    const i = toSafeInteger(key);
    return i !== undefined && i >= 0 && i < doc.length ? (doc[i] as Value) : undefined;
  }
  return undefined;
}

function get(args: readonly Value[]): Value {
  const obj = objectArg("object.get", args, 0);
  const key = args[1] as Value;
  const fallback = args[2] as Value;
  if (!Array.isArray(key)) {
    const found = obj.get(key);
    return found === undefined ? fallback : found; // not ??: a key's value may be null
  }
  let doc: Value = obj;
  for (const k of key as readonly Value[]) {
    const next = child(doc, k);
    if (next === undefined) return fallback;
    doc = next;
  }
  return doc;
}

function keys(args: readonly Value[]): Value {
  return RegoSet.of(objectArg("object.keys", args, 0).keys());
}

/** a and b merged: b's value wins a shared key, unless both values are objects, which merge in turn. */
export function mergeObjects(a: RegoObject, b: RegoObject): RegoObject {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = RegoObject.fromEntries(a.entries());
  for (const [k, bv] of b.entries()) {
    const av = out.get(k);
    out.set(k, av instanceof RegoObject && bv instanceof RegoObject ? mergeObjects(av, bv) : bv);
  }
  return out;
}

function union(args: readonly Value[]): Value {
  const a = objectArg("object.union", args, 0);
  const b = objectArg("object.union", args, 1);
  return equal(a, b) ? a : mergeObjects(a, b);
}

/** Left to right, each object merged over the ones before it (OPA's "last one wins, with merges"). */
function unionN(args: readonly Value[]): Value {
  const v = args[0] as Value;
  if (!Array.isArray(v)) throw operandError("object.union_n", 1, "array", v);
  // acc is ours until returned, so its top level is merged in place: many
  // small objects cost their total size, not a copy of acc per object.
  const acc = new RegoObject();
  for (const o of v as readonly Value[]) {
    if (!(o instanceof RegoObject)) {
      throw new BuiltinError("eval_type_error", `object.union_n: operand 1 must be array of objects but got array containing ${typeName(o)}`);
    }
    for (const [k, ov] of o.entries()) {
      const av = acc.get(k);
      acc.set(k, av instanceof RegoObject && ov instanceof RegoObject ? mergeObjects(av, ov) : ov);
    }
  }
  return acc;
}

/** The keys named by object.remove/object.filter's second operand: an array's or set's members, an object's keys. */
function keyParam(name: string, v: Value): RegoSet {
  if (Array.isArray(v)) return RegoSet.of(v as readonly Value[]);
  if (v instanceof RegoSet) return v;
  if (v instanceof RegoObject) return RegoSet.of(v.keys());
  throw operandError(name, 2, "one of {object, set, array}", v);
}

function remove(args: readonly Value[]): Value {
  const obj = objectArg("object.remove", args, 0);
  const drop = keyParam("object.remove", args[1] as Value);
  const out = new RegoObject();
  for (const [k, v] of obj.entries()) if (!drop.has(k)) out.set(k, v);
  return out;
}

function filter(args: readonly Value[]): Value {
  const obj = objectArg("object.filter", args, 0);
  const keep = keyParam("object.filter", args[1] as Value);
  const out = new RegoObject();
  for (const k of keep.values()) {
    const v = obj.get(k);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

/** Every key of sub is in sup with an equal value, or with a value that is its subset in turn. */
function objectSubset(sup: RegoObject, sub: RegoObject): boolean {
  for (const [k, subV] of sub.entries()) {
    const supV = sup.get(k);
    if (supV === undefined) return false;
    if (equal(subV, supV)) continue;
    if (!nestedSubset(supV, subV)) return false;
  }
  return true;
}

function nestedSubset(sup: Value, sub: Value): boolean {
  if (sup instanceof RegoObject && sub instanceof RegoObject) return objectSubset(sup, sub);
  if (sup instanceof RegoSet && sub instanceof RegoSet) return setSubset(sup, sub);
  if (Array.isArray(sup) && Array.isArray(sub)) return arraySubset(sup as readonly Value[], sub as readonly Value[]);
  return false;
}

function setSubset(sup: RegoSet, sub: RegoSet): boolean {
  for (const v of sub.values()) if (!sup.has(v)) return false;
  return true;
}

/** sub appears in sup as a contiguous run. */
function arraySubset(sup: readonly Value[], sub: readonly Value[]): boolean {
  if (sub.length > sup.length) return false;
  for (let start = 0; start + sub.length <= sup.length; start++) {
    let i = 0;
    while (i < sub.length && compare(sup[start + i] as Value, sub[i] as Value) === 0) i++;
    if (i === sub.length) return true;
  }
  return false;
}

/**
 * Every member of sub occurs in sup. OPA only notices a match while scanning
 * sup's elements, so an empty array contains nothing, not even the empty set.
 */
function arraySetSubset(sup: readonly Value[], sub: RegoSet): boolean {
  let unmatched = sub.size;
  for (const v of sup) {
    if (sub.has(v)) unmatched--;
    if (unmatched === 0) return true;
  }
  return false;
}

function subset(args: readonly Value[]): Value {
  const sup = args[0] as Value;
  const sub = args[1] as Value;
  if (Array.isArray(sup) && sub instanceof RegoSet) return arraySetSubset(sup as readonly Value[], sub);
  if (typeName(sup) === typeName(sub) && (sup instanceof RegoObject || sup instanceof RegoSet || Array.isArray(sup))) {
    return nestedSubset(sup, sub);
  }
  throw new BuiltinError("eval_type_error", "object.subset: both arguments object.subset must be of the same type or array and set");
}

export const OBJECTS: readonly BuiltinDef[] = [
  { name: "object.get", arity: 3, args: ["object", "any", "any"], fn: get },
  { name: "object.keys", arity: 1, args: ["object"], fn: keys },
  { name: "object.union", arity: 2, args: ["object", "object"], fn: union },
  { name: "object.union_n", arity: 1, args: ["array"], fn: unionN },
  { name: "object.remove", arity: 2, args: ["object", "any"], fn: remove },
  { name: "object.filter", arity: 2, args: ["object", "any"], fn: filter },
  { name: "object.subset", arity: 2, args: ["any", "any"], fn: subset },
];
