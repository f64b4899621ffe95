/**
 * The one-pass equality of two JSON texts (json-text-equal.ts) against the
 * full structural diff it stands in for: when it says equal, the diff finds
 * nothing; when the diff finds nothing (documents without repeated keys), it
 * says equal. Table cases for the tricky spellings, then property tests.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Budget } from "../../../src/compare/budget.ts";
import { type DiffSink, diffJson } from "../../../src/compare/diff-json.ts";
import { type CompareRulesInput, compileRules, compileRulesInput, type CompiledRules, parseJson } from "../../../src/compare/index.ts";
import { equalJsonTexts } from "../../../src/compare/json-text-equal.ts";

const unlimited = () => new Budget(Number.POSITIVE_INFINITY);

/** The full path: parse both, walk both trees. Undefined when either is not JSON. */
function fullEqual(a: string, b: string, rules: CompiledRules): boolean | undefined {
  const x = parseJson(a);
  const y = parseJson(b);
  if (x === undefined || y === undefined) return undefined;
  const sink: DiffSink = { differences: [], truncated: false };
  diffJson(x, y, rules, sink, unlimited());
  return sink.differences.length === 0;
}

const fast = (a: string, b: string, rules: CompiledRules) => equalJsonTexts(a, b, rules, unlimited());

describe("spellings", () => {
  const rules = compileRules();
  const cases: [string, string, string, boolean][] = [
    ["keys in another order", '{"a":1,"b":[1,2],"c":{"x":1,"y":2}}', '{"c":{"y":2,"x":1},"b":[1,2],"a":1}', true],
    ["whitespace", '{ "a" : [ 1 , 2 ] }', '{"a":[1,2]}', true],
    ["numbers by value", "[1, 1.0, 10, 0.5, -0, 1e2]", "[1.0, 1, 1e1, 5e-1, 0, 100]", true],
    ["integers beyond a double", "[9007199254740993]", "[9007199254740992]", false],
    ["long decimals", "[0.10000000000000000001]", "[0.1]", false],
    ["escapes by value", '{"s":"caf\\u00e9 \\"q\\" \\/"}', '{"s":"café \\"q\\" /"}', true],
    ["escaped keys", '{"\\u0061":1}', '{"a":1}', true],
    ["a longer number is not a prefix match", "[12]", "[123]", false],
    ["a longer string", '["ab"]', '["abc"]', false],
    ["an extra key", '{"a":1}', '{"a":1,"b":2}', false],
    ["a missing key", '{"a":1,"b":2}', '{"a":1}', false],
    ["array lengths", "[1,2]", "[1,2,3]", false],
    ["types", '{"a":"1"}', '{"a":1}', false],
    ["literals", "[true,false,null]", "[true,false,null]", true],
    ["null vs false", "[null]", "[false]", false],
    ["empty containers", '{"a":{},"b":[]}', '{"b":[],"a":{}}', true],
    ["empty vs not", '{"a":{}}', '{"a":{"x":1}}', false],
  ];
  test.each(cases)("%s", (_name, a, b, want) => {
    expect(fast(a, b, rules)).toBe(want);
    expect(fast(b, a, rules)).toBe(want);
    expect(fullEqual(a, b, rules)).toBe(want);
  });

  test.each([
    ["trailing garbage", '{"a":1}', '{"a":1} x'],
    ["a bad escape", '["\\x"]', '["\\x"]'],
    ["a control character", '["a\u0001"]', '["a\u0001"]'],
    ["an unclosed array", "[1,2", "[1,2"],
    ["a trailing comma", "[1,2,]", "[1,2,]"],
    ["a leading zero", "[01]", "[01]"],
    ["NaN", "[NaN]", "[NaN]"],
    ["single quotes", "{'a':1}", "{'a':1}"],
  ])("not JSON, so never equal here: %s", (_name, a, b) => {
    expect(fast(a, b, rules)).toBe(false);
  });

  test("a difference deep down costs a bounded number of passes, not one per level", () => {
    const deep = (leaf: string) => '{"a":'.repeat(5000) + leaf + "}".repeat(5000);
    const t0 = performance.now();
    expect(fast(deep("1"), deep("2"), rules)).toBe(false);
    expect(fast(deep("1"), deep("1.0"), rules)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  test("repeated keys are left to the full diff (JSON.parse keeps the last)", () => {
    expect(fast('{"a":1}', '{"b":2,"a":2,"a":1}', rules)).toBe(false);
    expect(fullEqual('{"a":1}', '{"a":2,"a":1}', rules)).toBe(true);
  });

  test("regression (found by the property test on CI): a legacy key the candidate lacks is not hidden by a null extra key of the candidate", () => {
    const r = compileRulesInput({ null_equals_missing: true });
    expect(fast('{"":[]}', '{" ":null}', r)).toBe(false);
    expect(fullEqual('{"":[]}', '{" ":null}', r)).toBe(false);
    expect(fast('{"a":1,"b":null}', '{"a":1,"c":null}', r)).toBe(true);
  });

  test("rules: ignored and null-equals-missing keys, keyed arrays, tolerance", () => {
    const r = compileRulesInput({ ignore: ["$.meta"], null_equals_missing: true, arrays: { "$.items": { key: "id" } }, numbers: { abs: 0.01 } });
    expect(fast('{"meta":1,"x":null,"items":[{"id":1},{"id":2}],"n":1.001}', '{"items":[{"id":2},{"id":1}],"n":1,"y":null,"big":[1,2,3,4,5,6,7,8,9,10]}', r)).toBe(false);
    expect(fast('{"meta":1,"x":null,"items":[{"id":1},{"id":2}],"n":1.001}', '{"items":[{"id":2},{"id":1}],"n":1,"y":null}', r)).toBe(true);
    expect(fullEqual('{"meta":1,"x":null,"items":[{"id":1},{"id":2}],"n":1.001}', '{"items":[{"id":2},{"id":1}],"n":1,"y":null}', r)).toBe(true);
  });
});

/** Rewrites a value's objects with their keys in another order (a seeded shuffle). */
function reorder(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => reorder(x, seed + i));
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v);
  const order = keys.map((k, i) => [k, (Math.sin(seed * 31 + i * 7) * 1e4) % 1] as const).sort((x, y) => x[1] - y[1]);
  return Object.fromEntries(order.map(([k]) => [k, reorder((v as Record<string, unknown>)[k], seed + 1)]));
}

/** Changes one leaf (the n-th visited) of a value. */
function mutate(v: unknown, n: { left: number }): unknown {
  if (Array.isArray(v)) return v.map((x) => mutate(x, n));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mutate(x, n)]));
  if (n.left-- !== 0) return v;
  return typeof v === "number" ? v + 1 : typeof v === "string" ? `${v}!` : v === null ? 0 : !v;
}

