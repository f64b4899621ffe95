/**
 * The demo's token issuer: a tiny OAuth 2.0 authorization server on 127.0.0.1, enough for the gateway to
 * verify tokens offline. `bun demo/issuer/server.ts [PORT]` prints {"port":N,"issuer":URL}.
 *
 * - A fresh RS256 key pair per run (never a key on disk), its public half served as a JWK Set.
 * - GET  /.well-known/openid-configuration   discovery: issuer, jwks_uri, token_endpoint
 * - GET  /jwks.json                          the JWK Set
 * - POST /token                              the client-credentials grant (RFC 6749 §4.4): client id and secret
 *                                            by HTTP Basic or in the form; `scope` asks for a subset of the
 *                                            client's scopes (default: all of them). Answers an access token,
 *                                            a JWT with iss, sub (the client id), aud, exp and scope.
 *
 * One client, `demo-client` / `demo-secret`, allowed `orders:read orders:write`. Demo credentials, printed by
 * the demo: this stands in for Keycloak or any OpenID Provider, it is not one.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

const AUDIENCE = "ficus-demo";
const TOKEN_TTL_S = 3600;
const CLIENTS: Record<string, { secret: string; scopes: readonly string[] }> = {
  "demo-client": { secret: "demo-secret", scopes: ["orders:read", "orders:write"] },
};

const { publicKey, privateKey } = await generateKeyPair("RS256");
const jwk = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(jwk);
const jwks = { keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] };

const digest = (s: string) => createHash("sha256").update(s).digest();
/** The client whose id and secret these are, or undefined; secrets compared by digest in constant time. */
function client(id: string, secret: string) {
  const c = Object.hasOwn(CLIENTS, id) ? CLIENTS[id] : undefined;
  const ok = timingSafeEqual(digest(secret), digest(c?.secret ?? "\0no client"));
  return c && ok ? c : undefined;
}

/** An OAuth error answer (RFC 6749 §5.2). */
const oauthError = (status: number, error: string, description: string, headers: Record<string, string> = {}) =>
  Response.json({ error, error_description: description }, { status, headers: { "cache-control": "no-store", ...headers } });

async function token(req: Request, issuer: string): Promise<Response> {
  if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return oauthError(400, "invalid_request", "send the parameters as application/x-www-form-urlencoded");
  }
  const form = new URLSearchParams(await req.text());
  if (form.get("grant_type") !== "client_credentials") return oauthError(400, "unsupported_grant_type", "only grant_type=client_credentials");
  let id = form.get("client_id") ?? "";
  let secret = form.get("client_secret") ?? "";
  const basic = /^basic\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
  if (basic) {
    // RFC 6749 §2.3.1: the id and secret are form-encoded, then joined by ":" and base64-encoded.
    const pair = Buffer.from(basic[1] as string, "base64").toString();
    const colon = pair.indexOf(":");
    try {
      id = decodeURIComponent(pair.slice(0, colon).replaceAll("+", " "));
      secret = decodeURIComponent(pair.slice(colon + 1).replaceAll("+", " "));
    } catch {
      id = secret = "";
    }
  }
  const c = client(id, secret);
  if (!c) return oauthError(401, "invalid_client", "unknown client or wrong secret", { "www-authenticate": 'Basic realm="ficus-demo-issuer"' });
  const asked = (form.get("scope") ?? "").split(" ").filter((s) => s !== "");
  const unknown = asked.filter((s) => !c.scopes.includes(s));
  if (unknown.length > 0) return oauthError(400, "invalid_scope", `not allowed for this client: ${unknown.join(" ")}`);
  const scope = (asked.length > 0 ? asked : c.scopes).join(" ");
  const accessToken = await new SignJWT({ scope, client_id: id })
    .setProtectedHeader({ alg: "RS256", kid, typ: "at+jwt" })
    .setIssuer(issuer)
    .setSubject(id)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_S}s`)
    .setJti(crypto.randomUUID())
    .sign(privateKey);
  return Response.json({ access_token: accessToken, token_type: "Bearer", expires_in: TOKEN_TTL_S, scope }, { headers: { "cache-control": "no-store" } });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  routes: {
    "/.well-known/openid-configuration": () =>
      Response.json({
        issuer: issuerUrl,
        jwks_uri: `${issuerUrl}/jwks.json`,
        token_endpoint: `${issuerUrl}/token`,
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["orders:read", "orders:write"],
      }),
    "/jwks.json": () => Response.json(jwks),
    "/token": { POST: (req) => token(req, issuerUrl) },
  },
  fetch: () => Response.json({ error: "not found" }, { status: 404 }),
});
const issuerUrl: string = `http://127.0.0.1:${server.port}`;

console.log(JSON.stringify({ port: server.port, issuer: issuerUrl }));
