/**
 * io.jwt.* built-ins, called directly: OPA's conformance cases (from
 * jwt-conformance.fixtures.ts), then tokens signed here with node:crypto for
 * every algorithm, key form (PEM, certificate, JWK, JWKS) and error path.
 */
import { describe, expect, test } from "bun:test";
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import fc from "fast-check";
import { JWT_BUILTINS } from "../../../../src/policy/rego/builtins/jwt.ts";
import { parseNumber } from "../../../../src/policy/rego/number.ts";
import { fromJSON, RegoObject, toJSON, type Value } from "../../../../src/policy/rego/value.ts";
import { JWT_CONFORMANCE } from "./jwt-conformance.fixtures.ts";
import { callIn, expectBuiltinError, testContext, thrownBy } from "./helpers.ts";

const NOW_NS = 1_700_000_000_000_000_000n;

const makeCtx = () => testContext({ nowNs: NOW_NS });
const call = (name: string, args: readonly Value[], ctx = makeCtx()) => callIn(ctx, JWT_BUILTINS, name, ...args);
const errorOf = (name: string, args: readonly Value[]) => thrownBy(() => call(name, args));

/** A fixture argument as a Rego value: {"$num": text} exactly, {"$var": "now"} the clock. */
function fixtureValue(x: unknown): Value {
  if (Array.isArray(x)) return x.map(fixtureValue);
  if (x !== null && typeof x === "object") {
    const o = x as Record<string, unknown>;
    if (typeof o.$num === "string") return parseNumber(o.$num) as Value;
    if (o.$var === "now") return parseNumber(NOW_NS.toString()) as Value;
    return RegoObject.fromEntries(Object.entries(o).map(([k, v]) => [k, fixtureValue(v)]));
  }
  return fromJSON(x);
}

describe("OPA conformance: jwtbuiltins, jwtdecodeverify", () => {
  for (const c of JWT_CONFORMANCE) {
    test(c.note, () => {
      const args = c.args.map(fixtureValue);
      if (c.error !== undefined) {
        const e = errorOf(c.fn, args);
        expect(e.code).toBe("eval_builtin_error");
        expect(e.message).toContain(c.error);
      } else {
        expect(toJSON(call(c.fn, args) as Value)).toEqual(c.want);
      }
    });
  }
});

// ---------------------------------------------------------------- tokens made here

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64url");

function signingInput(header: object, payload: object | string): string {
  return `${b64(JSON.stringify(header))}.${b64(typeof payload === "string" ? payload : JSON.stringify(payload))}`;
}

type Alg = "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA";

