/**
 * The authentication layer over real Exchanges: identity headers stripped on every route, methods in order,
 * required/optional, API keys (header and Authorization: ApiKey), mTLS identities, RFC 6750 challenges, the
 * JSON error body, metrics, identity headers upstream, and no promise for a cached token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { findApiKey, sha256 } from "../../../src/auth/api-keys.ts";
import type { PeerCertificate } from "../../../src/auth/identity.ts";
import { AuthLayer } from "../../../src/auth/layer.ts";
import { authPoliciesSchema, routeAuthSchema } from "../../../src/auth/schema.ts";
import { type AuthSettings, compileAuthSettings } from "../../../src/auth/settings.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { Exchange, type Reply } from "../../../src/pipeline/exchange.ts";
import type { RuntimeRoute } from "../../../src/routing/route-table.ts";
import { makeKey, TestIdp } from "./idp.ts";

const KEY_A = "a-very-long-api-key-for-batch-0001";
const KEY_B = "another-long-api-key-for-reports-02";
const logger = createLogger("error", {}, () => undefined);
let idp: TestIdp;

beforeAll(async () => {
  idp = new TestIdp();
  idp.keys = [await makeKey("k1")];
});
afterAll(() => idp.stop());

function settings(routes: Record<string, unknown>, policies: Record<string, unknown> = {}): AuthSettings {
  return compileAuthSettings(
    {
      auth_policies: authPoliciesSchema.parse(policies),
      routes: Object.entries(routes).map(([name, auth]) => ({ name, ...(auth === undefined ? {} : { auth: routeAuthSchema.parse(auth) }) })),
    },
    { env: { KEY_A } },
  );
}

function exchange(route: string | undefined, fields: string[] = [], query = "", cert?: PeerCertificate): Exchange {
  const ex = new Exchange(performance.now(), "GET", `/x${query}`, "/x", query, "h", "h", [...fields], { address: "127.0.0.1", port: 1 }, cert !== undefined, "http/1.1", undefined, undefined);
  ex.id = "rid-1";
  if (route !== undefined) ex.route = { name: route } as RuntimeRoute;
  if (cert) ex.peerCertificate = cert;
  return ex;
}

const body = (r: Reply) => JSON.parse(new TextDecoder().decode(r.body as Uint8Array)) as { error: { code: string; message: string } };
const field = (r: Reply, name: string) => r.fields.filter((_, i) => i % 2 === 1 && r.fields[i - 1] === name);

function countOf(m: Metrics, route: string, result: string): number {
  const j = m.registry.json().find((x) => x.name === "ficus_auth_total");
  return j?.values.find((v) => v.labels.route === route && v.labels.result === result)?.value ?? 0;
}

const HEADERS = { subject: "X-Ficus-Subject", scopes: "X-Ficus-Scopes", roles: "X-Ficus-Roles", method: "X-Ficus-Auth-Method", claims: { "X-Ficus-Tenant": "tenant.id" } };

describe("auth layer", () => {
  test("identity headers are stripped from every request, on routes with or without auth, authenticated or not", () => {
    const layer = new AuthLayer(settings({ open: undefined, opt: "p" }, { p: { mode: "optional", api_key: { keys: [{ id: "a", env: "KEY_A" }] }, identity_headers: HEADERS } }), { metrics: new Metrics(), logger });
    for (const route of ["open", "opt", undefined]) {
      const ex = exchange(route, ["x-ficus-subject", "admin", "X-FICUS-SCOPES", "all", "x-ficus-tenant", "t1", "accept", "*/*"]);
      expect(layer.request(ex)).toBeUndefined();
      expect(ex.fields).toEqual(["accept", "*/*"]);
    }
  });

  test("required mode: no credential is 401 FICUS_AUTH_MISSING with challenges and no error attribute (RFC 6750 §3.1)", () => {
    const m = new Metrics();
    const layer = new AuthLayer(settings({ r: { realm: "orders", jwt: { jwks_url: idp.jwksUrl }, api_key: { keys: [{ id: "a", env: "KEY_A" }] } } }), { metrics: m, logger });
    const ex = exchange("r", ["authorization", "Basic dXNlcjpwYXNz"]);
    const reply = layer.request(ex) as Reply;
    expect(reply.status).toBe(401);
    expect(body(reply).error.code).toBe("FICUS_AUTH_MISSING");
    expect(field(reply, "www-authenticate")).toEqual(['Bearer realm="orders"', 'ApiKey realm="orders"']);
    expect(ex.error).toBe("FICUS_AUTH_MISSING");
    expect(countOf(m, "r", "missing")).toBe(1);
  });

  test("optional mode: no credential goes on as anonymous; a refused credential is still a 401", async () => {
    const m = new Metrics();
    const layer = new AuthLayer(settings({ r: { mode: "optional", jwt: { jwks_url: idp.jwksUrl } } }), { metrics: m, logger });
    const ex = exchange("r");
    expect(layer.request(ex)).toBeUndefined();
    expect(ex.identity?.method).toBe("anonymous");
    const bad = exchange("r", ["Authorization", "Bearer not-a-jwt"]);
    const reply = (await layer.request(bad)) as Reply;
    expect(reply.status).toBe(401);
    expect(body(reply).error.code).toBe("FICUS_AUTH_INVALID");
    expect(field(reply, "www-authenticate")).toEqual(['Bearer realm="ficus", error="invalid_token", error_description="the token is not a signed JWT (three base64url parts)"']);
    expect(countOf(m, "r", "anonymous")).toBe(1);
    expect(countOf(m, "r", "invalid")).toBe(1);
  });

  test("JWT: identity and identity headers upstream; the second request is answered without a promise", async () => {
    const m = new Metrics();
    const layer = new AuthLayer(settings({ r: "staff" }, { staff: { jwt: { jwks_url: idp.jwksUrl, issuer: idp.url, audience: "orders-api" }, identity_headers: HEADERS } }), { metrics: m, logger });
    await layer.warm();
    const token = await idp.token({ scope: "orders:read orders:write", roles: ["clerk"], tenant: { id: "t-\u00e9\r\n" } });
    const first = exchange("r", ["authorization", `bearer ${token}`, "x-ficus-subject", "root"]);
    const out = layer.request(first);
    expect(out).toBeInstanceOf(Promise);
    expect(await out).toBeUndefined();
    expect(first.identity?.subject).toBe("alice");
    expect(first.fields.slice(0, 2)).toEqual(["authorization", `bearer ${token}`]);
    expect(first.fields.slice(2)).toEqual(["X-Ficus-Subject", "alice", "X-Ficus-Auth-Method", "jwt", "X-Ficus-Scopes", "orders:read orders:write", "X-Ficus-Roles", "clerk", "X-Ficus-Tenant", "t-%C3%A9%0D%0A"]);
    const second = exchange("r", ["Authorization", `Bearer ${token}`]);
    expect(layer.request(second)).toBeUndefined();
    expect(second.identity).toBe(first.identity as NonNullable<typeof first.identity>);
    expect(countOf(m, "r", "ok")).toBe(2);
  });

  test("tokens from a cookie or a query parameter, only when configured", async () => {
    const token = await idp.token();
    const layer = new AuthLayer(settings({ c: { jwt: { jwks_url: idp.jwksUrl, token_from: [{ cookie: "at" }, { query: "access_token" }] } }, h: { jwt: { jwks_url: idp.jwksUrl } } }), { metrics: new Metrics(), logger });
    expect(await layer.request(exchange("c", ["cookie", `a=1; at=${token}`]))).toBeUndefined();
    expect(await layer.request(exchange("c", [], `?x=1&access_token=${token}`))).toBeUndefined();
    expect(((await layer.request(exchange("h", [], `?access_token=${token}`))) as Reply).status).toBe(401);
    expect(((await layer.request(exchange("h", ["cookie", `at=${token}`]))) as Reply).status).toBe(401);
  });

  test("API keys: the header or Authorization: ApiKey; an unknown key is FICUS_AUTH_INVALID; methods in order", async () => {
    const layer = new AuthLayer(
      settings({ r: { methods: ["api_key", "jwt"], jwt: { jwks_url: idp.jwksUrl }, api_key: { keys: [{ id: "batch", env: "KEY_A", scopes: ["orders:read"], roles: ["batch"] }, { id: "reports", sha256: sha256(KEY_B).toHex() }] } } }),
      { metrics: new Metrics(), logger },
    );
    const a = exchange("r", ["X-API-Key", KEY_A]);
    expect(layer.request(a)).toBeUndefined();
    expect(a.identity).toMatchObject({ method: "api_key", subject: "batch", scopes: ["orders:read"], roles: ["batch"] });
    const b = exchange("r", ["authorization", `ApiKey ${KEY_B}`]);
    expect(layer.request(b)).toBeUndefined();
    expect(b.identity?.subject).toBe("reports");
    const wrong = layer.request(exchange("r", ["x-api-key", `${KEY_A}x`])) as Reply;
    expect(wrong.status).toBe(401);
    expect(body(wrong).error).toEqual({ code: "FICUS_AUTH_INVALID", message: "the API key is not known", request_id: "rid-1" } as never);
    expect(JSON.stringify(wrong)).not.toContain(KEY_A);
    // The API key comes first: a request with both is decided by the key.
    const both = exchange("r", ["x-api-key", KEY_A, "authorization", "Bearer garbage"]);
    expect(layer.request(both)).toBeUndefined();
    expect(both.identity?.method).toBe("api_key");
  });

  test("mTLS: subject from CN, else SAN; grants by SAN; only_listed refuses others; an expired certificate is FICUS_AUTH_EXPIRED", () => {
    const cert = (cn: string, sans: string[], validTo = Date.now() + 3_600_000): PeerCertificate => ({ subject: `CN=${cn},O=Acme`, commonName: cn, sans, issuer: "CN=Test CA", fingerprint256: "AA:BB", validTo });
    const layer = new AuthLayer(
      settings({ r: { mtls: { subjects: { "URI:spiffe://acme/orders": { scopes: ["orders:write"], roles: ["service"] } } } }, strict: { mtls: { only_listed: true, subjects: { billing: {} } } } }),
      { metrics: new Metrics(), logger },
    );
    const ex = exchange("r", [], "", cert("", ["URI:spiffe://acme/orders"]));
    expect(layer.request(ex)).toBeUndefined();
    expect(ex.identity).toMatchObject({ method: "mtls", subject: "URI:spiffe://acme/orders", scopes: ["orders:write"], roles: ["service"], issuer: "CN=Test CA" });
    const refused = layer.request(exchange("strict", [], "", cert("someone", []))) as Reply;
    expect(body(refused).error.code).toBe("FICUS_AUTH_INVALID");
    expect(field(refused, "www-authenticate")).toEqual(['ClientCertificate realm="ficus"']);
    expect((layer.request(exchange("strict", [], "", cert("billing", []))) as Reply | undefined)).toBeUndefined();
    expect(body(layer.request(exchange("r", [], "", cert("x", [], Date.now() - 1))) as Reply).error.code).toBe("FICUS_AUTH_EXPIRED");
    expect(body(layer.request(exchange("r")) as Reply).error.code).toBe("FICUS_AUTH_MISSING");
  });

  test("replace keeps the key store and token cache of an unchanged policy", async () => {
    const policies = { staff: { jwt: { jwks_url: idp.jwksUrl } } };
    const metrics = new Metrics();
    const layer = new AuthLayer(settings({ r: "staff" }, policies), { metrics, logger });
    const token = await idp.token();
    await layer.request(exchange("r", ["authorization", `Bearer ${token}`]));
    const before = idp.jwksRequests;
    layer.replace(settings({ r: "staff", r2: "staff" }, policies));
    expect(layer.request(exchange("r2", ["authorization", `Bearer ${token}`]))).toBeUndefined();
    expect(idp.jwksRequests).toBe(before);
    // A second layer on the same Metrics (a rebuild) counts into the same metric.
    const rebuilt = new AuthLayer(settings({ r: "staff" }, policies), { metrics, logger });
    await rebuilt.request(exchange("r", ["authorization", `Bearer ${token}`]));
    expect(countOf(metrics, "r", "ok")).toBe(2);
  });

  test("JWKS unavailable and nothing cached: 503 FICUS_AUTH_KEYS_UNAVAILABLE with Retry-After, no challenge", async () => {
    const layer = new AuthLayer(settings({ r: { jwt: { jwks_url: "http://127.0.0.1:1/jwks", keys: { timeout: "500ms" } } } }), { metrics: new Metrics(), logger });
    const reply = (await layer.request(exchange("r", ["authorization", `Bearer ${await idp.token()}`]))) as Reply;
    expect(reply.status).toBe(503);
    expect(body(reply).error.code).toBe("FICUS_AUTH_KEYS_UNAVAILABLE");
    expect(Number(field(reply, "retry-after")[0])).toBeGreaterThanOrEqual(1);
    expect(field(reply, "www-authenticate")).toEqual([]);
  });
});

describe("API key lookup (property)", () => {
  test("a presented key finds its entry exactly when it is one of the keys", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 8 }), fc.string(), (keys, probe) => {
        const entries = keys.map((k, i) => ({ digest: sha256(k), identity: { method: "api_key" as const, subject: `id${i}`, issuer: "", scopes: [], roles: [], claims: {} } }));
        const i = keys.indexOf(probe);
        expect(findApiKey(entries, probe)?.subject).toBe(i < 0 ? undefined : `id${i}`);
        expect(findApiKey(entries, keys[0] as string)?.subject).toBe("id0");
      }),
    );
  });
});
