import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OBJECTS } from "../../../../src/policy/rego/builtins/objects.ts";
import { RegoObject, type Value } from "../../../../src/policy/rego/value.ts";
import { call, expectBuiltinError, expectValue, obj, set, show, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(OBJECTS, name, ...args);

describe("object.get", () => {
  const doc = v({ a: { b: "c" }, list: [10, { x: 1 }], s: new Set(["m"]) });

  for (const [key, want] of [
    ["a", { b: "c" }],
    ["b", true], // absent: the default
    [["a", "b"], "c"],
    [["list", 1, "x"], 1],
    [["list", "1"], true], // arrays are indexed by numbers only
    [["list", 5], true],
    [["s", "m"], "m"], // sets by member
    [["a", "b", "c"], true], // through a string
    [[], { a: { b: "c" }, list: [10, { x: 1 }], s: new Set(["m"]) }],
  ] as [unknown, unknown][]) {
    test(`object.get(doc, ${show(v(key))}, true) = ${show(v(want))}`, () => {
      expectValue(f("object.get", doc, v(key), true), v(want));
    });
  }

  test("a null value is found, not taken for absent", () => {
    expectValue(f("object.get", v({ a: null }), "a", 1), null);
    expectValue(f("object.get", v({ a: { b: null } }), v(["a", "b"]), 1), null);
  });

  test("keys of any type", () => {
    expectValue(f("object.get", obj([[1, "one"], [[1], "list"]]), 1, null), v("one"));
    expectValue(f("object.get", obj([[1, "one"], [[1], "list"]]), v([[1]]), null), v("list"));
  });

  test("needs an object", () => {
    expectBuiltinError(() => f("object.get", v([1]), 0, null), "eval_type_error", "object.get: operand 1 must be object but got array");
  });
});

describe("object.keys", () => {
  test("the set of keys", () => {
    expectValue(f("object.keys", obj([["a", 1], [2, 3]])), set("a", 2));
    expectValue(f("object.keys", obj([])), set());
    expectBuiltinError(() => f("object.keys", set()), "eval_type_error", "object.keys: operand 1 must be object but got set");
  });
});

describe("object.union and object.union_n", () => {
  // OPA's objectunion cases.
  for (const [a, b, want] of [
    [{}, {}, {}],
    [{}, { a: 1 }, { a: 1 }],
    [{ a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    [{ b: 2 }, { a: { b: { c: 1 } } }, { a: { b: { c: 1 } }, b: 2 }],
    [{ a: 1 }, { a: 2 }, { a: 2 }],
    [{ a: 1 }, { a: { b: { c: 1 } }, d: 7 }, { a: { b: { c: 1 } }, d: 7 }],
    [{ a: { b: 1, c: { x: 1 } } }, { a: { c: { y: 2 }, d: 3 } }, { a: { b: 1, c: { x: 1, y: 2 }, d: 3 } }],
  ]) {
    test(`object.union(${JSON.stringify(a)}, ${JSON.stringify(b)})`, () => {
      expectValue(f("object.union", v(a), v(b)), v(want));
    });
  }

  test("object.union needs objects", () => {
    expectBuiltinError(() => f("object.union", obj([["a", 1]]), v([1, 2, 3])), "eval_type_error", "object.union: operand 2 must be object but got array");
  });

  test("object.union_n: later objects win, nested objects merge, a non-object in between resets the key", () => {
    expectValue(f("object.union_n", v([{ a: { b: 2 } }, { a: 4 }, { a: { c: 3 } }])), v({ a: { c: 3 } }));
    expectValue(f("object.union_n", v([{ foo: 1 }, { baz: 5 }, { foo: 4 }])), v({ foo: 4, baz: 5 }));
    expectValue(f("object.union_n", v([{ a: { b: 1 } }, { a: { c: 2 } }])), v({ a: { b: 1, c: 2 } }));
    expectValue(f("object.union_n", v([])), v({}));
  });

  test("object.union_n needs an array of objects", () => {
    expectBuiltinError(() => f("object.union_n", v({})), "eval_type_error", "object.union_n: operand 1 must be array but got object");
    expectBuiltinError(() => f("object.union_n", v([{}, 1])), "eval_type_error", "object.union_n: operand 1 must be array of objects but got array containing number");
  });

  const arbObject = fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom("x", "y"), fc.integer())));
  test("object.union_n of [a, b] is object.union(a, b), and the operands stay as they were", () => {
    fc.assert(
      fc.property(arbObject, arbObject, (a, b) => {
        const [va, vb] = [v(a), v(b)];
        const before = show(va) + show(vb);
        expectValue(f("object.union_n", [va, vb]), f("object.union", va, vb));
        expect(show(va) + show(vb)).toBe(before);
      }),
    );
  });

  test("every key of either side is in the union, with b's value unless both are objects", () => {
    fc.assert(
      fc.property(arbObject, arbObject, (a, b) => {
        const u = f("object.union", v(a), v(b)) as RegoObject;
        expect(u.size).toBe(new Set([...Object.keys(a), ...Object.keys(b)]).size);
        for (const [k, bv] of Object.entries(b)) {
          const both = typeof bv === "object" && typeof a[k] === "object";
          if (!both) expectValue(u.get(k), v(bv));
        }
      }),
    );
  });
});

