/** User regexes run on RE2 (linear time): catastrophic patterns finish at once, unsupported syntax is rejected by name. */
import { describe, expect, test } from "bun:test";
import { compareDocuments, compileRulesInput, compileUserRegex, UserRegexError } from "../../../src/compare/index.ts";
import { MAX_PROGRAM_SIZE, PAST_DEADLINE, TOO_LONG } from "../../../src/core/regex.ts";
import { compareRulesSchema } from "../../../src/config/compare-schema.ts";

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
    const rules = compileRulesInput({ normalize: [{ path: "$.s", pattern: "(a+)+$", replace: "X" }] });
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

describe("program size: the cost of a pattern per input character is bounded", () => {
  test.each([
    ["[a-z]{1000}".repeat(8) + "[0-9]", 8003],
    ["[a-z]{1000}[0-9]{1000}", 2002],
    ["x{0,1000}", 2002],
  ])("regression: %p is rejected as too large (%p instructions)", (pattern, size) => {
    let err: unknown;
    try {
      compileUserRegex(pattern);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserRegexError);
    expect((err as UserRegexError).message).toStartWith("not supported by the linear-time regex engine (RE2): the pattern is too large: ");
    expect((err as UserRegexError).message).toContain(`compiles to ${size} instructions, more than the ${MAX_PROGRAM_SIZE} allowed`);
  });

  test("one counted repetition up to 1000 fits; typical patterns are far below the limit", () => {
    expect(compileUserRegex("[a-z]{1000}").programSize).toBeLessThanOrEqual(MAX_PROGRAM_SIZE);
    expect(compileUserRegex("^[0-9a-f-]{36}$").programSize).toBe(40);
  });

  test("validation names the normalize rule", () => {
    const r = compareRulesSchema.safeParse({ normalize: [{ path: "$..*", pattern: "[a-z]{100}", replace: "" }, { path: "$..*", pattern: `${"[a-z]{1000}".repeat(8)}[0-9]`, replace: "X" }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["normalize", 1, "pattern"]);
    expect(r.error?.issues[0]?.message).toMatch(/too large: it compiles to 8003 instructions/);
  });
});

describe("replaceWithin: limits on the result and the clock", () => {
  test("regression: a replacement that repeats the rest of the string per match stops at the length limit", () => {
    const s = "x".repeat(60_000);
    const t0 = performance.now();
    expect(compileUserRegex("").replaceWithin(s, "$'", { maxLength: 1 << 20, deadline: Number.POSITIVE_INFINITY })).toBe(TOO_LONG);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(compileUserRegex("x").replaceWithin("axb", "[$'$`]", { maxLength: 100, deadline: Number.POSITIVE_INFINITY })).toBe("a[ba]b");
  });

  test("a clock already past the deadline stops a replacement with many matches", () => {
    const s = "a".repeat(60_000);
    expect(compileUserRegex("x*").replaceWithin(s, "-", { maxLength: Number.POSITIVE_INFINITY, deadline: performance.now() - 1 })).toBe(PAST_DEADLINE);
    expect(compileUserRegex("x*").replaceWithin("ab", "-", { maxLength: Number.POSITIVE_INFINITY, deadline: performance.now() - 1 })).toBe("-a-b-");
  });

  test("replacements follow String.prototype.replace (differential, on patterns both engines read alike)", () => {
    const patterns = ["(\\d+)-(\\d+)", "(?<y>\\d{4})-(?<m>\\d\\d)", "a|(b)", "x*", "(a)(b)?(c)(d)(e)(f)(g)(h)(i)(j)(k)", "\\s+", "^", "$", "(?:ab)+"];
    const replacements = ["$1", "$2$1", "$&!", "$$", "$`|$'", "$<y>/$<m>", "$<nope>", "$<y", "$0", "$01", "$10", "$11", "$12", "$99", "$", "a$", "$x", "[$2]"];
    const inputs = ["", "12-34 and 5-6", "2024-05 2025-12", "abcabc bab", "abcdefghijk!", " a  b\tc ", "ababab"];
    for (const p of patterns) {
      const re = compileUserRegex(p);
      const js = new RegExp(p, "g");
      for (const r of replacements) for (const s of inputs) expect([p, r, s, re.replaceAll(s, r)]).toEqual([p, r, s, s.replace(js, r)]);
    }
  });
});
