import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { GRAPH } from "../../../../src/policy/rego/builtins/graph.ts";
import { OBJECTS } from "../../../../src/policy/rego/builtins/objects.ts";
import { RegoSet, type Value } from "../../../../src/policy/rego/value.ts";
import { call, callRelation, expectBuiltinError, expectValue, set, show, testContext, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(GRAPH, name, ...args);
const walk = (doc: Value) => callRelation(GRAPH, "walk", doc);

describe("walk", () => {
  // OPA's walkbuiltin cases: pairs in order, parents first.
  test("a scalar is one pair", () => {
    expectValue(v(walk(1)), v([[[], 1]]));
  });

  test("arrays", () => {
    expectValue(v(walk(v([1, 2, 3, 4]))), v([[[], [1, 2, 3, 4]], [[0], 1], [[1], 2], [[2], 3], [[3], 4]]));
  });

  test("objects, by sorted key", () => {
    const doc = v({ v2: "goodbye", v1: "hello" });
    expectValue(v(walk(doc)), v([[[], doc], [["v1"], "hello"], [["v2"], "goodbye"]]));
  });

  test("sets: a member is its own path step", () => {
    const inner = set(1, 2, 3);
    const doc = RegoSet.of([inner]);
    expectValue(v(walk(doc)), v([[[], doc], [[inner], inner], [[inner, 1], 1], [[inner, 2], 2], [[inner, 3], 3]]));
  });

  test("nested values, depth first", () => {
    const doc = v({ a: [{ b: { foo: 1, bar: 2 } }, { b: { baz: 3 } }] });
    const paths = walk(doc).map((p) => show((p as Value[])[0] as Value));
    expect(paths).toEqual(['[]', '["a"]', '["a", 0]', '["a", 0, "b"]', '["a", 0, "b", "bar"]', '["a", 0, "b", "foo"]', '["a", 1]', '["a", 1, "b"]', '["a", 1, "b", "baz"]']);
  });

  test("each pair has its own path (OPA issue 7656)", () => {
    const doc = v({ a: [{ c: [{ aa: "AA" }, { bb: "BB" }] }] });
    const leaves = walk(doc).filter((p) => typeof (p as Value[])[1] === "string");
    expect(leaves.map((p) => show((p as Value[])[0] as Value))).toEqual(['["a", 0, "c", 0, "aa"]', '["a", 0, "c", 1, "bb"]']);
  });

  test("every pair's path leads to its value, and there is one pair per node", () => {
    const arbDoc = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, fc.integer(), fc.string(), fc.array(tie("node"), { maxLength: 3 }), fc.dictionary(fc.string(), tie("node"), { maxKeys: 3 })),
    })).node;
    const nodes = (x: unknown): number =>
      1 + (Array.isArray(x) ? x.reduce((s: number, e) => s + nodes(e), 0) : typeof x === "object" && x !== null ? Object.values(x).reduce((s: number, e) => s + nodes(e), 0) : 0);
    fc.assert(
      fc.property(arbDoc, (x) => {
        const doc = v({ root: x });
        const pairs = walk(doc) as [Value[], Value][];
        expect(pairs.length).toBe(nodes({ root: x }));
        for (const [path, value] of pairs) expectValue(call(OBJECTS, "object.get", doc, path, "absent"), value);
      }),
    );
  });

  test("each pair is charged, and the walk is lazy", () => {
    const def = GRAPH.find((d) => d.name === "walk");
    if (def === undefined || def.relation !== true) throw new Error("walk");
    const ctx = testContext();
    const it = def.fn([v([1, 2, 3])], ctx)[Symbol.iterator]();
    it.next();
    expect(ctx.steps).toBe(1);
  });
});

describe("graph.reachable", () => {
  const components = v({
    a: new Set(["b", "c"]),
    b: new Set(["d"]),
    c: new Set(["d"]),
    d: new Set(),
    e: new Set(["f"]),
    f: new Set(["e"]),
    x: new Set(["x"]),
  });

  test("components", () => {
    expectValue(f("graph.reachable", components, set("b", "e")), set("b", "d", "e", "f"));
  });

  test("arrays as edges and as the start, with a cycle", () => {
    expectValue(f("graph.reachable", v({ a: ["b"], b: ["c"], c: ["a"] }), v(["a"])), set("a", "b", "c"));
  });

  test("null edges are no edges; a node outside the graph is never reached", () => {
    expectValue(f("graph.reachable", v({ a: null }), v(["a"])), set("a"));
    expectValue(f("graph.reachable", v({ a: ["b"] }), v(["a", "z"])), set("a"));
  });

  test("type errors", () => {
    expectBuiltinError(() => f("graph.reachable", v({ a: [] }), "a"), "eval_type_error", "graph.reachable: operand 2 must be {array, set} but got string");
    expectBuiltinError(() => f("graph.reachable", 1, v([1])), "eval_type_error", "graph.reachable: operand 1 must be object but got number");
  });
});

describe("graph.reachable_paths", () => {
  // OPA's reachable_paths cases.
  for (const [note, graph, initial, want] of [
    ["empty", {}, new Set(["a"]), []],
    ["cycle", { a: new Set(["b"]), b: new Set(["c"]), c: new Set(["a"]) }, new Set(["a"]), [["a", "b", "c"]]],
    [
      "components",
      { a: new Set(["b", "c"]), b: new Set(["d"]), c: new Set(["d"]), d: new Set(), e: new Set(["f"]), f: new Set(["e"]), x: new Set(["x"]) },
      new Set(["b", "e"]),
      [["b", "d"], ["e", "f"]],
    ],
    ["arrays", { a: ["b"], b: ["c"], c: ["a"] }, ["a"], [["a", "b", "c"]]],
    ["malformed 2", { a: null }, ["a"], [["a"]]],
    ["multiple_paths", { a: ["b", "c"], b: ["c"], c: [] }, new Set(["a"]), [["a", "b", "c"], ["a", "c"]]],
    [
      "shared_ancestor",
      { "1": [], "2": ["1"], "3": ["2"], "4": ["3", "2"], "5": ["4"] },
      ["5"],
      [["5", "4", "2", "1"], ["5", "4", "3", "2", "1"]],
    ],
    ["invalid_end", { a: ["b"], b: ["nonexistent"] }, new Set(["a", "b"]), [["a", "b"], ["b"]]],
    [
      "cycle_1022_3",
      { one: ["two", "five"], two: ["four"], three: [""], four: ["three"], five: ["seven", "six"], six: ["nine", "seven"], seven: ["eight"], eight: ["three"], nine: [""] },
      new Set(["one"]),
      [
        ["one", "five", "seven", "eight", "three"],
        ["one", "five", "six", "nine"],
        ["one", "five", "six", "seven", "eight", "three"],
        ["one", "two", "four", "three"],
      ],
    ],
  ] as [string, unknown, unknown, unknown[]][]) {
    test(note, () => {
      expectValue(f("graph.reachable_paths", v(graph), v(initial)), RegoSet.of(want.map(v)));
    });
  }

  test("type errors", () => {
    expectBuiltinError(() => f("graph.reachable_paths", 1, v([1])), "eval_type_error", "graph.reachable_paths: operand 1 must be object but got number");
    expectBuiltinError(() => f("graph.reachable_paths", v({ a: [] }), "a"), "eval_type_error", "graph.reachable_paths: operand 2 must be {array, set} but got string");
  });
});
