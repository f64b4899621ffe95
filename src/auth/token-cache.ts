/**
 * Verified tokens, remembered until they expire so the steady state of a JWT
 * route is one SHA-256 and one map lookup — no signature check, no promise.
 * Keyed by the token's SHA-256 (a collision-free stand-in: a 64-bit hash
 * could be forged to hit another caller's entry); the token itself is never
 * stored. Bounded: when full, the oldest entry goes. An entry remembers the
 * key that verified it, so a key that leaves the JWK Set takes its tokens
 * with it (checked when the set changed, see JwtVerifier).
 */
import type { Identity } from "./identity.ts";

export interface CacheEntry {
  readonly identity: Identity;
  /** ms since the epoch after which the entry is stale. */
  readonly until: number;
  /** The id of the key that verified the token (KeyEntry.id). */
  readonly keyId: string;
  /** The key set generation last seen to still hold keyId. */
  generation: number;
}

/** The cache key of a token: its SHA-256, base64. */
export function tokenHash(token: string): string {
  return Bun.CryptoHasher.hash("sha256", token, "base64");
}

export class TokenCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxTtl: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry of a verified token still valid at `now`, or undefined. */
  get(hash: string, now: number): CacheEntry | undefined {
    const e = this.entries.get(hash);
    if (e === undefined) return undefined;
    if (now >= e.until) {
      this.entries.delete(hash);
      return undefined;
    }
    return e;
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }

  /** Remembers a verified token until `expiresAt` (exp plus leeway), at most maxTtl from now. */
  set(hash: string, identity: Identity, expiresAt: number, keyId: string, generation: number, now: number): void {
    if (this.maxEntries === 0) return;
    const until = Math.min(expiresAt, now + this.maxTtl);
    if (until <= now) return;
    this.entries.delete(hash);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { identity, until, keyId, generation });
  }

  clear(): void {
    this.entries.clear();
  }
}
