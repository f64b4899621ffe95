/**
 * The rate-limit layer: per route, after authentication (keys may use the
 * identity), it enforces
 *
 * 1. rate limits (limiter.ts): a refusal answers 429 FICUS_RATE_LIMITED with
 *    Retry-After, RateLimit-Policy and RateLimit; a Redis limit that fails
 *    closed while Redis is down answers 503 FICUS_RATE_LIMIT_UNAVAILABLE;
 *    admitted responses carry the two fields too (`rate_limit.headers`);
 * 2. the concurrency cap: past `concurrency` requests in flight, 503
 *    FICUS_OVERLOADED; a slot is taken after the rate limits admit and given
 *    back in `done`, however the exchange ended;
 * 3. the response size cap (`max_response_body`): a Content-Length over it
 *    becomes 502 FICUS_UPSTREAM_TOO_LARGE before the head is sent, a body
 *    without one is cut at the cap. (The request cap is the route's
 *    `max_body`, enforced by the forward layer.)
 *
 * Reload: `replace(settings)` swaps the routes; local counts of limits that
 * stay the same, in-flight counts and the Redis connection (when its
 * settings are unchanged) carry over.
 */
import type { BodySink, BodySource } from "../http1/body.ts";
import { errorReply, type Exchange, type Reply } from "../pipeline/exchange.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { Logger } from "../observability/logger.ts";
import { ceilSeconds, limitItem } from "./headers.ts";
import { keyOf } from "./keys.ts";
import { Limiter, type Outcome, type PreparedLimit, type PreparedRoute } from "./limiter.ts";
import type { RateLimitMetrics } from "./metrics.ts";
import { RedisStore } from "./redis-store.ts";
import type { RateLimitSettings } from "./settings.ts";

export interface RateLimitLayerOptions {
  readonly metrics: RateLimitMetrics;
  readonly logger: Logger;
  /** Monotonic ms (performance.now by default); tests pass their own. */
  readonly now?: () => number;
}

/** A route's in-flight count, one object per route name for the life of the process. */
interface Slots {
  n: number;
  readonly count: { admitted: { inc(): void }; limited: { inc(): void } };
}

/** What the layer holds for one exchange until it ends. */
interface Held {
  /** The admitted outcome to report in RateLimit, when the route sends it on admitted responses. */
  outcome: Outcome | undefined;
  policy: string | undefined;
  slots: Slots | undefined;
}

export class RateLimitLayer implements Layer {
  readonly name = "rate-limit";
  private routes = new Map<string, PreparedRoute>();
  private readonly limiter: Limiter;
  private redis: RedisStore | undefined;
  private readonly slots = new Map<string, Slots>();
  private readonly held = new WeakMap<Exchange, Held>();

  constructor(
    settings: RateLimitSettings,
    private readonly opts: RateLimitLayerOptions,
  ) {
    const m = opts.metrics;
    this.limiter = new Limiter({
      redis: undefined,
      prefix: "",
      maxKeys: settings.maxKeys,
      now: opts.now,
      bind: (route, limit) => m.bind(route, limit),
      onEvict: (limit) => m.evictions.inc({ limit }),
    });
    this.replace(settings);
  }

  /** Applies new settings (a reload). */
  replace(settings: RateLimitSettings): void {
    const r = settings.redis;
    const cur = this.redis?.settings;
    if (r === undefined || cur === undefined || r.url !== cur.url || r.timeoutMs !== cur.timeoutMs || r.retryMs !== cur.retryMs) {
      this.redis?.close();
      this.redis = r === undefined ? undefined : this.openRedis(r);
    }
    if (this.redis === undefined) this.opts.metrics.backendUp.set(1); // nothing is down (the supervisor merges with min)
    this.limiter.configure(this.redis, r?.prefix ?? "", settings.maxKeys);
    this.routes = this.limiter.prepareAll(settings.routes.values());
  }

  private openRedis(r: NonNullable<RateLimitSettings["redis"]>): RedisStore {
    const { metrics, logger } = this.opts;
    metrics.backendUp.set(1);
    return new RedisStore(r, (up, reason) => {
      metrics.backendUp.set(up ? 1 : 0);
      if (up) logger.info("rate-limit backend is back up", { backend: "redis" });
      else logger.warn("rate-limit backend is down: Redis limits fail open or closed as configured until it answers again", { code: "FICUS_RATE_LIMIT_UNAVAILABLE", backend: "redis", reason });
    });
  }

  /** Closes the Redis connection (shutdown). */
  close(): void {
    this.redis?.close();
    this.redis = undefined;
  }

  request(ex: Exchange): Reply | undefined | Promise<Reply | undefined> {
    const name = ex.route?.name;
    if (name === undefined) return undefined;
    const pr = this.routes.get(name);
    if (pr === undefined) return undefined;
    if (pr.local.length === 0 && pr.remote.length === 0) return this.acquire(ex, pr, undefined);
    return this.limiter.decideThen(pr, keysOf(ex, pr.local), keysOf(ex, pr.remote), (o) => this.decided(ex, pr, o));
  }

