/**
 * Compiling terms, patterns and literals to closures (continuation-passing,
 * with continuations fixed at compile time so a step allocates nothing):
 *
 * - a term compiles to `TermC`: `single(fr)` when it has at most one value and
 *   binds nothing, and always `iter(vk)`, which calls `vk(fr, v)` per value;
 * - a pattern compiles to `PatC`: given the continuation, a function matching a
 *   value against it (binding unbound variables in their frame slots);
 * - a literal compiles to `LitC`: given the next continuation, the goal.
 *
 * A continuation returns true to stop the enumeration (early exit). Which
 * variables are bound at each point is known statically: compiling throws
 * `Unsafe` when a term needs one that is not, and the body compiler uses that
 * to reorder expressions as OPA does, or to report `rego_unsafe_var_error`.
 */
import { BUILTINS, NOT_PROVIDED } from "../builtins/index.ts";
import type { Body, Literal, Loc, Term, TermOf, With } from "../syntax/ast.ts";
import { compileError, evalError, RegoError } from "../syntax/errors.ts";
import { refStrings } from "../syntax/parser.ts";
import { canonicalKey, equal, RegoObject, RegoSet, type Value } from "../value.ts";
import { fieldIndex } from "../eval/index.ts";
import { baseAt, Ctx, evalRuleSet, type Frame, getKey, type Mock, nodeValue, setPath } from "../eval/runtime.ts";
import { formatValue } from "../eval/format.ts";
import { collectBodyVars, hasUnboundVars, isPatternish, predeclare, Scope, termVars, unboundNames, Unsafe } from "./scope.ts";
import { FAST_BINARY, type FnTarget, invoker, unprovided } from "../eval/calls.ts";
import type { Node, RuleSet } from "./tree.ts";

export type K = (fr: Frame) => boolean;
export type VK = (fr: Frame, v: Value) => boolean;
export type Single = (fr: Frame) => Value | undefined;
export interface TermC {
  readonly single: Single | undefined;
  readonly iter: (vk: VK) => K;
  /** A single value that is (part of) base data: immutable and the same object across evaluations, so worth indexing. */
  readonly base?: boolean;
}
export type PatC = (k: K) => VK;
export type LitC = (next: K) => K;

export const STOP: K = () => true;


function singleC(f: Single): TermC {
  return {
    single: f,
    iter: (vk) => (fr) => {
      const v = f(fr);
      return v === undefined ? false : vk(fr, v);
    },
  };
}

/** A term as one value: its single, or the first value it iterates. */
export function firstValue(c: TermC): Single {
  if (c.single !== undefined) return c.single;
  return (fr) => {
    let out: Value | undefined;
    c.iter((_fr, v) => {
      out = v;
      return true;
    })(fr);
    return out;
  };
}

function baseC(tc: TermC): TermC {
  return tc.single === undefined ? tc : { single: tc.single, iter: tc.iter, base: true };
}

function constC(v: Value): TermC {
  return singleC(() => v);
}

/** What the compiler knows about the policy: the rule tree, and which built-ins are mocked somewhere. */
export interface Env {
  readonly root: Node;
  readonly mockedNames: ReadonlySet<string>;
  /** Rule set being compiled (for the recursion check), if any. */
  current: RuleSet | undefined;
}

type Bound = Set<number>;

function restore(bound: Bound, snap: Bound): void {
  bound.clear();
  for (const x of snap) bound.add(x);
}


/** What the scan-indexing pass needs to know about a compiled literal. */
type LitMeta = ScanMeta | EqMeta;
/** `some x in <base data>` / `some k, x in <base data>`: x (and k) fresh variables. */
interface ScanMeta {
  readonly kind: "scan";
  readonly dom: Single;
  readonly valSlot: number;
  readonly keySlot: number | undefined;
}
/** Keeps the elements whose value at `path` equals `other` (evaluated once, before the scan). */
interface Filter {
  readonly path: readonly Value[];
  readonly pathKey: string;
  readonly other: Single;
}
/** `x.<path> == other` with other ground and unable to fail (a constant, a variable or input with a constant path). */
interface EqMeta extends Filter {
  readonly kind: "eq";
  readonly elemSlot: number;
  readonly otherSlot: number | undefined;
}

export class TermCompiler {
  private readonly metas = new WeakMap<LitC, LitMeta>();

  constructor(readonly env: Env) {}

  // --- names ---

  /** Walks the rule tree along constant string keys; returns the node reached and how many keys were used. */
  private walk(path: readonly Term[], from: number): { node: Node; used: number } {
    let node = this.env.root;
    let i = from;
    while (i < path.length && node.ruleSet === undefined) {
      const el = path[i] as Term;
      if (el.type !== "scalar" || typeof el.value !== "string") break;
      const child = node.children.get(el.value);
      if (child === undefined) break;
      node = child;
      i++;
    }
    return { node, used: i - from };
  }

  private depend(node: Node): void {
    const cur = this.env.current;
    if (cur === undefined || !node.hasRules) return;
    for (const rs of node.ruleSets()) cur.deps.add(rs);
  }

  /** A global name's expansion as a data/input path: `p` → data.<pkg>.p, an import alias → its target. */
  private globalPath(name: string, sc: Scope, loc: Loc): { root: "data" | "input"; path: Term[] } | undefined {
    if (name === "input") return { root: "input", path: [] };
    if (name === "data") return { root: "data", path: [] };
    const imp = sc.pkg.imports.get(name);
    if (imp !== undefined) return { root: imp.root, path: imp.path.map((p) => str(p, loc)) };
    if (sc.pkg.ruleNames.has(name)) return { root: "data", path: [...sc.pkg.pkg, name].map((p) => str(p, loc)) };
    return undefined;
  }

  resolveFn(name: string, sc: Scope, loc: Loc): FnTarget {
    if (name === "print") return { kind: "print" };
    const parts = name.split(".");
    const first = parts[0] as string;
    if (sc.lookup(first) === undefined) {
      const g = first === "input" ? undefined : this.globalPath(first, sc, loc);
      if (g !== undefined && g.root === "data") {
        const full = [...g.path, ...parts.slice(1).map((p) => str(p, loc))];
        const { node, used } = this.walk(full, 0);
        if (used === full.length && node.ruleSet?.kind === "function") {
          this.env.current?.deps.add(node.ruleSet);
          return { kind: "user", rs: node.ruleSet, name: node.name };
        }
      }
    }
    const def = BUILTINS.get(name);
    if (def !== undefined) return { kind: "builtin", def, name };
    const reason = NOT_PROVIDED.get(name);
    if (reason !== undefined) {
      if (this.env.mockedNames.has(name)) return { kind: "builtin", def: unprovided(name, reason), name };
      throw compileError("rego_type_error", reason, loc);
    }
    throw compileError("rego_type_error", `undefined function ${name}`, loc);
  }

