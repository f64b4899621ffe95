/** The simple rules of a route's authz (scopes: all of; roles: any of; claims: equal or in, list claims by membership), table-driven, through the layer. */
import { afterAll, describe, expect, test } from "bun:test";
import type { Identity } from "../../../src/auth/identity.ts";
import { ANONYMOUS } from "../../../src/auth/identity.ts";
import { body, exchange, field, harness, identity, settings } from "./helpers.ts";

const keycloak = identity({
  scopes: ["orders:read", "orders:write", "profile"],
  roles: ["user", "ops"],
  claims: {
    sub: "alice",
    realm_access: { roles: ["user", "ops"] },
    resource_access: { orders: { roles: ["editor"] } },
    org: { id: "acme", tier: 2, active: true },
    "https://acme.example/claims": { tenant: "t-1" },
    email_verified: true,
  },
});

interface Case {
  readonly name: string;
  readonly authz: Record<string, unknown>;
  readonly who: Identity | undefined;
  readonly allow: boolean;
  readonly message?: string;
}

const CASES: readonly Case[] = [
  { name: "one scope held", authz: { scopes: ["orders:write"] }, who: keycloak, allow: true },
  { name: "every scope held", authz: { scopes: ["orders:read", "orders:write"] }, who: keycloak, allow: true },
  { name: "one scope of two missing", authz: { scopes: ["orders:write", "orders:admin"] }, who: keycloak, allow: false, message: 'missing scope "orders:admin"' },
  { name: "a scope is not a prefix match", authz: { scopes: ["orders"] }, who: keycloak, allow: false },
  { name: "one role of several", authz: { roles: ["admin", "ops"] }, who: keycloak, allow: true },
  { name: "no role of the list", authz: { roles: ["admin", "auditor"] }, who: keycloak, allow: false, message: "needs one of the roles admin, auditor" },
  { name: "claim equals (nested string)", authz: { claims: [{ claim: "org.id", equals: "acme" }] }, who: keycloak, allow: true },
  { name: "claim equals a number", authz: { claims: [{ claim: "org.tier", equals: 2 }] }, who: keycloak, allow: true },
  { name: "claim equals: a number is not its text", authz: { claims: [{ claim: "org.tier", equals: "2" }] }, who: keycloak, allow: false },
  { name: "claim equals a boolean", authz: { claims: [{ claim: "email_verified", equals: true }] }, who: keycloak, allow: true },
  { name: "claim differs", authz: { claims: [{ claim: "org.id", equals: "globex" }] }, who: keycloak, allow: false, message: "claim org.id does not allow this request" },
  { name: "claim in a set", authz: { claims: [{ claim: "org.id", in: ["globex", "acme"] }] }, who: keycloak, allow: true },
  { name: "claim not in the set", authz: { claims: [{ claim: "org.id", in: ["globex", "initech"] }] }, who: keycloak, allow: false },
  { name: "list claim holds the value (realm_access.roles)", authz: { claims: [{ claim: "realm_access.roles", equals: "ops" }] }, who: keycloak, allow: true },
  { name: "list claim holds one of the set", authz: { claims: [{ claim: "resource_access.orders.roles", in: ["admin", "editor"] }] }, who: keycloak, allow: true },
  { name: "list claim holds none", authz: { claims: [{ claim: "realm_access.roles", in: ["admin"] }] }, who: keycloak, allow: false },
  { name: "a key holding dots, as a list", authz: { claims: [{ claim: ["https://acme.example/claims", "tenant"], equals: "t-1" }] }, who: keycloak, allow: true },
  { name: "missing claim", authz: { claims: [{ claim: "org.region", equals: "eu" }] }, who: keycloak, allow: false },
  { name: "path through a scalar", authz: { claims: [{ claim: "org.id.x", equals: "acme" }] }, who: keycloak, allow: false },
  { name: "an object claim never equals", authz: { claims: [{ claim: "org", equals: "acme" }] }, who: keycloak, allow: false },
  { name: "inherited properties are not claims", authz: { claims: [{ claim: "constructor.name", equals: "Object" }] }, who: keycloak, allow: false },
  { name: "scopes, roles and claims together", authz: { scopes: ["profile"], roles: ["user"], claims: [{ claim: "org.id", equals: "acme" }] }, who: keycloak, allow: true },
  { name: "all must hold: the claim fails", authz: { scopes: ["profile"], roles: ["user"], claims: [{ claim: "org.id", equals: "x" }] }, who: keycloak, allow: false },
  { name: "no identity (no auth layer) lacks the scope", authz: { scopes: ["profile"] }, who: undefined, allow: false },
  { name: "anonymous lacks the role", authz: { roles: ["user"] }, who: ANONYMOUS, allow: false },
  { name: "roles: an empty identity", authz: { roles: ["user"] }, who: identity(), allow: false },
];

describe("simple rules", () => {
  const routes = Object.fromEntries(CASES.map((c, i) => [`r${i}`, c.authz]));
  const h = harness(settings(routes));
  afterAll(() => h.close());

  for (const [i, c] of CASES.entries()) {
    test(c.name, () => {
      const ex = exchange({ route: `r${i}`, identity: c.who });
      const reply = h.run(ex);
      if (c.allow) {
        expect(reply).toBeUndefined();
        expect(ex.decision).toBe("allow");
        return;
      }
      expect(reply?.status).toBe(403);
      const b = body(reply as NonNullable<typeof reply>);
      expect(b.error.code).toBe("FICUS_AUTHZ_DENIED");
      expect(b.error.request_id).toBe("req-1");
      if (c.message) expect(b.error.message).toBe(c.message);
      expect(ex.decision).toBe("deny");
      expect(ex.error).toBe("FICUS_AUTHZ_DENIED");
    });
  }

  test("a JWT lacking a scope gets RFC 6750's insufficient_scope challenge; an API key does not", () => {
    const s = harness(settings({ orders: { scopes: ["orders:write", "orders:read"] } }));
    const jwt = s.run(exchange({ identity: identity({ scopes: ["orders:read"] }) }));
    expect(field(jwt?.fields ?? [], "www-authenticate")).toBe('Bearer error="insufficient_scope", scope="orders:write orders:read"');
    const key = s.run(exchange({ identity: identity({ method: "api_key" }) }));
    expect(key?.status).toBe(403);
    expect(field(key?.fields ?? [], "www-authenticate")).toBeUndefined();
    s.close();
  });

  test("routes without authz, and exchanges without a route, pass untouched", () => {
    const ex = exchange({ route: "elsewhere" });
    expect(h.run(ex)).toBeUndefined();
    expect(ex.decision).toBeUndefined();
    const none = exchange();
    none.route = undefined;
    expect(h.run(none)).toBeUndefined();
  });
});