  private decided(ex: Exchange, pr: PreparedRoute, o: Outcome): Reply | undefined {
    const rs = pr.settings;
    if (o.kind === "limited") {
      const limit = o.limit as NonNullable<Outcome["limit"]>;
      const seconds = Math.max(1, ceilSeconds(o.resetMs));
      ex.error = "FICUS_RATE_LIMITED";
      return errorReply("FICUS_RATE_LIMITED", `rate limit ${JSON.stringify(limit.name)} exceeded; retry in ${seconds} s`, ex.id, [
        "retry-after",
        String(seconds),
        "ratelimit-policy",
        rs.policyField as string,
        "ratelimit",
        limitItem(limit.name, 0, seconds),
      ]);
    }
    if (o.kind === "unavailable") {
      ex.error = "FICUS_RATE_LIMIT_UNAVAILABLE";
      return errorReply("FICUS_RATE_LIMIT_UNAVAILABLE", `rate limit ${JSON.stringify(o.limit?.name)} cannot be checked (its backend is unavailable) and fails closed`, ex.id, ["retry-after", "1"]);
    }
    return this.acquire(ex, pr, rs.headers && o.limit !== undefined ? o : undefined);
  }

  /** Takes a concurrency slot (when the route caps it) and remembers what `response` and `done` need. */
  private acquire(ex: Exchange, pr: PreparedRoute, outcome: Outcome | undefined): Reply | undefined {
    const rs = pr.settings;
    let slots: Slots | undefined;
    if (rs.concurrency > 0) {
      slots = this.slotsOf(rs.route);
      if (slots.n >= rs.concurrency) {
        slots.count.limited.inc();
        ex.error = "FICUS_OVERLOADED";
        return errorReply("FICUS_OVERLOADED", `route ${JSON.stringify(rs.route)} already has ${rs.concurrency} requests in flight`, ex.id, ["retry-after", "1"]);
      }
      slots.n++;
      slots.count.admitted.inc();
    }
    if (outcome !== undefined || slots !== undefined) this.held.set(ex, { outcome, policy: rs.policyField, slots });
    return undefined;
  }

  private slotsOf(route: string): Slots {
    let s = this.slots.get(route);
    if (s === undefined) {
      const c = this.opts.metrics.bind(route, "concurrency");
      s = { n: 0, count: c };
      this.slots.set(route, s);
    }
    return s;
  }

  response(ex: Exchange, reply: Reply): void {
    const h = this.held.get(ex);
    const name = ex.route?.name;
    const cap = name === undefined ? 0 : (this.routes.get(name)?.settings.maxResponseBody ?? 0);
    if (cap > 0 && ex.fromUpstream) this.capResponse(ex, reply, cap);
    const o = h?.outcome;
    if (o !== undefined && o.limit !== undefined) {
      reply.fields.push("ratelimit-policy", h?.policy as string, "ratelimit", limitItem(o.limit.name, o.remaining, ceilSeconds(o.resetMs)));
    }
  }

  private capResponse(ex: Exchange, reply: Reply, cap: number): void {
    const body = reply.body;
    if (body === undefined || body instanceof Uint8Array || ex.method === "HEAD" || reply.tunnel !== undefined) return;
    if (body.length > cap) {
      // Known too large before anything is sent: refuse it whole, never the upstream's 2xx head with a cut body.
      body.cancel();
      const r = errorReply("FICUS_UPSTREAM_TOO_LARGE", `the upstream's response body is ${body.length} bytes; the route allows ${cap}`, ex.id);
      ex.error = "FICUS_UPSTREAM_TOO_LARGE";
      ex.fromUpstream = false;
      reply.status = r.status;
      reply.reason = undefined;
      reply.fields.length = 0;
      reply.fields.push(...r.fields);
      reply.body = r.body;
      reply.headLength = undefined;
      return;
    }
    if (body.length < 0) reply.body = new CappedBody(body, cap, ex);
  }

  done(ex: Exchange): void {
    const h = this.held.get(ex);
    if (h === undefined) return;
    this.held.delete(ex);
    if (h.slots !== undefined) h.slots.n--;
  }
}

function keysOf(ex: Exchange, limits: readonly PreparedLimit[]): (string | undefined)[] {
  const out: (string | undefined)[] = new Array(limits.length);
  for (let i = 0; i < limits.length; i++) out[i] = keyOf(ex, (limits[i] as PreparedLimit).limit.key);
  return out;
}

/** A response body of unknown length passed on up to `cap` bytes; past it the body is cut (the client sees an incomplete response). */
class CappedBody implements BodySource {
  private seen = 0;
  constructor(
    private readonly source: BodySource,
    private readonly cap: number,
    private readonly ex: Exchange,
  ) {}
  get length(): number {
    return this.source.length;
  }
  start(sink: BodySink): void {
    this.source.start({
      onData: (chunk) => {
        this.seen += chunk.byteLength;
        if (this.seen > this.cap) {
          this.source.cancel();
          this.ex.error = "FICUS_UPSTREAM_TOO_LARGE";
          sink.onError({ code: "too_large", reason: `the upstream's response body exceeds the route's max_response_body of ${this.cap} bytes` });
          return false;
        }
        return sink.onData(chunk);
      },
      onEnd: (trailers) => sink.onEnd(trailers),
      onError: (err) => sink.onError(err),
    });
  }
  pause(): void {
    this.source.pause();
  }
  resume(): void {
    this.source.resume();
  }
  cancel(): void {
    this.source.cancel();
  }
}