  // --- terms ---

  term(t: Term, sc: Scope, bound: Bound): TermC {
    switch (t.type) {
      case "scalar":
        return constC(t.value);
      case "var": {
        if (t.name === "_") throw new Unsafe(["_"]);
        const info = sc.lookup(t.name);
        if (info !== undefined) {
          if (!bound.has(info.slot)) throw new Unsafe([t.name]);
          const s = info.slot;
          return singleC((fr) => fr.s[s]);
        }
        return this.ref({ type: "ref", head: t, path: [], loc: t.loc }, sc, bound);
      }
      case "ref":
        return this.ref(t, sc, bound);
      case "array":
        return this.collection(t.items, sc, bound, (vals) => vals);
      case "set":
        return this.collection(t.items, sc, bound, (vals) => RegoSet.of(vals));
      case "object": {
        const flat: Term[] = [];
        for (const [k, v] of t.entries) flat.push(k, v);
        return this.collection(flat, sc, bound, (vals) => {
          const o = new RegoObject();
          for (let i = 0; i < vals.length; i += 2) o.set(vals[i] as Value, vals[i + 1] as Value);
          return o;
        });
      }
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        return this.comprehension(t, sc, bound);
      case "call":
        return this.call(t, sc, bound);
    }
  }

  /** Terms evaluated left to right (each may iterate), then combined. */
  private collection(items: readonly Term[], sc: Scope, bound: Bound, make: (vals: Value[]) => Value | undefined): TermC {
    const cs = items.map((x) => this.term(x, sc, bound));
    const n = cs.length;
    if (cs.every((c) => c.single !== undefined)) {
      const fs = cs.map((c) => c.single as Single);
      return singleC((fr) => {
        const vals = new Array<Value>(n);
        for (let i = 0; i < n; i++) {
          const v = (fs[i] as Single)(fr);
          if (v === undefined) return undefined;
          vals[i] = v;
        }
        return make(vals);
      });
    }
    const temps = cs.map(() => sc.state.newAux());
    return {
      single: undefined,
      iter: (vk) => {
        let k: K = (fr) => {
          const vals = temps.map((t) => fr.aux[t] as Value);
          const r = make(vals);
          return r === undefined ? false : vk(fr, r);
        };
        for (let i = n - 1; i >= 0; i--) {
          const slot = temps[i] as number;
          const nk = k;
          k = (cs[i] as TermC).iter((fr, v) => {
            fr.aux[slot] = v;
            return nk(fr);
          });
        }
        return k;
      },
    };
  }

  private ref(t: TermOf<"ref">, sc: Scope, bound: Bound): TermC {
    const head = t.head;
    if (head.type === "var") {
      const info = sc.lookup(head.name);
      if (info !== undefined) {
        if (!bound.has(info.slot)) throw new Unsafe([head.name]);
        const s = info.slot;
        const p0 = t.path[0];
        if (t.path.length === 1 && p0?.type === "scalar") {
          // `x.name`: the commonest ref in a body, one closure.
          const k0 = p0.value;
          return singleC((fr) => {
            const v = fr.s[s];
            return v === undefined ? undefined : getKey(v, k0);
          });
        }
        return this.index(singleC((fr) => fr.s[s]), t.path, sc, bound);
      }
      const g = this.globalPath(head.name, sc, head.loc);
      if (g === undefined) throw new Unsafe([head.name]);
      const path = [...g.path, ...t.path];
      if (g.root === "input") {
        return this.index(
          singleC((fr) => fr.ctx.input),
          path,
          sc,
          bound,
        );
      }
      return this.dataRef(path, sc, bound);
    }
    return this.index(this.term(head, sc, bound), t.path, sc, bound);
  }

  private dataRef(path: readonly Term[], sc: Scope, bound: Bound): TermC {
    const { node, used } = this.walk(path, 0);
    const next = path[used];
    if (node.ruleSet !== undefined) this.env.current?.deps.add(node.ruleSet);
    else if (next === undefined || next.type !== "scalar") this.depend(node);
    let i = used;
    const rs = node.ruleSet;
    if (rs !== undefined && rs.kind !== "function" && node.children.size === 0) {
      return this.index(
        singleC((fr) => evalRuleSet(rs, fr.ctx)),
        path.slice(i),
        sc,
        bound,
      );
    }
    // Past the rule tree: constant keys are plain base-data lookups.
    const baseKeys: Value[] = [];
    if (rs === undefined) {
      while (i < path.length) {
        const el = path[i] as Term;
        if (el.type !== "scalar") break;
        if (i === used && typeof el.value === "string" && node.children.has(el.value)) break;
        baseKeys.push(el.value);
        i++;
      }
    }
    if (baseKeys.length > 0) {
      return this.index(
        baseC(singleC((fr) => lookupData(baseAt(node, fr.ctx), baseKeys))),
        path.slice(i),
        sc,
        bound,
      );
    }
    return this.index(
      singleC((fr) => nodeValue(node, fr.ctx)),
      path.slice(i),
      sc,
      bound,
    );
  }

  /** `base[k1][k2]...`: lookups for bound keys, iteration for unbound variables. */
  private index(base: TermC, path: readonly Term[], sc: Scope, bound: Bound): TermC {
    if (path.length === 0) return base;
    const r = this.indexInner(base, path, sc, bound);
    return base.base === true ? baseC(r) : r;
  }

