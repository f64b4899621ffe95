import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ARRAYS } from "../../../../src/policy/rego/builtins/arrays.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { call, expectBuiltinError, expectValue, n, obj, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(ARRAYS, name, ...args);

describe("array.concat", () => {
  test("joins two arrays", () => {
    expectValue(f("array.concat", v([1, 2]), v([3, 4])), v([1, 2, 3, 4]));
    const a = v([1]);
    expect(f("array.concat", a, v([]))).toBe(a);
  });

  test("both operands must be arrays", () => {
    const o = obj([["v1", "hello"]]);
    expectBuiltinError(() => f("array.concat", o, v([3, 4])), "eval_type_error", "array.concat: operand 1 must be array but got object");
    expectBuiltinError(() => f("array.concat", v([1, 2]), o), "eval_type_error", "array.concat: operand 2 must be array but got object");
  });
});

describe("array.slice", () => {
  test.each([
    [[1, 2, 3, 4, 5], 1, 3, [2, 3]],
    [[1, 2, 3], 0, 0, []],
    [[1, 2, 3, 4, 5], -4, -1, []],
    [[1, 2, 3], -10, 2, [1, 2]],
    [[1, 2, 3], 1, 100, [2, 3]],
    [[1, 2, 3], 2, 1, []],
    [[1, 2, 3], 0, 3, [1, 2, 3]],
  ])("array.slice(%p, %d, %d)", (arr, a, b, want) => {
    expectValue(f("array.slice", v(arr), a, b), v(want));
  });

  test("indexes as far as Go's int reach are clamped; past it, they are refused as OPA refuses them", () => {
    expectValue(f("array.slice", v([1, 2]), 0, n("9223372036854775807")), v([1, 2]));
    expectBuiltinError(
      () => f("array.slice", v([1]), 0, n("9223372036854775808")),
      "eval_type_error",
      "array.slice: operand 3 must be integer number but got floating-point number",
    );
    expectBuiltinError(() => f("array.slice", v([1]), n("0.5"), 1), "eval_type_error", "array.slice: operand 2 must be integer number but got floating-point number");
    expectBuiltinError(() => f("array.slice", v([1]), "0", 1), "eval_type_error", "array.slice: operand 2 must be number but got string");
  });

  test("a slice is what JS's slice gives for clamped indexes", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: -5, max: 15 }), fc.integer({ min: -5, max: 15 }), (xs, a, b) => {
        const stop = Math.min(Math.max(b, 0), xs.length);
        const start = Math.min(Math.max(a, 0), stop);
        expectValue(f("array.slice", v(xs), a, b), v(xs.slice(start, stop)));
      }),
    );
  });
});

describe("array.reverse", () => {
  test("reverses a copy", () => {
    const a = v([1, [2], "3"]);
    expectValue(f("array.reverse", a), v(["3", [2], 1]));
    expectValue(a, v([1, [2], "3"]));
    expectValue(f("array.reverse", v([])), v([]));
  });

  test("needs an array", () => {
    expectBuiltinError(() => f("array.reverse", "abc"), "eval_type_error", "array.reverse: operand 1 must be array but got string");
  });
});

describe("array.flatten", () => {
  // OPA's array/flatten cases.
  test.each([
    [[], []],
    [[[1, 2], [3, 4], [5]], [1, 2, 3, 4, 5]],
    [[[[1], [2, 3, []]], [[4, 5]]], [[1], [2, 3, []], [4, 5]]],
    [[[1, 2], "string", [3, { a: "b" }], 4.5, [6, [7, 8]]], [1, 2, "string", 3, { a: "b" }, 4.5, 6, [7, 8]]],
  ])("array.flatten(%j)", (arr, want) => {
    expectValue(f("array.flatten", v(arr)), v(want));
  });

  test("needs an array", () => {
    expectBuiltinError(() => f("array.flatten", 42), "eval_type_error", "array.flatten: operand 1 must be array but got number");
  });
});
