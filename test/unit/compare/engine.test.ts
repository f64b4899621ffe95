/** The compare engine, table-driven: each rule with many cases, plus the invariants as property tests. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CompareRulesInput, compareDocuments, compareRulesSchema, compileRules, compileRulesInput, type Difference, loadRulesFile } from "../../../src/compare/index.ts";

type Case = [name: string, legacy: string, candidate: string, rules: CompareRulesInput, want: Partial<Difference>[]];

function check(cases: Case[]): void {
  for (const [name, legacy, candidate, rules, want] of cases) {
    test(name, () => {
      const v = compareDocuments(legacy, candidate, compileRulesInput(rules));
      expect(v.differences.map((d) => ({ path: d.path, kind: d.kind }))).toEqual(want.map((w) => ({ path: w.path as string, kind: w.kind as Difference["kind"] })));
      for (let i = 0; i < want.length; i++) expect(v.differences[i]).toMatchObject(want[i] as object);
      expect(v.equal).toBe(want.length === 0);
    });
  }
}

describe("values, types and structure", () => {
  check([
    ["identical", '{"a":1}', '{"a":1}', {}, []],
    ["key order never matters", '{"a":1,"b":{"x":1,"y":2}}', '{"b":{"y":2,"x":1},"a":1}', {}, []],
    ["whitespace never matters", '{ "a" : [ 1 , 2 ] }', '{"a":[1,2]}', {}, []],
    ["a changed value", '{"a":1}', '{"a":2}', {}, [{ path: "$.a", kind: "value", severity: "medium", legacy: 1, candidate: 2 }]],
    ["a changed string", '{"s":"x"}', '{"s":"y"}', {}, [{ path: "$.s", kind: "value", legacy: "x", candidate: "y" }]],
    ["a changed boolean", '{"b":true}', '{"b":false}', {}, [{ path: "$.b", kind: "value" }]],
    ["number vs string is a type change", '{"a":10}', '{"a":"10"}', {}, [{ path: "$.a", kind: "type", severity: "high" }]],
    ["null vs value is a type change", '{"a":null}', '{"a":0}', {}, [{ path: "$.a", kind: "type" }]],
    ["object vs array", '{"a":{}}', '{"a":[]}', {}, [{ path: "$.a", kind: "type" }]],
    ["a missing key", '{"a":1,"b":2}', '{"a":1}', {}, [{ path: "$.b", kind: "missing", severity: "high", legacy: 2, candidate: undefined }]],
    ["an extra key", '{"a":1}', '{"a":1,"c":3}', {}, [{ path: "$.c", kind: "extra", severity: "low", candidate: 3 }]],
    ["nested paths", '{"a":{"b":[{"c":1}]}}', '{"a":{"b":[{"c":2}]}}', {}, [{ path: "$.a.b[0].c", kind: "value" }]],
    ["odd keys are quoted", '{"a b":1}', '{"a b":2}', {}, [{ path: "$['a b']", kind: "value" }]],
    ["top-level scalars", "1", "2", {}, [{ path: "$", kind: "value" }]],
    ["top-level type change", "[1]", '{"0":1}', {}, [{ path: "$", kind: "type" }]],
  ]);
});

describe("numbers by value, without losing precision", () => {
  check([
    ["10 = 10.0", '{"n":10}', '{"n":10.0}', {}, []],
    ["10 = 1e1", '{"n":10}', '{"n":1e1}', {}, []],
    ["0.5 = 5E-1", '{"n":0.5}', '{"n":5E-1}', {}, []],
    ["-0 = 0", '{"n":-0}', '{"n":0}', {}, []],
    ["2^53+1 ≠ 2^53", '{"n":9007199254740993}', '{"n":9007199254740992}', {}, [{ path: "$.n", kind: "value", legacy: "9007199254740993", candidate: 9007199254740992 }]],
    ["large equal integers", '{"n":123456789012345678901234567890}', '{"n":1.2345678901234567890123456789e29}', {}, []],
    ["long decimals differ", '{"n":0.10000000000000000001}', '{"n":0.1}', {}, [{ path: "$.n", kind: "value" }]],
    ["huge exponents differ", '{"n":1e400}', '{"n":2e400}', {}, [{ path: "$.n", kind: "value" }]],
    ["abs tolerance accepts", '{"n":1.0004}', '{"n":1.0}', { numbers: { abs: 0.001 } }, []],
    ["abs tolerance rejects", '{"n":1.002}', '{"n":1.0}', { numbers: { abs: 0.001 } }, [{ path: "$.n", kind: "value" }]],
    ["abs tolerance is exact at the bound", '{"n":1.001}', '{"n":1.0}', { numbers: { abs: 0.001 } }, []],
    ["rel tolerance accepts", '{"n":1000}', '{"n":1009}', { numbers: { rel: 0.01 } }, []],
    ["rel tolerance rejects", '{"n":1000}', '{"n":1011}', { numbers: { rel: 0.01 } }, [{ path: "$.n", kind: "value" }]],
    ["tolerance keeps big-integer precision", '{"n":9007199254740993}', '{"n":9007199254740992}', { numbers: { abs: 0.5 } }, [{ path: "$.n", kind: "value" }]],
    ["tolerance with precise values", '{"n":9007199254740993}', '{"n":9007199254740992}', { numbers: { abs: 1 } }, []],
  ]);
});

describe("ignore (JSONPath)", () => {
  check([
    ["a key", '{"meta":{"request_id":"a"},"v":1}', '{"meta":{"request_id":"b"},"v":1}', { ignore: ["$.meta.request_id"] }, []],
    ["a whole subtree", '{"meta":{"a":1,"b":2}}', '{"meta":{"a":3}}', { ignore: ["$.meta"] }, []],
    ["[*] over array elements", '{"items":[{"u":1,"v":1},{"u":2,"v":1}]}', '{"items":[{"u":9,"v":1},{"u":8,"v":1}]}', { ignore: ["$.items[*].u"] }, []],
    ["[*] does not hide other fields", '{"items":[{"u":1,"v":1}]}', '{"items":[{"u":9,"v":2}]}', { ignore: ["$.items[*].u"] }, [{ path: "$.items[0].v", kind: "value" }]],
    ["..name at any depth", '{"etag":"1","a":{"etag":"2","b":[{"etag":"3"}]}}', '{"etag":"x","a":{"etag":"y","b":[{"etag":"z"}]}}', { ignore: ["$..etag"] }, []],
    ["an ignored key may be missing", '{"a":1,"ts":5}', '{"a":1}', { ignore: ["$.ts"] }, []],
    ["an ignored key may be extra", '{"a":1}', '{"a":1,"ts":5}', { ignore: ["$.ts"] }, []],
    ["index selector", '{"a":[1,2,3]}', '{"a":[9,2,3]}', { ignore: ["$.a[0]"] }, []],
    ["index selector is exact", '{"a":[1,2,3]}', '{"a":[1,9,3]}', { ignore: ["$.a[0]"] }, [{ path: "$.a[1]", kind: "value" }]],
    ["quoted keys", '{"x y":1}', '{"x y":2}', { ignore: ["$['x y']"] }, []],
    ["wildcard key", '{"a":{"p":1,"q":2}}', '{"a":{"p":3,"q":4}}', { ignore: ["$.a.*"] }, []],
  ]);
});

describe("null_equals_missing", () => {
  check([
    ["off: null vs absent differs", '{"a":null}', "{}", {}, [{ path: "$.a", kind: "missing" }]],
    ["on: null vs absent is equal", '{"a":null}', "{}", { null_equals_missing: true }, []],
    ["on: absent vs null is equal", "{}", '{"a":null}', { null_equals_missing: true }, []],
    ["on: a value vs absent still differs", '{"a":0}', "{}", { null_equals_missing: true }, [{ path: "$.a", kind: "missing" }]],
  ]);
});

describe("arrays", () => {
  check([
    ["ordered by default", '{"a":[1,2]}', '{"a":[1,3]}', {}, [{ path: "$.a[1]", kind: "value" }]],
    ["reordered is one order difference", '{"a":[1,2,3]}', '{"a":[3,1,2]}', {}, [{ path: "$.a", kind: "order", severity: "medium" }]],
    ["longer candidate", '{"a":[1]}', '{"a":[1,2]}', {}, [{ path: "$.a[1]", kind: "extra" }]],
    ["shorter candidate", '{"a":[1,2]}', '{"a":[1]}', {}, [{ path: "$.a[1]", kind: "missing" }]],
    ["unordered: permutation is equal", '{"tags":["a","b","c"]}', '{"tags":["c","a","b"]}', { arrays: { "$.tags": "unordered" } }, []],
    ["unordered: multiplicity counts", '{"tags":["a","a"]}', '{"tags":["a","b"]}', { arrays: { "$.tags": "unordered" } }, [{ path: "$.tags[1]", kind: "value" }]],
    ["unordered: objects with key order differences", '{"a":[{"x":1,"y":2},{"x":3}]}', '{"a":[{"x":3},{"y":2,"x":1}]}', { arrays: { "$.a": "unordered" } }, []],
    ["unordered: numbers by value", '{"a":[10,1]}', '{"a":[1,1e1]}', { arrays: { "$.a": "unordered" } }, []],
    ["unordered: an extra element", '{"a":[1]}', '{"a":[1,2]}', { arrays: { "$.a": "unordered" } }, [{ path: "$.a[1]", kind: "extra" }]],
    ["keyed: matched by id, order ignored", '{"items":[{"id":1,"p":1},{"id":2,"p":2}]}', '{"items":[{"id":2,"p":2},{"id":1,"p":1}]}', { arrays: { "$.items": { key: "id" } } }, []],
    ["keyed: a field difference is reported by key", '{"items":[{"id":1,"p":1},{"id":2,"p":2}]}', '{"items":[{"id":2,"p":3},{"id":1,"p":1}]}', { arrays: { "$.items": { key: "id" } } }, [{ path: "$.items[id=2].p", kind: "value" }]],
    ["keyed: missing and extra elements", '{"items":[{"id":1},{"id":2}]}', '{"items":[{"id":2},{"id":3}]}', { arrays: { "$.items": { key: "id" } } }, [{ path: "$.items[id=1]", kind: "missing" }, { path: "$.items[id=3]", kind: "extra" }]],
    ["keyed: string keys", '{"u":[{"k":"a","v":1}]}', '{"u":[{"k":"a","v":2}]}', { arrays: { "$.u": { key: "k" } } }, [{ path: "$.u[k=a].v", kind: "value" }]],
    ["keyed: rules apply inside keyed elements", '{"items":[{"id":1,"t":"x"}]}', '{"items":[{"id":1,"t":"y"}]}', { arrays: { "$.items": { key: "id" } }, ignore: ["$.items[*].t"] }, []],
    ["regression: keyed, duplicate keys are matched as a multiset", '[{"id":1,"v":1},{"id":1,"v":2}]', '[{"id":1,"v":2},{"id":1,"v":1}]', { arrays: { $: { key: "id" } } }, []],
    ["keyed: a changed duplicate is reported by its key", '[{"id":1,"v":1},{"id":1,"v":2}]', '[{"id":1,"v":2},{"id":1,"v":3}]', { arrays: { $: { key: "id" } } }, [{ path: "$[id=1].v", kind: "value", legacy: 1, candidate: 3 }]],
    ["keyed: one more duplicate is extra", '[{"id":1,"v":1}]', '[{"id":1,"v":1},{"id":1,"v":1}]', { arrays: { $: { key: "id" } } }, [{ path: "$[id=1]", kind: "extra" }]],
    ["keyed: duplicates equal under the rules", '[{"id":1,"v":1,"t":"a"},{"id":1,"v":2,"t":"b"}]', '[{"id":1,"v":2,"t":"c"},{"id":1,"v":1,"t":"d"}]', { arrays: { $: { key: "id" } }, ignore: ["$[*].t"] }, []],
    ["regression: keyed, 1 and \"1\" are different keys", '[{"id":1}]', '[{"id":"1"}]', { arrays: { $: { key: "id" } } }, [{ path: "$[id=1]", kind: "missing" }, { path: '$[id="1"]', kind: "extra" }]],
    ["regression: keyed, true and \"true\" are different keys (were matched as one)", '[{"id":true,"v":1}]', '[{"id":"true","v":1}]', { arrays: { $: { key: "id" } } }, [{ path: "$[id=true]", kind: "missing" }, { path: '$[id="true"]', kind: "extra" }]],
    ["keyed: null and \"null\" are different keys", '[{"id":null}]', '[{"id":"null"}]', { arrays: { $: { key: "id" } } }, [{ path: "$[id=null]", kind: "missing" }, { path: '$[id="null"]', kind: "extra" }]],
    ["keyed: 1 and 1.0 are one key (numbers by value)", '[{"id":1,"v":1}]', '[{"id":1.0,"v":1}]', { arrays: { $: { key: "id" } } }, []],
    ["keyed: object keys by value", '[{"id":{"a":1,"b":2},"v":1}]', '[{"id":{"b":2,"a":1},"v":2}]', { arrays: { $: { key: "id" } } }, [{ path: '$[id={"a":1,"b":2}].v', kind: "value" }]],
    ["unordered: elements equal under the rules are matched", '{"a":[{"k":1,"t":1},{"k":2,"t":2}]}', '{"a":[{"k":2,"t":9},{"k":1,"t":8}]}', { arrays: { "$.a": "unordered" }, ignore: ["$.a[*].t"] }, []],
    ["nested array rule via ..", '{"a":{"b":{"tags":[1,2]}}}', '{"a":{"b":{"tags":[2,1]}}}', { arrays: { "$..tags": "unordered" } }, []],
  ]);
});

describe("timestamps as instants", () => {
  const rules = { timestamps: ["$.at", "$..updated_at"] };
  check([
    ["Z vs offset", '{"at":"2026-11-21T10:00:00Z"}', '{"at":"2026-11-21T11:00:00+01:00"}', rules, []],
    ["space separator and offset without colon", '{"at":"2026-11-21T10:00:00Z"}', '{"at":"2026-11-21 05:00:00-0500"}', rules, []],
    ["fractional zeros", '{"at":"2026-11-21T10:00:00Z"}', '{"at":"2026-11-21T10:00:00.000000Z"}', rules, []],
    ["microseconds differ", '{"at":"2026-11-21T10:00:00.000001Z"}', '{"at":"2026-11-21T10:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["HTTP date vs ISO", '{"at":"Sat, 21 Nov 2026 10:00:00 GMT"}', '{"at":"2026-11-21T10:00:00Z"}', rules, []],
    ["epoch seconds vs ISO", '{"at":1795255200}', '{"at":"2026-11-21T10:00:00Z"}', rules, []],
    ["epoch milliseconds vs ISO", '{"at":1795255200000}', '{"at":"2026-11-21T10:00:00Z"}', rules, []],
    ["a different instant", '{"at":"2026-11-21T10:00:00Z"}', '{"at":"2026-11-21T10:00:01Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["descendant rule", '{"x":[{"updated_at":"2026-01-01T00:00:00Z"}]}', '{"x":[{"updated_at":"2026-01-01T01:00:00+01:00"}]}', rules, []],
    ["not a timestamp: compared as a value", '{"at":"soon"}', '{"at":"later"}', rules, [{ path: "$.at", kind: "value" }]],
    ["regression: February 30 is not an instant (was rolled over to March 1)", '{"at":"2024-02-30T00:00:00Z"}', '{"at":"2024-03-01T00:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["regression: 24:00 is not an instant (was the next day)", '{"at":"2024-01-01T24:00:00Z"}', '{"at":"2024-01-02T00:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["February 29 of a leap year is", '{"at":"2024-02-29T00:00:00Z"}', '{"at":"2024-02-29T01:00:00+01:00"}', rules, []],
    ["February 29 of 2100 is not", '{"at":"2100-02-29"}', '{"at":"2100-03-01"}', rules, [{ path: "$.at", kind: "value" }]],
    ["month 13 is not", '{"at":"2024-13-01"}', '{"at":"2025-01-01"}', rules, [{ path: "$.at", kind: "value" }]],
    ["minute 60 is not", '{"at":"2024-01-01T10:60:00Z"}', '{"at":"2024-01-01T11:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["second 60 outside a leap second is not", '{"at":"2024-01-01T10:00:60Z"}', '{"at":"2024-01-01T10:01:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["a leap second (23:59:60 UTC, also with an offset) is the next second", '{"at":"2016-12-31T23:59:60Z"}', '{"at":"2016-12-31T15:59:60-08:00"}', rules, []],
    ["offset hours over 23 are not", '{"at":"2024-01-01T10:00:00+24:00"}', '{"at":"2024-01-01T10:00:00+24:00 "}', rules, [{ path: "$.at", kind: "value" }]],
    ["an invalid date still equals itself", '{"at":"2024-02-30T00:00:00Z"}', '{"at":"2024-02-30T00:00:00Z"}', rules, []],
    ["years below 100 are not read as 19xx", '{"at":"0024-01-01T00:00:00Z"}', '{"at":"1924-01-01T00:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["HTTP date: February 30 is not an instant", '{"at":"Fri, 30 Feb 2024 00:00:00 GMT"}', '{"at":"2024-03-01T00:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["HTTP date: a weekday that is not the date's", '{"at":"Mon, 21 Nov 2026 10:00:00 GMT"}', '{"at":"2026-11-21T10:00:00Z"}', rules, [{ path: "$.at", kind: "value" }]],
    ["HTTP date: RFC 850 and asctime forms", '{"at":"Sunday, 06-Nov-94 08:49:37 GMT"}', '{"at":"Sun Nov  6 08:49:37 1994"}', rules, []],
    ["RFC 5322 date with an offset and no weekday", '{"at":"21 Nov 2026 05:00 -0500"}', '{"at":"2026-11-21T10:00:00Z"}', rules, []],
    ["regression: free text is not a date (Date.parse read both as 2001-01-01)", '{"at":"hello 1"}', '{"at":"1"}', rules, [{ path: "$.at", kind: "value" }]],
    ["no rule: formats differ", '{"at":"2026-11-21T10:00:00Z"}', '{"at":"2026-11-21T11:00:00+01:00"}', {}, [{ path: "$.at", kind: "value" }]],
  ]);
});

describe("normalize", () => {
  const uuid = { normalize: [{ path: "$.trace_id", pattern: "^[0-9a-f-]{36}$", replace: "<uuid>" }] };
  check([
    ["two uuids normalize equal", '{"trace_id":"123e4567-e89b-12d3-a456-426614174000"}', '{"trace_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}', uuid, []],
    ["a non-uuid still differs", '{"trace_id":"123e4567-e89b-12d3-a456-426614174000"}', '{"trace_id":"nope"}', uuid, [{ path: "$.trace_id", kind: "value" }]],
    ["replace inside strings", '{"m":"took 12ms"}', '{"m":"took 97ms"}', { normalize: [{ path: "$.m", pattern: "\\d+ms", replace: "Nms" }] }, []],
    ["only at the path", '{"m":"1","n":"1"}', '{"m":"2","n":"2"}', { normalize: [{ path: "$.m", pattern: "\\d", replace: "#" }] }, [{ path: "$.n", kind: "value" }]],
  ]);
});

describe("bodies that are not JSON yield a verdict, never an error", () => {
  check([
    ["Python's NaN is compared as text", '{"x": NaN}', '{"x": NaN}', {}, []],
    ["NaN vs a number", '{"x": NaN}', '{"x": 1}', {}, [{ path: "body", kind: "type" }]],
    ["a truncated body", '{"a":[1,2', '{"a":[1,2]}', {}, [{ path: "body", kind: "type" }]],
    ["text line by line", "a\nb\nc", "a\nB\nc", {}, [{ path: "body:line 2", kind: "value", legacy: "b", candidate: "B" }]],
    ["an inserted line is one difference", "a\nb\nc", "a\nx\nb\nc", {}, [{ path: "body:line 2", kind: "extra", candidate: "x" }]],
    ["a removed line is one difference", "a\nb\nc", "a\nc", {}, [{ path: "body:line 2", kind: "missing", legacy: "b" }]],
    ["empty bodies", "", "", {}, []],
  ]);
});

describe("scale", () => {
  // No time budget in these: they measure the engine, and a loaded machine must not make them incomplete.
  const unlimited = { budgetMs: Number.POSITIVE_INFINITY };

  test("1,000 levels of nesting compare without crashing, fast", () => {
    const deep = (leaf: string) => "[".repeat(1000) + leaf + "]".repeat(1000);
    const t0 = performance.now();
    expect(compareDocuments(deep("1"), deep("1"), compileRules(), unlimited).equal).toBe(true);
    const v = compareDocuments(deep("1"), deep("2"), compileRules(), unlimited);
    expect(v.differences[0]?.kind).toBe("value");
    expect(v.differences[0]?.path).toStartWith("$[0][0]");
    expect(performance.now() - t0).toBeLessThan(500);
  });

  test("100,000 levels of nesting still yield a verdict", () => {
    const deep = (leaf: string) => "[".repeat(100_000) + leaf + "]".repeat(100_000);
    expect(compareDocuments(deep("1"), deep("1"), compileRules(), unlimited).equal).toBe(true);
    expect(compareDocuments(deep("1"), deep("2"), compileRules(), unlimited).equal).toBe(false);
  });

  // Speed is measured in bench/compare.bench.ts; here only a bound that catches a quadratic walk (minutes at this size) on any machine.
  test("100,000-element documents compare in linear time (no time budget)", () => {
    const doc = (f: (i: number) => number) => JSON.stringify({ items: Array.from({ length: 100_000 }, (_, i) => ({ id: i, v: f(i) })) });
    const a = doc((i) => i);
    const b = doc((i) => (i === 77_777 ? -1 : i));
    const t0 = performance.now();
    const v = compareDocuments(a, b, compileRules(), unlimited);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(v.differences).toHaveLength(1);
    expect(v.differences[0]?.path).toBe("$.items[77777].v");
    const t1 = performance.now();
    expect(compareDocuments(a, b, compileRulesInput({ arrays: { "$.items": { key: "id" } }, budget: "10s" })).differences[0]?.path).toBe("$.items[id=77777].v");
    expect(performance.now() - t1).toBeLessThan(10_000);
  });

  test("differences are capped and the verdict says so", () => {
    const a = JSON.stringify(Array.from({ length: 5000 }, (_, i) => i));
    const b = JSON.stringify(Array.from({ length: 5000 }, (_, i) => -i - 1));
    const v = compareDocuments(a, b, compileRules(), unlimited);
    expect(v.differences.length).toBe(1000);
    expect(v.truncated).toBe(true);
    expect(v.equal).toBe(false);
  });
});

// --- invariants ---
const json = fc.jsonValue({ maxDepth: 4 });

function shuffleKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffleKeys(x, seed + i));
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v);
    entries.sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7) || (a[0] < b[0] ? 1 : -1));
    return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, seed + 1)]));
  }
  return v;
}

describe("properties", () => {
  test("any JSON equals itself", () => {
    fc.assert(fc.property(json, (v) => compareDocuments(JSON.stringify(v), JSON.stringify(v)).equal));
  });

  test("reordering object keys never matters", () => {
    fc.assert(fc.property(json, fc.integer(), (v, seed) => compareDocuments(JSON.stringify(v), JSON.stringify(shuffleKeys(v, seed))).equal));
  });

  test("formatting never matters", () => {
    fc.assert(fc.property(json, (v) => compareDocuments(JSON.stringify(v), JSON.stringify(v, null, 2)).equal));
  });

  test("unordered arrays: any permutation is equal", () => {
    fc.assert(
      fc.property(fc.array(json, { maxLength: 8 }), fc.integer(), (arr, seed) => {
        const perm = [...arr].map((x, i) => [((i + 1) * 2654435761 + seed) % 1000, x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
        return compareDocuments(JSON.stringify({ a: arr }), JSON.stringify({ a: perm }), compileRulesInput({ arrays: { "$.a": "unordered" } })).equal;
      }),
    );
  });

  test("keyed arrays: any permutation is equal, repeated keys included", () => {
    const element = fc.record({ id: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom("0", "1", "true"), fc.boolean()), v: json });
    fc.assert(
      fc.property(fc.array(element, { maxLength: 10 }), fc.integer(), (arr, seed) => {
        const perm = [...arr].map((x, i) => [((i + 1) * 2654435761 + seed) % 1000, x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
        return compareDocuments(JSON.stringify(arr), JSON.stringify(perm), compileRulesInput({ arrays: { $: { key: "id" } } })).equal;
      }),
    );
  });

  test("an ignored path hides any change to it", () => {
    fc.assert(fc.property(json, json, json, (base, x, y) => compareDocuments(JSON.stringify({ base, noise: x }), JSON.stringify({ base, noise: y }), compileRulesInput({ ignore: ["$.noise"] })).equal));
  });

  test("comparison is symmetric in equality", () => {
    fc.assert(fc.property(json, json, (x, y) => compareDocuments(JSON.stringify(x), JSON.stringify(y)).equal === compareDocuments(JSON.stringify(y), JSON.stringify(x)).equal));
  });

  test("a changed number is always found, however it is written", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 1, max: 5 }), (n, scale) => {
        const a = `{"n":${n}}`;
        const same = `{"n":${n}${".".concat("0".repeat(scale))}}`;
        const other = `{"n":${n + 1n}}`;
        return compareDocuments(a, same).equal && !compareDocuments(a, other).equal;
      }),
    );
  });
});

describe("regressions", () => {
  test("a number in a lossless-parsed document is reported as a number when a double holds it (was: \"25.0\" as a string)", () => {
    // The long digit run forces the lossless path.
    const v = compareDocuments('{"id":"1234567890123456789","total":25.0}', '{"id":"1234567890123456789","total":6.25}');
    expect(v.differences).toEqual([{ path: "$.total", kind: "value", severity: "medium", legacy: 25, candidate: 6.25 }]);
  });

  test("hex such as a UUID inside a string does not look like a huge exponent", () => {
    const v = compareDocuments('{"trace":"3f1c0a9b-4e123-8d2e-9f00-1e2f3a4b5c6d","n":1e400}', '{"trace":"3f1c0a9b-4e123-8d2e-9f00-1e2f3a4b5c6d","n":2e400}');
    expect(v.differences.map((d) => d.path)).toEqual(["$.n"]);
  });
});

describe("rules validation", () => {
  test("regression: numbers.abs: .inf says a finite number is required (was: expected number, got number null)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ficus-rules-"));
    try {
      const path = join(dir, "rules.yaml");
      writeFileSync(path, "numbers: { abs: .inf, rel: .nan }\n");
      let message = "";
      try {
        loadRulesFile(path);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain("numbers.abs: must be a finite number (0 or more), got Infinity (rules.yaml:1)");
      expect(message).toContain("numbers.rel: must be a finite number (0 or more), got NaN (rules.yaml:1)");
      expect(message).not.toContain("got number null");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("tolerances: finite numbers of 0 or more", () => {
    expect(compileRulesInput({ numbers: { abs: 0.5, rel: 0 } }).absTol).toBeDefined();
    expect(compareRulesSchema.safeParse({ numbers: { abs: -1 } }).success).toBe(false);
    expect(compareRulesSchema.safeParse({ numbers: { abs: Number.NEGATIVE_INFINITY } }).error?.issues[0]?.message).toBe("must be a finite number (0 or more), got -Infinity");
  });
});
