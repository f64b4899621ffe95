/**
 * The Rego language core end to end through the public API: rules of every
 * kind, packages as documents, unification and iteration, `with`, the errors
 * OPA raises (conflicts, recursion, unsafe vars, unknown functions, strict
 * built-in errors), budgets, withData, and determinism (a property test).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type EvalOptions, Rego, RegoError } from "../../../../src/policy/rego/api.ts";
import { toJSON } from "../../../../src/policy/rego/value.ts";

async function query(src: string | Record<string, string>, q: string, opts: EvalOptions = {}, data?: unknown): Promise<unknown[]> {
  const modules = typeof src === "string" ? { "p.rego": src } : src;
  const policy = await Rego.compile({ modules, data });
  return policy.query(q, opts).map((b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, toJSON(v)])));
}

async function errorOf(fn: () => unknown): Promise<RegoError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  throw new Error("expected a RegoError");
}

describe("rules and documents", () => {
  const cases: [string, string, string, unknown[], unknown?][] = [
    ["complete rule", "package p\nx := 1", "data.p.x = v", [{ v: 1 }]],
    ["default", "package p\ndefault allow := false\nallow if input.ok", "data.p.allow = v", [{ v: false }]],
    ["partial set", "package p\ns contains x if some x in [3, 1, 2]", "data.p.s = v", [{ v: [1, 2, 3] }]],
    ["partial object", 'package p\no[k] := v if some k, v in {"a": 1, "b": 2}', "data.p.o = v", [{ v: { a: 1, b: 2 } }]],
    ["ref head", "package p\na.b[c] := 1 if some c in [\"x\"]\na.d.e := 2", "data.p.a = v", [{ v: { b: { x: 1 }, d: { e: 2 } } }]],
    ["function multi-clause", 'package p\nf(1) := "one"\nf(x) := "many" if x > 1\nr := [f(1), f(2)]', "data.p.r = v", [{ v: ["one", "many"] }]],
    ["default function", "package p\ndefault f(_) := 0\nf(x) := 1 if x == 1\nr := [f(1), f(5)]", "data.p.r = v", [{ v: [1, 0] }]],
    ["else chain", "package p\nx := 1 if false else := 2 if false else := 3", "data.p.x = v", [{ v: 3 }]],
    ["package as object", "package p\na := 1\nb contains 2\nf(x) := x", "data.p = v", [{ v: { a: 1, b: [2] } }]],
    ["base and virtual merged", "package p\nr := 1", "data = v", [{ v: { p: { r: 1 }, q: 2 } }], { q: 2 }],
    ["refs with variables", "package p\nr contains [i, j] if data.m[i].n[j] == 1", "data.p.r = v", [{ v: [[0, 1]] }], { m: [{ n: [0, 1] }] }],
    ["some in and every", "package p\nok if { some x in [1, 2]; x > 1; every y in [1, 2] { y > 0 } }", "data.p.ok = v", [{ v: true }]],
    ["every fails", "package p\ndefault ok := false\nok if every y in [1, -2] { y > 0 }", "data.p.ok = v", [{ v: false }]],
    ["not", "package p\nok if not input.deny", "data.p.ok = v", [{ v: true }]],
    ["comprehensions", "package p\nr := [[x | some x in [1, 2]], {x | some x in [1, 1]}, {k: 1 | some k in [\"a\"]}]", "data.p.r = v", [{ v: [[1, 2], [1], { a: 1 }] }]],
    ["unification destructures", "package p\nr := [a, b] if [a, {\"k\": b}] = [1, {\"k\": 2}]", "data.p.r = v", [{ v: [1, 2] }]],
    ["output argument", "package p\nr := n if count([1, 2], n)", "data.p.r = v", [{ v: 2 }]],
    ["reordering for safety", "package p\nr := y if { y == 2; y := x + 1; x := 1 }", "data.p.r = v", [{ v: 2 }]],
    ["import alias", "package p\nimport data.lib.roles as r\nok if r.admin == 1", "data.p.ok = v", [{ v: true }], { lib: { roles: { admin: 1 } } }],
    ["query with several solutions", "package p\ns contains x if some x in [1, 2]", "data.p.s[x]", [{ x: 1 }, { x: 2 }]],
    ["function query", "package p\nf(x) := x * 2", "data.p.f(2) == 4", [{}]],
    ["membership", 'package p\nr := [1 in [1], 2 in {1}, "a", 1 in {"a": 1}]', "data.p.r = v", [{ v: [true, false, "a", true] }]],
  ];
  for (const [name, src, q, want, data] of cases) {
    test(name, async () => {
      expect(await query(src, q, {}, data)).toEqual(want);
    });
  }
});

describe("with", () => {
  test("replaces input paths, data paths, functions and built-ins for one expression", async () => {
    const src = `package p
q := input.a.b
r := data.d.x
f(x) := x
g(x) := x * 10
t := [a, b, c, d] if {
  a := q with input.a.b as 1
  b := r with data.d.x as 2
  c := f(3) with f as g
  d := count([1]) with count as 7
}
u := q`;
    expect(await query(src, "data.p.t = v", { input: { a: { b: 0 } } }, { d: { x: 0 } })).toEqual([{ v: [1, 2, 30, 7] }]);
    // Outside the with, the memoized value is the real one.
    expect(await query(src, "data.p.u = v", { input: { a: { b: 0 } } }, { d: { x: 0 } })).toEqual([{ v: 0 }]);
  });

  test("a mock's body calls the original built-in", async () => {
    const src = "package p\nmock(x) := count(x) + 100\nr := n if n := count([1, 2]) with count as mock";
    expect(await query(src, "data.p.r = v")).toEqual([{ v: 102 }]);
  });

  test("http.send is allowed when mocked", async () => {
    const src = 'package p\nmock(_) := {"body": 1}\nr := b if b := http.send({}).body with http.send as mock';
    expect(await query(src, "data.p.r = v")).toEqual([{ v: 1 }]);
  });
});

describe("errors", () => {
  const cases: [string, string | Record<string, string>, string, EvalOptions, string, string][] = [
    ["complete rule conflict", "package p\nx := 1\nx := 2", "data.p.x = v", {}, "eval_conflict_error", "complete rules must not produce multiple outputs"],
    ["function conflict", "package p\nf(_) := 1\nf(_) := 2", "data.p.f(1, v)", {}, "eval_conflict_error", "functions must not produce multiple outputs for same inputs"],
    ["object key conflict", 'package p\no[k] := 1 if k := "a"\no[k] := 2 if k := "a"', "data.p.o = v", {}, "eval_conflict_error", "object keys must be unique"],
    ["recursion", "package p\na if b\nb if a", "data.p.a = v", {}, "rego_recursion_error", "p.rego:2: rego_recursion_error: rule data.p.a is recursive: data.p.a -> data.p.b -> data.p.a"],
    ["unsafe var", "package p\nr if y > 1", "data.p.r = v", {}, "rego_unsafe_var_error", "p.rego:2: rego_unsafe_var_error: var y is unsafe"],
    ["redeclared var", "package p\nr if { x := 1; x := 2 }", "data.p.r = v", {}, "rego_compile_error", "var x assigned above"],
    ["unknown function", "package p\nr if foo.bar(1)", "data.p.r = v", {}, "rego_type_error", "p.rego:2: rego_type_error: undefined function foo.bar"],
    ["not provided", "package p\nr if http.send({})", "data.p.r = v", {}, "rego_type_error", "http.send is not provided"],
    ["arity", "package p\nr if count(1, 2, 3)", "data.p.r = v", {}, "rego_type_error", "count: arity mismatch"],
    ["strict built-in error", 'package p\nr := concat(",", [1])', "data.p.r = v", { strict: true }, "eval_type_error", "p.rego:2: eval_type_error: concat: operand 2"],
  ];
  for (const [name, src, q, opts, code, text] of cases) {
    test(name, async () => {
      const err = await errorOf(() => query(src, q, opts));
      expect(err.regoCode).toBe(code);
      expect(err.message).toContain(text);
    });
  }

  test("outside strict mode a built-in error is undefined", async () => {
    expect(await query('package p\nr := concat(",", [1])', "data.p.r = v")).toEqual([]);
  });

  test("a syntax error names file, line and column", async () => {
    const err = await errorOf(() => Rego.compile({ modules: { "a.rego": "package p\nx := }" } }));
    expect(err.code).toBe("FICUS_POLICY_SYNTAX");
    expect(err.message).toBe("a.rego:2:6: rego_parse_error: unexpected } token");
  });

  test("every error of a compile is reported", async () => {
    const err = await errorOf(() => Rego.compile({ modules: { "a.rego": "package p\nr if y\ns if nope(1)" } }));
    expect(err.errors.length).toBe(2);
  });
});

describe("budgets", () => {
  const src = "package p\nxs := numbers.range(1, 400)\nn := count([1 | some a in xs; some b in xs; some c in xs])";

  test("the step budget stops a runaway evaluation", async () => {
    const p = await Rego.compile({ modules: { "p.rego": src } });
    const err = await errorOf(() => p.evaluate("data.p.n", { budget: { steps: 10_000 } }));
    expect(err.code).toBe("FICUS_POLICY_BUDGET");
    expect(err.message).toContain("step budget");
  });

  test("the time budget too", async () => {
    const p = await Rego.compile({ modules: { "p.rego": src } });
    const err = await errorOf(() => p.evaluate("data.p.n", { budget: { steps: 1e12, timeMs: 20 } }));
    expect(err.code).toBe("FICUS_POLICY_BUDGET");
    expect(err.message).toContain("time budget");
  });

  test("deeply nested input is a budget error, not a crash", async () => {
    const p = await Rego.compile({ modules: { "p.rego": "package p\nr if input == input" } });
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const err = await errorOf(() => p.evaluate("data.p.r", { input: deep }));
    expect(err.code).toBe("FICUS_POLICY_BUDGET");
  });
});

describe("api", () => {
  test("evaluate, prepare, withData and rules", async () => {
    const p = await Rego.compile({ modules: { "a.rego": "package authz\nallow if data.users[input.user].admin\nroles contains r if some r in data.roles" }, data: { users: { ann: { admin: true } }, roles: ["a"] } });
    expect(p.evaluate("data.authz.allow", { input: { user: "ann" } })).toBe(true);
    expect(p.evaluate("data.authz.allow", { input: { user: "bob" } })).toBeUndefined();
    const prepared = p.prepare("data.authz.roles");
    expect(prepared.evaluate()).toEqual(["a"]);
    const p2 = p.withData({ users: { bob: { admin: true } }, roles: null });
    expect(p2.evaluate("data.authz.allow", { input: { user: "bob" } })).toBe(true);
    expect(p2.evaluate("data.authz.allow", { input: { user: "ann" } })).toBe(true);
    expect(p2.evaluate("data.authz.roles")).toEqual([]);
    expect(p.rules().map((r) => [r.ref, r.file, r.line])).toEqual([
      ["data.authz.allow", "a.rego", 2],
      ["data.authz.roles", "a.rego", 3],
    ]);
  });

  test("parseTerm reads Rego terms", () => {
    expect(toJSON(Rego.parseTerm('{"a": {1, 2}, "b": [null, true]}'))).toEqual({ a: [1, 2], b: [null, true] });
    expect(() => Rego.parseTerm("{1,")).toThrow(RegoError);
  });

  test("print goes to the callback, undefined shown as <undefined>", async () => {
    const lines: string[] = [];
    await query('package p\nr if print("x", input.a, input.nope)', "data.p.r = v", { input: { a: [1] }, print: (l) => lines.push(l) });
    expect(lines).toEqual(["x [1] <undefined>"]);
  });
});

describe("determinism", () => {
  test("the same policy, input and data give the same results in the same order", async () => {
    const src = `package p
s contains [k, v] if some k, v in input
o[k] := count(v) if { some k, v in input; is_array(v) }
r := [x | some x in input.a; x > 1]`;
    const policy = await Rego.compile({ modules: { "p.rego": src } });
    const json = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null), fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 2 }), tie("v"), { maxKeys: 3 })),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 3 }), json, { maxKeys: 4 }), (input) => {
        const a = JSON.stringify(policy.query("data.p = v; x := data.p.s[_]", { input }).map((b) => toJSON(b.x ?? null)));
        const b = JSON.stringify(policy.query("data.p = v; x := data.p.s[_]", { input: structuredClone(input) }).map((b) => toJSON(b.x ?? null)));
        expect(a).toBe(b);
      }),
      { numRuns: 200 },
    );
  });
});
