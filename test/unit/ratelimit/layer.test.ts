/** The rate-limit layer over real exchanges: config → settings, 429 with the IETF fields, keys, concurrency, response caps. */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import type { BodySink, BodySource } from "../../../src/http1/body.ts";
import { Exchange, type Reply } from "../../../src/pipeline/exchange.ts";
import { getField } from "../../../src/pipeline/fields.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import type { Identity } from "../../../src/auth/identity.ts";
import type { RuntimeRoute } from "../../../src/routing/route-table.ts";
import { RateLimitLayer } from "../../../src/ratelimit/layer.ts";
import { RateLimitMetrics } from "../../../src/ratelimit/metrics.ts";
import { parseRate, rateLimitConfigSchema, rateLimitRouteFields } from "../../../src/ratelimit/schema.ts";
import { compileRateLimits, rateLimitIssues } from "../../../src/ratelimit/settings.ts";

/** The config the lead's schema will validate: the route fields and the top-level block, as they plug in. */
const configSchema = z.strictObject({
  rate_limit: rateLimitConfigSchema.prefault({}),
  routes: z.array(z.strictObject({ name: z.string(), ...rateLimitRouteFields })),
});

function settingsOf(raw: unknown) {
  return compileRateLimits(configSchema.parse(raw));
}

function exchange(route: string, opts: { ip?: string; fields?: string[]; identity?: Identity; method?: string } = {}): Exchange {
  const ex = new Exchange(performance.now(), opts.method ?? "GET", "/x", "/x", "", "h", "h", opts.fields ?? [], { address: opts.ip ?? "10.0.0.1", port: 1 }, false, "http/1.1", undefined, undefined);
  ex.id = "rid";
  ex.route = { name: route } as RuntimeRoute;
  ex.identity = opts.identity;
  return ex;
}

function layerOf(raw: unknown, clock = { t: 0 }) {
  const metrics = new Metrics({ defaultMetrics: false });
  const lines: string[] = [];
  const layer = new RateLimitLayer(settingsOf(raw), { metrics: new RateLimitMetrics(metrics), logger: createLogger("debug", {}, (l) => lines.push(l)), now: () => clock.t });
  return { layer, metrics, clock, lines };
}

function run(layer: RateLimitLayer, ex: Exchange): Reply | undefined {
  const out = layer.request(ex);
  if (out instanceof Promise) throw new Error("expected a synchronous decision");
  return out;
}

const ok = (): Reply => ({ status: 200, fields: [], body: new Uint8Array(0) });

function counts(metrics: Metrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.registry.json()) {
    if (m.name !== "ficus_ratelimit_total") continue;
    for (const v of m.values) out[`${v.labels.route}/${v.labels.limit}/${v.labels.result}`] = v.value;
  }
  return out;
}

