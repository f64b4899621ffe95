/**
 * OPA's own conformance cases against the Rego engine, and the runner's own
 * logic (loading, judging as OPA's harness does) against a fake engine.
 *
 * The cases live outside the repository (<repo>/../shared/conformance/opa);
 * without them the run is skipped with a message, except under CI, where
 * their absence fails. Failures allowed for now are listed, with a reason
 * each, in test/conformance/opa-known-failures.tsv: a failure not listed is a
 * regression, a listed case that passes must leave the list
 * (`bun scripts/conformance-known.ts` rewrites it). Every failure and its
 * reason is written to test-results/opa-conformance-failures.txt.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type CaseResult,
  checkKnown,
  type ConformanceCase,
  type ConformanceEngine,
  type ConformanceReport,
  formatKnown,
  judge,
  type Outcome,
  parseCaseFile,
  parseKnown,
  regenerateKnown,
  runCase,
  runConformance,
  summarize,
  TODO_REASON,
} from "../../../src/policy/rego/conformance/index.ts";
import { parseNumber } from "../../../src/policy/rego/number.ts";
import { RegoObject, RegoSet, type Value } from "../../../src/policy/rego/value.ts";

const ROOT = resolve(import.meta.dir, "../../..");
const CASES = resolve(ROOT, "../shared/conformance/opa");
const KNOWN = join(ROOT, "test/conformance/opa-known-failures.tsv");
const FAILURES = join(ROOT, "test-results/opa-conformance-failures.txt");
const MIN_PASS_RATE = 0.97;

// --- the runner, against a fake engine -------------------------------------

const big = (text: string): Value => parseNumber(text) as Value;
const obj = (entries: [Value, Value][]) => RegoObject.fromEntries(entries);

/** One case from YAML (the file's first case). */
function caseOf(yaml: string): ConformanceCase {
  return parseCaseFile(`---\ncases:\n${yaml}`, "dir/test-x.yaml")[0] as ConformanceCase;
}

const X_EQ = (value: string) => `  - note: n\n    query: data.p = x\n    modules: []\n    want_result:\n      - x: ${value}\n`;

describe("loading case files", () => {
  test("fields, module order, and numbers read as OPA's YAML-to-JSON loader reads them", () => {
    const [a, b, c] = parseCaseFile(
      [
        "---",
        "cases:",
        "  - note: a",
        "    query: data.p = x",
        "    modules: ['package p', 'package q']",
        "    data: { n: 18446744073709551617, m: 9223372036854775807, f: 1.50, e: 1e21 }",
        "    input: { k: [1, 2.0] }",
        "    want_result: [ { x: 1 } ]",
        "    sort_bindings: true",
        "    strict_error: true",
        "  - note: a",
        "    query: 'true'",
        "    input_term: '{1, 2}'",
        "    want_error_code: eval_type_error",
        "    want_error: ''",
        "  - note: a",
        "    query: 'true'",
        "    input: null",
        "    want_result: []",
      ].join("\n"),
      "v1/f/t.yaml",
    ) as [ConformanceCase, ConformanceCase, ConformanceCase];
    expect(a).toMatchObject({ file: "v1/f/t.yaml", id: "a", note: "a", query: "data.p = x", modules: ["package p", "package q"], strictError: true, sortBindings: true });
    const data = a.data as RegoObject;
    // Beyond 64 bits, the float64's shortest text (what Go's json writes), not the integer.
    expect(data.get("n")).toEqual(big("18446744073709552000"));
    expect(data.get("m")).toEqual(big("9223372036854775807"));
    expect(data.get("f")).toBe(1.5);
    expect(data.get("e")).toEqual(big("1e21"));
    expect((a.input as RegoObject).get("k")).toEqual([1, 2]);
    expect(b).toMatchObject({ id: "a (#2)", inputTerm: "{1, 2}", wantErrorCode: "eval_type_error", wantError: "", strictError: false, sortBindings: false });
    expect(b.wantResult).toBeUndefined();
    expect(c.id).toBe("a (#3)");
    expect(c.input).toBeUndefined();
    expect(c.wantResult).toEqual([]);
  });

  test.each([
    ["no cases list", "---\nfoo: 1\n"],
    ["no query", "---\ncases:\n  - note: a\n"],
    ["modules not strings", "---\ncases:\n  - note: a\n    query: x\n    modules: [1]\n"],
    ["want_result not a list of maps", "---\ncases:\n  - note: a\n    query: x\n    want_result: [1]\n"],
  ])("a malformed file is an error: %s", (_what, text) => {
    expect(() => parseCaseFile(text, "f.yaml")).toThrow("f.yaml");
  });
});

