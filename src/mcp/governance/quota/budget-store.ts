/**
 * Where budgets are counted: cost units spent per (endpoint, key, UTC day).
 *
 * - SqliteBudgetStore: a local SQLite file (WAL), shared by the gateway's
 *   workers and read by the admin API; one statement adds the cost only
 *   when the sum stays within the limit (atomic across processes). Past days
 *   are deleted when the file is opened.
 * - RedisBudgetStore: fleet-wide, one small script (GET, then INCRBY and
 *   PEXPIREAT at the day's end when within the limit), with a deadline per
 *   call (rate_limit.redis.timeout); while Redis is down, calls fail at once
 *   except one probe per rate_limit.redis.retry. Keys hold a SHA-256 of the
 *   budget key, never the raw value.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { RedisClient } from "bun";
import { storageKey } from "../../../ratelimit/keys.ts";

export interface SpendResult {
  /** The cost was added. */
  readonly ok: boolean;
  /** Units spent today: after this call when ok, before it when refused. */
  readonly used: number;
}

export interface BudgetStore {
  readonly kind: "sqlite" | "redis";
  /** Adds `cost` to the day's count of (endpoint, key) unless it would pass `limit`. Rejects when the store cannot answer. */
  spend(endpoint: string, key: string, day: string, cost: number, limit: number, resetAtMs: number): SpendResult | Promise<SpendResult>;
  /** Units spent by `key` on `day` at an endpoint (0 when none). */
  used(endpoint: string, key: string, day: string): number | Promise<number>;
  close(): void;
}

/** The UTC day of `ms` (YYYY-MM-DD) and when it ends (ms since the epoch). */
export function utcDay(ms: number): { day: string; endMs: number } {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return { day: new Date(start).toISOString().slice(0, 10), endMs: start + 86_400_000 };
}

export class SqliteBudgetStore implements BudgetStore {
  readonly kind = "sqlite";
  private readonly db: Database;
  private readonly spendQ;
  private readonly usedQ;

  constructor(
    readonly path: string,
    opts: { readonly readonly?: boolean; readonly now?: number } = {},
  ) {
    // "readonly": an existing file, only read (the admin API); opened read-write all the same, as a WAL file's readers need.
    if (opts.readonly === true) this.db = new Database(path);
    else {
      mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { create: true });
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec("PRAGMA synchronous = NORMAL");
    }
    this.db.exec("PRAGMA busy_timeout = 5000");
    if (opts.readonly !== true) {
      this.db.exec("CREATE TABLE IF NOT EXISTS budgets (endpoint TEXT NOT NULL, key TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (endpoint, key, day)) WITHOUT ROWID");
      this.db.query("DELETE FROM budgets WHERE day < ?1").run(utcDay(opts.now ?? Date.now()).day);
    }
    this.spendQ = opts.readonly === true
      ? undefined
      : this.db.query<{ used: number }, [string, string, string, number, number]>(
          "INSERT INTO budgets (endpoint, key, day, used) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (endpoint, key, day) DO UPDATE SET used = used + excluded.used WHERE budgets.used + excluded.used <= ?5 RETURNING used",
        );
    this.usedQ = this.db.query<{ used: number }, [string, string, string]>("SELECT used FROM budgets WHERE endpoint = ?1 AND key = ?2 AND day = ?3");
  }

  spend(endpoint: string, key: string, day: string, cost: number, limit: number): SpendResult {
    if (cost > limit) return { ok: false, used: this.used(endpoint, key, day) };
    const row = this.spendQ?.get(endpoint, key, day, cost, limit);
    if (row != null) return { ok: true, used: row.used };
    return { ok: false, used: this.used(endpoint, key, day) };
  }

  used(endpoint: string, key: string, day: string): number {
    return this.usedQ.get(endpoint, key, day)?.used ?? 0;
  }

  /** Every count of a day (the admin API without a principal), at most `max` rows. */
  day(day: string, max: number): { endpoint: string; key: string; used: number }[] {
    return this.db.query<{ endpoint: string; key: string; used: number }, [string, number]>("SELECT endpoint, key, used FROM budgets WHERE day = ?1 ORDER BY used DESC LIMIT ?2").all(day, max);
  }

  close(): void {
    this.db.close();
  }
}

/** Adds the cost within the limit; returns {1, used after} or {0, used before}. The key expires at the day's end. */
export const BUDGET_SCRIPT = `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if v + cost > tonumber(ARGV[2]) then return {0, v} end
v = redis.call('INCRBY', KEYS[1], cost)
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {1, v}`;

export interface RedisBudgetSettings {
  readonly url: string;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly retryMs: number;
}

export class RedisBudgetStore implements BudgetStore {
  readonly kind = "redis";
  private readonly client: RedisClient;
  private downUntil = 0;

  constructor(readonly settings: RedisBudgetSettings) {
    this.client = new RedisClient(settings.url, { connectionTimeout: Math.max(1, settings.timeoutMs), autoReconnect: true, enableOfflineQueue: false });
  }

  /** The Redis key of a budget: the prefix, endpoint and day, and the key's SHA-256 (no raw value reaches Redis). */
  redisKey(endpoint: string, key: string, day: string): string {
    return storageKey(this.settings.prefix, `mcp-budget/${endpoint}/${day}`, key);
  }

  async spend(endpoint: string, key: string, day: string, cost: number, limit: number, resetAtMs: number): Promise<SpendResult> {
    const r = (await this.send("EVAL", [BUDGET_SCRIPT, "1", this.redisKey(endpoint, key, day), String(cost), String(limit), String(resetAtMs)])) as unknown[];
    if (!Array.isArray(r) || r.length !== 2) throw new Error("Redis answered the budget script with an unexpected reply");
    return { ok: Number(r[0]) === 1, used: Number(r[1]) };
  }

  async used(endpoint: string, key: string, day: string): Promise<number> {
    const v = await this.send("GET", [this.redisKey(endpoint, key, day)]);
    return v == null ? 0 : Number(v);
  }

  private async send(cmd: string, args: string[]): Promise<unknown> {
    const now = performance.now();
    if (now < this.downUntil) throw new Error("Redis is down");
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const client = this.client;
      const work = client.connected ? client.send(cmd, args) : client.connect().then(() => client.send(cmd, args));
      // Its outcome past the deadline is ignored (never an unhandled rejection).
      work.catch(() => undefined);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
      });
      const v = await Promise.race([work, deadline]);
      return v;
    } catch (err) {
      this.downUntil = performance.now() + this.settings.retryMs;
      throw err;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  close(): void {
    this.client.close();
  }
}
