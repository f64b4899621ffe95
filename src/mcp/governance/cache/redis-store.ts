/**
 * Cached tool results shared by a fleet, in Redis through Bun's built-in
 * client. A key is `<prefix><source>:<SHA-256 of the cache key>` (the source
 * in clear so its entries can be dropped with one SCAN when its tool list
 * changes); a value is JSON `{"t": storedAt, "r": result}` set with PX (the
 * tool's TTL), so Redis expires it.
 *
 * Redis never fails a call: a read that errs or misses its deadline is a
 * miss, a write that fails is forgotten. The first failure marks the store
 * down and is logged once (and again when it is back); while down, calls do
 * not wait for Redis, and one read per `retryMs` probes it (reconnecting).
 */
import { RedisClient } from "bun";
import { createHash } from "node:crypto";
import type { CallToolResult } from "../../types.ts";
import type { CachedResult, CacheStore } from "./store.ts";

export interface RedisCacheSettings {
  readonly url: string;
  readonly prefix: string;
  /** Deadline of one read (connecting included), ms. */
  readonly timeoutMs: number;
  /** While down, one read per this many ms probes Redis. */
  readonly retryMs: number;
}

export class RedisCacheStore implements CacheStore {
  private client: RedisClient;
  private connecting: Promise<void> | undefined;
  private up = true;
  private nextProbe = 0;
  private closed = false;

  constructor(
    private readonly settings: RedisCacheSettings,
    /** Hears each change of state once: down (with why) and back up. */
    private readonly onState: (up: boolean, reason: string) => void,
  ) {
    this.client = this.newClient();
    this.connect().catch(() => undefined);
  }

  private newClient(): RedisClient {
    return new RedisClient(this.settings.url, {
      connectionTimeout: Math.max(this.settings.timeoutMs, 1),
      autoReconnect: false, // the probe reconnects, within a read's deadline
      enableOfflineQueue: false,
      enableAutoPipelining: true,
    });
  }

  private connect(): Promise<void> {
    if (this.connecting === undefined) {
      const p = this.client.connect().finally(() => {
        if (this.connecting === p) this.connecting = undefined;
      });
      this.connecting = p;
    }
    return this.connecting;
  }

  /** The Redis key of a cache key. */
  redisKey(key: string, source: string): string {
    return `${this.settings.prefix}${source}:${createHash("sha256").update(key).digest("hex")}`;
  }

  /** Whether a call may go to Redis now (up, or down and due for a probe). */
  private usable(): boolean {
    if (this.closed) return false;
    if (this.up) return true;
    const now = performance.now();
    if (now < this.nextProbe) return false;
    this.nextProbe = now + this.settings.retryMs;
    return true;
  }

  async get(key: string, source: string, now: number): Promise<CachedResult | undefined> {
    if (!this.usable()) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let text: string | null;
    try {
      const read = (async () => {
        if (!this.client.connected) await this.connect();
        return this.client.get(this.redisKey(key, source));
      })();
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
      });
      text = await Promise.race([read, deadline]);
      this.markUp();
    } catch (err) {
      this.markDown(err);
      return undefined;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (text === null || text === undefined) return undefined;
    return parseValue(text, now);
  }

  set(key: string, source: string, _result: CallToolResult, json: string, _bytes: number, ttlMs: number, now: number): void {
    if (this.closed || !this.up || !this.client.connected) return;
    const value = `{"t":${now},"r":${json}}`;
    this.client.send("SET", [this.redisKey(key, source), value, "PX", String(Math.max(1, Math.round(ttlMs)))]).catch((err: unknown) => this.markDown(err));
  }

  /** Drops a source's entries: SCAN for its keys, UNLINK them (in the background; failures are logged once). */
  dropSource(source: string): void {
    if (this.closed) return;
    void this.scanAndUnlink(`${this.settings.prefix}${source}:*`).catch((err: unknown) => this.markDown(err));
  }

  private async scanAndUnlink(pattern: string): Promise<void> {
    if (!this.client.connected) await this.connect();
    let cursor = "0";
    do {
      const reply = (await this.client.send("SCAN", [cursor, "MATCH", pattern, "COUNT", "1000"])) as [string, string[]];
      cursor = String(reply[0]);
      const keys = reply[1];
      if (keys.length > 0) await this.client.send("UNLINK", keys);
    } while (cursor !== "0" && !this.closed);
  }

  private markUp(): void {
    if (this.up) return;
    this.up = true;
    this.onState(true, "");
  }

  private markDown(err: unknown): void {
    if (this.closed) return;
    // A connection that failed or hangs is replaced, so the next probe starts afresh.
    const old = this.client;
    this.client = this.newClient();
    this.connecting = undefined;
    old.close();
    if (!this.up) return;
    this.up = false;
    this.nextProbe = performance.now() + this.settings.retryMs;
    this.onState(false, err instanceof Error ? err.message : String(err));
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }
}

/** A stored value, or undefined when it is not one (written by something else): a miss. */
function parseValue(text: string, now: number): CachedResult | undefined {
  let v: { t?: unknown; r?: unknown };
  try {
    v = JSON.parse(text) as { t?: unknown; r?: unknown };
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object" || typeof v.t !== "number" || v.r === null || typeof v.r !== "object" || !Array.isArray((v.r as CallToolResult).content)) return undefined;
  return { result: v.r as CallToolResult, storedAt: Math.min(v.t, now) };
}