  private indexInner(base: TermC, path: readonly Term[], sc: Scope, bound: Bound): TermC {
    type Step = { kind: "key"; c: TermC } | { kind: "bind"; slot: number } | { kind: "any" } | { kind: "pattern"; p: PatC; slot: number };
    const steps: Step[] = [];
    for (const el of path) {
      if (el.type === "var") {
        if (el.name === "_") {
          steps.push({ kind: "any" });
          continue;
        }
        const info = sc.lookup(el.name);
        if (info !== undefined && !bound.has(info.slot)) {
          bound.add(info.slot);
          steps.push({ kind: "bind", slot: info.slot });
          continue;
        }
      }
      if ((el.type === "array" || el.type === "object") && hasUnboundVars(el, sc, bound)) {
        const tmp = sc.state.newAux();
        steps.push({ kind: "pattern", p: this.pattern(el, sc, bound), slot: tmp });
        continue;
      }
      steps.push({ kind: "key", c: this.term(el, sc, bound) });
    }
    if (base.single !== undefined && steps.every((s) => s.kind === "key" && s.c.single !== undefined)) {
      const b = base.single;
      const keys = steps.map((s) => (s as { c: TermC }).c.single as Single);
      const consts = path.map((p) => (p.type === "scalar" ? p.value : undefined));
      if (consts.every((c) => c !== undefined)) {
        const ks = consts as Value[];
        if (ks.length === 1) {
          const k0 = ks[0] as Value;
          return singleC((fr) => {
            const v = b(fr);
            return v === undefined ? undefined : getKey(v, k0);
          });
        }
        return singleC((fr) => {
          let v = b(fr);
          for (let i = 0; i < ks.length && v !== undefined; i++) v = getKey(v, ks[i] as Value);
          return v;
        });
      }
      return singleC((fr) => {
        let v = b(fr);
        for (let i = 0; i < keys.length && v !== undefined; i++) {
          const k = (keys[i] as Single)(fr);
          if (k === undefined) return undefined;
          v = getKey(v, k);
        }
        return v;
      });
    }
    return {
      single: undefined,
      iter: (vk) => {
        let k: VK = vk;
        for (let i = steps.length - 1; i >= 0; i--) k = stepK(steps[i] as Step, k);
        return base.iter(k);
      },
    };
    function stepK(step: Step, next: VK): VK {
      switch (step.kind) {
        case "key": {
          const tmp = sc.state.newAux();
          const after = step.c.iter((fr, key) => {
            const v = getKey(fr.aux[tmp] as Value, key);
            return v === undefined ? false : next(fr, v);
          });
          return (fr, v) => {
            fr.aux[tmp] = v;
            return after(fr);
          };
        }
        case "bind": {
          const s = step.slot;
          return (fr, v) => eachEntry(fr, v, (k, x) => {
            fr.s[s] = k;
            return next(fr, x);
          });
        }
        case "any":
          return (fr, v) => eachEntry(fr, v, (_k, x) => next(fr, x));
        case "pattern": {
          const tmp = step.slot;
          const matched = step.p((fr) => next(fr, fr.aux[tmp] as Value));
          return (fr, v) => eachEntry(fr, v, (k, x) => {
            fr.aux[tmp] = x;
            return matched(fr, k);
          });
        }
      }
    }
  }

  // --- calls ---

  private call(t: TermOf<"call">, sc: Scope, bound: Bound): TermC {
    const target = this.resolveFn(t.fn, sc, t.fnLoc);
    if (target.kind === "print") return this.print(t, sc, bound);
    const arity = target.kind === "builtin" ? target.def.arity : target.rs.arity;
    if (t.args.length !== arity) {
      if (t.args.length === arity + 1) throw new Unsafe([]);
      throw compileError("rego_type_error", `${t.fn}: arity mismatch: expected ${arity} argument${arity === 1 ? "" : "s"}, got ${t.args.length}`, t.loc);
    }
    return this.callWith(target, t, t.args, sc, bound);
  }

  /** The call's values (one for functions, each output for relations), arguments evaluated left to right. */
  callWith(target: FnTarget, t: TermOf<"call">, argTerms: readonly Term[], sc: Scope, bound: Bound): TermC {
    if (target.kind === "print") return this.print(t, sc, bound);
    const invoke = invoker(target, t.loc);
    const relation = target.kind === "builtin" && target.def.relation === true;
    const fast = target.kind === "builtin" ? FAST_BINARY[target.name] : undefined;
    if (fast !== undefined && argTerms.length === 2) {
      // Comparisons and membership on the hot path: no argument array, no try/catch (they cannot fail).
      const snap = new Set(bound);
      const ca = this.term(argTerms[0] as Term, sc, bound);
      const cb = this.term(argTerms[1] as Term, sc, bound);
      if (ca.single !== undefined && cb.single !== undefined) {
        const fa = ca.single;
        const fb = cb.single;
        return singleC((fr) => {
          const a = fa(fr);
          if (a === undefined) return undefined;
          const b = fb(fr);
          if (b === undefined) return undefined;
          if (fr.ctx.mocks !== undefined) return invoke(fr.ctx, [a, b]) as Value | undefined;
          return fast(a, b);
        });
      }
      restore(bound, snap);
    }
    const args = this.collection(argTerms, sc, bound, (vals) => vals);
    if (!relation && args.single !== undefined) {
      const a = args.single;
      return singleC((fr) => {
        const vals = a(fr) as Value[] | undefined;
        return vals === undefined ? undefined : (invoke(fr.ctx, vals) as Value | undefined);
      });
    }
    return {
      single: undefined,
      iter: (vk) =>
        args.iter((fr, vals) => {
          const r = invoke(fr.ctx, vals as Value[]);
          if (r === undefined) return false;
          if (!relation) return vk(fr, r as Value);
          for (const x of r as Iterable<Value>) if (vk(fr, x)) return true;
          return false;
        }),
    };
  }

  private print(t: TermOf<"call">, sc: Scope, bound: Bound): TermC {
    const parts = t.args.map((a) => this.term(a, sc, bound));
    return singleC((fr) => {
      const texts = parts.map((p) => {
        const vals: Value[] = [];
        p.iter((_fr, v) => {
          vals.push(v);
          return false;
        })(fr);
        if (vals.length === 0) return "<undefined>";
        if (p.single !== undefined) return formatValue(vals[0] as Value, true);
        return formatValue(RegoSet.of(vals), true);
      });
      fr.ctx.print(texts.join(" "));
      return true;
    });
  }

  // --- comprehensions ---

  private comprehension(t: TermOf<"arraycomp"> | TermOf<"setcomp"> | TermOf<"objectcomp">, sc: Scope, bound: Bound): TermC {
    const inner = new Scope(sc, sc.pkg, sc.state);
    const heads = t.type === "objectcomp" ? [t.key, t.value] : [t.term];
    const mark = sc.state.nslots;
    predeclare(inner, t.body, heads);
    this.requireClosed(t.body, heads, inner, bound, mark);
    const b = new Set(bound);
    const lits = this.body(t.body, inner, b);
    const acc = sc.state.newAux();
    let final: K;
    let fresh: () => unknown;
    if (t.type === "objectcomp") {
      const kc = this.headSingle(t.key, inner, b);
      const vc = this.headSingle(t.value, inner, b);
      fresh = () => new RegoObject();
      final = (fr) => {
        const k = kc(fr);
        const v = vc(fr);
        if (k === undefined || v === undefined) return false;
        const o = fr.aux[acc] as RegoObject;
        const old = o.get(k);
        if (old !== undefined && !equal(old, v)) throw evalError("eval_conflict_error", "object keys must be unique", t.loc);
        o.set(k, v);
        return false;
      };
    } else {
      const hc = this.headSingle(t.term, inner, b);
      if (t.type === "arraycomp") {
        fresh = () => [];
        final = (fr) => {
          const v = hc(fr);
          if (v !== undefined) (fr.aux[acc] as Value[]).push(v);
          return false;
        };
      } else {
        fresh = () => new RegoSet();
        final = (fr) => {
          const v = hc(fr);
          if (v !== undefined) (fr.aux[acc] as RegoSet).add(v);
          return false;
        };
      }
    }
    const run = chain(lits, final);
    return singleC((fr) => {
      const saved = fr.aux[acc];
      const budget = fr.ctx.budget;
      budget.enter();
      fr.aux[acc] = fresh();
      try {
        run(fr);
        return fr.aux[acc] as Value;
      } finally {
        budget.leave();
        fr.aux[acc] = saved;
      }
    });
  }

