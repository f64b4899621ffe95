/**
 * The evaluator's runtime: evaluation contexts (input, data, `with`
 * overrides, memo of rule values, budget), frames (one per rule body run:
 * variable slots and scratch), and the evaluation of rule sets, packages and
 * base documents. Compiled bodies (compile/compiler.ts) call into this module;
 * nothing here walks the AST.
 */
import { budgetError, evalError } from "../syntax/errors.ts";
import type { Loc } from "../syntax/ast.ts";
import type { BuiltinContext, BuiltinDef } from "../builtins/types.ts";
import type { Node, RuleSet } from "../compile/tree.ts";
import { equal, RegoObject, RegoSet, type Value } from "../value.ts";

export const DEFAULT_STEPS = 1_000_000;
export const DEFAULT_TIME_MS = 250;
/** Rule/function/comprehension nesting allowed before the evaluation is stopped (keeps the JS stack safe). */
export const MAX_DEPTH = 400;
const CLOCK_EVERY = 2048;

/** Step and time accounting for one evaluation (shared by every context derived by `with`). */
export class Budget {
  steps = 0;
  private nextCheck: number;
  private readonly deadline: number;
  depth = 0;

  constructor(
    readonly limit: number,
    readonly timeMs: number,
  ) {
    this.deadline = performance.now() + timeMs;
    this.nextCheck = Math.min(limit + 1, CLOCK_EVERY);
  }

  /** Called once per step; cheap unless a check is due. */
  tick(): void {
    if (++this.steps >= this.nextCheck) this.check();
  }

  charge(n: number): void {
    this.steps += n;
    if (this.steps >= this.nextCheck) this.check();
  }

  private check(): void {
    if (this.steps > this.limit) throw budgetError(`policy evaluation exceeded its step budget (${this.limit} steps)`);
    if (performance.now() > this.deadline) throw budgetError(`policy evaluation exceeded its time budget (${this.timeMs} ms)`);
    this.nextCheck = Math.min(this.limit + 1, this.steps + CLOCK_EVERY);
  }

  enter(): void {
    if (++this.depth > MAX_DEPTH) throw budgetError(`policy evaluation nested too deeply (more than ${MAX_DEPTH} levels of rules, functions and comprehensions)`);
  }

  leave(): void {
    this.depth--;
  }
}

/** What replaces a function or built-in under `with`. */
export type Mock =
  | { readonly kind: "value"; readonly value: Value }
  | { readonly kind: "builtin"; readonly def: BuiltinDef }
  | { readonly kind: "function"; readonly rs: RuleSet };

/** Per evaluation, shared by every derived context. */
export interface Shared {
  readonly strict: boolean;
  readonly nowNs: bigint;
  readonly print: (line: string) => void;
  readonly cache: Map<string, unknown>;
  /** Made on first use: most decisions call no built-in that needs it. */
  evalMemo: Map<string, Value> | undefined;
  readonly budget: Budget;
}

/** An evaluation context: what `input`, `data` and function names mean here, and the memo valid for that. */
export class Ctx implements BuiltinContext {
  /** Values of rule sets computed under this context, by RuleSet id (UNDEFINED: no value); an array, as most evaluations memoize one or two. */
  readonly memo: (Value | typeof UNDEFINED | undefined)[] = [];
  readonly budget: Budget;

  constructor(
    readonly shared: Shared,
    readonly input: Value | undefined,
    readonly data: Value,
    /** `with data.<rules path> as v`: the node's value is v (and below it, v's parts). */
    readonly overrides: ReadonlyMap<Node, Value> | undefined,
    /** `with f as g`: keyed by built-in name or by the function's RuleSet. */
    readonly mocks: ReadonlyMap<string | RuleSet, Mock> | undefined,
  ) {
    this.budget = shared.budget;
  }

  get strict(): boolean {
    return this.shared.strict;
  }
  get nowNs(): bigint {
    return this.shared.nowNs;
  }
  get cache(): Map<string, unknown> {
    return this.shared.cache;
  }
  get evalMemo(): Map<string, Value> {
    return (this.shared.evalMemo ??= new Map());
  }
  print(line: string): void {
    this.shared.print(line);
  }
  charge(steps: number): void {
    this.budget.charge(steps);
  }

  derive(input: Value | undefined, data: Value, overrides: ReadonlyMap<Node, Value> | undefined, mocks: ReadonlyMap<string | RuleSet, Mock> | undefined): Ctx {
    return new Ctx(this.shared, input, data, overrides, mocks);
  }
}

/** One run of a rule body: variable slots, scratch (accumulators, saved contexts), the result sink. */
export class Frame {
  readonly s: (Value | undefined)[];
  readonly aux: unknown[];
  res: unknown = undefined;

  constructor(
    nslots: number,
    naux: number,
    public ctx: Ctx,
    readonly args: readonly Value[],
  ) {
    this.s = new Array<Value | undefined>(nslots);
    this.aux = naux === 0 ? EMPTY : new Array<unknown>(naux);
  }
}
const EMPTY: unknown[] = [];

// --- values ---

/** `v[k]` as Rego indexes: arrays by integer, objects by key, sets by member. */
export function getKey(v: Value, k: Value): Value | undefined {
  if (v instanceof RegoObject) return v.get(k);
  if (Array.isArray(v)) {
    if (typeof k === "number" && Number.isInteger(k) && k >= 0 && k < v.length) return v[k] as Value;
    return undefined;
  }
  if (v instanceof RegoSet) return v.has(k) ? k : undefined;
  return undefined;
}

