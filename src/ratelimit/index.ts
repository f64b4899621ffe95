/**
 * Rate limiting, concurrency caps and response size caps (issue 11, item 4).
 * The config side imports schema.ts (zod); the data plane imports this.
 */
export { RateLimitLayer, type RateLimitLayerOptions } from "./layer.ts";
export { RateLimitMetrics } from "./metrics.ts";
export { compileRateLimits, rateLimitIssues, type RateLimitConfigInput, type RateLimitSettings, type RouteLimitSettings, type LimitSettings } from "./settings.ts";
export { Limiter, type Outcome } from "./limiter.ts";
export { LocalStore } from "./local-store.ts";
export { RedisStore, BackendUnavailableError, GCRA_SCRIPT } from "./redis-store.ts";
export { gcra, gcraParams } from "./gcra.ts";
