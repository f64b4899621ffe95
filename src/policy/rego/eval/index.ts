/**
 * Hash indexes over collections for scans filtered by ground equality
 * (`some b in data.bindings; b.user == input.user`): instead of visiting every
 * element, the evaluator visits only those whose field equals the value.
 *
 * An index is a pure function of a collection and a field path, and values
 * are never mutated once shared, so indexes are kept in a WeakMap keyed by the
 * collection object itself: valid as long as that object lives, shared by
 * every Policy (and `withData` copy) that still holds it, dropped with it. A
 * `with data.x as v` override yields a different object and so a different
 * (or no) index.
 *
 * A collection is indexed the second time it is scanned (one made per
 * evaluation is scanned, never indexed), and only those of INDEX_MIN elements
 * or more.
 */
import { canonicalKey, RegoObject, RegoSet, type Value } from "../value.ts";
import { getKey } from "./runtime.ts";

export const INDEX_MIN = 16;

type Prim = null | boolean | number | string;

/** One collection's elements in iteration order (OPA's), bucketed by the value at a field path. */
export class FieldIndex {
  /** Iteration keys (array indexes, object keys, set members) and values, in scan order. */
  readonly keys: Value[];
  readonly vals: Value[];
  private readonly prim = new Map<Prim, number[]>();
  private readonly comp = new Map<string, number[]>();

  constructor(keys: Value[], vals: Value[], path: readonly Value[]) {
    this.keys = keys;
    this.vals = vals;
    const n = vals.length;
    const np = path.length;
    for (let i = 0; i < n; i++) {
      let v: Value | undefined = vals[i] as Value;
      for (let j = 0; j < np && v !== undefined; j++) v = getKey(v, path[j] as Value);
      if (v === undefined) continue;
      let bucket: number[] | undefined;
      if (typeof v !== "object" || v === null) {
        bucket = this.prim.get(v);
        if (bucket === undefined) this.prim.set(v, (bucket = []));
      } else {
        const ck = canonicalKey(v);
        bucket = this.comp.get(ck);
        if (bucket === undefined) this.comp.set(ck, (bucket = []));
      }
      bucket.push(i);
    }
  }

  /** Positions (ascending) of the elements whose field equals v; undefined when none. */
  lookup(v: Value): readonly number[] | undefined {
    if (typeof v !== "object" || v === null) return this.prim.get(v);
    return this.comp.get(canonicalKey(v));
  }
}

/** Per collection seen before: its elements in order (once one index is built) and its indexes by path. */
interface Entry {
  keys: Value[] | undefined;
  vals: Value[] | undefined;
  readonly byPath: Map<string, FieldIndex>;
}

const INDEXES = new WeakMap<object, Entry>();

/**
 * The index of `coll` (an array, object or set) on `path` (pathKey: its
 * canonical text), or undefined when the collection should just be scanned
 * (too small, not a collection, or not seen before).
 */
export function fieldIndex(coll: Value, path: readonly Value[], pathKey: string): FieldIndex | undefined {
  if (typeof coll !== "object" || coll === null) return undefined;
  let e = INDEXES.get(coll);
  if (e === undefined) {
    if (collectionSize(coll) < INDEX_MIN) return undefined;
    INDEXES.set(coll, { keys: undefined, vals: undefined, byPath: new Map() });
    return undefined;
  }
  let ix = e.byPath.get(pathKey);
  if (ix !== undefined) return ix;
  if (e.vals === undefined) {
    const [keys, vals] = entriesOf(coll);
    e.keys = keys;
    e.vals = vals;
  }
  ix = new FieldIndex(e.keys as Value[], e.vals, path);
  e.byPath.set(pathKey, ix);
  return ix;
}

function collectionSize(coll: Value): number {
  if (Array.isArray(coll)) return coll.length;
  if (coll instanceof RegoObject || coll instanceof RegoSet) return coll.size;
  return 0;
}

function entriesOf(coll: Value): [Value[], Value[]] {
  if (Array.isArray(coll)) {
    const keys = new Array<Value>(coll.length);
    for (let i = 0; i < coll.length; i++) keys[i] = i;
    return [keys, coll as Value[]];
  }
  if (coll instanceof RegoObject) {
    const es = coll.entries();
    return [es.map((e) => e[0]), es.map((e) => e[1])];
  }
  const vs = (coll as RegoSet).values() as Value[];
  return [vs, vs];
}
