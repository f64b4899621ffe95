/**
 * Indexed scans (`some x in data.coll; x.f == v` looked up through a field
 * index, eval/index.ts): the same results in the same order as the plain
 * scan, over random collections (arrays, objects, sets; duplicates, missing
 * fields, fields of every type) and inputs; `with` overrides and mocks; and the
 * index is really used (a step budget a scan would exceed).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type Policy, Rego, RegoError } from "../../../../src/policy/rego/api.ts";

/** Every rule scans `src` (data.coll or input.coll) filtered by ground equality in one of the shapes the indexer recognizes. */
function module(pkg: string, src: string, target: string): string {
  return `package ${pkg}

pairs := [[k, x] | some k, x in ${src}; x.f == input.v]
reversed := [x | some x in ${src}; input.v == x.f]
unified := [[k, x] | some k, x in ${src}; x.f.g = input.v]
indexed := [x | some _, x in ${src}; x[0] == input.v]
whole := [x | some x in ${src}; x == input.v]
constant := [x | some x in ${src}; x.f == 1]
local := [x | w := input.v; some x in ${src}; x.f == w]
two := [x | some x in ${src}; x.f == input.v; x.h == input.w]
then := [[x, y] | some x in ${src}; x.f == input.v; some y in ${src}; y.h == x.f]
nested := [x | some x in ${src}; x.f == input.v; every y in [1] { y != x.h }]
assigned := [x | x := ${src}[_]; x.f == input.v]
keyed := [[k, x] | x := ${src}[k]; x.f == input.v]
unified_ref := [x | ${src}[_] = x; x.f == input.v]
in_ref := [k | ${src}[k].f == input.v]
in_ref_any := [1 | input.v = ${src}[_].f.g]
in_ref_self := [k | ${src}[k] == input.v]
first if {
	some x in ${src}
	x.f == input.v
}
count_hits := count({x | some x in ${src}; x.f == input.v})
over := r if r := [x | some x in ${src}; x.f == input.v] with ${target} as input.other
mocked := r if r := [x | some x in ${src}; x.f == input.v] with startswith as true
`;
}

const POOL = [1, 2, "1", "a", null, true, false, 1.5, 1e30, 10n ** 30n, 0.1, [1], [1, 2], { g: 1 }, { g: "a" }, { g: [1] }];
const field = fc.constantFrom(...POOL);
const element = fc.oneof(
  fc.record({ f: field }),
  fc.record({ f: field, h: field }),
  fc.record({ h: field }),
  fc.constantFrom<unknown>("f", 1, null, [1], [2, 1], ["a"], {}),
);
type Shape = "array" | "object" | "set";
const collection = fc.tuple(fc.constantFrom<Shape>("array", "object", "set"), fc.array(element, { minLength: 0, maxLength: 60, size: "max" })).map(([shape, items]) => {
  if (shape === "array") return items;
  if (shape === "set") return new Set(items);
  return Object.fromEntries(items.map((x, i) => [`k${(i * 7) % 23}`, x]));
});
const inputValue = fc.option(field, { nil: undefined });

function evalAll(policy: Policy, ref: string, input: unknown): unknown {
  try {
    return policy.evaluate(ref, { input });
  } catch (e) {
    if (e instanceof RegoError) return { error: e.message };
    throw e;
  }
}

