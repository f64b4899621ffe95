/**
 * units.parse and units.parse_bytes called directly: OPA's units conformance
 * cases as tables (values compared exactly, big ones beyond doubles), errors,
 * OPA's precision (integers stay integers, the milli factor is the double
 * 0.001), and huge exponents that must not expand.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compareNumbers, type RNumber } from "../../../../src/policy/rego/number.ts";
import { UNITS_BUILTINS } from "../../../../src/policy/rego/builtins/units.ts";
import { toJSONText, type Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family, n } from "./helpers.ts";

const { call, errorOf } = family(UNITS_BUILTINS);

describe("units.parse: conformance cases", () => {
  const cases: [string, string][] = [
    ["500m", "0.5"],
    ["0.0005K", "0.5"],
    ["0.0000005M", "0.5"],
    ['"100TI"', "109951162777600"],
    ["0", "0"],
    ["0.0", "0"],
    [".0", "0"],
    ["12345", "12345"],
    ["10K", "10000"],
    ["10KI", "10240"],
    ["10k", "10000"],
    ["10Ki", "10240"],
    ["200M", "200000000"],
    ["300Gi", "322122547200"],
    ["1.1K", "1100"],
    ["1.1Ki", "1126.4"],
    [".5K", "500"],
    ["100k", "100000"],
    ["100K", "100000"],
    ["100ki", "102400"],
    ["100Ki", "102400"],
    ["100m", "0.1"],
    ["100M", "100000000"],
    ["100mi", "104857600"],
    ["100Mi", "104857600"],
    ["100g", "100000000000"],
    ["100gi", "107374182400"],
    ["100t", "100000000000000"],
    ["100T", "100000000000000"],
    ["100ti", "109951162777600"],
    ["100Ti", "109951162777600"],
    ["100p", "100000000000000000"],
    ["100P", "100000000000000000"],
    ["100pi", "112589990684262400"],
    ["100Pi", "112589990684262400"],
    ["10e", "10000000000000000000"],
    ["10E", "10000000000000000000"],
    ["10ei", "11529215046068469760"],
    ["10Ei", "11529215046068469760"],
    ["1e10", "10000000000"],
    ["3.2E4", "32000"],
    ["2.5e3K", "2500000"],
    ["1e3M", "1000000000"],
    ["4E2G", "400000000000"],
    ["5e1Gi", "53687091200"],
    ["1e-2", "0.01"],
    ["7.8E-1", "0.78"],
    ["6e3Mi", "6291456000"],
    ["5E", "5000000000000000000"],
    ["42", "42"],
    ["-3.5E2m", "-0.35"],
    ["1G", "1000000000"],
  ];
  for (const [input, want] of cases) {
    test(`units.parse(${input}) = ${want}`, () => expect(call("units.parse", input)).toEqual(n(want)));
  }

  test("comparisons", () => {
    const v = (s: string): RNumber => call("units.parse", s) as RNumber;
    expect(compareNumbers(v("8k"), v("7k"))).toBeGreaterThan(0);
    expect(compareNumbers(v("8g"), v("8m"))).toBeGreaterThan(0);
    expect(compareNumbers(v("1234k"), v("1g"))).toBeLessThan(0);
    expect(v("1024")).toEqual(v("1Ki"));
    expect(v("2Mi")).toEqual(v("2097152"));
    expect(compareNumbers(v("3Mi"), v("3M"))).toBeGreaterThan(0);
    expect(compareNumbers(v("4.1Mi"), v("4Mi"))).toBeGreaterThan(0);
    expect(v("128Gi")).toEqual(v("137438953472"));
  });

  test("an integer result has no decimals (json.marshal shows 1000000000)", () => {
    expect(toJSONText(call("units.parse", "1G") as Value)).toBe("1000000000");
  });

  test("OPA's milli is the double 0.001, and results round at 10 decimals", () => {
    expect(call("units.parse", "1e12m")).toEqual(n("1000000000.0000000208"));
    expect(call("units.parse", "1m")).toEqual(n("0.001"));
    expect(call("units.parse", "1e-11")).toEqual(0);
    expect(call("units.parse", "5e-11")).toEqual(n("0.0000000001"));
  });

  test("six-digit exponents stay coefficient and exponent", () => {
    const v = call("units.parse", "1e999999Ki");
    expect(toJSONText(v as Value)).toMatch(/^1024e\+999999$/);
    expect(call("units.parse", "1e-999999")).toEqual(0);
  });
});

describe("units.parse_bytes: conformance cases", () => {
  const cases: [string, string][] = [
    ['"100TIB"', "109951162777600"],
    ["0", "0"],
    ["0.0", "0"],
    [".0", "0"],
    ["12345", "12345"],
    ["10KB", "10000"],
    ["10KIB", "10240"],
    ["10kb", "10000"],
    ["10Kib", "10240"],
    ["200mb", "200000000"],
    ["300GiB", "322122547200"],
    ["1.1KB", "1100"],
    ["1.1KiB", "1126"],
    [".5KB", "500"],
    ["100k", "100000"],
    ["100kb", "100000"],
    ["100ki", "102400"],
    ["100kib", "102400"],
    ["100m", "100000000"],
    ["100mb", "100000000"],
    ["100mi", "104857600"],
    ["100mib", "104857600"],
    ["100g", "100000000000"],
    ["100gb", "100000000000"],
    ["100gi", "107374182400"],
    ["100gib", "107374182400"],
    ["100t", "100000000000000"],
    ["100tb", "100000000000000"],
    ["100ti", "109951162777600"],
    ["100tib", "109951162777600"],
    ["100p", "100000000000000000"],
    ["100pb", "100000000000000000"],
    ["100pi", "112589990684262400"],
    ["100pib", "112589990684262400"],
    ["10e", "10000000000000000000"],
    ["10eb", "10000000000000000000"],
    ["10ei", "11529215046068469760"],
    ["10eib", "11529215046068469760"],
    ["1e3KB", "1000000"],
    ["3.2E2MiB", "335544320"],
    ["4.5e1GiB", "48318382080"],
    ["5e6", "5000000"],
    ["1e-2KB", "10"],
    ["6.4E1GB", "64000000000"],
    ["7.5e1TiB", "82463372083200"],
    ["5e2MiB", "524288000"],
    ["5E", "5000000000000000000"],
    ["2e2GiB", "214748364800"],
  ];
  for (const [input, want] of cases) {
    test(`units.parse_bytes(${input}) = ${want}`, () => expect(call("units.parse_bytes", input)).toEqual(n(want)));
  }
});

describe("units: errors", () => {
  const cases: [string, string, string][] = [
    ["units.parse_bytes", "", "units.parse_bytes: no byte amount provided"],
    ["units.parse_bytes", "GB", "units.parse_bytes: no byte amount provided"],
    ["units.parse_bytes", "foo", "units.parse_bytes: no byte amount provided"],
    ["units.parse_bytes", "0.0.0", "units.parse_bytes: could not parse byte amount to a number"],
    ["units.parse_bytes", ".5.2", "units.parse_bytes: could not parse byte amount to a number"],
    ["units.parse_bytes", "100 kb", "units.parse_bytes: spaces not allowed in resource strings"],
    ["units.parse_bytes", " 327MiB ", "units.parse_bytes: spaces not allowed in resource strings"],
    ["units.parse_bytes", "10e10000000EiB", "units.parse_bytes: exponent too large"],
    ["units.parse_bytes", "10xb", "units.parse_bytes: byte unit xb not recognized"],
    ["units.parse", "", "units.parse: no amount provided"],
    ["units.parse", "G", "units.parse: no amount provided"],
    ["units.parse", "foo", "units.parse: no amount provided"],
    ["units.parse", "0.0.0", "units.parse: could not parse amount to a number"],
    ["units.parse", ".5.2", "units.parse: could not parse amount to a number"],
    ["units.parse", "100 k", "units.parse: spaces not allowed in resource strings"],
    ["units.parse", " 327Mi ", "units.parse: spaces not allowed in resource strings"],
    ["units.parse", "10e10000000Ei", "units.parse: exponent too large"],
    ["units.parse", "10KB", "units.parse: unit Kb not recognized"],
  ];
  for (const [name, input, message] of cases) {
    test(`${name}(${JSON.stringify(input)}) fails: ${message}`, () => {
      expectBuiltinError(errorOf(name, input), "eval_builtin_error", message);
    });
  }

  test("a non-string is an operand error", () => {
    expect(errorOf("units.parse", 1).message).toBe("units.parse: operand 1 must be string but got number");
  });
});

describe("units: properties", () => {
  test("an integer with a suffix is the integer times the factor", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(["k", 1000], ["Ki", 1024], ["M", 1_000_000], ["Mi", 1_048_576]), (i, [u, f]) => {
        return call("units.parse", `${i}${u}`) === i * (f as number) && call("units.parse_bytes", `${i}${u}`) === i * (f as number);
      }),
    );
  });
});
