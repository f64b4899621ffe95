/**
 * Rego's values and OPA's total order over them. See README.md ("Values").
 *
 * Sets and objects are keyed by value: a key of a primitive type (null,
 * boolean, double, string) is used as a JS Map key directly, so the common
 * lookup `obj.get("role")` is one Map probe; keys that are composite (arrays,
 * objects, sets) or BigNums go through their canonical text. Both iterate in
 * OPA's sorted order, computed once.
 */
import { BigNum, compareNumbers, equalNumbers, num, numberText, numFromBigInt, type RNumber } from "./number.ts";

export type Value = null | boolean | RNumber | string | readonly Value[] | RegoSet | RegoObject;

type Prim = null | boolean | number | string;

function isPrim(v: Value): v is Prim {
  return typeof v !== "object" || v === null;
}

export class RegoObject {
  private readonly prim = new Map<Prim, Value>();
  private comp: Map<string, [Value, Value]> | undefined;
  private sorted: (readonly [Value, Value])[] | undefined;
  private canon: string | undefined;

  static fromEntries(entries: Iterable<readonly [Value, Value]>): RegoObject {
    const o = new RegoObject();
    for (const [k, v] of entries) o.set(k, v);
    return o;
  }

  get size(): number {
    return this.prim.size + (this.comp?.size ?? 0);
  }

  get(key: Value): Value | undefined {
    if (isPrim(key)) return this.prim.get(key);
    return this.comp?.get(canonicalKey(key))?.[1];
  }

  has(key: Value): boolean {
    if (isPrim(key)) return this.prim.has(key);
    return this.comp?.has(canonicalKey(key)) ?? false;
  }

  /** Adds or replaces a key. Only while building: an object is never changed once shared. */
  set(key: Value, value: Value): this {
    if (isPrim(key)) this.prim.set(key, value);
    else (this.comp ??= new Map()).set(canonicalKey(key), [key, value]);
    this.sorted = undefined;
    this.canon = undefined;
    return this;
  }

  /** Entries in OPA's order of their keys. */
  entries(): readonly (readonly [Value, Value])[] {
    if (this.sorted !== undefined) return this.sorted;
    const out: (readonly [Value, Value])[] = [];
    for (const [k, v] of this.prim) out.push([k, v]);
    if (this.comp !== undefined) for (const e of this.comp.values()) out.push(e);
    out.sort((a, b) => compare(a[0], b[0]));
    this.sorted = out;
    return out;
  }

  keys(): Value[] {
    return this.entries().map((e) => e[0]);
  }

  /** @internal canonical text, cached */
  canonical(): string {
    if (this.canon !== undefined) return this.canon;
    let s = "{";
    for (const [k, v] of this.entries()) s += `${canonicalKey(k)}:${canonicalKey(v)},`;
    this.canon = `${s}}`;
    return this.canon;
  }
}

export class RegoSet {
  private readonly prim = new Set<Prim>();
  private comp: Map<string, Value> | undefined;
  private sorted: Value[] | undefined;
  private canon: string | undefined;

  static of(values: Iterable<Value>): RegoSet {
    const s = new RegoSet();
    for (const v of values) s.add(v);
    return s;
  }

  get size(): number {
    return this.prim.size + (this.comp?.size ?? 0);
  }

  has(v: Value): boolean {
    if (isPrim(v)) return this.prim.has(v);
    return this.comp?.has(canonicalKey(v)) ?? false;
  }

  /** Adds a member. Only while building: a set is never changed once shared. */
  add(v: Value): this {
    if (isPrim(v)) this.prim.add(v);
    else (this.comp ??= new Map()).set(canonicalKey(v), v);
    this.sorted = undefined;
    this.canon = undefined;
    return this;
  }

  /** Members in OPA's order. */
  values(): readonly Value[] {
    if (this.sorted !== undefined) return this.sorted;
    const out: Value[] = [...this.prim];
    if (this.comp !== undefined) for (const v of this.comp.values()) out.push(v);
    out.sort(compare);
    this.sorted = out;
    return out;
  }

  /** @internal canonical text, cached */
  canonical(): string {
    if (this.canon !== undefined) return this.canon;
    let s = "<";
    for (const v of this.values()) s += `${canonicalKey(v)},`;
    this.canon = `${s}>`;
    return this.canon;
  }
}

/**
 * A text equal for equal values and different for different ones (of any
 * type): how composite values and BigNums key sets and objects.
 */
export function canonicalKey(v: Value): string {
  if (v === null) return "n";
  switch (typeof v) {
    case "boolean":
      return v ? "t" : "f";
    case "number":
      return `#${v}`;
    case "string":
      return JSON.stringify(v);
  }
  if (v instanceof BigNum) return `#${v.coef}e${v.exp}`;
  if (v instanceof RegoObject || v instanceof RegoSet) return v.canonical();
  let s = "[";
  for (const e of v as readonly Value[]) s += `${canonicalKey(e)},`;
  return `${s}]`;
}

export type TypeName = "null" | "boolean" | "number" | "string" | "array" | "object" | "set";

export function typeName(v: Value): TypeName {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    case "string":
      return "string";
  }
  if (v instanceof BigNum) return "number";
  if (v instanceof RegoObject) return "object";
  if (v instanceof RegoSet) return "set";
  return "array";
}

export function isNumber(v: Value): v is RNumber {
  return typeof v === "number" || v instanceof BigNum;
}