function signWith(alg: Alg, key: KeyObject, input: string): Buffer {
  const hash = alg === "EdDSA" ? null : `sha${alg.slice(2)}`;
  if (alg.startsWith("PS")) return sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  if (alg.startsWith("ES")) return sign(hash, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return sign(hash, Buffer.from(input), key);
}

function token(alg: Alg, key: KeyObject, payload: object | string, extraHeader: object = {}): string {
  const input = signingInput({ alg, typ: "JWT", ...extraHeader }, payload);
  return `${input}.${b64(signWith(alg, key, input))}`;
}

function hsToken(alg: string, secret: string, payload: object | string, extraHeader: object = {}): string {
  const input = signingInput({ alg, typ: "JWT", ...extraHeader }, payload);
  return `${input}.${b64(createHmac(`sha${alg.slice(2)}`, secret).update(input).digest())}`;
}

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const p521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
const ed = generateKeyPairSync("ed25519");

const pem = (k: KeyObject): string => k.export({ type: "spki", format: "pem" }).toString().trimEnd();
const jwk = (k: KeyObject, extra: object = {}): Record<string, unknown> => ({ ...k.export({ format: "jwk" }), ...extra });

const PAYLOAD = { sub: "alice", iss: "ficus" };

describe("io.jwt.verify_*", () => {
  const cases: [string, Alg, { privateKey: KeyObject; publicKey: KeyObject }][] = [
    ["io.jwt.verify_rs256", "RS256", rsa],
    ["io.jwt.verify_rs384", "RS384", rsa],
    ["io.jwt.verify_rs512", "RS512", rsa],
    ["io.jwt.verify_ps256", "PS256", rsa],
    ["io.jwt.verify_ps384", "PS384", rsa],
    ["io.jwt.verify_ps512", "PS512", rsa],
    ["io.jwt.verify_es256", "ES256", p256],
    ["io.jwt.verify_es384", "ES384", p384],
    ["io.jwt.verify_es512", "ES512", p521],
    ["io.jwt.verify_eddsa", "EdDSA", ed],
  ];
  for (const [name, alg, pair] of cases) {
    const tok = token(alg, pair.privateKey, PAYLOAD);
    test(`${name}: PEM public key`, () => expect(call(name, [tok, pem(pair.publicKey)])).toBe(true));
    test(`${name}: JWK`, () => expect(call(name, [tok, JSON.stringify(jwk(pair.publicKey))])).toBe(true));
    test(`${name}: a tampered payload`, () => {
      const [h, , s] = tok.split(".");
      expect(call(name, [`${h}.${b64(JSON.stringify({ sub: "mallory" }))}.${s}`, pem(pair.publicKey)])).toBe(false);
    });
    test(`${name}: a key of another type is false, not an error`, () => {
      const other = alg === "EdDSA" ? p256.publicKey : ed.publicKey;
      expect(call(name, [tok, pem(other)])).toBe(false);
    });
  }

  test("the RS256 conformance tokens verify against their certificate", () => {
    const c = JWT_CONFORMANCE.find((x) => x.note === "jwtdecodeverify/rs256-exp-ok");
    const [tok, constraints] = c?.args as [string, { cert: string }];
    expect(call("io.jwt.verify_rs256", [tok, constraints.cert])).toBe(true);
    expect(call("io.jwt.verify_ps256", [tok, constraints.cert])).toBe(false);
  });

  test("verify_* ignore the header's alg (OPA checks with the built-in's own algorithm)", () => {
    const tok = token("RS256", rsa.privateKey, PAYLOAD, { alg: "none" });
    expect(call("io.jwt.verify_rs256", [tok, pem(rsa.publicKey)])).toBe(true);
  });

  test("ES signatures are split at half their length, as OPA does", () => {
    const tok = token("ES256", p256.privateKey, PAYLOAD);
    // P-256 checked with SHA-384: OPA hashes with the built-in's hash whatever the curve.
    const input = signingInput({ alg: "ES384", typ: "JWT" }, PAYLOAD);
    const sig = sign("sha384", Buffer.from(input), { key: p256.privateKey, dsaEncoding: "ieee-p1363" });
    expect(call("io.jwt.verify_es384", [`${input}.${b64(sig)}`, pem(p256.publicKey)])).toBe(true);
    expect(call("io.jwt.verify_es256", [tok, pem(p256.publicKey)])).toBe(true);
  });

  describe("JWKS", () => {
    const rsTok = token("RS256", rsa.privateKey, PAYLOAD, { kid: "k2" });
    const set = (keys: object[]): string => JSON.stringify({ keys });
    test("the key the kid names is used", () => {
      const jwks = set([jwk(otherRsa.publicKey, { kid: "k1" }), jwk(rsa.publicKey, { kid: "k2" })]);
      expect(call("io.jwt.verify_rs256", [rsTok, jwks])).toBe(true);
    });
    test("only the key the kid names is tried", () => {
      const jwks = set([jwk(rsa.publicKey, { kid: "k1" }), jwk(otherRsa.publicKey, { kid: "k2" })]);
      expect(call("io.jwt.verify_rs256", [rsTok, jwks])).toBe(false);
    });
    test("without a matching kid every key is tried, skipping those whose alg differs from the header's", () => {
      const noKid = token("RS256", rsa.privateKey, PAYLOAD);
      expect(call("io.jwt.verify_rs256", [noKid, set([jwk(otherRsa.publicKey), jwk(rsa.publicKey, { alg: "RS256" })])])).toBe(true);
      expect(call("io.jwt.verify_rs256", [noKid, set([jwk(rsa.publicKey, { alg: "PS256" })])])).toBe(false);
    });
    test("keys with an algorithm OPA does not know are skipped", () => {
      const noKid = token("RS256", rsa.privateKey, PAYLOAD);
      expect(call("io.jwt.verify_rs256", [noKid, set([jwk(rsa.publicKey, { alg: "RSA-OAEP" })])])).toBe(false);
    });
  });

  test("operand and key errors", () => {
    expect(errorOf("io.jwt.verify_rs256", [1, "k"]).message).toBe("io.jwt.verify_rs256: operand 1 must be string but got number");
    expect(errorOf("io.jwt.verify_rs256", ["a.b.c", 1]).message).toBe("io.jwt.verify_rs256: operand 2 must be string but got number");
    expect(errorOf("io.jwt.verify_rs256", ["a.b", pem(rsa.publicKey)]).message).toBe(
      "io.jwt.verify_rs256: encoded JWT must have 3 sections, found 2",
    );
    expect(errorOf("io.jwt.verify_rs256", ["a.b.c", "not a key"]).message).toStartWith("io.jwt.verify_rs256: failed to parse a JWK key (set): ");
    expect(errorOf("io.jwt.verify_rs256", ["a.b.c", `${pem(rsa.publicKey)}\nextra`]).message).toBe(
      "io.jwt.verify_rs256: extra data after a PEM certificate block",
    );
    const privatePem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(errorOf("io.jwt.verify_rs256", ["a.b.c", privatePem]).message).toBe(
      "io.jwt.verify_rs256: failed to extract a Key from the PEM certificate",
    );
  });
});

describe("io.jwt.verify_hs*", () => {
  for (const alg of ["HS256", "HS384", "HS512"]) {
    const name = `io.jwt.verify_${alg.toLowerCase()}`;
    const tok = hsToken(alg, "s3cret", PAYLOAD);
    test(`${name}: right and wrong secrets`, () => {
      expect(call(name, [tok, "s3cret"])).toBe(true);
      expect(call(name, [tok, "s3cre"])).toBe(false);
    });
  }
  test("a bad signature encoding is Go's error", () => {
    expect(errorOf("io.jwt.verify_hs256", ["a.b.c*d", "s"]).message).toBe("io.jwt.verify_hs256: illegal base64 data at input byte 1");
    expect(errorOf("io.jwt.verify_hs256", ["a.b.abcde", "s"]).message).toBe("io.jwt.verify_hs256: illegal base64url string: abcde");
    expect(errorOf("io.jwt.verify_hs256", ["a.b.c", 5]).message).toBe("io.jwt.verify_hs256: operand 2 must be string but got number");
  });
});

describe("io.jwt.decode", () => {
  test("a nested token whose payload is the raw inner token", () => {
    const inner = hsToken("HS256", "k", PAYLOAD);
    const outer = hsToken("HS256", "k", inner, { cty: "JWT" });
    const [header, payload] = toJSON(call("io.jwt.decode", [outer]) as Value) as unknown[];
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    expect(payload).toEqual(PAYLOAD);
  });
  test("numbers are kept exactly", () => {
    const tok = `${b64('{"alg":"HS256"}')}.${b64('{"big":123456789012345678901234567890,"f":0.1}')}.`;
    const [, payload, sig] = call("io.jwt.decode", [tok]) as Value[];
    expect((payload as RegoObject).get("big")).toEqual(parseNumber("123456789012345678901234567890") as Value);
    expect((payload as RegoObject).get("f")).toBe(0.1);
    expect(sig).toBe("");
  });
  test("errors", () => {
    const h = b64('{"alg":"HS256"}');
    const cases: [string, string][] = [
      [`${b64("[1]")}.${h}.`, "io.jwt.decode: bad JWT header: decoded JSON type was not an Object"],
      [`${b64("{")}.${h}.`, "io.jwt.decode: bad JWT header: invalid JSON: "],
      [`${h}.${b64('"x"')}.`, "io.jwt.decode: decoded JSON type was not an Object"],
      [`${h}.${h}.a`, "io.jwt.decode: JWT signature had invalid encoding: illegal base64url string: a"],
      [`${h}.${h}.a.b`, "io.jwt.decode: encoded JWT must have 3 sections, found 4"],
    ];
    for (const [tok, message] of cases) expect(errorOf("io.jwt.decode", [tok]).message).toStartWith(message);
    expect(errorOf("io.jwt.decode", [["x"]]).code).toBe("eval_type_error");
  });
});

describe("io.jwt.decode_verify", () => {
  const secret = "s3cret";
  const constraints = (o: Record<string, unknown>): Value => fromJSON(o);
  const verify = (tok: string, o: Record<string, unknown>): unknown[] => toJSON(call("io.jwt.decode_verify", [tok, constraints(o)]) as Value) as unknown[];
  const UNVERIFIED = [false, {}, {}];

  test("HS256 with a secret; the header's alg chooses the algorithm", () => {
    for (const alg of ["HS256", "HS384", "HS512"]) {
      const tok = hsToken(alg, secret, PAYLOAD);
      expect(verify(tok, { secret })).toEqual([true, { alg, typ: "JWT" }, PAYLOAD]);
      expect(verify(tok, { secret: "nope" })).toEqual(UNVERIFIED);
    }
  });

  test("every asymmetric algorithm with a PEM key, a JWK and a JWKS", () => {
    const cases: [Alg, { privateKey: KeyObject; publicKey: KeyObject }][] = [
      ["RS256", rsa],
      ["PS384", rsa],
      ["ES256", p256],
      ["ES384", p384],
      ["ES512", p521],
      ["EdDSA", ed],
    ];
    for (const [alg, pair] of cases) {
      const tok = token(alg, pair.privateKey, PAYLOAD);
      const want = [true, { alg, typ: "JWT" }, PAYLOAD];
      expect(verify(tok, { cert: pem(pair.publicKey) })).toEqual(want);
      expect(verify(tok, { cert: JSON.stringify(jwk(pair.publicKey)) })).toEqual(want);
      expect(verify(tok, { cert: JSON.stringify({ keys: [jwk(otherRsa.publicKey), jwk(pair.publicKey)] }) })).toEqual(want);
      expect(verify(tok, { cert: pem(otherRsa.publicKey) })).toEqual(UNVERIFIED);
    }
  });

  test("an ES256 token must be signed on P-256", () => {
    const input = signingInput({ alg: "ES256" }, PAYLOAD);
    const sig = sign("sha256", Buffer.from(input), { key: p384.privateKey, dsaEncoding: "ieee-p1363" });
    expect(verify(`${input}.${b64(sig)}`, { cert: pem(p384.publicKey) })).toEqual(UNVERIFIED);
  });

  test("an oct JWK verifies HMAC tokens", () => {
    const tok = hsToken("HS256", secret, PAYLOAD);
    expect(verify(tok, { cert: JSON.stringify({ kty: "oct", k: b64(secret) }) })).toEqual([true, { alg: "HS256", typ: "JWT" }, PAYLOAD]);
  });

  test("a secret never verifies an RS256 token", () => {
    expect(verify(token("RS256", rsa.privateKey, PAYLOAD), { secret })).toEqual(UNVERIFIED);
  });

  test("alg none is never verified", () => {
    const tok = `${signingInput({ alg: "none" }, PAYLOAD)}.`;
    expect(verify(tok, { secret })).toEqual(UNVERIFIED);
  });

  test("iss and aud", () => {
    const tok = (p: object): string => hsToken("HS256", secret, p);
    expect(verify(tok({ iss: "a" }), { secret, iss: "a" })[0]).toBe(true);
    expect(verify(tok({ iss: "a" }), { secret, iss: "b" })[0]).toBe(false);
    expect(verify(tok({}), { secret, iss: "a" })[0]).toBe(false);
    expect(verify(tok({ aud: ["x", "y"] }), { secret, aud: "y" })[0]).toBe(true);
    expect(verify(tok({ aud: ["x", "y"] }), { secret, aud: "z" })[0]).toBe(false);
    // A token with an audience needs an aud constraint naming it.
    expect(verify(tok({ aud: "x" }), { secret })[0]).toBe(false);
    expect(verify(tok({}), { secret, aud: "x" })[0]).toBe(false);
  });

  test("exp and nbf against the clock or the time constraint (ns)", () => {
    const nowS = Number(NOW_NS / 1_000_000_000n);
    const tok = (p: object): string => hsToken("HS256", secret, p);
    expect(verify(tok({ exp: nowS + 1 }), { secret })[0]).toBe(true);
    expect(verify(tok({ exp: nowS }), { secret })[0]).toBe(false);
    expect(verify(tok({ nbf: nowS }), { secret })[0]).toBe(true);
    expect(verify(tok({ nbf: nowS + 1 }), { secret })[0]).toBe(false);
    expect(verify(tok({ exp: 100 }), { secret, time: 99_000_000_000 })[0]).toBe(true);
    expect(verify(tok({ exp: 100 }), { secret, time: 100_000_000_000 })[0]).toBe(false);
  });

  test("exp and nbf must be numbers", () => {
    expectBuiltinError(errorOf("io.jwt.decode_verify", [hsToken("HS256", "42", { exp: null }), constraints({ secret: "42" })]), "eval_builtin_error", "io.jwt.decode_verify: exp value must be a number");
    expect(errorOf("io.jwt.decode_verify", [hsToken("HS256", "42", { nbf: "1" }), constraints({ secret: "42" })]).message).toBe(
      "io.jwt.decode_verify: nbf value must be a number",
    );
  });

  test("nested tokens: every level verified, cty in any case, the innermost header returned", () => {
    const inner = hsToken("HS256", secret, PAYLOAD);
    expect(verify(hsToken("HS256", secret, inner, { cty: "jwt" }), { secret })).toEqual([true, { alg: "HS256", typ: "JWT" }, PAYLOAD]);
    const badInner = hsToken("HS256", "other", PAYLOAD);
    expect(verify(hsToken("HS256", secret, badInner, { cty: "JWT" }), { secret })).toEqual(UNVERIFIED);
  });

  test("crit: unknown critical parameters fail, known ones pass", () => {
    expect(verify(hsToken("HS256", secret, PAYLOAD, { crit: ["x"], x: 1 }), { secret })[0]).toBe(false);
    expect(verify(hsToken("HS256", secret, PAYLOAD, { crit: ["kid"], kid: "a" }), { secret })[0]).toBe(true);
    expect(errorOf("io.jwt.decode_verify", [hsToken("HS256", secret, PAYLOAD, { crit: "x" }), constraints({ secret })]).message).toBe(
      "io.jwt.decode_verify: crit: must be a list",
    );
    expect(errorOf("io.jwt.decode_verify", [hsToken("HS256", secret, PAYLOAD, { crit: [] }), constraints({ secret })]).message).toBe(
      "io.jwt.decode_verify: crit: must be a nonempty list",
    );
    expect(errorOf("io.jwt.decode_verify", [hsToken("HS256", secret, PAYLOAD, { kid: 7 }), constraints({ secret })]).message).toBe(
      "io.jwt.decode_verify: kid: must be a string",
    );
  });

  test("constraint errors", () => {
    const tok = hsToken("HS256", secret, PAYLOAD);
    const cases: [Record<string, unknown>, string][] = [
      [{}, "no key constraint"],
      [{ secret: "" }, "no key constraint"],
      [{ secret, cert: pem(rsa.publicKey) }, "duplicate key constraints"],
      [{ secret, foo: 1 }, "unknown token validation constraint: foo"],
      [{ cert: 1 }, "cert constraint: must be a string"],
      [{ secret: 1 }, "secret constraint: must be a string"],
      [{ secret, aud: ["a"] }, "aud constraint: must be a string"],
      [{ secret, time: "now" }, "token time constraint: must be a number"],
      [{ secret, time: -1 }, "token time constraint: must not be negative"],
    ];
    for (const [o, message] of cases) {
      expectBuiltinError(errorOf("io.jwt.decode_verify", [tok, constraints(o)]), "eval_builtin_error", `io.jwt.decode_verify: ${message}`);
    }
    expect(errorOf("io.jwt.decode_verify", [tok, "x"]).message).toBe("io.jwt.decode_verify: operand 2 must be object but got string");
    expect(errorOf("io.jwt.decode_verify", [1, constraints({ secret })]).message).toBe("io.jwt.decode_verify: operand 1 must be string but got number");
  });

  test("parsed keys are cached per key text", () => {
    const ctx = makeCtx();
    const tok = token("RS256", rsa.privateKey, PAYLOAD);
    const args = [tok, constraints({ cert: pem(rsa.publicKey) })];
    call("io.jwt.decode_verify", args, ctx);
    expect(ctx.cache.size).toBe(1);
    call("io.jwt.decode_verify", args, ctx);
    call("io.jwt.verify_rs256", [tok, pem(rsa.publicKey)], ctx);
    expect(ctx.cache.size).toBe(1);
  });
});

describe("base64url as OPA decodes it", () => {
  test("any bytes, padded or not, round-trip", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, padded) => {
        let sig = Buffer.from(bytes).toString("base64url");
        if (padded) sig += "=".repeat((4 - (sig.length % 4)) % 4);
        const tok = `${b64('{"alg":"HS256"}')}.${b64("{}")}.${sig}`;
        const [, , hex] = call("io.jwt.decode", [tok]) as Value[];
        expect(hex).toBe(Buffer.from(bytes).toString("hex"));
      }),
    );
  });
  test("Go's byte offsets", () => {
    const h = b64('{"alg":"HS256"}');
    const cases: [string, string][] = [
      ["ab=c", "illegal base64 data at input byte 2"],
      ["abc=de", "illegal base64 data at input byte 4"],
      ["abc=d", "illegal base64url string: abc=d"],
      ["ab+c", "illegal base64 data at input byte 2"],
      // Go skips newlines but still counts them in the length that decides the padding.
      ["a\nbc", "illegal base64 data at input byte 1"],
    ];
    for (const [sig, message] of cases) {
      const run = (): unknown => call("io.jwt.decode", [`${h}.${b64("{}")}.${sig}`]);
      expect(run).toThrow(`io.jwt.decode: JWT signature had invalid encoding: ${message}`);
    }
    expect(toJSON(call("io.jwt.decode", [`${h}.${b64("{}")}.ab\nc=`]) as Value)).toEqual([{ alg: "HS256" }, {}, "69b7"]);
  });
});

