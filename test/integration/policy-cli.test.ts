/**
 * `ficus policy eval|test|check|conformance` as a user runs them: the real
 * CLI in a child process, on the example policies (examples/policies) and on
 * small files written per test; output shapes and exit codes as documented
 * in docs/policy.md.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT, runCli, tempDir } from "../helpers/processes.ts";

const EXAMPLES = join(ROOT, "examples/policies");

/** Writes files (path → text) under a fresh directory; returns it. */
function tree(files: Record<string, string>): string {
  const dir = tempDir("ficus-policy-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

interface EvalOutput {
  result?: { expressions: { value: unknown; text: string; location: { row: number; col: number } }[]; bindings?: Record<string, unknown> }[];
}

describe("ficus policy test", () => {
  test("the example policies pass", async () => {
    const r = await runCli(["policy", "test", EXAMPLES]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS: (\d+)\/\1\n$/);
  });

  test("--verbose lists every test under its file, with print() output", async () => {
    const r = await runCli(["policy", "test", "--verbose", EXAMPLES]);
    expect(r.code).toBe(0);
    for (const pkg of ["rbac", "abac", "jwt"]) expect(r.stdout).toContain(`${join(EXAMPLES, pkg, `${pkg}_test.rego`)}:\n`);
    expect(r.stdout).toMatch(/^data\.rbac_test\.test_clerk_can_update_an_order: PASS \([\d.]+(µs|ms|s)\)$/m);
    expect(r.stdout).toContain("data.jwt_test.test_forged_signature_is_refused: PASS");
    expect(r.stdout).toMatch(/data\.abac_test\.test_blocked_lists_positions_and_ids: PASS .*\n\n {2}blocked: /);
    expect(r.stdout).toContain(`${"-".repeat(80)}\nPASS: `);
  });

  test("--run selects tests by a regex on their name", async () => {
    const r = await runCli(["policy", "test", "--verbose", "--run", "rbac_test\\.test_admin", EXAMPLES]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("data.rbac_test.test_admin_can_delete_anything: PASS");
    expect(r.stdout).toEndWith("PASS: 1/1\n");
  });

  test("a false or undefined test fails, an error errs; exit 1; todo_test_ is skipped", async () => {
    const dir = tree({
      "t.rego": [
        "package t",
        "",
        "test_ok if true",
        "",
        "test_false if false",
        "",
        "test_undefined if input.nothing",
        "",
        "f(x) := 1 if x > 0",
        "",
        "f(x) := 2 if x > 1",
        "",
        "test_conflict if f(5) == 1",
        "",
        "todo_test_later if false",
        "",
      ].join("\n"),
    });
    const r = await runCli(["policy", "test", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("data.t.test_false: FAIL");
    expect(r.stdout).toContain("data.t.test_undefined: FAIL");
    expect(r.stdout).toMatch(/data\.t\.test_conflict: ERROR \(.*\)\n {2}.*t\.rego:\d+:\d+: eval_conflict_error: /);
    expect(r.stdout).not.toContain("test_ok");
    expect(r.stdout).toContain("PASS: 1/5\nFAIL: 2/5\nSKIPPED: 1/5\nERROR: 1/5\n");
  });

  test("no tests found is a failure, not a green run", async () => {
    const r = await runCli(["policy", "test", tree({ "p.rego": "package p\n\nallow := true\n" })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no tests found");
  });
});

describe("ficus policy eval", () => {
  const input = tree({ "bob.json": JSON.stringify({ user: "bob", action: "update", resource: "/orders/42" }) });
  const bob = join(input, "bob.json");

  test("a ref: OPA's JSON result shape", async () => {
    const r = await runCli(["policy", "eval", "-d", EXAMPLES, "-i", bob, "data.rbac.allow"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ result: [{ expressions: [{ value: true, text: "data.rbac.allow", location: { row: 1, col: 1 } }] }] });
  });

  test("a set comes out as an array; a ref with a variable binds it", async () => {
    const r = await runCli(["policy", "eval", "-d", EXAMPLES, "-i", bob, "data.rbac.user_roles[r]"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as EvalOutput).result).toEqual([{ expressions: [{ value: "clerk", text: "data.rbac.user_roles[r]", location: { row: 1, col: 1 } }], bindings: { r: "clerk" } }]);
  });

  test("an ad hoc query: one result per solution, with its bindings", async () => {
    const r = await runCli(["policy", "eval", "-d", EXAMPLES, "some name; data.rbac.roles[name].grants[_].actions[_] == \"delete\""]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as EvalOutput;
    expect(out.result?.map((s) => s.bindings)).toEqual([{ name: "admin" }]);
  });

  test("a function call", async () => {
    const r = await runCli(["policy", "eval", "-d", EXAMPLES, 'data.abac.cleared({"clearance": "secret"}, {"classification": "internal"})']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as EvalOutput).result?.[0]?.expressions[0]?.value).toBe(true);
  });

  test("undefined prints {} and exits 0", async () => {
    const r = await runCli(["policy", "eval", "-d", EXAMPLES, "data.rbac.no_such_rule"]);
    expect(r).toMatchObject({ code: 0, stdout: "{}\n" });
  });

  test("data files are placed by their directory; numbers keep every digit", async () => {
    const dir = tree({ "data.json": '{"top": 1}', "a/b/data.json": '{"n": 12345678901234567890123, "x": 0.1}', "a/c.yaml": "y: [1, 2]\n", "empty.yaml": "" });
    // The same directory twice (once with a trailing slash): each file is loaded once.
    const r = await runCli(["policy", "eval", "-d", dir, "-d", `${dir}/`, "data"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"n": 12345678901234567890123');
    expect((JSON.parse(r.stdout) as EvalOutput).result?.[0]?.expressions[0]?.value).toEqual({ top: 1, a: { b: { n: 12345678901234567890123, x: 0.1 }, y: [1, 2] } });
  });

  test("--format pretty: a value alone, bindings as a table", async () => {
    const one = await runCli(["policy", "eval", "-f", "pretty", "-d", EXAMPLES, "data.jwt.audience"]);
    expect(one).toMatchObject({ code: 0, stdout: '"orders-api"\n' });
    const table = await runCli(["policy", "eval", "--format", "pretty", "-d", EXAMPLES, "-i", bob, "r := data.rbac.user_roles[_]"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(["+---------+", "| r       |", "+---------+", '| "clerk" |', "+---------+", ""].join("\n"));
    const none = await runCli(["policy", "eval", "-f", "pretty", "-d", EXAMPLES, "data.nothing"]);
    expect(none).toMatchObject({ code: 0, stdout: "undefined\n" });
  });

  test("--strict makes a built-in's error an error (exit 1)", async () => {
    const dir = tree({ "p.rego": 'package p\n\nn := to_number("x")\n' });
    expect(await runCli(["policy", "eval", "-d", dir, "data.p.n"])).toMatchObject({ code: 0, stdout: "{}\n" });
    const strict = await runCli(["policy", "eval", "--strict", "-d", dir, "data.p.n"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("FICUS_POLICY_EVAL");
    expect(strict.stderr).toContain("to_number");
  });

  test("a syntax error: exit 1 with the code and file:line:col", async () => {
    const dir = tree({ "bad.rego": "package p\n\nallow if {\n  input.x ==\n}\n" });
    const r = await runCli(["policy", "eval", "-d", dir, "data.p.allow"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ficus: FICUS_POLICY_SYNTAX: ");
    expect(r.stderr).toMatch(/bad\.rego:\d+:\d+: rego_parse_error: /);
  });

  test("a missing file or a malformed data file is a usage error (exit 2)", async () => {
    const missing = await runCli(["policy", "eval", "-d", join(input, "nope"), "data"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("FICUS_USAGE");
    const bad = await runCli(["policy", "eval", "-d", tree({ "data.json": "{nope" }), "data"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("data.json: not valid JSON");
    const conflict = await runCli(["policy", "eval", "-d", tree({ "data.json": '{"a": 1}', "a/data.json": '{"b": 2}' }), "data"]);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("conflicts");
  });
});

describe("ficus policy check", () => {
  test("valid modules: exit 0", async () => {
    const r = await runCli(["policy", "check", EXAMPLES]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("6 modules: OK\n");
  });

  test("every error as file:line:col: message; exit 1", async () => {
    const dir = tree({ "a.rego": "package a\n\nallow if {\n  x == 1\n}\n", "b.rego": "package b\n\np := {\n" });
    const r = await runCli(["policy", "check", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ficus: FICUS_POLICY_(SYNTAX|COMPILE): /);
    expect(r.stderr).toMatch(new RegExp(`${join(dir, "b.rego").replace(/[.]/g, "\\.")}:\\d+:\\d+: rego_parse_error: `));
  });
});

describe("ficus policy conformance", () => {
  const cases = tree({
    "v1/demo/test-demo.yaml": [
      "---",
      "cases:",
      "  - note: demo/passes",
      "    query: data.p.x = x",
      "    modules:",
      "      - |",
      "        package p",
      "",
      "        x := {1, 2} if true",
      "    want_result:",
      "      - x: [1, 2]",
      "  - note: demo/fails",
      "    query: data.p.x = x",
      "    modules: ['package p', 'x := 3']",
      "    want_result:",
      "      - x: 4",
      "",
    ].join("\n"),
  });

  test("a line per failure and the totals; exit 1 when a case fails", async () => {
    const r = await runCli(["policy", "conformance", cases]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL ${join(cases, "v1/demo/test-demo.yaml")}: demo/fails: `);
    expect(r.stdout).toEndWith("conformance: 1 passed, 1 failed\n");
  });

  test("--json: per file and per case", async () => {
    const r = await runCli(["policy", "conformance", "--json", cases]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { passed: number; failed: number; total: number; files: { file: string; passed: number; failed: number; cases: { note: string; passed: boolean; reason?: string }[] }[] };
    expect(out).toMatchObject({ passed: 1, failed: 1, total: 2 });
    expect(out.files).toEqual([
      {
        file: join(cases, "v1/demo/test-demo.yaml"),
        passed: 1,
        failed: 1,
        cases: [
          { note: "demo/passes", passed: true },
          { note: "demo/fails", passed: false, reason: expect.stringContaining("expected") },
        ],
      },
    ]);
  });

  test("not a directory: usage error", async () => {
    expect((await runCli(["policy", "conformance", join(cases, "nope")])).code).toBe(2);
  });
});
