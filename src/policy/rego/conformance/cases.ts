/**
 * Loading OPA's conformance case files (the YAML of OPA's `v1/test/cases`
 * suite): every case file under the given folders, recursively, so a folder
 * added to the copy is picked up without a code change.
 *
 * Values in a case (data, input, want_result) are read the way OPA's loader
 * reads them, because the expected numbers only mean what they mean there:
 * OPA turns the YAML into JSON first (an integer that fits 64 bits stays
 * exact; any other number becomes a float64 and is written back as its
 * shortest decimal), then reads that JSON exactly. So `18446744073709551617`
 * in a case is the number 18446744073709552000, as in OPA.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { parse } from "yaml";
import { parseNumber } from "../number.ts";
import { RegoObject, type Value } from "../value.ts";

/** One case, its fields as OPA's TestCase declares them. */
export interface ConformanceCase {
  /** The case file, relative to the folder it was found under (`/` separated). */
  readonly file: string;
  /** The case's note; when a file repeats a note, the later ones get ` (#2)`, ` (#3)`… so each case has a unique id in its file. */
  readonly id: string;
  readonly note: string;
  readonly query: string;
  /** Module sources; named test-0.rego, test-1.rego, … in this order (as OPA's harness does). */
  readonly modules: readonly string[];
  readonly data?: Value;
  readonly input?: Value;
  /** Input as a Rego term's text, parsed by the engine (wins over `input`, as in OPA). */
  readonly inputTerm?: string;
  /** One object per solution, variable name → expected JSON value. */
  readonly wantResult?: readonly RegoObject[];
  readonly wantError?: string;
  readonly wantErrorCode?: string;
  readonly strictError: boolean;
  readonly sortBindings: boolean;
  /** Environment variables set while the case runs (OPA's `env`). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A file that could not be read as a case file: reported as a failed case, never thrown. */
export interface CaseFileError {
  readonly file: string;
  readonly message: string;
}

export interface LoadedCases {
  readonly cases: ConformanceCase[];
  readonly errors: CaseFileError[];
}

const CASE_FILE = /\.ya?ml$/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Every case file under `root` (recursively), sorted, relative to root. */
export function caseFiles(root: string): string[] {
  const names = readdirSync(root, { recursive: true, encoding: "utf8" });
  return names
    .filter((n) => CASE_FILE.test(n))
    .map((n) => n.split(sep).join("/"))
    .sort();
}

/** Loads every case under `root`. Files that do not parse are listed in `errors`. */
export function loadCases(root: string): LoadedCases {
  const cases: ConformanceCase[] = [];
  const errors: CaseFileError[] = [];
  for (const file of caseFiles(root)) {
    try {
      cases.push(...parseCaseFile(readFileSync(join(root, file), "utf8"), file));
    } catch (err) {
      errors.push({ file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { cases, errors };
}

/** The cases of one file's text; throws on a malformed file or case. */
export function parseCaseFile(text: string, file: string): ConformanceCase[] {
  const doc: unknown = parse(text, { intAsBigInt: true });
  const list = isRecord(doc) ? doc.cases : undefined;
  if (!Array.isArray(list)) throw new Error(`${file}: no top-level "cases" list`);
  const seen = new Map<string, number>();
  return list.map((raw, i) => {
    const c = toCase(raw, file, i);
    const n = (seen.get(c.note) ?? 0) + 1;
    seen.set(c.note, n);
    return n === 1 ? c : { ...c, id: `${c.note} (#${n})` };
  });
}

function toCase(raw: unknown, file: string, index: number): ConformanceCase {
  const where = `${file}: case ${index + 1}`;
  if (!isRecord(raw)) throw new Error(`${where}: not a map`);
  const note = optString(raw, "note", where) ?? `case ${index + 1}`;
  const query = optString(raw, "query", where);
  if (query === undefined) throw new Error(`${where}: no query`);
  const modules = raw.modules ?? [];
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === "string")) throw new Error(`${where}: modules must be a list of strings`);
  const want = raw.want_result;
  let wantResult: RegoObject[] | undefined;
  if (want !== undefined && want !== null) {
    if (!Array.isArray(want)) throw new Error(`${where}: want_result must be a list`);
    wantResult = want.map((b, j) => {
      const v = yamlValue(b, `${where}: want_result[${j}]`);
      if (!(v instanceof RegoObject)) throw new Error(`${where}: want_result[${j}] must be a map`);
      return v;
    });
  }
  const env = raw.env;
  return {
    file,
    id: note,
    note,
    query,
    modules: modules as string[],
    ...(raw.data !== undefined && raw.data !== null ? { data: yamlValue(raw.data, `${where}: data`) } : {}),
    ...(raw.input !== undefined && raw.input !== null ? { input: yamlValue(raw.input, `${where}: input`) } : {}),
    ...(raw.input_term !== undefined ? { inputTerm: optString(raw, "input_term", where) } : {}),
    ...(wantResult !== undefined ? { wantResult } : {}),
    ...(raw.want_error !== undefined ? { wantError: optString(raw, "want_error", where) } : {}),
    ...(raw.want_error_code !== undefined ? { wantErrorCode: optString(raw, "want_error_code", where) } : {}),
    strictError: raw.strict_error === true,
    sortBindings: raw.sort_bindings === true,
    ...(isRecord(env) ? { env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) } : {}),
  };
}

/**
 * A YAML value as OPA's loader sees it (see the header): integers within
 * 64 bits exact, every other number the shortest decimal of its float64.
 */
export function yamlValue(x: unknown, where = "$"): Value {
  if (x === null || typeof x === "boolean" || typeof x === "string") return x;
  if (typeof x === "bigint") return x >= INT64_MIN && x <= UINT64_MAX ? exactNumber(x.toString(), where) : doubleNumber(Number(x), where);
  if (typeof x === "number") return doubleNumber(x, where);
  if (Array.isArray(x)) return x.map((e, i) => yamlValue(e, `${where}[${i}]`));
  if (isRecord(x)) {
    const o = new RegoObject();
    for (const [k, v] of Object.entries(x)) o.set(k, yamlValue(v, `${where}.${k}`));
    return o;
  }
  throw new Error(`${where}: a YAML ${typeof x} is not a JSON value`);
}

function doubleNumber(d: number, where: string): Value {
  // Go's YAML-to-JSON step cannot write NaN or infinities either.
  if (!Number.isFinite(d)) throw new Error(`${where}: ${d} is not a JSON number`);
  return exactNumber(String(d), where);
}

function exactNumber(text: string, where: string): Value {
  const n = parseNumber(text);
  if (n === undefined) throw new Error(`${where}: cannot read number ${text}`);
  return n;
}

function optString(raw: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new Error(`${where}: ${key} must be a string`);
  return v;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The folder a case file is counted under: its directory relative to the root. */
export function folderOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i < 0 ? "." : file.slice(0, i);
}
