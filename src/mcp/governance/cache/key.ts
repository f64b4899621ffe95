/**
 * The cache key of a tool call: the same question asked again must make the
 * same key, and nothing else may. The arguments are written as RFC 8785
 * canonical JSON (member order does not matter), with the top-level defaults
 * of the tool's inputSchema applied (leaving out a defaulted argument asks
 * the same question as sending its default), and, when the tool's cache
 * names key fields, only those (argument names or RFC 6901 JSON pointers).
 * `_meta`, progress tokens and request ids travel beside the arguments and
 * never reach the key. Everything per tool is compiled once.
 */
import { canonicalJson } from "../../pinning/hash.ts";
import type { JsonObject } from "../../types.ts";

/** One key field: how it is written in the key, and the path it reads in the arguments. */
export interface KeyField {
  readonly name: string;
  readonly path: readonly string[];
}

/** Parses the configured key fields: "city" is the argument city, "/filter/date" a JSON pointer (RFC 6901 §3, §4). */
export function compileKeyFields(fields: readonly string[] | undefined): readonly KeyField[] | undefined {
  if (fields === undefined) return undefined;
  return fields.map((name) => ({
    name,
    path: name.startsWith("/")
      ? name
          .slice(1)
          .split("/")
          .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"))
      : [name],
  }));
}

/** The top-level defaults of an input schema, as [name, value] pairs (empty when there are none). */
export function schemaDefaults(inputSchema: JsonObject | undefined): readonly (readonly [string, unknown])[] {
  const props = inputSchema?.properties;
  if (props === null || typeof props !== "object" || Array.isArray(props)) return NO_DEFAULTS;
  let out: [string, unknown][] | undefined;
  for (const [name, schema] of Object.entries(props as JsonObject)) {
    if (schema !== null && typeof schema === "object" && "default" in schema) {
      (out ??= []).push([name, (schema as JsonObject).default]);
    }
  }
  return out ?? NO_DEFAULTS;
}
const NO_DEFAULTS: readonly (readonly [string, unknown])[] = [];

/** What a JSON pointer's tokens reach in a value, or undefined (RFC 6901 §4: array indexes are decimal, no leading zeros). */
function resolve(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const token of path) {
    if (Array.isArray(v)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      v = v[Number(token)];
    } else if (v !== null && typeof v === "object") {
      if (!Object.hasOwn(v, token)) return undefined;
      v = (v as JsonObject)[token];
    } else return undefined;
  }
  return v;
}

/**
 * The arguments' part of the key: canonical JSON of the arguments with the schema's defaults applied, or of
 * { field: value } for the key fields (a field absent from the arguments is left out; null is kept).
 */
export function canonicalArguments(args: JsonObject, defaults: readonly (readonly [string, unknown])[], fields: readonly KeyField[] | undefined): string {
  let a = args;
  for (const [name, value] of defaults) {
    if (a[name] !== undefined) continue;
    if (a === args) a = { ...args };
    a[name] = value;
  }
  if (fields === undefined) return canonicalJson(a);
  const picked: JsonObject = {};
  for (const f of fields) {
    const v = f.path.length === 1 ? (Object.hasOwn(a, f.path[0] as string) ? a[f.path[0] as string] : undefined) : resolve(a, f.path);
    if (v !== undefined) picked[f.name] = v;
  }
  return canonicalJson(picked);
}
