/**
 * glob.match and glob.quote_meta called directly: OPA's globmatch conformance
 * cases as a table, gobwas/glob's syntax corners, errors, and properties
 * (quote_meta makes any string match itself only).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { GLOB_BUILTINS, globToRegex } from "../../../../src/policy/rego/builtins/glob.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family } from "./helpers.ts";

const { call, errorOf: failure } = family(GLOB_BUILTINS);
const errorOf = (...args: Value[]) => failure("glob.match", ...args);

describe("glob.match: conformance cases", () => {
  const cases: [string, Value, string, boolean][] = [
    ["*:github:com", [":"], "api:github:com", true],
    ["*.github.com", ["."], "api.not-github.com", false],
    ["[abc]at", [], "fat", false],
    ["[!abc]at", [], "fat", true],
    ["[!abc]at", [], "cat", false],
    ["[a-c]at", [], "bat", true],
    ["[!a-c]at", [], "bat", false],
    ["?at", ["f"], "fat", false],
    ["{cat,bat,[fr]at}", [], "cat", true],
    ["{cat,bat,[fr]at}", [], "bat", true],
    ["{cat,bat,[fr]at}", [], "fat", true],
    ["{cat,bat,[fr]at}", [], "rat", true],
    ["{cat,bat,[fr]at}", [], "at", false],
    ["*", [], "foo.bar", false],
    ["*", null, "foo.bar", true],
    ["foo*", null, "foo.bar", true],
    ["?", null, "", false],
    ["[!0-9]", null, "", false],
    ["a/*/b", null, "a/b", false],
    ["a/*/b", null, "a/x/b", true],
    ["a/**/b", null, "a/b", false],
    ["a/**/b", null, "a//b", true],
    ["**/x", null, "x", false],
    ["{**/,}x", null, "x", true],
    ["***", ["."], "", true],
    ["*?*", [".", "/"], "api.github.com", false],
    ["*?*", [".", "/"], "abc", true],
    ["*", [".", "/"], "a/b", false],
    ["\\*", null, "*", true],
    ["\\*", null, "a", false],
  ];
  for (const [pattern, delims, s, want] of cases) {
    test(`glob.match(${pattern}, ${JSON.stringify(delims)}, ${s})`, () => expect(call("glob.match", pattern, delims, s)).toBe(want));
  }
});

describe("glob.match: gobwas/glob syntax", () => {
  const cases: [string, Value, string, boolean][] = [
    ["api.**.com", ["."], "api.a.b.com", true],
    ["api.*.com", ["."], "api.a.b.com", false],
    ["*.com", ["."], "\u{1F600}.com", true],
    ["?.com", ["."], "\u{1F600}.com", true],
    ["[!a]", ["."], ".", true],
    ["{a,{b,c}d}", null, "cd", true],
    ["{a,{b,c}d}", null, "c", false],
    ["{a,b", null, "b", true],
    ["a,b}", null, "a,b}", true],
    ["[\\]]", null, "]", true],
    ["[abc-]", null, "-", true],
    ["[a-a]", null, "a", true],
    ["a]b", null, "a]b", true],
    ["x\nx", null, "x\nx", true],
    ["*", null, "a\nb", true],
    ["(a|b)+", null, "(a|b)+", true],
    ["a\\", null, "a", true],
  ];
  for (const [pattern, delims, s, want] of cases) {
    test(`glob.match(${JSON.stringify(pattern)}, ${JSON.stringify(delims)}, ${JSON.stringify(s)})`, () =>
      expect(call("glob.match", pattern, delims, s)).toBe(want));
  }

  test("errors", () => {
    expect(errorOf("[", null, "a").message).toBe("glob.match: unexpected end of input");
    expect(errorOf("[ab", null, "a").message).toBe("glob.match: unexpected end of input");
    expect(errorOf("[a-]", null, "a").message).toBe("glob.match: unexpected end of input");
    expect(errorOf("[a-bc]", null, "a").message).toBe("glob.match: expected close range character");
    expect(errorOf("[]", null, "a").message).toBe("glob.match: could not parse range");
    expect(errorOf("[z-a]", null, "a").message).toBe("glob.match: hi character 'a' should be greater than lo 'z'");
    expectBuiltinError(errorOf("*", ".", "a"), "eval_type_error", "glob.match: operand 2 must be one of {array, null} but got string");
    expect(errorOf("*", ["ab"], "a").message).toBe("glob.match: operand 2 must be array of runes but got array containing string");
    expect(errorOf("*", [1], "a").message).toBe("glob.match: operand 2 must be array of strings but got array containing number");
  });

  test("the translation is anchored and linear", () => {
    expect(globToRegex("a*b", ["."])).toBe("(?s)^(?:a[^\\x{2e}]*b)$");
    const started = performance.now();
    expect(call("glob.match", "*a*a*a*a*a*a*a*a*b", null, "a".repeat(20_000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("glob.quote_meta", () => {
  test("escapes the meta characters", () => {
    expect(call("glob.quote_meta", "*.github.com")).toBe("\\*.github.com");
    expect(call("glob.quote_meta", "[a]{b,c}?\\")).toBe("\\[a\\]\\{b,c\\}\\?\\\\");
  });

  test("a quoted string matches itself, with any delimiters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-composite", maxLength: 10 }), (s) => {
        const q = call("glob.quote_meta", s) as string;
        return call("glob.match", q, null, s) === true && call("glob.match", q, ["."], s) === true;
      }),
    );
  });
});
