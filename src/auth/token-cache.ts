/**
 * Verified tokens, remembered until they expire so the steady state of a JWT
 * route is one map lookup — no signature check, no promise. Keyed by the
 * token text itself: a hash short enough to be cheap could be forged to hit
 * another caller's entry, and a SHA-256 per request cost more than the rest
 * of the lookup (1.3 µs against 0.4 µs for a 1 KB token). The cost is that a
 * verified token stays in this process's memory until it expires (at most
 * cache.max_ttl); it is never written anywhere. Bounded: when full, the
 * oldest entry goes. An entry remembers the key that verified it, so a key
 * that leaves the JWK Set takes its tokens with it (checked when the set
 * changed, see JwtVerifier).
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
  get(token: string, now: number): CacheEntry | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    if (now >= e.until) {
      this.entries.delete(token);
      return undefined;
    }
    return e;
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  /** Remembers a verified token until `expiresAt` (exp plus leeway), at most maxTtl from now. */
  set(token: string, identity: Identity, expiresAt: number, keyId: string, generation: number, now: number): void {
    if (this.maxEntries === 0) return;
    const until = Math.min(expiresAt, now + this.maxTtl);
    if (until <= now) return;
    this.entries.delete(token);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(token, { identity, until, keyId, generation });
  }

  clear(): void {
    this.entries.clear();
  }
}
