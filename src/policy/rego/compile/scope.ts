/**
 * Variable scopes for compiling one rule clause (or query): every local
 * variable gets a slot in the clause's frame, decided at compile time, so the
 * evaluator reads and writes array slots instead of looking names up. Names
 * that are not local resolve to globals: `input`, `data`, imports, and the
 * rules of the enclosing package.
 */
import type { Body, Literal, Loc, Term, TermOf } from "../syntax/ast.ts";
import { compileError } from "../syntax/errors.ts";

export interface VarInfo {
  readonly name: string;
  readonly slot: number;
  readonly wildcard: boolean;
  /** Source index of the literal declaring it (`some`, `:=`), or -1: visible to nested bodies only after it. */
  readonly declaredAt: number;
}

export interface ImportTarget {
  readonly root: "data" | "input";
  readonly path: readonly string[];
}

/** What bare names mean in one module (or in a query). */
export interface PkgScope {
  readonly pkg: readonly string[];
  /** First names of the package's rules (`p` for `p.q[x] := ...`). */
  readonly ruleNames: ReadonlySet<string>;
  readonly imports: ReadonlyMap<string, ImportTarget>;
}

/** Slot counters for one clause: variable slots and scratch (aux) slots. */
export class ClauseState {
  nslots = 0;
  naux = 0;
  /** Each slot's variable name ("_" and names starting with "_" are wildcards). */
  readonly names: string[] = [];
  newSlot(name = "_"): number {
    this.names.push(name);
    return this.nslots++;
  }
  newAux(): number {
    return this.naux++;
  }
}

/** Thrown while compiling when a term needs a variable not yet bound; the body is reordered or the var is reported unsafe. */
export class Unsafe {
  constructor(readonly names: readonly string[]) {}
}

export class Scope {
  private readonly vars = new Map<string, VarInfo>();
  /** Source index of the literal being compiled in this scope's body (for declaredAt visibility). */
  cursor = Number.POSITIVE_INFINITY;

  constructor(
    readonly parent: Scope | undefined,
    readonly pkg: PkgScope,
    readonly state: ClauseState,
  ) {}

  lookup(name: string): VarInfo | undefined {
    const own = this.vars.get(name);
    if (own !== undefined) return own;
    for (let s = this.parent; s !== undefined; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined && v.declaredAt <= s.cursor) return v;
    }
    return undefined;
  }

  /** This scope's own variables, in declaration order. */
  own(): IterableIterator<VarInfo> {
    return this.vars.values();
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  declare(name: string, at = -1): VarInfo {
    const info: VarInfo = { name, slot: this.state.newSlot(name), wildcard: name.startsWith("_") || name.startsWith("$"), declaredAt: at };
    this.vars.set(name, info);
    return info;
  }

  /** A fresh, nameless variable (each `_`). */
  wildcard(): VarInfo {
    return { name: "_", slot: this.state.newSlot(), wildcard: true, declaredAt: -1 };
  }

  isGlobal(name: string): boolean {
    return name === "input" || name === "data" || this.pkg.imports.has(name) || this.pkg.ruleNames.has(name);
  }

  /** Declares `name` for an implicit occurrence unless it already means something. */
  implicit(name: string): void {
    if (name === "_" || this.lookup(name) !== undefined || this.isGlobal(name)) return;
    this.declare(name);
  }

  /** Declares for `some x` / `x :=` in this body; a second declaration in the same body is an error. */
  explicit(name: string, loc: Loc, how: "declared" | "assigned", at: number): void {
    if (name === "_") return;
    if (this.vars.has(name)) throw compileError("rego_compile_error", `var ${name} ${how === "assigned" ? "assigned" : "declared"} above`, loc);
    this.declare(name, at);
  }
}

/**
 * Calls fn on each term directly inside t, in source order: a ref's head and
 * path, items, object keys and values, call arguments. Comprehensions are
 * not looked into.
 */
function eachSubTerm(t: Term, fn: (sub: Term) => void): void {
  switch (t.type) {
    case "ref":
      fn(t.head);
      for (const p of t.path) fn(p);
      return;
    case "array":
    case "set":
      for (const x of t.items) fn(x);
      return;
    case "object":
      for (const [k, v] of t.entries) {
        fn(k);
        fn(v);
      }
      return;
    case "call":
      for (const a of t.args) fn(a);
      return;
    default:
      return;
  }
}

/** Vars occurring in a term, not descending into comprehension bodies. */
export function termVars(t: Term, out: { name: string; loc: Loc }[]): void {
  if (t.type === "var") out.push({ name: t.name, loc: t.loc });
  else eachSubTerm(t, (sub) => termVars(sub, out));
}

