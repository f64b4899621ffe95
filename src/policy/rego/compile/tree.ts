/**
 * The rule tree: one node per name path under `data`, holding the rules
 * defined exactly there (a RuleSet: complete rules, a partial set, a partial
 * object or a function) and the nodes below. Base documents live in the data
 * value, not in the tree; a node only says where rules are, so the compiler can
 * resolve `data.a.b.c` to a rule, a package (an object of its rules' values) or
 * plain base data once, at compile time.
 */
import type { Loc, Rule, Term } from "../syntax/ast.ts";
import type { Value } from "../value.ts";

export type RuleSetKind = "complete" | "set" | "object" | "function";

/** One rule definition's runnable form, filled in by the compiler. */
export interface CompiledDef {
  readonly loc: Loc;
  /** Evaluates the definition; the sink receives head values (see eval/runtime.ts). */
  readonly clauses: readonly CompiledClause[];
  /** The head value is the same for every solution (early exit after the first). */
  readonly constHead: boolean;
}

export interface CompiledClause {
  readonly nslots: number;
  readonly naux: number;
  /** Runs the body; the final continuation stores results in the frame. */
  readonly run: (fr: import("../eval/runtime.ts").Frame) => boolean;
  readonly loc: Loc;
}

export class RuleSet {
  readonly defs: CompiledDef[] = [];
  readonly rules: { rule: Rule; pkg: readonly string[]; file: string; keys: readonly Term[] }[] = [];
  defaultValue: Value | undefined;
  defaultLoc: Loc | undefined;
  arity = -1;
  /** RuleSets this one's bodies refer to (recursion check). */
  readonly deps = new Set<RuleSet>();
  /** Every def's head value is one constant (early exit across defs). */
  sharedConst: Value | undefined;
  /** Some def's head value is not that constant: no early exit across defs. */
  constBroken = false;

  constructor(
    readonly kind: RuleSetKind,
    readonly node: Node,
    /** Index among its compiler's rule sets (the slot of its memoized value in an evaluation context). */
    readonly id: number,
  ) {}

  get name(): string {
    return this.node.name;
  }
}

export class Node {
  readonly children = new Map<string, Node>();
  ruleSet: RuleSet | undefined;
  /** Rules are defined at or below this node. */
  hasRules = false;
  /** A package declares this path (its value is an object even with no rules). */
  isPackage = false;

  constructor(
    readonly key: string,
    readonly parent: Node | undefined,
    readonly path: readonly string[],
  ) {}

  get name(): string {
    let s = "data";
    for (const p of this.path) s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
    return s;
  }

  child(key: string): Node {
    let c = this.children.get(key);
    if (c === undefined) {
      c = new Node(key, this, [...this.path, key]);
      this.children.set(key, c);
    }
    return c;
  }

  markRules(): void {
    for (let n: Node | undefined = this; n !== undefined && !n.hasRules; n = n.parent) n.hasRules = true;
  }

  /** Every rule set at or below this node. */
  *ruleSets(): Generator<RuleSet> {
    if (this.ruleSet) yield this.ruleSet;
    for (const c of this.children.values()) yield* c.ruleSets();
  }
}
