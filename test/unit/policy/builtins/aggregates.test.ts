import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AGGREGATES } from "../../../../src/policy/rego/builtins/aggregates.ts";
import { numberText, type RNumber } from "../../../../src/policy/rego/number.ts";
import { compare, RegoSet, type Value } from "../../../../src/policy/rego/value.ts";
import { call, expectBuiltinError, expectValue, n, obj, set, show, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(AGGREGATES, name, ...args);
const text = (x: Value | undefined) => numberText(x as RNumber);

describe("count", () => {
  for (const [x, want] of [
    [v([1, 2, 3, 4]), 4],
    [set(1, 2), 2],
    [obj([["v1", "hello"], ["v2", "goodbye"]]), 2],
    [v("héllo😀"), 6],
    [v(""), 0],
    [set(n("3.5"), n("3.50"), n("35e-1"), n("0.35e1")), 1],
  ] as [Value, number][]) {
    test(`count(${show(x)}) = ${want}`, () => expect(f("count", x)).toBe(want));
  }

  test("a number has no count", () => {
    expectBuiltinError(() => f("count", 1), "eval_type_error", "count: operand 1 must be one of {array, object, set, string} but got number");
  });
});

describe("sum and product", () => {
  // OPA's aggregates/bignum cases.
  for (const [name, x, want] of [
    ["sum", v(set(1, 2, 3, 4)), "10"],
    ["sum", v([n("18446744073709551617"), 1]), "18446744073709551618"],
    ["sum", set(n("18446744073709551617"), 1), "18446744073709551618"],
    ["product", v([n("18446744073709551617"), 2]), "36893488147419103234"],
    ["sum", v([1, 2, 3]), "6"],
    ["product", v([2, 3, 4]), "24"],
    ["product", set(1, 2, 3, 4), "24"],
    ["sum", v([1.5, 2.5]), "4"],
    ["sum", v([1, 2.5]), "3.5"],
    ["product", v([1.5, 2]), "3"],
    ["sum", v([n("9223372036854775807"), 1]), "9223372036854775808"],
    ["sum", set(n("9223372036854775807"), 1, 2), "9223372036854775810"],
    ["sum", v([n("-9223372036854775808"), -1]), "-9223372036854775809"],
    ["sum", v([n("9223372036854775806"), 1]), "9223372036854775807"],
    ["sum", v([]), "0"],
    ["product", v([]), "1"],
  ] as [string, Value, string][]) {
    test(`${name}(${show(x)}) = ${want}`, () => expect(text(f(name, x))).toBe(want));
  }

  test("members must be numbers", () => {
    expectBuiltinError(() => f("sum", v([1, "a"])), "eval_type_error", "sum: operand 1 must be array of numbers but got array containing string");
    expectBuiltinError(() => f("product", set(1, null)), "eval_type_error", "product: operand 1 must be set of numbers but got set containing null");
    expectBuiltinError(() => f("sum", obj([])), "eval_type_error", "sum: operand 1 must be one of {set, array} but got object");
  });

  test("sum of integers is exact and agrees with the order of its members", () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n })), (xs) => {
        const want = xs.reduce((a, b) => a + b, 0n);
        expect(text(f("sum", v(xs)))).toBe(want.toString());
        expect(text(f("sum", v([...xs].reverse())))).toBe(want.toString());
      }),
    );
  });
});

describe("max, min", () => {
  for (const [name, x, want] of [
    ["max", set(1, 2, 3, 4), v(4)],
    ["max", v([1, 2, 3, 4]), v(4)],
    ["min", v([3, 2, 1, 4, 6, -7, 10]), v(-7)],
    ["min", set(1, 2, 3, 4), v(1)],
    ["max", v([3, 3.5, 3.25, 3.4999]), v(3.5)],
    ["min", v([3, 3.5, 2.75, 2.7499]), v(2.7499)],
    // Any values, by OPA's order: null < booleans < numbers < strings < arrays < objects < sets.
    ["max", v([1, "a", null, [1]]), v([1])],
    ["min", v([1, "a", false, [1]]), v(false)],
  ] as [string, Value, Value][]) {
    test(`${name}(${show(x)}) = ${show(want)}`, () => expectValue(f(name, x), want));
  }

  test("an empty collection has no max or min", () => {
    expect(f("max", v([]))).toBeUndefined();
    expect(f("min", set())).toBeUndefined();
  });

  test("a string is not a collection here", () => {
    expectBuiltinError(() => f("max", "abc"), "eval_type_error", "max: operand 1 must be one of {set, array} but got string");
  });
});

describe("sort", () => {
  test("arrays and sets sort into arrays", () => {
    expectValue(f("sort", v([4, 3, 2, 1])), v([1, 2, 3, 4]));
    expectValue(f("sort", set("b", "a")), v(["a", "b"]));
    const sorted = f("sort", v([n("3.5"), 3, n("3.25"), n("-2.5"), n("3.50"), n("1e0"), n("0.5")]));
    expectValue(sorted, v([-2.5, 0.5, 1, 3, 3.25, 3.5, 3.5]));
  });

  test("the operand array is not changed", () => {
    const arr = v([2, 1]);
    f("sort", arr);
    expectValue(arr, v([2, 1]));
  });

  test("a sorted array is in OPA's order and holds the same members", () => {
    const arbValue = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(arbValue), (xs) => {
        const sorted = f("sort", v(xs)) as Value[];
        for (let i = 1; i < sorted.length; i++) expect(compare(sorted[i - 1] as Value, sorted[i] as Value)).toBeLessThanOrEqual(0);
        expectValue(RegoSet.of(sorted), RegoSet.of(v(xs) as Value[]));
        expect(sorted.length).toBe(xs.length);
      }),
    );
  });

  test("sort needs a collection", () => {
    expectBuiltinError(() => f("sort", 1), "eval_type_error", "sort: operand 1 must be one of {set, array} but got number");
  });
});