  /** A rule or comprehension head: one value, all its variables bound by the body. */
  headSingle(t: Term, sc: Scope, bound: Bound): Single {
    let c: TermC;
    try {
      c = this.term(t, sc, bound);
    } catch (e) {
      if (e instanceof Unsafe) throw unsafeError(e.names.length > 0 ? e.names : unboundNames(t, sc, bound), t.loc);
      throw e;
    }
    return firstValue(c);
  }

  /** Variables of enclosing bodies used in a nested body must be bound before it runs. */
  private requireClosed(body: Body, extra: readonly Term[], inner: Scope, bound: Bound, mark: number): void {
    const names: { name: string; loc: Loc }[] = [];
    for (const t of extra) termVars(t, names);
    collectBodyVars(body, names);
    const missing: string[] = [];
    for (const { name } of names) {
      const info = inner.lookup(name);
      if (info !== undefined && info.slot < mark && !bound.has(info.slot)) missing.push(name);
    }
    if (missing.length > 0) throw new Unsafe(missing);
  }

  // --- patterns ---

  pattern(t: Term, sc: Scope, bound: Bound): PatC {
    switch (t.type) {
      case "var": {
        if (t.name === "_") return (k) => (fr) => k(fr);
        const info = sc.lookup(t.name);
        if (info === undefined) break;
        const s = info.slot;
        if (bound.has(s)) return (k) => (fr, v) => (equal(fr.s[s] as Value, v) ? k(fr) : false);
        bound.add(s);
        return (k) => (fr, v) => {
          fr.s[s] = v;
          return k(fr);
        };
      }
      case "scalar": {
        const c = t.value;
        if (typeof c !== "object" || c === null) return (k) => (fr, v) => (v === c ? k(fr) : false);
        return (k) => (fr, v) => (equal(c, v) ? k(fr) : false);
      }
      case "array": {
        if (!hasUnboundVars(t, sc, bound)) break;
        const pats = t.items.map((x) => this.pattern(x, sc, bound));
        const n = pats.length;
        const tmp = sc.state.newAux();
        return (k) => {
          let kk: K = k;
          for (let i = n - 1; i >= 0; i--) {
            const pk = (pats[i] as PatC)(kk);
            const idx = i;
            kk = (fr) => pk(fr, (fr.aux[tmp] as Value[])[idx] as Value);
          }
          const first = kk;
          return (fr, v) => {
            if (!Array.isArray(v) || v.length !== n) return false;
            const saved = fr.aux[tmp];
            fr.aux[tmp] = v;
            const r = first(fr);
            fr.aux[tmp] = saved;
            return r;
          };
        };
      }
      case "object": {
        if (!hasUnboundVars(t, sc, bound)) break;
        const keys = t.entries.map(([k]) => {
          const c = this.term(k, sc, bound);
          if (c.single === undefined) throw new Unsafe(unboundNames(k, sc, bound));
          return c.single;
        });
        const pats = t.entries.map(([, v]) => this.pattern(v, sc, bound));
        const n = pats.length;
        const tmp = sc.state.newAux();
        return (k) => {
          let kk: K = k;
          for (let i = n - 1; i >= 0; i--) {
            const pk = (pats[i] as PatC)(kk);
            const kf = keys[i] as Single;
            kk = (fr) => {
              const key = kf(fr);
              if (key === undefined) return false;
              const x = (fr.aux[tmp] as RegoObject).get(key);
              return x === undefined ? false : pk(fr, x);
            };
          }
          const first = kk;
          return (fr, v) => {
            if (!(v instanceof RegoObject) || v.size !== n) return false;
            const saved = fr.aux[tmp];
            fr.aux[tmp] = v;
            const r = first(fr);
            fr.aux[tmp] = saved;
            return r;
          };
        };
      }
      default:
        break;
    }
    // Anything else is evaluated and compared.
    const c = this.term(t, sc, bound);
    if (c.single !== undefined) {
      const f = c.single;
      return (k) => (fr, v) => {
        const w = f(fr);
        return w !== undefined && equal(w, v) ? k(fr) : false;
      };
    }
    const tmp = sc.state.newAux();
    return (k) => {
      const cmp = c.iter((fr, w) => (equal(w, fr.aux[tmp] as Value) ? k(fr) : false));
      return (fr, v) => {
        fr.aux[tmp] = v;
        return cmp(fr);
      };
    };
  }

  // --- literals and bodies ---

  /** Compiles a body, reordering literals so each runs once what it needs is bound. */
  body(lits: Body, sc: Scope, bound: Bound): LitC[] {
    const remaining = [...lits];
    const index = new Map<Literal, number>(lits.map((l, i) => [l, i]));
    const out: LitC[] = [];
    while (remaining.length > 0) {
      let first: { lit: Literal; names: readonly string[] } | undefined;
      let done = false;
      for (let j = 0; j < remaining.length; j++) {
        const lit = remaining[j] as Literal;
        const snap = new Set(bound);
        sc.cursor = index.get(lit) as number;
        try {
          out.push(this.literal(lit, sc, bound));
          remaining.splice(j, 1);
          done = true;
          break;
        } catch (e) {
          if (!(e instanceof Unsafe)) throw e;
          restore(bound, snap);
          first ??= { lit, names: e.names };
        } finally {
          sc.cursor = Number.POSITIVE_INFINITY;
        }
      }
      if (!done) {
        const f = first as { lit: Literal; names: readonly string[] };
        const names = f.names.length > 0 ? f.names : ["_"];
        throw unsafeError(names, f.lit.loc);
      }
    }
    return this.fuseScans(out);
  }

