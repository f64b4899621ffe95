/**
 * JWT verification (RFC 7519, RFC 7515) with jose, for one policy's `jwt`.
 *
 * `check(token)` answers synchronously whenever it can: a token in the
 * verified cache (the steady state: a SHA-256 and a map lookup), and every
 * refusal that needs no signature check (too large, malformed, unsigned, an
 * algorithm not allowed, an unknown key while a refetch is not allowed).
 * Only a signature check, or a wait for the key set, returns a promise; that
 * promise never rejects.
 *
 * What is checked: the signature with a key of the JWK Set usable with the
 * token's algorithm (KeyStore: the key's type fixes its algorithms, so an
 * RS256 public key can never check an HS256 MAC), an allowlist of
 * asymmetric algorithms, `iss`, `aud`, and `exp` (required) and `nbf` with
 * the leeway.
 */
import { decodeProtectedHeader, errors, jwtVerify } from "jose";
import type { Identity } from "./identity.ts";
import { type ClaimMapping, identityFromClaims } from "./claims.ts";
import { AuthFailure } from "./failure.ts";
import type { KeyEntry, KeySourceSettings, KeyStore } from "./jwks.ts";
import type { JwtAlgorithm } from "./schema.ts";
import { TokenCache } from "./token-cache.ts";

/** A policy's JWT settings, compiled from its `jwt` block. */
export interface JwtSettings {
  /** Identifies these settings: a reload keeps the verifier (and its cache) of an unchanged policy. */
  readonly id: string;
  readonly keys: KeySourceSettings;
  readonly issuer: string | undefined;
  readonly audience: readonly string[] | undefined;
  readonly algorithms: readonly JwtAlgorithm[];
  /** ms */
  readonly leeway: number;
  readonly maxTokenSize: number;
  readonly cache: { readonly maxEntries: number; readonly maxTtl: number };
  readonly claims: ClaimMapping;
}

export type JwtOutcome = Identity | AuthFailure;

/** The compact serialization: three base64url parts, the signature not empty (an unsigned token has none). */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** An algorithm name safe to echo in a description. */
const ALG_NAME = /^[A-Za-z0-9]{1,12}$/;
/** Keys tried for a token without a kid. */
const MAX_CANDIDATES = 8;

const fail = (description: string, result: "invalid" | "expired" = "invalid") => new AuthFailure(result, description, "jwt");
const TOO_LARGE = (max: number) => fail(`the token is larger than ${max} bytes`);
const MALFORMED = fail("the token is not a signed JWT (three base64url parts)");
const BAD_HEADER = fail("the token header is not valid");
const UNSIGNED = fail("unsigned tokens (alg none) are not accepted");
const UNKNOWN_KEY = fail("the token is signed with an unknown key");
const BAD_SIGNATURE = fail("the token signature does not verify");
const NO_SUBJECT = fail("the token has no subject claim");

