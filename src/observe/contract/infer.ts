/**
 * Contract inference: a JSON Schema (draft 2020-12) of one endpoint's request
 * or response bodies, learned from observed samples.
 *
 * A `ContractLearner` is the per-worker accumulator: `observe` walks a parsed
 * sample once and folds it into a tree of counters, one node per position
 * (`$.items[*].id`), every structure bounded (depth, properties per object,
 * items per array, distinct values per position, values per sample). Its
 * `state()` is plain JSON, and `ContractLearner.merge(a, b)` of two states is
 * exactly the state of learning on both sets of samples, in any order and
 * split (the bounds are chosen so that this holds past them too: the kept
 * property names are the smallest ones, a distinct-value set turns into a
 * HyperLogLog sketch). `contractSchema(state, options)` turns a state into a
 * schema; thresholds (required-ness, enums) are applied there, not while
 * learning, so they can change without relearning.
 *
 * Bodies as bytes go through `observeBody` (see body.ts): empty, non-JSON,
 * binary, oversized, malformed and too complex bodies are skipped and counted.
 */
import { Distinct, type DistinctState, HASHED, valueKey } from "./distinct.ts";
import { SmallestMap } from "./smallest-map.ts";

/** Bounds on what one learner keeps and how much of one sample it walks. */
export interface InferLimits {
  /** Objects and arrays deeper than this (the root is depth 0) are counted, not described. Default 12. */
  readonly maxDepth: number;
  /** Property names described per object position; past it the smallest names are kept. Default 100. */
  readonly maxProperties: number;
  /** Items of each array walked (the first ones). Default 50. */
  readonly maxArrayItems: number;
  /** Distinct values kept exactly per position (at least the enum bound); past it they are estimated. Default 16. */
  readonly maxDistinct: number;
  /** Values one sample may hold within the bounds above; a larger one is skipped (counted as too_complex). Default 20,000. */
  readonly maxNodes: number;
  /** Strings longer than this are tracked by a hash, never stored. Default 40. */
  readonly maxValueChars: number;
  /** Bodies longer than this many bytes are skipped (too_large). Default 1 MiB. */
  readonly maxBodyBytes: number;
  /** Media types of JSON bodies kept. Default 4. */
  readonly maxMediaTypes: number;
}

export const DEFAULT_INFER_LIMITS: InferLimits = Object.freeze({
  maxDepth: 12,
  maxProperties: 100,
  maxArrayItems: 50,
  maxDistinct: 16,
  maxNodes: 20_000,
  maxValueChars: 40,
  maxBodyBytes: 1024 * 1024,
  maxMediaTypes: 4,
});

/** How a state becomes a schema. */
export interface SchemaOptions {
  /** A property present in at least this fraction of its objects is required. Default 0.99. */
  readonly requiredRatio?: number;
  /** A string position with at most this many distinct values… Default 10. */
  readonly enumMax?: number;
  /** …over at least this many samples becomes an enum. Default 20. */
  readonly enumMinSamples?: number;
  /** Add `$schema` (draft 2020-12) at the root. Default false (a schema inside OpenAPI 3.1 needs none). */
  readonly dialect?: boolean;
}

export type JsonType = "null" | "boolean" | "integer" | "number" | "string" | "array" | "object";

