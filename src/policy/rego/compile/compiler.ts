/**
 * The compiler: parsed modules → the rule tree with every rule compiled to
 * closures (terms.ts), default values, the recursion check, and compiled
 * queries. Errors are collected per rule so one compile reports them all.
 */
import { BUILTINS } from "../builtins/index.ts";
import type { Body, Loc, Module, Rule, Term } from "../syntax/ast.ts";
import { compileError, RegoError } from "../syntax/errors.ts";
import { refStrings } from "../syntax/parser.ts";
import { equal, RegoObject, RegoSet, type Value } from "../value.ts";
import { completeConflict, conflict, Ctx, Frame, functionConflict } from "../eval/runtime.ts";
import { ClauseState, predeclare, Scope, type ImportTarget, type PkgScope, termVars, Unsafe } from "./scope.ts";
import { chain, type Env, firstValue, type K, type LitC, type Single, TermCompiler, unsafeError } from "./terms.ts";
import { type CompiledClause, type CompiledDef, Node, RuleSet, type RuleSetKind } from "./tree.ts";

export interface RuleInfo {
  readonly ref: string;
  readonly file: string;
  readonly line: number;
}

/** A compiled query: run it in a context to get each solution's bindings. */
export interface CompiledQuery {
  readonly nslots: number;
  readonly naux: number;
  readonly run: K;
  readonly vars: readonly { name: string; slot: number }[];
}

interface Placed {
  readonly rule: Rule;
  readonly module: Module;
  readonly rs: RuleSet;
  readonly keys: readonly Term[];
}

const EMPTY_PKG: PkgScope = { pkg: [], ruleNames: new Set(), imports: new Map() };

export class Compiler {
  readonly root = new Node("", undefined, []);
  readonly ruleSets: RuleSet[] = [];
  readonly rules: RuleInfo[] = [];
  private readonly placed: Placed[] = [];
  private readonly scopes = new Map<Module, PkgScope>();
  private readonly errors: RegoError[] = [];
  private readonly tc: TermCompiler;
  private readonly env: Env;

  constructor(private readonly modules: readonly Module[]) {
    this.env = { root: this.root, mockedNames: mockedNames(modules), current: undefined };
    this.tc = new TermCompiler(this.env);
  }