describe("judging an outcome as OPA's harness does", () => {
  const results = (...sols: Record<string, Value>[]): Outcome => ({ kind: "results", results: sols });
  const error = (code: string, message: string): Outcome => ({ kind: "error", code, message });

  test.each<[string, string, Outcome, boolean]>([
    ["equal value", X_EQ("1"), results({ x: 1 }), true],
    ["numbers by value: 1.0 = 1", X_EQ("1.0"), results({ x: 1 }), true],
    ["exact decimals", X_EQ("0.1"), results({ x: big("0.10000000000000000001") }), false],
    ["a set comes out as an array, in order", X_EQ("[1, 2]"), results({ x: RegoSet.of([2, 1]) }), true],
    ["array order matters", X_EQ("[2, 1]"), results({ x: [1, 2] }), false],
    ["non-string keys as their JSON text", X_EQ(`{ "1": 2, '{"3":4}': 5 }`), results({ x: obj([[1, 2], [obj([[3, 4]]), 5]]) }), true],
    ["a missing solution", X_EQ("1"), results(), false],
    ["an extra variable", X_EQ("1"), results({ x: 1, y: 2 }), false],
    ["unexpected error", X_EQ("1"), error("eval_type_error", "test-0.rego:3: eval_type_error: boom"), false],
  ])("%s", (_what, yaml, outcome, passed) => {
    expect(judge(caseOf(yaml), outcome).passed).toBe(passed);
  });

  test("solutions compare as a set: order and duplicates do not matter", () => {
    const c = caseOf("  - note: n\n    query: x = 1\n    modules: []\n    want_result:\n      - x: 1\n      - x: 2\n");
    expect(judge(c, results({ x: 2 }, { x: 1 }, { x: 2 })).passed).toBe(true);
    expect(judge(c, results({ x: 1 })).passed).toBe(false);
  });

  test("sort_bindings sorts the actual bindings only", () => {
    const sorted = caseOf("  - note: n\n    query: x = 1\n    modules: []\n    sort_bindings: true\n    want_result:\n      - x: [1, 2, [3]]\n");
    expect(judge(sorted, results({ x: [[3], 2, 1] })).passed).toBe(true);
    const unsortedWant = caseOf("  - note: n\n    query: x = 1\n    modules: []\n    sort_bindings: true\n    want_result:\n      - x: [2, 1]\n");
    expect(judge(unsortedWant, results({ x: [1, 2] })).passed).toBe(false);
  });

  test.each<[string, string, Outcome, boolean]>([
    ["message substring", "want_error: 'operand 1 must be'", error("eval_type_error", "test-0.rego:4: eval_type_error: f: operand 1 must be string"), true],
    ["message absent", "want_error: 'operand 2'", error("eval_type_error", "operand 1 must be string"), false],
    ["empty text accepts any error", "want_error: ''", error("rego_parse_error", "anything"), true],
    ["code equal", "want_error_code: eval_conflict_error", error("eval_conflict_error", "x"), true],
    ["code differs", "want_error_code: eval_conflict_error", error("eval_type_error", "x"), false],
    ["code and text both checked", "want_error_code: eval_type_error\n    want_error: nope", error("eval_type_error", "x"), false],
    ["a result where an error was expected", "want_error_code: eval_type_error", results({ x: 1 }), false],
    ["undefined where an error was expected", "want_error: ''", results(), false],
    ["a compile error is an error", "want_error_code: rego_type_error", error("rego_type_error", "test-0.rego:3: rego_type_error: bad"), true],
    ["an exception of another kind always fails", "want_error: ''", { kind: "crash", message: "TypeError: x is undefined" }, false],
  ])("errors: %s", (_what, want, outcome, passed) => {
    const c = caseOf(`  - note: n\n    query: data.p = x\n    modules: []\n    ${want}\n`);
    const v = judge(c, outcome);
    expect(v.passed).toBe(passed);
    expect(v.reason === "").toBe(passed);
  });

  test("a case with no expectation fails", () => {
    expect(judge(caseOf("  - note: n\n    query: x = 1\n    modules: []\n"), results({ x: 1 })).reason).toContain("none of");
  });
});

