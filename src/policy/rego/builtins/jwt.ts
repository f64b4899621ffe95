/**
 * JSON Web Token built-ins: io.jwt.decode, io.jwt.verify_{rs,ps,es}{256,384,512},
 * io.jwt.verify_eddsa, io.jwt.verify_hs{256,384,512}, io.jwt.decode_verify,
 * and io.jwt.encode_sign / encode_sign_raw (signing with a JWK), with OPA's
 * result shapes, its order of checks and its error messages.
 *
 * Why not jose's verify: jose's jwtVerify/compactVerify are async (WebCrypto
 * underneath), and the evaluator calls built-ins synchronously, so a policy
 * decision never waits on a promise. Signatures are checked with node:crypto,
 * whose createPublicKey (PEM keys, certificates, JWKs) and crypto.verify are
 * synchronous; parsed keys are cached in ctx.cache, keyed by the key text.
 * Nor are jose's decodeProtectedHeader/decodeJwt used for the token's parts:
 * OPA's errors name Go's base64 failures ("illegal base64 data at input byte
 * 13"), and its JSON keeps numbers exact (json-text.ts's reader, shared with
 * json.unmarshal); jose's sync base64url decodes the secret of an "oct" JWK.
 *
 * OPA semantics kept on purpose:
 * - verify_* check the signature with their own algorithm whatever the
 *   header's alg says, except that a JWKS key with an alg must match it; a
 *   key of the wrong type is simply "false".
 * - decode_verify verifies with the header's alg, then checks iss, aud, exp
 *   and nbf; any failed check gives [false, {}, {}], while malformed input
 *   and bad constraints are errors. A header whose crit names a parameter it
 *   does not understand is unverified; cty "JWT" (any case) nests.
 * - decode recurses when cty is exactly "JWT", trimming quotes from the
 *   payload first (as tokens from jwt.io carry them).
 */
import {
  KeyObject,
  X509Certificate,
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from "node:crypto";
import { base64url } from "jose";
import { compareNumbers, num, toDouble, type RNumber } from "../number.ts";
import { isNumber, RegoObject, toJSONText, type Value } from "../value.ts";
import { isValidJSON, JSONSyntaxError, marshalJSON, unmarshalJSON } from "./json-text.ts";
import { builtinError, operandError, type BuiltinContext, type BuiltinDef, type BuiltinFunction } from "./types.ts";

/** A failure worded as OPA's; the built-in's name is put in front at the boundary. */
class JwtError extends Error {}

// ---------------------------------------------------------------- base64url and JSON

const B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64URL_VALUES = (() => {
  const map = new Uint8Array(256).fill(0xff);
  for (let i = 0; i < B64URL_ALPHABET.length; i++) map[B64URL_ALPHABET.charCodeAt(i)] = i;
  return map;
})();

function corrupt(at: number): JwtError {
  return new JwtError(`illegal base64 data at input byte ${at}`);
}

/**
 * OPA's base64url.decode: padding is added when missing, then Go's padded
 * URL decoder runs (CR and LF skipped, trailing bits ignored), failing with
 * Go's byte offset. Offsets count UTF-8 bytes, as Go's do.
 */
function base64UrlDecode(text: string): Uint8Array {
  const raw = Buffer.from(text, "utf8");
  let src: Uint8Array = raw;
  if (!text.endsWith("=")) {
    const rem = raw.length % 4;
    if (rem === 1) throw new JwtError(`illegal base64url string: ${text}`);
    if (rem !== 0) src = Buffer.concat([raw, Buffer.from(rem === 2 ? "==" : "=")]);
  }
  const out: number[] = [];
  let si = 0;
  const isNewline = (c: number | undefined): boolean => c === 10 || c === 13;
  for (;;) {
    const quantum = [0, 0, 0, 0];
    let len = 4;
    let trailing: JwtError | undefined;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Uint8Array.from(out);
        throw corrupt(si - j);
      }
      const c = src[si++] as number;
      const d = B64URL_VALUES[c] as number;
      if (d !== 0xff) {
        quantum[j] = d;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d || j < 2) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== 0x3d) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) trailing = corrupt(si);
      len = j;
      break;
    }
    const v = ((quantum[0] as number) << 18) | ((quantum[1] as number) << 12) | ((quantum[2] as number) << 6) | (quantum[3] as number);
    const bytes = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
    out.push(...bytes.slice(0, len - 1));
    if (trailing !== undefined) throw trailing;
    if (len < 4) return Uint8Array.from(out);
  }
}

