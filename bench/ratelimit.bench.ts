/**
 * The rate-limit layer's cost per request (mitata): a local limit keyed by client address over 10,000 clients
 * (admitted, with the RateLimit fields added), two limits, and a concurrency slot taken and given back.
 * Run: bun bench/ratelimit.bench.ts
 */
import { bench, run, summary } from "mitata";
import { Exchange, type Reply } from "../src/pipeline/exchange.ts";
import { createLogger } from "../src/observability/logger.ts";
import { Metrics } from "../src/observability/metrics.ts";
import type { RuntimeRoute } from "../src/routing/route-table.ts";
import { RateLimitLayer } from "../src/ratelimit/layer.ts";
import { RateLimitMetrics } from "../src/ratelimit/metrics.ts";
import { compileRateLimits, type RateLimitConfigInput } from "../src/ratelimit/settings.ts";

const limit = (name: string, key: unknown[]) => ({ name, rate: { count: 1_000_000, periodMs: 1000 }, burst: 1_000_000, key, missing_key: "share", backend: "local", on_backend_error: "open" });
const config = {
  rate_limit: { local: { max_keys: 100_000 }, policies: {} },
  routes: [
    { name: "one", rate_limit: { headers: true, limits: [limit("per-client", ["client_ip"])] } },
    { name: "two", rate_limit: { headers: true, limits: [limit("per-client", ["client_ip"]), limit("per-route", ["route"])] } },
    { name: "slots", concurrency: 1000 },
  ],
} as unknown as RateLimitConfigInput;

const layer = new RateLimitLayer(compileRateLimits(config), { metrics: new RateLimitMetrics(new Metrics({ defaultMetrics: false })), logger: createLogger("error") });
const routes = new Map(["one", "two", "slots"].map((n) => [n, { name: n } as RuntimeRoute]));
const ips = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
let i = 0;

function once(route: string): void {
  const ex = new Exchange(0, "GET", "/", "/", "", "h", "h", [], { address: ips[i++ % ips.length] as string, port: 1 }, false, "http/1.1", undefined, undefined);
  ex.route = routes.get(route);
  layer.request(ex);
  const reply: Reply = { status: 200, fields: [], body: undefined };
  layer.response(ex, reply);
  layer.done(ex);
}

summary(() => {
  bench("one local limit (10,000 clients)", () => once("one"));
  bench("two local limits", () => once("two"));
  bench("concurrency slot", () => once("slots"));
});
await run();