/** The part of JSON Schema 2020-12 that inference writes. */
export interface JsonSchema {
  $schema?: string;
  $comment?: string;
  type?: JsonType | JsonType[];
  format?: string;
  enum?: (string | null)[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  anyOf?: JsonSchema[];
}

/** Formats recognized in strings (JSON Schema 2020-12 §7.3), each a subset of what ajv-formats accepts. */
export type FormatName = "date-time" | "date" | "uuid" | "email" | "uri" | "ipv4";
const FORMAT_NAMES: readonly FormatName[] = ["date-time", "date", "uuid", "email", "uri", "ipv4"];

const DATE_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const DATE = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const EMAIL = /^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[a-zA-Z0-9\-._~%!$&'()*+,;=]+(?::\d{1,5})?(?:[/?#][a-zA-Z0-9\-._~%!$&'()*+,;=:@/?]*(?:#[a-zA-Z0-9\-._~%!$&'()*+,;=:@/?]*)?)?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The format a string has, if any (they are mutually exclusive); cheap checks first, so most strings run no regex. */
export function detectFormat(s: string): FormatName | undefined {
  const n = s.length;
  if (n === 36 && s.charCodeAt(8) === 45 && UUID.test(s)) return "uuid";
  const c0 = s.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    if (n >= 10 && s.charCodeAt(4) === 45) {
      if (n === 10) return DATE.test(s) ? "date" : undefined;
      return DATE_TIME.test(s) ? "date-time" : undefined;
    }
    if (n >= 7 && n <= 15 && IPV4.test(s)) return "ipv4";
  }
  if (n > 254) return undefined;
  if (s.includes("://")) return URI.test(s) ? "uri" : undefined;
  if (s.includes("@") && EMAIL.test(s)) return "email";
  return undefined;
}

// ---------------------------------------------------------------------------
// The serialized state: plain JSON, canonical (sorted), mergeable.

export interface NumberState {
  n: number;
  /** How many were integers (a JSON `1.0` parses as 1 and counts here). */
  integers: number;
  min: number;
  max: number;
  distinct: DistinctState;
}

export interface StringState {
  n: number;
  minLength: number;
  maxLength: number;
  /** How many strings had each format. */
  formats: Partial<Record<FormatName, number>>;
  distinct: DistinctState;
}

export interface ArrayState {
  n: number;
  empty: number;
  minItems: number;
  maxItems: number;
  /** Arrays longer than maxArrayItems (only their first items were walked). */
  sampled: number;
  /** Arrays past maxDepth, counted only. */
  deep: number;
  items: NodeState;
}

export interface ObjectState {
  n: number;
  /** Objects past maxDepth, counted only. */
  deep: number;
  /** More than maxProperties names were seen; the smallest are described. */
  truncated: boolean;
  properties: [string, NodeState][];
}

/** One position of a document: how many values it held, by type. */
export interface NodeState {
  n: number;
  null?: number;
  boolean?: number;
  number?: NumberState;
  string?: StringState;
  array?: ArrayState;
  object?: ObjectState;
}

/** Why bodies were or were not learned from. */
export interface BodyCounts {
  json: number;
  empty: number;
  non_json: number;
  binary: number;
  too_large: number;
  invalid: number;
  too_complex: number;
}

export interface ContractState {
  v: 1;
  limits: InferLimits;
  bodies: BodyCounts;
  /** Media types of the JSON bodies learned from, with counts (the smallest maxMediaTypes kept). */
  media: [string, number][];
  root: NodeState;
}

// ---------------------------------------------------------------------------
// The mutable learner tree.

class NumberStats {
  n = 0;
  integers = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  readonly distinct: Distinct;
  constructor(l: InferLimits) {
    this.distinct = new Distinct(l.maxDistinct);
  }
  add(v: number): void {
    this.n++;
    if (Number.isInteger(v)) this.integers++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.distinct.add(String(v));
  }
  merge(o: NumberStats): void {
    this.n += o.n;
    this.integers += o.integers;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
    this.distinct.mergeFrom(o.distinct);
  }
  toState(): NumberState {
    return { n: this.n, integers: this.integers, min: this.min, max: this.max, distinct: this.distinct.toState() };
  }
  static from(s: NumberState, l: InferLimits): NumberStats {
    const x = new NumberStats(l);
    x.n = s.n;
    x.integers = s.integers;
    x.min = s.min;
    x.max = s.max;
    x.distinct.mergeFrom(Distinct.fromState(s.distinct, l.maxDistinct));
    return x;
  }
}

class StringStats {
  n = 0;
  minLength = Number.POSITIVE_INFINITY;
  maxLength = 0;
  readonly formats = new Map<FormatName, number>();
  readonly distinct: Distinct;
  constructor(private readonly l: InferLimits) {
    this.distinct = new Distinct(l.maxDistinct);
  }
  add(s: string): void {
    this.n++;
    if (s.length < this.minLength) this.minLength = s.length;
    if (s.length > this.maxLength) this.maxLength = s.length;
    const f = detectFormat(s);
    if (f !== undefined) this.formats.set(f, (this.formats.get(f) ?? 0) + 1);
    // A formatted value (an e-mail address, an id, an instant) never becomes an enum: keep only its hash.
    this.distinct.add(valueKey(s, this.l.maxValueChars, f !== undefined));
  }
  merge(o: StringStats): void {
    this.n += o.n;
    this.minLength = Math.min(this.minLength, o.minLength);
    this.maxLength = Math.max(this.maxLength, o.maxLength);
    for (const [f, c] of o.formats) this.formats.set(f, (this.formats.get(f) ?? 0) + c);
    this.distinct.mergeFrom(o.distinct);
  }
  toState(): StringState {
    const formats: Partial<Record<FormatName, number>> = {};
    for (const f of FORMAT_NAMES) {
      const c = this.formats.get(f);
      if (c !== undefined) formats[f] = c;
    }
    return { n: this.n, minLength: this.minLength, maxLength: this.maxLength, formats, distinct: this.distinct.toState() };
  }
  static from(s: StringState, l: InferLimits): StringStats {
    const x = new StringStats(l);
    x.n = s.n;
    x.minLength = s.minLength;
    x.maxLength = s.maxLength;
    for (const f of FORMAT_NAMES) {
      const c = s.formats[f];
      if (typeof c === "number" && c > 0) x.formats.set(f, c);
    }
    x.distinct.mergeFrom(Distinct.fromState(s.distinct, l.maxDistinct));
    return x;
  }
}

class ArrayStats {
  n = 0;
  empty = 0;
  minItems = Number.POSITIVE_INFINITY;
  maxItems = 0;
  sampled = 0;
  deep = 0;
  readonly items: Node;
  constructor(private readonly l: InferLimits) {
    this.items = new Node(l);
  }
  add(a: readonly unknown[], depth: number): void {
    this.n++;
    const len = a.length;
    if (len === 0) this.empty++;
    if (len < this.minItems) this.minItems = len;
    if (len > this.maxItems) this.maxItems = len;
    if (depth >= this.l.maxDepth) {
      this.deep++;
      return;
    }
    const take = Math.min(len, this.l.maxArrayItems);
    if (take < len) this.sampled++;
    for (let i = 0; i < take; i++) this.items.add(a[i], depth + 1);
  }
  merge(o: ArrayStats): void {
    this.n += o.n;
    this.empty += o.empty;
    this.minItems = Math.min(this.minItems, o.minItems);
    this.maxItems = Math.max(this.maxItems, o.maxItems);
    this.sampled += o.sampled;
    this.deep += o.deep;
    this.items.merge(o.items);
  }
  toState(): ArrayState {
    return { n: this.n, empty: this.empty, minItems: this.minItems, maxItems: this.maxItems, sampled: this.sampled, deep: this.deep, items: this.items.toState() };
  }
  static from(s: ArrayState, l: InferLimits): ArrayStats {
    const x = new ArrayStats(l);
    x.n = s.n;
    x.empty = s.empty;
    x.minItems = s.minItems;
    x.maxItems = s.maxItems;
    x.sampled = s.sampled;
    x.deep = s.deep;
    x.items.merge(Node.from(s.items, l));
    return x;
  }
}

class ObjectStats {
  n = 0;
  deep = 0;
  readonly props: SmallestMap<Node>;
  constructor(private readonly l: InferLimits) {
    this.props = new SmallestMap(l.maxProperties);
  }
  add(o: Record<string, unknown>, depth: number): void {
    this.n++;
    if (depth >= this.l.maxDepth) {
      this.deep++;
      return;
    }
    for (const k of Object.keys(o)) this.props.get(k, () => new Node(this.l))?.add(o[k], depth + 1);
  }
  merge(o: ObjectStats): void {
    this.n += o.n;
    this.deep += o.deep;
    if (o.props.truncated) this.props.truncated = true;
    for (const [k, child] of o.props.map) this.props.get(k, () => new Node(this.l))?.merge(child);
  }
  toState(): ObjectState {
    return { n: this.n, deep: this.deep, truncated: this.props.truncated, properties: this.props.sorted().map(([k, v]) => [k, v.toState()]) };
  }
  static from(s: ObjectState, l: InferLimits): ObjectStats {
    const x = new ObjectStats(l);
    x.n = s.n;
    x.deep = s.deep;
    x.props.truncated = s.truncated === true;
    for (const [k, child] of s.properties) x.props.get(k, () => new Node(l))?.merge(Node.from(child, l));
    return x;
  }
}

class Node {
  n = 0;
  nulls = 0;
  booleans = 0;
  num: NumberStats | null = null;
  str: StringStats | null = null;
  arr: ArrayStats | null = null;
  obj: ObjectStats | null = null;
  constructor(private readonly l: InferLimits) {}