/**
 * Declares a body's variables in its scope before compiling it: explicit
 * declarations (`some`, `:=`, `some ... in`) first, in order, then every other
 * name occurring directly in the body (or in `extra` terms such as a rule head)
 * that does not already mean something.
 */
export function predeclare(sc: Scope, body: Body, extra: readonly Term[]): void {
  const implicit: { name: string; loc: Loc }[] = [];
  body.forEach((lit, i) => predeclareLit(sc, lit, implicit, i));
  for (const t of extra) termVars(t, implicit);
  for (const v of implicit) sc.implicit(v.name);
}

function predeclareLit(sc: Scope, lit: Literal, implicit: { name: string; loc: Loc }[], at: number): void {
  const e = lit.expr;
  switch (e.type) {
    case "some":
      for (const v of e.vars) sc.explicit(v.name, v.loc, "declared", at);
      break;
    case "somein": {
      const vs: { name: string; loc: Loc }[] = [];
      if (e.key) termVars(e.key, vs);
      termVars(e.value, vs);
      for (const v of vs) if (!sc.has(v.name)) sc.explicit(v.name, v.loc, "declared", at);
      termVars(e.domain, implicit);
      break;
    }
    case "assign": {
      const vs: { name: string; loc: Loc }[] = [];
      termVars(e.left, vs);
      for (const v of vs) sc.explicit(v.name, v.loc, "assigned", at);
      termVars(e.right, implicit);
      break;
    }
    case "unify":
      termVars(e.left, implicit);
      termVars(e.right, implicit);
      break;
    case "term":
      termVars(e.term, implicit);
      break;
    case "every":
      termVars(e.domain, implicit);
      break;
    case "notbody":
      break;
  }
  // A with value that is a bare name may be a function (`with count as mock_count`): not a variable.
  for (const w of lit.withs) if (w.value.type !== "var" && !(w.value.type === "ref" && w.value.head.type === "var")) termVars(w.value, implicit);
}

export function hasUnboundVars(t: Term, sc: Scope, bound: ReadonlySet<number>): boolean {
  return unboundNames(t, sc, bound).length > 0;
}

export function unboundNames(t: Term, sc: Scope, bound: ReadonlySet<number>): string[] {
  const vs: { name: string; loc: Loc }[] = [];
  termVars(t, vs);
  const out: string[] = [];
  for (const v of vs) {
    if (v.name === "_") {
      out.push("_");
      continue;
    }
    const info = sc.lookup(v.name);
    if (info !== undefined && !bound.has(info.slot)) out.push(v.name);
  }
  return out;
}

/** A term that would rather be matched than evaluated: a var or composite with unbound vars. */
export function isPatternish(t: Term, sc: Scope, bound: ReadonlySet<number>): boolean {
  if (t.type !== "var" && t.type !== "array" && t.type !== "object") return false;
  return hasUnboundVars(t, sc, bound);
}

export function collectBodyVars(body: Body, out: { name: string; loc: Loc }[]): void {
  for (const lit of body) {
    const e = lit.expr;
    switch (e.type) {
      case "term":
        collectTerm(e.term, out);
        break;
      case "unify":
      case "assign":
        collectTerm(e.left, out);
        collectTerm(e.right, out);
        break;
      case "some":
        break;
      case "somein":
        if (e.key) collectTerm(e.key, out);
        collectTerm(e.value, out);
        collectTerm(e.domain, out);
        break;
      case "every":
        collectTerm(e.domain, out);
        collectBodyVars(e.body, out);
        break;
      case "notbody":
        collectBodyVars(e.body, out);
        break;
    }
    for (const w of lit.withs) collectTerm(w.value, out);
  }
}

/** Vars in a term including those in nested comprehension bodies. */
function collectTerm(t: Term, out: { name: string; loc: Loc }[]): void {
  termVars(t, out);
  visitComprehensions(t, (c) => {
    if (c.type === "objectcomp") {
      collectTerm(c.key, out);
      collectTerm(c.value, out);
    } else collectTerm(c.term, out);
    collectBodyVars(c.body, out);
  });
}

function visitComprehensions(t: Term, fn: (c: TermOf<"arraycomp"> | TermOf<"setcomp"> | TermOf<"objectcomp">) => void): void {
  if (t.type === "arraycomp" || t.type === "setcomp" || t.type === "objectcomp") fn(t);
  else eachSubTerm(t, (sub) => visitComprehensions(sub, fn));
}

