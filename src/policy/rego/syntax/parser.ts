/**
 * The Rego (v1) parser: tokens → AST, by recursive descent. Precedence, low to
 * high, as OPA's: `=`/`:=`, `in`, comparisons, `|`, `&`, `+ -`, `* / %`, then
 * terms with ref suffixes (`.x`, `[i]`, `(args)`). Expressions in a body end at a
 * newline or `;`, so an operator or `[` that starts a new line starts a new
 * expression. Every error is a positioned RegoError (rego_parse_error).
 */
import { parseNumber } from "../number.ts";
import type { Value } from "../value.ts";
import type { Body, Expr, Import, Literal, Loc, Module, Rule, RuleElse, Term, TermOf, With } from "./ast.ts";
import { syntaxError } from "./errors.ts";
import { tokenize, type Token } from "./lexer.ts";

const KEYWORDS = new Set(["package", "import", "default", "if", "else", "contains", "some", "every", "in", "not", "with", "as"]);

const REL_OPS: Record<string, string> = { "==": "equal", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte" };
const ARITH_OPS: Record<string, string> = { "+": "plus", "-": "minus" };
const FACTOR_OPS: Record<string, string> = { "*": "mul", "/": "div", "%": "rem" };
/** Binary operators by precedence, loosest first. */
const BINARY_LEVELS: readonly Readonly<Record<string, string>>[] = [REL_OPS, { "|": "or" }, { "&": "and" }, ARITH_OPS, FACTOR_OPS];

/** Bounds recursion on nested input so fuzzed text cannot overflow the stack. */
const MAX_DEPTH = 500;

export function parseModule(src: string, file: string): Module {
  return new Parser(src, file).module();
}

/** A body as a query (`data.x.p = x; y := x[_]`). */
export function parseQuery(src: string, file = "query"): Body {
  return new Parser(src, file).query();
}

/** One term, e.g. an OPA case's input_term. */
export function parseTermText(src: string, file = "term"): Term {
  return new Parser(src, file).singleTerm();
}

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private depth = 0;
  private readonly file: string;

  constructor(src: string, file: string) {
    this.file = file;
    this.toks = tokenize(src, file);
  }

  // --- token helpers ---

  private get tok(): Token {
    return this.toks[this.i] as Token;
  }
  private atEof(): boolean {
    return this.tok.kind === "eof";
  }
  private peek(k = 1): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.tok;
    if (t.kind !== "eof") this.i++;
    return t;
  }
  private loc(t: Token = this.tok): Loc {
    return { file: this.file, line: t.line, col: t.col };
  }
  private isPunct(p: string, t: Token = this.tok): boolean {
    return t.kind === "punct" && t.text === p;
  }
  private isKw(k: string, t: Token = this.tok): boolean {
    return t.kind === "ident" && t.text === k;
  }
  private describe(t: Token): string {
    switch (t.kind) {
      case "eof":
        return "eof token";
      case "ident":
        return KEYWORDS.has(t.text) ? `${t.text} keyword` : "ident token";
      case "number":
        return "number token";
      case "string":
        return "string token";
      default:
        return `${t.text} token`;
    }
  }
  private unexpected(t: Token = this.tok, extra?: string): never {
    throw syntaxError(`unexpected ${this.describe(t)}${extra ? `: ${extra}` : ""}`, this.loc(t));
  }
  private expectPunct(p: string, what?: string): Token {
    if (!this.isPunct(p)) this.unexpected(this.tok, what ?? `expected ${p}`);
    return this.next();
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw syntaxError("nesting too deep", this.loc());
  }
  private leave(): void {
    this.depth--;
  }

  // --- module ---

  module(): Module {
    if (!this.isKw("package")) {
      if (this.tok.kind === "eof") throw syntaxError("empty module", this.loc());
      this.unexpected(this.tok, "expected package");
    }
    const pkgTok = this.next();
    const pkg = this.packagePath();
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (this.isKw("import")) imports.push(this.importDecl());
    while (this.tok.kind !== "eof") {
      if (this.isKw("import")) throw syntaxError("imports must appear before rules", this.loc());
      if (this.isKw("package")) throw syntaxError("unexpected package keyword: only one package per module", this.loc());
      rules.push(this.rule());
    }
    return { file: this.file, pkg, pkgLoc: this.loc(pkgTok), imports, rules };
  }

  private packagePath(): string[] {
    const t = this.tok;
    const term = this.refTerm();
    const parts = refStrings(term);
    if (parts === undefined || parts.length === 0) throw syntaxError("package must be a ref of names", this.loc(t));
    if (parts[0] === "data" && term.type === "ref") parts.shift();
    if (parts.length === 0) throw syntaxError("package must not be data", this.loc(t));
    return parts;
  }

  private importDecl(): Import {
    const t = this.next();
    const pathTok = this.tok;
    const path = this.refTerm();
    const parts = path.type === "var" || path.type === "ref" ? refStrings(path) : undefined;
    if (parts === undefined) throw syntaxError("import path must be a ref", this.loc(pathTok));
    const root = parts[0];
    if (root !== "data" && root !== "input" && root !== "future" && root !== "rego") {
      throw syntaxError(`unexpected import path, must begin with one of: {data, future, input, rego}, got: ${root}`, this.loc(pathTok));
    }
    let alias: string | undefined;
    if (this.isKw("as")) {
      this.next();
      if (this.tok.kind !== "ident" || KEYWORDS.has(this.tok.text)) this.unexpected(this.tok, "expected var after as");
      alias = this.next().text;
    }
    return { path: path as TermOf<"ref"> | TermOf<"var">, alias, loc: this.loc(t) };
  }

  /** A var followed by `.name` / `[term]` elements (package, import, rule heads, with targets). */
  private refTerm(): Term {
    const t = this.tok;
    if (t.kind !== "ident" || KEYWORDS.has(t.text)) this.unexpected(t, "expected ref");
    this.next();
    const head: Term = { type: "var", name: t.text, loc: this.loc(t) };
    const path: Term[] = [];
    for (;;) {
      if (this.isPunct(".") && !this.tok.nl) {
        this.next();
        const n = this.tok;
        if (n.kind !== "ident") this.unexpected(n, "expected name after .");
        this.next();
        path.push({ type: "scalar", value: n.text, loc: this.loc(n) });
      } else if (this.isPunct("[") && !this.tok.nl) {
        this.next();
        path.push(this.termIn());
        this.expectPunct("]");
      } else break;
    }
    return path.length === 0 ? head : { type: "ref", head, path, loc: head.loc };
  }

  // --- rules ---

  private rule(): Rule {
    const start = this.tok;
    const loc = this.loc(start);
    let isDefault = false;
    if (this.isKw("default")) {
      this.next();
      isDefault = true;
    }
    if (start.kind !== "ident" || (KEYWORDS.has(start.text) && !isDefault)) this.unexpected(start);
    if (this.tok.kind !== "ident" || KEYWORDS.has(this.tok.text)) this.unexpected(this.tok, "expected rule head");
    const headTerm = this.refTerm();
    const ref = headTerm.type === "ref" ? [headTerm.head, ...headTerm.path] : [headTerm];
    let args: Term[] | undefined;
    if (this.isPunct("(") && !this.tok.nl) {
      this.next();
      args = [];
      if (!this.isPunct(")")) {
        for (;;) {
          args.push(this.termIn());
          if (this.isPunct(",")) {
            this.next();
            continue;
          }
          break;
        }
      }
      this.expectPunct(")");
    }
    let kind: Rule["kind"] = args ? "function" : "complete";
    let member: Term | undefined;
    let value: Term | undefined;
    if (this.isKw("contains") && !args) {
      if (isDefault) this.unexpected(this.tok, "default rules cannot use contains");
      this.next();
      kind = "contains";
      member = this.termIn();
    } else if (this.isPunct(":=") || this.isPunct("=")) {
      this.next();
      value = this.termIn();
    }
    if (isDefault) {
      if (value === undefined) throw syntaxError("default rule must have a value (default p := <value>)", loc);
      if (this.isKw("if") || this.isPunct("{")) this.unexpected(this.tok, "default rules cannot have bodies");
      return { loc, isDefault, kind, ref, args, member, value, body: [], elses: [] };
    }
    const body = this.ruleBody();
    const elses: RuleElse[] = [];
    while (this.isKw("else")) {
      if (kind === "contains" || ref.length > 1 && kind !== "function" && !isStringPath(ref)) this.unexpected(this.tok, "else keyword cannot be used on multi-value rules");
      const et = this.next();
      let ev: Term | undefined;
      if (this.isPunct(":=") || this.isPunct("=")) {
        this.next();
        ev = this.termIn();
      }
      const eb = this.ruleBody();
      elses.push({ value: ev, body: eb ?? [], loc: this.loc(et) });
    }
    if (body === undefined && value === undefined && member === undefined && kind !== "function") {
      // A bare `p` or `p[x]` with nothing after it.
      this.unexpected(this.tok, "rule must have a value or a body");
    }
    return { loc, isDefault, kind, ref, args, member, value, body: body ?? [], elses };
  }

  /** `if { ... }`, `if <literal>`; undefined when the rule has no body. */
  private ruleBody(): Body | undefined {
    if (this.isKw("if")) {
      this.next();
      if (this.isPunct("{")) {
        // `if { ... }` is a body, unless it only parses as a term (`if {x: i | ...}`).
        const save = this.i;
        const saveDepth = this.depth;
        try {
          return this.braceBody();
        } catch (err) {
          this.i = save;
          this.depth = saveDepth;
          try {
            return [this.literal()];
          } catch {
            throw err;
          }
        }
      }
      return [this.literal()];
    }
    if (this.isPunct("{")) {
      throw syntaxError("`if` keyword is required before rule body", this.loc());
    }
    return undefined;
  }

  private braceBody(): Body {
    const open = this.expectPunct("{");
    this.enter();
    const body: Literal[] = [];
    for (;;) {
      if (this.isPunct("}")) break;
      if (this.atEof()) this.unexpected(this.tok, "expected }");
      if (body.length > 0) {
        if (this.isPunct(";")) {
          this.next();
          if (this.isPunct("}")) break;
        } else if (!this.tok.nl) this.unexpected(this.tok);
      }
      body.push(this.literal());
    }
    this.next();
    this.leave();
    if (body.length === 0) throw syntaxError("found empty body", this.loc(open));
    return body;
  }

  // --- queries and literals ---

  query(): Body {
    const body: Literal[] = [];
    while (this.tok.kind !== "eof") {
      if (body.length > 0) {
        if (this.isPunct(";")) this.next();
        else if (!this.tok.nl) this.unexpected(this.tok);
      }
      if (this.atEof()) break;
      body.push(this.literal());
    }
    if (body.length === 0) throw syntaxError("empty query", this.loc());
    return body;
  }

  singleTerm(): Term {
    const t = this.termIn();
    if (this.tok.kind !== "eof") this.unexpected(this.tok);
    return t;
  }

  private literal(): Literal {
    const t = this.tok;
    const loc = this.loc(t);
    let negated = false;
    let expr: Expr;
    if (this.isKw("some")) {
      expr = this.someDecl();
    } else if (this.isKw("every")) {
      expr = this.everyExpr();
    } else {
      if (this.isKw("not")) {
        this.next();
        negated = true;
      }
      if (negated && this.isPunct("{")) {
        expr = { type: "notbody", body: this.braceBody() };
        negated = false;
      } else {
        expr = this.expr();
      }
    }
    const withs: With[] = [];
    while (this.isKw("with")) {
      const wt = this.next();
      const target = this.refTerm();
      if (!this.isKw("as")) this.unexpected(this.tok, "expected as");
      this.next();
      const value = this.termIn();
      withs.push({ target, value, loc: this.loc(wt) });
    }
    return { expr, negated, withs, loc };
  }

  private someDecl(): Expr {
    const someTok = this.next();
    const terms: Term[] = [this.termRelation()];
    while (this.isPunct(",")) {
      this.next();
      terms.push(this.termRelation());
    }
    if (this.isKw("in") && !this.tok.nl) {
      if (terms.length > 2) throw syntaxError("unexpected in keyword: some declarations take at most two terms before in", this.loc(someTok));
      this.next();
      const domain = this.termRelation();
      return terms.length === 1
        ? { type: "somein", key: undefined, value: terms[0] as Term, domain }
        : { type: "somein", key: terms[0], value: terms[1] as Term, domain };
    }
    const vars: TermOf<"var">[] = [];
    for (const t of terms) {
      if (t.type !== "var") throw syntaxError("expected var in some declaration", t.loc);
      vars.push(t);
    }
    return { type: "some", vars };
  }

  private everyExpr(): Expr {
    this.next();
    const first = this.termRelation();
    let key: Term | undefined;
    let value = first;
    if (this.isPunct(",")) {
      this.next();
      key = first;
      value = this.termRelation();
    }
    if (!this.isKw("in")) this.unexpected(this.tok, "expected in");
    this.next();
    const domain = this.termRelation();
    if (!this.isPunct("{")) this.unexpected(this.tok, "expected {");
    const body = this.braceBody();
    return { type: "every", key, value, domain, body };
  }

  private expr(): Expr {
    const left = this.termIn();
    // `k, v in xs` as an expression: membership with key.
    if (this.isPunct(",") && !this.tok.nl) {
      this.next();
      const v = this.termRelation();
      if (!this.isKw("in")) this.unexpected(this.tok, "expected in");
      this.next();
      const domain = this.termRelation();
      const term: Term = { type: "call", fn: "internal.member_3", fnLoc: left.loc, args: [left, v, domain], loc: left.loc };
      return { type: "term", term };
    }
    if ((this.isPunct("=") || this.isPunct(":=")) && !this.tok.nl) {
      const op = this.next().text;
      const right = this.termIn();
      return op === "=" ? { type: "unify", left, right } : { type: "assign", left, right };
    }
    return { type: "term", term: left };
  }

  // --- terms by precedence ---

  private termIn(noOr = false): Term {
    let left = this.termRelation(noOr);
    while (this.isKw("in") && !this.tok.nl) {
      this.next();
      const right = this.termRelation(noOr);
      left = { type: "call", fn: "internal.member_2", fnLoc: left.loc, args: [left, right], loc: left.loc };
    }
    return left;
  }

  private termRelation(noOr = false): Term {
    return this.binary(0, noOr);
  }

  /**
   * Operators of BINARY_LEVELS[level] and every tighter level, each level
   * left-associative; an operator after a line break ends the term. With
   * noOr, `|` is not an operator (it ends a comprehension's head).
   */
  private binary(level: number, noOr: boolean): Term {
    const ops = BINARY_LEVELS[level];
    if (ops === undefined) return this.term();
    let left = this.binary(level + 1, noOr);
    for (;;) {
      const t = this.tok;
      const op = t.kind === "punct" && !t.nl && !(noOr && t.text === "|") ? ops[t.text] : undefined;
      if (op === undefined) return left;
      this.next();
      const right = this.binary(level + 1, noOr);
      left = { type: "call", fn: op, fnLoc: this.loc(t), args: [left, right], loc: left.loc };
    }
  }

  /** A primary term and its ref/call suffixes. */
  private term(): Term {
    this.enter();
    try {
      return this.suffixes(this.primary());
    } finally {
      this.leave();
    }
  }

  private primary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case "number":
        this.next();
        return { type: "scalar", value: this.number(t.text, t), loc };
      case "string":
        this.next();
        return { type: "scalar", value: t.text, loc };
      case "ident": {
        if (t.text === "true" || t.text === "false") {
          this.next();
          return { type: "scalar", value: t.text === "true", loc };
        }
        if (t.text === "null") {
          this.next();
          return { type: "scalar", value: null, loc };
        }
        if (KEYWORDS.has(t.text) && !(t.text === "contains" && this.isPunct("(", this.peek()))) this.unexpected(t);
        if (t.text === "set" && this.isPunct("(", this.peek()) && this.isPunct(")", this.peek(2))) {
          this.next();
          this.next();
          this.next();
          return { type: "set", items: [], loc };
        }
        this.next();
        return { type: "var", name: t.text, loc };
      }
      case "punct":
        break;
      default:
        this.unexpected(t);
    }
    switch (t.text) {
      case "-": {
        const n = this.peek();
        if (n.kind === "number" && n.offset === t.end) {
          this.next();
          this.next();
          return { type: "scalar", value: this.number(`-${n.text}`, n), loc };
        }
        // Unary minus on a term: 0 - x.
        this.next();
        const operand = this.term();
        return { type: "call", fn: "minus", fnLoc: loc, args: [{ type: "scalar", value: 0, loc }, operand], loc };
      }
      case "(": {
        this.next();
        this.enter();
        let inner = this.termIn();
        if (this.isPunct(",")) {
          this.next();
          const v = this.termRelation();
          if (!this.isKw("in")) this.unexpected(this.tok, "expected in");
          this.next();
          const domain = this.termRelation();
          inner = { type: "call", fn: "internal.member_3", fnLoc: inner.loc, args: [inner, v, domain], loc: inner.loc };
        }
        this.leave();
        this.expectPunct(")");
        return inner;
      }
      case "[":
        return this.arrayTerm();
      case "{":
        return this.braceTerm();
      default:
        this.unexpected(t);
    }
  }

  private number(text: string, t: Token): Value {
    const v = parseNumber(text);
    if (v === undefined) throw syntaxError("illegal number format", this.loc(t));
    return v;
  }

  private suffixes(base: Term): Term {
    let term = base;
    for (;;) {
      const t = this.tok;
      if (t.nl) return term;
      if (this.isPunct(".")) {
        if (term.type !== "var" && term.type !== "ref" && term.type !== "call") return term;
        this.next();
        const n = this.tok;
        if (n.kind !== "ident" || n.offset !== t.end) this.unexpected(n, "expected name after .");
        this.next();
        term = appendRef(term, { type: "scalar", value: n.text, loc: this.loc(n) });
      } else if (this.isPunct("[")) {
        if (term.type === "scalar") return term;
        this.next();
        this.enter();
        const idx = this.termIn();
        this.leave();
        this.expectPunct("]");
        term = appendRef(term, idx);
      } else if (this.isPunct("(") && (term.type === "var" || term.type === "ref")) {
        const name = callName(term);
        if (name === undefined) this.unexpected(t, "invalid function name");
        this.next();
        this.enter();
        const args: Term[] = [];
        if (!this.isPunct(")")) {
          for (;;) {
            args.push(this.termIn());
            if (this.isPunct(",")) {
              this.next();
              if (this.isPunct(")")) break;
              continue;
            }
            break;
          }
        }
        this.leave();
        this.expectPunct(")");
        term = { type: "call", fn: name, fnLoc: term.loc, args, loc: term.loc };
      } else return term;
    }
  }

  private arrayTerm(): Term {
    const open = this.next();
    const loc = this.loc(open);
    this.enter();
    try {
      if (this.isPunct("]")) {
        this.next();
        return { type: "array", items: [], loc };
      }
      const first = this.termIn(true);
      if (this.isPunct("|")) {
        this.next();
        const body = this.compBody("]");
        return { type: "arraycomp", term: first, body, loc };
      }
      const items = [first, ...this.restItems("]")];
      return { type: "array", items, loc };
    } finally {
      this.leave();
    }
  }

  /** After the first item: `, item`* then the closing bracket (a trailing comma allowed). */
  private restItems(close: string): Term[] {
    const items: Term[] = [];
    while (this.isPunct(",")) {
      this.next();
      if (this.isPunct(close)) break;
      items.push(this.termIn());
    }
    this.expectPunct(close);
    return items;
  }

  private compBody(close: string): Body {
    const body: Literal[] = [];
    for (;;) {
      if (this.isPunct(close)) break;
      if (this.atEof()) this.unexpected(this.tok, `expected ${close}`);
      if (body.length > 0) {
        if (this.isPunct(";")) this.next();
        else if (!this.tok.nl) this.unexpected(this.tok);
      }
      body.push(this.literal());
    }
    this.next();
    if (body.length === 0) this.unexpected(this.tok, "empty comprehension body");
    return body;
  }

  private braceTerm(): Term {
    const open = this.next();
    const loc = this.loc(open);
    this.enter();
    try {
      if (this.isPunct("}")) {
        this.next();
        return { type: "object", entries: [], loc };
      }
      const first = this.termIn(true);
      if (this.isPunct(":")) {
        this.next();
        const v = this.termIn(true);
        if (this.isPunct("|")) {
          this.next();
          const body = this.compBody("}");
          return { type: "objectcomp", key: first, value: v, body, loc };
        }
        const entries: (readonly [Term, Term])[] = [[first, v]];
        while (this.isPunct(",")) {
          this.next();
          if (this.isPunct("}")) break;
          const k = this.termIn();
          this.expectPunct(":");
          entries.push([k, this.termIn()]);
        }
        this.expectPunct("}");
        return { type: "object", entries, loc };
      }
      if (this.isPunct("|")) {
        this.next();
        const body = this.compBody("}");
        return { type: "setcomp", term: first, body, loc };
      }
      return { type: "set", items: [first, ...this.restItems("}")], loc };
    } finally {
      this.leave();
    }
  }
}

function appendRef(term: Term, el: Term): Term {
  if (term.type === "ref") return { type: "ref", head: term.head, path: [...term.path, el], loc: term.loc };
  return { type: "ref", head: term, path: [el], loc: term.loc };
}

/** The dotted name of a function ref (`io.jwt.decode`, `data.x.f`), or undefined when it is not one. */
export function callName(term: Term): string | undefined {
  const parts = refStrings(term);
  return parts?.join(".");
}

/** A var or a ref whose path elements are all strings, as names; otherwise undefined. */
export function refStrings(term: Term): string[] | undefined {
  if (term.type === "var") return [term.name];
  if (term.type !== "ref" || term.head.type !== "var") return undefined;
  const out = [term.head.name];
  for (const p of term.path) {
    if (p.type !== "scalar" || typeof p.value !== "string") return undefined;
    out.push(p.value);
  }
  return out;
}

function isStringPath(ref: readonly Term[]): boolean {
  for (let i = 1; i < ref.length; i++) {
    const p = ref[i] as Term;
    if (p.type !== "scalar" || typeof p.value !== "string") return false;
  }
  return true;
}
