/**
 * Authentication against a real OpenID Provider (the certified oidc-provider package, run in this process
 * on 127.0.0.1:0) through a real HTTP/1.1 front (Ficus's engine, the pipeline, the auth layer) on port 0:
 * tokens from the client-credentials grant, keys by OIDC discovery, the provider's keys rotated mid-test
 * (Ficus follows: unknown kid → one refetch → accepted), Keycloak-shaped tokens signed by a test key, and
 * bad input over the wire.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { exportJWK, generateKeyPair } from "jose";
import { AuthLayer } from "../../src/auth/layer.ts";
import { authPoliciesSchema, routeAuthSchema } from "../../src/auth/schema.ts";
import { compileAuthSettings } from "../../src/auth/settings.ts";
import { type Http1Server, listen } from "../../src/http1/server.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import type { Exchange, Reply } from "../../src/pipeline/exchange.ts";
import type { Layer } from "../../src/pipeline/layer.ts";
import { requestIdLayer } from "../../src/pipeline/layers/request-id.ts";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import type { RuntimeRoute } from "../../src/routing/route-table.ts";
import { Http1Front } from "../../src/server/http1-front.ts";
import { keycloakClaims, makeKey, TestIdp } from "../unit/auth/idp.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => { callback(): Handler };

const AUDIENCE = "https://orders.example";
const SECRET = "client-secret-for-the-test-0001";

let op: Server;
let issuer = "";
let handler: Handler = (_req, res) => res.end();
let jwksRequests = 0;
let Provider: ProviderClass;
let opKey1: Record<string, unknown>;
let keycloak: TestIdp;
let server: Http1Server;
let base = "";
const metrics = new Metrics();

/** A provider with these private JWKs (the first one signs), issuing JWT access tokens for AUDIENCE. */
function provider(keys: Record<string, unknown>[]): Handler {
  return new Provider(issuer, {
    jwks: { keys },
    clients: [{ client_id: "orders-batch", client_secret: SECRET, grant_types: ["client_credentials"], redirect_uris: [], response_types: [], scope: "orders:read orders:write" }],
    scopes: ["orders:read", "orders:write"],
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: "orders:read orders:write", audience: AUDIENCE, accessTokenTTL: 300, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } }),
      },
    },
    ttl: { ClientCredentials: 300 },
  }).callback();
}

async function privateJwk(kid: string): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

/** A token from the provider's token endpoint (client-credentials grant, RFC 6749 §4.4). */
async function clientCredentials(scope = "orders:write"): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`orders-batch:${SECRET}`)}` },
    body: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
  });
  const body = (await res.json()) as { access_token?: string };
  expect(res.status).toBe(200);
  return body.access_token as string;
}

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString()) as { kid: string }).kid;

/** Routes by the first path segment; answers with what the upstream would get. */
const routeByPath: Layer = {
  name: "routing",
  request(ex: Exchange) {
    ex.route = { name: ex.path.split("/")[1] ?? "" } as RuntimeRoute;
    return undefined;
  },
};
const echo: Layer = {
  name: "echo",
  request(ex: Exchange): Reply {
    const headers: Record<string, string> = {};
    for (let i = 0; i < ex.fields.length; i += 2) if ((ex.fields[i] as string).toLowerCase().startsWith("x-ficus-")) headers[(ex.fields[i] as string).toLowerCase()] = ex.fields[i + 1] as string;
    return { status: 200, fields: ["content-type", "application/json"], body: new TextEncoder().encode(JSON.stringify({ identity: ex.identity ?? null, headers })) };
  },
};

beforeAll(async () => {
  Provider = ((await import("oidc-provider" as string)) as { default: ProviderClass }).default;
  op = createServer((req, res) => {
    if (req.url?.startsWith("/jwks")) jwksRequests++;
    handler(req, res);
  });
  await new Promise<void>((r) => op.listen(0, "127.0.0.1", () => r()));
  issuer = `http://127.0.0.1:${(op.address() as { port: number }).port}`;
  opKey1 = await privateJwk("op-1");
  handler = provider([opKey1]);

  keycloak = new TestIdp();
  keycloak.keys = [await makeKey("kc-1")];

  const settings = compileAuthSettings({
    auth_policies: authPoliciesSchema.parse({
      oidc: {
        jwt: { issuer, audience: AUDIENCE, keys: { refetch_interval: "500ms" } },
        identity_headers: { subject: "X-Ficus-Subject", scopes: "X-Ficus-Scopes", roles: "X-Ficus-Roles" },
      },
      keycloak: {
        jwt: { issuer: keycloak.url, jwks_url: keycloak.jwksUrl, audience: "orders-api", max_token_size: "4KiB" },
        identity_headers: { subject: "X-Ficus-Subject", roles: "X-Ficus-Roles" },
      },
    }),
    routes: [
      { name: "orders", auth: routeAuthSchema.parse("oidc") },
      { name: "kc", auth: routeAuthSchema.parse("keycloak") },
      { name: "public" },
    ],
  });
  const logger = createLogger("error", {}, () => undefined);
  const auth = new AuthLayer(settings, { metrics, logger });
  const pipeline = new Pipeline([requestIdLayer, routeByPath, auth, echo], logger);
  const front = new Http1Front(pipeline, logger);
  server = listen({ hostname: "127.0.0.1", port: 0, handler: front.handle });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  server?.destroy();
  op?.close();
  keycloak?.stop();
});

