/**
 * A minimal identity provider for tests: an RS256 key made at test time, its
 * JWK Set served on 127.0.0.1 (requests counted), and tokens signed with it
 * for the issuer https://idp.test and the audience "orders" unless told
 * otherwise. For the full OpenID Provider, see test/integration/auth-oidc.test.ts.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export interface TestIdp {
  /** The JWK Set's URL. */
  readonly jwksUrl: string;
  /** Requests the JWK Set has answered. */
  readonly hits: () => number;
  /** A token for `sub` with these claims (exp "5m" unless given). */
  sign(sub: string, claims?: Record<string, unknown>, opts?: { exp?: string; kid?: string; issuer?: string; audience?: string }): Promise<string>;
  stop(): void;
}

export async function startTestIdp(): Promise<TestIdp> {
  const keys = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  let hits = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      hits++;
      return Response.json({ keys: [jwk] });
    },
  });
  return {
    jwksUrl: `http://127.0.0.1:${server.port}/jwks`,
    hits: () => hits,
    sign: (sub, claims = {}, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: opts.kid ?? "k1" })
        .setIssuer(opts.issuer ?? "https://idp.test")
        .setAudience(opts.audience ?? "orders")
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? "5m")
        .sign(keys.privateKey),
    stop: () => server.stop(true),
  };
}
