/**
 * `ficus policy eval|test|check|conformance`: the embedded Rego engine from
 * the command line, shaped like `opa eval`, `opa test` and `opa check` so a
 * user who knows OPA can use it unchanged (differences in docs/policy.md).
 *
 * Files are loaded as OPA's loader does: `.rego` files are modules (named by
 * their path, which is what error messages show), `.json`/`.yaml`/`.yml`
 * files are data, placed under `data` at their directory's path relative to
 * the -d root (a data.json at the root merges at the top). JSON numbers are
 * read exactly (no rounding past 2^53).
 *
 * Exit codes: 0 success (also an undefined eval result), 1 a failing test or
 * case, or an engine error (syntax, compile, eval, budget), 2 a usage error
 * (missing file, malformed data file, bad flag).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { FicusError } from "../../core/errors.ts";
import { compileUserRegex, UserRegexError } from "../../core/regex.ts";
import { type Policy, Rego, RegoError, type RegoErrorDetail } from "../../policy/rego/api.ts";
import { type CaseResult, runConformance } from "../../policy/rego/conformance/index.ts";
import { numberText, parseNumber } from "../../policy/rego/number.ts";
import { fromJSON, isNumber, RegoObject, RegoSet, toJSONText, type Value } from "../../policy/rego/value.ts";
import { reportError, safeJson, safeText } from "../output.ts";
import { isPlainObject, mergeDataDocuments } from "../../policy/data-files.ts";

// --- loading files ------------------------------------------------------------

/** Modules and data found under the paths given on the command line. */
export interface PolicyFiles {
  readonly modules: Record<string, string>;
  /** The merged base document (plain JS, numbers exact). */
  readonly data: Record<string, unknown>;
}

const DATA_EXT = new Set([".json", ".yaml", ".yml"]);

/** A file found under a path given: where it is, and its directory's segments relative to that path. */
interface Found {
  readonly file: string;
  readonly dirs: readonly string[];
}

/** Every file under `path` (the path itself when it is a file), sorted. */
function walk(path: string): Found[] {
  const st = statSafe(path);
  if (st === undefined) throw new FicusError("FICUS_USAGE", `no such file or directory: ${path}`);
  if (!st.isDirectory()) return [{ file: path, dirs: [] }];
  return (readdirSync(path, { recursive: true, encoding: "utf8" }) as string[])
    .sort()
    .filter((rel) => statSafe(join(path, rel))?.isFile() === true)
    .map((rel) => ({ file: join(path, rel), dirs: dirname(rel).split(sep).filter((s) => s !== "" && s !== ".") }));
}

/** Loads modules (and, unless `modulesOnly`, data files) from files and directories. */
export function loadPolicyFiles(paths: readonly string[], options: { modulesOnly?: boolean } = {}): PolicyFiles {
  const modules: Record<string, string> = {};
  const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const loaded = new Set<string>();
  for (const root of paths) {
    for (const { file, dirs } of walk(root)) {
      const ext = extname(file).toLowerCase();
      if (ext === ".rego") modules[file] = readText(file);
      else if (DATA_EXT.has(ext) && !options.modulesOnly && !loaded.has(resolve(file))) {
        loaded.add(resolve(file));
        const doc = readDataFile(file);
        // An empty YAML file holds no document: nothing to place.
        if (doc === null || doc === undefined) continue;
        // A file's place under data is its directory relative to the path given (OPA's loader).
        mergeAt(data, dirs, doc, file);
      }
    }
  }
  return { modules, data };
}

