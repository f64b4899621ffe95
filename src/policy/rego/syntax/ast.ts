/**
 * The Rego AST produced by the parser and consumed by the compiler. Every node
 * carries its position so compile and evaluation errors can name file:line.
 * Operators are already calls here (`a + b` is a call of `plus`), as in OPA.
 */
import type { Value } from "../value.ts";

export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type Term =
  | { readonly type: "scalar"; readonly value: Value; readonly loc: Loc }
  | { readonly type: "var"; readonly name: string; readonly loc: Loc }
  /** head followed by path elements; `.name` is a string scalar element. */
  | { readonly type: "ref"; readonly head: Term; readonly path: readonly Term[]; readonly loc: Loc }
  | { readonly type: "array"; readonly items: readonly Term[]; readonly loc: Loc }
  | { readonly type: "set"; readonly items: readonly Term[]; readonly loc: Loc }
  | { readonly type: "object"; readonly entries: readonly (readonly [Term, Term])[]; readonly loc: Loc }
  | { readonly type: "arraycomp"; readonly term: Term; readonly body: Body; readonly loc: Loc }
  | { readonly type: "setcomp"; readonly term: Term; readonly body: Body; readonly loc: Loc }
  | { readonly type: "objectcomp"; readonly key: Term; readonly value: Term; readonly body: Body; readonly loc: Loc }
  /** A call: `fn` is the dotted name ("count", "data.x.f", "io.jwt.decode", "plus" for `+`). */
  | { readonly type: "call"; readonly fn: string; readonly fnLoc: Loc; readonly args: readonly Term[]; readonly loc: Loc };

export type TermOf<T extends Term["type"]> = Extract<Term, { type: T }>;

export interface With {
  readonly target: Term;
  readonly value: Term;
  readonly loc: Loc;
}

export type Expr =
  | { readonly type: "term"; readonly term: Term }
  | { readonly type: "unify"; readonly left: Term; readonly right: Term }
  | { readonly type: "assign"; readonly left: Term; readonly right: Term }
  | { readonly type: "some"; readonly vars: readonly TermOf<"var">[] }
  | { readonly type: "somein"; readonly key: Term | undefined; readonly value: Term; readonly domain: Term }
  | { readonly type: "every"; readonly key: Term | undefined; readonly value: Term; readonly domain: Term; readonly body: Body }
  /** `not { a; b }` (rego.v2 / future.keywords.not): true when the body has no solution. */
  | { readonly type: "notbody"; readonly body: Body };

export interface Literal {
  readonly expr: Expr;
  readonly negated: boolean;
  readonly withs: readonly With[];
  readonly loc: Loc;
}

export type Body = readonly Literal[];

export type RuleKind = "complete" | "contains" | "function";

export interface RuleElse {
  readonly value: Term | undefined;
  readonly body: Body;
  readonly loc: Loc;
}

export interface Rule {
  readonly loc: Loc;
  readonly isDefault: boolean;
  readonly kind: RuleKind;
  /** The head's ref: first a var (the rule's name), then path elements. */
  readonly ref: readonly Term[];
  /** Function parameters. */
  readonly args: readonly Term[] | undefined;
  /** `contains` member. */
  readonly member: Term | undefined;
  /** Value (complete rules, functions); undefined means `true`. */
  readonly value: Term | undefined;
  readonly body: Body;
  readonly elses: readonly RuleElse[];
}

export interface Import {
  readonly path: TermOf<"ref"> | TermOf<"var">;
  readonly alias: string | undefined;
  readonly loc: Loc;
}

export interface Module {
  readonly file: string;
  /** The package path below data, e.g. ["authz", "rbac"]. */
  readonly pkg: readonly string[];
  readonly pkgLoc: Loc;
  readonly imports: readonly Import[];
  readonly rules: readonly Rule[];
}
