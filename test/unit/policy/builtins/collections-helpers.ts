/**
 * Test helpers for the collection and arithmetic built-ins (arithmetic,
 * aggregates, arrays, sets, objects, json-documents, graph): a context, value
 * builders, and calls that look a built-in up by its Rego name.
 */
import { expect } from "bun:test";
import { parseNumber } from "../../../../src/policy/rego/number.ts";
import { BuiltinError, type BuiltinContext, type BuiltinDef } from "../../../../src/policy/rego/builtins/types.ts";
import { fromJSON, RegoObject, RegoSet, toJSONText, type Value } from "../../../../src/policy/rego/value.ts";

/** A context like an evaluation's, counting the steps charged. */
export function testContext(): BuiltinContext & { steps: number } {
  return {
    strict: true,
    nowNs: 0n,
    print: () => {},
    cache: new Map(), evalMemo: new Map(),
    steps: 0,
    charge(n: number) {
      this.steps += n;
    },
  };
}

function find(defs: readonly BuiltinDef[], name: string): BuiltinDef {
  const def = defs.find((d) => d.name === name);
  if (def === undefined) throw new Error(`no built-in ${name}`);
  return def;
}

/** Calls a function built-in; its declared arity is checked against the arguments given. */
export function call(defs: readonly BuiltinDef[], name: string, ...args: Value[]): Value | undefined {
  const def = find(defs, name);
  if (def.relation === true) throw new Error(`${name} is a relation`);
  expect(args.length).toBe(def.arity);
  return def.fn(args, testContext());
}

/** Every output of a relation built-in. */
export function callRelation(defs: readonly BuiltinDef[], name: string, ...args: Value[]): Value[] {
  const def = find(defs, name);
  if (def.relation !== true) throw new Error(`${name} is not a relation`);
  return [...def.fn(args, testContext())];
}

/** A number from its exact text (for integers past 2^53 and long decimals). */
export function n(text: string): Value {
  const v = parseNumber(text);
  if (v === undefined) throw new Error(`not a number: ${text}`);
  return v;
}

/** A value from JSON-like data: JS Sets become Rego sets, Maps objects with any keys. */
export const v = (x: unknown): Value => fromJSON(x);

export const set = (...xs: unknown[]): RegoSet => RegoSet.of(xs.map((x) => fromJSON(x)));

export const obj = (entries: [unknown, unknown][]): RegoObject =>
  RegoObject.fromEntries(entries.map(([k, val]) => [fromJSON(k), fromJSON(val)] as const));

/** A readable text that tells sets from arrays: what results are compared by. */
export function show(x: Value | undefined): string {
  if (x === undefined) return "undefined";
  if (x instanceof RegoSet) return `set(${x.values().map(show).join(", ")})`;
  if (x instanceof RegoObject) return `{${x.entries().map(([k, val]) => `${show(k)}: ${show(val)}`).join(", ")}}`;
  if (Array.isArray(x)) return `[${(x as readonly Value[]).map(show).join(", ")}]`;
  return toJSONText(x);
}

export function expectValue(actual: Value | undefined, want: Value | undefined): void {
  expect(show(actual)).toBe(show(want));
}

/** Expects f to throw OPA's error: the code, and the whole message. */
export function expectBuiltinError(f: () => unknown, code: BuiltinError["code"], message: string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(BuiltinError);
  expect((thrown as BuiltinError).code).toBe(code);
  expect((thrown as BuiltinError).message).toBe(message);
}
