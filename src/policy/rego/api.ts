/**
 * The Rego engine's public API: compile modules once (Rego.compile), then
 * evaluate refs, prepared queries or ad hoc queries synchronously, each
 * evaluation with its own step and time budget. See README.md.
 */
import { BuiltinCache } from "./builtins/types.ts";
import { Compiler, type CompiledQuery, type RuleInfo } from "./compile/compiler.ts";
import { Budget as BudgetMeter, Ctx, DEFAULT_STEPS, DEFAULT_TIME_MS, Frame, type Shared } from "./eval/runtime.ts";
import type { Module } from "./syntax/ast.ts";
import { budgetError, evalError, RegoError, type RegoErrorDetail } from "./syntax/errors.ts";
import { parseModule, parseQuery, parseTermText } from "./syntax/parser.ts";
import { fromJSON, RegoObject, toJSON, type Value } from "./value.ts";

export { RegoError, type RegoErrorDetail };

export interface Budget {
  steps?: number;
  timeMs?: number;
}
export interface CompileOptions {
  modules: Record<string, string>;
  data?: unknown;
  strict?: boolean;
  budget?: Budget;
}
export interface EvalOptions {
  input?: unknown;
  strict?: boolean;
  budget?: Budget;
  print?: (line: string) => void;
  nowNs?: bigint;
}
export type Bindings = Record<string, Value>;

export interface PreparedQuery {
  evaluate(options?: EvalOptions): unknown;
  evaluateValue(options?: EvalOptions): Value | undefined;
}

const DISCARD = (_line: string): void => {};

export class Rego {
  /** Parses and compiles; rejects with RegoError (all errors found, each positioned). */
  static compile(options: CompileOptions): Promise<Policy> {
    try {
      return Promise.resolve(Rego.compileSync(options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The same, synchronously. */
  static compileSync(options: CompileOptions): Policy {
    const modules: Module[] = [];
    const errors: RegoError[] = [];
    for (const [file, src] of Object.entries(options.modules)) {
      try {
        modules.push(parseModule(src, file));
      } catch (e) {
        if (e instanceof RegoError) errors.push(e);
        else throw e;
      }
    }
    if (errors.length > 0) throw RegoError.combine(errors);
    const compiler = new Compiler(modules);
    compiler.compile();
    let data: Value;
    try {
      data = options.data === undefined ? new RegoObject() : fromJSON(options.data);
    } catch (e) {
      throw evalError("rego_compile_error", `data is not a JSON document: ${(e as Error).message}`);
    }
    return new Policy(compiler, data, { strict: options.strict ?? false, budget: options.budget ?? {} });
  }

  /** Parses a Rego term such as '{"a": {1, 2}}' into a value; RegoError on bad syntax. */
  static parseTerm(text: string): Value {
    const term = parseTermText(text, "term");
    const compiler = new Compiler([]);
    const c = compiler.term(term);
    const shared: Shared = { strict: false, nowNs: 0n, print: DISCARD, cache: new Map(), evalMemo: undefined, budget: new BudgetMeter(DEFAULT_STEPS, DEFAULT_TIME_MS) };
    const ctx = new Ctx(shared, undefined, new RegoObject(), undefined, undefined);
    const v = c.f(new Frame(c.nslots, c.naux, ctx, []));
    if (v === undefined) throw evalError("rego_type_error", `term is not a value: ${text}`);
    return v;
  }
}

interface Defaults {
  readonly strict: boolean;
  readonly budget: Budget;
}

export class Policy {
  private readonly queries = new Map<string, CompiledQuery>();
  private readonly prepared = new Map<string, PreparedQuery>();
  /** Per-policy cache for built-ins (compiled regexes, parsed keys). */
  private readonly builtinCache = new BuiltinCache();

  /** @internal use Rego.compile */
  constructor(
    private readonly compiler: Compiler,
    private readonly data: Value,
    private readonly defaults: Defaults,
  ) {}

  evaluate(ref: string, options?: EvalOptions): unknown {
    return this.prepare(ref).evaluate(options);
  }

  prepare(ref: string): PreparedQuery {
    let p = this.prepared.get(ref);
    if (p !== undefined) return p;
    const term = parseTermText(ref, "query");
    const c = this.compiler.term(term);
    const evaluateValue = (options?: EvalOptions): Value | undefined =>
      this.run(options, (ctx) => c.f(new Frame(c.nslots, c.naux, ctx, [])));
    p = {
      evaluateValue,
      evaluate: (options?: EvalOptions) => {
        const v = evaluateValue(options);
        if (v === undefined) return undefined;
        try {
          return toJSON(v);
        } catch (e) {
          if (e instanceof RangeError) throw budgetError("policy decision nested too deeply to convert (the stack ran out)");
          throw e;
        }
      },
    };
    this.prepared.set(ref, p);
    return p;
  }

  query(text: string, options?: EvalOptions): Bindings[] {
    let q = this.queries.get(text);
    if (q === undefined) {
      q = this.compiler.query(parseQuery(text, "query"));
      this.queries.set(text, q);
    }
    const cq = q;
    return this.run(options, (ctx) => {
      const fr = new Frame(cq.nslots, cq.naux, ctx, []);
      const out: Bindings[] = [];
      fr.res = out;
      cq.run(fr);
      return out;
    });
  }

  withData(patch: unknown): Policy {
    const merged = mergePatch(this.data, fromJSON(patch));
    return new Policy(this.compiler, merged, this.defaults);
  }

  rules(): readonly RuleInfo[] {
    return this.compiler.rules;
  }

  private run<T>(options: EvalOptions | undefined, fn: (ctx: Ctx) => T): T {
    const budget = options?.budget ?? this.defaults.budget;
    const meter = new BudgetMeter(budget.steps ?? this.defaults.budget.steps ?? DEFAULT_STEPS, budget.timeMs ?? this.defaults.budget.timeMs ?? DEFAULT_TIME_MS);
    const shared: Shared = {
      strict: options?.strict ?? this.defaults.strict,
      nowNs: options?.nowNs ?? BigInt(Date.now()) * 1_000_000n,
      print: options?.print ?? DISCARD,
      cache: this.builtinCache,
      evalMemo: undefined,
      budget: meter,
    };
    try {
      let input: Value | undefined;
      if (options?.input !== undefined) {
        try {
          input = fromJSON(options.input);
        } catch (e) {
          if (e instanceof RangeError) throw e;
          throw evalError("eval_type_error", `input is not a JSON document: ${(e as Error).message}`);
        }
      }
      return fn(new Ctx(shared, input, this.data, undefined, undefined));
    } catch (e) {
      if (e instanceof RegoError) throw e;
      // Values nested deeper than the JS stack allows (a hostile input): a budget error, never a crash.
      if (e instanceof RangeError) throw budgetError("policy evaluation nested too deeply (the stack ran out)");
      throw evalError("eval_internal_error", `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** RFC 7386 JSON merge patch over Rego values (null deletes a key). */
function mergePatch(target: Value | undefined, patch: Value): Value {
  if (!(patch instanceof RegoObject)) return patch;
  const base = target instanceof RegoObject ? target : new RegoObject();
  const out = new RegoObject();
  for (const [k, v] of base.entries()) if (!patch.has(k)) out.set(k, v);
  for (const [k, p] of patch.entries()) if (p !== null) out.set(k, mergePatch(base.get(k), p));
  return out;
}