describe("config", () => {
  test.each([
    ["100/s", { count: 100, periodMs: 1000 }],
    ["1000/m", { count: 1000, periodMs: 60_000 }],
    ["5/10s", { count: 5, periodMs: 10_000 }],
    ["50 / 100ms", { count: 50, periodMs: 100 }],
    ["1/d", { count: 1, periodMs: 86_400_000 }],
    ["100", "expected a rate"],
    ["0/s", "count must be"],
    ["10/2d", "period must be"],
    ["2000/ms", "one request per microsecond"],
  ])("rate %p", (text, want) => {
    const r = parseRate(text);
    if (typeof want === "string") expect(r).toContain(want);
    else expect(r).toEqual(want);
  });

  test("defaults, policies by name, the RateLimit-Policy field built once", () => {
    const s = settingsOf({
      rate_limit: { redis: { url: "redis://127.0.0.1:6379" }, policies: { "per-user": { rate: "1000/m", key: ["subject"], backend: "redis" } } },
      routes: [{ name: "orders", rate_limit: { limits: [{ name: "per-client", rate: "10/s", burst: 2 }, "per-user"] }, concurrency: 4 }, { name: "free" }],
    });
    const r = s.routes.get("orders");
    expect(r?.policyField).toBe('"per-client";q=10;w=1, "per-user";q=1000;w=60');
    expect(r?.limits.map((l) => [l.id, l.burst, l.backend, l.failClosed])).toEqual([
      ["orders/per-client", 2, "local", false],
      ["per-user", 1000, "redis", false],
    ]);
    expect(r?.concurrency).toBe(4);
    expect(s.routes.has("free")).toBe(false);
    expect(s.redis).toEqual({ url: "redis://127.0.0.1:6379", timeoutMs: 50, retryMs: 1000, prefix: "ficus:rl:" });
  });

  test("what zod cannot see from one route: unknown policy, Redis limit without Redis", () => {
    const c = configSchema.parse({ rate_limit: { policies: { p: { rate: "1/s", backend: "redis" } } }, routes: [{ name: "a", rate_limit: { limits: ["nope", { name: "x", rate: "1/s", backend: "redis" }] } }] });
    expect(rateLimitIssues(c).map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      "rate_limit.policies.p.backend: backend redis needs rate_limit.redis (its url)",
      'routes.0.rate_limit.limits.0: no policy named "nope" in rate_limit.policies; known: p',
      "routes.0.rate_limit.limits.1.backend: backend redis needs rate_limit.redis (its url)",
    ]);
    expect(() => compileRateLimits(c)).toThrow("no policy named");
  });

  test.each([
    [{ limits: [{ name: "a", rate: "1/s", key: [{ header: "bad name" }] }] }, "invalid header name"],
    [{ limits: [{ name: "a", rate: "1/s", key: [{ claim: "a..b" }] }] }, "dotted path"],
    [{ limits: [{ name: "a", rate: "1/s", key: ["ip"] }] }, "client_ip"],
    [{ limits: [{ name: "a", rate: "1/s" }, { name: "a", rate: "2/s" }] }, "listed twice"],
    [{ limits: [{ name: "a", rate: "1/s", burst: 0 }] }, ">=1"],
    [{ limits: [{ name: "a", rate: "1/s", backend: "memcached" }] }, "local"],
  ])("bad route config %#", (rate_limit, message) => {
    const r = configSchema.safeParse({ routes: [{ name: "r", rate_limit }] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });

  test("bad top-level config", () => {
    for (const [raw, message] of [
      [{ redis: { url: "http://x" } }, "redis://"],
      [{ redis: { url: "redis://x", timeout: "0ms" } }, "must be 1ms to 10s"],
      [{ local: { max_keys: 5 } }, ">=1024"],
    ] as const) {
      const r = rateLimitConfigSchema.safeParse(raw);
      expect(r.success).toBe(false);
      expect(JSON.stringify(r.error?.issues)).toContain(message);
    }
  });
});

describe("rate limits", () => {
  const cfg = { routes: [{ name: "r", rate_limit: { limits: [{ name: "per-client", rate: "2/s", burst: 2 }] } }] };

  test("429 FICUS_RATE_LIMITED with Retry-After, RateLimit-Policy and RateLimit; admitted responses carry RateLimit", () => {
    const { layer, metrics, clock } = layerOf(cfg);
    const a = exchange("r");
    expect(run(layer, a)).toBeUndefined();
    const reply = ok();
    layer.response(a, reply);
    expect(getField(reply.fields, "ratelimit-policy")).toBe('"per-client";q=2;w=1');
    expect(getField(reply.fields, "ratelimit")).toBe('"per-client";r=1;t=1');
    layer.done(a);
    expect(run(layer, exchange("r"))).toBeUndefined();
    const refused = run(layer, exchange("r")) as Reply;
    expect(refused.status).toBe(429);
    expect(JSON.parse(new TextDecoder().decode(refused.body as Uint8Array)).error.code).toBe("FICUS_RATE_LIMITED");
    expect(getField(refused.fields, "retry-after")).toBe("1");
    expect(getField(refused.fields, "ratelimit")).toBe('"per-client";r=0;t=1');
    expect(getField(refused.fields, "ratelimit-policy")).toBe('"per-client";q=2;w=1');
    // Another client has its own bucket; the first gets one more after one interval (500 ms).
    expect(run(layer, exchange("r", { ip: "10.0.0.2" }))).toBeUndefined();
    clock.t = 500;
    expect(run(layer, exchange("r"))).toBeUndefined();
    expect(counts(metrics)).toEqual({ "r/per-client/admitted": 4, "r/per-client/limited": 1 });
  });

  test("headers: false keeps admitted responses clean; routes without limits are untouched", () => {
    const { layer } = layerOf({ routes: [{ name: "r", rate_limit: { headers: false, limits: [{ name: "l", rate: "5/s" }] } }, { name: "other" }] });
    for (const route of ["r", "other"]) {
      const ex = exchange(route);
      expect(run(layer, ex)).toBeUndefined();
      const reply = ok();
      layer.response(ex, reply);
      expect(reply.fields).toEqual([]);
    }
  });

  test("several limits: all must admit, a refusal costs nothing under the others, the tightest is reported", () => {
    const { layer } = layerOf({
      routes: [
        {
          name: "r",
          rate_limit: {
            limits: [
              { name: "wide", rate: "100/s", burst: 100, key: ["route"] },
              { name: "narrow", rate: "1/s", burst: 3, key: [{ header: "x-tenant" }] },
            ],
          },
        },
      ],
    });
    const tenant = (t: string) => exchange("r", { fields: ["X-Tenant", t] });
    const first = tenant("a");
    run(layer, first);
    const reply = ok();
    layer.response(first, reply);
    expect(getField(reply.fields, "ratelimit")).toBe('"narrow";r=2;t=1');
    expect(getField(reply.fields, "ratelimit-policy")).toBe('"wide";q=100;w=1, "narrow";q=1;w=1');
    run(layer, tenant("a"));
    run(layer, tenant("a"));
    for (let i = 0; i < 10; i++) expect((run(layer, tenant("a")) as Reply).status).toBe(429);
    // "wide" was charged only for the 3 admitted: 97 left for tenant b's first request (96 after it).
    const b = tenant("b");
    run(layer, b);
    const rb = ok();
    layer.response(b, rb);
    expect(getField(rb.fields, "ratelimit")).toBe('"narrow";r=2;t=1');
  });

  test("keys: subject, API key id and claims of the identity; a missing part shares one bucket or skips the limit", () => {
    const id = (subject: string, method: Identity["method"], claims: Record<string, unknown> = {}): Identity => ({ method, subject, issuer: "", scopes: [], roles: [], claims });
    const { layer } = layerOf({
      routes: [
        { name: "by-claim", rate_limit: { limits: [{ name: "c", rate: "1/m", burst: 1, key: [{ claim: "org.id" }, "route"] }] } },
        { name: "by-key", rate_limit: { limits: [{ name: "k", rate: "1/m", burst: 1, key: ["api_key"], missing_key: "skip" }] } },
        { name: "by-subject", rate_limit: { limits: [{ name: "s", rate: "1/m", burst: 1, key: ["subject"] }] } },
      ],
    });
    const status = (route: string, identity?: Identity) => (run(layer, exchange(route, { identity })) as Reply | undefined)?.status ?? 200;
    expect(status("by-claim", id("u1", "jwt", { org: { id: 7 } }))).toBe(200);
    expect(status("by-claim", id("u2", "jwt", { org: { id: 7 } }))).toBe(429); // same org
    expect(status("by-claim", id("u3", "jwt", { org: { id: 8 } }))).toBe(200);
    expect(status("by-key", id("key-1", "api_key"))).toBe(200);
    expect(status("by-key", id("key-1", "api_key"))).toBe(429);
    expect(status("by-key", id("key-2", "api_key"))).toBe(200);
    expect(status("by-key", id("key-1", "jwt"))).toBe(200); // not an API key: skipped
    expect(status("by-key", id("key-1", "jwt"))).toBe(200);
    expect(status("by-subject", undefined)).toBe(200); // anonymous: the shared bucket
    expect(status("by-subject", id("", "anonymous"))).toBe(429);
    expect(status("by-subject", id("alice", "jwt"))).toBe(200);
  });

  test("reload keeps the counts of a limit that did not change and forgets those of one that did", () => {
    const { layer } = layerOf(cfg);
    run(layer, exchange("r"));
    run(layer, exchange("r"));
    expect((run(layer, exchange("r")) as Reply).status).toBe(429);
    layer.replace(settingsOf(cfg));
    expect((run(layer, exchange("r")) as Reply).status).toBe(429);
    layer.replace(settingsOf({ routes: [{ name: "r", rate_limit: { limits: [{ name: "per-client", rate: "3/s", burst: 2 }] } }] }));
    expect(run(layer, exchange("r"))).toBeUndefined();
  });
});

describe("concurrency", () => {
  test("past the cap 503 FICUS_OVERLOADED; done gives the slot back however the exchange ended, once", () => {
    const { layer, metrics } = layerOf({ routes: [{ name: "r", concurrency: 2 }] });
    const a = exchange("r");
    const b = exchange("r");
    expect(run(layer, a)).toBeUndefined();
    expect(run(layer, b)).toBeUndefined();
    const c = run(layer, exchange("r")) as Reply;
    expect(c.status).toBe(503);
    expect(JSON.parse(new TextDecoder().decode(c.body as Uint8Array)).error.code).toBe("FICUS_OVERLOADED");
    layer.done(a);
    layer.done(a);
    expect(run(layer, exchange("r"))).toBeUndefined();
    expect((run(layer, exchange("r")) as Reply).status).toBe(503);
    expect(counts(metrics)).toEqual({ "r/concurrency/admitted": 3, "r/concurrency/limited": 2 });
  });

  test("a rate-limited request never takes a slot; slots survive a reload", () => {
    const { layer } = layerOf({ routes: [{ name: "r", concurrency: 1, rate_limit: { limits: [{ name: "l", rate: "1/m", burst: 1 }] } }] });
    const a = exchange("r");
    expect(run(layer, a)).toBeUndefined();
    expect((run(layer, exchange("r")) as Reply).status).toBe(429);
    layer.replace(settingsOf({ routes: [{ name: "r", concurrency: 1 }] }));
    expect((run(layer, exchange("r")) as Reply).status).toBe(503);
    layer.done(a);
    expect(run(layer, exchange("r"))).toBeUndefined();
  });
});

/** A body source of chunks, as the forward layer passes on an upstream's body. */
class Chunks implements BodySource {
  cancelled = false;
  constructor(
    readonly length: number,
    private readonly chunks: Uint8Array[],
  ) {}
  start(sink: BodySink): void {
    for (const c of this.chunks) {
      if (this.cancelled) return;
      if (sink.onData(c) === false && this.cancelled) return;
    }
    sink.onEnd([]);
  }
  pause(): void {}
  resume(): void {}
  cancel(): void {
    this.cancelled = true;
  }
}

function drain(body: BodySource): { bytes: number; error?: string; ended: boolean } {
  const out: { bytes: number; error?: string; ended: boolean } = { bytes: 0, ended: false };
  body.start({
    onData: (c) => void (out.bytes += c.byteLength),
    onEnd: () => void (out.ended = true),
    onError: (e) => void (out.error = e.code),
  });
  return out;
}

describe("response size cap", () => {
  const cfg = { routes: [{ name: "r", max_response_body: "10B" }] };
  const upstreamReply = (body: BodySource): Reply => ({ status: 200, fields: ["content-type", "text/plain"], body });

  test("a Content-Length over the cap: 502 FICUS_UPSTREAM_TOO_LARGE before the head is sent, the upstream body cancelled", () => {
    const { layer } = layerOf(cfg);
    const ex = exchange("r");
    run(layer, ex);
    ex.fromUpstream = true;
    const source = new Chunks(11, [new Uint8Array(11)]);
    const reply = upstreamReply(source);
    layer.response(ex, reply);
    expect(reply.status).toBe(502);
    expect(source.cancelled).toBe(true);
    expect(ex.error).toBe("FICUS_UPSTREAM_TOO_LARGE");
    expect(ex.fromUpstream).toBe(false);
    expect(getField(reply.fields, "content-type")).toBe("application/json");
    expect(JSON.parse(new TextDecoder().decode(reply.body as Uint8Array)).error.code).toBe("FICUS_UPSTREAM_TOO_LARGE");
  });

  test("within the cap, or a HEAD: untouched", () => {
    const { layer } = layerOf(cfg);
    for (const [method, length] of [["GET", 10], ["HEAD", 1000]] as const) {
      const ex = exchange("r", { method });
      run(layer, ex);
      ex.fromUpstream = true;
      const source = new Chunks(length, [new Uint8Array(length)]);
      const reply = upstreamReply(source);
      layer.response(ex, reply);
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(source);
    }
  });

  test("no Content-Length: passed on up to the cap, then cut", () => {
    const { layer } = layerOf(cfg);
    const small = exchange("r");
    small.fromUpstream = true;
    const r1 = upstreamReply(new Chunks(-1, [new Uint8Array(4), new Uint8Array(6)]));
    layer.response(small, r1);
    expect(drain(r1.body as BodySource)).toEqual({ bytes: 10, ended: true });
    const big = exchange("r");
    big.fromUpstream = true;
    const source = new Chunks(-1, [new Uint8Array(6), new Uint8Array(6), new Uint8Array(6)]);
    const r2 = upstreamReply(source);
    layer.response(big, r2);
    expect(drain(r2.body as BodySource)).toEqual({ bytes: 6, error: "too_large", ended: false });
    expect(source.cancelled).toBe(true);
    expect(big.error).toBe("FICUS_UPSTREAM_TOO_LARGE");
  });
});
