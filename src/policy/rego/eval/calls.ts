/**
 * Calling functions at run time: mocks installed by `with` first, then the
 * built-in (its errors undefined outside strict mode, raised with the call's
 * location in strict mode) or the user function. Comparisons and membership
 * have inline forms for the hot path.
 */
import { BuiltinError, type BuiltinDef } from "../builtins/types.ts";
import type { Loc } from "../syntax/ast.ts";
import { evalError } from "../syntax/errors.ts";
import type { RuleSet } from "../compile/tree.ts";
import { compare, equal, RegoObject, RegoSet, type Value } from "../value.ts";
import { callFunction, Ctx, type Mock } from "./runtime.ts";

export type FnTarget = { kind: "builtin"; def: BuiltinDef; name: string } | { kind: "user"; rs: RuleSet; name: string } | { kind: "print" };

/** Built-ins compiled inline when both operands are single values (mocks still honoured). */
export const FAST_BINARY: Readonly<Record<string, (a: Value, b: Value) => Value>> = {
  equal: (a, b) => a === b || (typeof a === "object" && a !== null && equal(a, b)),
  neq: (a, b) => a !== b && !(typeof a === "object" && a !== null && equal(a, b)),
  lt: (a, b) => compare(a, b) < 0,
  lte: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  gte: (a, b) => compare(a, b) >= 0,
  "internal.member_2": (x, c) => {
    if (c instanceof RegoSet) return c.has(x);
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) if (c[i] === x || equal(c[i] as Value, x)) return true;
      return false;
    }
    if (c instanceof RegoObject) {
      for (const [, v] of c.entries()) if (equal(v, x)) return true;
    }
    return false;
  },
};

/** How a call site invokes its target: mocks first, then the built-in or the user function. */
export function invoker(target: Exclude<FnTarget, { kind: "print" }>, loc: Loc): (ctx: Ctx, args: Value[]) => Value | Iterable<Value> | undefined {
  const key: string | RuleSet = target.kind === "builtin" ? target.name : target.rs;
  const direct =
    target.kind === "builtin"
      ? (ctx: Ctx, args: Value[]) => callBuiltin(target.def, args, ctx, loc)
      : (ctx: Ctx, args: Value[]) => callFunction(target.rs, args, ctx);
  return (ctx, args) => {
    const mocks = ctx.mocks;
    if (mocks !== undefined) {
      const m = mocks.get(key);
      if (m !== undefined) return applyMock(m, args, ctx, loc);
    }
    return direct(ctx, args);
  };
}

function applyMock(m: Mock, args: Value[], ctx: Ctx, loc: Loc): Value | Iterable<Value> | undefined {
  switch (m.kind) {
    case "value":
      return m.value;
    case "builtin":
      return callBuiltin(m.def, args, unmocked(ctx), loc);
    case "function":
      return callFunction(m.rs, args, unmocked(ctx));
  }
}

const UNMOCKED = new WeakMap<Ctx, Ctx>();

/** The same context without mocks: a mock's own body calls the originals. */
function unmocked(ctx: Ctx): Ctx {
  let c = UNMOCKED.get(ctx);
  if (c === undefined) {
    c = ctx.derive(ctx.input, ctx.data, ctx.overrides, undefined);
    UNMOCKED.set(ctx, c);
  }
  return c;
}

export function callBuiltin(def: BuiltinDef, args: Value[], ctx: Ctx, loc: Loc): Value | Iterable<Value> | undefined {
  try {
    if (def.relation === true) return [...def.fn(args, ctx)];
    return def.fn(args, ctx);
  } catch (e) {
    if (e instanceof BuiltinError) {
      if (ctx.strict) throw evalError(e.code, e.message, loc);
      return undefined;
    }
    throw e;
  }
}

export function unprovided(name: string, reason: string): BuiltinDef {
  const arity = name === "http.send" || name === "net.lookup_ip_addr" ? 1 : 0;
  return {
    name,
    arity,
    fn: () => {
      throw new BuiltinError("eval_builtin_error", reason);
    },
  };
}