  /** Folds one value in; the value was checked by `measure` first. */
  add(v: unknown, depth: number): void {
    this.n++;
    if (v === null) this.nulls++;
    else if (typeof v === "string") (this.str ??= new StringStats(this.l)).add(v);
    else if (typeof v === "number") (this.num ??= new NumberStats(this.l)).add(v);
    else if (typeof v === "boolean") this.booleans++;
    else if (Array.isArray(v)) (this.arr ??= new ArrayStats(this.l)).add(v, depth);
    else (this.obj ??= new ObjectStats(this.l)).add(v as Record<string, unknown>, depth);
  }

  merge(o: Node): void {
    this.n += o.n;
    this.nulls += o.nulls;
    this.booleans += o.booleans;
    if (o.num) (this.num ??= new NumberStats(this.l)).merge(o.num);
    if (o.str) (this.str ??= new StringStats(this.l)).merge(o.str);
    if (o.arr) (this.arr ??= new ArrayStats(this.l)).merge(o.arr);
    if (o.obj) (this.obj ??= new ObjectStats(this.l)).merge(o.obj);
  }

  toState(): NodeState {
    const s: NodeState = { n: this.n };
    if (this.nulls > 0) s.null = this.nulls;
    if (this.booleans > 0) s.boolean = this.booleans;
    if (this.num) s.number = this.num.toState();
    if (this.str) s.string = this.str.toState();
    if (this.arr) s.array = this.arr.toState();
    if (this.obj) s.object = this.obj.toState();
    return s;
  }

