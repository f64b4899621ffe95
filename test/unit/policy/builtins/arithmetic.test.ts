import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ARITHMETIC } from "../../../../src/policy/rego/builtins/arithmetic.ts";
import { compareNumbers, num, numberText, numFromBigInt, type RNumber } from "../../../../src/policy/rego/number.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { call, expectBuiltinError, expectValue, n, set, testContext, v } from "./helpers.ts";

const f = (name: string, ...args: Value[]) => call(ARITHMETIC, name, ...args);
const text = (x: Value | undefined) => numberText(x as RNumber);

describe("plus, minus, mul: exact integers of any size", () => {
  // From OPA's arithmetic/bignum and arithmetic/edges cases.
  test.each([
    ["plus", "18446744073709551617", "1", "18446744073709551618"],
    ["minus", "18446744073709551617", "1", "18446744073709551616"],
    ["mul", "18446744073709551617", "2", "36893488147419103234"],
    ["plus", "123456789012345678901234567890", "1", "123456789012345678901234567891"],
    ["minus", "-18446744073709551617", "1", "-18446744073709551618"],
    ["plus", "2", "3", "5"],
    ["plus", "1.5", "2.5", "4"],
    ["plus", "1", "2.5", "3.5"],
    ["mul", "2.5", "2", "5"],
    ["plus", "2147483647", "1", "2147483648"],
    ["minus", "-2147483648", "1", "-2147483649"],
    ["mul", "2147483647", "2147483647", "4611686014132420609"],
    ["mul", "-2147483648", "-2147483648", "4611686018427387904"],
    ["plus", "9223372036854775807", "1", "9223372036854775808"],
    ["plus", "1e30", "1", "1000000000000000000000000000001"],
    ["plus", "10.00", "5", "15"],
    ["plus", "9007199254740991", "2", "9007199254740993"],
  ])("%s(%s, %s) = %s", (name, a, b, want) => {
    expect(text(f(name, n(a), n(b)))).toBe(want);
  });

  test("operands must be numbers", () => {
    expectBuiltinError(() => f("plus", "1", 2), "eval_type_error", "plus: operand 1 must be number but got string");
    expectBuiltinError(() => f("mul", 2, null), "eval_type_error", "mul: operand 2 must be number but got null");
  });

  test("(a + b) - b = a for any integers", () => {
    fc.assert(
      fc.property(fc.bigInt(), fc.bigInt(), (a, b) => {
        const sum = f("plus", numFromBigInt(a), numFromBigInt(b)) as Value;
        expect(text(f("minus", sum, numFromBigInt(b)))).toBe(a.toString());
      }),
    );
  });
});

describe("minus on sets", () => {
  test("set difference", () => {
    expectValue(f("minus", set(1, 2, "c"), set("c", 1)), set(2));
    expectValue(f("minus", set(1), set(1)), set());
  });

  // OPA's arithmetic/minus/type error cases: the blame falls on the operand that breaks the pair.
  test.each([
    ["minus: operand 2 must be set but got number", set(1), 1],
    ["minus: operand 2 must be number but got set", 1, set(1)],
    ["minus: operand 1 must be one of {number, set} but got string", "a", 1],
    ["minus: operand 2 must be number but got string", set(1), "x"],
  ] as [string, Value, Value][])("%s", (message, a, b) => {
    expectBuiltinError(() => f("minus", a, b), "eval_type_error", message);
  });
});

describe("div and rem", () => {
  test.each([
    ["6", "3", "2"],
    ["-6", "3", "-2"],
    ["1", "4", "0.25"],
    ["0", "5", "0"],
    ["36893488147419103234", "2", "18446744073709551617"],
  ])("%s / %s = %s", (a, b, want) => {
    expect(text(f("div", n(a), n(b)))).toBe(want);
  });

  test("division by any zero is OPA's builtin error", () => {
    expectBuiltinError(() => f("div", 1, 0), "eval_builtin_error", "div: divide by zero");
    expectBuiltinError(() => f("div", 1, n("0.0")), "eval_builtin_error", "div: divide by zero");
  });

  test.each([
    ["-17", "5", "-2"],
    ["17", "-5", "2"],
    ["4.0", "3", "1"],
    ["10", "18446744073709551616", "10"],
    ["5", "55340232221128654848", "5"],
    ["7", "340282366920938463463374607431768211456", "7"],
    ["100", "-18446744073709551616", "100"],
    ["18446744073709551617", "18446744073709551616", "1"],
    ["10", "18446744073709551617", "10"],
  ])("%s %% %s = %s", (a, b, want) => {
    expect(text(f("rem", n(a), n(b)))).toBe(want);
  });

  test("modulo needs integers, and a divisor that is not zero", () => {
    expectBuiltinError(() => f("rem", n("1.1"), 1), "eval_builtin_error", "rem: modulo on floating-point number");
    expectBuiltinError(() => f("rem", 1, n("0.5")), "eval_builtin_error", "rem: modulo on floating-point number");
    expectBuiltinError(() => f("rem", 1, 0), "eval_builtin_error", "rem: modulo by zero");
  });
});