function statSafe(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new FicusError("FICUS_USAGE", `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** A JSON or YAML document; JSON numbers exactly as written. */
export function readDataFile(path: string): unknown {
  const text = readText(path);
  try {
    if (extname(path).toLowerCase() === ".json") return parseJsonExact(text);
    return parseYaml(text, { intAsBigInt: true }) as unknown;
  } catch (err) {
    throw new FicusError("FICUS_USAGE", `${path}: not valid ${extname(path).slice(1).toUpperCase()}: ${(err as Error).message}`);
  }
}

/** JSON.parse, numbers as Rego numbers read from their source text (no rounding to doubles). */
function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) => {
    if (typeof value === "number" && context?.source !== undefined) return parseNumber(context.source) ?? value;
    return value;
  });
}

/** A JSON object (not an array, and not a number object such as a BigNum). */

/** Merges `doc` into `into` at `prefix`: objects merge key by key, anything else must not collide. */
function mergeAt(into: Record<string, unknown>, prefix: readonly string[], doc: unknown, file: string): void {
  if (prefix.length === 0 && !isPlainObject(doc)) throw new FicusError("FICUS_USAGE", `${file}: a data file at the root must hold an object`);
  let wrapped = doc;
  for (const key of [...prefix].reverse()) wrapped = Object.assign(Object.create(null) as Record<string, unknown>, { [key]: wrapped });
  mergeDataDocuments(into, wrapped as Record<string, unknown>, (path) => new FicusError("FICUS_USAGE", `${file}: data at data.${path.join(".")} conflicts with another file`));
}


/** The input document from a file (-i), as a Rego value. */
function readInput(path: string): Value {
  return toValue(readDataFile(path), path);
}

function toValue(x: unknown, file: string): Value {
  try {
    return fromJSON(x);
  } catch (err) {
    throw new FicusError("FICUS_USAGE", `${file}: ${(err as Error).message}`);
  }
}

async function compilePolicy(files: PolicyFiles, strict: boolean): Promise<Policy> {
  return Rego.compile({ modules: files.modules, data: toValue(files.data, "data"), strict });
}

// --- reporting engine errors ------------------------------------------------

/** Every error a RegoError carries (`errors` holds the first one too). */
function errorDetails(err: RegoError): readonly RegoErrorDetail[] {
  return err.errors.length > 0 ? err.errors : [err.detail()];
}

/** `file:line:col: code: text`, as editors and `opa check` show errors (the column when the engine knows it). */
export function formatErrorLine(e: RegoErrorDetail): string {
  if (e.file === undefined || e.line === undefined) return e.message;
  return `${e.file}:${e.line}${e.col !== undefined ? `:${e.col}` : ""}: ${e.regoCode}: ${e.text}`;
}

/** Prints an error the CLI way; engine errors with every location, one per line. Returns the exit code. */
function reportPolicyError(err: unknown): number {
  if (!(err instanceof RegoError)) return reportError(err);
  const details = errorDetails(err);
  if (details.length === 1) {
    process.stderr.write(`ficus: ${err.code}: ${safeText(formatErrorLine(details[0] as RegoErrorDetail), true)}\n`);
  } else {
    process.stderr.write(`ficus: ${err.code}: ${details.length} errors:\n${details.map((d) => safeText(formatErrorLine(d))).join("\n")}\n`);
  }
  return 1;
}

// --- eval -----------------------------------------------------------------------

export interface EvalCliOptions {
  data?: string[];
  input?: string;
  strict?: boolean;
  strictBuiltinErrors?: boolean;
  format?: string;
}

/** The variable the CLI binds a single-expression query's value to (never shown). */
const VALUE_VAR = "ficus_expression_value__";
/** A ref such as `data.a.b[0]["x"][i]`, up to an optional call's opening parenthesis. */
const REF_PREFIX = /^(?:data|input)(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^[\]"]*\]|\["(?:[^"\\]|\\.)*"\])*/;

/**
 * True when the query is one ref, or one call of a ref (`data.p.f(1, "a")`):
 * a single expression whose value OPA shows. The call's parentheses must
 * close at the very end (strings skipped), so `data.f(1) == data.g(2)` is not one.
 */
export function isSingleTerm(query: string): boolean {
  const q = query.trim();
  const m = REF_PREFIX.exec(q);
  if (m === null) return false;
  const rest = q.slice(m[0].length);
  if (rest === "") return true;
  if (!rest.startsWith("(")) return false;
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '"') {
      for (i++; i < rest.length && rest[i] !== '"'; i++) if (rest[i] === "\\") i++;
    } else if (c === "`") {
      i = rest.indexOf("`", i + 1);
      if (i < 0) return false;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i === rest.length - 1;
    }
  }
  return false;
}

