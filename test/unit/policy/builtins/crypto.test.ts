/**
 * crypto.* built-ins, called directly: OPA's conformance cases
 * (cryptohmacequal, cryptohmacsha256, cryptohmacsha512) plus known digests.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CRYPTO_BUILTINS } from "../../../../src/policy/rego/builtins/crypto.ts";
import type { Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family } from "./helpers.ts";

const { call } = family(CRYPTO_BUILTINS);

const UNICODE_KEY = "秘密の";
const UNICODE_MESSAGE = "åäöçß\u{1F972}♙Ω";

describe("crypto digests and MACs", () => {
  const cases: [string, Value[], string][] = [
    ["crypto.md5", [""], "d41d8cd98f00b204e9800998ecf8427e"],
    ["crypto.md5", ["foo"], "acbd18db4cc2f85cedef654fccc4a4d8"],
    ["crypto.sha1", [""], "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["crypto.sha1", ["foo"], "0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33"],
    ["crypto.sha256", [""], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["crypto.sha256", ["foo"], "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"],
    ["crypto.hmac.md5", ["foo", "bar"], "31b6db9e5eb4addb42f1a6ca07367adc"],
    ["crypto.hmac.sha1", ["foo", "bar"], "85d155c55ed286a300bd1cf124de08d87e914f3a"],
    ["crypto.hmac.sha256", ["foo", "bar"], "147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851"],
    [
      "crypto.hmac.sha256",
      [UNICODE_MESSAGE, UNICODE_KEY],
      "eb90daeb76d4b2571fbdaf94bbb240809faa8fed93ec0c260dd38c3fdf8d963a",
    ],
    [
      "crypto.hmac.sha512",
      ["foo", "bar"],
      "24257d7210582a65c731ec55159c8184cc24c02489453e58587f71f44c23a2d61b4b72154a89d17b2d49448a8452ea066f4fc56a2bcead45c088572ffccdb3d8",
    ],
    [
      "crypto.hmac.sha512",
      [UNICODE_MESSAGE, UNICODE_KEY],
      "192f5afded233d6e21427aa26ed267ac118cfa2971013d91cbed530c0b208d78138b83dfe1d6cc3553d7bd518f22a481402c723028e1279d1ffbe8f11ea6b125",
    ],
  ];
  for (const [name, args, want] of cases) {
    test(`${name}(${args.map((a) => JSON.stringify(a)).join(", ")})`, () => {
      expect(call(name, ...args)).toBe(want);
    });
  }

  test("crypto.sha512 is not an OPA built-in and is not provided", () => {
    expect(CRYPTO_BUILTINS.some((d) => d.name === "crypto.sha512")).toBe(false);
  });
});

describe("crypto.hmac.equal", () => {
  const cases: [string, string, boolean][] = [
    ["31b6db9e5eb4addb42f1a6ca07367adc", "31b6db9e5eb4addb42f1a6ca07367adc", true],
    ["85d155c55ed286a300bd1cf124de08d87e914f3a", "85d155c55ed286a300bd1cf124de08d87e914f3a", true],
    ["31b6db9e5eb4addb42f1a6ca07367adc", "31b6db9e5eb4addb", false],
    ["abc", "abd", false],
    ["", "", true],
    ["é", "e\u0301", false],
  ];
  for (const [a, b, want] of cases) {
    test(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => expect(call("crypto.hmac.equal", a, b)).toBe(want));
  }

  test("agrees with string equality", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => call("crypto.hmac.equal", a, b) === (a === b)));
  });
});

describe("operand errors", () => {
  const cases: [string, Value[], string][] = [
    ["crypto.md5", [1], "crypto.md5: operand 1 must be string but got number"],
    ["crypto.sha256", [null], "crypto.sha256: operand 1 must be string but got null"],
    ["crypto.hmac.sha256", ["m", ["k"]], "crypto.hmac.sha256: operand 2 must be string but got array"],
    ["crypto.hmac.equal", [true, "x"], "crypto.hmac.equal: operand 1 must be string but got boolean"],
  ];
  for (const [name, args, message] of cases) {
    test(message, () => expectBuiltinError(() => call(name, ...args), "eval_type_error", message));
  }
});
