import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { JSON_DOCUMENTS } from "../../../../src/policy/rego/builtins/json-documents.ts";
import { OBJECTS } from "../../../../src/policy/rego/builtins/objects.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { call, expectBuiltinError, expectValue, obj, show, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(JSON_DOCUMENTS, name, ...args);
const patch = (doc: unknown, ops: unknown[]) => f("json.patch", v(doc), v(ops));

describe("json.filter", () => {
  for (const [doc, paths, want] of [
    [{ a: { b: "x", c: "y" } }, ["a/b"], { a: { b: "x" } }],
    [{ a: { b: "x", c: "y" } }, ["/a/b", "a/c"], { a: { b: "x", c: "y" } }],
    [{ a: { b: "x", c: "y" }, d: 1 }, ["a", "a/b"], { a: { b: "x", c: "y" } }], // the shorter path wins
    [{ a: { b: "x", c: "y" }, d: 1 }, new Set(["a/b", "a"]), { a: { b: "x", c: "y" } }],
    [{ a: [{ x: 1, y: 2 }, 5, { x: 3 }] }, ["a/0/x", "a/2"], { a: [{ x: 1 }, { x: 3 }] }],
    [{ a: { b: "x" } }, [["a", "b"]], { a: { b: "x" } }],
    [{ "a/b": 1, "m~n": 2, c: 3 }, ["a~1b", "m~0n"], { "a/b": 1, "m~n": 2 }],
    [{ a: 1 }, ["", []], {}], // empty paths name nothing
    [{ a: 1 }, ["z/y"], {}],
    [{ s: new Set(["p", "q"]) }, ["s/p"], { s: new Set(["p"]) }],
  ] as [unknown, unknown, unknown][]) {
    test(`json.filter(${show(v(doc))}, ${show(v(paths))})`, () => {
      expectValue(f("json.filter", v(doc), v(paths)), v(want));
    });
  }

  test("type errors", () => {
    expectBuiltinError(() => f("json.filter", v([1]), v(["a"])), "eval_type_error", "json.filter: operand 1 must be object but got array");
    expectBuiltinError(() => f("json.filter", v({}), "a"), "eval_type_error", "json.filter: operand 2 must be one of {set, array} but got string");
    expectBuiltinError(
      () => f("json.filter", v({}), v([1])),
      "eval_type_error",
      "json.filter: operand 2 must be one of {set, array} containing string paths or array of path segments but got number",
    );
  });
});

describe("json.remove", () => {
  for (const [doc, paths, want] of [
    [{ a: { b: "x", c: "y" } }, ["a/b"], { a: { c: "y" } }],
    [{ a: { b: "x", c: "y" } }, ["a"], {}],
    [{ a: [1, 2, 3, 4] }, ["a/1", "a/2"], { a: [1, 4] }], // arrays close up
    [{ a: [{ x: 1, y: 2 }] }, [["a", "0", "x"]], { a: [{ y: 2 }] }],
    [{ a: 1 }, ["", "z", "a/b/c"], { a: 1 }],
    [{ s: new Set(["p", "q"]) }, new Set(["s/q"]), { s: new Set(["p"]) }],
  ] as [unknown, unknown, unknown][]) {
    test(`json.remove(${show(v(doc))}, ${show(v(paths))})`, () => {
      expectValue(f("json.remove", v(doc), v(paths)), v(want));
    });
  }

  test("type errors", () => {
    expectBuiltinError(() => f("json.remove", "x", v(["a"])), "eval_type_error", "json.remove: operand 1 must be object but got string");
    expectBuiltinError(() => f("json.remove", v({}), obj([])), "eval_type_error", "json.remove: operand 2 must be one of {set, array} but got object");
  });

  test("filter and remove split an object between them", () => {
    const arbDoc = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom("x", "y"), fc.integer())));
    const arbPaths = fc.array(fc.constantFrom("a", "b", "a/x", "c/y", "d"), { maxLength: 4 });
    fc.assert(
      fc.property(arbDoc, arbPaths, (doc, paths) => {
        const kept = f("json.filter", v(doc), v(paths)) as Value;
        const rest = f("json.remove", v(doc), v(paths)) as Value;
        expectValue(call(OBJECTS, "object.union", kept, rest), v(doc));
      }),
    );
  });
});

