/**
 * The Rego parser: every module of OPA's conformance cases parses, the AST has
 * the shapes the compiler relies on, and malformed text gives a positioned
 * rego_parse_error (FICUS_POLICY_SYNTAX) with OPA-like wording. A property
 * test mutates real modules and random bytes: the parser either succeeds or
 * throws a positioned RegoError, nothing else.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { RegoError } from "../../../../src/policy/rego/syntax/errors.ts";
import { parseModule, parseQuery, parseTermText } from "../../../../src/policy/rego/syntax/parser.ts";

const CASES = resolve(import.meta.dir, "../../../../../shared/conformance/opa/v1");

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (name.endsWith(".yaml")) out.push(p);
  }
  return out;
}

const modules: { file: string; note: string; src: string }[] = [];
const queries: string[] = [];
for (const f of yamlFiles(CASES)) {
  const doc = parseYaml(readFileSync(f, "utf8")) as { cases: { note: string; query: string; modules?: string[] }[] };
  for (const c of doc.cases) {
    queries.push(c.query);
    for (const m of c.modules ?? []) modules.push({ file: f, note: c.note, src: m });
  }
}

describe("conformance modules", () => {
  test.skipIf(modules.length === 0)("every module and query in OPA's cases parses", () => {
    const failures: string[] = [];
    for (const m of modules) {
      try {
        parseModule(m.src, "test-0.rego");
      } catch (e) {
        failures.push(`${m.note}: ${(e as Error).message}`);
      }
    }
    for (const q of queries) {
      try {
        parseQuery(q);
      } catch (e) {
        failures.push(`query ${q}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe("shapes", () => {
  test("package, imports and rule kinds", () => {
    const m = parseModule(
      `package a.b["c-d"]
import data.x.y as z
import rego.v1
p := 1
q contains x if some x in [1]
r[k] := v if { k := "a"; v := 2 }
f(x) := x + 1
default g := false
h if input.ok else := 3
`,
      "m.rego",
    );
    expect(m.pkg).toEqual(["a", "b", "c-d"]);
    expect(m.imports.map((i) => i.alias)).toEqual(["z", undefined]);
    expect(m.rules.map((r) => r.kind)).toEqual(["complete", "contains", "complete", "function", "complete", "complete"]);
    expect(m.rules[2]?.ref.length).toBe(2);
    expect(m.rules[4]?.isDefault).toBe(true);
    expect(m.rules[5]?.elses.length).toBe(1);
  });

  test("operators become calls with OPA's precedence", () => {
    const [lit] = parseQuery("x := 1 + 2 * 3 == 7");
    expect(lit?.expr.type).toBe("assign");
    const right = lit?.expr.type === "assign" ? lit.expr.right : undefined;
    expect(right?.type === "call" ? right.fn : "").toBe("equal");
  });

  test("newlines separate expressions; ; too", () => {
    expect(parseQuery("a\nb\n[1][0]").length).toBe(3);
    expect(parseQuery("a; b").length).toBe(2);
    expect(parseQuery("x := [1,\n 2]").length).toBe(1);
  });

  test("membership forms", () => {
    const q = parseQuery("x in xs; k, v in obj; some a, b in c; some y in ys");
    expect(q.map((l) => l.expr.type)).toEqual(["term", "term", "somein", "somein"]);
  });

  test("strings: escapes, surrogate pairs, raw strings", () => {
    const t = parseTermText('["a\\n\\"\\u00e9", "\\ud83d\\ude00", `raw\\n`]');
    expect(t.type === "array" ? t.items.map((i) => (i.type === "scalar" ? i.value : undefined)) : []).toEqual(['a\n"é', "😀", "raw\\n"]);
  });

  test("numbers are exact", () => {
    const t = parseTermText("123456789012345678901234567890");
    expect(t.type === "scalar" ? String(t.value) : "").toBe("123456789012345678901234567890");
  });
});

describe("syntax errors", () => {
  const cases: [string, string, string][] = [
    ["package p\np if {\n  x := 1\n}}", "m.rego:4:2: rego_parse_error: unexpected } token", "stray brace"],
    ["package p\np {\n true\n}", "m.rego:2:3: rego_parse_error: `if` keyword is required before rule body", "v0 body"],
    ['package p\nx := "abc', "m.rego:2:6: rego_parse_error: non-terminated string", "unterminated string"],
    ['package p\nx := "\\q"', "m.rego:2:7: rego_parse_error: illegal escape sequence", "bad escape"],
    ["p := 1", "m.rego:1:1: rego_parse_error: unexpected ident token: expected package", "no package"],
    ["package p\nx := [1, 2", "m.rego:2:11: rego_parse_error: unexpected eof token: expected ]", "unclosed array"],
    ["package p\nx := 1 +", "m.rego:2:9: rego_parse_error: unexpected eof token", "dangling operator"],
    ["package p\nx := @", 'm.rego:2:6: rego_parse_error: illegal token "@"', "illegal character"],
  ];
  for (const [src, message, name] of cases) {
    test(name, () => {
      let err: unknown;
      try {
        parseModule(src, "m.rego");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RegoError);
      const r = err as RegoError;
      expect(r.message).toBe(message);
      expect(r.code).toBe("FICUS_POLICY_SYNTAX");
      expect(r.regoCode).toBe("rego_parse_error");
      expect(r.file).toBe("m.rego");
      expect(typeof r.line).toBe("number");
    });
  }

  test("deep nesting is a parse error, not a stack overflow", () => {
    const src = `package p\nx := ${"[".repeat(20000)}${"]".repeat(20000)}`;
    expect(() => parseModule(src, "m.rego")).toThrow(RegoError);
  });
});

function expectParsesOrPositionedError(src: string): void {
  try {
    parseModule(src, "fuzz.rego");
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    expect(e.code).toBe("FICUS_POLICY_SYNTAX");
    expect(e.file).toBe("fuzz.rego");
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.col).toBeGreaterThanOrEqual(1);
  }
}

describe("fuzzing", () => {
  const sample = modules.length > 0 ? modules.map((m) => m.src) : ["package p\n\nallow if {\n\tinput.user == \"a\"\n\tsome x in [1, 2]\n}\n"];
  test("mutated real modules parse or fail with a positioned rego_parse_error", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sample.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 4 }),
        (i, edits) => {
          let src = sample[i] as string;
          for (const [at, kind, text] of edits) {
            const p = src.length === 0 ? 0 : at % src.length;
            if (kind === 0) src = src.slice(0, p) + src.slice(p + 1);
            else if (kind === 1) src = src.slice(0, p) + text + src.slice(p);
            else if (kind === 2) src = src.slice(0, p);
            else src = src.slice(0, p) + text + src.slice(p + text.length);
          }
          expectParsesOrPositionedError(src);
        },
      ),
      { numRuns: 600 },
    );
  });

  test("random text parses or fails with a positioned rego_parse_error", () => {
    const alphabet = fc.constantFrom(..."package p if else {}[]()\n\t :=,.;|&+-*/%<>!\"`#\\abcxyz019_".split(""));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.array(alphabet, { maxLength: 120 }).map((a) => `package p\n${a.join("")}`)), (src) => {
        expectParsesOrPositionedError(src);
      }),
      { numRuns: 1500 },
    );
  });
});