async function call(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { identity: Record<string, unknown> | null; headers: Record<string, string>; error?: { code: string } } };
}

describe("a real OpenID Provider", () => {
  test("a client-credentials token is accepted (keys by discovery); identity headers go upstream, spoofed ones do not", async () => {
    const token = await clientCredentials("orders:write");
    const ok = await call("/orders/1", { authorization: `Bearer ${token}`, "x-ficus-subject": "admin", "x-ficus-roles": "root" });
    expect(ok.status).toBe(200);
    expect(ok.body.identity).toMatchObject({ method: "jwt", subject: "orders-batch", issuer, scopes: ["orders:write"] });
    expect(ok.body.headers).toEqual({ "x-ficus-subject": "orders-batch", "x-ficus-scopes": "orders:write" });
    const spoof = await call("/public/x", { "x-ficus-subject": "admin" });
    expect(spoof.body.headers).toEqual({});
  });

  test("no token: 401 with Bearer challenge; a token of another audience: invalid_token", async () => {
    const none = await call("/orders/1");
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe("FICUS_AUTH_MISSING");
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="ficus"');
    const kcToken = await keycloak.token();
    const other = await call("/orders/1", { authorization: `Bearer ${kcToken}` });
    expect(other.status).toBe(401);
    expect(other.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  test("the provider rotates its keys mid-test: Ficus refetches once and accepts the new kid; old tokens keep working while their key is published", async () => {
    const before = await clientCredentials();
    expect((await call("/orders/a", { authorization: `Bearer ${before}` })).status).toBe(200);
    // The rotated provider signs with op-2 and still publishes op-1 (the usual overlap).
    handler = provider([await privateJwk("op-2"), opKey1]);
    await Bun.sleep(550); // past refetch_interval
    const jwksBefore = jwksRequests;
    const after = await clientCredentials();
    expect(kidOf(after)).toBe("op-2");
    const res = await call("/orders/b", { authorization: `Bearer ${after}` });
    expect(res.status).toBe(200);
    expect(res.body.identity?.subject).toBe("orders-batch");
    expect(jwksRequests - jwksBefore).toBe(1);
    expect((await call("/orders/c", { authorization: `Bearer ${before}` })).status).toBe(200);
    // The new token again: from the cache, no more fetches.
    expect((await call("/orders/d", { authorization: `Bearer ${after}` })).status).toBe(200);
    expect(jwksRequests - jwksBefore).toBe(1);
  });
});

describe("Keycloak-shaped tokens", () => {
  test("realm roles and the client's roles become roles; the space-delimited scope becomes scopes", async () => {
    const token = await keycloak.token({ ...keycloakClaims("orders-api"), sub: "f3a1-user" });
    const res = await call("/kc/orders", { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(res.body.identity).toMatchObject({ subject: "f3a1-user", scopes: ["openid", "profile", "orders:read", "orders:write"], roles: ["offline_access", "uma_authorization", "staff", "order-admin"] });
    expect(res.body.headers).toEqual({ "x-ficus-subject": "f3a1-user", "x-ficus-roles": "offline_access,uma_authorization,staff,order-admin" });
  });

  test("over the wire: an oversized token, alg none, an expired token each get their code; metrics count them", async () => {
    const big = `${"a".repeat(5000)}.b.c`;
    const tooBig = await call("/kc/x", { authorization: `Bearer ${big}` });
    expect(tooBig.status).toBe(401);
    expect(tooBig.headers.get("www-authenticate")).toContain("larger than 4096 bytes");
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"x"}').toString("base64url")}.`;
    expect((await call("/kc/x", { authorization: `Bearer ${none}` })).body.error?.code).toBe("FICUS_AUTH_INVALID");
    const expired = await keycloak.token({ exp: Math.floor(Date.now() / 1000) - 120 });
    const e = await call("/kc/x", { authorization: `Bearer ${expired}` });
    expect(e.body.error?.code).toBe("FICUS_AUTH_EXPIRED");
    const counts = metrics.registry.json().find((m) => m.name === "ficus_auth_total")?.values ?? [];
    const n = (route: string, result: string) => counts.find((v) => v.labels.route === route && v.labels.result === result)?.value ?? 0;
    expect(n("kc", "invalid")).toBeGreaterThanOrEqual(2);
    expect(n("kc", "expired")).toBe(1);
    expect(n("orders", "ok")).toBeGreaterThanOrEqual(4);
  });
});