describe("json.patch", () => {
  test("RFC 6902's operations", () => {
    expectValue(patch({ foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }]), v({ foo: "bar", baz: "qux" }));
    expectValue(patch({ foo: ["bar", "baz"] }, [{ op: "add", path: "/foo/1", value: "qux" }]), v({ foo: ["bar", "qux", "baz"] }));
    expectValue(patch({ baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }]), v({ foo: "bar" }));
    expectValue(patch({ foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }]), v({ foo: ["bar", "baz"] }));
    expectValue(patch({ baz: "qux" }, [{ op: "replace", path: "/baz", value: "boo" }]), v({ baz: "boo" }));
    expectValue(
      patch({ foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } }, [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }]),
      v({ foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } }),
    );
    expectValue(patch({ foo: ["all", "grass", "cows", "eat"] }, [{ op: "move", from: "/foo/1", path: "/foo/3" }]), v({ foo: ["all", "cows", "eat", "grass"] }));
    expectValue(patch({ a: [1] }, [{ op: "copy", from: "/a", path: "/b" }]), v({ a: [1], b: [1] }));
    expectValue(patch({ baz: "qux", foo: ["a", 2] }, [{ op: "test", path: "/foo/1", value: 2 }]), v({ baz: "qux", foo: ["a", 2] }));
    expectValue(patch({ foo: ["bar"] }, [{ op: "add", path: "/foo/-", value: ["abc"] }]), v({ foo: ["bar", ["abc"]] }));
  });

  test("the root", () => {
    expectValue(patch({ foo: "bar" }, [{ op: "replace", path: "", value: { baz: "qux" } }]), v({ baz: "qux" }));
    expectValue(patch("foo", [{ op: "replace", path: "", value: "bar" }]), v("bar"));
    expectValue(patch({}, [{ op: "add", path: "", value: [] }]), v([]));
    expectValue(patch({ a: 1 }, [{ op: "test", path: "", value: { a: 1 } }]), v({ a: 1 }));
    expect(patch({ a: 1 }, [{ op: "remove", path: "" }])).toBeUndefined();
  });

  test("paths as arrays, sets as containers", () => {
    expectValue(patch({ a: [1, 2] }, [{ op: "replace", path: ["a", 0], value: 9 }]), v({ a: [9, 2] }));
    expectValue(patch({ s: new Set(["x"]) }, [{ op: "add", path: "/s/y", value: "y" }]), v({ s: new Set(["x", "y"]) }));
    expectValue(patch({ s: new Set(["x", "y"]) }, [{ op: "remove", path: "/s/x" }]), v({ s: new Set(["y"]) }));
    expectValue(patch({ s: new Set([[0], "a"]) }, [{ op: "add", path: ["s", [0], 1], value: 1 }]), v({ s: new Set([[0, 1], "a"]) }));
    expect(patch({ s: new Set(["x"]) }, [{ op: "add", path: "/s/y", value: "z" }])).toBeUndefined();
  });

  test("any failure makes the whole patch undefined", () => {
    for (const [doc, ops] of [
      [[1, 2, 3], [{ op: "add", path: "1.2", value: "foo" }]],
      [{ q: { bar: 2 } }, [{ op: "add", path: "/a/b", value: 1 }]],
      [{ bar: [1, 2] }, [{ op: "add", path: "/bar/8", value: "5" }]],
      [{ bar: [1, 2] }, [{ op: "add", path: "/bar/-1", value: "5" }]],
      [["foo", "bar"], [{ op: "test", path: "/1e0", value: "bar" }]],
      [["foo", "bar"], [{ op: "test", path: "/01", value: "bar" }]],
      [{ baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }]],
      [{ foo: 1 }, [{ op: "spam", path: "/foo", value: 1 }]],
      [{}, [{ op: "add", value: "bar" }]],
      [{}, [{ op: "add", path: null, value: "bar" }]],
      [[1], [{ op: "replace", path: "/0" }]],
      [{ foo: 1 }, [{ op: "move", from: "/bar", path: "/foo" }]],
      [{ foo: "bar" }, [{ op: "remove", path: "/missing1/missing2" }]],
      [{ a: 1 }, [{ op: "add", path: "/b", value: 2 }, 7]],
      [{ a: { b: 1 } }, [{ op: "move", from: "/a", path: "/a/c" }]],
    ] as [unknown, unknown[]][]) {
      expect(patch(doc, ops)).toBeUndefined();
    }
  });

  test("the operations must be an array", () => {
    expectBuiltinError(() => f("json.patch", v({}), v({ op: "add" })), "eval_type_error", "json.patch: operand 2 must be array but got object");
  });

  test("the target is not changed", () => {
    const doc = v({ a: [1, 2], b: { c: 1 } });
    patch(doc, [
      { op: "remove", path: "/a/0" },
      { op: "add", path: "/b/d", value: 2 },
    ]);
    expectValue(doc, v({ a: [1, 2], b: { c: 1 } }));
  });

  test("adding a key then removing it gives back the document", () => {
    const arbDoc = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 });
    fc.assert(
      fc.property(arbDoc, fc.string(), fc.jsonValue(), (doc, key, value) => {
        fc.pre(!(key in doc));
        const pointer = `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
        const added = patch(doc, [{ op: "add", path: pointer, value }]);
        expectValue(call(OBJECTS, "object.get", added as Value, key, "absent"), v(value));
        expectValue(patch(doc, [{ op: "add", path: pointer, value }, { op: "remove", path: pointer }]), v(doc));
      }),
    );
  });

  // The json-patch test corpus that OPA runs (jsonpatch/json-patch-tests.yaml), read from the
  // conformance folder beside the checkout when it is there.
  const corpus = resolve(import.meta.dir, "../../../../../shared/conformance/opa/v1/jsonpatch/json-patch-tests.yaml");
  test.skipIf(!existsSync(corpus))("OPA's json-patch corpus", () => {
    const file = parseYaml(readFileSync(corpus, "utf8")) as { cases: { modules: string[] }[] };
    const modules = (file.cases[0]?.modules ?? []).filter((m) => m.includes("package json_patch_cases"));
    let checked = 0;
    for (const m of modules) {
      // The cases are a Rego array literal of JSON-like values, trailing commas aside.
      const literal = m.slice(m.indexOf("cases := ") + "cases := ".length).replace(/,(\s*[}\]])/g, "$1");
      const cases = JSON.parse(literal) as { comment?: string; doc: unknown; patch: unknown[]; expected?: unknown; error?: string; opa_disabled?: boolean }[];
      for (const c of cases) {
        if (c.opa_disabled === true) continue;
        const got = patch(c.doc, c.patch);
        const label = c.comment ?? c.error ?? JSON.stringify(c.patch);
        if (c.error !== undefined) expect({ label, got: show(got) }).toEqual({ label, got: "undefined" });
        else if (c.expected !== undefined) expect({ label, got: show(got) }).toEqual({ label, got: show(v(c.expected)) });
        else expect({ label, defined: got !== undefined }).toEqual({ label, defined: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(80);
  });
});