const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Bytes as a Rego string: invalid UTF-8 becomes U+FFFD, as Go's JSON decoding of it would. */
function bytesText(bytes: Uint8Array): string {
  return UTF8.decode(bytes);
}

/** OPA's json.unmarshal (exact numbers, the last of duplicate keys wins), with its error wording. */
function parseJSON(text: string): Value {
  try {
    return unmarshalJSON(text);
  } catch (e) {
    if (e instanceof JSONSyntaxError) throw new JwtError(`invalid JSON: ${e.message}`);
    throw e;
  }
}

/** OPA's extractJSONObject. */
function jsonObject(text: string): RegoObject {
  const v = parseJSON(text);
  if (!(v instanceof RegoObject)) throw new JwtError("decoded JSON type was not an Object");
  return v;
}

// ---------------------------------------------------------------- tokens

interface Token {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
}

function splitToken(name: string, v: Value): Token {
  if (typeof v !== "string") throw operandError(name, 1, "string", v);
  if (!v.includes(".")) throw new JwtError("encoded JWT had no period separators");
  const parts = v.split(".");
  if (parts.length !== 3) throw new JwtError(`encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0] as string, payload: parts[1] as string, signature: parts[2] as string };
}

function decodeHeader(token: Token): RegoObject {
  let text: string;
  try {
    text = bytesText(base64UrlDecode(token.header));
  } catch (e) {
    throw new JwtError(`JWT header had invalid encoding: ${(e as Error).message}`);
  }
  let header: RegoObject;
  try {
    header = jsonObject(text);
  } catch (e) {
    throw new JwtError(`bad JWT header: ${(e as Error).message}`);
  }
  // A header with "enc" is a JWE (RFC 7516 §9), which OPA does not support.
  if (header.has("enc")) throw new JwtError("JWT is a JWE object, which is not supported");
  return header;
}

function decodePayloadText(token: Token): string {
  try {
    return bytesText(base64UrlDecode(token.payload));
  } catch (e) {
    throw new JwtError(`JWT payload had invalid encoding: ${(e as Error).message}`);
  }
}

function decodeSignature(token: Token): Uint8Array {
  return base64UrlDecode(token.signature);
}

/** The header parameters OPA understands; the others are "unknown" for crit. */
interface TokenHeader {
  alg: string;
  kid: string;
  typ: string;
  cty: string;
  crit: Set<string> | undefined;
  readonly unknown: string[];
}

type StringParam = "alg" | "kid" | "typ" | "cty";
const STRING_PARAMS: ReadonlySet<string> = new Set<StringParam>(["alg", "kid", "typ", "cty"]);

function parseHeader(decoded: RegoObject): TokenHeader {
  const h: TokenHeader = { alg: "", kid: "", typ: "", cty: "", crit: undefined, unknown: [] };
  for (const [k, v] of decoded.entries()) {
    const key = k as string;
    if (STRING_PARAMS.has(key)) {
      if (typeof v !== "string") throw new JwtError(`${key}: must be a string`);
      h[key as StringParam] = v;
    } else if (key === "crit") {
      if (!Array.isArray(v)) throw new JwtError("crit: must be a list");
      h.crit = new Set();
      // OPA stops at the first element that is not a string, without an error.
      for (const e of v as readonly Value[]) {
        if (typeof e !== "string") break;
        h.crit.add(e);
      }
      if (h.crit.size === 0) throw new JwtError("crit: must be a nonempty list");
    } else {
      h.unknown.push(key);
    }
  }
  return h;
}

/** RFC 7515: alg must be present, and every critical parameter must be understood. */
function headerValid(h: TokenHeader): boolean {
  return h.alg !== "" && !h.unknown.some((u) => h.crit?.has(u));
}

// ---------------------------------------------------------------- keys

/** A verification key: a public key, or the secret of an "oct" JWK. */
interface VerificationKey {
  readonly key: KeyObject | Uint8Array;
  readonly alg: string;
  readonly kid: string;
}

const ALGORITHMS: ReadonlySet<string> = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "HS256",
  "HS384",
  "HS512",
  "EdDSA",
]);

interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
  readonly rest: string;
}

/** Go's pem.Decode, enough for keys: the first well-formed block and what follows its END line. */
function decodePem(text: string): PemBlock | undefined {
  const re = /(?:^|\n)-----BEGIN ([^\n]*?)-----[ \t\r]*\n([\s\S]*?)\n?-----END \1-----[ \t\r]*(?:\n|$)/;
  const m = re.exec(text);
  if (m === null) return undefined;
  const body = (m[2] as string).split("\n").filter((line) => !line.includes(":"));
  const b64 = body.join("").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  return { type: m[1] as string, der: Buffer.from(b64, "base64"), rest: text.slice(m.index + m[0].length) };
}

function keysFromPem(block: PemBlock): VerificationKey[] {
  if (block.rest.length > 0) throw new JwtError("extra data after a PEM certificate block");
  if (block.type === "CERTIFICATE") {
    try {
      return [{ key: new X509Certificate(block.der).publicKey, alg: "", kid: "" }];
    } catch (e) {
      throw new JwtError(`failed to parse a PEM certificate: ${(e as Error).message}`);
    }
  }
  if (block.type === "PUBLIC KEY") {
    try {
      return [{ key: createPublicKey({ key: block.der, format: "der", type: "spki" }), alg: "", kid: "" }];
    } catch (e) {
      throw new JwtError(`failed to parse a PEM public key: ${(e as Error).message}`);
    }
  }
  throw new JwtError("failed to extract a Key from the PEM certificate");
}

type Jwk = Record<string, unknown>;

function importJwk(jwk: Jwk): KeyObject | Uint8Array {
  if (jwk.kty === "oct") {
    if (typeof jwk.k !== "string") throw new Error(`required field k is missing`);
    return base64url.decode(jwk.k);
  }
  if (jwk.kty !== "RSA" && jwk.kty !== "EC" && jwk.kty !== "OKP") throw new Error(`invalid key type from JSON (${String(jwk.kty)})`);
  return createPublicKey({ key: jwk, format: "jwk" });
}

/** A JWK or a JWK set ({"keys": [...]}); keys whose alg OPA does not know are skipped, as OPA does. */
function keysFromJwk(text: string): VerificationKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new JwtError(`failed to parse a JWK key (set): ${(e as Error).message}`);
  }
  const isObject = (x: unknown): x is Jwk => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObject(parsed)) throw new JwtError("failed to parse a JWK key (set): invalid JWK");
  const list: unknown[] = "keys" in parsed ? (Array.isArray(parsed.keys) ? parsed.keys : []) : [parsed];
  const out: VerificationKey[] = [];
  for (const jwk of list) {
    if (!isObject(jwk)) throw new JwtError("failed to parse a JWK key (set): invalid JWK");
    let key: KeyObject | Uint8Array;
    try {
      key = importJwk(jwk);
    } catch (e) {
      throw new JwtError(`failed to parse a JWK key (set): ${(e as Error).message}`);
    }
    const alg = typeof jwk.alg === "string" ? jwk.alg : "";
    if (alg !== "" && !ALGORITHMS.has(alg)) continue;
    out.push({ key, alg, kid: typeof jwk.kid === "string" ? jwk.kid : "" });
  }
  return out;
}

type CachedKeys = { readonly keys: VerificationKey[] } | { readonly error: string };

/** OPA's getKeysFromCertOrJWK: a PEM certificate or public key, else JWK text; cached per text. */
function keysFrom(text: string, ctx: BuiltinContext): VerificationKey[] {
  const cacheKey = `io.jwt:keys:${text}`;
  let entry = ctx.cache.get(cacheKey) as CachedKeys | undefined;
  if (entry === undefined) {
    try {
      const block = decodePem(text);
      entry = { keys: block !== undefined ? keysFromPem(block) : keysFromJwk(text) };
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      entry = { error: e.message };
    }
    ctx.cache.set(cacheKey, entry);
  }
  if ("error" in entry) throw new JwtError(entry.error);
  return entry.keys;
}

// ---------------------------------------------------------------- signatures

type Hash = "sha256" | "sha384" | "sha512";
type Verifier = (key: KeyObject | Uint8Array, data: Buffer, signature: Uint8Array) => boolean;

const HASH_OF: Record<string, Hash> = { "256": "sha256", "384": "sha384", "512": "sha512" };

function asymmetric(key: KeyObject | Uint8Array, type: string): KeyObject | undefined {
  return key instanceof KeyObject && key.type === "public" && key.asymmetricKeyType === type ? key : undefined;
}

/** crypto.verify, where a malformed signature is just "not verified", as in Go. */
function safeVerify(run: () => boolean): boolean {
  try {
    return run();
  } catch {
    return false;
  }
}

function rsaVerifier(hash: Hash, pss: boolean): Verifier {
  return (key, data, signature) => {
    const k = asymmetric(key, "rsa");
    if (k === undefined) return false;
    const padding = pss
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }
      : { padding: constants.RSA_PKCS1_PADDING };
    return safeVerify(() => cryptoVerify(hash, data, { key: k, ...padding }, signature));
  };
}

/** A DER INTEGER for an unsigned big-endian magnitude. */
function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  let body = Buffer.from(bytes.subarray(i));
  if (body.length === 0 || (body[0] as number) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  return n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** r‖s as OPA splits it (at half the length, whatever the curve), re-encoded as DER for OpenSSL. */
function ecdsaDer(signature: Uint8Array): Buffer {
  const n = Math.floor(signature.length / 2);
  const seq = Buffer.concat([derInteger(signature.subarray(0, n)), derInteger(signature.subarray(n))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(seq.length), seq]);
}

function ecdsaVerifier(hash: Hash): Verifier {
  return (key, data, signature) => {
    const k = asymmetric(key, "ec");
    if (k === undefined) return false;
    return safeVerify(() => cryptoVerify(hash, data, { key: k, dsaEncoding: "der" }, ecdsaDer(signature)));
  };
}

const verifyEd25519: Verifier = (key, data, signature) => {
  const k = asymmetric(key, "ed25519");
  if (k === undefined) return false;
  return safeVerify(() => cryptoVerify(null, data, k, signature));
};

function hmacVerifier(hash: Hash): Verifier {
  return (key, data, signature) => {
    if (key instanceof KeyObject) return false;
    const mac = createHmac(hash, key).update(data).digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature);
  };
}

/** Curve each ES algorithm requires (RFC 7518 §3.4), and its r‖s length. */
const ES_CURVES: Record<string, { curve: string; size: number }> = {
  ES256: { curve: "prime256v1", size: 64 },
  ES384: { curve: "secp384r1", size: 96 },
  ES512: { curve: "secp521r1", size: 132 },
};

/** The JWS verification decode_verify uses: by the header's alg, with that algorithm's strict key and signature rules. */
function jwsVerify(key: KeyObject | Uint8Array, alg: string, data: Buffer, signature: Uint8Array): boolean {
  const bits = alg.slice(2);
  const hash = HASH_OF[bits];
  if (alg === "EdDSA") return verifyEd25519(key, data, signature);
  if (hash === undefined) return false;
  switch (alg.slice(0, 2)) {
    case "HS":
      return hmacVerifier(hash)(key, data, signature);
    case "RS":
      return rsaVerifier(hash, false)(key, data, signature);
    case "PS":
      return rsaVerifier(hash, true)(key, data, signature);
    case "ES": {
      const want = ES_CURVES[alg];
      const k = asymmetric(key, "ec");
      if (want === undefined || k === undefined || k.asymmetricKeyDetails?.namedCurve !== want.curve) return false;
      if (signature.length !== want.size) return false;
      return safeVerify(() => cryptoVerify(hash, data, { key: k, dsaEncoding: "ieee-p1363" }, signature));
    }
  }
  return false;
}

function signingInput(token: Token): Buffer {
  return Buffer.from(`${token.header}.${token.payload}`, "utf8");
}

// ---------------------------------------------------------------- built-ins

/** Runs a built-in body, turning OPA-worded failures into eval_builtin_error under its name. */
function wrap(name: string, body: (args: readonly Value[], ctx: BuiltinContext) => Value): BuiltinFunction {
  return (args, ctx) => {
    try {
      return body(args, ctx);
    } catch (e) {
      if (e instanceof JwtError) throw builtinError(name, e.message);
      throw e;
    }
  };
}

function decode(name: string, tokenText: Value): Value {
  const token = splitToken(name, tokenText);
  const header = decodeHeader(token);
  let payloadText = decodePayloadText(token);
  if (header.get("cty") === "JWT") {
    // The nested token: jwt.io-style payloads carry it quoted.
    payloadText = payloadText.replace(/^["']+|["']+$/g, "");
    return decode(name, payloadText);
  }
  const payload = jsonObject(payloadText);
  let signature: Uint8Array;
  try {
    signature = decodeSignature(token);
  } catch (e) {
    throw new JwtError(`JWT signature had invalid encoding: ${(e as Error).message}`);
  }
  return [header, payload, Buffer.from(signature).toString("hex")];
}

/** io.jwt.verify_{RS,PS,ES}*, verify_eddsa: OPA's builtinJWTVerify. */
function verifyWithKeys(name: string, verifier: Verifier): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["string", "string"],
    fn: wrap(name, (args, ctx) => {
      const token = splitToken(name, args[0] as Value);
      const keyText = args[1] as Value;
      if (typeof keyText !== "string") throw operandError(name, 2, "string", keyText);
      const keys = keysFrom(keyText, ctx);
      const signature = decodeSignature(token);
      const header = parseHeader(decodeHeader(token));
      const data = signingInput(token);
      // A JWKS key whose kid the header names is the only one tried.
      if (header.kid !== "") {
        const byKid = keys.find((k) => k.kid === header.kid);
        if (byKid !== undefined) return verifier(byKid.key, data, signature);
      }
      return keys.some((k) => (k.alg === "" || k.alg === header.alg) && verifier(k.key, data, signature));
    }),
  };
}

function verifyHmac(name: string, hash: Hash): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["string", "string"],
    fn: wrap(name, (args) => {
      const tokenText = args[0] as Value;
      if (typeof tokenText !== "string") throw operandError(name, 1, "string", tokenText);
      const secret = args[1] as Value;
      if (typeof secret !== "string") throw operandError(name, 2, "string", secret);
      const token = splitToken(name, tokenText);
      return hmacVerifier(hash)(Buffer.from(secret, "utf8"), signingInput(token), decodeSignature(token));
    }),
  };
}

/** decode_verify's constraints object, parsed as OPA's parseTokenConstraints and validate. */
interface Constraints {
  secret: string;
  alg: string;
  iss: string;
  aud: string;
  keys: VerificationKey[] | undefined;
  /** Nanoseconds, as a double (OPA's float64). */
  time: number;
}

function stringConstraint(name: string, v: Value): string {
  if (typeof v !== "string") throw new JwtError(`${name} constraint: must be a string`);
  return v;
}

function timeConstraint(v: Value): number {
  if (!isNumber(v)) throw new JwtError("token time constraint: must be a number");
  const t = toDouble(v);
  if (!Number.isFinite(t)) throw new JwtError("token time constraint: unvalid float64");
  if (t < 0) throw new JwtError("token time constraint: must not be negative");
  return t;
}

function parseConstraints(o: RegoObject, ctx: BuiltinContext): Constraints {
  const c: Constraints = { secret: "", alg: "", iss: "", aud: "", keys: undefined, time: -1 };
  for (const [k, v] of o.entries()) {
    switch (k) {
      case "cert":
        if (typeof v !== "string") throw new JwtError("cert constraint: must be a string");
        c.keys = keysFrom(v, ctx);
        break;
      case "secret":
      case "alg":
      case "iss":
      case "aud":
        c[k] = stringConstraint(k, v);
        break;
      case "time":
        c.time = timeConstraint(v);
        break;
      default:
        throw new JwtError(`unknown token validation constraint: ${typeof k === "string" ? k : toJSONText(k)}`);
    }
  }
  if (c.time === -1) c.time = Number(ctx.nowNs);
  const keyConstraints = (c.keys !== undefined ? 1 : 0) + (c.secret !== "" ? 1 : 0);
  if (keyConstraints > 1) throw new JwtError("duplicate key constraints");
  if (keyConstraints < 1) throw new JwtError("no key constraint");
  return c;
}

function signatureVerified(c: Constraints, header: TokenHeader, token: Token, signature: Uint8Array): boolean {
  const data = signingInput(token);
  if (c.keys !== undefined) {
    if (header.kid !== "") {
      const byKid = c.keys.find((k) => k.kid === header.kid);
      if (byKid !== undefined) return jwsVerify(byKid.key, header.alg, data, signature);
    }
    return c.keys.some((k) => (k.alg === "" || k.alg === header.alg) && jwsVerify(k.key, header.alg, data, signature));
  }
  return jwsVerify(Buffer.from(c.secret, "utf8"), header.alg, data, signature);
}

function validAudience(aud: Value, want: string): boolean {
  if (typeof aud === "string") return aud === want;
  return Array.isArray(aud) && (aud as readonly Value[]).some((e) => e === want);
}

/** The evaluation time in seconds as OPA compares it: the double's shortest decimal, exactly. */
function nowSeconds(c: Constraints): RNumber {
  return num(c.time / 1e9) ?? 0;
}

/** iss, aud, exp, nbf against the constraints: true when all hold; errors for exp/nbf that are not numbers. */
function claimsValid(c: Constraints, payload: RegoObject): boolean {
  if (c.iss !== "" && payload.get("iss") !== c.iss) return false;
  const aud = payload.get("aud");
  if (aud !== undefined ? !validAudience(aud, c.aud) : c.aud !== "") return false;
  const exp = payload.get("exp");
  if (exp !== undefined) {
    if (!isNumber(exp)) throw new JwtError("exp value must be a number");
    if (compareNumbers(nowSeconds(c), exp) >= 0) return false;
  }
  const nbf = payload.get("nbf");
  if (nbf !== undefined) {
    if (!isNumber(nbf)) throw new JwtError("nbf value must be a number");
    if (compareNumbers(nowSeconds(c), nbf) < 0) return false;
  }
  return true;
}

function decodeVerify(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "io.jwt.decode_verify";
  const o = args[1] as Value;
  if (!(o instanceof RegoObject)) throw operandError(name, 2, "object", o);
  const unverified: Value = [false, new RegoObject(), new RegoObject()];
  const c = parseConstraints(o, ctx);
  let tokenText = args[0] as Value;
  for (;;) {
    ctx.charge(1);
    const token = splitToken(name, tokenText);
    const decoded = decodeHeader(token);
    const header = parseHeader(decoded);
    if (!headerValid(header)) return unverified;
    if (c.alg !== "" && c.alg !== header.alg) return unverified;
    const signature = decodeSignature(token);
    if (!signatureVerified(c, header, token, signature)) return unverified;
    const payloadText = decodePayloadText(token);
    if (header.cty.toUpperCase() === "JWT") {
      tokenText = payloadText;
      continue;
    }
    const payload = jsonObject(payloadText);
    return claimsValid(c, payload) ? [true, decoded, payload] : unverified;
  }
}

// ---------------------------------------------------------------- signing

/** The signing key: the first key of a JWK or JWK set, private for the asymmetric algorithms. */
function signingKey(jwkText: string): KeyObject | Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwkText);
  } catch (e) {
    throw new JwtError(`failed to parse JWK: ${(e as Error).message}`);
  }
  const isObject = (x: unknown): x is Jwk => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObject(parsed)) throw new JwtError("failed to parse JWK: invalid JWK");
  const list: unknown[] = "keys" in parsed ? (Array.isArray(parsed.keys) ? parsed.keys : []) : [parsed];
  const first = list[0];
  if (first === undefined) throw new JwtError("no keys found in JWK set");
  if (!isObject(first)) throw new JwtError("failed to parse JWK: invalid JWK");
  try {
    if (first.kty === "oct") return importJwk(first);
    return createPrivateKey({ key: first, format: "jwk" });
  } catch (e) {
    throw new JwtError(`failed to parse JWK: ${(e as Error).message}`);
  }
}

function signBytes(key: KeyObject | Uint8Array, alg: string, data: Buffer): Buffer {
  const hash = HASH_OF[alg.slice(2)];
  const family = alg === "EdDSA" ? "Ed" : alg.slice(0, 2);
  const want: Record<string, string> = { RS: "rsa", PS: "rsa", ES: "ec", Ed: "ed25519" };
  if (family === "HS") {
    if (key instanceof KeyObject) throw new JwtError(`failed to sign payload: invalid key type for ${alg}`);
    return createHmac(hash as Hash, key).update(data).digest();
  }
  if (!(key instanceof KeyObject) || key.type !== "private" || key.asymmetricKeyType !== want[family]) {
    throw new JwtError(`failed to sign payload: invalid key type for ${alg}`);
  }
  switch (family) {
    case "RS":
      return cryptoSign(hash as Hash, data, key);
    case "PS":
      // RFC 7518 §3.5: the salt is as long as the hash.
      return cryptoSign(hash as Hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    case "ES":
      return cryptoSign(hash as Hash, data, { key, dsaEncoding: "ieee-p1363" });
    default:
      return cryptoSign(null, data, key);
  }
}

/** OPA's commonBuiltinJWTEncodeSign: header and payload bytes as given, base64url without padding, signed with the header's alg. */
function encodeSign(headerText: string, payloadText: string, jwkText: string): string {
  const key = signingKey(jwkText);
  let header: Value;
  try {
    header = unmarshalJSON(headerText);
  } catch (e) {
    throw new JwtError(`missing or invalid 'alg' header: ${(e as Error).message}`);
  }
  const alg = header instanceof RegoObject ? header.get("alg") : undefined;
  if (typeof alg !== "string") throw new JwtError("missing or invalid 'alg' header: alg not found");
  if (!ALGORITHMS.has(alg)) throw new JwtError(`unknown JWS algorithm: ${alg}`);
  const typ = header instanceof RegoObject ? header.get("typ") : undefined;
  if ((typeof typ !== "string" || typ === "JWT") && !isValidJSON(payloadText)) throw new JwtError("type is JWT but payload is not JSON");
  const input = `${Buffer.from(headerText, "utf8").toString("base64url")}.${Buffer.from(payloadText, "utf8").toString("base64url")}`;
  return `${input}.${signBytes(key, alg, Buffer.from(input, "utf8")).toString("base64url")}`;
}

function encodeSignRaw(args: readonly Value[]): Value {
  const name = "io.jwt.encode_sign_raw";
  const [header, payload, jwk] = args as [Value, Value, Value];
  if (typeof jwk !== "string") throw operandError(name, 3, "string", jwk);
  if (typeof header !== "string") throw operandError(name, 1, "string", header);
  if (typeof payload !== "string") throw operandError(name, 2, "string", payload);
  return encodeSign(header, payload, jwk);
}

function encodeSignObjects(args: readonly Value[]): Value {
  const [header, payload, jwk] = args as [Value, Value, Value];
  return encodeSign(marshalJSON(header), marshalJSON(payload), marshalJSON(jwk));
}

export const JWT_BUILTINS: readonly BuiltinDef[] = [
  { name: "io.jwt.decode", arity: 1, args: ["string"], fn: wrap("io.jwt.decode", (args) => decode("io.jwt.decode", args[0] as Value)) },
  { name: "io.jwt.decode_verify", arity: 2, args: ["string", "object"], fn: wrap("io.jwt.decode_verify", decodeVerify) },
  verifyWithKeys("io.jwt.verify_rs256", rsaVerifier("sha256", false)),
  verifyWithKeys("io.jwt.verify_rs384", rsaVerifier("sha384", false)),
  verifyWithKeys("io.jwt.verify_rs512", rsaVerifier("sha512", false)),
  verifyWithKeys("io.jwt.verify_ps256", rsaVerifier("sha256", true)),
  verifyWithKeys("io.jwt.verify_ps384", rsaVerifier("sha384", true)),
  verifyWithKeys("io.jwt.verify_ps512", rsaVerifier("sha512", true)),
  verifyWithKeys("io.jwt.verify_es256", ecdsaVerifier("sha256")),
  verifyWithKeys("io.jwt.verify_es384", ecdsaVerifier("sha384")),
  verifyWithKeys("io.jwt.verify_es512", ecdsaVerifier("sha512")),
  verifyWithKeys("io.jwt.verify_eddsa", verifyEd25519),
  verifyHmac("io.jwt.verify_hs256", "sha256"),
  verifyHmac("io.jwt.verify_hs384", "sha384"),
  verifyHmac("io.jwt.verify_hs512", "sha512"),
  { name: "io.jwt.encode_sign", arity: 3, args: ["object", "object", "object"], fn: wrap("io.jwt.encode_sign", encodeSignObjects), nondeterministic: true },
  { name: "io.jwt.encode_sign_raw", arity: 3, args: ["string", "string", "string"], fn: wrap("io.jwt.encode_sign_raw", encodeSignRaw), nondeterministic: true },
];
