/**
 * The config of rate limiting, concurrency caps and response size caps, as
 * zod fragments the config schema (src/config/schema.ts) adds:
 *
 * - `rateLimitRouteFields`: fields of a route (`rate_limit`, `concurrency`,
 *   `max_response_body`), spread into the route's strictObject;
 * - `rateLimitConfigSchema`: the top-level `rate_limit` block (the Redis
 *   backend, the local store's bound, named policies routes refer to).
 *
 * What zod cannot see from inside one route (a policy name that does not
 * exist, a Redis limit without `rate_limit.redis`) is reported by
 * `rateLimitIssues` (settings.ts), for the top-level superRefine.
 *
 * Only the config side loads this file (zod); the data plane loads
 * settings.ts and layer.ts. Its duration and size fields are
 * src/config/fields.ts's (not config/schema.ts, which imports this file).
 */
import { z } from "zod";
import { fieldNameProblem } from "../core/http-grammar.ts";
import { duration, size } from "../config/fields.ts";
import { parseDuration } from "../config/units.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KIB = 1024;

/** "100/s", "1000/m", "5/10s", "50/100ms": a count of requests per period. */
const RATE = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d)\s*$/;
const MAX_COUNT = 1_000_000_000;
const MAX_PERIOD_MS = 86_400_000;

/** A rate as `{count, periodMs}`, or a message saying what is wrong. */
export function parseRate(text: string): { count: number; periodMs: number } | string {
  const m = RATE.exec(text);
  if (!m) return `expected a rate such as "100/s", "1000/m" or "5/10s", got ${JSON.stringify(text)}`;
  const count = Number(m[1]);
  const periodMs = parseDuration(`${m[2] ?? "1"}${m[3]}`) as number;
  if (count < 1 || count > MAX_COUNT) return `the count must be 1 to ${MAX_COUNT}, got ${JSON.stringify(text)}`;
  if (periodMs < 1 || periodMs > MAX_PERIOD_MS) return `the period must be 1ms to 1d, got ${JSON.stringify(text)}`;
  if ((periodMs * 1000) / count < 1) return `at most one request per microsecond can be limited, got ${JSON.stringify(text)}`;
  return { count, periodMs };
}

const KEY_WORDS = ["client_ip", "route", "subject", "api_key"] as const;