  static from(s: NodeState, l: InferLimits): Node {
    const x = new Node(l);
    x.n = s.n;
    x.nulls = s.null ?? 0;
    x.booleans = s.boolean ?? 0;
    if (s.number) x.num = NumberStats.from(s.number, l);
    if (s.string) x.str = StringStats.from(s.string, l);
    if (s.array) x.arr = ArrayStats.from(s.array, l);
    if (s.object) x.obj = ObjectStats.from(s.object, l);
    return x;
  }
}

/**
 * How many values `learn` would visit in `v` within the limits, or -1 when `v`
 * is not JSON (undefined, a function, a bigint, a non-finite number, a cycle
 * deeper than maxDepth is cut off by the depth bound). Stops counting past `max`.
 */
function measure(v: unknown, depth: number, l: InferLimits, max: number): number {
  let count = 0;
  const walk = (x: unknown, d: number): boolean => {
    if (++count > max) return false;
    if (x === null || typeof x === "string" || typeof x === "boolean") return true;
    if (typeof x === "number") {
      if (!Number.isFinite(x)) count = -1;
      return count >= 0;
    }
    if (typeof x !== "object") {
      count = -1;
      return false;
    }
    if (d >= l.maxDepth) return true;
    if (Array.isArray(x)) {
      const take = Math.min(x.length, l.maxArrayItems);
      for (let i = 0; i < take; i++) if (!walk(x[i], d + 1)) return false;
      return true;
    }
    const o = x as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!walk(o[k], d + 1)) return false;
    return true;
  };
  walk(v, depth);
  return count;
}

function newBodies(): BodyCounts {
  return { json: 0, empty: 0, non_json: 0, binary: 0, too_large: 0, invalid: 0, too_complex: 0 };
}

/** Why a sample was or was not learned from. */
export type SampleVerdict = keyof BodyCounts;

/**
 * The learner of one body kind (an endpoint's requests, or its responses of one
 * status). Cheap per sample (one bounded walk, a second one to measure), bounded
 * in memory by its limits whatever it is fed.
 */
export class ContractLearner {
  readonly limits: InferLimits;
  private root: Node;
  private readonly bodies = newBodies();
  private readonly media: SmallestMap<{ n: number }>;

  constructor(limits: Partial<InferLimits> = {}) {
    this.limits = Object.freeze({ ...DEFAULT_INFER_LIMITS, ...limits });
    this.root = new Node(this.limits);
    this.media = new SmallestMap(this.limits.maxMediaTypes);
  }

  /** Learns from one parsed JSON value. Returns "json", or why it was skipped ("invalid": not JSON; "too_complex": past maxNodes). */
  observe(sample: unknown, mediaType?: string): SampleVerdict {
    const cost = measure(sample, 0, this.limits, this.limits.maxNodes);
    if (cost < 0) return this.count("invalid");
    if (cost > this.limits.maxNodes) return this.count("too_complex");
    this.root.add(sample, 0);
    if (mediaType !== undefined) {
      const m = this.media.get(mediaType, () => ({ n: 0 }));
      if (m) m.n++;
    }
    return this.count("json");
  }

  /** Counts a sample skipped before parsing (see body.ts). */
  count(verdict: SampleVerdict): SampleVerdict {
    this.bodies[verdict]++;
    return verdict;
  }

  /** The accumulated state: plain JSON, canonical, mergeable. */
  state(): ContractState {
    return {
      v: 1,
      limits: { ...this.limits },
      bodies: { ...this.bodies },
      media: this.media.sorted().map(([k, v]) => [k, v.n]),
      root: this.root.toState(),
    };
  }

