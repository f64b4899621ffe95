/**
 * Built-ins that edit JSON documents (values, not text): json.filter and
 * json.remove keep or drop the parts named by paths, json.patch applies an
 * RFC 6902 patch.
 *
 * A path is a JSON pointer string ("/a/b", with ~1 for "/" and ~0 for "~")
 * or an array of segments of any type. A string segment indexes an array when
 * it is a plain integer without leading zeros; a set is indexed by its members.
 *
 * json.patch is atomic: any operation that fails (a missing path, a failed
 * test, a malformed operation) makes the whole result undefined, never an
 * error, as in OPA. Edits copy only the containers along the edited path.
 */
import { toSafeInteger } from "../number.ts";
import { canonicalKey, equal, isNumber, RegoObject, RegoSet, typeName, type Value } from "../value.ts";
import { BuiltinError, operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

/** A pointer's segments; undefined when the value is neither a string nor an array. */
function pathSegments(p: Value): readonly Value[] | undefined {
  if (Array.isArray(p)) return p as readonly Value[];
  if (typeof p !== "string") return undefined;
  if (p === "") return [];
  // OPA drops every leading slash ("//a" is ["a"]), and unescapes ~1 before ~0.
  return p
    .replace(/^\/+/, "")
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

// ---------------------------------------------------------------------------
// json.filter and json.remove: the paths as a tree of keys

/** Children by canonical key; a null `next` marks where a path ends (the whole subtree). */
type PathTree = Map<string, { readonly key: Value; next: PathTree | null }>;

function pathsArg(name: string, v: Value): (readonly Value[])[] {
  let members: readonly Value[];
  if (Array.isArray(v)) members = v as readonly Value[];
  else if (v instanceof RegoSet) members = v.values();
  else throw operandError(name, 2, "one of {set, array}", v);
  return members.map((m) => {
    const segs = pathSegments(m);
    if (segs === undefined) {
      throw new BuiltinError(
        "eval_type_error",
        `${name}: operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(m)}`,
      );
    }
    return segs;
  });
}

/** Merges the paths into one tree; a path that is a prefix of another wins ("a" over "a/b"). Empty paths name nothing. */
function pathTree(paths: readonly (readonly Value[])[]): PathTree {
  const root: PathTree = new Map();
  for (const path of paths) {
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as Value;
      const ck = canonicalKey(key);
      const entry = node.get(ck);
      if (i === path.length - 1) {
        node.set(ck, { key, next: null });
        break;
      }
      if (entry === undefined) {
        const next: PathTree = new Map();
        node.set(ck, { key, next });
        node = next;
      } else if (entry.next === null) {
        break; // a shorter path already takes the whole subtree
      } else {
        node = entry.next;
      }
    }
  }
  return root;
}

/** An array element's entry: paths name array elements by their index as a string. */
function indexEntry(tree: PathTree, i: number): { next: PathTree | null } | undefined {
  return tree.get(canonicalKey(String(i)));
}

/** The parts of v that the tree names. */
function keep(v: Value, tree: PathTree | null): Value {
  if (tree === null) return v;
  if (Array.isArray(v)) {
    const out: Value[] = [];
    (v as readonly Value[]).forEach((e, i) => {
      const entry = indexEntry(tree, i);
      if (entry !== undefined) out.push(keep(e, entry.next));
    });
    return out;
  }
  if (v instanceof RegoObject) {
    const out = new RegoObject();
    for (const [k, e] of v.entries()) {
      const entry = tree.get(canonicalKey(k));
      if (entry !== undefined) out.set(k, keep(e, entry.next));
    }
    return out;
  }
  if (v instanceof RegoSet) {
    const out = new RegoSet();
    for (const e of v.values()) {
      const entry = tree.get(canonicalKey(e));
      if (entry !== undefined) out.add(keep(e, entry.next));
    }
    return out;
  }
  return v;
}

/** v without the parts the tree names; undefined when v itself is named. Arrays close up their gaps. */
function drop(v: Value, tree: PathTree | null): Value | undefined {
  if (tree === null) return undefined;
  const without = (e: Value, entry: { next: PathTree | null } | undefined) => (entry === undefined ? e : drop(e, entry.next));
  if (Array.isArray(v)) {
    const out: Value[] = [];
    (v as readonly Value[]).forEach((e, i) => {
      const r = without(e, indexEntry(tree, i));
      if (r !== undefined) out.push(r);
    });
    return out;
  }
  if (v instanceof RegoObject) {
    const out = new RegoObject();
    for (const [k, e] of v.entries()) {
      const r = without(e, tree.get(canonicalKey(k)));
      if (r !== undefined) out.set(k, r);
    }
    return out;
  }
  if (v instanceof RegoSet) {
    const out = new RegoSet();
    for (const e of v.values()) {
      const r = without(e, tree.get(canonicalKey(e)));
      if (r !== undefined) out.add(r);
    }
    return out;
  }
  return v;
}

function objectArg(name: string, args: readonly Value[]): RegoObject {
  const v = args[0] as Value;
  if (!(v instanceof RegoObject)) throw operandError(name, 1, "object", v);
  return v;
}

function jsonFilter(args: readonly Value[]): Value {
  const obj = objectArg("json.filter", args);
  return keep(obj, pathTree(pathsArg("json.filter", args[1] as Value)));
}

function jsonRemove(args: readonly Value[]): Value | undefined {
  const obj = objectArg("json.remove", args);
  return drop(obj, pathTree(pathsArg("json.remove", args[1] as Value)));
}

// ---------------------------------------------------------------------------
// json.patch

/** Thrown inside the patcher for any failed operation; json.patch turns it into "undefined". */
class PatchFailure extends Error {}

function fail(why: string): never {
  throw new PatchFailure(why);
}

/** The array index a segment names: an integer, "-" for the end, or an integer string without leading zeros. */
function arrayIndex(len: number, seg: Value): number {
  if (isNumber(seg)) {
    const i = toSafeInteger(seg);
    return i ?? fail("invalid number for indexing");
  }
  if (typeof seg !== "string") return fail("invalid type for indexing");
  if (seg === "-") return len;
  if (!/^[+-]?\d+$/.test(seg)) fail("invalid string for indexing");
  if (seg !== "0" && seg.startsWith("0")) fail("leading zeros are not allowed in JSON paths");
  const i = Number(seg);
  return Number.isSafeInteger(i) ? i : fail("index out of range");
}

function childAt(doc: Value, seg: Value): Value {
  if (doc instanceof RegoObject) return present(doc.get(seg), "missing key");
  if (doc instanceof RegoSet) return doc.has(seg) ? seg : fail("missing member");
  if (Array.isArray(doc)) {
    const i = arrayIndex(doc.length, seg);
    return i >= 0 && i < doc.length ? (doc[i] as Value) : fail("index out of bounds");
  }
  return fail("not a composite value");
}

function valueAt(doc: Value, path: readonly Value[]): Value {
  let v = doc;
  for (const seg of path) v = childAt(v, seg);
  return v;
}

/** doc with the child at seg replaced; for a set, the member seg gives way to the new value. */
function withChild(doc: Value, seg: Value, value: Value): Value {
  if (doc instanceof RegoObject) return RegoObject.fromEntries(doc.entries()).set(seg, value);
  if (doc instanceof RegoSet) {
    const out = RegoSet.of(doc.values().filter((m) => !equal(m, seg)));
    return out.add(value);
  }
  const arr = [...(doc as readonly Value[])];
  arr[arrayIndex(arr.length, seg)] = value;
  return arr;
}

/** doc with the value at path (which must exist) replaced by edit(value). */
function editAt(doc: Value, path: readonly Value[], edit: (v: Value) => Value): Value {
  if (path.length === 0) return edit(doc);
  const [seg, ...rest] = path as [Value, ...Value[]];
  return withChild(doc, seg, editAt(childAt(doc, seg), rest, edit));
}

function insert(parent: Value, key: Value, value: Value): Value {
  if (parent instanceof RegoObject) return RegoObject.fromEntries(parent.entries()).set(key, value);
  if (parent instanceof RegoSet) {
    // A set's member is its own key: adding "x" is a path ending in "x".
    if (!equal(key, value)) fail("set key does not equal the value inserted");
    return RegoSet.of(parent.values()).add(value);
  }
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent.length, key);
    if (i < 0 || i > parent.length) fail("index for array insertion out of bounds");
    const arr = [...(parent as readonly Value[])];
    arr.splice(i, 0, value);
    return arr;
  }
  return fail("not a composite value");
}

