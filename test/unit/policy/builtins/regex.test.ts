/**
 * The regex family called directly: OPA's conformance cases (regexmatch,
 * regexfind, regexsplit, regexreplace) as tables, Go's loop semantics for
 * empty matches, template expansion, the size limit and the cache, and
 * regex.globs_match's intersection.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_PROGRAM, REGEX_BUILTINS } from "../../../../src/policy/rego/builtins/regex.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { callIn, expectBuiltinError, family, label, testContext } from "./helpers.ts";

const { call, errorOf } = family(REGEX_BUILTINS);

describe("regex: conformance cases", () => {
  const cases: [string, Value[], Value][] = [
    ["regex.match", ["^[a-z]+\\[[0-9]+\\]$", "foo[1]"], true],
    ["regex.match", ["^$", ""], true],
    ["regex.match", ["", ""], true],
    ["regex.match", ["", "x"], true],
    ["regex.match", ["^$", "something"], false],
    ["regex.find_n", ["a.", "paranormal", -1], ["ar", "an", "al"]],
    ["regex.find_n", ["a.", "paranormal", 2], ["ar", "an"]],
    ["regex.replace", ["-wy-wxxy-", "w(x*)y", "0"], "-0-0-"],
    ["regex.replace", ["foo", "(foo)", "$1$1"], "foofoo"],
    ["regex.split", ["^[a-z]+\\[[0-9]+\\]$", ""], [""]],
    ["regex.split", ["^[a-z]+", "foobar baz"], ["", " baz"]],
    ["regex.split", ["[a-z]+$", "foobar baz"], ["foobar ", ""]],
    ["regex.split", ["^[a-z]+$", "foobar baz"], ["foobar baz"]],
    ["regex.split", ["^[a-z ]+$", "foobar baz"], ["", ""]],
    ["regex.split", ["a", "banana"], ["b", "n", "n", ""]],
    ["regex.split", ["z+", "pizza"], ["pi", "a"]],
  ];
  for (const [name, args, want] of cases) {
    test(`${name}(${label(args)})`, () => expect(call(name, ...args)).toEqual(want));
  }

  test("a bad pattern is Go's parse error (undefined outside strict mode)", () => {
    expectBuiltinError(errorOf("regex.match", "$^[[[", "something"), "eval_builtin_error", "regex.match: error parsing regexp: missing closing ]: `[[[`");
    expect(errorOf("regex.replace", "foo", "[", "$1").message).toBe("regex.replace: error parsing regexp: missing closing ]: `[`");
  });
});

describe("regex: Go's semantics", () => {
  const cases: [string, Value[], Value][] = [
    // Empty matches: one code point on, none right after a match.
    ["regex.find_n", ["a*", "baaac", -1], ["", "aaa", ""]],
    ["regex.find_n", ["", "\u{1F600}x", -1], ["", "", ""]],
    ["regex.find_n", [".", "\u{1F600}x", -1], ["\u{1F600}", "x"]],
    ["regex.find_n", ["a", "aaa", 0], []],
    ["regex.split", ["x*", "axb"], ["a", "b"]],
    ["regex.split", ["", ""], []],
    ["regex.split", ["", "ab"], ["a", "b"]],
    ["regex.replace", ["baaac", "a*", "X"], "XbXcX"],
    ["regex.replace", ["abc", "(?P<first>a)(b)", "${first}x$2$$"], "axb$c"],
    ["regex.replace", ["abc", "(a)", "$1x"], "bc"],
    ["regex.replace", ["abc", "(a)", "${1}x"], "axbc"],
    ["regex.replace", ["abc", "(a)", "$9"], "bc"],
    ["regex.replace", ["abc", "(a)", "$-"], "$-bc"],
    ["regex.replace", ["abc", "(a)|(z)", "[$2]"], "[]bc"],
    ["regex.replace", ["abc", "(?<n>b)", "<$n>"], "a<b>c"],
    ["regex.find_all_string_submatch_n", ["a(x*)b", "-ab-axxb-", -1], [["ab", ""], ["axxb", "xx"]]],
    ["regex.find_all_string_submatch_n", ["(a)|(b)", "ab", -1], [["a", "a", ""], ["b", "", "b"]]],
    ["regex.find_all_string_submatch_n", ["a(x*)b", "-ab-axxb-", 1], [["ab", ""]]],
    ["regex.match", ["(?i)straße", "STRAßE"], true],
    ["regex.match", ["^\\p{Greek}+$", "αβγ"], true],
    ["regex.match", ["^.$", "\u{1F600}"], true],
    ["regex.is_valid", ["a+"], true],
    ["regex.is_valid", ["(a"], false],
    ["regex.is_valid", ["(?=a)"], false],
    ["regex.is_valid", ["\\1"], false],
    ["regex.is_valid", [1], false],
    ["regex.template_match", ["urn:foo:{.*}", "urn:foo:bar:baz", "{", "}"], true],
    ["regex.template_match", ["urn:foo.bar.com:{.*}", "urn:foo.bar.com:bar:baz", "{", "}"], true],
    ["regex.template_match", ["urn:foo.bar.com:{.*}", "urn:foo.com:bar:baz", "{", "}"], false],
    ["regex.template_match", ["urn:foo.bar.com:{.*}", "foobar", "{", "}"], false],
    ["regex.template_match", ["urn:foo.bar.com:{.{1,2}}", "urn:foo.bar.com:aa", "{", "}"], true],
    ["regex.template_match", ["urn:foo.bar.com:<.{1,2}>", "urn:foo.bar.com:aaa", "<", ">"], false],
  ];
  for (const [name, args, want] of cases) {
    test(`${name}(${label(args)})`, () => expect(call(name, ...args)).toEqual(want));
  }

  test("template_match errors", () => {
    expect(errorOf("regex.template_match", "urn:{.*", "x", "{", "}").message).toBe('regex.template_match: unbalanced braces in "urn:{.*"');
    expect(errorOf("regex.template_match", "urn:{.*}", "x", "{{", "}").message).toBe(
      "regex.template_match: start delimiter has to be exactly one character long but is 2 long",
    );
    expect(errorOf("regex.template_match", "urn:{.*}", "x", "{", "é").message).toBe(
      "regex.template_match: end delimiter has to be exactly one character long but is 2 long",
    );
    expect(errorOf("regex.template_match", "urn:{[}", "x", "{", "}").message).toContain("error parsing regexp");
  });

  test("operand errors", () => {
    expect(errorOf("regex.match", 1, "x").message).toBe("regex.match: operand 1 must be string but got number");
    expect(errorOf("regex.find_n", "a", "x", 1.5).message).toBe("regex.find_n: operand 3 must be integer number but got floating-point number");
  });
});

describe("regex: linear time, size limit, cache", () => {
  test("a pattern past the size limit is refused, and is not valid", () => {
    const big = "[a-z]{1000}".repeat(Math.ceil(MAX_PROGRAM / 1000) + 1);
    const e = errorOf("regex.match", big, "x");
    expect(e.code).toBe("eval_builtin_error");
    expect(e.message).toContain("pattern too large");
    expect(call("regex.is_valid", big)).toBe(false);
  });

  test("catastrophic-backtracking patterns run in linear time", () => {
    const s = `${"a".repeat(50_000)}!`;
    const started = performance.now();
    expect(call("regex.match", "^(a+)+$", s)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("matching is charged to the step budget in proportion to the input", () => {
    const c = testContext();
    callIn(c, REGEX_BUILTINS, "regex.match", "[a-z]{100}", "x".repeat(100_000));
    expect(c.steps).toBeGreaterThan(100);
  });

  test("compiled patterns are cached per policy, boundedly", () => {
    const c = testContext();
    for (let i = 0; i < 2000; i++) callIn(c, REGEX_BUILTINS, "regex.match", `x${i}`, "x1");
    const cache = c.cache.get("regex:compiled") as Map<string, unknown>;
    expect(cache.size).toBeLessThanOrEqual(512);
    expect(cache.has("x1999")).toBe(true);
  });
});

describe("regex.globs_match", () => {
  const cases: [string, string, boolean][] = [
    ["a.a.", ".b.b", true],
    ["[a-z]+", "[0-9]*", false],
    ["[a-c]*", "[b-d]*", true],
    ["a*", "b*", false],
    ["a*", "a+", true],
    ["foo.*", ".*bar", true],
    ["foo", "bar", false],
    ["\\.", ".", true],
    ["\\.", "a", false],
    ["[\\-]", "-", true],
    ["abc", "abc", true],
    ["abc", "abcd", false],
    ["a+b+", "ab", true],
    ["a+b+", "b", false],
  ];
  for (const [a, b, want] of cases) {
    test(`${a} ∩ ${b}`, () => {
      expect(call("regex.globs_match", a, b)).toBe(want);
      expect(call("regex.globs_match", b, a)).toBe(want);
    });
  }

  test("invalid globs", () => {
    expect(errorOf("regex.globs_match", "[a", "a").message).toContain("found [ without matching ]");
    expect(errorOf("regex.globs_match", "a]", "a").message).toContain("set-close ']' with no preceding '['");
    expect(errorOf("regex.globs_match", "*a", "a").message).toContain("flag '*' must be preceded by a non-flag");
    expect(errorOf("regex.globs_match", "a\\", "a").message).toContain("input ends with a \\ (escape) character");
    expect(errorOf("regex.globs_match", "[z-a]", "a").message).toContain("range is out of order");
  });

  test("a literal string intersects exactly the globs matching it", () => {
    const word = fc.stringMatching(/^[ab]{1,5}$/);
    const glob = fc.stringMatching(/^(?:[ab.](?:[*+])?){1,4}$/);
    fc.assert(
      fc.property(word, glob, (w, g) => {
        const re = new RegExp(`^(?:${g})$`, "s");
        return call("regex.globs_match", w, g) === re.test(w);
      }),
    );
  });
});
