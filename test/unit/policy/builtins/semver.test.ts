/**
 * semver.is_valid and semver.compare called directly: OPA's semvercompare and
 * semverisvalid conformance cases, semver.org's precedence example, and
 * properties of the order.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SEMVER_BUILTINS } from "../../../../src/policy/rego/builtins/semver.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family } from "./helpers.ts";

const { call, errorOf: failure } = family(SEMVER_BUILTINS);
const errorOf = (...args: Value[]) => failure("semver.compare", ...args);

describe("semver.is_valid", () => {
  const cases: [Value, boolean][] = [
    ["01.2.3", false],
    ["1.02.3", false],
    ["1.2.03", false],
    ["1.2.3-01", false],
    ["1.2.3-alpha.01", false],
    ["1.2.3-", false],
    ["1.2.3+", false],
    ["0.0.0", true],
    ["1.2.3-0", true],
    ["1.2.3-0a", true],
    ["1.2.3+01", true],
    ["v1.2.3", false],
    ["1.2", false],
    ["1.2.3.4", false],
    ["1.2.3-alpha..1", false],
    ["1.2.3-alpha_1", false],
    ["1.0.0-alpha.1+build.5.x-y", true],
    ["9223372036854775807.0.0", true],
    ["9223372036854775808.0.0", false],
    [123, false],
    [null, false],
  ];
  for (const [v, want] of cases) test(`semver.is_valid(${JSON.stringify(v)}) = ${want}`, () => expect(call("semver.is_valid", v)).toBe(want));
});

describe("semver.compare", () => {
  const cases: [string, string, number][] = [
    ["1.0.0", "2.0.0", -1],
    ["2.0.0", "1.0.0", 1],
    ["1.2.3-0", "1.2.3-1", -1],
    ["1.2.3+01", "1.2.3+2", 0],
    ["1.10.0", "1.9.0", 1],
    ["1.0.0-alpha", "1.0.0", -1],
    ["1.0.0-rc.1", "1.0.0-rc.1", 0],
  ];
  for (const [a, b, want] of cases) test(`semver.compare(${a}, ${b}) = ${want}`, () => expect(call("semver.compare", a, b)).toBe(want));

  test("semver.org's precedence example is in ascending order", () => {
    const order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
    for (let i = 0; i + 1 < order.length; i++) {
      expect(call("semver.compare", order[i] as string, order[i + 1] as string)).toBe(-1);
      expect(call("semver.compare", order[i + 1] as string, order[i] as string)).toBe(1);
    }
  });

  test("invalid operands, as OPA words them", () => {
    const cases: [string, string, string][] = [
      ["1", "1.0.0", 'semver.compare: operand 1: string "1" is not a valid SemVer'],
      ["1.02.3", "1.2.3", 'semver.compare: operand 1: string "1.02.3" is not a valid SemVer'],
      ["1.2.3", "1.2.3-01", 'semver.compare: operand 2: string "1.2.3-01" is not a valid SemVer'],
      ["1.2.3-", "1.2.3", 'semver.compare: operand 1: string "1.2.3-" is not a valid SemVer'],
    ];
    for (const [a, b, message] of cases) {
      expectBuiltinError(errorOf(a, b), "eval_builtin_error", message);
    }
    expect(errorOf(1, "1.0.0").message).toBe("semver.compare: operand 1 must be string but got number");
  });

  test("the order is antisymmetric and compares build metadata as equal", () => {
    const id = fc.oneof(fc.nat({ max: 20 }).map(String), fc.constantFrom("alpha", "beta", "rc", "x-1"));
    const version = fc.record({
      core: fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.nat({ max: 3 })),
      pre: fc.array(id, { maxLength: 3 }),
    }).map(({ core, pre }) => `${core.join(".")}${pre.length > 0 ? `-${pre.join(".")}` : ""}`);
    fc.assert(
      fc.property(version, version, (a, b) => {
        const ab = call("semver.compare", a, b) as number;
        return ab === -(call("semver.compare", b, a) as number) && call("semver.compare", a, `${a}+build.1`) === 0;
      }),
    );
  });
});