/** A copy of `root` with `path` set to `v` (objects made where missing), as `with` needs. */
export function setPath(root: Value | undefined, path: readonly Value[], v: Value): Value {
  if (path.length === 0) return v;
  const key = path[0] as Value;
  const out = new RegoObject();
  if (root instanceof RegoObject) for (const [k, x] of root.entries()) out.set(k, x);
  const old = root instanceof RegoObject ? root.get(key) : undefined;
  out.set(key, setPath(old, path.slice(1), v));
  return out;
}

export function lookupPath(root: Value | undefined, path: readonly Value[]): Value | undefined {
  let cur = root;
  for (const k of path) {
    if (cur === undefined) return undefined;
    cur = getKey(cur, k);
  }
  return cur;
}

// --- rule sets and documents ---

const NOT_OVERRIDDEN = Symbol("not overridden");
/** A memoized "no value" (null is a value). */
const UNDEFINED = Symbol("undefined");

function override(node: Node, ctx: Ctx): Value | undefined | typeof NOT_OVERRIDDEN {
  const ov = ctx.overrides;
  if (ov === undefined) return NOT_OVERRIDDEN;
  for (let n: Node | undefined = node; n !== undefined; n = n.parent) {
    const v = ov.get(n);
    if (v !== undefined) return lookupPath(v, node.path.slice(n.path.length));
  }
  return NOT_OVERRIDDEN;
}

/** Base data at a node's path. */
export function baseAt(node: Node, ctx: Ctx): Value | undefined {
  const o = override(node, ctx);
  if (o !== NOT_OVERRIDDEN) return o;
  return lookupPath(ctx.data, node.path);
}

/** The value of the document at a node: a rule set's value, or an object of everything below merged with base data. */
export function nodeValue(node: Node, ctx: Ctx): Value | undefined {
  if (!node.hasRules) return baseAt(node, ctx);
  const o = override(node, ctx);
  if (o !== NOT_OVERRIDDEN) return o;
  const rs = node.ruleSet;
  if (rs !== undefined) {
    if (rs.kind === "function") return node.children.size > 0 ? childrenObject(node, ctx) : undefined;
    const v = evalRuleSet(rs, ctx);
    if (node.children.size === 0 || !(v instanceof RegoObject || v === undefined)) return v;
    const obj = childrenObject(node, ctx);
    if (v instanceof RegoObject) for (const [k, x] of v.entries()) obj.set(k, x);
    return obj;
  }
  return childrenObject(node, ctx);
}

function childrenObject(node: Node, ctx: Ctx): RegoObject {
  const obj = new RegoObject();
  const base = lookupPath(ctx.data, node.path);
  if (base instanceof RegoObject) for (const [k, x] of base.entries()) obj.set(k, x);
  for (const child of node.children.values()) {
    if (!child.hasRules) continue;
    const v = nodeValue(child, ctx);
    if (v !== undefined) obj.set(child.key, v);
  }
  return obj;
}

export function conflict(text: string, loc: Loc): never {
  throw evalError("eval_conflict_error", text, loc);
}

export function completeConflict(rs: RuleSet, loc: Loc): never {
  conflict(`rule ${rs.name} produced conflicting values (complete rules must not produce multiple outputs)`, loc);
}

export function functionConflict(rs: RuleSet, loc: Loc): never {
  conflict(`function ${rs.name} produced conflicting values for the same inputs (functions must not produce multiple outputs for same inputs)`, loc);
}

/** The value of a (non-function) rule set, memoized in the context. */
export function evalRuleSet(rs: RuleSet, ctx: Ctx): Value | undefined {
  const memo = ctx.memo[rs.id];
  if (memo !== undefined) return memo === UNDEFINED ? undefined : memo;
  const o = override(rs.node, ctx);
  if (o !== NOT_OVERRIDDEN) return o;
  ctx.budget.enter();
  let v: Value | undefined;
  try {
    switch (rs.kind) {
      case "complete":
        v = evalComplete(rs, ctx, EMPTY_ARGS);
        break;
      case "set": {
        const set = new RegoSet();
        for (const def of rs.defs) for (const c of def.clauses) runClause(c, ctx, EMPTY_ARGS, set);
        v = set;
        break;
      }
      case "object": {
        const obj = new RegoObject();
        for (const def of rs.defs) for (const c of def.clauses) runClause(c, ctx, EMPTY_ARGS, obj);
        v = obj;
        break;
      }
      case "function":
        v = undefined;
    }
  } finally {
    ctx.budget.leave();
  }
  ctx.memo[rs.id] = v === undefined ? UNDEFINED : v;
  return v;
}

const EMPTY_ARGS: readonly Value[] = [];

function runClause(c: import("../compile/tree.ts").CompiledClause, ctx: Ctx, args: readonly Value[], res: unknown): unknown {
  const fr = new Frame(c.nslots, c.naux, ctx, args);
  fr.res = res;
  c.run(fr);
  return fr.res;
}

/** Complete rules and functions: every definition (each an else chain) must agree. */
function evalComplete(rs: RuleSet, ctx: Ctx, args: readonly Value[]): Value | undefined {
  let result: Value | undefined;
  for (const def of rs.defs) {
    let v: Value | undefined;
    for (const c of def.clauses) {
      v = runClause(c, ctx, args, undefined) as Value | undefined;
      if (v !== undefined) break;
    }
    if (v === undefined) continue;
    if (result === undefined) {
      result = v;
      if (rs.sharedConst !== undefined) break;
    } else if (!equal(result, v)) {
      if (rs.kind === "function") functionConflict(rs, def.loc);
      completeConflict(rs, def.loc);
    }
  }
  return result !== undefined ? result : rs.defaultValue;
}

/** Calls a user function (mocks are the caller's business). */
export function callFunction(rs: RuleSet, args: readonly Value[], ctx: Ctx): Value | undefined {
  ctx.budget.enter();
  try {
    return evalComplete(rs, ctx, args);
  } finally {
    ctx.budget.leave();
  }
}
