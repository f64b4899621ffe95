/**
 * sprintf called directly: OPA's sprintf and strings/sprintf conformance
 * cases, Go's fmt verbs, flags, widths and precisions, its error forms, the
 * Rego text of composite values, and exact float rounding.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SPRINTF_BUILTINS, regoText } from "../../../../src/policy/rego/builtins/sprintf.ts";
import { RegoObject, RegoSet, fromJSON, type Value } from "../../../../src/policy/rego/value.ts";
import { family, n, thrownBy } from "./helpers.ts";

const { call } = family(SPRINTF_BUILTINS);
const fmt = (format: string, ...values: Value[]) => call("sprintf", format, values);
const big = n;

describe("sprintf: conformance cases", () => {
  test("big integers print every digit", () => {
    expect(fmt("%s", big("123456789123456789123"))).toBe("123456789123456789123");
    expect(fmt("%s", big("1208925819614629174706175"))).toBe("1208925819614629174706175");
  });
  test("strings/sprintf", () => {
    expect(fmt("hi %s", "there")).toBe("hi there");
    expect(fmt("hi %02X.%02X", 127, 1)).toBe("hi 7F.01");
    expect(fmt("hi %.2f", 3.1415)).toBe("hi 3.14");
    expect(fmt("hi %s", true)).toBe("hi true");
    expect(fmt("hi %v", ["there", 5, 3.14])).toBe('hi ["there", 5, 3.14]');
  });
});

describe("sprintf: Go's verbs", () => {
  const cases: [string, Value[], string][] = [
    // Integers (Go ints).
    ["%d", [5], "5"],
    ["%v", [-5], "-5"],
    ["%5d", [42], "   42"],
    ["%-5d|", [42], "42   |"],
    ["%05d", [-42], "-0042"],
    ["%+d", [5], "+5"],
    ["% d", [5], " 5"],
    ["%x", [255], "ff"],
    ["%X", [-255], "-FF"],
    ["%#x", [255], "0xff"],
    ["%#o", [8], "010"],
    ["%O", [8], "0o10"],
    ["%b", [5], "101"],
    ["%#b", [5], "0b101"],
    ["%.3d", [7], "007"],
    ["%.0d", [0], ""],
    ["%6.3d", [-7], "  -007"],
    ["%c", [65], "A"],
    ["%c", [0x1f600], "\u{1F600}"],
    ["%q", [65], "'A'"],
    ["%U", [0x1f600], "U+1F600"],
    ["%#U", [65], "U+0041 'A'"],
    ["%s", [5], "%!s(int=5)"],
    ["%f", [5], "%!f(int=5)"],
    ["%t", [1], "%!t(int=1)"],
    // Big integers (*big.Int).
    ["%d", [big("1180591620717411303424")], "1180591620717411303424"],
    ["%x", [big("1180591620717411303424")], "400000000000000000"],
    ["%30d", [big("-1180591620717411303424")], "       -1180591620717411303424"],
    ["%c", [big("1180591620717411303424")], "%!c(big.Int=1180591620717411303424)"],
    // Floats.
    ["%v", [1.5], "1.5"],
    ["%v", [1234567.5], "1.2345675e+06"],
    ["%v", [123456.5], "123456.5"],
    ["%v", [0.00001], "1e-05"],
    ["%v", [0.0001], "0.0001"],
    ["%f", [3.14159], "3.141590"],
    ["%e", [1234.5678], "1.234568e+03"],
    ["%E", [1234.5678], "1.234568E+03"],
    ["%g", [0.000012345], "1.2345e-05"],
    ["%.3g", [3.14159], "3.14"],
    ["%.3g", [1234.5], "1.23e+03"],
    ["%G", [1e-7], "1E-07"],
    ["%.0f", [2.5], "2"],
    ["%.0f", [3.5], "4"],
    ["%.2f", [0.125], "0.12"],
    ["%.2f", [0.375], "0.38"],
    ["%.2f", [1.005], "1.00"],
    ["%8.3f", [3.14159], "   3.142"],
    ["%-8.3f|", [3.14159], "3.142   |"],
    ["%08.3f", [-3.14159], "-003.142"],
    ["%+.1f", [2.25], "+2.2"],
    ["% .1f", [2.5], " 2.5"],
    ["%#.0f", [2.5], "2."],
    ["%#g", [1.5], "1.50000"],
    ["%x", [3.14], "0x1.91eb851eb851fp+01"],
    ["%.2x", [3.14], "0x1.92p+01"],
    ["%b", [3.14], "7070651414971679p-51"],
    ["%d", [1.5], "%!d(float64=1.5)"],
    ["%s", [1.5], "%!s(float64=1.5)"],
    // Strings and everything shown as its Rego text.
    ["%s", ["hé"], "hé"],
    ["%q", ["hi\n\"x\""], '"hi\\n\\"x\\""'],
    ["%+q", ["é"], '"\\u00e9"'],
    ["%#q", ["a\"b"], "`a\"b`"],
    ["%x", ["hi"], "6869"],
    ["% x", ["hi"], "68 69"],
    ["%#x", ["hi"], "0x6869"],
    ["%.1s", ["\u{1F600}x"], "\u{1F600}"],
    ["%5s", ["ab"], "   ab"],
    ["%-5s|", ["ab"], "ab   |"],
    ["%3s|", ["\u{1F600}"], "  \u{1F600}|"],
    ["%d", ["a"], "%!d(string=a)"],
    ["%t", [true], "%!t(string=true)"],
    ["%v", [null], "null"],
    ["%#v", ["a"], '"a"'],
    ["%T %T %T %T", [1, 1.5, "a", big("1180591620717411303424")], "int float64 string *big.Int"],
    // Error forms and argument handling.
    ["%%", [], "%"],
    ["%d%%", [5], "5%"],
    ["%d", [], "%!d(MISSING)"],
    ["%d", [1, 2], "1%!(EXTRA int=2)"],
    ["%d", [1, "a", 1.5], "1%!(EXTRA string=a, float64=1.5)"],
    ["%[2]d %[1]d", [1, 2], "2 1"],
    ["%[3]d", [1], "%!d(BADINDEX)"],
    ["%", [], "%!(NOVERB)"],
    ["abc%", [], "abc%!(NOVERB)"],
    ["%*d", [5, 42], "   42"],
    ["%-*d|", [5, 42], "42   |"],
    ["%*d", [-5, 42], "42   "],
    ["%*d", ["x", 42], "%!(BADWIDTH)42"],
    ["%.*f", [2, 3.14159], "3.14"],
    ["%.*f", [-1, 3.5], "%!(BADPREC)3.500000"],
    ["%5.", [1], "%!.(int=1)"],
    ["%z", [1], "%!z(int=1)"],
  ];
  for (const [format, values, want] of cases) {
    test(`sprintf(${JSON.stringify(format)}) = ${JSON.stringify(want)}`, () => expect(fmt(format, ...values)).toBe(want));
  }
});

describe("sprintf: composite values as OPA prints them", () => {
  const cases: [Value, string][] = [
    [fromJSON({ b: [true, null], a: 1 }), '{"a": 1, "b": [true, null]}'],
    [RegoSet.of([2, 1]), "{1, 2}"],
    [RegoSet.of([]), "set()"],
    [["a\"b", "é\u0000"], '["a\\"b", "é\\x00"]'],
    [RegoObject.fromEntries([[[1], RegoSet.of(["x"])]]), '{[1]: {"x"}}'],
    [[big("123456789012345678901234567890"), 0.5], "[123456789012345678901234567890, 0.5]"],
  ];
  for (const [v, want] of cases) {
    test(want, () => {
      expect(regoText(v)).toBe(want);
      expect(fmt("%v", v)).toBe(want);
      expect(fmt("%s", v)).toBe(want);
    });
  }
});

describe("sprintf: operands and properties", () => {
  test("the values must be an array", () => {
    expect(thrownBy(() => call("sprintf", "%v", "x")).message).toBe("sprintf: operand 2 must be array but got string");
  });

  test("%d of any integer is its decimal text", () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), (b) => fmt("%d", big(b.toString())) === b.toString()));
  });

  test("%v of a non-integer double reads back as the same double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        if (Number.isInteger(d) || d === 0) return true;
        return Number(fmt("%v", d) as string) === d;
      }),
    );
  });

  test("%.Nf agrees with the exact value rounded half to even", () => {
    fc.assert(
      fc.property(fc.integer({ min: -100000, max: 100000 }), fc.integer({ min: 0, max: 4 }), (i, p) => {
        // Quarters are exact in binary, so their ties are real ties.
        const x = i / 4;
        if (Number.isInteger(x)) return true;
        const got = fmt(`%.${p}f`, x) as string;
        return Math.abs(Number(got) - x) <= 0.5 * 10 ** -p + 1e-12;
      }),
    );
  });
});
