import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { add, BigNum, compareNumbers, divide, multiply, numberText, parseNumber, remainder, subtract } from "../../../src/policy/rego/number.ts";
import { compare, compareStrings, equal, fromJSON, RegoObject, RegoSet, toJSON, toJSONText, typeName, type Value } from "../../../src/policy/rego/value.ts";

const n = (t: string) => {
  const v = parseNumber(t);
  if (v === undefined) throw new Error(t);
  return v;
};

describe("numbers", () => {
  test.each([
    ["3", "3.5", -1],
    ["3.50", "3.5", 0],
    ["1e2", "100", 0],
    ["1E+2", "100.0", 0],
    ["-0", "0", 0],
    ["999999999999999", "1e15", -1],
    ["1e299", "1e-299", 1],
    ["1e400", "1e399", 1],
    ["1e-400", "0", 1],
    ["-1e-400", "0", -1],
    ["0.1234567890123456789", "0.1234567890123456788", 1],
    ["1234567890123456789012", "1234567890123456789013", -1],
    ["9007199254740993", "9007199254740992", 1],
  ])("%s against %s: %d", (a, b, want) => {
    expect(Math.sign(compareNumbers(n(a), n(b)))).toBe(want);
  });

  test("one representation per value: equal numbers are equal as values and as keys", () => {
    const s = RegoSet.of([n("3.5"), n("3.50"), n("35e-1"), n("0.35e1")]);
    expect(s.size).toBe(1);
    expect(equal(n("1e400"), n("10e399"))).toBe(true);
    expect(n("1e2")).toBe(100);
    expect(n("12345678901234567890")).toBeInstanceOf(BigNum);
    expect(RegoSet.of([n("1e400"), n("10e399")]).size).toBe(1);
  });

  test("integers are exact past 2^53", () => {
    expect(numberText(add(n("18446744073709551617"), 1)!)).toBe("18446744073709551618");
    expect(numberText(subtract(n("-9223372036854775808"), 1)!)).toBe("-9223372036854775809");
    expect(numberText(multiply(n("4294967296"), n("4294967296"))!)).toBe("18446744073709551616");
    expect(numberText(divide(n("18446744073709551616"), 2)!)).toBe("9223372036854775808");
    expect(remainder(n("-7"), 3)).toBe(-1);
    expect(remainder(n("7.5"), 3)).toBeUndefined();
    expect(divide(1, 0)).toBeUndefined();
    expect(divide(1, 4)).toBe(0.25);
  });

  test("property: order agrees with doubles wherever doubles are exact", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), (a, b) => {
        const x = n(String(a).replace("e+", "e"));
        const y = n(String(b).replace("e+", "e"));
        expect(Math.sign(compareNumbers(x, y))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  test("property: integer arithmetic matches bigint", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), (a, b) => {
        const x = n(a.toString());
        const y = n(b.toString());
        expect(numberText(add(x, y)!)).toBe((a + b).toString());
        expect(numberText(multiply(x, y)!)).toBe((a * b).toString());
        expect(numberText(subtract(x, y)!)).toBe((a - b).toString());
      }),
    );
  });
});

describe("values", () => {
  test("OPA's order across types", () => {
    const ordered: Value[] = [null, false, true, -1, 0, 2.5, "", "a", "b", [], [1], [1, 2], [2], new RegoObject(), RegoObject.fromEntries([["a", 1]]), new RegoSet(), RegoSet.of([1])];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compare(ordered[i]!, ordered[j]!))).toBe(Math.sign(i - j));
      }
    }
  });

  test("strings order by code point, as Go's byte order does", () => {
    expect(compareStrings("\uffff", "\u{1F600}")).toBeLessThan(0);
    expect(compareStrings("a", "ab")).toBeLessThan(0);
    expect(compareStrings("é", "z")).toBeGreaterThan(0);
  });

  test("objects and sets keyed by any value; iteration sorted", () => {
    const o = RegoObject.fromEntries([
      ["b", 1],
      [2, "x"],
      [[1, 2], "arr"],
      ["a", 3],
    ]);
    expect(o.get([1, 2])).toBe("arr");
    expect(o.get("2")).toBeUndefined();
    expect(o.keys()).toEqual([2, "a", "b", [1, 2]]);
    expect(toJSON(o)).toEqual({ "2": "x", a: 3, b: 1, "[1,2]": "arr" });
    const s = RegoSet.of([RegoObject.fromEntries([["a", 1]]), RegoObject.fromEntries([["a", 1]]), 3]);
    expect(s.size).toBe(2);
  });

  test("JSON in and out", () => {
    const v = fromJSON({ a: [1, null, true], b: { c: "d" }, e: new Set(["z", "y"]), f: 2n ** 70n });
    expect(typeName(v)).toBe("object");
    expect(toJSONText(v)).toBe('{"a":[1,null,true],"b":{"c":"d"},"e":["y","z"],"f":1180591620717411303424}');
    expect(() => fromJSON({ a: undefined })).toThrow("$.a");
    expect(() => fromJSON(Number.NaN)).toThrow();
  });

  test("property: equal agrees with compare, and both with canonical JSON", () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(json, json, (a, b) => {
        const x = fromJSON(a);
        const y = fromJSON(b);
        expect(equal(x, y)).toBe(compare(x, y) === 0);
        expect(compare(x, x)).toBe(0);
        expect(Math.sign(compare(x, y)) + Math.sign(compare(y, x))).toBe(0);
      }),
    );
  });
});

describe("decimal arithmetic", () => {
  test.each([
    ["0.1", "0.2", "+", "0.3"],
    ["0.3", "0.1", "-", "0.2"],
    ["1.1", "1.1", "*", "1.21"],
    ["1e400", "1e400", "-", "0"],
    ["-2.5", "2.5", "+", "0"],
    ["0.1234567890123456789", "1", "+", "1.1234567890123456789"],
  ])("%s %s %s = %s", (a, b, op, want) => {
    const f = op === "+" ? add : op === "-" ? subtract : multiply;
    const r = f(n(a), n(b))!;
    expect(compareNumbers(r, n(want))).toBe(0);
  });
});
