/**
 * The decision for one request under its route's limits: every limit must
 * admit. Local limits are decided first, synchronously (peek all, then
 * record all, so a refusal by one costs nothing under the others); the
 * request's Redis limits then go in one atomic call, and when Redis refuses
 * the local admissions are given back. A Redis failure makes each Redis limit
 * fail open or closed as configured.
 *
 * The outcome names the limit that refused (the one that frees up last), or
 * on admission the tightest one (fewest requests left; ties: the later
 * reset), for the RateLimit field.
 */
import type { LimitResult } from "./metrics.ts";
import { LocalStore } from "./local-store.ts";
import { remainingAfter, type GcraParams, type GcraResult } from "./gcra.ts";
import { localKey, storageKey } from "./keys.ts";
import type { RedisStore } from "./redis-store.ts";
import type { LimitSettings, RouteLimitSettings } from "./settings.ts";

export interface Outcome {
  readonly kind: "admitted" | "limited" | "unavailable";
  /** The refusing limit, or the tightest admitting one (undefined when no limit applied). */
  readonly limit: LimitSettings | undefined;
  /** Requests left under `limit` (0 when refused). */
  readonly remaining: number;
  /** ms until `limit`'s burst is whole again (admitted), or until a request would be admitted (limited). */
  readonly resetMs: number;
}

/** A limit ready for the request path: its local store (local limits) and its bound counters. */
export interface PreparedLimit {
  readonly limit: LimitSettings;
  readonly store: LocalStore | undefined;
  readonly count: Record<LimitResult, { inc(): void }> | undefined;
  /** Redis limits: the Redis key of each recent request key (hashing is the costly part of a check's preparation). */
  readonly redisKeys: RedisKeyCache | undefined;
}

/** Recent request keys → their Redis keys under one prefix; forgets everything past a bound (no per-key bookkeeping). */
class RedisKeyCache {
  private readonly map = new Map<string, string>();
  private prefix = "";
  constructor(private readonly limitId: string) {}
  get(prefix: string, key: string): string {
    if (prefix !== this.prefix) {
      this.map.clear();
      this.prefix = prefix;
    }
    let k = this.map.get(key);
    if (k === undefined) {
      k = storageKey(prefix, this.limitId, key);
      if (this.map.size >= REDIS_KEY_CACHE) this.map.clear();
      this.map.set(key, k);
    }
    return k;
  }
}

/** Entries of one Redis limit's key cache. */
const REDIS_KEY_CACHE = 4096;

export interface PreparedRoute {
  readonly settings: RouteLimitSettings;
  readonly local: readonly PreparedLimit[];
  readonly remote: readonly PreparedLimit[];
}

export interface LimiterOptions {
  readonly redis: RedisStore | undefined;
  /** Redis key prefix. */
  readonly prefix: string;
  /** Bound of each local limit's key map. */
  readonly maxKeys: number;
  /** Monotonic ms (performance.now by default). */
  readonly now?: () => number;
  /** Counters for a route's limit (RateLimitMetrics.bind), or none. */
  readonly bind?: (route: string, limit: string) => Record<LimitResult, { inc(): void }>;
  /** A live local key was evicted (the store was full). */
  readonly onEvict?: (limit: string) => void;
}

const NONE: Outcome = Object.freeze({ kind: "admitted", limit: undefined, remaining: 0, resetMs: 0 });
const identity = (o: Outcome): Outcome => o;

export class Limiter {
  /** Local stores by limit id and parameters: a reload that keeps a limit keeps its counts. */
  private stores = new Map<string, LocalStore>();
  private readonly now: () => number;
  private redisStore: RedisStore | undefined;
  private prefix: string;
  private maxKeys: number;

  constructor(private readonly opts: LimiterOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.redisStore = opts.redis;
    this.prefix = opts.prefix;
    this.maxKeys = opts.maxKeys;
  }