export function isArray(v: Value): v is readonly Value[] {
  return Array.isArray(v);
}

const RANK: Record<TypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6 };

/** OPA's total order: negative, zero or positive. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return RANK[ta] - RANK[tb];
  switch (ta) {
    case "null":
      return 0;
    case "boolean":
      return a === b ? 0 : a ? 1 : -1;
    case "number":
      return compareNumbers(a as RNumber, b as RNumber);
    case "string":
      return compareStrings(a as string, b as string);
    case "array":
      return compareSequences(a as readonly Value[], b as readonly Value[]);
    case "set":
      return compareSequences((a as RegoSet).values(), (b as RegoSet).values());
    case "object": {
      const ea = (a as RegoObject).entries();
      const eb = (b as RegoObject).entries();
      const n = Math.min(ea.length, eb.length);
      for (let i = 0; i < n; i++) {
        const [ka, va] = ea[i] as readonly [Value, Value];
        const [kb, vb] = eb[i] as readonly [Value, Value];
        const ck = compare(ka, kb);
        if (ck !== 0) return ck;
        const cv = compare(va, vb);
        if (cv !== 0) return cv;
      }
      return ea.length - eb.length;
    }
  }
}

function compareSequences(a: readonly Value[], b: readonly Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compare(a[i] as Value, b[i] as Value);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** By code point (Go compares strings as UTF-8 bytes, which orders them by code point). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only between surrogates and U+E000..U+FFFF.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return false;
  if (a instanceof BigNum) return b instanceof BigNum && equalNumbers(a, b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i] as Value, b[i] as Value)) return false;
    return true;
  }
  if (a instanceof RegoObject) {
    if (!(b instanceof RegoObject) || a.size !== b.size) return false;
    for (const [k, v] of a.entries()) {
      const w = b.get(k);
      if (w === undefined || !equal(v, w)) return false;
    }
    return true;
  }
  if (a instanceof RegoSet) {
    if (!(b instanceof RegoSet) || a.size !== b.size) return false;
    for (const v of a.values()) if (!b.has(v)) return false;
    return true;
  }
  return false;
}

/**
 * A JSON-like JS value as a Rego value: null, booleans, finite numbers,
 * bigints, strings, arrays, plain objects, Maps and Sets (Rego values pass
 * through). Anything else (undefined, NaN, functions) is a TypeError naming
 * where it was found.
 */
export function fromJSON(x: unknown, path = "$"): Value {
  if (x === null) return null;
  switch (typeof x) {
    case "boolean":
    case "string":
      return x;
    case "number": {
      const n = num(x);
      if (n === undefined) throw new TypeError(`${path}: ${x} is not a number Rego can hold`);
      return n;
    }
    case "bigint":
      return numFromBigInt(x);
    case "object":
      break;
    default:
      throw new TypeError(`${path}: a ${typeof x} is not a Rego value`);
  }
  if (x instanceof BigNum || x instanceof RegoObject || x instanceof RegoSet) return x;
  if (Array.isArray(x)) return x.map((e, i) => fromJSON(e, `${path}[${i}]`));
  if (x instanceof Set) return RegoSet.of([...x].map((e, i) => fromJSON(e, `${path}{${i}}`)));
  if (x instanceof Map) {
    const o = new RegoObject();
    for (const [k, v] of x) o.set(fromJSON(k, `${path}<key>`), fromJSON(v, `${path}.${String(k)}`));
    return o;
  }
  const o = new RegoObject();
  for (const k of Object.keys(x)) o.set(k, fromJSON((x as Record<string, unknown>)[k], `${path}.${k}`));
  return o;
}

/**
 * A Rego value as plain JSON data: sets become arrays in OPA's order, object
 * keys that are not strings become their JSON text, BigNums the nearest double
 * (use toJSONText for exact digits).
 */
export function toJSON(v: Value): unknown {
  if (v === null || typeof v !== "object") return v;
  if (v instanceof BigNum) return Number(v.toString());
  if (Array.isArray(v)) return v.map(toJSON);
  if (v instanceof RegoSet) return v.values().map(toJSON);
  const out: Record<string, unknown> = {};
  for (const [k, val] of (v as RegoObject).entries()) out[typeof k === "string" ? k : toJSONText(k)] = toJSON(val);
  return out;
}

/**
 * The text of a scalar as JSON and Rego write it: null, true, false, numbers
 * with every digit, strings as `quote` writes them. Undefined for arrays,
 * sets and objects, whose text is the caller's to write.
 */
export function scalarText(v: Value, quote: (s: string) => string): string | undefined {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return numberText(v);
    case "string":
      return quote(v);
  }
  return v instanceof BigNum ? numberText(v) : undefined;
}

/** JSON text of a value, numbers with every digit (sets as sorted arrays, keys as in toJSON). */
export function toJSONText(v: Value): string {
  const scalar = scalarText(v, JSON.stringify);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(v)) return `[${v.map(toJSONText).join(",")}]`;
  if (v instanceof RegoSet) return `[${v.values().map(toJSONText).join(",")}]`;
  const parts: string[] = [];
  for (const [k, val] of (v as RegoObject).entries()) parts.push(`${JSON.stringify(typeof k === "string" ? k : toJSONText(k))}:${toJSONText(val)}`);
  return `{${parts.join(",")}}`;
}