  literal(lit: Literal, sc: Scope, bound: Bound): LitC {
    if (lit.withs.length > 0) return this.withLiteral(lit, sc, bound);
    if (lit.negated) return this.plainLiteral(lit, sc, bound);
    const meta = this.eqMeta(lit, sc, bound) ?? this.refScanMeta(lit, sc, bound);
    const rf = meta === undefined ? this.refFilter(lit, sc, bound) : undefined;
    const c = this.plainLiteral(lit, sc, bound);
    if (meta !== undefined) this.metas.set(c, meta);
    if (rf !== undefined) return indexedScan(rf.dom, undefined, rf.keySlot, rf.filter, c, undefined);
    return c;
  }

  private plainLiteral(lit: Literal, sc: Scope, bound: Bound): LitC {
    if (!lit.negated) return this.expr(lit, sc, bound);
    const inner = new Set(bound);
    const g = this.expr(lit, sc, inner);
    const leaked: string[] = [];
    for (const s of inner) {
      const name = sc.state.names[s] ?? "_";
      if (!bound.has(s) && !name.startsWith("_")) leaked.push(name);
    }
    if (leaked.length > 0) throw new Unsafe(leaked);
    const probe = g(STOP);
    return (next) => (fr) => (probe(fr) ? false : next(fr));
  }

  private expr(lit: Literal, sc: Scope, bound: Bound): LitC {
    const e = lit.expr;
    switch (e.type) {
      case "term":
        return this.termExpr(e.term, sc, bound);
      case "unify":
        return this.unify(e.left, e.right, sc, bound);
      case "assign":
        return this.unify(e.left, e.right, sc, bound);
      case "some":
        return (next) => next;
      case "somein":
        return this.someIn(e.key, e.value, e.domain, sc, bound);
      case "every":
        return this.every(e, sc, bound);
      case "notbody": {
        const inner = new Scope(sc, sc.pkg, sc.state);
        const mark = sc.state.nslots;
        predeclare(inner, e.body, []);
        this.requireClosed(e.body, [], inner, bound, mark);
        const lits = this.body(e.body, inner, new Set(bound));
        const probe = chain(lits, STOP);
        return (next) => (fr) => (probe(fr) ? false : next(fr));
      }
    }
  }

  private termExpr(t: Term, sc: Scope, bound: Bound): LitC {
    if (t.type === "call") {
      const target = this.resolveFn(t.fn, sc, t.fnLoc);
      if (target.kind !== "print") {
        const arity = target.kind === "builtin" ? target.def.arity : target.rs.arity;
        if (t.args.length === arity + 1) {
          // The last argument is the output: `f(x, y)` means `y = f(x)`.
          const c = this.callWith(target, t, t.args.slice(0, arity), sc, bound);
          const p = this.pattern(t.args[arity] as Term, sc, bound);
          return (next) => c.iter(p(next));
        }
      }
    }
    const c = this.term(t, sc, bound);
    if (c.single !== undefined) {
      const f = c.single;
      return (next) => (fr) => {
        const v = f(fr);
        return v === undefined || v === false ? false : next(fr);
      };
    }
    return (next) => c.iter((fr, v) => (v === false ? false : next(fr)));
  }

  /** `a = b`: evaluate one side and match the other as a pattern; arrays and objects pairwise when neither side can be evaluated. */
  private unify(a: Term, b: Term, sc: Scope, bound: Bound): LitC {
    const attempt = (ev: Term, pat: Term): LitC | undefined => {
      const snap = new Set(bound);
      try {
        const c = this.term(ev, sc, bound);
        const p = this.pattern(pat, sc, bound);
        return (next) => c.iter(p(next));
      } catch (e) {
        if (!(e instanceof Unsafe)) throw e;
        restore(bound, snap);
        return undefined;
      }
    };
    const preferLeft = isPatternish(b, sc, bound) && !isPatternish(a, sc, bound);
    const r = preferLeft ? (attempt(a, b) ?? attempt(b, a)) : (attempt(b, a) ?? attempt(a, b));
    if (r !== undefined) return r;
    let pairs: [Term, Term][] | undefined;
    if (a.type === "array" && b.type === "array" && a.items.length === b.items.length) {
      pairs = a.items.map((x, i) => [x, b.items[i] as Term]);
    } else if (a.type === "object" && b.type === "object" && a.entries.length === b.entries.length) {
      pairs = objectPairs(a, b);
    }
    if (pairs === undefined) {
      const names = [...unboundNames(a, sc, bound), ...unboundNames(b, sc, bound)];
      throw new Unsafe(names);
    }
    const remaining = pairs;
    const parts: LitC[] = [];
    while (remaining.length > 0) {
      let progressed = false;
      for (let j = 0; j < remaining.length; j++) {
        const [x, y] = remaining[j] as [Term, Term];
        const snap = new Set(bound);
        try {
          parts.push(this.unify(x, y, sc, bound));
          remaining.splice(j, 1);
          progressed = true;
          break;
        } catch (e) {
          if (!(e instanceof Unsafe)) throw e;
          restore(bound, snap);
        }
      }
      if (!progressed) throw new Unsafe([...unboundNames(a, sc, bound), ...unboundNames(b, sc, bound)]);
    }
    return (next) => chain(parts, next);
  }

  private someIn(key: Term | undefined, value: Term, domain: Term, sc: Scope, bound: Bound): LitC {
    const valSlot = this.freshVar(value, sc, bound);
    const keySlot = key === undefined || (key.type === "var" && key.name === "_") ? undefined : this.freshVar(key, sc, bound);
    const simpleKey = key === undefined || keySlot !== undefined || (key.type === "var" && key.name === "_");
    const dom = this.term(domain, sc, bound);
    const kp = key === undefined ? undefined : this.pattern(key, sc, bound);
    const vp = this.pattern(value, sc, bound);
    const tmp = sc.state.newAux();
    const lit: LitC = (next) => {
      if (valSlot !== undefined && simpleKey) {
        // Fresh variables: bind the slots directly, no per-collection closure.
        return dom.iter((fr, coll) => bindEach(fr, coll, valSlot, keySlot, next));
      }
      const vk = vp(next);
      const kvk = kp === undefined ? undefined : kp((fr) => vk(fr, fr.aux[tmp] as Value));
      return dom.iter((fr, coll) => {
        if (kvk === undefined) return eachEntry(fr, coll, (_k, x) => vk(fr, x));
        return eachEntry(fr, coll, (k, x) => {
          fr.aux[tmp] = x;
          return kvk(fr, k);
        });
      });
    };
    if (dom.base === true && dom.single !== undefined && valSlot !== undefined && simpleKey && keySlot !== valSlot) {
      this.metas.set(lit, { kind: "scan", dom: dom.single, valSlot, keySlot });
    }
    return lit;
  }

