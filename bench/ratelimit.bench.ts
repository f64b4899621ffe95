/**
 * The rate-limit layer's cost per request (mitata): a local limit keyed by client address over 10,000 clients
 * (admitted, with the RateLimit fields added), two limits, a concurrency slot taken and given back, and (when
 * Redis answers at 127.0.0.1:6379) a Redis limit: 64 requests of one event-loop turn, decided by one script call.
 * Run: bun bench/ratelimit.bench.ts
 */
import { RedisClient } from "bun";
import { bench, run, summary } from "mitata";
import { Exchange, type Reply } from "../src/pipeline/exchange.ts";
import { createLogger } from "../src/observability/logger.ts";
import { Metrics } from "../src/observability/metrics.ts";
import type { RuntimeRoute } from "../src/routing/route-table.ts";
import { RateLimitLayer } from "../src/ratelimit/layer.ts";
import { RateLimitMetrics } from "../src/ratelimit/metrics.ts";
import { compileRateLimits, type RateLimitConfigInput } from "../src/ratelimit/settings.ts";

const limit = (name: string, key: unknown[]) => ({ name, rate: { count: 1_000_000, periodMs: 1000 }, burst: 1_000_000, key, missing_key: "share", backend: "local", on_backend_error: "open" });
const PREFIX = `ficus:bench:${process.pid}:`;
const config = {
  rate_limit: { local: { max_keys: 100_000 }, policies: {}, redis: { url: "redis://127.0.0.1:6379", timeout: 1000, retry: 1000, key_prefix: PREFIX } },
  routes: [
    { name: "one", rate_limit: { headers: true, limits: [limit("per-client", ["client_ip"])] } },
    { name: "two", rate_limit: { headers: true, limits: [limit("per-client", ["client_ip"]), limit("per-route", ["route"])] } },
    { name: "slots", concurrency: 1000 },
    { name: "fleet", rate_limit: { headers: true, limits: [{ ...limit("fleet", ["client_ip"]), backend: "redis" }] } },
  ],
} as unknown as RateLimitConfigInput;

const layer = new RateLimitLayer(compileRateLimits(config), { metrics: new RateLimitMetrics(new Metrics({ defaultMetrics: false })), logger: createLogger("error") });
const routes = new Map(["one", "two", "slots", "fleet"].map((n) => [n, { name: n } as RuntimeRoute]));
const ips = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
let i = 0;

function once(route: string): void | Promise<void> {
  const ex = new Exchange(0, "GET", "/", "/", "", "h", "h", [], { address: ips[i++ % ips.length] as string, port: 1 }, false, "http/1.1", undefined, undefined);
  ex.route = routes.get(route);
  const out = layer.request(ex);
  const finish = (): void => {
    const reply: Reply = { status: 200, fields: [], body: undefined };
    layer.response(ex, reply);
    layer.done(ex);
  };
  if (out instanceof Promise) return out.then(finish);
  finish();
}

const probe = new RedisClient("redis://127.0.0.1:6379", { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 500 });
const redisUp = await probe.connect().then(
  () => true,
  () => false,
);
if (!redisUp) console.warn("Redis is not reachable at 127.0.0.1:6379: no Redis row");

summary(() => {
  bench("one local limit (10,000 clients)", () => once("one"));
  bench("two local limits", () => once("two"));
  bench("concurrency slot", () => once("slots"));
});
// Wall time of 64 requests through one script call (the Redis round trip included): not comparable to the rows above.
if (redisUp) bench("Redis limit: 64 requests of one turn (one script call), per 64", () => Promise.all(Array.from({ length: 64 }, () => once("fleet"))));
await run();
layer.close();
if (redisUp) {
  const keys = (await probe.send("KEYS", [`${PREFIX}*`])) as string[];
  for (let k = 0; k < keys.length; k += 1000) await probe.send("DEL", keys.slice(k, k + 1000));
}
probe.close();
