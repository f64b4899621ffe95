/**
 * Schemas from a dereferenced OpenAPI document made fit for MCP: JSON Schema
 * 2020-12 (MCP 2025-11-25's default dialect) and plain trees. swagger-parser
 * dereferences a recursive $ref into a cycle of objects; `acyclic` expands each
 * node that lies on a cycle once per schema and replaces its repeats by `{}` with
 * a description, and bounds depth, so no schema can hang, blow the stack or grow
 * without bound (mutual recursion would otherwise expand factorially) when it is
 * walked or serialized. `normalize30` rewrites OpenAPI 3.0's
 * schema dialect (nullable, boolean exclusive bounds, example) in place.
 */

import { isJsonObject, type JsonObject } from "../../types.ts";

/** Deeper schemas are cut; no real API nests further. */
const MAX_DEPTH = 64;

/** Keywords whose value is a map of subschemas. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
/** Keywords whose value is one subschema. */
const SCHEMA_ONE = new Set(["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems"]);
/** Keywords whose value is a list of subschemas. */
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);


/**
 * Walks every subschema of `schema` once (objects already visited are skipped, so
 * cycles end), calling `visit` on each. Only schema keywords are followed: a
 * property named "nullable" is a name, not the keyword.
 */
export function eachSchema(schema: unknown, visit: (s: JsonObject) => void, visited: WeakSet<object> = new WeakSet()): void {
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const s = stack.pop();
    if (!isJsonObject(s) || visited.has(s)) continue;
    visited.add(s);
    visit(s);
    for (const k in s) {
      const v = s[k];
      if (SCHEMA_ONE.has(k)) stack.push(...(Array.isArray(v) ? v : [v]));
      else if (SCHEMA_LISTS.has(k) && Array.isArray(v)) stack.push(...v);
      else if (SCHEMA_MAPS.has(k) && isJsonObject(v)) for (const p in v) stack.push(v[p]);
    }
  }
}

/** OpenAPI 3.0 schema dialect → JSON Schema 2020-12, in place (one schema object). */
function normalizeOne(s: JsonObject): void {
  if (s.nullable === true) {
    if (typeof s.type === "string") s.type = [s.type, "null"];
    else if (Array.isArray(s.type) && !s.type.includes("null")) s.type = [...s.type, "null"];
    else if (Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...s.enum, null];
  }
  if ("nullable" in s && typeof s.nullable === "boolean") delete s.nullable;
  if (s.exclusiveMaximum === true && typeof s.maximum === "number") {
    s.exclusiveMaximum = s.maximum;
    delete s.maximum;
  } else if (typeof s.exclusiveMaximum === "boolean") delete s.exclusiveMaximum;
  if (s.exclusiveMinimum === true && typeof s.minimum === "number") {
    s.exclusiveMinimum = s.minimum;
    delete s.minimum;
  } else if (typeof s.exclusiveMinimum === "boolean") delete s.exclusiveMinimum;
  if ("example" in s && !("examples" in s)) {
    s.examples = [s.example];
    delete s.example;
  }
}

/**
 * A function that rewrites every schema reachable from the one it is given from
 * OpenAPI 3.0's dialect to JSON Schema 2020-12, in place; each schema object is
 * rewritten once however many times it is reached.
 */
export function normalizer30(): (schema: unknown) => void {
  const visited = new WeakSet<object>();
  return (schema) => eachSchema(schema, normalizeOne, visited);
}

/**
 * `schema` without cycles: returned as is when nothing reachable from it cycles
 * (shared, so treat it as read-only), otherwise copied along the paths that reach
 * a cycle; a node on a cycle is expanded at its first occurrence and each later
 * one is replaced by `{}` with a description naming it.
 */
export function acyclic(schema: JsonObject, known: WeakMap<object, boolean> = new WeakMap()): JsonObject {
  if (!hasCycle(schema, known)) return schema;
  return copyCut(schema, new Set(), 0, known) as JsonObject;
}

/**
 * True when a cycle is reachable from `node` (iterative DFS with colours, so deep
 * schemas cannot overflow the stack). Results are remembered per node in `known`.
 */
function hasCycle(root: unknown, known: WeakMap<object, boolean>): boolean {
  if (typeof root !== "object" || root === null) return false;
  const cached = known.get(root);
  if (cached !== undefined) return cached;
  const onPath = new Set<object>();
  type Frame = { node: object; children: unknown[]; i: number; cyclic: boolean };
  const frames: Frame[] = [];
  const push = (node: object) => {
    onPath.add(node);
    frames.push({ node, children: Array.isArray(node) ? node : Object.values(node), i: 0, cyclic: false });
  };
  push(root);
  while (frames.length > 0) {
    const f = frames[frames.length - 1] as Frame;
    if (f.i < f.children.length) {
      const c = f.children[f.i++];
      if (typeof c !== "object" || c === null) continue;
      if (onPath.has(c)) {
        f.cyclic = true;
        continue;
      }
      const k = known.get(c);
      if (k !== undefined) {
        if (k) f.cyclic = true;
        continue;
      }
      push(c);
      continue;
    }
    frames.pop();
    onPath.delete(f.node);
    // A node that closes a cycle through an ancestor is cyclic for this walk; remembering
    // it as cyclic is right from any path (the cycle is reachable from it).
    known.set(f.node, f.cyclic);
    const parent = frames[frames.length - 1];
    if (parent !== undefined && f.cyclic) parent.cyclic = true;
  }
  return known.get(root) === true;
}

function cutNode(node: object): JsonObject {
  const title = isJsonObject(node) && typeof node.title === "string" ? ` (${node.title})` : "";
  return { description: `A recursive schema${title} repeats here; its definition is given where it first appears in this schema.` };
}

function copyCut(node: unknown, expanded: Set<object>, depth: number, known: WeakMap<object, boolean>): unknown {
  if (typeof node !== "object" || node === null) return node;
  if (known.get(node) === false) return node;
  if (expanded.has(node)) return cutNode(node);
  if (depth >= MAX_DEPTH) return { description: "The schema is cut here: it nests too deeply." };
  expanded.add(node);
  if (Array.isArray(node)) return node.map((c) => copyCut(c, expanded, depth + 1, known));
  const o: JsonObject = {};
  for (const k in node) o[k] = copyCut((node as JsonObject)[k], expanded, depth + 1, known);
  return o;
}