  /** The slot of `t` when it is a local variable not bound yet (a pattern that just binds). */
  private freshVar(t: Term, sc: Scope, bound: Bound): number | undefined {
    if (t.type !== "var" || t.name === "_") return undefined;
    const info = sc.lookup(t.name);
    return info !== undefined && !bound.has(info.slot) ? info.slot : undefined;
  }

  /** `x := <base data>[_]`, `x = <base data>[k]`, `<base data>[_] = x` (x, k fresh): the same scan as `some k, x in <base data>`. */
  private refScanMeta(lit: Literal, sc: Scope, bound: Bound): ScanMeta | undefined {
    const e = lit.expr;
    if (e.type !== "assign" && e.type !== "unify") return undefined;
    for (const [v, r] of [
      [e.left, e.right],
      [e.right, e.left],
    ] as const) {
      const valSlot = this.freshVar(v, sc, bound);
      if (valSlot === undefined || r.type !== "ref" || r.path.length === 0) continue;
      const last = r.path[r.path.length - 1] as Term;
      let keySlot: number | undefined;
      if (!(last.type === "var" && last.name === "_")) {
        keySlot = this.freshVar(last, sc, bound);
        if (keySlot === undefined || keySlot === valSlot) continue;
      }
      const dom = this.baseDomain({ type: "ref", head: r.head, path: r.path.slice(0, -1), loc: r.loc }, sc, bound);
      if (dom === undefined) continue;
      return { kind: "scan", dom, valSlot, keySlot };
    }
    return undefined;
  }

  /** The single value of a ref into base data (worth indexing), compiled with what is bound; undefined when it is not that or uses unbound variables. */
  private baseDomain(ref: Term, sc: Scope, bound: Bound): Single | undefined {
    let dom: TermC;
    try {
      dom = this.term(ref, sc, new Set(bound));
    } catch (err) {
      if (err instanceof Unsafe) return undefined;
      throw err;
    }
    return dom.base === true ? dom.single : undefined;
  }

  /** `a == b` or `a = b` where one side is `x.<constant path>` (x bound) and the other a ground variable, input ref or constant. */
  private eqMeta(lit: Literal, sc: Scope, bound: Bound): EqMeta | undefined {
    const sides = this.equalitySides(lit, sc);
    if (sides === undefined) return undefined;
    const [a, b] = sides;
    return this.eqSides(a, b, sc, bound) ?? this.eqSides(b, a, sc, bound);
  }

  /** The two sides of `a = b` or of `a == b` (when `==` is the built-in). */
  private equalitySides(lit: Literal, sc: Scope): readonly [Term, Term] | undefined {
    const e = lit.expr;
    if (e.type === "unify") return [e.left, e.right];
    if (e.type !== "term" || e.term.type !== "call" || e.term.fn !== "equal" || e.term.args.length !== 2) return undefined;
    if (this.resolveFn("equal", sc, e.term.fnLoc).kind !== "builtin") return undefined;
    return [e.term.args[0] as Term, e.term.args[1] as Term];
  }

  private eqSides(el: Term, other: Term, sc: Scope, bound: Bound): EqMeta | undefined {
    const e = simpleRef(el, sc, bound);
    if (e === undefined || typeof e.root !== "number") return undefined;
    const o = simpleRef(other, sc, bound);
    if (o === undefined || o.root === e.root) return undefined;
    return { kind: "eq", elemSlot: e.root, path: e.path, pathKey: canonicalKey(e.path), other: simpleSingle(o), otherSlot: typeof o.root === "number" ? o.root : undefined };
  }

  /**
   * `<base data>[k].<path> == other` (k fresh or `_`, other as for eqMeta): a
   * scan and its filter in one literal, indexed like the fused pair.
   */
  private refFilter(lit: Literal, sc: Scope, bound: Bound): { dom: Single; keySlot: number | undefined; filter: Filter } | undefined {
    const sides = this.equalitySides(lit, sc);
    if (sides === undefined) return undefined;
    const [a, b] = sides;
    for (const [el, other] of [
      [a, b],
      [b, a],
    ] as const) {
      if (el.type !== "ref") continue;
      const j = el.path.findIndex((p) => p.type !== "scalar");
      if (j <= 0) continue;
      const at = el.path[j] as Term;
      const wildcard = at.type === "var" && at.name === "_";
      const keySlot = wildcard ? undefined : this.freshVar(at, sc, bound);
      if (!wildcard && keySlot === undefined) continue;
      const rest = el.path.slice(j + 1);
      if (!rest.every((p) => p.type === "scalar")) continue;
      const o = simpleRef(other, sc, bound);
      if (o === undefined) continue;
      const dom = this.baseDomain({ type: "ref", head: el.head, path: el.path.slice(0, j), loc: el.loc }, sc, bound);
      if (dom === undefined) continue;
      const path = rest.map((p) => (p as TermOf<"scalar">).value);
      return { dom, keySlot, filter: { path, pathKey: canonicalKey(path), other: simpleSingle(o) } };
    }
    return undefined;
  }

  /** `some x in base; x.f == v` (adjacent after reordering) as one literal that looks x up through a field index. */
  private fuseScans(lits: LitC[]): LitC[] {
    for (let i = 0; i + 1 < lits.length; i++) {
      const scan = this.metas.get(lits[i] as LitC);
      const eq = this.metas.get(lits[i + 1] as LitC);
      if (scan?.kind !== "scan" || eq?.kind !== "eq") continue;
      if (eq.elemSlot !== scan.valSlot || eq.otherSlot === scan.valSlot || (scan.keySlot !== undefined && eq.otherSlot === scan.keySlot)) continue;
      const scanLit = lits[i] as LitC;
      const eqLit = lits[i + 1] as LitC;
      lits.splice(i, 2, indexedScan(scan.dom, scan.valSlot, scan.keySlot, eq, (next) => scanLit(eqLit(next)), eqLit));
    }
    return lits;
  }

