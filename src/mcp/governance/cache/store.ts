/**
 * Where cached tool results live. The memory store keeps them per process
 * in one Map used as an LRU list (a hit moves its entry to the end; the
 * oldest go first), bounded by a count and by bytes (each entry's JSON and
 * key), each entry expiring at its own TTL. The Redis store (redis-store.ts)
 * shares them across a fleet. Both drop a source's entries when its tool
 * list changes.
 */
import type { CallToolResult } from "../../types.ts";

/** A cached result: the result as the tool answered it, and when it was stored (ms since the epoch). */
export interface CachedResult {
  readonly result: CallToolResult;
  readonly storedAt: number;
}

export interface CacheStore {
  /** The live entry of a key, or undefined (a Redis store that fails or is slow answers undefined: a miss). */
  get(key: string, source: string, now: number): CachedResult | undefined | Promise<CachedResult | undefined>;
  /** Keeps a result; `json` is its JSON, `bytes` its size (already checked against max_entry_bytes). Never throws. */
  set(key: string, source: string, result: CallToolResult, json: string, bytes: number, ttlMs: number, now: number): void;
  /** Drops every entry of a source (its tool list changed). */
  dropSource(source: string): void;
  close(): void;
}

interface Entry extends CachedResult {
  readonly source: string;
  readonly expiresAt: number;
  readonly bytes: number;
}

export interface MemoryLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export class MemoryStore implements CacheStore {
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  /** Entries dropped to stay within the bounds. */
  evictions = 0;

  constructor(private readonly limits: MemoryLimits) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes accounted: each entry's result JSON and key. */
  get bytes(): number {
    return this.used;
  }

  get(key: string, _source: string, now: number): CachedResult | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= now) {
      this.used -= e.bytes;
      return undefined;
    }
    this.entries.set(key, e); // now the most recently used
    return e;
  }

  set(key: string, source: string, result: CallToolResult, _json: string, bytes: number, ttlMs: number, now: number): void {
    const size = bytes + key.length * 2;
    if (size > this.limits.maxBytes) return;
    const prev = this.entries.get(key);
    if (prev !== undefined) {
      this.entries.delete(key);
      this.used -= prev.bytes;
    }
    this.entries.set(key, { result, storedAt: now, source, expiresAt: now + ttlMs, bytes: size });
    this.used += size;
    if (this.entries.size > this.limits.maxEntries || this.used > this.limits.maxBytes) this.evict();
  }

  /** Drops the least recently used entries (the Map's first keys, O(1) each) until within both bounds. */
  private evict(): void {
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.used <= this.limits.maxBytes) break;
      this.entries.delete(k);
      this.used -= e.bytes;
      this.evictions++;
    }
  }

  dropSource(source: string): void {
    for (const [k, e] of this.entries) {
      if (e.source !== source) continue;
      this.entries.delete(k);
      this.used -= e.bytes;
    }
  }

  close(): void {
    this.entries.clear();
    this.used = 0;
  }
}
