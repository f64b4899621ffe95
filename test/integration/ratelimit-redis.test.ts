/**
 * Fleet-wide rate limits against a real Redis (127.0.0.1:6379): the atomic GCRA script (EVALSHA, EVAL after
 * NOSCRIPT), buckets shared by separate connections, all-or-nothing across a request's limits, hashed keys with
 * expiry, the 429 through the layer; and outages: a closed port and a proxy this test controls (silent, then
 * back), with fail-open and fail-closed limits, one log line per state change and the backend gauge.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient, type Socket, type TCPSocketListener } from "bun";
import fc from "fast-check";
import { z } from "zod";
import { Exchange, type Reply } from "../../src/pipeline/exchange.ts";
import { getField } from "../../src/pipeline/fields.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import type { RuntimeRoute } from "../../src/routing/route-table.ts";
import { RateLimitLayer } from "../../src/ratelimit/layer.ts";
import { RateLimitMetrics } from "../../src/ratelimit/metrics.ts";
import { BackendUnavailableError, GCRA_SCRIPT, RedisStore } from "../../src/ratelimit/redis-store.ts";
import { rateLimitConfigSchema, rateLimitRouteFields } from "../../src/ratelimit/schema.ts";
import { compileRateLimits } from "../../src/ratelimit/settings.ts";
import { testRedis } from "../helpers/redis.ts";

const REDIS = "redis://127.0.0.1:6379";
const PREFIX = `ficus:test:${process.pid}:${Date.now()}:`;
let redis: RedisClient | undefined;
let skip = "";

beforeAll(async () => {
  redis = await testRedis("the Redis rate-limit tests");
  if (redis === undefined) {
    skip = "no Redis";
  }
});

afterAll(async () => {
  if (redis === undefined) return;
  const keys = (await redis.send("KEYS", [`${PREFIX}*`])) as string[];
  if (keys.length > 0) await redis.send("DEL", keys);
  redis.close();
});

const configSchema = z.strictObject({ rate_limit: rateLimitConfigSchema.prefault({}), routes: z.array(z.strictObject({ name: z.string(), ...rateLimitRouteFields })) });

function exchange(route: string, ip = "10.0.0.1"): Exchange {
  const ex = new Exchange(performance.now(), "GET", "/x", "/x", "", "h", "h", [], { address: ip, port: 1 }, false, "http/1.1", undefined, undefined);
  ex.id = "rid";
  ex.route = { name: route } as RuntimeRoute;
  return ex;
}

function layerFor(url: string, limits: unknown[], redisExtra: Record<string, unknown> = {}) {
  const metrics = new Metrics({ defaultMetrics: false });
  const logs: Record<string, unknown>[] = [];
  const settings = compileRateLimits(configSchema.parse({ rate_limit: { redis: { url, key_prefix: PREFIX, ...redisExtra } }, routes: [{ name: "r", rate_limit: { limits } }] }));
  const layer = new RateLimitLayer(settings, { metrics: new RateLimitMetrics(metrics), logger: createLogger("debug", {}, (l) => logs.push(JSON.parse(l))) });
  return { layer, metrics, logs };
}

async function status(layer: RateLimitLayer, ex = exchange("r")): Promise<number> {
  const r = (await layer.request(ex)) as Reply | undefined;
  layer.done(ex);
  return r?.status ?? 200;
}

function metricValues(metrics: Metrics, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.registry.json()) {
    if (m.name !== name) continue;
    for (const v of m.values) out[Object.values(v.labels).join("/")] = v.value;
  }
  return out;
}

const stateLogs = (logs: Record<string, unknown>[]) => logs.filter((l) => String(l.msg).startsWith("rate-limit backend")).map((l) => l.msg);

describe("Redis backend", () => {
  test("the script admits the burst, refuses the next, sets an expiry, and the key in Redis is a hash", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 1000, retryMs: 1000 });
    try {
      const key = `${PREFIX}direct:secret-token-value`;
      const p = { interval: 100_000, tolerance: 300_000 }; // 10/s, burst 3
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.check([key], [p]));
      expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
      // TAT ahead of Redis's clock: one, two, three intervals; then a refusal about one interval away.
      const ahead = results.slice(0, 3).map((r) => Math.round((r.values[0] as number) / 100_000));
      expect(ahead).toEqual([1, 2, 3]);
      expect(results[3]?.values[0]).toBeLessThan(0);
      expect(-(results[3]?.values[0] as number)).toBeLessThanOrEqual(100_000);
      const pttl = (await redis?.send("PTTL", [key])) as number;
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(301);
    } finally {
      store.close();
    }
  });

  test("NOSCRIPT (Redis restarted or flushed its scripts): EVAL sends the script and caches it again", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 1000, retryMs: 1000 });
    try {
      await redis?.send("SCRIPT", ["FLUSH"]);
      const sha = new Bun.CryptoHasher("sha1").update(GCRA_SCRIPT).digest("hex");
      expect(await redis?.send("SCRIPT", ["EXISTS", sha])).toEqual([0]);
      expect((await store.check([`${PREFIX}noscript`], [{ interval: 1000, tolerance: 1000 }])).ok).toBe(true);
      expect(await redis?.send("SCRIPT", ["EXISTS", sha])).toEqual([1]);
    } finally {
      store.close();
    }
  });

  test("two connections share one bucket atomically: 400 concurrent calls, burst 50, exactly 50 admitted", async () => {
    if (skip) return;
    const a = new RedisStore({ url: REDIS, timeoutMs: 2000, retryMs: 1000 });
    const b = new RedisStore({ url: REDIS, timeoutMs: 2000, retryMs: 1000 });
    try {
      const key = `${PREFIX}shared`;
      const p = { interval: 60_000_000, tolerance: 50 * 60_000_000 }; // 1/min, burst 50: nothing refills during the test
      const calls = [];
      for (let i = 0; i < 400; i++) calls.push((i % 2 === 0 ? a : b).check([key], [p]));
      const results = await Promise.all(calls);
      expect(results.filter((r) => r.ok).length).toBe(50);
    } finally {
      a.close();
      b.close();
    }
  });

  test("all or nothing: when one key refuses, the others are not charged", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 1000, retryMs: 1000 });
    try {
      const wide = `${PREFIX}aon:wide`;
      const narrow = `${PREFIX}aon:narrow`;
      const pw = { interval: 60_000_000, tolerance: 2 * 60_000_000 }; // burst 2
      const pn = { interval: 60_000_000, tolerance: 60_000_000 }; // burst 1
      expect((await store.check([wide, narrow], [pw, pn])).ok).toBe(true);
      const refused = await store.check([wide, narrow], [pw, pn]);
      expect(refused.ok).toBe(false);
      expect(refused.values[0]).toBeGreaterThan(0); // wide would have admitted…
      expect(refused.values[1]).toBeLessThan(0); // …narrow refused
      // …and wide was not charged: it still has its second request.
      expect((await store.check([wide], [pw])).ok).toBe(true);
      expect((await store.check([wide], [pw])).ok).toBe(false);
    } finally {
      store.close();
    }
  });

  test("property: the checks of one turn go as one script call and are decided in order, exactly as separate calls decide them", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 2000, retryMs: 1000 });
    const MIN = 60_000_000; // 1/min: nothing refills during a run, so only the order decides
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 4, maxLength: 4 }), // each bucket's burst
          fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 40 }), // each check's buckets
          async (bursts, checks) => {
            run++;
            const params = bursts.map((b) => ({ interval: MIN, tolerance: b * MIN }));
            const call = (st: RedisStore, tag: string, buckets: number[]) =>
              st.check(
                buckets.map((b) => `${PREFIX}prop:${run}:${tag}:${b}`),
                buckets.map((b) => params[b] as { interval: number; tolerance: number }),
              );
            const shape = (r: { ok: boolean; values: number[] }) => `${r.ok ? "ok" : "no"} ${r.values.map((v) => Math.round(v / MIN)).join(",")}`;
            const before = store.scriptCalls;
            const batched = (await Promise.all(checks.map((c) => call(store, "batch", c)))).map(shape);
            expect(store.scriptCalls - before).toBe(1);
            const separate: string[] = [];
            for (const c of checks) separate.push(shape(await call(store, "one", c)));
            expect(batched).toEqual(separate);
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      store.close();
    }
  });

  test("a turn with more than 512 checks is sent in several calls, still in order: burst 1000 of 1,200 asked, the first 1,000 admitted", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 5000, retryMs: 1000 });
    try {
      const key = `${PREFIX}big`;
      const p = { interval: 60_000_000, tolerance: 1000 * 60_000_000 };
      const before = store.scriptCalls;
      const results = await Promise.all(Array.from({ length: 1200 }, () => store.check([key], [p])));
      expect(store.scriptCalls - before).toBe(3);
      expect(results.findIndex((r) => !r.ok)).toBe(1000);
      expect(results.slice(1000).every((r) => !r.ok)).toBe(true);
    } finally {
      store.close();
    }
  });

  test("checkThen: the outcome goes to the caller's handler; a handler that throws fails only its own check of the batch", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 1000, retryMs: 1000 });
    try {
      const p = { interval: 1000, tolerance: 1000_000 };
      const calls = [0, 1, 2].map((i) =>
        store.checkThen(
          [`${PREFIX}then:${i}`],
          [p],
          (r) => {
            if (i === 1) throw new Error("handler failed");
            return `ok=${r.ok}`;
          },
          () => "unavailable",
        ),
      );
      const settled = await Promise.allSettled(calls);
      expect(settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message))).toEqual(["ok=true", "handler failed", "ok=true"]);
    } finally {
      store.close();
    }
  });

  test("closing the store with checks waiting for the end of the turn: each fails as unavailable", async () => {
    if (skip) return;
    const store = new RedisStore({ url: REDIS, timeoutMs: 1000, retryMs: 1000 });
    const waiting = [store.check([`${PREFIX}closing`], [{ interval: 1000, tolerance: 1000 }]), store.check([`${PREFIX}closing`], [{ interval: 1000, tolerance: 1000 }])];
    store.close();
    for (const w of waiting) expect(await w.then(() => "decided", (e: unknown) => e)).toBeInstanceOf(BackendUnavailableError);
    expect(await store.check([`${PREFIX}closing`], [{ interval: 1000, tolerance: 1000 }]).catch((e: unknown) => e)).toBeInstanceOf(BackendUnavailableError);
  });

  test("through the layer: 429 with the IETF fields, counted; no raw key value in Redis", async () => {
    if (skip) return;
    const { layer, metrics } = layerFor(REDIS, [{ name: "fleet", rate: "2/m", burst: 2, backend: "redis" }]);
    try {
      const ip = `203.0.113.${process.pid % 250}`;
      expect(await status(layer, exchange("r", ip))).toBe(200);
      const ex = exchange("r", ip);
      expect(await layer.request(ex)).toBeUndefined();
      const reply: Reply = { status: 200, fields: [], body: new Uint8Array(0) };
      layer.response(ex, reply);
      expect(getField(reply.fields, "ratelimit")).toBe('"fleet";r=0;t=60');
      layer.done(ex);
      const refused = (await layer.request(exchange("r", ip))) as Reply;
      expect(refused.status).toBe(429);
      expect(getField(refused.fields, "ratelimit-policy")).toBe('"fleet";q=2;w=60');
      const retry = Number(getField(refused.fields, "retry-after"));
      expect(retry).toBeGreaterThanOrEqual(29);
      expect(retry).toBeLessThanOrEqual(30);
      expect(getField(refused.fields, "ratelimit")).toBe(`"fleet";r=0;t=${retry}`);
      expect(metricValues(metrics, "ficus_ratelimit_total")).toEqual({ "r/fleet/admitted": 2, "r/fleet/limited": 1 });
      const keys = (await redis?.send("KEYS", [`${PREFIX}r/fleet:*`])) as string[];
      expect(keys.length).toBe(1);
      expect(keys[0]).not.toContain(ip);
    } finally {
      layer.close();
    }
  });

  test("local and Redis limits together: when Redis refuses, the local admission is given back", async () => {
    if (skip) return;
    const { layer } = layerFor(REDIS, [
      { name: "local", rate: "5/m", burst: 5 },
      { name: "fleet", rate: "1/m", burst: 1, backend: "redis", key: ["route"] },
    ]);
    try {
      const reported = async (): Promise<string | undefined> => {
        const ex = exchange("r");
        const out = (await layer.request(ex)) as Reply | undefined;
        if (out !== undefined) return `${out.status}`;
        const reply: Reply = { status: 200, fields: [], body: new Uint8Array(0) };
        layer.response(ex, reply);
        layer.done(ex);
        return getField(reply.fields, "ratelimit");
      };
      expect(await reported()).toBe('"fleet";r=0;t=60');
      expect(await reported()).toBe("429");
      expect(await reported()).toBe("429");
      // The local limit was charged once, not three times: with the fleet bucket freed before each request,
      // it admits its 4 remaining requests, then refuses by itself.
      const freed: string[] = [];
      for (let i = 0; i < 5; i++) {
        const keys = (await redis?.send("KEYS", [`${PREFIX}r/fleet:*`])) as string[];
        if (keys.length > 0) await redis?.send("DEL", keys);
        const ex = exchange("r");
        const out = (await layer.request(ex)) as Reply | undefined;
        freed.push(out === undefined ? "200" : `${out.status} ${getField(out.fields, "ratelimit")}`);
        layer.done(ex);
      }
      expect(freed).toEqual(["200", "200", "200", "200", '429 "local";r=0;t=12']);
    } finally {
      layer.close();
    }
  });
});

/** A TCP proxy to Redis this test controls: forwarding, silent (reads and drops: Redis looks slow), or refusing. */
class Proxy {
  private listener: TCPSocketListener<{ up?: Socket<unknown>; buffered: Uint8Array[] }> | undefined;
  silent = false;
  private readonly sockets = new Set<Socket<{ up?: Socket<unknown>; buffered: Uint8Array[] }>>();
  port = 0;

