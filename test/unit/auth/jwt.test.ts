/**
 * JWT verification against a real JWKS server: what is accepted, every bad input and its defined refusal,
 * key rotation, unknown-kid floods (counted JWKS requests), a JWKS endpoint down, hanging or sending garbage
 * (cached keys keep working), exp/nbf with leeway, and the verified-token cache (answers without a promise).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { base64url, exportJWK, SignJWT } from "jose";
import { AuthFailure } from "../../../src/auth/failure.ts";
import type { Identity } from "../../../src/auth/identity.ts";
import { type KeyEntry, KeyStore } from "../../../src/auth/jwks.ts";
import { JwtVerifier } from "../../../src/auth/jwt.ts";
import { authPolicySchema } from "../../../src/auth/schema.ts";
import { compileAuthSettings } from "../../../src/auth/settings.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { keycloakClaims, makeKey, rawSign, TestIdp, type TestKey } from "./idp.ts";

const logLines: string[] = [];
const logger = createLogger("debug", {}, (l) => logLines.push(l));

let idp: TestIdp;
let k1: TestKey;
let k2: TestKey;
let ec: TestKey;

beforeAll(async () => {
  idp = new TestIdp();
  [k1, k2, ec] = await Promise.all([makeKey("k1"), makeKey("k2"), makeKey("e1", "ES256")]);
  idp.keys = [k1, ec];
});
afterAll(() => idp.stop());
afterEach(() => {
  idp.mode = "ok";
  idp.keys = [k1, ec];
});

/** A verifier over the test IdP from a policy's jwt block (validated by the schema, compiled by settings.ts). */
function verifier(jwt: Record<string, unknown> = {}, clock: () => number = Date.now) {
  const policy = authPolicySchema.parse({ jwt: { jwks_url: idp.jwksUrl, issuer: idp.url, audience: "orders-api", keys: { refetch_interval: "200ms" }, ...jwt } });
  const settings = compileAuthSettings({ routes: [{ name: "r", auth: policy }] }).routes.get("r")?.jwt;
  if (!settings) throw new Error("no jwt settings");
  const store = new KeyStore(settings.keys, logger, clock);
  return new JwtVerifier(settings, store, clock);
}

async function outcome(v: JwtVerifier, token: string): Promise<Identity | AuthFailure> {
  return await v.check(token);
}

function refused(o: Identity | AuthFailure, result: AuthFailure["result"], description: RegExp): void {
  expect(o).toBeInstanceOf(AuthFailure);
  const f = o as AuthFailure;
  expect(f.result).toBe(result);
  expect(f.description).toMatch(description);
  // RFC 6750 §3: error_description is printable ASCII without '"' and '\'.
  expect(f.description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("accepted tokens", () => {
  test("RS256 and ES256 tokens map to an identity; Keycloak's layout gives realm and client roles and the scope list", async () => {
    const v = verifier();
    const id = (await outcome(v, await idp.token({ ...keycloakClaims(), sub: "user-1" }))) as Identity;
    expect(id).toMatchObject({ method: "jwt", subject: "user-1", issuer: idp.url });
    expect(id.scopes).toEqual(["openid", "profile", "orders:read", "orders:write"]);
    expect(id.roles).toEqual(["offline_access", "uma_authorization", "staff", "order-admin"]);
    expect(id.expiresAt).toBeGreaterThan(Date.now());
    expect(Object.isFrozen(id.claims.realm_access)).toBe(true);
    const e = (await outcome(v, await idp.token({ scp: ["a", "b"], roles: ["r1"] }, ec))) as Identity;
    expect(e.subject).toBe("alice");
    expect(e.scopes).toEqual(["a", "b"]);
    expect(e.roles).toEqual(["r1"]);
  });

  test("a verified token is answered from the cache synchronously (no promise), until its expiry", async () => {
    let now = Date.now();
    const v = verifier({}, () => now);
    const token = await idp.token({ exp: Math.floor(now / 1000) + 60 });
    expect(v.check(token)).toBeInstanceOf(Promise);
    await v.check(token);
    const again = v.check(token);
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as Identity).subject).toBe("alice");
    now += 61_000 + 30_000; // past exp and the 30 s leeway
    const late = await v.check(token);
    refused(late, "expired", /expired/);
  });

  test("a token without kid is verified with the keys usable with its algorithm", async () => {
    const v = verifier();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: idp.url, aud: "orders-api", sub: "nokid", exp: now + 60 }).setProtectedHeader({ alg: "ES256" }).sign(ec.privateKey);
    expect(((await outcome(v, token)) as Identity).subject).toBe("nokid");
  });
});

