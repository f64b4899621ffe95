/**
 * Validated rate-limit config → runtime settings: per route, its limits with
 * their GCRA parameters precomputed (ms for the local store, µs for Redis),
 * the RateLimit-Policy field built once, the concurrency cap and the
 * response size cap. Plain frozen objects; no zod here (the data plane loads
 * this file).
 */
import { gcraParams, type GcraParams } from "./gcra.ts";
import { advertised, policyItem } from "./headers.ts";
import type { KeyPart } from "./keys.ts";
import type { RedisStoreSettings } from "./redis-store.ts";
import type { LimitConfig, RateLimitConfig, RouteRateLimitConfig } from "./schema.ts";

export interface LimitSettings {
  /** The name in headers and metrics. */
  readonly name: string;
  /** Whose buckets: "route/NAME" for a route's own limit, "NAME" for a named policy (shared across routes). */
  readonly id: string;
  readonly count: number;
  readonly periodMs: number;
  readonly burst: number;
  /** GCRA in ms (local store). */
  readonly local: GcraParams;
  /** GCRA in whole µs (Redis). */
  readonly remote: GcraParams;
  readonly key: readonly KeyPart[];
  readonly skipMissing: boolean;
  readonly backend: "local" | "redis";
  readonly failClosed: boolean;
  /** This limit's RateLimit-Policy item. */
  readonly policy: string;
}

export interface RouteLimitSettings {
  readonly route: string;
  readonly limits: readonly LimitSettings[];
  /** Send RateLimit fields on admitted responses. */
  readonly headers: boolean;
  /** The RateLimit-Policy field value (every limit of the route), or undefined without limits. */
  readonly policyField: string | undefined;
  /** In-flight cap per process; 0: none. */
  readonly concurrency: number;
  /** Response body cap in bytes; 0: none. */
  readonly maxResponseBody: number;
}

export interface RateLimitSettings {
  /** Routes with anything to enforce, by name. */
  readonly routes: ReadonlyMap<string, RouteLimitSettings>;
  /** The Redis backend, when configured. */
  readonly redis: (RedisStoreSettings & { readonly prefix: string }) | undefined;
  /** Bound of each local limit's key map. */
  readonly maxKeys: number;
}

/** The part of the config this part reads (FicusConfig has it once the lead adds the fields). */
export interface RateLimitConfigInput {
  readonly rate_limit?: RateLimitConfig | undefined;
  readonly routes: readonly RouteRateLimitConfig[];
}

const DEFAULT_MAX_KEYS = 100_000;

/** A problem zod cannot see from inside one route; `path` from the config root. */
export interface RateLimitIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Cross-references: policy names that exist, Redis configured for Redis limits. For the config's top-level superRefine. */
export function rateLimitIssues(config: RateLimitConfigInput): RateLimitIssue[] {
  const issues: RateLimitIssue[] = [];
  const policies = config.rate_limit?.policies ?? {};
  const hasRedis = config.rate_limit?.redis !== undefined;
  for (const [name, p] of Object.entries(policies)) {
    if (p.backend === "redis" && !hasRedis) issues.push({ path: ["rate_limit", "policies", name, "backend"], message: "backend redis needs rate_limit.redis (its url)" });
  }
  config.routes.forEach((r, ri) => {
    r.rate_limit?.limits.forEach((l, li) => {
      const path = ["routes", ri, "rate_limit", "limits", li];
      if (typeof l === "string") {
        if (policies[l] === undefined) {
          const known = Object.keys(policies);
          issues.push({ path, message: `no policy named ${JSON.stringify(l)} in rate_limit.policies; known: ${known.length > 0 ? known.join(", ") : "(none)"}` });
        }
      } else if (l.backend === "redis" && !hasRedis) issues.push({ path: [...path, "backend"], message: "backend redis needs rate_limit.redis (its url)" });
    });
  });
  return issues;
}

/** Compiles the validated config; throws an Error naming the problem for what validation could not see. */
export function compileRateLimits(config: RateLimitConfigInput): RateLimitSettings {
  const issues = rateLimitIssues(config);
  if (issues.length > 0) throw new Error(issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n"));
  const top = config.rate_limit;
  const policies = top?.policies ?? {};
  const routes = new Map<string, RouteLimitSettings>();
  for (const r of config.routes) {
    const limits = (r.rate_limit?.limits ?? []).map((l) =>
      typeof l === "string" ? limitSettings(l, l, policies[l] as LimitConfig) : limitSettings(l.name, `${r.name}/${l.name}`, l),
    );
    const concurrency = r.concurrency ?? 0;
    const maxResponseBody = r.max_response_body ?? 0;
    if (limits.length === 0 && concurrency === 0 && maxResponseBody === 0) continue;
    routes.set(
      r.name,
      Object.freeze({
        route: r.name,
        limits: Object.freeze(limits),
        headers: r.rate_limit?.headers ?? true,
        policyField: limits.length > 0 ? limits.map((l) => l.policy).join(", ") : undefined,
        concurrency,
        maxResponseBody,
      }),
    );
  }
  const redis = top?.redis;
  return Object.freeze({
    routes,
    redis: redis === undefined ? undefined : Object.freeze({ url: redis.url, timeoutMs: redis.timeout, retryMs: redis.retry, prefix: redis.key_prefix }),
    maxKeys: top?.local.max_keys ?? DEFAULT_MAX_KEYS,
  });
}

function limitSettings(name: string, id: string, c: LimitConfig): LimitSettings {
  const { count, periodMs } = c.rate;
  const burst = c.burst ?? count;
  const remote = gcraParams(count, periodMs, burst, 1000);
  const interval = Math.max(1, Math.round(remote.interval));
  const { quota, window } = advertised(count, periodMs);
  return Object.freeze({
    name,
    id,
    count,
    periodMs,
    burst,
    local: gcraParams(count, periodMs, burst, 1),
    remote: { interval, tolerance: interval * burst },
    key: Object.freeze(c.key.map(keyPartOf)),
    skipMissing: c.missing_key === "skip",
    backend: c.backend,
    failClosed: c.on_backend_error === "closed",
    policy: policyItem(name, quota, window),
  });
}

function keyPartOf(p: LimitConfig["key"][number]): KeyPart {
  if (typeof p === "string") return { kind: p };
  if ("header" in p) return { kind: "header", name: p.header.toLowerCase() };
  return { kind: "claim", path: p.claim.split(".") };
}