  get redis(): RedisStore | undefined {
    return this.redisStore;
  }

  /** After a reload: the Redis store (the caller closes the one it replaces), the key prefix and the local bound. */
  configure(redis: RedisStore | undefined, prefix: string, maxKeys: number): void {
    this.redisStore = redis;
    this.prefix = prefix;
    this.maxKeys = maxKeys;
  }

  /** Prepares every route of a settings set; local stores no longer used are dropped. */
  prepareAll(routes: Iterable<RouteLimitSettings>): Map<string, PreparedRoute> {
    const before = this.stores;
    this.stores = new Map();
    const out = new Map<string, PreparedRoute>();
    for (const rs of routes) out.set(rs.route, this.prepare(rs, before));
    return out;
  }

  prepare(rs: RouteLimitSettings, previous: ReadonlyMap<string, LocalStore> = this.stores): PreparedRoute {
    const local: PreparedLimit[] = [];
    const remote: PreparedLimit[] = [];
    for (const limit of rs.limits) {
      const count = this.opts.bind?.(rs.route, limit.name);
      if (limit.backend === "redis") {
        remote.push({ limit, store: undefined, count, redisKeys: new RedisKeyCache(limit.id) });
        continue;
      }
      const id = `${limit.id}|${limit.local.interval}|${limit.local.tolerance}|${this.maxKeys}`;
      let store = this.stores.get(id) ?? previous.get(id);
      if (store === undefined) {
        const onEvict = this.opts.onEvict;
        store = new LocalStore(limit.local, this.maxKeys, onEvict ? () => onEvict(limit.name) : undefined);
      }
      this.stores.set(id, store);
      local.push({ limit, store, count, redisKeys: undefined });
    }
    return { settings: rs, local, remote };
  }

  /**
   * Decides for a request whose keys (one per limit, in `local` then `remote` order; undefined when a key part
   * is absent) are given.
   */
  decide(pr: PreparedRoute, localKeys: readonly (string | undefined)[], remoteKeys: readonly (string | undefined)[]): Outcome | Promise<Outcome> {
    return this.decideThen(pr, localKeys, remoteKeys, identity);
  }

  /** As `decide`, handing the outcome to `then` (at once, or when Redis answers: one promise per request, no chain). */
  decideThen<T>(pr: PreparedRoute, localKeys: readonly (string | undefined)[], remoteKeys: readonly (string | undefined)[], then: (o: Outcome) => T): T | Promise<T> {
    const now = this.now();
    let tight: Outcome = NONE;
    // Local: peek every limit; refuse if any refuses (nothing recorded); else record all.
    const local = pr.local;
    let peeked: (GcraResult | undefined)[] | undefined;
    let refused: Outcome | undefined;
    for (let i = 0; i < local.length; i++) {
      const l = local[i] as PreparedLimit;
      const key = keyFor(l.limit, localKeys[i]);
      if (key === undefined) continue;
      const r = (l.store as LocalStore).peek(localKey(key), now);
      (peeked ??= [])[i] = r;
      if (!r.admitted) {
        l.count?.limited.inc();
        if (refused === undefined || r.retryAfter > refused.resetMs) refused = { kind: "limited", limit: l.limit, remaining: 0, resetMs: r.retryAfter };
      }
    }
    if (refused !== undefined) return then(refused);
    if (peeked !== undefined) {
      for (let i = 0; i < local.length; i++) {
        const r = peeked[i];
        if (r === undefined) continue;
        const l = local[i] as PreparedLimit;
        (l.store as LocalStore).commit(localKey(keyFor(l.limit, localKeys[i]) as string), r.tat, now);
        tight = tighter(tight, l.limit, r.remaining, r.reset);
      }
    }
    const remote = pr.remote;
    if (remote.length === 0) {
      if (peeked !== undefined) for (let i = 0; i < local.length; i++) if (peeked[i] !== undefined) local[i]?.count?.admitted.inc();
      return then(tight);
    }
    const used: PreparedLimit[] = [];
    const keys: string[] = [];
    const params: GcraParams[] = [];
    for (let i = 0; i < remote.length; i++) {
      const l = remote[i] as PreparedLimit;
      const key = keyFor(l.limit, remoteKeys[i]);
      if (key === undefined) continue;
      used.push(l);
      keys.push((l.redisKeys as RedisKeyCache).get(this.prefix, key));
      params.push(l.limit.remote);
    }
    if (used.length === 0) return then(this.admitLocal(pr, peeked, tight));
    const redis = this.redisStore;
    if (redis === undefined) return then(this.remoteFailed(pr, localKeys, peeked, used, tight, now));
    return redis.checkThen(
      keys,
      params,
      ({ ok, values }) => {
        if (!ok) {
          this.refund(pr, localKeys, peeked, now);
          let worst: Outcome | undefined;
          for (let i = 0; i < used.length; i++) {
            const v = values[i] as number;
            if (v >= 0) continue;
            const l = used[i] as PreparedLimit;
            l.count?.limited.inc();
            const ms = -v / 1000;
            if (worst === undefined || ms > worst.resetMs) worst = { kind: "limited", limit: l.limit, remaining: 0, resetMs: ms };
          }
          return then(worst as Outcome);
        }
        let t = tight;
        for (let i = 0; i < used.length; i++) {
          const l = used[i] as PreparedLimit;
          const ahead = values[i] as number;
          l.count?.admitted.inc();
          t = tighter(t, l.limit, remainingAfter(ahead, l.limit.remote), ahead / 1000);
        }
        return then(this.admitLocal(pr, peeked, t));
      },
      () => then(this.remoteFailed(pr, localKeys, peeked, used, tight, this.now())),
    );
  }

