/**
 * Test helpers for the built-ins called directly: a context like an
 * evaluation's, calls that look a built-in up by its Rego name, the error a
 * call throws, value builders, and what results are compared by.
 */
import { expect } from "bun:test";
import { parseNumber } from "../../../../src/policy/rego/number.ts";
import { BuiltinError, type BuiltinContext, type BuiltinDef } from "../../../../src/policy/rego/builtins/types.ts";
import { fromJSON, RegoObject, RegoSet, toJSONText, type Value } from "../../../../src/policy/rego/value.ts";

export type TestContext = BuiltinContext & { steps: number };

/**
 * A context like an evaluation's, counting the steps charged. `nowNs` is the
 * evaluation's clock; past `budget` steps, charging throws "budget".
 */
export function testContext(options: { nowNs?: bigint; budget?: number } = {}): TestContext {
  const budget = options.budget ?? Infinity;
  const ctx: TestContext = {
    strict: true,
    nowNs: options.nowNs ?? 0n,
    print: () => {},
    cache: new Map(),
    evalMemo: new Map(),
    steps: 0,
    charge: (n: number) => {
      ctx.steps += n;
      if (ctx.steps > budget) throw new Error("budget");
    },
  };
  return ctx;
}

/** The built-in of that name. */
export function builtin(defs: readonly BuiltinDef[], name: string): BuiltinDef {
  const def = defs.find((d) => d.name === name);
  if (def === undefined) throw new Error(`no built-in ${name}`);
  return def;
}

/** Calls a function built-in in ctx; its declared arity is checked against the arguments given. */
export function callIn(ctx: BuiltinContext, defs: readonly BuiltinDef[], name: string, ...args: Value[]): Value | undefined {
  const def = builtin(defs, name);
  if (def.relation === true) throw new Error(`${name} is a relation`);
  expect(args.length).toBe(def.arity);
  return def.fn(args, ctx);
}

/** Calls a function built-in in a new context. */
export function call(defs: readonly BuiltinDef[], name: string, ...args: Value[]): Value | undefined {
  return callIn(testContext(), defs, name, ...args);
}

/** Every output of a relation built-in. */
export function callRelation(defs: readonly BuiltinDef[], name: string, ...args: Value[]): Value[] {
  const def = builtin(defs, name);
  if (def.relation !== true) throw new Error(`${name} is not a relation`);
  return [...def.fn(args, testContext())];
}

/** The BuiltinError f throws; anything else thrown is thrown on, and not throwing fails. */
export function thrownBy(f: () => unknown): BuiltinError {
  try {
    f();
  } catch (e) {
    if (e instanceof BuiltinError) return e;
    throw e;
  }
  throw new Error("no built-in error was thrown");
}

/**
 * One family's built-ins by name: `call(name, ...args)` and
 * `errorOf(name, ...args)`, all in one context (as an evaluation shares its
 * cache), or each in a new one when given a function that makes contexts.
 */
export function family(defs: readonly BuiltinDef[], ctx: BuiltinContext | (() => BuiltinContext) = testContext()) {
  const callOne = (name: string, ...args: Value[]): Value | undefined => callIn(typeof ctx === "function" ? ctx() : ctx, defs, name, ...args);
  return {
    call: callOne,
    errorOf: (name: string, ...args: Value[]): BuiltinError => thrownBy(() => callOne(name, ...args)),
  };
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

/** Arguments as a test name shows them. */
export const label = (args: readonly Value[]): string => args.map(toJSONText).join(", ");

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

/** Expects OPA's error (thrown by f, or already caught): the code, and the whole message. */
export function expectBuiltinError(f: BuiltinError | (() => unknown), code: BuiltinError["code"], message: string): void {
  const e = f instanceof BuiltinError ? f : thrownBy(f);
  expect(e.code).toBe(code);
  expect(e.message).toBe(message);
}