describe("running a case", () => {
  /** A fake engine: the first module's text names what happens. */
  const fake: ConformanceEngine = {
    async compile({ modules }) {
      const script = modules["test-0.rego"] ?? "";
      if (script === "compile-error") throw Object.assign(new Error("test-0.rego:1: rego_parse_error: bad"), { regoCode: "rego_parse_error" });
      return {
        query(text, { input, strict }) {
          if (script === "throw") throw new TypeError("boom");
          if (script === "echo") return [{ q: text, input: input ?? null, strict, names: Object.keys(modules) }];
          return [];
        },
      };
    },
    parseTerm(text) {
      if (text === "bad") throw new Error("unexpected eof");
      return RegoSet.of([text]);
    },
    describeError: (err) => (err instanceof Error && "regoCode" in err ? { code: String(err.regoCode), message: err.message } : undefined),
  };
  const run = (yaml: string) => runCase(caseOf(yaml), fake);

  test("modules named test-N.rego in order; query, input and strict passed through", async () => {
    const r = await run("  - note: n\n    query: data.p = x\n    modules: [echo, b]\n    input: 1\n    strict_error: true\n    want_result:\n      - q: data.p = x\n        input: 1\n        strict: true\n        names: [test-0.rego, test-1.rego]\n");
    expect(r).toEqual({ file: "dir/test-x.yaml", note: "n", passed: true, reason: "" });
  });

  test("input_term is parsed by the engine and wins over input", async () => {
    const r = await run("  - note: n\n    query: q\n    modules: [echo]\n    input: 1\n    input_term: '{\"a\"}'\n    want_result:\n      - { q: q, input: ['{\"a\"}'], strict: false, names: [test-0.rego] }\n");
    expect(r.passed).toBe(true);
    const bad = await run("  - note: n\n    query: q\n    modules: [echo]\n    input_term: bad\n    want_result: []\n");
    expect(bad).toMatchObject({ passed: false, reason: expect.stringContaining("input_term does not parse: unexpected eof") });
  });

  test("a compile error counts as the case's error", async () => {
    expect((await run("  - note: n\n    query: q\n    modules: [compile-error]\n    want_error_code: rego_parse_error\n")).passed).toBe(true);
  });

  test("any other exception fails the case with its message, and the run goes on", async () => {
    const r = await run("  - note: n\n    query: q\n    modules: [throw]\n    want_error: ''\n");
    expect(r).toMatchObject({ passed: false, reason: "exception: TypeError: boom" });
  });

  test("env is set for the case and restored", async () => {
    const name = "FICUS_CONFORMANCE_TEST_ENV";
    let seen: string | undefined;
    const engine: ConformanceEngine = { ...fake, compile: async (o) => ((seen = process.env[name]), fake.compile(o)) };
    await runCase(caseOf(`  - note: n\n    query: q\n    modules: []\n    env: { ${name}: on }\n    want_result: []\n`), engine);
    expect(seen).toBe("on");
    expect(process.env[name]).toBeUndefined();
  });

  test("per-folder counts and totals", () => {
    const r = (file: string, passed: boolean): CaseResult => ({ file, note: "n", passed, reason: passed ? "" : "x" });
    const s = summarize([r("v1/a/1.yaml", true), r("v1/a/2.yaml", false), r("v1/b/1.yaml", true), r("top.yaml", true)]);
    expect(s).toMatchObject({ passed: 3, failed: 1, total: 4 });
    expect(s.folders).toEqual([
      { folder: ".", passed: 1, failed: 0 },
      { folder: "v1/a", passed: 1, failed: 1 },
      { folder: "v1/b", passed: 1, failed: 0 },
    ]);
  });
});

