/**
 * The config of the tool-result cache (docs/mcp.md, "Cache"): the store
 * (`mcp.cache`), whether a federated source's annotations are trusted
 * (`sources.<s>.trust_annotations`), and per tool what enables caching and
 * how its key is made (`sources.<s>.per_tool.<tool>.cache`). Zod only; the
 * guard (index.ts) compiles the validated output once per endpoint.
 */
import { z } from "zod";
import { size } from "../../../config/fields.ts";
import { formatDuration, MAX_TIMER_MS, parseDuration } from "../../../config/units.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

/** A required duration (the ttl that enables a tool's cache): no default, 1 ms to the longest timer. */
const requiredDuration = (description: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const n = parseDuration(v);
      if (n === undefined) {
        ctx.addIssue({ code: "custom", message: `expected a duration such as "30s" or "5m", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      if (n < 1 || n > MAX_TIMER_MS) {
        ctx.addIssue({ code: "custom", message: `must be 1ms to ${formatDuration(MAX_TIMER_MS)}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    })
    .meta({ description });

/** An argument name (a top-level property) or an RFC 6901 JSON pointer into the arguments ("/filter/date"). */
const keyField = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !s.startsWith("/") || /^(\/([^~]|~[01])*)+$/.test(s), { message: 'expected an argument name or a JSON pointer such as "/filter/date" (~0 for ~, ~1 for /)' });

/** The top-level `mcp.cache` block: where cached results live and how much of them. */
export const cacheConfigSchema = z
  .strictObject({
    backend: z
      .enum(["memory", "redis"])
      .default("memory")
      .meta({ description: "memory: per process (each worker keeps its own entries, least recently used dropped first). redis: shared by the fleet through redis_url. Default memory." }),
    redis_url: z
      .string()
      .regex(/^(redis|rediss|valkey|valkeys):\/\/[^\s]+$/, "expected a redis://, rediss://, valkey:// or valkeys:// URL")
      .default("redis://127.0.0.1:6379")
      .meta({ description: "The Redis (or Valkey) of backend redis; give credentials through ${ENV} (never logged). Default redis://127.0.0.1:6379." }),
    redis_timeout: z
      .union([z.string(), z.number()])
      .optional()
      .transform((v, ctx) => {
        const n = parseDuration(v ?? "50ms");
        if (n === undefined || n < 1 || n > 10_000) {
          ctx.addIssue({ code: "custom", message: `expected a duration from 1ms to 10s, got ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        return n;
      })
      .meta({ description: "Deadline of one cache read from Redis; past it (or when Redis is down) the call is a miss and goes to the tool. Default 50ms; 1ms to 10s." }),
    key_prefix: z
      .string()
      .max(64)
      .regex(/^[\x21-\x7e]*$/, "expected printable ASCII without spaces")
      .default("ficus:mcp:cache:")
      .meta({ description: 'Prefix of every Redis key: give each environment sharing one Redis its own (staging and production must not share results). Default "ficus:mcp:cache:".' }),
    max_entries: z.number().int().min(1).max(10_000_000).default(10_000).meta({ description: "Most results kept in memory per process; past it the least recently used is dropped. Default 10000." }),
    max_bytes: size("64MiB", "Most bytes of results kept in memory per process (their JSON and keys); past it the least recently used are dropped.", { min: KIB, max: 64 * 1024 * MIB }),
    max_entry_bytes: size("1MiB", "Largest result cached (its JSON); a larger one is answered but not kept.", { min: 64, max: 256 * MIB }),
  })
  .meta({ description: "The tool-result cache: only read-only tools with a cache.ttl in per_tool are cached (docs/mcp.md, Cache)." });

/** Fields of a source's `per_tool` entry that the cache reads. */
export const cachePerToolFields = {
  cache: z
    .strictObject({
      ttl: requiredDuration("How long a result is served from the cache (required: it enables caching for this tool), e.g. 30s."),
      key: z
        .array(keyField)
        .min(1)
        .max(64)
        .optional()
        .meta({ description: 'Only these arguments make the key: names of arguments or JSON pointers ("/filter/date"). Default: all the arguments.' }),
      scope: z
        .enum(["principal", "tenant", "global"])
        .default("principal")
        .meta({ description: "Who shares a cached result: principal (the authenticated subject; default), tenant (callers with the same tenant_claim), global (every caller: only for results that do not depend on who asks)." }),
      tenant_claim: z.string().min(1).max(128).default("tenant_id").meta({ description: "The claim naming the caller's tenant, for scope tenant; a caller without it is not cached. Default tenant_id." }),
      read_only: z
        .boolean()
        .optional()
        .meta({ description: "true: the operator vouches that the tool only reads (for a tool whose annotations do not say readOnlyHint, or a source whose annotations are not trusted). false: never cache it, whatever its annotations say." }),
    })
    .optional()
    .meta({ description: "Cache this tool's results (read-only tools only; never errors or input_required results)." }),
};

/** Fields of a source. */
export const cacheSourceFields = {
  trust_annotations: z
    .boolean()
    .default(false)
    .meta({ description: "Trust this federated server's readOnlyHint for caching. Declared and OpenAPI tools come from the config and are always trusted. Default false." }),
};

export type CacheConfig = z.output<typeof cacheConfigSchema>;
export type ToolCacheConfig = NonNullable<z.output<(typeof cachePerToolFields)["cache"]>>;