interface EvalSolution {
  readonly value: Value;
  readonly bindings: Readonly<Record<string, Value>>;
}

export async function policyEvalCommand(query: string, o: EvalCliOptions): Promise<number> {
  try {
    const format = o.format ?? "json";
    if (format !== "json" && format !== "pretty") throw new FicusError("FICUS_USAGE", `--format must be json or pretty, not ${format}`);
    const files = loadPolicyFiles(o.data ?? []);
    const input = o.input !== undefined ? readInput(o.input) : undefined;
    const strict = o.strict === true || o.strictBuiltinErrors === true;
    const policy = await compilePolicy(files, strict);
    const solutions = evalQuery(policy, query, { ...(input !== undefined ? { input } : {}), strict });
    process.stdout.write(format === "json" ? jsonOutput(query, solutions) : prettyOutput(solutions));
    return 0;
  } catch (err) {
    return reportPolicyError(err);
  }
}

/**
 * Every solution of the query with the value OPA would show for it: a single
 * ref or call is bound to a variable so its value can be printed; any other
 * query (assignments, comparisons, several expressions) shows `true` for a
 * solution, as OPA does for such expressions.
 */
function evalQuery(policy: Policy, query: string, options: { input?: Value; strict: boolean }): EvalSolution[] {
  if (isSingleTerm(query)) {
    try {
      return policy.query(`${VALUE_VAR} = ${query.trim()}`, options).map((b) => {
        const { [VALUE_VAR]: value, ...bindings } = b;
        return { value: value ?? true, bindings };
      });
    } catch (err) {
      // Not one term after all: the query as written (with its own error, if any).
      if (!(err instanceof RegoError && err.regoCode === "rego_parse_error")) throw err;
    }
  }
  return policy.query(query, options).map((bindings) => ({ value: true, bindings }));
}