describe("io.jwt.encode_sign, io.jwt.encode_sign_raw", () => {
  const octKey = (secret: string): Value => fromJSON({ kty: "oct", k: b64(secret) });

  test("OPA's invalid-exp case: a token signed here whose exp is null fails decode_verify", () => {
    const tok = call("io.jwt.encode_sign", [fromJSON({ alg: "HS256" }), fromJSON({ exp: null }), octKey("42")]) as string;
    const e = errorOf("io.jwt.decode_verify", [tok, fromJSON({ secret: "42" })]);
    expect(e.code).toBe("eval_builtin_error");
    expect(e.message).toContain("exp value must be a number");
  });

  test("HS256 is deterministic: header and payload as Go marshals them, no padding", () => {
    const tok = call("io.jwt.encode_sign", [fromJSON({ typ: "JWT", alg: "HS256" }), fromJSON({ b: "<", a: 1 }), octKey("k")]) as string;
    const [h, p] = tok.split(".");
    expect(Buffer.from(h as string, "base64url").toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    expect(Buffer.from(p as string, "base64url").toString()).toBe('{"a":1,"b":"\\u003c"}');
    expect(tok).not.toContain("=");
    expect(call("io.jwt.verify_hs256", [tok, "k"])).toBe(true);
  });

  test("every asymmetric algorithm round-trips through decode_verify", () => {
    const cases: [Alg, { privateKey: KeyObject; publicKey: KeyObject }][] = [
      ["RS256", rsa],
      ["PS512", rsa],
      ["ES256", p256],
      ["ES512", p521],
      ["EdDSA", ed],
    ];
    for (const [alg, pair] of cases) {
      const tok = call("io.jwt.encode_sign_raw", [JSON.stringify({ alg }), JSON.stringify(PAYLOAD), JSON.stringify(jwk(pair.privateKey))]) as string;
      expect(toJSON(call("io.jwt.decode_verify", [tok, fromJSON({ cert: pem(pair.publicKey) })]) as Value)).toEqual([true, { alg }, PAYLOAD]);
    }
  });

  test("errors", () => {
    const raw = (h: string, p: string, k: string): string => errorOf("io.jwt.encode_sign_raw", [h, p, k]).message;
    const oct = JSON.stringify({ kty: "oct", k: b64("k") });
    expect(raw('{"alg":"HS256"}', "not json", oct)).toBe("io.jwt.encode_sign_raw: type is JWT but payload is not JSON");
    expect(call("io.jwt.encode_sign_raw", ['{"alg":"HS256","typ":"text"}', "not json", oct])).toBeString();
    expect(raw('{"alg":"XX1"}', "{}", oct)).toBe("io.jwt.encode_sign_raw: unknown JWS algorithm: XX1");
    expect(raw("{}", "{}", oct)).toStartWith("io.jwt.encode_sign_raw: missing or invalid 'alg' header");
    expect(raw('{"alg":"HS256"}', "{}", JSON.stringify({ keys: [] }))).toBe("io.jwt.encode_sign_raw: no keys found in JWK set");
    expect(raw('{"alg":"RS256"}', "{}", oct)).toBe("io.jwt.encode_sign_raw: failed to sign payload: invalid key type for RS256");
    expect(raw('{"alg":"RS256"}', "{}", JSON.stringify(jwk(rsa.publicKey)))).toStartWith("io.jwt.encode_sign_raw: failed to parse JWK");
    expect(errorOf("io.jwt.encode_sign_raw", ["{}", "{}", 1]).message).toBe("io.jwt.encode_sign_raw: operand 3 must be string but got number");
  });
});
