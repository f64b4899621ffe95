/**
 * A test identity provider: signing keys made in the test (jose), a JWK Set
 * and a discovery document served on 127.0.0.1:0 by a real HTTP server that
 * counts its requests and can be made to fail or hang, and tokens signed
 * with any of its keys (Keycloak's claim layout when asked).
 */
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import type { Server } from "bun";

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: Record<string, unknown>;
}

export async function makeKey(kid: string, alg = "RS256"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: "sig" } };
}

export type Mode = "ok" | "down" | "hang" | "garbage";

export class TestIdp {
  keys: TestKey[] = [];
  mode: Mode = "ok";
  jwksRequests = 0;
  discoveryRequests = 0;
  private readonly server: Server<undefined>;
  readonly url: string;

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const path = new URL(req.url).pathname;
        if (path.endsWith("/.well-known/openid-configuration")) {
          this.discoveryRequests++;
          if (this.mode === "down") return new Response("down", { status: 503 });
          return Response.json({ issuer: this.url, jwks_uri: `${this.url}/jwks`, token_endpoint: `${this.url}/token` });
        }
        if (path === "/jwks") {
          this.jwksRequests++;
          if (this.mode === "down") return new Response("down", { status: 503 });
          if (this.mode === "hang") await new Promise(() => undefined);
          if (this.mode === "garbage") return new Response("{not json", { headers: { "content-type": "application/json" } });
          return Response.json({ keys: this.keys.map((k) => k.publicJwk) });
        }
        return new Response("not found", { status: 404 });
      },
    });
    this.url = `http://127.0.0.1:${this.server.port}`;
  }

  get jwksUrl(): string {
    return `${this.url}/jwks`;
  }

  /** A token signed by `key` (default: the first key), iss this IdP, aud orders-api, exp in 5 min unless given. */
  async token(claims: JWTPayload = {}, key: TestKey = this.keys[0] as TestKey, header: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.url, aud: "orders-api", sub: "alice", iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
      .sign(key.privateKey);
  }

  stop(): void {
    this.server.stop(true);
  }
}

/** Keycloak's access-token layout: realm roles, client roles, a space-delimited scope, azp, preferred_username. */
export function keycloakClaims(client = "orders-api"): JWTPayload {
  return {
    typ: "Bearer",
    azp: "orders-web",
    preferred_username: "alice",
    scope: "openid profile orders:read orders:write",
    realm_access: { roles: ["offline_access", "uma_authorization", "staff"] },
    resource_access: { [client]: { roles: ["order-admin"] }, account: { roles: ["manage-account"] } },
    sid: "4c2b-session",
    email_verified: true,
  };
}

/** Signs any header and payload as given (jose refuses to sign some of the headers tests need, e.g. unknown crit). */
export async function rawSign(header: Record<string, unknown>, payload: Record<string, unknown>, key: TestKey): Promise<string> {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${enc(header)}.${enc(payload)}`;
  const sig = await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, key.privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(sig).toString("base64url")}`;
}