  compile(): void {
    for (const m of this.modules) this.place(m);
    for (const m of this.modules) this.scopes.set(m, this.pkgScope(m));
    for (const p of this.placed) this.guard(() => this.compileRule(p));
    if (this.errors.length === 0) this.checkRecursion();
    if (this.errors.length > 0) throw RegoError.combine(this.errors);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof RegoError) this.errors.push(e);
      else throw e;
    }
  }

  // --- placing rules in the tree ---

  private place(m: Module): void {
    let pkgNode = this.root;
    for (const p of m.pkg) pkgNode = pkgNode.child(p);
    pkgNode.isPackage = true;
    pkgNode.markRules();
    for (const rule of m.rules) this.guard(() => this.placeRule(m, pkgNode, rule));
  }

  private placeRule(m: Module, pkgNode: Node, rule: Rule): void {
    const [head, ...rest] = rule.ref;
    if (head === undefined || head.type !== "var") throw compileError("rego_parse_error", "rule head must start with a name", rule.loc);
    let node = pkgNode.child(head.name);
    let i = 0;
    while (i < rest.length) {
      const el = rest[i] as Term;
      if (el.type !== "scalar" || typeof el.value !== "string") break;
      node = node.child(el.value);
      i++;
    }
    const keys = rest.slice(i);
    let kind: RuleSetKind;
    if (rule.kind === "function") {
      if (keys.length > 0) throw compileError("rego_parse_error", "function names must be names", rule.loc);
      kind = "function";
    } else if (rule.kind === "contains") {
      // `a[x] contains y`: an object whose leaves are sets.
      kind = keys.length > 0 ? "object" : "set";
    } else kind = keys.length > 0 ? "object" : "complete";
    if (rule.isDefault && kind === "object") throw compileError("rego_type_error", "default rules cannot have variables in their ref", rule.loc);
    let rs = node.ruleSet;
    if (rs === undefined) {
      rs = new RuleSet(kind, node, this.ruleSets.length);
      node.ruleSet = rs;
      node.markRules();
      this.ruleSets.push(rs);
    } else if (rs.kind !== kind) {
      throw compileError("rego_type_error", `conflicting rules ${node.name} found`, rule.loc);
    }
    if (kind === "function") {
      const arity = rule.args?.length ?? 0;
      if (rs.arity >= 0 && rs.arity !== arity) throw compileError("rego_type_error", `conflicting rules ${node.name} found`, rule.loc);
      rs.arity = arity;
    }
    if (rule.isDefault) {
      if (rs.defaultLoc !== undefined) throw compileError("rego_type_error", `multiple default rules ${node.name} found`, rule.loc);
      rs.defaultLoc = rule.loc;
    }
    this.placed.push({ rule, module: m, rs, keys });
    this.rules.push({ ref: node.name, file: m.file, line: rule.loc.line });
  }

  private pkgScope(m: Module): PkgScope {
    const ruleNames = new Set<string>();
    for (const other of this.modules) {
      if (other.pkg.join("\u0000") !== m.pkg.join("\u0000")) continue;
      for (const r of other.rules) {
        const h = r.ref[0];
        if (h?.type === "var") ruleNames.add(h.name);
      }
    }
    const imports = new Map<string, ImportTarget>();
    for (const imp of m.imports) {
      const parts = refStrings(imp.path) ?? [];
      const root = parts[0];
      if (root !== "data" && root !== "input") continue;
      const alias = imp.alias ?? (parts.length > 1 ? (parts[parts.length - 1] as string) : root);
      if (alias === root && parts.length === 1) continue;
      imports.set(alias, { root, path: parts.slice(1) });
    }
    return { pkg: m.pkg, ruleNames, imports };
  }

  // --- rules ---

  private compileRule(p: Placed): void {
    const { rule, rs } = p;
    const pkg = this.scopes.get(p.module) as PkgScope;
    this.env.current = rs;
    try {
      if (rule.isDefault) {
        rs.defaultValue = this.constant(rule.value as Term, pkg);
        return;
      }
      const clauses: CompiledClause[] = [];
      clauses.push(this.clause(rs, rule, p.keys, rule.body, rule.value, pkg, rule.loc));
      for (const e of rule.elses) clauses.push(this.clause(rs, rule, p.keys, e.body, e.value, pkg, e.loc));
      const constHead = [rule.value, ...rule.elses.map((e) => e.value)].every((v) => v === undefined || isConst(v));
      const def: CompiledDef = { loc: rule.loc, clauses, constHead };
      rs.defs.push(def);
      this.updateSharedConst(rs, rule);
    } finally {
      this.env.current = undefined;
    }
  }

  /** Complete rules whose every definition yields the same constant stop at the first that succeeds. */
  private updateSharedConst(rs: RuleSet, rule: Rule): void {
    if (rs.kind !== "complete" || rs.constBroken) return;
    for (const v of [rule.value, ...rule.elses.map((e) => e.value)]) {
      const cv = v === undefined ? true : constValue(v);
      const shared = rs.sharedConst;
      if (cv === undefined || (shared !== undefined && !equal(shared, cv))) {
        rs.sharedConst = undefined;
        rs.constBroken = true;
        return;
      }
      rs.sharedConst = cv;
    }
  }

  private constant(t: Term, pkg: PkgScope): Value {
    const st = new ClauseState();
    const sc = new Scope(undefined, pkg, st);
    let f: Single | undefined;
    try {
      f = this.tc.term(t, sc, new Set()).single;
    } catch (e) {
      if (e instanceof Unsafe) throw unsafeError(e.names, t.loc);
      throw e;
    }
    if (f === undefined || !isConst(t)) throw compileError("rego_type_error", "default rule value must be a constant", t.loc);
    const v = f(new Frame(st.nslots, st.naux, undefined as unknown as Ctx, []));
    if (v === undefined) throw compileError("rego_type_error", "default rule value must be a constant", t.loc);
    return v;
  }

  private clause(rs: RuleSet, rule: Rule, keys: readonly Term[], body: Body, value: Term | undefined, pkg: PkgScope, loc: Loc): CompiledClause {
    const st = new ClauseState();
    const sc = new Scope(undefined, pkg, st);
    const bound = new Set<number>();
    const args = rule.args ?? [];
    // Parameters are this clause's variables even when a rule has the same name.
    const params: { name: string; loc: Loc }[] = [];
    for (const a of args) termVars(a, params);
    for (const p of params) if (p.name !== "_" && !sc.has(p.name)) sc.declare(p.name);
    const heads: Term[] = [...args, ...keys];
    if (value !== undefined) heads.push(value);
    if (rule.member !== undefined) heads.push(rule.member);
    predeclare(sc, body, heads);
    const argLits: LitC[] = args.map((a, i) => {
      let pat;
      try {
        pat = this.tc.pattern(a, sc, bound);
      } catch (e) {
        if (e instanceof Unsafe) throw unsafeError(e.names, a.loc);
        throw e;
      }
      return (next) => {
        const pk = pat(next);
        return (fr) => pk(fr, fr.args[i] as Value);
      };
    });
    const lits = this.tc.body(body, sc, bound);
    const final = this.finalK(rs, rule, keys, value, sc, bound, loc);
    const run = chain([...argLits, ...lits], final);
    const budgeted: K = (fr) => {
      fr.ctx.budget.tick();
      return run(fr);
    };
    return { nslots: st.nslots, naux: st.naux, run: budgeted, loc };
  }

  private finalK(rs: RuleSet, rule: Rule, keys: readonly Term[], value: Term | undefined, sc: Scope, bound: Set<number>, loc: Loc): K {
    const head = (t: Term | undefined): Single => {
      if (t === undefined) return () => true;
      return this.tc.headSingle(t, sc, bound);
    };
    switch (rs.kind) {
      case "set": {
        const m = head(rule.member);
        return (fr) => {
          const v = m(fr);
          if (v !== undefined) (fr.res as RegoSet).add(v);
          return false;
        };
      }
      case "object": {
        const ks = keys.map((k) => head(k));
        const setLeaf = rule.kind === "contains";
        const v = head(setLeaf ? rule.member : value);
        const n = ks.length;
        return (fr) => {
          const val = v(fr);
          if (val === undefined) return false;
          let obj = fr.res as RegoObject;
          for (let i = 0; i < n - 1; i++) {
            const k = (ks[i] as Single)(fr);
            if (k === undefined) return false;
            let sub = obj.get(k);
            if (sub === undefined) {
              sub = new RegoObject();
              obj.set(k, sub);
            } else if (!(sub instanceof RegoObject)) conflict("object keys must be unique", loc);
            obj = sub as RegoObject;
          }
          const k = (ks[n - 1] as Single)(fr);
          if (k === undefined) return false;
          const old = obj.get(k);
          if (setLeaf) {
            if (old === undefined) obj.set(k, new RegoSet().add(val));
            else if (old instanceof RegoSet) {
              old.add(val);
              obj.set(k, old);
            } else conflict(`object keys must be unique (rule ${rs.name} produced conflicting values)`, loc);
            return false;
          }
          if (old !== undefined && !equal(old, val)) conflict(`object keys must be unique (rule ${rs.name} produced conflicting values)`, loc);
          obj.set(k, val);
          return false;
        };
      }
      case "complete":
      case "function": {
        const constHead = value === undefined || isConst(value);
        const isFn = rs.kind === "function";
        const emit = (fr: Frame, val: Value): boolean => {
          const cur = fr.res as Value | undefined;
          if (cur === undefined) {
            fr.res = val;
            return constHead;
          }
          if (!equal(cur, val)) {
            if (isFn) functionConflict(rs, loc);
            completeConflict(rs, loc);
          }
          return false;
        };
        if (value === undefined) return (fr) => emit(fr, true);
        // A head value may iterate (`q := xs[_]`): every value must agree.
        let c;
        try {
          c = this.tc.term(value, sc, bound);
        } catch (e) {
          if (e instanceof Unsafe) throw unsafeError(e.names.length > 0 ? e.names : ["_"], value.loc);
          throw e;
        }
        return c.iter(emit);
      }
    }
  }

  // --- recursion ---

  private checkRecursion(): void {
    const state = new Map<RuleSet, 1 | 2>();
    const stack: RuleSet[] = [];
    const reported = new Set<RuleSet>();
    const visit = (rs: RuleSet): void => {
      const s = state.get(rs);
      if (s === 2) return;
      if (s === 1) {
        const at = stack.indexOf(rs);
        const cycle = [...stack.slice(at), rs];
        if (!reported.has(rs)) {
          reported.add(rs);
          const loc = this.placed.find((p) => p.rs === rs)?.rule.loc;
          this.errors.push(compileError("rego_recursion_error", `rule ${rs.name} is recursive: ${cycle.map((r) => r.name).join(" -> ")}`, loc));
        }
        return;
      }
      state.set(rs, 1);
      stack.push(rs);
      for (const d of rs.deps) visit(d);
      stack.pop();
      state.set(rs, 2);
    };
    for (const rs of this.ruleSets) visit(rs);
  }

  // --- queries ---

  /** Compiles a query body (absolute refs; its variables are the outputs). */
  query(body: Body): CompiledQuery {
    const st = new ClauseState();
    const sc = new Scope(undefined, EMPTY_PKG, st);
    predeclare(sc, body, []);
    const bound = new Set<number>();
    const lits = this.tc.body(body, sc, bound);
    const vars = [...sc.own()].filter((v) => !v.wildcard).map((v) => ({ name: v.name, slot: v.slot }));
    const final: K = (fr) => {
      const b: Record<string, Value> = {};
      for (const { name, slot } of vars) {
        const v = fr.s[slot];
        if (v !== undefined) b[name] = v;
      }
      (fr.res as Record<string, Value>[]).push(b);
      return false;
    };
    return { nslots: st.nslots, naux: st.naux, run: chain(lits, final), vars };
  }

  /** Compiles one term (a ref such as data.x.allow) to a function of the context. */
  term(t: Term): { nslots: number; naux: number; f: Single } {
    const st = new ClauseState();
    const sc = new Scope(undefined, EMPTY_PKG, st);
    predeclare(sc, [], [t]);
    let c;
    try {
      c = this.tc.term(t, sc, new Set());
    } catch (e) {
      if (e instanceof Unsafe) throw unsafeError(e.names, t.loc);
      throw e;
    }
    return { nslots: st.nslots, naux: st.naux, f: firstValue(c) };
  }
}

/** Ground terms with no variables, calls, refs or comprehensions. */
function isConst(t: Term): boolean {
  switch (t.type) {
    case "scalar":
      return true;
    case "array":
    case "set":
      return t.items.every(isConst);
    case "object":
      return t.entries.every(([k, v]) => isConst(k) && isConst(v));
    default:
      return false;
  }
}

function constValue(t: Term): Value | undefined {
  switch (t.type) {
    case "scalar":
      return t.value;
    case "array": {
      const out: Value[] = [];
      for (const x of t.items) {
        const v = constValue(x);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Names that some `with` replaces (so a built-in Ficus does not provide may still be called when mocked). */
function mockedNames(modules: readonly Module[]): Set<string> {
  const out = new Set<string>();
  const visitBody = (body: Body) => {
    for (const lit of body) {
      for (const w of lit.withs) {
        const parts = refStrings(w.target);
        if (parts !== undefined) out.add(parts.join("."));
      }
      const e = lit.expr;
      if (e.type === "every" || e.type === "notbody") visitBody(e.body);
    }
  };
  for (const m of modules) {
    for (const r of m.rules) {
      visitBody(r.body);
      for (const e of r.elses) visitBody(e.body);
    }
  }
  return out;
}

export { BUILTINS };