describe("the known-failures list", () => {
  const r = (note: string, passed: boolean): CaseResult => ({ file: "v1/a/t.yaml", note, passed, reason: passed ? "" : "why" });

  test("round trip, comments ignored, reasons may hold tabs only as spaces", () => {
    const list = [
      { file: "v1/b/t.yaml", note: "z", reason: "needs x" },
      { file: "v1/a/t.yaml", note: "a (#2)", reason: "needs\ty" },
    ];
    const text = formatKnown(list);
    expect(text.startsWith("#")).toBe(true);
    expect(parseKnown(text)).toEqual([
      { file: "v1/a/t.yaml", note: "a (#2)", reason: "needs y" },
      { file: "v1/b/t.yaml", note: "z", reason: "needs x" },
    ]);
    expect(() => parseKnown("only-a-file\n")).toThrow("line 1");
  });

  test("regressions, fixed, TODO and stale entries", () => {
    const known = [
      { file: "v1/a/t.yaml", note: "listed-fails", reason: "needs x" },
      { file: "v1/a/t.yaml", note: "listed-passes", reason: "needs y" },
      { file: "v1/a/t.yaml", note: "gone", reason: TODO_REASON },
    ];
    const check = checkKnown([r("listed-fails", false), r("listed-passes", true), r("new-failure", false)], known);
    expect(check.regressions.map((x) => x.note)).toEqual(["new-failure"]);
    expect(check.fixed.map((x) => x.note)).toEqual(["listed-passes"]);
    expect(check.todo.map((x) => x.note)).toEqual(["gone"]);
    expect(check.stale.map((x) => x.note)).toEqual(["gone"]);
  });

  test("regenerating keeps written reasons and marks new failures TODO", () => {
    const known = [{ file: "v1/a/t.yaml", note: "old", reason: "needs x" }];
    expect(regenerateKnown([r("old", false), r("new", false), r("ok", true)], known)).toEqual([
      { file: "v1/a/t.yaml", note: "old", reason: "needs x" },
      { file: "v1/a/t.yaml", note: "new", reason: TODO_REASON },
    ]);
  });
});

// --- OPA's cases, against the real engine ----------------------------------

describe("OPA conformance cases", () => {
  if (!existsSync(CASES)) {
    if (process.env.CI) {
      test("the OPA cases are present", () => {
        throw new Error(`OPA conformance cases not found at ${CASES} (required under CI)`);
      });
    } else {
      console.log(`OPA conformance: skipped, no cases at ${CASES}`);
      test.skip("OPA conformance cases (not present)", () => {});
    }
    return;
  }

  let report: ConformanceReport;
  let known: ReturnType<typeof parseKnown>;

  beforeAll(async () => {
    report = await runConformance([CASES]);
    known = existsSync(KNOWN) ? parseKnown(readFileSync(KNOWN, "utf8")) : [];
    const failures = report.results.filter((r) => !r.passed);
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    writeFileSync(FAILURES, failures.map((f) => `${f.file}\t${f.note}\n  ${f.reason}\n`).join(""));
    const width = Math.max(...report.folders.map((f) => f.folder.length));
    const lines = report.folders.map((f) => `  ${f.folder.padEnd(width)}  ${String(f.passed).padStart(4)}/${f.passed + f.failed}${f.failed > 0 ? `  (${f.failed} failing)` : ""}`);
    console.log(`OPA conformance, per folder (passed/total):\n${lines.join("\n")}`);
    console.log(`OPA conformance: ${report.passed}/${report.total} passed (${((100 * report.passed) / Math.max(1, report.total)).toFixed(1)}%); failures in ${FAILURES}`);
  }, 600_000);

  test("no case fails that is not in the known-failures list", () => {
    const regressions = checkKnown(report.results, known).regressions;
    expect(regressions.map((r) => `${r.file}\t${r.note}: ${r.reason}`)).toEqual([]);
  });

  test("no listed case passes (remove it from the list) or is gone", () => {
    const { fixed, stale } = checkKnown(report.results, known);
    const msg = [...fixed.map((k) => `passes now, remove it from ${KNOWN}: ${k.file}\t${k.note}`), ...stale.map((k) => `no such case, remove it from ${KNOWN}: ${k.file}\t${k.note}`)];
    expect(msg).toEqual([]);
  });

  test("every listed failure has a reason (no TODO)", () => {
    expect(checkKnown(report.results, known).todo.map((k) => `${k.file}\t${k.note}`)).toEqual([]);
  });

  test(`the overall pass rate is at least ${MIN_PASS_RATE * 100}%`, () => {
    expect(report.total).toBeGreaterThan(0);
    expect(report.passed / report.total).toBeGreaterThanOrEqual(MIN_PASS_RATE);
  });
});