describe("bad input: each gets a defined refusal", () => {
  test("table of malformed and forged tokens", async () => {
    const v = verifier();
    const good = await idp.token();
    const [h, p] = good.split(".") as [string, string, string];
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    // HS256 with the RSA public key as the secret: the algorithm confusion attack.
    const rsaPublicAsSecret = new TextEncoder().encode(JSON.stringify(k1.publicJwk));
    const confused = await new SignJWT({ iss: idp.url, aud: "orders-api", sub: "mallory", exp: now + 60 }).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(rsaPublicAsSecret);
    const cases: [string, string, AuthFailure["result"], RegExp][] = [
      ["empty", "", "invalid", /not a signed JWT/],
      ["two parts", `${h}.${p}`, "invalid", /not a signed JWT/],
      ["unsigned (alg none, empty signature)", `${enc({ alg: "none" })}.${p}.`, "invalid", /not a signed JWT/],
      ["alg none with a signature part", `${enc({ alg: "none" })}.${p}.AAAA`, "invalid", /alg none/],
      ["HS256 signed with the RSA public key", confused, "invalid", /HS256 is not allowed/],
      ["header not JSON", `${base64url.encode("{nope")}.${p}.AAAA`, "invalid", /header is not valid/],
      ["kid not a string", `${enc({ alg: "RS256", kid: 7 })}.${p}.AAAA`, "invalid", /header is not valid/],
      ["non-base64url characters", `${h}.${p}.a+b/c=`, "invalid", /not a signed JWT/],
      ["signature of another token", `${h}.${enc({ iss: idp.url, aud: "orders-api", sub: "mallory", exp: now + 60 })}.${good.split(".")[2]}`, "invalid", /signature does not verify/],
      ["payload not JSON", `${h}.${base64url.encode("[[[")}.${good.split(".")[2]}`, "invalid", /malformed|signature/],
      ["wrong issuer", await idp.token({ iss: "https://evil.example" }), "invalid", /another issuer/],
      ["wrong audience", await idp.token({ aud: "billing" }), "invalid", /audience/],
      ["no exp", await idp.token({ exp: undefined }), "invalid", /no exp/],
      ["expired beyond the leeway", await idp.token({ exp: now - 31 }), "expired", /expired/],
      ["not valid yet beyond the leeway", await idp.token({ nbf: now + 60 }), "invalid", /not valid yet/],
      ["no subject", await idp.token({ sub: undefined }), "invalid", /no subject/],
      ["crit header jose does not know", await rawSign({ alg: "RS256", kid: "k1", crit: ["x-unknown"], "x-unknown": 1 }, { iss: idp.url, aud: "orders-api", sub: "a", exp: now + 60 }, k1), "invalid", /unsupported|malformed/],
      ["b64 false (unencoded payload)", await rawSign({ alg: "RS256", kid: "k1", b64: false, crit: ["b64"] }, { iss: idp.url, aud: "orders-api", sub: "a", exp: now + 60 }, k1), "invalid", /unsupported|malformed|signature/],
      ["too large", `${h}.${"A".repeat(9000)}.AAAA`, "invalid", /larger than 8192 bytes/],
    ];
    for (const [name, token, result, description] of cases) {
      const o = await outcome(v, token);
      try {
        refused(o, result, description);
      } catch (err) {
        throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  });

  test("leeway: exp and nbf within it are accepted", async () => {
    const v = verifier({ leeway: "30s" });
    const now = Math.floor(Date.now() / 1000);
    expect(await outcome(v, await idp.token({ exp: now - 20 }))).not.toBeInstanceOf(AuthFailure);
    expect(await outcome(v, await idp.token({ nbf: now + 20 }))).not.toBeInstanceOf(AuthFailure);
    const strict = verifier({ leeway: 0 });
    refused(await outcome(strict, await idp.token({ exp: now - 2 })), "expired", /expired/);
  });

  test("refusals that need no signature check answer synchronously", async () => {
    const v = verifier();
    await v.store.refresh();
    for (const t of ["garbage", "a.b", `${"x".repeat(10_000)}`]) expect(v.check(t)).toBeInstanceOf(AuthFailure);
  });

  test("an algorithm outside the policy's list is refused before any key lookup", async () => {
    const v = verifier({ algorithms: ["ES256"] });
    const before = idp.jwksRequests;
    const o = v.check(await idp.token());
    expect(o).not.toBeInstanceOf(Promise);
    refused(o as AuthFailure, "invalid", /RS256 is not allowed/);
    expect(idp.jwksRequests).toBe(before);
  });
});

describe("keys", () => {
  test("rotation: a token with a new kid triggers one refetch and is accepted", async () => {
    const v = verifier();
    expect(await outcome(v, await idp.token())).not.toBeInstanceOf(AuthFailure);
    idp.keys = [k2, k1];
    await sleep(250); // past refetch_interval
    const before = idp.jwksRequests;
    expect(((await outcome(v, await idp.token({ sub: "after-rotation" }, k2))) as Identity).subject).toBe("after-rotation");
    expect(idp.jwksRequests).toBe(before + 1);
  });

  test("an unknown-kid flood costs one JWKS request per refetch interval, and concurrent askers share it", async () => {
    const v = verifier({ keys: { refetch_interval: "10s" } });
    await v.store.refresh();
    const before = idp.jwksRequests;
    const stranger = await makeKey("stranger");
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => idp.token({ sub: `s${i}` }, { ...stranger, kid: `rnd-${i}` })));
    const outcomes = await Promise.all(tokens.map((t) => outcome(v, t)));
    for (const o of outcomes) refused(o, "invalid", /unknown key/);
    expect(idp.jwksRequests - before).toBeLessThanOrEqual(1);
    // Later ones within the interval are refused at once, without a promise.
    expect(v.check(await idp.token({}, { ...stranger, kid: "later" }))).toBeInstanceOf(AuthFailure);
    expect(idp.jwksRequests - before).toBeLessThanOrEqual(1);
  });

  test("JWKS down, hanging or sending garbage: cached keys keep working, one warning per outage", async () => {
    for (const mode of ["down", "hang", "garbage"] as const) {
      logLines.length = 0;
      const v = verifier({ keys: { refetch_interval: "100ms", timeout: "300ms" } });
      await v.store.refresh();
      idp.mode = mode;
      await sleep(120);
      // A new kid forces a fetch that fails; the known key still verifies.
      const t0 = performance.now();
      refused(await outcome(v, await idp.token({}, { ...k2, kid: "new" })), "invalid", /unknown key/);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(((await outcome(v, await idp.token({ sub: `during-${mode}` }))) as Identity).subject).toBe(`during-${mode}`);
      await sleep(120);
      await outcome(v, await idp.token({}, { ...k2, kid: "new2" }));
      const warnings = logLines.filter((l) => l.includes("could not be fetched"));
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toContain(idp.jwksUrl);
      idp.mode = "ok";
    }
  });

  test("no keys ever fetched and the endpoint down: unavailable (503) with a retry-after, not a hammered endpoint", async () => {
    idp.mode = "down";
    const v = verifier({ keys: { refetch_interval: "5s" } });
    const first = await outcome(v, await idp.token());
    expect(first).toBeInstanceOf(AuthFailure);
    expect((first as AuthFailure).result).toBe("unavailable");
    const before = idp.jwksRequests;
    const second = v.check(await idp.token());
    expect(second).toBeInstanceOf(AuthFailure);
    expect((second as AuthFailure).result).toBe("unavailable");
    expect((second as AuthFailure).retryAfter).toBeGreaterThan(0);
    expect(idp.jwksRequests).toBe(before);
  });

  test("OIDC discovery finds jwks_uri; a document naming another issuer is refused", async () => {
    const v = verifier({ jwks_url: undefined });
    const d0 = idp.discoveryRequests;
    expect(((await outcome(v, await idp.token())) as Identity).subject).toBe("alice");
    expect(idp.discoveryRequests).toBe(d0 + 1);
    const wrong = verifier({ jwks_url: undefined, issuer: `${idp.url}/realms/other` });
    const o = await outcome(wrong, await idp.token({ iss: `${idp.url}/realms/other` }));
    expect((o as AuthFailure).result).toBe("unavailable");
    expect(logLines.some((l) => l.includes("names issuer"))).toBe(true);
  });

  test("a key removed from the set takes its cached tokens with it at the next fetch", async () => {
    const v = verifier({ keys: { refetch_interval: "100ms", refresh_interval: "1s" } });
    const token = await idp.token();
    expect(await outcome(v, token)).not.toBeInstanceOf(AuthFailure);
    expect(v.check(token)).not.toBeInstanceOf(Promise);
    idp.keys = [k2];
    await sleep(150);
    await outcome(v, await idp.token({}, k2)); // unknown kid k2 → refetch: k1 is gone
    refused(await outcome(v, token), "invalid", /unknown key/);
  });

  test("symmetric and unusable keys in the set are ignored; a key serves only its type's (and its own alg's) algorithms", async () => {
    idp.keys = [k1];
    const oct = { kty: "oct", k: base64url.encode("secret-secret-secret-secret-32b!"), kid: "hmac", alg: "HS256" };
    const store = new KeyStore({ id: "x", issuer: undefined, jwksUrl: idp.jwksUrl, timeout: 1000, refetchInterval: 100, refreshInterval: 60_000, maxSize: 65536 }, logger);
    const orig = idp.keys;
    (idp as unknown as { keys: unknown[] }).keys = [...orig, { publicJwk: oct }, { publicJwk: { kty: "RSA", kid: "broken", n: "AA", e: "AQAB" } }, ec];
    await store.refresh();
    expect(store.find("hmac", "HS256")).toBeUndefined();
    expect(store.find("broken", "RS256")).toBeUndefined();
    expect(store.find("e1", "ES256")).toBeDefined();
    expect(store.find("e1", "ES384")).toBeUndefined();
    expect(store.find("k1", "PS256")).toBeUndefined(); // the JWK names RS256: only that
    expect(store.find("k1", "ES256")).toBeUndefined();
    expect(await exportJWK((store.find("k1", "RS256") as KeyEntry).byAlg.get("RS256") as CryptoKey)).toMatchObject({ kty: "RSA" });
  });
});