/** Plain JSON data for output, numbers with every digit (JSON.rawJSON), sets as arrays. */
function outputJSON(v: Value): unknown {
  if (isNumber(v)) return rawJSON(numberText(v));
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(outputJSON);
  if (v instanceof RegoSet) return v.values().map(outputJSON);
  // defineProperty: a "__proto__" key is data like any other.
  const out: Record<string, unknown> = {};
  for (const [k, val] of (v as RegoObject).entries()) Object.defineProperty(out, typeof k === "string" ? k : toJSONText(k), { value: outputJSON(val), enumerable: true, writable: true, configurable: true });
  return out;
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

function jsonOutput(query: string, solutions: readonly EvalSolution[]): string {
  // Undefined: OPA prints an empty object.
  if (solutions.length === 0) return "{}\n";
  const result = solutions.map((s) => {
    const entry: Record<string, unknown> = { expressions: [{ value: outputJSON(s.value), text: query, location: { row: 1, col: 1 } }] };
    if (Object.keys(s.bindings).length > 0) entry.bindings = outputJSON(RegoObject.fromEntries(Object.entries(s.bindings)));
    return entry;
  });
  return `${safeJson({ result })}\n`;
}

function prettyOutput(solutions: readonly EvalSolution[]): string {
  if (solutions.length === 0) return "undefined\n";
  const names = [...new Set(solutions.flatMap((s) => Object.keys(s.bindings)))].sort();
  if (names.length === 0) return solutions.map((s) => `${safeJson(outputJSON(s.value))}\n`).join("");
  // Bindings as a table, like `opa eval --format pretty`.
  const cells = solutions.map((s) => names.map((n) => (s.bindings[n] === undefined ? "" : JSON.stringify(outputJSON(s.bindings[n] as Value)))));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((row) => (row[i] as string).length)));
  const rule = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const row = (values: readonly string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] as number)).join(" | ")} |`;
  return `${[rule, row(names), rule, ...cells.map(row), rule].map((l) => safeText(l)).join("\n")}\n`;
}

// --- test -----------------------------------------------------------------------

export interface TestCliOptions {
  verbose?: boolean;
  run?: string;
}

type TestStatus = "PASS" | "FAIL" | "ERROR" | "SKIPPED";

interface TestResult {
  readonly name: string;
  readonly file: string;
  readonly status: TestStatus;
  readonly ms: number;
  readonly output: readonly string[];
  readonly error?: string;
}

/** Each test has OPA's default `opa test --timeout` (5 s), not the gateway's per-decision budget. */
const TEST_BUDGET = { timeMs: 5000, steps: 100_000_000 };
const RULE_LINE = "-".repeat(80);

export async function policyTestCommand(paths: readonly string[], o: TestCliOptions): Promise<number> {
  try {
    const filter = o.run !== undefined ? compileFilter(o.run) : undefined;
    const files = loadPolicyFiles(paths);
    const policy = await compilePolicy(files, false);
    const tests = testRules(policy).filter((t) => filter === undefined || filter(t.ref));
    if (tests.length === 0) {
      process.stderr.write(`ficus: FICUS_USAGE: no tests found (rules named test_*)${o.run !== undefined ? ` matching ${safeText(o.run)}` : ""}\n`);
      return 1;
    }
    const results = tests.map((t) => runTest(policy, t));
    process.stdout.write(testReport(results, o.verbose === true));
    return results.some((r) => r.status === "FAIL" || r.status === "ERROR") ? 1 : 0;
  } catch (err) {
    return reportPolicyError(err);
  }
}

function compileFilter(pattern: string): (name: string) => boolean {
  try {
    const re = compileUserRegex(pattern);
    return (name) => re.test(name);
  } catch (err) {
    if (err instanceof UserRegexError) throw new FicusError("FICUS_USAGE", `--run: ${err.message}`);
    throw err;
  }
}

/** Rules named test_* (and todo_test_*, skipped), once each, in file and line order. */
function testRules(policy: Policy): { ref: string; file: string; line: number; skip: boolean }[] {
  const seen = new Set<string>();
  const out: { ref: string; file: string; line: number; skip: boolean }[] = [];
  for (const r of policy.rules()) {
    const name = r.ref.slice(r.ref.lastIndexOf(".") + 1);
    const skip = name.startsWith("todo_test_");
    if ((!name.startsWith("test_") && !skip) || seen.has(r.ref)) continue;
    seen.add(r.ref);
    out.push({ ...r, skip });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

function runTest(policy: Policy, t: { ref: string; file: string; skip: boolean }): TestResult {
  if (t.skip) return { name: t.ref, file: t.file, status: "SKIPPED", ms: 0, output: [] };
  const output: string[] = [];
  const started = performance.now();
  try {
    const value = policy.evaluate(t.ref, { budget: TEST_BUDGET, print: (line) => output.push(line) });
    return { name: t.ref, file: t.file, status: value === true ? "PASS" : "FAIL", ms: performance.now() - started, output };
  } catch (err) {
    const error = err instanceof RegoError ? errorDetails(err).map(formatErrorLine).join("\n") : err instanceof Error ? err.message : String(err);
    return { name: t.ref, file: t.file, status: "ERROR", ms: performance.now() - started, output, error };
  }
}

/** A duration as Go prints one (`355.4µs`, `1.234ms`, `1.5s`). */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${trimZeros((ms * 1000).toFixed(1))}µs`;
  if (ms < 1000) return `${trimZeros(ms.toFixed(3))}ms`;
  return `${trimZeros((ms / 1000).toFixed(3))}s`;
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