function remove(parent: Value, key: Value): Value {
  if (parent instanceof RegoObject) {
    if (!parent.has(key)) fail("missing key");
    const out = new RegoObject();
    for (const [k, v] of parent.entries()) if (!equal(k, key)) out.set(k, v);
    return out;
  }
  if (parent instanceof RegoSet) {
    if (!parent.has(key)) fail("missing member");
    return RegoSet.of(parent.values().filter((m) => !equal(m, key)));
  }
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent.length, key);
    if (i < 0 || i >= parent.length) fail("index for array delete out of bounds");
    const arr = [...(parent as readonly Value[])];
    arr.splice(i, 1);
    return arr;
  }
  return fail("not a composite value");
}

/** The document so far; undefined once the root itself was removed. */
type Doc = Value | undefined;

/** v unless it is absent (undefined; null is a value, so no `??`). */
function present(v: Value | undefined, why = "the document was removed"): Value {
  return v === undefined ? fail(why) : v;
}

function addAt(doc: Doc, path: readonly Value[], value: Value): Value {
  if (path.length === 0) return value;
  const key = path[path.length - 1] as Value;
  return editAt(present(doc), path.slice(0, -1), (parent) => insert(parent, key, value));
}

function removeAt(doc: Doc, path: readonly Value[]): Doc {
  if (path.length === 0) {
    present(doc);
    return undefined;
  }
  const key = path[path.length - 1] as Value;
  return editAt(present(doc), path.slice(0, -1), (parent) => remove(parent, key));
}