  private every(e: Extract<Literal["expr"], { type: "every" }>, sc: Scope, bound: Bound): LitC {
    const dom = this.term(e.domain, sc, bound);
    const inner = new Scope(sc, sc.pkg, sc.state);
    const mark = sc.state.nslots;
    const declared: { name: string; loc: Loc }[] = [];
    if (e.key) termVars(e.key, declared);
    termVars(e.value, declared);
    for (const v of declared) if (v.name !== "_" && !inner.has(v.name)) inner.declare(v.name);
    predeclare(inner, e.body, []);
    this.requireClosed(e.body, [], inner, bound, mark);
    const b = new Set(bound);
    const valSlot = this.freshVar(e.value, inner, b);
    const keySlot = e.key === undefined || (e.key.type === "var" && e.key.name === "_") ? undefined : this.freshVar(e.key, inner, b);
    const simple = valSlot !== undefined && keySlot !== valSlot && (e.key === undefined || keySlot !== undefined || (e.key.type === "var" && e.key.name === "_"));
    const kp = e.key === undefined ? undefined : this.pattern(e.key, inner, b);
    const vp = this.pattern(e.value, inner, b);
    const lits = this.body(e.body, inner, b);
    const probe = chain(lits, STOP);
    const vk = vp(probe);
    const tmp = sc.state.newAux();
    const kvk = kp === undefined ? undefined : kp((fr) => vk(fr, fr.aux[tmp] as Value));
    if (simple) {
      const vs = valSlot as number;
      return (next) => dom.iter((fr, coll) => (bindEach(fr, coll, vs, keySlot, probe, true) ? false : next(fr)));
    }
    return (next) =>
      dom.iter((fr, coll) => {
        let ok = true;
        eachEntry(fr, coll, (k, x) => {
          let found: boolean;
          if (kvk === undefined) found = vk(fr, x);
          else {
            fr.aux[tmp] = x;
            found = kvk(fr, k);
          }
          if (!found) ok = false;
          return !ok;
        });
        return ok ? next(fr) : false;
      });
  }

  // --- with ---

  private withLiteral(lit: Literal, sc: Scope, bound: Bound): LitC {
    const mods = lit.withs.map((w) => this.withModifier(w, sc, bound));
    const inner = this.plainLiteral(lit, sc, bound);
    const saved = sc.state.newAux();
    return (next) => {
      const after: K = (fr) => {
        const mine = fr.ctx;
        fr.ctx = fr.aux[saved] as Ctx;
        try {
          return next(fr);
        } finally {
          fr.ctx = mine;
        }
      };
      const goal = inner(after);
      return (fr) => {
        const outer = fr.ctx;
        let ctx = outer;
        let input = outer.input;
        let data = outer.data;
        let overrides = outer.overrides;
        let mocks = outer.mocks;
        for (const m of mods) {
          const r = m(fr, { input, data, overrides, mocks });
          if (r === undefined) return false;
          ({ input, data, overrides, mocks } = r);
        }
        ctx = outer.derive(input, data, overrides, mocks);
        fr.aux[saved] = outer;
        fr.ctx = ctx;
        try {
          return goal(fr);
        } finally {
          fr.ctx = outer;
        }
      };
    };
  }

  private withModifier(w: With, sc: Scope, bound: Bound): WithMod {
    const parts = refStringsOrConst(w.target);
    if (parts === undefined) throw compileError("rego_compile_error", "with keyword target must be a reference to input, data, or a function", w.loc);
    const first = parts[0] as Value;
    let root: "input" | "data" | undefined;
    let path: Value[] = [];
    if (typeof first === "string" && sc.lookup(first) === undefined) {
      const g = this.globalPath(first, sc, w.loc);
      if (g !== undefined) {
        root = g.root;
        path = [...g.path.map((p) => (p as TermOf<"scalar">).value), ...parts.slice(1)];
      }
    }
    if (root === "input") {
      const vc = this.withValue(w.value, sc, bound);
      return (fr, st) => {
        const v = vc(fr);
        return v === undefined ? undefined : { ...st, input: setPath(st.input, path, v) };
      };
    }
    if (root === "data") {
      const terms = path.map((p) => ({ type: "scalar", value: p, loc: w.loc }) as Term);
      const { node, used } = this.walk(terms, 0);
      if (node.ruleSet?.kind === "function" && used === path.length) return this.mock(node.ruleSet, w, sc, bound);
      const vc = this.withValue(w.value, sc, bound);
      if (used === path.length && node.hasRules) {
        return (fr, st) => {
          const v = vc(fr);
          if (v === undefined) return undefined;
          const m = new Map(st.overrides ?? []);
          m.set(node, v);
          return { ...st, overrides: m };
        };
      }
      const rest = path.slice(used);
      if (node.ruleSet !== undefined) {
        // Below a rule's value: replace that part of it.
        return (fr, st) => {
          const v = vc(fr);
          if (v === undefined) return undefined;
          const cur = nodeValue(node, fr.ctx.derive(st.input, st.data, st.overrides, st.mocks));
          const m = new Map(st.overrides ?? []);
          m.set(node, setPath(cur, rest, v));
          return { ...st, overrides: m };
        };
      }
      return (fr, st) => {
        const v = vc(fr);
        return v === undefined ? undefined : { ...st, data: setPath(st.data, path, v) };
      };
    }
    const name = parts.join(".");
    const target = this.resolveFn(name, sc, w.target.loc);
    if (target.kind === "print") throw compileError("rego_compile_error", "with keyword cannot replace print", w.loc);
    return this.mock(target.kind === "user" ? target.rs : name, w, sc, bound);
  }

  private withValue(t: Term, sc: Scope, bound: Bound): Single {
    return firstValue(this.term(t, sc, bound));
  }

  private mock(key: string | RuleSet, w: With, sc: Scope, bound: Bound): WithMod {
    let mock: Mock | undefined;
    const names = w.value.type === "var" || w.value.type === "ref" ? refStrings(w.value) : undefined;
    if (names !== undefined && sc.lookup(names[0] as string) === undefined) {
      const name = names.join(".");
      try {
        const t = this.resolveFn(name, sc, w.value.loc);
        if (t.kind === "user") mock = { kind: "function", rs: t.rs };
        else if (t.kind === "builtin") mock = { kind: "builtin", def: t.def };
      } catch (e) {
        // A replacement Ficus does not provide is named as such; any other name is a value.
        if (NOT_PROVIDED.has(name)) throw e;
        mock = undefined;
      }
    }
    if (mock !== undefined) {
      const m = mock;
      return (_fr, st) => {
        const map = new Map(st.mocks ?? []);
        map.set(key, m);
        return { ...st, mocks: map };
      };
    }
    const vc = this.withValue(w.value, sc, bound);
    return (fr, st) => {
      const v = vc(fr);
      if (v === undefined) return undefined;
      const map = new Map(st.mocks ?? []);
      map.set(key, { kind: "value", value: v });
      return { ...st, mocks: map };
    };
  }
}

interface WithState {
  input: Value | undefined;
  data: Value;
  overrides: ReadonlyMap<Node, Value> | undefined;
  mocks: ReadonlyMap<string | RuleSet, Mock> | undefined;
}
type WithMod = (fr: Frame, st: WithState) => WithState | undefined;

// --- helpers ---