/** Maps a jose error to a refusal with a fixed description. */
function failureOf(err: unknown): AuthFailure {
  if (err instanceof errors.JWTExpired) return fail("the token expired", "expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "iss":
        return fail("the token is from another issuer");
      case "aud":
        return fail("the token is not meant for this audience");
      case "nbf":
        return fail("the token is not valid yet");
      case "exp":
        return fail(err.reason === "missing" ? "the token has no exp claim" : "the token exp claim is not valid");
      case "iat":
        return fail("the token iat claim is not valid");
      default:
        return fail("a token claim is not valid");
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return BAD_SIGNATURE;
  if (err instanceof errors.JOSEAlgNotAllowed) return fail("the token algorithm is not allowed");
  if (err instanceof errors.JOSENotSupported) return fail("the token uses an unsupported JOSE feature");
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return fail("the token is malformed");
  return fail("the token could not be verified");
}

export class JwtVerifier {
  readonly cache: TokenCache;
  private readonly allowed: ReadonlySet<string>;
  private readonly options: { issuer?: string; audience?: string[]; clockTolerance: number; requiredClaims: string[] };

  constructor(
    readonly settings: JwtSettings,
    readonly store: KeyStore,
    private readonly clock: () => number = Date.now,
  ) {
    this.cache = new TokenCache(settings.cache.maxEntries, settings.cache.maxTtl);
    this.allowed = new Set(settings.algorithms);
    this.options = {
      ...(settings.issuer !== undefined ? { issuer: settings.issuer } : {}),
      ...(settings.audience !== undefined ? { audience: [...settings.audience] } : {}),
      clockTolerance: settings.leeway / 1000,
      requiredClaims: ["exp"],
    };
  }

  /** The identity of a token, or why it is refused: synchronously when no signature check or key fetch is needed. */
  check(token: string): JwtOutcome | Promise<JwtOutcome> {
    if (token.length > this.settings.maxTokenSize) return TOO_LARGE(this.settings.maxTokenSize);
    const store = this.store;
    store.refreshIfStale();
    const hit = this.cache.get(token, this.clock());
    if (hit !== undefined) {
      if (hit.generation === store.generation) return hit.identity;
      if (store.hasId(hit.keyId)) {
        hit.generation = store.generation;
        return hit.identity;
      }
      this.cache.delete(token); // its key left the set: verify again (and fail)
    }
    if (!COMPACT.test(token)) return MALFORMED;
    let alg: unknown;
    let kid: unknown;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
    } catch {
      return BAD_HEADER;
    }
    if (typeof alg !== "string" || (kid !== undefined && typeof kid !== "string")) return BAD_HEADER;
    if (alg === "none") return UNSIGNED;
    if (!this.allowed.has(alg)) return fail(ALG_NAME.test(alg) ? `the token algorithm ${alg} is not allowed` : "the token algorithm is not allowed");
    const keys = this.candidates(kid, alg);
    if (keys !== undefined) return this.verify(token, alg, keys);
    // No key for it: fetch the set again, unless one was fetched too recently (kid floods stop here).
    const wait = store.refresh();
    if (wait === undefined) return store.loaded ? UNKNOWN_KEY : this.unavailable();
    return wait.then(() => {
      const again = this.candidates(kid, alg);
      if (again !== undefined) return this.verify(token, alg, again);
      return store.loaded ? UNKNOWN_KEY : this.unavailable();
    });
  }

  private unavailable(): AuthFailure {
    return new AuthFailure("unavailable", "the signing keys are unavailable", "jwt", Math.ceil(this.store.retryAfter() / 1000));
  }

  /** The keys to try: the kid's, or (no kid) those usable with alg; undefined when there is none. */
  private candidates(kid: string | undefined, alg: string): readonly KeyEntry[] | undefined {
    const found = this.store.find(kid, alg);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return [found as KeyEntry];
    return found.length > 0 ? found.slice(0, MAX_CANDIDATES) : undefined;
  }

  private async verify(token: string, alg: string, keys: readonly KeyEntry[]): Promise<JwtOutcome> {
    const generation = this.store.generation;
    let last: AuthFailure = BAD_SIGNATURE;
    for (const entry of keys) {
      const key = entry.byAlg.get(alg) as CryptoKey;
      let payload: Record<string, unknown>;
      const now = this.clock();
      try {
        ({ payload } = await jwtVerify(token, key, { ...this.options, algorithms: [alg], currentDate: new Date(now) }));
      } catch (err) {
        last = failureOf(err);
        if (last === BAD_SIGNATURE) continue; // another key without a kid may verify it
        return last;
      }
      const identity = identityFromClaims(payload, this.settings.claims);
      if (typeof identity === "string") return NO_SUBJECT;
      this.cache.set(token, identity, (payload.exp as number) * 1000 + this.settings.leeway, entry.id, generation, now);
      return identity;
    }
    return last;
  }
}