function testReport(results: readonly TestResult[], verbose: boolean): string {
  const lines: string[] = [];
  const line = (r: TestResult) => `${r.name}: ${r.status}${r.status === "SKIPPED" ? "" : ` (${formatDuration(r.ms)})`}`;
  const details = (r: TestResult) => {
    if (r.error !== undefined) for (const l of r.error.split("\n")) lines.push(`  ${l}`);
    if (r.output.length > 0) lines.push("", ...r.output.map((l) => `  ${l}`), "");
  };
  if (verbose) {
    let file: string | undefined;
    for (const r of results) {
      if (r.file !== file) {
        if (file !== undefined && lines[lines.length - 1] !== "") lines.push("");
        file = r.file;
        lines.push(`${r.file}:`);
      }
      lines.push(line(r));
      details(r);
    }
  } else {
    const failed = results.filter((r) => r.status === "FAIL" || r.status === "ERROR");
    for (const r of failed) {
      lines.push(line(r));
      details(r);
    }
  }
  if (verbose || results.some((r) => r.status !== "PASS")) lines.push(RULE_LINE);
  const total = results.length;
  for (const status of ["PASS", "FAIL", "SKIPPED", "ERROR"] as const) {
    const n = results.filter((r) => r.status === status).length;
    if (n > 0) lines.push(`${status}: ${n}/${total}`);
  }
  return `${lines.map((l) => safeText(l)).join("\n")}\n`;
}

// --- check ----------------------------------------------------------------------

export async function policyCheckCommand(paths: readonly string[]): Promise<number> {
  try {
    const files = loadPolicyFiles(paths, { modulesOnly: true });
    const n = Object.keys(files.modules).length;
    if (n === 0) throw new FicusError("FICUS_USAGE", `no .rego files under ${paths.join(", ")}`);
    await Rego.compile({ modules: files.modules });
    process.stdout.write(`${n} module${n === 1 ? "" : "s"}: OK\n`);
    return 0;
  } catch (err) {
    return reportPolicyError(err);
  }
}

// --- conformance ---------------------------------------------------------------

export async function policyConformanceCommand(dirs: readonly string[], o: { json?: boolean }): Promise<number> {
  try {
    for (const d of dirs) if (statSafe(d)?.isDirectory() !== true) throw new FicusError("FICUS_USAGE", `not a directory: ${d}`);
    const results: CaseResult[] = [];
    for (const dir of dirs) {
      await runConformance([dir], {
        onResult: (r) => {
          const named = { ...r, file: join(dir, r.file) };
          results.push(named);
          if (!o.json && !r.passed) process.stdout.write(`${safeText(`FAIL ${named.file}: ${r.note}: ${r.reason}`)}\n`);
        },
      });
    }
    const passed = results.filter((r) => r.passed).length;
    const failed = results.length - passed;
    if (o.json) process.stdout.write(`${safeJson(conformanceJson(results, passed, failed))}\n`);
    else process.stdout.write(`conformance: ${passed} passed, ${failed} failed\n`);
    return failed > 0 ? 1 : 0;
  } catch (err) {
    return reportPolicyError(err);
  }
}

function conformanceJson(results: readonly CaseResult[], passed: number, failed: number): unknown {
  const files = new Map<string, CaseResult[]>();
  for (const r of results) files.set(r.file, [...(files.get(r.file) ?? []), r]);
  return {
    passed,
    failed,
    total: results.length,
    files: [...files].map(([file, cases]) => ({
      file,
      passed: cases.filter((c) => c.passed).length,
      failed: cases.filter((c) => !c.passed).length,
      cases: cases.map((c) => ({ note: c.note, passed: c.passed, ...(c.passed ? {} : { reason: c.reason }) })),
    })),
  };
}