  start(port = 0): void {
    this.listener = Bun.listen<{ up?: Socket<unknown>; buffered: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (client) => {
          this.sockets.add(client);
          client.data = { buffered: [] };
          void Bun.connect({
            hostname: "127.0.0.1",
            port: 6379,
            socket: {
              data: (_up, chunk) => {
                if (!this.silent) client.write(chunk);
              },
              close: () => void client.end(),
            },
          }).then((up) => {
            client.data.up = up as Socket<unknown>;
            for (const b of client.data.buffered) up.write(b);
            client.data.buffered = [];
          });
        },
        data: (client, chunk) => {
          if (this.silent) return;
          if (client.data.up) client.data.up.write(chunk);
          else client.data.buffered.push(new Uint8Array(chunk));
        },
        close: (client) => {
          this.sockets.delete(client);
          client.data.up?.end();
        },
      },
    });
    this.port = this.listener.port;
  }

  /** Stops listening and cuts every connection: the port now refuses. */
  stop(): void {
    this.listener?.stop(true);
    for (const s of this.sockets) s.end();
    this.sockets.clear();
  }
}

describe("Redis outages", () => {
  test("a closed port: fail-open admits, fail-closed answers 503, one log line, the gauge at 0, errors counted", async () => {
    const closed = new Proxy();
    closed.start();
    const port = closed.port;
    closed.stop(); // nothing listens there now
    const open = layerFor(`redis://127.0.0.1:${port}`, [{ name: "open", rate: "1/m", burst: 1, backend: "redis", on_backend_error: "open" }]);
    const shut = layerFor(`redis://127.0.0.1:${port}`, [{ name: "shut", rate: "1/m", burst: 1, backend: "redis", on_backend_error: "closed" }]);
    try {
      const opened: number[] = [];
      const closedStatuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        opened.push(await status(open.layer));
        closedStatuses.push(await status(shut.layer));
      }
      expect(new Set(opened)).toEqual(new Set([200]));
      expect(new Set(closedStatuses)).toEqual(new Set([503]));
      const r = (await shut.layer.request(exchange("r"))) as Reply;
      expect(JSON.parse(new TextDecoder().decode(r.body as Uint8Array)).error.code).toBe("FICUS_RATE_LIMIT_UNAVAILABLE");
      for (const { logs, metrics } of [open, shut]) {
        expect(stateLogs(logs)).toEqual(["rate-limit backend is down: Redis limits fail open or closed as configured until it answers again"]);
        expect(metricValues(metrics, "ficus_ratelimit_backend_up")).toEqual({ "": 0 });
      }
      expect(metricValues(open.metrics, "ficus_ratelimit_total")).toEqual({ "r/open/error": 30 });
    } finally {
      open.layer.close();
      shut.layer.close();
    }
    // A local limit of the same route still applies while its Redis limit fails open.
    const mixed = layerFor(`redis://127.0.0.1:${port}`, [
      { name: "local", rate: "3/m", burst: 3 },
      { name: "open", rate: "1/m", burst: 1, backend: "redis", on_backend_error: "open" },
    ]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push(await status(mixed.layer));
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      mixed.layer.close();
    }
  });

  test("Redis goes silent (every call past its 50 ms deadline, the connection open), then answers again: one line down, one line up, limits enforced again", async () => {
    if (skip) return;
    const proxy = new Proxy();
    proxy.start();
    const { layer, logs, metrics } = layerFor(`redis://127.0.0.1:${proxy.port}`, [{ name: "fleet", rate: "1/m", burst: 1000, backend: "redis", on_backend_error: "closed" }], { timeout: "50ms", retry: "100ms" });
    try {
      expect(await status(layer)).toBe(200);
      proxy.silent = true;
      const t0 = performance.now();
      expect(await status(layer)).toBe(503); // the call that finds out: waits for its deadline
      expect(performance.now() - t0).toBeLessThan(500);
      const t1 = performance.now();
      for (let i = 0; i < 50; i++) expect(await status(layer)).toBe(503); // the rest fail at once
      expect(performance.now() - t1).toBeLessThan(200);
      // Many requests at once while down: one batch at most probes, the rest fail at once; all closed.
      expect(new Set(await Promise.all(Array.from({ length: 30 }, () => status(layer))))).toEqual(new Set([503]));
      expect(metricValues(metrics, "ficus_ratelimit_backend_up")).toEqual({ "": 0 });
      // Back, on the same connections (the replies the proxy dropped never come: the store opens a new one).
      proxy.silent = false;
      let back = false;
      for (let i = 0; i < 100 && !back; i++) {
        back = (await status(layer)) === 200;
        if (!back) await Bun.sleep(20);
      }
      expect(back).toBe(true);
      for (let i = 0; i < 20; i++) expect(await status(layer)).toBe(200);
      expect(stateLogs(logs)).toEqual(["rate-limit backend is down: Redis limits fail open or closed as configured until it answers again", "rate-limit backend is back up"]);
      expect(metricValues(metrics, "ficus_ratelimit_backend_up")).toEqual({ "": 1 });
    } finally {
      layer.close();
      proxy.stop();
    }
  });
});
