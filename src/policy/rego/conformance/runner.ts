/**
 * Runs OPA's conformance cases against an engine and counts the outcome per
 * case, per folder and in total. Used by the unit test that keeps the engine
 * honest (test/unit/policy/conformance.test.ts), by `ficus policy conformance`
 * and by scripts/conformance-known.ts.
 *
 * Each case is compiled and run on its own, as OPA's harness does: modules
 * named test-0.rego, test-1.rego, …, the case's data as the base document,
 * input (or input_term parsed as a Rego term), strict built-in errors when
 * the case asks. Every evaluation runs under the engine's default budget, so
 * a case that loops is stopped and failed rather than stalling the run; any
 * exception is caught and becomes that case's failure.
 *
 * The engine is a parameter (ConformanceEngine) so the runner's own logic can
 * be tested without the interpreter; realEngine() adapts src/policy/rego/api.ts.
 */
import { type ConformanceCase, folderOf, loadCases } from "./cases.ts";
import { judge, type Outcome } from "./compare.ts";
import type { Value } from "../value.ts";

/** What the runner needs of a Rego engine. */
export interface ConformanceEngine {
  compile(options: { modules: Record<string, string>; data?: Value }): Promise<CompiledCase>;
  /** A Rego term's text as a value (input_term); throws on bad syntax. */
  parseTerm(text: string): Value;
  /** OPA's code and message when `err` is the language's error (parse, compile, eval); undefined for any other exception (a bug, a budget stop). */
  describeError(err: unknown): { code: string; message: string } | undefined;
}

export interface CompiledCase {
  query(text: string, options: { input?: Value; strict: boolean }): readonly Readonly<Record<string, Value>>[];
}

export interface CaseResult {
  readonly file: string;
  /** The case's note (made unique within its file, see ConformanceCase.id). */
  readonly note: string;
  readonly passed: boolean;
  readonly reason: string;
}

export interface FolderCount {
  readonly folder: string;
  readonly passed: number;
  readonly failed: number;
}

export interface ConformanceReport {
  readonly results: readonly CaseResult[];
  readonly folders: readonly FolderCount[];
  readonly passed: number;
  readonly failed: number;
  readonly total: number;
}

export interface RunOptions {
  /** Defaults to the real engine (src/policy/rego/api.ts). */
  readonly engine?: ConformanceEngine;
  /** Called after each case (progress output). */
  readonly onResult?: (r: CaseResult) => void;
}

/**
 * Engine errors that are not a language outcome: the engine wraps an exception
 * of its own (a bug) as eval_internal_error, and a budget stop is Ficus's, not
 * OPA's. Neither may satisfy a case that expects "some error".
 */
const NOT_AN_OUTCOME = new Set(["eval_internal_error", "eval_budget_error"]);

/** The engine in src/policy/rego/api.ts, loaded on first use. */
export async function realEngine(): Promise<ConformanceEngine> {
  const { Rego, RegoError } = await import("../api.ts");
  return {
    async compile(options) {
      const policy = await Rego.compile(options);
      return { query: (text, o) => policy.query(text, o) };
    },
    parseTerm: (text) => Rego.parseTerm(text),
    describeError: (err) => (err instanceof RegoError && !NOT_AN_OUTCOME.has(err.regoCode) ? { code: err.regoCode, message: err.message } : undefined),
  };
}

/** Runs every case found under each root (recursively). */
export async function runConformance(roots: readonly string[], options: RunOptions = {}): Promise<ConformanceReport> {
  const engine = options.engine ?? (await realEngine());
  const results: CaseResult[] = [];
  const record = (r: CaseResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  for (const root of roots) {
    const { cases, errors } = loadCases(root);
    for (const e of errors) record({ file: e.file, note: "(file)", passed: false, reason: `cannot load: ${e.message}` });
    for (const c of cases) record(await runCase(c, engine));
  }
  return summarize(results);
}

/** Runs one case; never throws. */
export async function runCase(c: ConformanceCase, engine: ConformanceEngine): Promise<CaseResult> {
  const outcome = await withEnv(c.env, () => outcomeOf(c, engine));
  const v = judge(c, outcome);
  return { file: c.file, note: c.id, passed: v.passed, reason: v.reason };
}

async function outcomeOf(c: ConformanceCase, engine: ConformanceEngine): Promise<Outcome> {
  let input: Value | undefined = c.input;
  if (c.inputTerm !== undefined) {
    try {
      input = engine.parseTerm(c.inputTerm);
    } catch (err) {
      return { kind: "crash", message: `input_term does not parse: ${messageOf(err)}` };
    }
  }
  const modules: Record<string, string> = {};
  c.modules.forEach((m, i) => {
    modules[`test-${i}.rego`] = m;
  });
  try {
    const policy = await engine.compile({ modules, ...(c.data !== undefined ? { data: c.data } : {}) });
    const results = policy.query(c.query, { ...(input !== undefined ? { input } : {}), strict: c.strictError });
    return { kind: "results", results };
  } catch (err) {
    const e = engine.describeError(err);
    if (e !== undefined) return { kind: "error", ...e };
    return { kind: "crash", message: messageOf(err) };
  }
}

async function withEnv<T>(env: Readonly<Record<string, string>> | undefined, run: () => Promise<T>): Promise<T> {
  if (env === undefined) return run();
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`;
  return String(err);
}

/** Per-folder and total counts of a list of results. */
export function summarize(results: readonly CaseResult[]): ConformanceReport {
  const byFolder = new Map<string, { passed: number; failed: number }>();
  let passed = 0;
  for (const r of results) {
    const f = folderOf(r.file);
    const count = byFolder.get(f) ?? { passed: 0, failed: 0 };
    if (r.passed) count.passed++;
    else count.failed++;
    byFolder.set(f, count);
    if (r.passed) passed++;
  }
  const folders = [...byFolder].map(([folder, n]) => ({ folder, ...n })).sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
  return { results, folders, passed, failed: results.length - passed, total: results.length };
}