const RULE_SETS: CompareRulesInput[] = [
  {},
  { null_equals_missing: true },
  { ignore: ["$..a", "$[0]"] },
  { arrays: { "$..*": "unordered" } },
  { numbers: { abs: 0.5 } },
  { normalize: [{ path: "$..*", pattern: "\\d", replace: "#" }] },
];

describe("against the full diff (property)", () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  const spacing = fc.constantFrom(undefined, 1, "\t");

  test("a value against itself, reordered and re-spaced: equal on both paths", () => {
    fc.assert(
      fc.property(json, fc.integer(), spacing, (v, seed, space) => {
        const a = JSON.stringify(v);
        const b = JSON.stringify(reorder(v, seed), null, space);
        return fast(a, b, compileRules()) && fullEqual(a, b, compileRules()) === true;
      }),
      { numRuns: 500 },
    );
  });

  test("any two values, a value and a changed copy, under several rule sets: the fast path never says equal when the diff does not, and (without rules) says equal whenever the diff does", () => {
    const compiled = RULE_SETS.map((r) => compileRulesInput(r));
    fc.assert(
      fc.property(json, json, fc.nat(20), fc.integer(), spacing, fc.nat(RULE_SETS.length - 1), (v, w, n, seed, space, r) => {
        const rules = compiled[r] as CompiledRules;
        const a = JSON.stringify(v);
        for (const other of [w, mutate(v, { left: n }), reorder(v, seed)]) {
          const b = JSON.stringify(other, null, space);
          const full = fullEqual(a, b, rules);
          const quick = fast(a, b, rules);
          if (quick && full !== true) return false;
          if (r === 0 && full === true && !quick) return false;
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });

  test("broken texts are never equal on the fast path unless both parse and are equal", () => {
    fc.assert(
      fc.property(json, fc.nat(), fc.constantFrom("", ",", "]", "}", '"', "\\", "x", "0"), (v, at, insert) => {
        const a = JSON.stringify(v);
        const pos = at % (a.length + 1);
        const b = a.slice(0, pos) + insert + a.slice(pos + (insert === "" ? 1 : 0));
        const quick = fast(b, b, compileRules()) || fast(a, b, compileRules());
        return !quick || fullEqual(a, b, compileRules()) === true || fullEqual(b, b, compileRules()) === true;
      }),
      { numRuns: 1000 },
    );
  });
});