  /** A learner that continues from a state (e.g. one read back from the store). */
  static fromState(s: ContractState): ContractLearner {
    const x = new ContractLearner(s.limits);
    x.absorb(s);
    return x;
  }

  /** Folds a state in: afterwards this learner is as if it had also seen that state's samples. */
  absorb(s: ContractState): void {
    for (const k of Object.keys(this.bodies) as (keyof BodyCounts)[]) this.bodies[k] += s.bodies[k] ?? 0;
    for (const [m, c] of s.media) {
      const e = this.media.get(m, () => ({ n: 0 }));
      if (e) e.n += c;
    }
    this.root.merge(Node.from(s.root, this.limits));
  }

  /** The state of learning on both states' samples (a's limits are kept). */
  static merge(a: ContractState, b: ContractState): ContractState {
    const x = ContractLearner.fromState(a);
    x.absorb(b);
    return x.state();
  }

  /** The schema of a state; undefined when no JSON body was learned from. */
  static schema(state: ContractState, options: SchemaOptions = {}): JsonSchema | undefined {
    return contractSchema(state, options);
  }
}

/** An empty state (no samples) with the given limits. */
export function emptyContractState(limits: Partial<InferLimits> = {}): ContractState {
  return new ContractLearner(limits).state();
}

// ---------------------------------------------------------------------------
// State → schema.

const DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** The schema of a state; undefined when no JSON body was learned from. */
export function contractSchema(state: ContractState, options: SchemaOptions = {}): JsonSchema | undefined {
  if (state.root.n === 0) return undefined;
  const o: Required<SchemaOptions> = { requiredRatio: 0.99, enumMax: 10, enumMinSamples: 20, dialect: false, ...options };
  const s = nodeSchema(state.root, o, state.limits);
  return o.dialect ? { $schema: DIALECT, ...s } : s;
}

/** The schema of one position. */
export function nodeSchema(node: NodeState, o: Required<SchemaOptions>, l: InferLimits): JsonSchema {
  if (node.n === 0) return {};
  const types: JsonType[] = [];
  const out: JsonSchema = {};
  const notes: string[] = [];
  if (node.null) types.push("null");
  if (node.boolean) types.push("boolean");
  if (node.number) types.push(node.number.integers === node.number.n ? "integer" : "number");
  let enumValues: string[] | undefined;
  if (node.string) {
    types.push("string");
    const st = node.string;
    const format = FORMAT_NAMES.find((f) => st.formats[f] === st.n);
    if (format !== undefined) out.format = format;
    else enumValues = enumOf(st, o);
  }
  if (node.array) {
    types.push("array");
    const a = node.array;
    if (a.deep > 0) notes.push(`array items not described: deeper than ${l.maxDepth} levels`);
    else if (a.items.n > 0) out.items = nodeSchema(a.items, o, l);
    else notes.push("always empty in the samples");
  }
  if (node.object) {
    types.push("object");
    const ob = node.object;
    if (ob.deep > 0) {
      out.additionalProperties = true;
      notes.push(`properties not described: deeper than ${l.maxDepth} levels`);
    } else {
      const props: [string, JsonSchema][] = [];
      const required: string[] = [];
      for (const [k, child] of ob.properties) {
        props.push([k, nodeSchema(child, o, l)]);
        if (child.n / ob.n >= o.requiredRatio) required.push(k);
      }
      if (props.length > 0) out.properties = Object.fromEntries(props);
      if (required.length > 0) out.required = required;
      if (ob.truncated) {
        out.additionalProperties = true;
        notes.push(`more than ${l.maxProperties} property names seen; the first ${l.maxProperties} in sort order are described`);
      }
    }
  }
  if (notes.length > 0) out.$comment = notes.join("; ");
  if (enumValues === undefined) return { type: types.length === 1 ? types[0] : types, ...out };
  // An enum constrains every type, so it goes with the strings (and null) only.
  const others = types.filter((t) => t !== "string" && t !== "null");
  const withNull = types.includes("null");
  const strings: JsonSchema = { type: withNull ? ["null", "string"] : "string", enum: withNull ? [...enumValues, null] : enumValues };
  if (others.length === 0) return strings;
  return { anyOf: [strings, { type: others.length === 1 ? others[0] : others, ...out }] };
}

function enumOf(st: StringState, o: Required<SchemaOptions>): string[] | undefined {
  const values = st.distinct.values;
  if (values === undefined || st.n < o.enumMinSamples || values.length > o.enumMax || values.length === 0) return undefined;
  if (values.some(([k]) => k.startsWith(HASHED))) return undefined;
  return values.map(([k]) => k);
}