  /** Redis could not decide: each of its limits fails open or closed. */
  private remoteFailed(pr: PreparedRoute, localKeys: readonly (string | undefined)[], peeked: (GcraResult | undefined)[] | undefined, used: readonly PreparedLimit[], tight: Outcome, now: number): Outcome {
    let closed: LimitSettings | undefined;
    for (const l of used) {
      l.count?.error.inc();
      if (l.limit.failClosed) closed ??= l.limit;
    }
    if (closed !== undefined) {
      this.refund(pr, localKeys, peeked, now);
      return { kind: "unavailable", limit: closed, remaining: 0, resetMs: 0 };
    }
    return this.admitLocal(pr, peeked, tight);
  }

  private admitLocal(pr: PreparedRoute, peeked: (GcraResult | undefined)[] | undefined, tight: Outcome): Outcome {
    if (peeked !== undefined) for (let i = 0; i < pr.local.length; i++) if (peeked[i] !== undefined) pr.local[i]?.count?.admitted.inc();
    return tight;
  }

  private refund(pr: PreparedRoute, localKeys: readonly (string | undefined)[], peeked: (GcraResult | undefined)[] | undefined, now: number): void {
    if (peeked === undefined) return;
    for (let i = 0; i < pr.local.length; i++) {
      if (peeked[i] === undefined) continue;
      const l = pr.local[i] as PreparedLimit;
      (l.store as LocalStore).refund(localKey(keyFor(l.limit, localKeys[i]) as string), now);
    }
  }
}

/** The key a limit uses: the request's, "" (one shared bucket) when absent and shared, undefined when the limit is skipped. */
function keyFor(limit: LimitSettings, key: string | undefined): string | undefined {
  if (key !== undefined) return key;
  return limit.skipMissing ? undefined : "";
}

function tighter(cur: Outcome, limit: LimitSettings, remaining: number, resetMs: number): Outcome {
  if (cur.limit === undefined || remaining < cur.remaining || (remaining === cur.remaining && resetMs > cur.resetMs)) {
    return { kind: "admitted", limit, remaining, resetMs };
  }
  return cur;
}