describe("abs, round, ceil, floor", () => {
  test.each([
    ["abs", "-5", "5"],
    ["abs", "-2147483648", "2147483648"],
    ["abs", "-9223372036854775808", "9223372036854775808"],
    ["abs", "-2.5", "2.5"],
    ["round", "2.5", "3"],
    ["round", "-2.5", "-3"],
    ["round", "2.4", "2"],
    ["round", "-5", "-5"],
    ["round", "10.00", "10"],
    ["round", "0.49999999999999994", "0"],
    ["round", "-0.5", "-1"],
    ["round", "1e-400", "0"],
    ["round", "123456789012345678901.5", "123456789012345678902"],
    ["floor", "1.01", "1"],
    ["floor", "1.5", "1"],
    ["floor", "99.99999", "99"],
    ["floor", "1", "1"],
    ["floor", "-1.001", "-2"],
    ["floor", "-1e-400", "-1"],
    ["floor", "18446744073709551617", "18446744073709551617"],
    ["ceil", "1.01", "2"],
    ["ceil", "-1.5", "-1"],
    ["ceil", "1e-400", "1"],
    ["ceil", "-0.5", "0"],
  ])("%s(%s) = %s", (name, x, want) => {
    expect(text(f(name, n(x)))).toBe(want);
  });

  test("floor(x) ≤ x < floor(x) + 1 and ceil(x) - 1 < x ≤ ceil(x), exactly, for any double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 }), (d) => {
        const x = num(d) as RNumber;
        const lo = f("floor", x) as RNumber;
        const hi = f("ceil", x) as RNumber;
        expect(compareNumbers(lo, x)).toBeLessThanOrEqual(0);
        expect(compareNumbers(f("plus", lo, 1) as RNumber, x)).toBeGreaterThan(0);
        expect(compareNumbers(hi, x)).toBeGreaterThanOrEqual(0);
        expect(compareNumbers(f("minus", hi, 1) as RNumber, x)).toBeLessThan(0);
      }),
    );
  });
});

describe("numbers.range and numbers.range_step", () => {
  test.each([
    [0, 0, [0]],
    [-2, 3, [-2, -1, 0, 1, 2, 3]],
    [2, -3, [2, 1, 0, -1, -2, -3]],
    [5, 2, [5, 4, 3, 2]],
  ])("numbers.range(%d, %d)", (a, b, want) => {
    expectValue(f("numbers.range", a, b), v(want));
  });

  test.each([
    [0, 10, 2, [0, 2, 4, 6, 8, 10]],
    [0, -10, 2, [0, -2, -4, -6, -8, -10]],
    [10, 3, 2, [10, 8, 6, 4]],
    [1024, 4096, 1024, [1024, 2048, 3072, 4096]],
    [2, 2, 2, [2]],
    [2, 5, 2, [2, 4]],
  ])("numbers.range_step(%d, %d, %d)", (a, b, step, want) => {
    expectValue(f("numbers.range_step", a, b, step), v(want));
  });

  test("a step past every integer type still works", () => {
    expectValue(f("numbers.range_step", 0, 10, n("99999999999999999999")), v([0]));
  });

  test("ranges beyond 2^53 are exact", () => {
    const r = f("numbers.range", n("9007199254740992"), n("9007199254740994")) as Value[];
    expect(r.map(text)).toEqual(["9007199254740992", "9007199254740993", "9007199254740994"]);
  });

  test("errors", () => {
    expectBuiltinError(() => f("numbers.range_step", 0, 10, -2), "eval_builtin_error", "numbers.range_step: step must be a positive integer");
    expectBuiltinError(() => f("numbers.range_step", 0, 10, 0), "eval_builtin_error", "numbers.range_step: step must be a positive integer");
    expectBuiltinError(() => f("numbers.range", n("1.5"), 3), "eval_type_error", "numbers.range: operand 1 must be integer number but got floating-point number");
    expectBuiltinError(() => f("numbers.range", 1, "3"), "eval_type_error", "numbers.range: operand 2 must be integer but got string");
  });

  test("the elements made are charged to the budget", () => {
    const ctx = testContext();
    const def = ARITHMETIC.find((d) => d.name === "numbers.range");
    if (def === undefined || def.relation === true) throw new Error("numbers.range");
    def.fn([1, 1000], ctx);
    expect(ctx.steps).toBe(1000);
  });
});

describe("bits", () => {
  test.each([
    ["bits.and", 12, 10, "8"],
    ["bits.or", 12, 10, "14"],
    ["bits.xor", 12, 10, "6"],
    ["bits.and", -1, 255, "255"],
    ["bits.lsh", 1, 70, "1180591620717411303424"],
    ["bits.rsh", -8, 1, "-4"],
    ["bits.rsh", 1, 100, "0"],
  ] as [string, number, number, string][])("%s(%d, %d) = %s", (name, a, b, want) => {
    expect(text(f(name, a, b))).toBe(want);
  });

  test("bits.negate", () => {
    expect(f("bits.negate", 0)).toBe(-1);
    expect(text(f("bits.negate", n("18446744073709551616")))).toBe("-18446744073709551617");
  });

  test("errors", () => {
    expectBuiltinError(
      () => f("bits.lsh", 1, -1),
      "eval_type_error",
      "bits.lsh: operand 2 must be an unsigned integer number but got a negative integer",
    );
    expectBuiltinError(() => f("bits.and", n("1.5"), 1), "eval_type_error", "bits.and: operand 1 must be integer number but got floating-point number");
    expectBuiltinError(() => f("bits.or", 1, "x"), "eval_type_error", "bits.or: operand 2 must be integer but got string");
  });
});
