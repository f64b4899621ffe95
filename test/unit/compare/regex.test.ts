/** User regexes run on RE2 (linear time): catastrophic patterns finish at once, unsupported syntax is rejected by name. */
import { describe, expect, test } from "bun:test";
import { compareDocuments, compileRules, compileUserRegex, UserRegexError } from "../../../src/compare/index.ts";
import { compareRulesSchema } from "../../../src/compare/rules.ts";

describe("compileUserRegex", () => {
  test("regression: (a+)+$ on 40 a's and a '!' finishes in milliseconds", () => {
    const re = compileUserRegex("(a+)+$");
    const input = `${"a".repeat(40)}!`;
    const t0 = performance.now();
    expect(re.test(input)).toBe(false);
    expect(re.replaceAll(input, "X")).toBe(input);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  test.each([
    ["(a)\\1", /backreferences are not supported/],
    ["(?=a)b", /lookahead and lookbehind are not supported/],
    ["(?!a)b", /lookahead and lookbehind are not supported/],
    ["(?<=a)b", /lookahead and lookbehind are not supported/],
    ["(?<!a)b", /lookahead and lookbehind are not supported/],
    ["a{2000}", /invalid repeat count/],
    ["(unclosed", /missing closing \)/],
  ])("rejects %p", (pattern, why) => {
    let err: unknown;
    try {
      compileUserRegex(pattern);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserRegexError);
    expect((err as UserRegexError).message).toStartWith("not supported by the linear-time regex engine (RE2): ");
    expect((err as UserRegexError).message).toMatch(why);
    expect((err as UserRegexError).pattern).toBe(pattern);
  });

  test.each([
    ["(\\d+)-(\\d+)", "a 12-34 b", "$2-$1", "a 34-12 b"],
    ["(?P<n>\\d+)", "x7y", "<$<n>>", "x<7>y"],
    ["(?<n>\\d+)", "x7y", "[$&]", "x[7]y"],
    ["\\d", "a1b2", "$$", "a$b$"],
    ["x*", "abc", "-", "-a-b-c-"],
    ["é", "café", "e", "cafe"],
  ])("replaceAll(%p) on %p with %p", (pattern, input, replacement, want) => {
    expect(compileUserRegex(pattern).replaceAll(input, replacement)).toBe(want);
  });

  test("flags: i, m, s; unknown flags are rejected", () => {
    expect(compileUserRegex("abc", "i").test("xABCx")).toBe(true);
    expect(compileUserRegex("abc").test("xABCx")).toBe(false);
    expect(compileUserRegex("^b$", "m").test("a\nb\nc")).toBe(true);
    expect(compileUserRegex("^b$").test("a\nb\nc")).toBe(false);
    expect(compileUserRegex("a.b", "s").test("a\nb")).toBe(true);
    expect(compileUserRegex("a.b").test("a\nb")).toBe(false);
    expect(() => compileUserRegex("a", "y")).toThrow(/unknown flag "y"/);
    expect(compileUserRegex("a+", "gu").source).toBe("a+");
  });
});

describe("compare.normalize on RE2", () => {
  test("regression: a catastrophic normalize pattern does not block the comparison", () => {
    const rules = compileRules({ normalize: [{ path: "$.s", pattern: "(a+)+$", replace: "X" }] });
    const t0 = performance.now();
    const v = compareDocuments(JSON.stringify({ s: `${"a".repeat(40)}!` }), JSON.stringify({ s: `${"a".repeat(40)}?` }), rules);
    const w = compareDocuments(JSON.stringify({ s: "a".repeat(40) }), JSON.stringify({ s: "aaa" }), rules);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(v.equal).toBe(false);
    expect(w.equal).toBe(true);
  });

  test("validation names the rule and says why", () => {
    const r = compareRulesSchema.safeParse({ normalize: [{ path: "$.a", pattern: "(?=x)", replace: "" }] });
    expect(r.success).toBe(false);
    const issue = r.error?.issues[0];
    expect(issue?.path).toEqual(["normalize", 0, "pattern"]);
    expect(issue?.message).toMatch(/^not supported by the linear-time regex engine \(RE2\): lookahead/);
  });
});