interface Operation {
  readonly op: string;
  readonly path: readonly Value[];
  readonly from?: readonly Value[];
  readonly value?: Value;
}

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

function member(o: RegoObject, name: string): Value {
  return present(o.get(name), `missing '${name}' attribute`);
}

function pointer(v: Value): readonly Value[] {
  return pathSegments(v) ?? fail("a path must be a string or an array");
}

/** Reads one operation; members an operation does not use (a "value" on remove) are ignored. */
function operation(v: Value): Operation {
  if (!(v instanceof RegoObject)) return fail("an operation is not an object");
  const op = member(v, "op");
  if (typeof op !== "string" || !OPS.has(op)) return fail("unrecognized op");
  const path = pointer(member(v, "path"));
  const from = op === "move" || op === "copy" ? pointer(member(v, "from")) : undefined;
  const value = op === "add" || op === "replace" || op === "test" ? member(v, "value") : undefined;
  return { op, path, ...(from === undefined ? {} : { from }), ...(value === undefined ? {} : { value }) };
}

function apply(doc: Doc, o: Operation): Doc {
  switch (o.op) {
    case "add":
      return addAt(doc, o.path, o.value as Value);
    case "remove":
      return removeAt(doc, o.path);
    case "replace":
      return addAt(removeAt(doc, o.path), o.path, o.value as Value);
    case "move": {
      const from = o.from as readonly Value[];
      const moved = valueAt(present(doc), from);
      return addAt(removeAt(doc, from), o.path, moved);
    }
    case "copy":
      return addAt(doc, o.path, valueAt(present(doc), o.from as readonly Value[]));
    default:
      if (!equal(valueAt(present(doc), o.path), o.value as Value)) fail("test failed");
      return doc;
  }
}

function jsonPatch(args: readonly Value[], ctx: BuiltinContext): Value | undefined {
  const target = args[0] as Value;
  const patches = args[1] as Value;
  if (!Array.isArray(patches)) throw operandError("json.patch", 2, "array", patches);
  try {
    let doc: Doc = target;
    for (const p of patches as readonly Value[]) {
      const o = operation(p);
      ctx.charge(1 + o.path.length);
      doc = apply(doc, o);
    }
    return doc;
  } catch (e) {
    if (e instanceof PatchFailure) return undefined;
    throw e;
  }
}

export const JSON_DOCUMENTS: readonly BuiltinDef[] = [
  { name: "json.filter", arity: 2, args: ["object", "any"], fn: jsonFilter },
  { name: "json.remove", arity: 2, args: ["object", "any"], fn: jsonRemove },
  { name: "json.patch", arity: 2, args: ["any", "array"], fn: jsonPatch },
];