/** A constant, or a bound local variable / `input` followed by constant keys. */
function simpleRef(t: Term, sc: Scope, bound: Bound): { root: number | "input" | "const"; path: Value[]; value?: Value } | undefined {
  if (t.type === "scalar") return { root: "const", path: [], value: t.value };
  let head: Term = t;
  const path: Value[] = [];
  if (t.type === "ref") {
    head = t.head;
    for (const p of t.path) {
      if (p.type !== "scalar") return undefined;
      path.push(p.value);
    }
  }
  if (head.type !== "var" || head.name === "_") return undefined;
  const info = sc.lookup(head.name);
  if (info !== undefined) return bound.has(info.slot) ? { root: info.slot, path } : undefined;
  if (head.name === "input" && !sc.pkg.imports.has("input")) return { root: "input", path };
  return undefined;
}

function simpleSingle(o: { root: number | "input" | "const"; path: Value[]; value?: Value }): Single {
  const root = o.root;
  if (root === "const") {
    const v = o.value as Value;
    return () => v;
  }
  const keys = o.path;
  const nk = keys.length;
  return (fr) => {
    let v = root === "input" ? fr.ctx.input : fr.s[root];
    for (let i = 0; i < nk && v !== undefined; i++) v = getKey(v, keys[i] as Value);
    return v;
  };
}

/**
 * The fused `some x in coll; x.f == v`: collections seen before are looked up
 * through a field index (eval/index.ts), visiting exactly the elements the scan
 * would let through, in the scan's order; otherwise (and whenever `with`
 * replaces a function, `equal` perhaps) the plain scan.
 */
function indexedScan(dom: Single, valSlot: number | undefined, keySlot: number | undefined, eq: Filter, plain: LitC, filter: LitC | undefined): LitC {
  const { path, pathKey, other } = eq;
  return (next) => {
    const whole = plain(next);
    const filtered = filter === undefined ? undefined : filter(next);
    return (fr) => {
      if (fr.ctx.mocks !== undefined) return whole(fr);
      const coll = dom(fr);
      if (coll === undefined) return false;
      const ix = fieldIndex(coll, path, pathKey);
      if (ix === undefined) {
        if (filtered === undefined || valSlot === undefined) return whole(fr);
        return eachEntry(fr, coll, (k, x) => {
          fr.s[valSlot] = x;
          if (keySlot !== undefined) fr.s[keySlot] = k;
          return filtered(fr);
        });
      }
      const want = other(fr);
      if (want === undefined) return false;
      const hits = ix.lookup(want);
      if (hits === undefined) return false;
      const budget = fr.ctx.budget;
      const keys = ix.keys;
      const vals = ix.vals;
      for (let i = 0; i < hits.length; i++) {
        budget.tick();
        const p = hits[i] as number;
        if (valSlot !== undefined) fr.s[valSlot] = vals[p] as Value;
        if (keySlot !== undefined) fr.s[keySlot] = keys[p] as Value;
        if (next(fr)) return true;
      }
      return false;
    };
  };
}

export function chain(lits: readonly LitC[], final: K): K {
  let k = final;
  for (let i = lits.length - 1; i >= 0; i--) k = (lits[i] as LitC)(k);
  return k;
}

/**
 * For each (key, value) of a collection: binds the value (and key) slots, then
 * runs k; stops (returning true) at the first element for which k returns
 * true, or with `negate` false (`every`: a counterexample).
 */
function bindEach(fr: Frame, coll: Value, valSlot: number, keySlot: number | undefined, k: K, negate = false): boolean {
  const budget = fr.ctx.budget;
  const s = fr.s;
  if (Array.isArray(coll)) {
    for (let i = 0; i < coll.length; i++) {
      budget.tick();
      s[valSlot] = coll[i] as Value;
      if (keySlot !== undefined) s[keySlot] = i;
      if (k(fr) !== negate) return true;
    }
    return false;
  }
  if (coll instanceof RegoObject) {
    const es = coll.entries();
    for (let i = 0; i < es.length; i++) {
      const e = es[i] as readonly [Value, Value];
      budget.tick();
      s[valSlot] = e[1];
      if (keySlot !== undefined) s[keySlot] = e[0];
      if (k(fr) !== negate) return true;
    }
    return false;
  }
  if (coll instanceof RegoSet) {
    const vs = coll.values();
    for (let i = 0; i < vs.length; i++) {
      budget.tick();
      const v = vs[i] as Value;
      s[valSlot] = v;
      if (keySlot !== undefined) s[keySlot] = v;
      if (k(fr) !== negate) return true;
    }
  }
  return false;
}

/** Calls fn for each (key, value) of a collection; stops when it returns true. */
export function eachEntry(fr: Frame, coll: Value, fn: (k: Value, v: Value) => boolean): boolean {
  const budget = fr.ctx.budget;
  if (Array.isArray(coll)) {
    for (let i = 0; i < coll.length; i++) {
      budget.tick();
      if (fn(i, coll[i] as Value)) return true;
    }
    return false;
  }
  if (coll instanceof RegoObject) {
    for (const [k, v] of coll.entries()) {
      budget.tick();
      if (fn(k, v)) return true;
    }
    return false;
  }
  if (coll instanceof RegoSet) {
    for (const v of coll.values()) {
      budget.tick();
      if (fn(v, v)) return true;
    }
  }
  return false;
}

/** Base data lookup: documents under data are JSON, so a number key also names the member with that text (`data[2]`). */
function lookupData(root: Value | undefined, keys: readonly Value[]): Value | undefined {
  let cur = root;
  for (const k of keys) {
    if (cur === undefined) return undefined;
    if (typeof k === "number" && cur instanceof RegoObject) cur = cur.get(k) ?? cur.get(String(k));
    else cur = getKey(cur, k);
  }
  return cur;
}

function str(s: string, loc: Loc): Term {
  return { type: "scalar", value: s, loc };
}

function refStringsOrConst(t: Term): Value[] | undefined {
  if (t.type === "var") return [t.name];
  if (t.type !== "ref" || t.head.type !== "var") return undefined;
  const out: Value[] = [t.head.name];
  for (const p of t.path) {
    if (p.type !== "scalar") return undefined;
    out.push(p.value);
  }
  return out;
}

function objectPairs(a: TermOf<"object">, b: TermOf<"object">): [Term, Term][] | undefined {
  const out: [Term, Term][] = [];
  for (const [ka, va] of a.entries) {
    if (ka.type !== "scalar") return undefined;
    const m = b.entries.find(([kb]) => kb.type === "scalar" && equal(kb.value, ka.value));
    if (m === undefined) return undefined;
    out.push([va, m[1]]);
  }
  return out;
}

export function unsafeError(names: readonly string[], loc: Loc): RegoError {
  const errs = [...new Set(names)].map((n) => compileError("rego_unsafe_var_error", `var ${n} is unsafe`, loc));
  return RegoError.combine(errs);
}