describe("object.remove and object.filter", () => {
  // OPA's objectremove and objectfilter cases.
  for (const [name, o, keys, want] of [
    ["object.remove", { a: 1, b: { c: 3 } }, set("a"), { b: { c: 3 } }],
    ["object.remove", { a: 1, b: { c: 3 }, d: 4 }, set("b", "d"), { a: 1 }],
    ["object.remove", { a: 1, b: { c: 3 }, d: 4 }, v({ b: 1, d: "" }), { a: 1 }],
    ["object.remove", { a: 1, b: { c: 3 }, d: 4 }, v(["b", "d"]), { a: 1 }],
    ["object.remove", {}, set("a", "b"), {}],
    ["object.remove", { a: 1, b: { c: 3 } }, set("z"), { a: 1, b: { c: 3 } }],
    ["object.filter", { a: { b: { c: 7, d: 8 } }, e: 9 }, set("a"), { a: { b: { c: 7, d: 8 } } }],
    ["object.filter", { a: 1, b: 2, c: 3, e: 9 }, set("a", "e"), { a: 1, e: 9 }],
    ["object.filter", { a: 1, b: 2 }, v(["a", "z"]), { a: 1 }],
    ["object.filter", { a: 7 }, v([]), {}],
    ["object.filter", { a: 7 }, v({}), {}],
  ] as [string, unknown, Value, unknown][]) {
    test(`${name}(${JSON.stringify(o)}, ${show(keys)})`, () => {
      expectValue(f(name, v(o), keys), v(want));
    });
  }

  test("non-string keys", () => {
    expectValue(f("object.remove", obj([[1, "a"], ["1", "b"]]), v([1])), obj([["1", "b"]]));
    expectValue(f("object.filter", obj([[1, "a"], ["1", "b"]]), v([1])), obj([[1, "a"]]));
  });

  for (const name of ["object.remove", "object.filter"]) {
    test(`${name}: type errors`, () => {
      for (const [bad, type] of [[123, "number"], ["foo", "string"], [null, "null"], [["a"], "array"]] as [Value, string][]) {
        if (type !== "array") {
          expectBuiltinError(() => f(name, v(bad), set("a")), "eval_type_error", `${name}: operand 1 must be object but got ${type}`);
        }
      }
      expectBuiltinError(() => f(name, v(["a"]), set("a")), "eval_type_error", `${name}: operand 1 must be object but got array`);
      for (const [bad, type] of [["foo", "string"], [true, "boolean"], [null, "null"]] as [Value, string][]) {
        expectBuiltinError(() => f(name, obj([["a", 1]]), bad), "eval_type_error", `${name}: operand 2 must be one of {object, set, array} but got ${type}`);
      }
    });
  }
});

describe("object.subset", () => {
  for (const [sup, sub, want] of [
    [{ a: 1, b: 2 }, { a: 1 }, true],
    [{ a: 1 }, { a: 2 }, false],
    [{ a: { b: 1, c: 2 } }, { a: { c: 2 } }, true],
    [{ a: new Set([1, 2, 3]) }, { a: new Set([1]) }, true],
    [{ a: [1, 2, 3, 4] }, { a: [2, 3] }, true],
    [{ a: [1, 2, 3, 4] }, { a: [2, 4] }, false],
    [{ a: 1 }, {}, true],
    [new Set([1, 2]), new Set([2]), true],
    [new Set([1, 2]), new Set([3]), false],
    [[1, 1, 2, 3], [1, 2], true],
    [[1, 2], [1, 2, 3], false],
    [[1, 2, 3], new Set([3, 1]), true],
    [[1, 2, 3], new Set([4]), false],
    [[1], new Set(), true],
    [[], new Set(), false], // OPA's scan finds no match in an empty array
    [[], [], true],
  ] as [unknown, unknown, boolean][]) {
    test(`object.subset(${show(v(sup))}, ${show(v(sub))}) = ${want}`, () => {
      expect(f("object.subset", v(sup), v(sub))).toBe(want);
    });
  }

  test("operands of different kinds", () => {
    const msg = "object.subset: both arguments object.subset must be of the same type or array and set";
    expectBuiltinError(() => f("object.subset", v({}), v([])), "eval_type_error", msg);
    expectBuiltinError(() => f("object.subset", set(), v([])), "eval_type_error", msg);
    expectBuiltinError(() => f("object.subset", 1, 1), "eval_type_error", msg);
  });

  test("an object is a subset of its union with anything", () => {
    const arbObject = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom("x", "y"), fc.integer())));
    fc.assert(
      fc.property(arbObject, arbObject, (a, b) => {
        const u = call(OBJECTS, "object.union", v(a), v(b)) as Value;
        expect(f("object.subset", u, v(b))).toBe(true);
      }),
    );
  });
});
