/**
 * Type predicates, type_name and to_number called directly: OPA's casts and
 * typenamebuiltin conformance cases, to_number's exactness and error wording.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { numberText, parseNumber } from "../../../../src/policy/rego/number.ts";
import { VALUE_TYPE_BUILTINS } from "../../../../src/policy/rego/builtins/value-types.ts";
import { RegoObject, RegoSet, type Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family } from "./helpers.ts";

const { call, errorOf: failure } = family(VALUE_TYPE_BUILTINS);
const errorOf = (v: Value) => failure("to_number", v);

const samples: [string, Value][] = [
  ["null", null],
  ["boolean", true],
  ["number", 1.5],
  ["number", parseNumber("123456789012345678901234567890") as Value],
  ["string", "Hello"],
  ["array", [1]],
  ["set", RegoSet.of([1, 2, 3])],
  ["object", RegoObject.fromEntries([["foo", 1]])],
];

describe("type_name and the predicates", () => {
  for (const [name, v] of samples) {
    test(`type_name of a ${name}`, () => expect(call("type_name", v)).toBe(name));
    test(`exactly is_${name} holds for a ${name}`, () => {
      for (const p of ["null", "boolean", "number", "string", "array", "set", "object"]) expect(call(`is_${p}`, v)).toBe(p === name);
    });
  }
});

describe("to_number", () => {
  const cases: [Value, string][] = [
    [null, "0"],
    [true, "1"],
    [false, "0"],
    [3, "3"],
    ["3", "3"],
    ["-3", "-3"],
    ["+3", "3"],
    ["1.0", "1"],
    [".5", "0.5"],
    ["5.", "5"],
    ["1e3", "1000"],
    ["1.5E-2", "0.015"],
    ["123456789012345678901234567890", "123456789012345678901234567890"],
    ["0.1234567890123456789", "0.1234567890123456789"],
    ["1e-400", "1e-400"],
  ];
  for (const [v, want] of cases) test(`to_number(${JSON.stringify(v)}) = ${want}`, () => expect(numberText(call("to_number", v) as never)).toBe(numberText(parseNumber(want) as never)));

  test("not-a-number strings are type errors", () => {
    for (const s of ["nan", "inf", "-inf", "Infinity", "-Infinity", "-nan", "-NaN", "iNf"]) {
      expectBuiltinError(errorOf(s), "eval_type_error", "to_number: operand 1 must be valid number string but got string");
    }
  });

  test("other failures, in strconv's words", () => {
    expectBuiltinError(errorOf("broken"), "eval_builtin_error", 'to_number: strconv.ParseFloat: parsing "broken": invalid syntax');
    for (const s of ["", ".", "1 ", "0x10", "1_000", "--1", "1e"]) expect(errorOf(s).message).toContain("invalid syntax");
    expect(errorOf("1e400").message).toBe('to_number: strconv.ParseFloat: parsing "1e400": value out of range');
    expect(errorOf([1]).message).toBe("to_number: operand 1 must be one of {null, boolean, number, string} but got array");
  });

  test("integers round-trip through their text exactly", () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (b) => numberText(call("to_number", b.toString()) as never) === b.toString()));
  });
});
