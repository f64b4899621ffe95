/**
 * The strings family called directly: OPA's conformance cases (strings, trim*,
 * replacen) as tables, Unicode counting, error wording, and properties that
 * tie the functions to each other.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseNumber } from "../../../../src/policy/rego/number.ts";
import { STRING_BUILTINS } from "../../../../src/policy/rego/builtins/strings.ts";
import type { BuiltinErrorCode } from "../../../../src/policy/rego/builtins/types.ts";
import { RegoObject, RegoSet, fromJSON, type Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family, label } from "./helpers.ts";

const { call, errorOf } = family(STRING_BUILTINS);

const obj = (x: Record<string, unknown>): Value => fromJSON(x);

describe("strings: conformance cases", () => {
  const cases: [string, Value[], Value][] = [
    ["format_int", [15.5, 16], "f"],
    ["format_int", [3.1, 10], "3"],
    ["format_int", [4.1, 10], "4"],
    ["concat", ["/", ["", "foo", "bar", "0", "baz"]], "/foo/bar/0/baz"],
    ["concat", [",", RegoSet.of(["1", "2", "3"])], "1,2,3"],
    ["concat", ["", ["f", "o", "o"]], "foo"],
    ["substring", ["abcdefgh", 2, -1], "cdefgh"],
    ["substring", ["aåäö", 2, -1], "äö"],
    ["substring", ["abcdefgh", 2, 10000], "cdefgh"],
    ["substring", ["abcdefghåäö", 2, 10000], "cdefghåäö"],
    ["substring", ["aaa", 4, -1], ""],
    ["substring", ["åäö", 4, -1], ""],
    ["contains", ["abcdefgh", "defg"], true],
    ["startswith", ["abcdefgh", "abcd"], true],
    ["endswith", ["abcdefgh", "fgh"], true],
    ["lower", ["AbCdEf"], "abcdef"],
    ["upper", ["AbCdEf"], "ABCDEF"],
    ["split", ["", "."], [""]],
    ["split", ["test", ""], ["t", "e", "s", "t"]],
    ["split", ["", ""], []],
    ["split", ["foo", "."], ["foo"]],
    ["split", ["foo.bar.baz", "."], ["foo", "bar", "baz"]],
    ["replace", ["foo.bar", ".", ","], "foo,bar"],
    ["replace", ["foo.bar.baz", ".", ","], "foo,bar,baz"],
    ["replace", ["foo...bar", "..", ",,"], "foo,,.bar"],
    ["trim", ["", "."], ""],
    ["trim", ["...foo.bar", "."], "foo.bar"],
    ["trim", ["...foo.bar...", "."], "foo.bar"],
    ["trim", ["...foo.bar...", ".o"], "foo.bar"],
    ["trim", ["¡¡¡foo, bar!!!", "i"], "¡¡¡foo, bar!!!"],
    ["trim_left", ["!!!foo, bar¡¡¡", "¡"], "!!!foo, bar¡¡¡"],
    ["trim_prefix", ["¡¡¡foo, bar!!!", "¡¡¡foo"], ", bar!!!"],
    ["trim_space", ["foo, bar"], "foo, bar"],
    ["trim_suffix", ["¡¡¡foo, bar!!!", ", bar!!!"], "¡¡¡foo"],
    ["trim_suffix", ["¡¡¡foo, bar!!!", ", foo!!!"], "¡¡¡foo, bar!!!"],
    ["indexof_n", ["dogcat", "cat"], [3]],
    ["indexof_n", ["dogcatdogcat", "cat"], [3, 9]],
    ["indexof_n", ["dogcat", "rabbit"], []],
    ["indexof_n", ["\u{1F607}\u{1F600}\u{1F607}\u{1F600}\u{1F607}\u{1F600}", "\u{1F600}"], [1, 3, 5]],
    ["indexof_n", ["\u{1F607}\u{1F600}\u{1F607}\u{1F600}\u{1F607}\u{1F600}", "\u{1F602}"], []],
    ["strings.count", ["cheese", "e"], 3],
    ["strings.count", ["hello hello hello world", "hello"], 3],
    ["strings.count", ["dummy", "x"], 0],
    ["strings.count", ["dummy", ""], 6],
    ["strings.count", ["", ""], 1],
    ["strings.count", ["", "x"], 0],
    ["strings.count", ["11111", "11"], 2],
    ["strings.count", ["11111", "11111"], 1],
    ["indexof", ["μx", "x"], 1],
    ["indexof", ["μ", "μμ"], -1],
    ["indexof", ["skön var våren", "vår"], 9],
    ["indexof", ["\u{1F367}\u{1F368}\u{1F9C1}\u{1F370}\u{1F36E}", "\u{1F36E}"], 4],
    ["indexof", ["\u{1F367}\u{1F368}\u{1F9C1}\u{1F370}\u{1F36E}", "\u{1F367}\u{1F368}\u{1F9C1}\u{1F370}\u{1F36E}"], 0],
    ["strings.split_n", ["a.b.c.d", ".", 2], ["a", "b"]],
    ["strings.split_n", ["a.b.c.d", ".", 1], ["a"]],
    ["strings.split_n", ["a.b.c.d", ".", 4], ["a", "b", "c", "d"]],
    ["strings.split_n", ["a.b.c.d", ".", 10], ["a", "b", "c", "d"]],
    ["strings.split_n", ["a.b.c.d", ".", 0], []],
    ["strings.split_n", ["a.b.c.d", ".", -2], ["c", "d"]],
    ["strings.split_n", ["a.b.c.d", ".", -1], ["d"]],
    ["strings.split_n", ["a.b.c.d", ".", -4], ["a", "b", "c", "d"]],
    ["strings.split_n", ["a.b.c.d", ".", -10], ["a", "b", "c", "d"]],
    ["strings.split_n", ["abc", ".", 2], ["abc"]],
    ["strings.split_n", ["abc", ".", -2], ["abc"]],
    ["strings.split_n", ["", ".", 2], [""]],
    ["strings.split_n", ["abc", "", 2], ["a", "b"]],
    ["strings.split_n", ["abc", "", -2], ["b", "c"]],
    ["strings.split_n", ["alice;alice@example.com;admin;active", ";", 2], ["alice", "alice@example.com"]],
    ["strings.split_n", ["admin;active;alice;alice@example.com", ";", -2], ["alice", "alice@example.com"]],
  ];
  for (const [name, args, want] of cases) {
    test(`${name}(${label(args)})`, () => expect(call(name, ...args)).toEqual(want));
  }
});

describe("strings.any_prefix_match / any_suffix_match", () => {
  const strs = ["a/b/c", "a/b/d", "e/f/g"];
  const cases: [string, Value, Value, boolean][] = [
    ["strings.any_prefix_match", strs, ["a/", "d/"], true],
    ["strings.any_prefix_match", strs, ["f/", "d/"], false],
    ["strings.any_prefix_match", strs, ["a/b/", "a/"], true],
    ["strings.any_prefix_match", strs, ["d/", "e/f/g"], true],
    ["strings.any_prefix_match", ["aa/bb/cc", "aa/bb/dd", "ee/ff/gg"], ["aa/b", "e/f"], true],
    ["strings.any_prefix_match", ["aa/bb/cc", "aa/bb/dd", "ee/ff/gg"], ["a/b", "e/f"], false],
    ["strings.any_prefix_match", ["aa/bb/cc", "aa/bb/dd", "ee/ff/gg"], ["b/cc"], false],
    ["strings.any_prefix_match", [], ["a/b", "e/f"], false],
    ["strings.any_prefix_match", strs, [], false],
    ["strings.any_prefix_match", [], [], false],
    ["strings.any_prefix_match", strs, "a/", true],
    ["strings.any_prefix_match", strs, "d/", false],
    ["strings.any_prefix_match", "a/b/c", ["a/", "d/"], true],
    ["strings.any_prefix_match", "a/b/c", ["g/", "d/"], false],
    ["strings.any_prefix_match", RegoSet.of(strs), RegoSet.of(["a/", "d/"]), true],
    ["strings.any_prefix_match", RegoSet.of(strs), RegoSet.of(["f/", "d/"]), false],
    ["strings.any_prefix_match", ["1", "2", "3"], ["f/", "d/"], false],
    ["strings.any_prefix_match", ["a/b/c", "", "e/f/g"], ["z/"], false],
    ["strings.any_prefix_match", ["a/b/c", "", "e/f/g"], ["z/", "e/f"], true],
    ["strings.any_prefix_match", strs, ["z/", ""], true],
    ["strings.any_prefix_match", ["", "a/b/c"], ["z/", ""], true],
    ["strings.any_suffix_match", strs, ["/c", "/a"], true],
    ["strings.any_suffix_match", strs, ["/f", "/a"], false],
    ["strings.any_suffix_match", strs, ["/b/c", "/d"], true],
    ["strings.any_suffix_match", strs, ["/a", "e/f/g"], true],
    ["strings.any_suffix_match", ["aa/bb/cc", "aa/bb/dd", "ee/ff/gg"], ["b/cc", "f/g"], true],
    ["strings.any_suffix_match", ["aa/bb/cc", "aa/bb/dd", "ee/ff/gg"], ["b/c", "f/g"], false],
    ["strings.any_suffix_match", ["aa/bb/cc", "aa/bb/dd", "ee/ff/gg"], ["aa/b"], false],
    ["strings.any_suffix_match", strs, "/c", true],
    ["strings.any_suffix_match", strs, "/h", false],
    ["strings.any_suffix_match", "a/b/c", ["/c", "/a"], true],
    ["strings.any_suffix_match", "a/b/g", ["/c", "/a"], false],
    ["strings.any_suffix_match", RegoSet.of(strs), RegoSet.of(["/c", "/a"]), true],
  ];
  for (const [name, a, b, want] of cases) {
    test(`${name}(${label([a, b])})`, () => expect(call(name, a, b)).toBe(want));
  }

  const errors: [string, Value, Value, string][] = [
    ["strings.any_prefix_match", [1, 2, 3], ["f/"], "strings.any_prefix_match: operand 1 must be array of strings but got array containing number"],
    ["strings.any_prefix_match", 1, ["f/"], "strings.any_prefix_match: operand 1 must be one of {string, set, array} but got number"],
    ["strings.any_prefix_match", strs, [1, 2], "strings.any_prefix_match: operand 2 must be array of strings but got array containing number"],
    ["strings.any_prefix_match", strs, 1, "strings.any_prefix_match: operand 2 must be one of {string, set, array} but got number"],
    ["strings.any_suffix_match", [1, 2, 3], ["f/"], "strings.any_suffix_match: operand 1 must be array of strings but got array containing number"],
    ["strings.any_suffix_match", 1, ["f/"], "strings.any_suffix_match: operand 1 must be one of {string, set, array} but got number"],
    ["strings.any_suffix_match", strs, RegoSet.of([1]), "strings.any_suffix_match: operand 2 must be set of strings but got set containing number"],
  ];
  for (const [name, a, b, message] of errors) {
    test(`${name} type error: ${message}`, () => {
      expectBuiltinError(errorOf(name, a, b), "eval_type_error", message);
    });
  }
});

describe("strings.replace_n: Go's Replacer semantics", () => {
  const cases: [Record<string, string>, string, string][] = [
    [{ info: "X", anotherinfo: "Y" }, "anotherinfo", "Y"],
    [{ a: "YY", bba: "bX" }, "bbab", "bXb"],
    [{ ab: "b", b: "Y" }, "baaabbbba", "YaabYYYa"],
    [{ a: "b", b: "a" }, "abba", "baab"],
    [{ a: "Xa", ab: "X", ba: "bYa", aaa: "X" }, "aaaaab", "XaXaXaXaXab"],
    [{ aab: "Y", a: "", b: "" }, "bbaab", ""],
    [{ "": "X" }, "", "X"],
    [{ "": "X" }, "ab", "XaXbX"],
    [{ "": "X", a: "Y" }, "ab", "XYXbX"],
    [{ "": "-", é: "e" }, "aéb", "-a-e-b-"],
    [{ "": "-" }, "a\u{1F600}", "-a-\u{1F600}-"],
  ];
  for (const [patterns, s, want] of cases) {
    test(`${JSON.stringify(patterns)} on ${s}`, () => expect(call("strings.replace_n", obj(patterns), s)).toBe(want));
  }

  test("operand errors as OPA words them", () => {
    const nonStringKey = RegoObject.fromEntries([[2, "x"]]);
    expect(errorOf("strings.replace_n", nonStringKey, "foo").message).toBe("strings.replace_n: operand 1 non-string key found in pattern object");
    expect(errorOf("strings.replace_n", obj({ f: 100 }), "foo").message).toBe("strings.replace_n: operand 1 non-string value found in pattern object");
    expectBuiltinError(errorOf("strings.replace_n", obj({ foo: "baz" }), 100), "eval_type_error", "strings.replace_n: operand 2 must be string but got number");
  });

  test("replace with an empty old string inserts between code points", () => {
    expect(call("replace", "a\u{1F600}", "", "-")).toBe("-a-\u{1F600}-");
  });
});

describe("strings: more behaviour", () => {
  const cases: [string, Value[], Value][] = [
    ["format_int", [-15.5, 16], "-f"],
    ["format_int", [255, 2], "11111111"],
    ["format_int", [8, 8], "10"],
    ["format_int", [parseNumber("123456789012345678901234567890") as Value, 10], "123456789012345678901234567890"],
    ["format_int", [parseNumber("0.1234567890123456789") as Value, 10], "0"],
    ["format_int", [parseNumber("12345678901234567890.5") as Value, 16], "ab54a98ceb1f0ad2"],
    ["lower", ["ÅÄÖ ΑΣ"], "åäö ασ"],
    ["lower", ["İ"], "i"],
    ["upper", ["straße"], "STRAßE"],
    ["trim_right", ["xxaxx", "x"], "xxa"],
    ["trim_left", ["xxaxx", "x"], "axx"],
    ["trim", ["\u{1F600}a\u{1F600}", "\u{1F600}"], "a"],
    ["trim_space", ["\t\n\u00a0 foo \u2003\u0085"], "foo"],
    ["trim_space", ["\ufefffoo"], "\ufefffoo"],
    ["strings.reverse", ["abc"], "cba"],
    ["strings.reverse", ["a\u{1F600}b"], "b\u{1F600}a"],
    ["strings.reverse", [""], ""],
    ["substring", ["a\u{1F600}bc", 1, 2], "\u{1F600}b"],
    ["substring", ["abc", 0, 0], ""],
    ["split", ["a\u{1F600}b", ""], ["a", "\u{1F600}", "b"]],
    ["strings.count", ["\u{1F600}\u{1F600}", ""], 3],
    ["concat", [", ", []], ""],
    ["concat", [", ", RegoSet.of(["b", "a"])], "a, b"],
  ];
  for (const [name, args, want] of cases) {
    test(`${name}(${label(args)})`, () => expect(call(name, ...args)).toEqual(want));
  }

  const errors: [string, Value[], BuiltinErrorCode, string][] = [
    ["substring", ["abc", -1, 1], "eval_builtin_error", "substring: negative offset"],
    ["substring", ["abc", 1.5, 1], "eval_type_error", "substring: operand 2 must be integer number but got floating-point number"],
    ["substring", ["abc", "1", 1], "eval_type_error", "substring: operand 2 must be number but got string"],
    ["indexof", ["abc", ""], "eval_builtin_error", "indexof: empty search character"],
    ["indexof_n", ["abc", ""], "eval_builtin_error", "indexof_n: empty search character"],
    ["format_int", [1, 3], "eval_type_error", "format_int: operand 2 must be one of {2, 8, 10, 16}"],
    ["format_int", ["1", 10], "eval_type_error", "format_int: operand 1 must be number but got string"],
    ["concat", [",", ["a", 1]], "eval_type_error", "concat: operand 2 must be array of strings but got array containing number"],
    ["concat", [",", "a"], "eval_type_error", "concat: operand 2 must be one of {set, array} but got string"],
    ["contains", [1, "a"], "eval_type_error", "contains: operand 1 must be string but got number"],
    ["strings.split_n", ["a.b.c", ".", 1.5], "eval_type_error", "strings.split_n: operand 3 must be integer number but got floating-point number"],
  ];
  for (const [name, args, code, message] of errors) {
    test(`${name} fails: ${message}`, () => {
      expectBuiltinError(errorOf(name, ...args), code, message);
    });
  }
});

describe("strings: properties", () => {
  const text = fc.string({ unit: "grapheme-composite", maxLength: 12 });
  const sep = fc.constantFrom(".", ",", "ab", "\u{1F600}");

  test("concat(sep, split(s, sep)) is s", () => {
    fc.assert(fc.property(text, sep, (s, d) => call("concat", d, call("split", s, d) as Value) === s));
  });

  test("indexof agrees with substring", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const s = a + b;
        if (b === "") return true;
        const i = call("indexof", s, b) as number;
        return i >= 0 && call("substring", s, i, [...b].length) === b;
      }),
    );
  });

  test("reverse is an involution and keeps the code-point count", () => {
    fc.assert(
      fc.property(text, (s) => {
        const r = call("strings.reverse", s) as string;
        return call("strings.reverse", r) === s && [...r].length === [...s].length;
      }),
    );
  });

  test("replace_n with one non-empty key is replace", () => {
    fc.assert(
      fc.property(text, fc.constantFrom("a", "ab", "\u{1F600}"), fc.string({ maxLength: 3 }), (s, old, rep) => {
        return call("strings.replace_n", obj({ [old]: rep }), s) === call("replace", s, old, rep);
      }),
    );
  });
});