describe("indexed scans", () => {
  test("give exactly the plain scan's results, in its order (property)", () => {
    fc.assert(
      fc.property(collection, fc.array(fc.tuple(inputValue, inputValue, fc.array(element, { maxLength: 20 })), { minLength: 1, maxLength: 5 }), (coll, inputs) => {
        const indexed = Rego.compileSync({ modules: { "t.rego": module("t", "data.coll", "data.coll") }, data: { coll } });
        const plain = Rego.compileSync({ modules: { "t.rego": module("t", "input.coll", "input.coll") }, data: {} });
        // Several rounds: the first scans (collection seen once), later ones go through the index.
        for (let round = 0; round < 3; round++) {
          for (const [v, w, other] of inputs) {
            const got = evalAll(indexed, "data.t", { v, w, other });
            const want = evalAll(plain, "data.t", { v, w, other, coll });
            expect(got).toEqual(want);
          }
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  test("the index is used: a step budget far below the collection's size suffices once it is built", () => {
    const bindings = Array.from({ length: 5000 }, (_, i) => ({ user: `u${i % 2500}`, role: `r${i}` }));
    const policy = Rego.compileSync({
      modules: { "r.rego": "package r\nroles contains b.role if {\n\tsome b in data.bindings\n\tb.user == input.user\n}\n" },
      data: { bindings },
    });
    const first = policy.evaluate("data.r.roles", { input: { user: "u7" } });
    expect(first).toEqual(["r2507", "r7"]);
    expect(() => policy.evaluate("data.r.roles", { input: { user: "u7" }, budget: { steps: 100 } })).not.toThrow();
    expect(policy.evaluate("data.r.roles", { input: { user: "u8" }, budget: { steps: 100 } })).toEqual(["r2508", "r8"]);
    expect(policy.evaluate("data.r.roles", { input: { user: "nobody" }, budget: { steps: 100 } })).toEqual([]);
    for (const form of ["data.bindings[i].user == input.user; b := data.bindings[i]", "b := data.bindings[_]", "data.bindings[i] = b", "some i, b in data.bindings", "b = data.bindings[_]"]) {
      const p = Rego.compileSync({ modules: { "f.rego": `package f\nroles contains b.role if {\n\t${form}\n\tinput.user = b.user\n}\n` }, data: { bindings } });
      expect(p.evaluate("data.f.roles", { input: { user: "u7" } })).toEqual(["r2507", "r7"]);
      expect(p.evaluate("data.f.roles", { input: { user: "u9" }, budget: { steps: 100 } })).toEqual(["r2509", "r9"]);
    }
    // withData keeps unchanged collections (and their indexes); a patched one is scanned anew.
    const patched = policy.withData({ bindings: [...bindings, { user: "u7", role: "extra" }] });
    expect(patched.evaluate("data.r.roles", { input: { user: "u7" } })).toEqual(["extra", "r2507", "r7"]);
    // A scan over input is never indexed: the budget is exceeded.
    const scan = Rego.compileSync({ modules: { "s.rego": "package s\nroles contains b.role if {\n\tsome b in input.bindings\n\tb.user == input.user\n}\n" } });
    expect(() => scan.evaluate("data.s.roles", { input: { user: "u7", bindings }, budget: { steps: 100 } })).toThrow(/step budget/);
  });

  test("with data.<coll> and mocked equal bypass the index", () => {
    const coll = Array.from({ length: 40 }, (_, i) => ({ f: i % 4 }));
    const policy = Rego.compileSync({
      modules: {
        "m.rego": `package m
hits := [i | some i, x in data.coll; x.f == input.v]
over := r if r := hits with data.coll as [{"f": 1}, {"f": 2}, {"f": 1}]
eq(_, _) := true
mocked := r if r := hits with equal as eq
`,
      },
      data: { coll },
    });
    for (let round = 0; round < 3; round++) {
      expect(policy.evaluate("data.m.hits", { input: { v: 1 } })).toEqual([1, 5, 9, 13, 17, 21, 25, 29, 33, 37]);
      expect(policy.evaluate("data.m.over", { input: { v: 1 } })).toEqual([0, 2]);
      expect((policy.evaluate("data.m.mocked", { input: { v: 1 } }) as unknown[]).length).toBe(40);
    }
  });

  test("scans binding fresh variables directly: arrays, objects, sets, with keys, every", () => {
    const policy = Rego.compileSync({
      modules: {
        "b.rego": `package b
arr := [[k, v] | some k, v in ["x", "y", "x"]]
obj := [[k, v] | some k, v in {"b": 2, "a": 1, 3: 0}]
set := [[k, v] | some k, v in {"z", "a", 1}]
vals := [v | some v in {"b": 2, "a": 1}]
early if { some v in [1, 2, 3]; v == 2 }
all_pos if { every k, v in {"a": 1, "b": 2} { v > 0; k != "c" } }
not_all if { every v in [1, -1, 2] { v > 0 } }
empty_every if { every v in [] { v > 100 } }
every_key if { every k, _ in [5, 6] { k < 2 } }
nested := [[a, b] | some a in [1, 2]; some b in {"p": a}; every c in [a] { c == b }]
`,
      },
    });
    expect(policy.evaluate("data.b")).toEqual({
      arr: [[0, "x"], [1, "y"], [2, "x"]],
      obj: [[3, 0], ["a", 1], ["b", 2]],
      set: [[1, 1], ["a", "a"], ["z", "z"]],
      vals: [1, 2],
      early: true,
      all_pos: true,
      empty_every: true,
      every_key: true,
      nested: [[1, 1], [2, 2]],
    });
  });
});
