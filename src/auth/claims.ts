/**
 * Verified JWT claims → Identity: the subject, scopes from a space-delimited
 * `scope` (RFC 8693 §4.2) or an `scp` array, roles from Keycloak's
 * `realm_access.roles` and `resource_access.<client>.roles` and any other
 * configured claim. Paths are split once at load; the mapping runs once per
 * token (its result is cached with the token).
 */
import type { Identity } from "./identity.ts";

/** How claims map to an identity (compiled from the policy's `jwt.identity`). */
export interface ClaimMapping {
  /** The subject claim's path, split on dots. */
  readonly subject: readonly string[];
  readonly scopes: readonly (readonly string[])[];
  readonly roles: readonly (readonly string[])[];
  /** Client ids whose resource_access.<client>.roles are roles too. */
  readonly clientRoles: readonly string[];
}

/** The value at a dotted path of claims, or undefined (own properties only: a claim named __proto__ is data). */
export function claimAt(claims: unknown, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const seg of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v) || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/** Adds a claim's strings: a string split on spaces (`split`) or whole, an array's string members. */
function addStrings(out: string[], seen: Set<string>, value: unknown, split: boolean): void {
  if (typeof value === "string") {
    for (const s of split ? value.split(" ") : [value]) {
      if (s !== "" && !seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
  } else if (Array.isArray(value)) {
    for (const s of value) {
      if (typeof s === "string" && s !== "" && !seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
  }
}

/** The identity of a verified token's claims, or a reason it has none (no subject). */
export function identityFromClaims(claims: Record<string, unknown>, m: ClaimMapping): Identity | string {
  const sub = claimAt(claims, m.subject);
  const subject = typeof sub === "string" ? sub : typeof sub === "number" && Number.isFinite(sub) ? String(sub) : "";
  if (subject === "") return `the token has no ${m.subject.join(".")} claim`;
  const scopes: string[] = [];
  const seenScopes = new Set<string>();
  for (const p of m.scopes) addStrings(scopes, seenScopes, claimAt(claims, p), true);
  const roles: string[] = [];
  const seenRoles = new Set<string>();
  for (const p of m.roles) addStrings(roles, seenRoles, claimAt(claims, p), false);
  for (const client of m.clientRoles) addStrings(roles, seenRoles, claimAt(claims, ["resource_access", client, "roles"]), false);
  const exp = claims.exp;
  const identity: Identity = {
    method: "jwt",
    subject,
    issuer: typeof claims.iss === "string" ? claims.iss : "",
    scopes: Object.freeze(scopes),
    roles: Object.freeze(roles),
    claims: deepFreeze(claims),
    ...(typeof exp === "number" && Number.isFinite(exp) ? { expiresAt: exp * 1000 } : {}),
  };
  return Object.freeze(identity);
}

/** Freezes a JSON value through and through: an identity is shared by every request presenting the same token. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}
