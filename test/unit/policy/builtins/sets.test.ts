import { describe, test } from "bun:test";
import fc from "fast-check";
import { SETS } from "../../../../src/policy/rego/builtins/sets.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { call, expectBuiltinError, expectValue, set, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(SETS, name, ...args);

describe("and, or (the & and | operators)", () => {
  test("intersection and union of two sets", () => {
    // OPA's sets/union case: {3, 2, 3} | {3, 4, 3} = {2, 3, 4}.
    expectValue(f("or", set(3, 2, 3), set(3, 4, 3)), set(2, 3, 4));
    expectValue(f("and", set(1, 2, [3]), set([3], 2, 5)), set(2, [3]));
    expectValue(f("and", set(1), set(2)), set());
  });

  test("operands must be sets", () => {
    expectBuiltinError(() => f("and", v([1]), set(1)), "eval_type_error", "and: operand 1 must be set but got array");
    expectBuiltinError(() => f("or", set(1), 1), "eval_type_error", "or: operand 2 must be set but got number");
  });

  test("a | b holds exactly the members of a or b; a & b those of both", () => {
    const arb = fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom("a", "b", "c")), { maxLength: 12 });
    fc.assert(
      fc.property(arb, arb, (xs, ys) => {
        const a = set(...xs);
        const b = set(...ys);
        const both = xs.filter((x) => ys.includes(x));
        expectValue(f("or", a, b), set(...xs, ...ys));
        expectValue(f("and", a, b), set(...both));
      }),
    );
  });
});

describe("intersection, union (of a set of sets)", () => {
  test("fold their members", () => {
    expectValue(f("intersection", set(set(1, 2, 3), set(2, 3, 4), set(3, 2))), set(2, 3));
    expectValue(f("union", set(set(1), set(2, 3), set())), set(1, 2, 3));
    expectValue(f("intersection", set()), set());
    expectValue(f("union", set()), set());
  });

  test("the operand and its members must be sets", () => {
    expectBuiltinError(() => f("union", v([set(1)])), "eval_type_error", "union: operand 1 must be set but got array");
    expectBuiltinError(() => f("intersection", set(set(1), "x")), "eval_type_error", "intersection: operand 1 must be set but got string");
  });
});
