/**
 * Encoding built-ins, called directly: the conformance cases of
 * base64builtins, base64urlbuiltins, jsonbuiltins and urlbuiltins, plus the
 * Go behaviours OPA inherits (error wording, escapes, key order).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ENCODING_BUILTINS, goFloatG, yamlKeyLess } from "../../../../src/policy/rego/builtins/encoding.ts";
import { parseNumber } from "../../../../src/policy/rego/number.ts";
import { equal, fromJSON, RegoObject, RegoSet, toJSONText, type Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family } from "./helpers.ts";

const { call, errorOf: failure } = family(ENCODING_BUILTINS);

function expectValue(actual: Value | undefined, expected: Value): void {
  expect(actual).toBeDefined();
  if (!equal(actual as Value, expected)) expect(toJSONText(actual as Value)).toBe(toJSONText(expected));
}

const set123 = RegoSet.of([1, 2, 3]);

describe("conformance cases", () => {
  const cases: [string, string, Value[], Value][] = [
    ["base64builtins/encode-2", "base64.encode", ["there"], "dGhlcmU="],
    ["base64builtins/decode-1", "base64.decode", ["aGVsbG8="], "hello"],
    ["base64builtins/encode-slash", "base64.encode", ["subjects?_d"], "c3ViamVjdHM/X2Q="],
    ["base64builtins/decode-slash", "base64.decode", ["c3ViamVjdHM/X2Q="], "subjects?_d"],
    ["base64urlbuiltins/encode-1", "base64url.encode", ["hello"], "aGVsbG8="],
    ["base64urlbuiltins/encode-2", "base64url.encode", ["there"], "dGhlcmU="],
    ["base64urlbuiltins/decode-1 padded", "base64url.decode", ["aGVsbG8="], "hello"],
    ["base64urlbuiltins/decode-2 non-padded", "base64url.decode", ["aGVsbG8"], "hello"],
    ["base64urlbuiltins/encode-1 without padding", "base64url.encode_no_pad", ["hello"], "aGVsbG8"],
    ["base64urlbuiltins/encode-2 without padding", "base64url.encode_no_pad", ["there"], "dGhlcmU"],
    ["jsonbuiltins/marshal", "json.marshal", [[RegoObject.fromEntries([["foo", set123]])]], '[{"foo":[1,2,3]}]'],
    ["jsonbuiltins/json is_valid plain", "json.is_valid", ["plainstring"], false],
    ["jsonbuiltins/json is_valid open brace", "json.is_valid", ["{"], false],
    ["jsonbuiltins/json is_valid ok", "json.is_valid", ['{"json": "ok"}'], true],
    ["jsonbuiltins/json is_valid not string", "json.is_valid", [1], false],
    ["jsonbuiltins/yaml is_valid", "yaml.is_valid", ["foo:\n   - qux: bar\n   - baz: 2"], true],
    ["jsonbuiltins/yaml is_valid unclosed", "yaml.is_valid", ["foo:\n   - qux: bar\n   - baz: {"], false],
    ["jsonbuiltins/yaml is_valid json", "yaml.is_valid", ['{"json": "ok"}'], true],
    ["jsonbuiltins/yaml is_valid not string", "yaml.is_valid", [1], false],
    ["jsonbuiltins/yaml unreachable 1", "yaml.is_valid", ["  test:\ntest1: hello\n"], false],
    ["jsonbuiltins/yaml unreachable 2", "yaml.is_valid", ["a: 1\n---\n\tb: 2\n"], false],
    ["jsonbuiltins/yaml unreachable 3", "yaml.is_valid", ["a: 1\n---\nb: 2\n"], true],
    ["urlbuiltins/encode", "urlquery.encode", ["a=b+1"], "a%3Db%2B1"],
    ["urlbuiltins/encode empty", "urlquery.encode", [""], ""],
    ["urlbuiltins/encode_object strings", "urlquery.encode_object", [fromJSON({ a: "b", c: "d" })], "a=b&c=d"],
    ["urlbuiltins/encode_object array", "urlquery.encode_object", [fromJSON({ a: ["b+1", "c+2"] })], "a=b%2B1&a=c%2B2"],
    ["urlbuiltins/encode_object set", "urlquery.encode_object", [RegoObject.fromEntries([["a", RegoSet.of(["b+1"])]])], "a=b%2B1"],
    [
      "urlbuiltins/decode_object multiple",
      "urlquery.decode_object",
      ["a=value_a1&b=value_b&a=value_a2"],
      fromJSON({ a: ["value_a1", "value_a2"], b: ["value_b"] }),
    ],
    ["urlbuiltins/decode_object empty parameter", "urlquery.decode_object", ["a=value_a1&b"], fromJSON({ a: ["value_a1"], b: [""] })],
    ["urlbuiltins/decode_object empty string", "urlquery.decode_object", [""], fromJSON({})],
  ];
  for (const [note, name, args, want] of cases) test(note, () => expectValue(call(name, ...args), want));

  test("jsonbuiltins/yaml round-trip", () => {
    const text = call("yaml.marshal", [RegoObject.fromEntries([["foo", set123]])]) as string;
    expectValue(call("yaml.unmarshal", text), fromJSON([{ foo: [1, 2, 3] }]));
  });

  test("units/precision: json.marshal of equal numbers is equal", () => {
    expect(call("json.marshal", parseNumber("1e9") as Value)).toBe(call("json.marshal", 1000000000) as string);
  });
});

describe("base64 and hex as Go decodes them", () => {
  const decodes: [string, string, string][] = [
    ["base64.decode", "aGVs\r\nbG8=", "hello"],
    ["base64.decode", "aGVsbA==", "hell"],
    ["base64.decode", "", ""],
    ["base64url.decode", "c3ViamVjdHM_X2Q", "subjects?_d"],
    ["base64url.decode", "aGVsbA", "hell"],
    ["hex.decode", "68c3a96c6c6f", "héllo"],
    ["hex.decode", "4A4b", "JK"],
  ];
  for (const [name, input, want] of decodes) test(`${name}(${JSON.stringify(input)})`, () => expect(call(name, input)).toBe(want));

  const errors: [string, string, string][] = [
    ["base64.decode", "aGVsbG8", "base64.decode: illegal base64 data at input byte 4"],
    ["base64.decode", "aGVsbA=", "base64.decode: illegal base64 data at input byte 7"],
    ["base64.decode", "aGVsbG8=x", "base64.decode: illegal base64 data at input byte 8"],
    ["base64.decode", "a===", "base64.decode: illegal base64 data at input byte 1"],
    ["base64.decode", "!!!!", "base64.decode: illegal base64 data at input byte 0"],
    ["base64url.decode", "a", "base64url.decode: illegal base64url string: a"],
    ["base64url.decode", "c3ViamVjdHM/X2Q=", "base64url.decode: illegal base64 data at input byte 11"],
    ["hex.decode", "6", "hex.decode: encoding/hex: odd length hex string"],
    ["hex.decode", "6g", "hex.decode: encoding/hex: invalid byte: U+0067 'g'"],
    ["hex.decode", "zz1", "hex.decode: encoding/hex: invalid byte: U+007A 'z'"],
  ];
  for (const [name, input, message] of errors) {
    test(`${name}(${JSON.stringify(input)}) fails`, () => {
      expectBuiltinError(failure(name, input), "eval_builtin_error", message);
    });
  }

  test("is_valid is false for bad text and non-strings", () => {
    expect(call("base64.is_valid", "aGVsbG8=")).toBe(true);
    expect(call("base64.is_valid", "aGVsbG8")).toBe(false);
    expect(call("base64.is_valid", 1)).toBe(false);
  });

  test("operand errors", () => {
    expectBuiltinError(failure("base64.encode", 1), "eval_type_error", "base64.encode: operand 1 must be string but got number");
  });

  test("property: encode then decode is the identity", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(call("base64.decode", call("base64.encode", s) as string)).toBe(s);
        expect(call("base64url.decode", call("base64url.encode", s) as string)).toBe(s);
        expect(call("base64url.decode", call("base64url.encode_no_pad", s) as string)).toBe(s);
        expect(call("hex.decode", call("hex.encode", s) as string)).toBe(s);
        expect(call("base64.encode", s)).toBe(Buffer.from(s, "utf8").toString("base64"));
      }),
    );
  });
});

describe("urlquery", () => {
  test("escapes every reserved byte, space as +", () => {
    expect(call("urlquery.encode", "a b&c=d/é~-_.")).toBe("a+b%26c%3Dd%2F%C3%A9~-_.");
    expect(call("urlquery.decode", "a+b%26c%3Dd%2F%C3%A9~")).toBe("a b&c=d/é~");
  });

  test("malformed escapes are Go's EscapeError", () => {
    expect(failure("urlquery.decode", "%zz").message).toBe('urlquery.decode: invalid URL escape "%zz"');
    expect(failure("urlquery.decode", "ab%a").message).toBe('urlquery.decode: invalid URL escape "%a"');
    expect(failure("urlquery.decode", "%aé").message).toBe('urlquery.decode: invalid URL escape "%a\\xc3"');
  });

  test("decode_object errors", () => {
    expect(failure("urlquery.decode_object", "a=1;b=2").message).toBe("urlquery.decode_object: invalid semicolon separator in query");
    expect(failure("urlquery.decode_object", "a=%zz&b=1").message).toBe('urlquery.decode_object: invalid URL escape "%zz"');
  });

  test("encode_object sorts keys and checks values", () => {
    expect(call("urlquery.encode_object", fromJSON({ z: "1", a: [], "b c": "&" }))).toBe("b+c=%26&z=1");
    expectBuiltinError(failure("urlquery.encode_object", fromJSON({ a: 1 })), "eval_type_error", "urlquery.encode_object: operand 1 values must be string, array[string], or set[string]");
    expect(failure("urlquery.encode_object", "x").message).toBe("urlquery.encode_object: operand 1 must be object but got string");
  });

  test("property: decode inverts encode", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => expect(call("urlquery.decode", call("urlquery.encode", s) as string)).toBe(s)));
  });
});

describe("json", () => {
  const marshals: [string, Value, string][] = [
    ["HTML-safe escapes", "<a&b>", '"\\u003ca\\u0026b\\u003e"'],
    ["control characters", "\b\f\n\r\t\u0001\u001f", '"\\b\\f\\n\\r\\t\\u0001\\u001f"'],
    ["line separators", "\u2028\u2029", '"\\u2028\\u2029"'],
    ["lone surrogate", "a\ud800b", '"a\\ufffdb"'],
    ["astral characters as they are", "😀", '"😀"'],
    ["sorted keys", fromJSON({ b: 1, a: [true, null], é: 1, Z: 2 }), '{"Z":2,"a":[true,null],"b":1,"é":1}'],
    ["non-string keys as JSON text", RegoObject.fromEntries([[1, "x"], [[1], "y"]]), '{"1":"x","[1]":"y"}'],
    ["big integers exactly", parseNumber("123456789012345678901234567890") as Value, "123456789012345678901234567890"],
    ["decimals", 2.5, "2.5"],
  ];
  for (const [what, v, want] of marshals) test(`marshal: ${what}`, () => expect(call("json.marshal", v)).toBe(want));

  test("marshal_with_options", () => {
    const v = fromJSON({ b: [1, { c: [] }], a: {} });
    expect(call("json.marshal_with_options", v, fromJSON({ prefix: "--", indent: "  " }))).toBe(
      '--{\n--  "a": {},\n--  "b": [\n--    1,\n--    {\n--      "c": []\n--    }\n--  ]\n--}',
    );
    expect(call("json.marshal_with_options", fromJSON({ b: 1 }), fromJSON({ pretty: true }))).toBe('{\n\t"b": 1\n}');
    expect(call("json.marshal_with_options", fromJSON({ b: 1 }), fromJSON({ indent: "  ", pretty: false }))).toBe('{"b":1}');
    expect(call("json.marshal_with_options", fromJSON({ b: 1 }), fromJSON({}))).toBe('{"b":1}');
    expect(failure("json.marshal_with_options", 1, fromJSON({ bogus: 1 })).message).toBe(
      "json.marshal_with_options: operand 2 object contained unknown key bogus",
    );
    expect(failure("json.marshal_with_options", 1, fromJSON({ pretty: 1 })).message).toBe(
      "json.marshal_with_options: operand 2 key pretty failed cast to bool",
    );
  });

  test("unmarshal keeps numbers exact", () => {
    const v = call("json.unmarshal", '{"a": 9223372036854775807, "b": [1.5, "x\\u00e9\\n"], "a": -0}');
    expectValue(v, RegoObject.fromEntries([["a", 0], ["b", [1.5, "xé\n"]]]));
    expectValue(call("json.unmarshal", " 9223372036854775808 "), parseNumber("9223372036854775808") as Value);
  });

  const syntax: [string, string][] = [
    ["plainstring", "invalid character 'p' looking for beginning of value"],
    ["{", "unexpected EOF"],
    ["", "EOF"],
    ["[1,]", "invalid character ']' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b"}', "invalid character '\"' after object key:value pair"],
    ["[1 2]", "invalid character '2' after array element"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ["trux", "invalid character 'x' in literal true (expecting 'e')"],
    ["1.x", "invalid character 'x' after decimal point in numeric literal"],
    ["{} {}", "error: invalid character '{' after top-level value"],
  ];
  for (const [text, message] of syntax) {
    test(`unmarshal ${JSON.stringify(text)} fails as Go does`, () => {
      expectBuiltinError(failure("json.unmarshal", text), "eval_builtin_error", `json.unmarshal: ${message}`);
      expect(call("json.is_valid", text)).toBe(false);
    });
  }

  test("property: unmarshal inverts marshal, and marshal agrees with JSON.parse", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        const v = fromJSON(JSON.parse(JSON.stringify(j)));
        const text = call("json.marshal", v) as string;
        expect(call("json.is_valid", text)).toBe(true);
        expectValue(call("json.unmarshal", text), v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(j)));
      }),
    );
  });
});

describe("yaml", () => {
  test("marshal writes go-yaml v2's layout", () => {
    const v = fromJSON({ a10: 1, a2: 2.5, b: "true", c: "", e: "multi\nline", f: 1234567.5, h: [], o: {} });
    expect(call("yaml.marshal", v)).toBe('a2: 2.5\na10: 1\nb: "true"\nc: ""\ne: |-\n  multi\n  line\nf: 1.2345675e+06\nh: []\no: {}\n');
    expect(call("yaml.marshal", "x")).toBe("x\n");
  });

  test("unmarshal reads YAML 1.1 as go-yaml v2 does", () => {
    const text = "a: yes\nb: 0777\nc: 2001-12-14\nd: 1_000\ne: off\nf: ~\ng: 9223372036854775807\n1: x\ntrue: z\n";
    expectValue(
      call("yaml.unmarshal", text),
      RegoObject.fromEntries([
        ["a", true],
        ["b", 511],
        ["c", "2001-12-14"],
        ["d", 1000],
        ["e", false],
        ["f", null],
        ["g", parseNumber("9223372036854775807") as Value],
        ["1", "x"],
        ["true", "z"],
      ]),
    );
    expect(call("yaml.unmarshal", "")).toBe(null);
    expectValue(call("yaml.unmarshal", "a: 1\n---\nb: 2\n"), fromJSON({ a: 1 }));
  });

  test("unmarshal errors", () => {
    expect(failure("yaml.unmarshal", "a: .inf").message).toBe("yaml.unmarshal: json: unsupported value: +Inf");
    expect(failure("yaml.unmarshal", "a: [1").message).toStartWith("yaml.unmarshal: yaml: ");
  });

  test("go-yaml v2 key order", () => {
    const keys = ["b", "a10", "a2", "a", "1", "_x", "a02", "B"];
    expect([...keys].sort(yamlKeyLess)).toEqual(["_x", "1", "B", "a", "a2", "a02", "a10", "b"]);
  });

  test("Go's %g float formatting", () => {
    expect([1.5, 1e6, 123456.5, 1e-5, 0.0001, 1e21, 1.2345e-7].map(goFloatG)).toEqual([
      "1.5",
      "1e+06",
      "123456.5",
      "1e-05",
      "0.0001",
      "1e+21",
      "1.2345e-07",
    ]);
  });

  test("property: unmarshal inverts marshal", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        const v = fromJSON(JSON.parse(JSON.stringify(j)));
        expectValue(call("yaml.unmarshal", call("yaml.marshal", v) as string), v);
      }),
    );
  });
});

describe("yaml aliases", () => {
  test("an alias bomb is an error, not a hang", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    const bomb = lines.join("\n");
    expect(failure("yaml.unmarshal", bomb).code).toBe("eval_builtin_error");
    expect(call("yaml.is_valid", bomb)).toBe(false);
    expectValue(call("yaml.unmarshal", "a: &x 1\nb: *x\n"), fromJSON({ a: 1, b: 1 }));
  });
});