const keyPart = z
  .union([
    z.enum(KEY_WORDS),
    z.strictObject({
      header: z
        .string()
        .superRefine((name, ctx) => {
          const problem = fieldNameProblem(name);
          if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}` });
        })
        .transform((s) => s.toLowerCase())
        .meta({ description: "A request header's first value (absent: the key is missing)." }),
    }),
    z.strictObject({
      claim: z
        .string()
        .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, 'expected a claim name or a dotted path such as "tenant.id"')
        .max(256)
        .meta({ description: "A claim of the verified identity, by dotted path (\"tenant.id\"); strings, numbers and booleans only." }),
    }),
  ])
  .meta({
    description:
      "One part of a limit's key: client_ip (the peer address), route (the route's name), subject (the verified identity's subject), api_key (the API key id, when the caller used one), {header: NAME} or {claim: PATH}.",
  });

/** A rate ("100/s", "5/10s"), parsed at load: an invalid one is a config error saying why. */
export function rateField(description: string) {
  return z
    .string()
    .transform((s, ctx) => {
      const r = parseRate(s);
      if (typeof r === "string") {
        ctx.addIssue({ code: "custom", message: r });
        return z.NEVER;
      }
      return r;
    })
    .meta({ description });
}

/** One limit, as a route lists it or a named policy defines it. */
export const limitSchema = z
  .strictObject({
    rate: rateField('Requests allowed per period: "100/s", "1000/m", "5/10s" (up to 1 per µs; periods 1ms to 1d).'),
    burst: z
      .number()
      .int()
      .min(1)
      .max(MAX_COUNT)
      .optional()
      .meta({ description: "Requests that may arrive at once on an idle key (the GCRA burst). Default: the rate's count (100 for 100/s)." }),
    key: z
      .array(keyPart)
      .min(1)
      .max(8)
      .default(["client_ip"])
      .meta({ description: "What the limit counts by: one bucket per distinct value of these parts, joined. Default [client_ip]." }),
    missing_key: z
      .enum(["share", "skip"])
      .default("share")
      .meta({ description: "When a key part is absent (no such header, an anonymous caller): share one bucket among all such requests, or skip this limit for them. Default share." }),
    backend: z
      .enum(["local", "redis"])
      .default("local")
      .meta({ description: "local: per process (each worker counts alone). redis: fleet-wide, through rate_limit.redis. Default local." }),
    on_backend_error: z
      .enum(["open", "closed"])
      .default("open")
      .meta({ description: "When Redis is unreachable or slower than rate_limit.redis.timeout: admit (open) or answer 503 FICUS_RATE_LIMIT_UNAVAILABLE (closed). Default open." }),
  })
  .meta({ description: "A rate limit (GCRA): `rate` with `burst`, counted per `key`." });

const routeLimitEntry = z
  .union([
    z.string().regex(NAME, "expected the name of an entry of rate_limit.policies"),
    limitSchema.extend({
      name: z.string().regex(NAME, "expected a name of letters, digits, '_', '.', '-'").meta({ description: "The limit's name: in RateLimit-Policy, RateLimit and the `limit` label of ficus_ratelimit_total." }),
    }),
  ])
  .meta({ description: "A limit of this route (its buckets are the route's own), or the name of a policy of rate_limit.policies (buckets shared by every route that names it)." });

/** The fields a route gains. */
export const rateLimitRouteFields = {
  rate_limit: z
    .strictObject({
      limits: z.array(routeLimitEntry).max(16).default([]).meta({ description: "Limits that apply to every request of the route; all must admit, the response reports the tightest." }),
      headers: z.boolean().default(true).meta({ description: "Send RateLimit-Policy and RateLimit on admitted responses too (429s always carry them). Default true." }),
    })
    .superRefine((r, ctx) => {
      const seen = new Set<string>();
      r.limits.forEach((l, i) => {
        const name = typeof l === "string" ? l : l.name;
        if (seen.has(name)) ctx.addIssue({ code: "custom", message: `limit ${JSON.stringify(name)} is listed twice`, path: ["limits", i] });
        seen.add(name);
      });
    })
    .optional()
    .meta({ description: "Rate limits (429 FICUS_RATE_LIMITED with Retry-After, RateLimit-Policy and RateLimit)." }),
  concurrency: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .meta({ description: "Most requests of this route in flight at once (per process); past it 503 FICUS_OVERLOADED. 0 means no cap. Default 0." }),
  max_response_body: size(0, "Largest upstream response body passed on: a larger Content-Length answers 502 FICUS_UPSTREAM_TOO_LARGE before the head is sent; a body without one is cut at the cap. 0 means no limit.", { max: 1024 ** 4 }),
};

/** The top-level `rate_limit` block. */
export const rateLimitConfigSchema = z
  .strictObject({
    redis: z
      .strictObject({
        url: z
          .string()
          .regex(/^(redis|rediss|valkey|valkeys):\/\/[^\s]+$/, "expected a redis://, rediss://, valkey:// or valkeys:// URL")
          .meta({ description: "The Redis (or Valkey) URL; give credentials through ${ENV} (never logged)." }),
        timeout: duration("50ms", "Deadline of one rate-limit call to Redis; past it the call counts as an error (the limit fails open or closed).", { min: 1, max: 10_000 }),
        retry: duration("1s", "While Redis is down, how often one request probes it again (the others apply on_backend_error at once).", { min: 10, max: 600_000 }),
        key_prefix: z.string().max(64).regex(/^[\x21-\x7e]*$/, "expected printable ASCII without spaces").default("ficus:rl:").meta({ description: 'Prefix of every Redis key. Default "ficus:rl:".' }),
      })
      .optional()
      .meta({ description: "The Redis backend of `backend: redis` limits (GCRA in one atomic script, Redis's clock)." }),
    local: z
      .strictObject({
        max_keys: z.number().int().min(KIB).max(10_000_000).default(100_000).meta({ description: "Most keys one local limit keeps per process; past it the least recently used key is forgotten (counted in ficus_ratelimit_evictions_total). Default 100000." }),
      })
      .prefault({}),
    policies: z.record(z.string().regex(NAME), limitSchema).default({}).meta({ description: "Named limits routes refer to by name; one set of buckets for all of them (a per-user quota across routes)." }),
  })
  .meta({ description: "Rate limiting: the Redis backend, the local store, named policies." });

export type LimitConfig = z.output<typeof limitSchema>;
export type RouteLimitEntry = z.output<typeof routeLimitEntry>;
export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
/** What a validated route carries for this part. */
export interface RouteRateLimitConfig {
  readonly name: string;
  readonly rate_limit?: { readonly limits: readonly RouteLimitEntry[]; readonly headers: boolean } | undefined;
  readonly concurrency?: number | undefined;
  readonly max_response_body?: number | undefined;
}
