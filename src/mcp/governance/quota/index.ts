/**
 * Quotas and budgets of an MCP endpoint (docs/mcp.md, "Quotas and budgets").
 *
 * Quotas (`mcp.quotas`) are rate limits on tool calls, decided by
 * src/ratelimit's Limiter (GCRA): per process, or fleet-wide in Redis when
 * `rate_limit.redis` is configured (failing open or closed per quota). Each
 * quota applies to the tools its globs match and counts per key (principal,
 * tool, endpoint, client_ip, claim:<name>). A refusal is a tool error
 * "rate limit <name> exceeded for <tool>; retry after N s" with
 * `_meta["io.ficus/retry_after_ms"]`; call.notes.quota names the quota.
 *
 * The budget (`mcp.budget`) is a number of cost units per key per UTC day;
 * a tool's cost is `sources.<s>.per_tool.<tool>.cost` (default 1). It is
 * spent when the call is let through (after the quotas admitted it), in
 * Redis when configured, else in a SQLite file the workers share; a call
 * past it is a tool error stating the reset time.
 *
 * `budgetsAdminHandler` answers GET /admin/mcp/budgets?principal=.
 */
import { resolve } from "node:path";
import type { FicusConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../observability/logger.ts";
import { Limiter, type Outcome, type PreparedRoute } from "../../../ratelimit/limiter.ts";
import { RedisStore } from "../../../ratelimit/redis-store.ts";
import { compileRateLimits, type RateLimitSettings } from "../../../ratelimit/settings.ts";
import { compileGlobs } from "../../names.ts";
import type { CatalogTool } from "../../registry/registry.ts";
import type { CallToolResult, JsonObject } from "../../types.ts";
import { type CallGuard, type GuardedCall, toolError } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { claimOf } from "../../../ratelimit/keys.ts";
import { type BudgetStore, RedisBudgetStore, SqliteBudgetStore, type SpendResult, utcDay } from "./budget-store.ts";
import { quotaMetrics } from "./metrics.ts";
import type { BudgetConfig, QuotaConfig } from "./schema.ts";

export { budgetsAdminHandler } from "./admin.ts";
export { type BudgetStore, RedisBudgetStore, SqliteBudgetStore, utcDay } from "./budget-store.ts";

/** One part of a key, compiled. */
export type KeyPart = { readonly kind: "principal" | "tool" | "endpoint" | "client_ip" } | { readonly kind: "claim"; readonly path: readonly string[] };

/** Separates parts of a key. */
const SEP = "\u0001";
/** The key part of a claim the caller does not have: one shared bucket. */
const NO_CLAIM = "\u0002";

export function compileKeyPart(p: string): KeyPart {
  if (p.startsWith("claim:")) return { kind: "claim", path: p.slice(6).split(".") };
  return { kind: p as "principal" | "tool" | "endpoint" | "client_ip" };
}

/** The principal of a call: the identity's subject, or "anonymous@<address>" for a caller without one. */
export function principalOf(call: Pick<GuardedCall, "caller">): string {
  const s = call.caller.subject;
  return s !== "" ? s : `anonymous@${call.caller.address}`;
}


/** The value of one key part for a call; a claim the caller lacks is undefined. */
function partOf(call: GuardedCall, p: KeyPart): string | undefined {
  switch (p.kind) {
    case "principal":
      return principalOf(call);
    case "tool":
      return call.tool.name;
    case "endpoint":
      return call.caller.endpoint;
    case "client_ip":
      return call.caller.address;
    case "claim":
      return claimOf(call.caller.identity?.claims, p.path);
  }
}

/** A call's key under `parts` (a missing claim shares one bucket). */
export function keyOf(call: GuardedCall, parts: readonly KeyPart[]): string {
  let key = "";
  for (let i = 0; i < parts.length; i++) {
    const v = partOf(call, parts[i] as KeyPart) ?? NO_CLAIM;
    key = i === 0 ? v : `${key}${SEP}${v}`;
  }
  return key;
}

interface CompiledQuota {
  readonly name: string;
  readonly key: readonly KeyPart[];
  readonly applies: (tool: string) => boolean;
}

export interface QuotaGuardOptions {
  readonly endpoint: string;
  readonly quotas: readonly QuotaConfig[];
  readonly budget: BudgetConfig | undefined;
  /** The top-level rate_limit block (its Redis backend, the local store's bound). */
  readonly rateLimit: FicusConfig["rate_limit"] | undefined;
  /** Cost of a tool by its source and upstream name (default 1). */
  readonly cost: (tool: CatalogTool) => number;
  /** The Redis rate-limit store, when rate_limit.redis is configured. */
  readonly redis: RedisStore | undefined;
  readonly budgetStore: BudgetStore | undefined;
  readonly metrics: ReturnType<ReturnType<typeof quotaMetrics>["bindBudget"]> | undefined;
  readonly bindQuota?: (quota: string) => Record<"admitted" | "limited" | "error", { inc(): void }>;
  readonly logger?: Logger | undefined;
  /** Wall clock (ms since the epoch) for budget days; monotonic ms for quotas. */
  readonly now?: () => number;
  readonly monotonic?: () => number;
}

export class QuotaGuard implements CallGuard {
  readonly name = "quota";
  private readonly quotas: readonly CompiledQuota[];
  private readonly limiter: Limiter | undefined;
  private readonly prepared: PreparedRoute | undefined;
  /** Which quotas apply to a tool, by catalog tool (rebuilt catalogs make new objects). */
  private readonly applies = new WeakMap<CatalogTool, readonly boolean[]>();
  private readonly costs = new WeakMap<CatalogTool, number>();
  private readonly now: () => number;
  private day = { day: "", endMs: 0 };
  private lastErrorLog = 0;

  constructor(private readonly opts: QuotaGuardOptions) {
    this.now = opts.now ?? Date.now;
    this.quotas = opts.quotas.map((q) => ({ name: q.name, key: q.key.map(compileKeyPart), applies: compileGlobs(q.tools) }));
    if (opts.quotas.length > 0) {
      const settings = quotaLimitSettings(opts.endpoint, opts.quotas, opts.rateLimit);
      const rs = settings.routes.get(`mcp/${opts.endpoint}`);
      this.limiter = new Limiter({
        redis: opts.redis,
        prefix: settings.redis?.prefix ?? "",
        maxKeys: settings.maxKeys,
        now: opts.monotonic,
        bind: opts.bindQuota === undefined ? undefined : (_route, limit) => (opts.bindQuota as NonNullable<QuotaGuardOptions["bindQuota"]>)(limit),
      });
      this.prepared = rs === undefined ? undefined : this.limiter.prepare(rs);
    }
  }

  before(call: GuardedCall): CallToolResult | undefined | Promise<CallToolResult | undefined> {
    const pr = this.prepared;
    if (pr === undefined || this.limiter === undefined) return this.spend(call);
    let applies = this.applies.get(call.tool);
    if (applies === undefined) {
      applies = this.quotas.map((q) => q.applies(call.tool.name));
      this.applies.set(call.tool, applies);
    }
    const keys: (string | undefined)[] = new Array(this.quotas.length);
    let any = false;
    for (let i = 0; i < this.quotas.length; i++) {
      if (applies[i] !== true) continue;
      keys[i] = keyOf(call, (this.quotas[i] as CompiledQuota).key);
      any = true;
    }
    if (!any) return this.spend(call);
    const decided = this.limiter.decideThen(pr, keys, keys, (o) => this.admitted(call, o));
    if (decided instanceof Promise) return decided.then((r) => (r === undefined ? this.spend(call) : r));
    return decided === undefined ? this.spend(call) : decided;
  }

  /** A quota's refusal as a tool error, or undefined when every quota admitted. */
  private admitted(call: GuardedCall, o: Outcome): CallToolResult | undefined {
    if (o.kind === "admitted") return undefined;
    const name = o.limit?.name ?? "";
    call.notes.quota = name;
    if (o.kind === "unavailable") return toolError(`rate limit ${name} could not be checked (its store is unavailable); ${call.tool.name} was not called, try again later`);
    const ms = Math.max(1, Math.ceil(o.resetMs));
    return toolError(`rate limit ${name} exceeded for ${call.tool.name}; retry after ${Math.ceil(ms / 1000)} s`, { "io.ficus/retry_after_ms": ms });
  }

  private costOf(tool: CatalogTool): number {
    let c = this.costs.get(tool);
    if (c === undefined) {
      c = this.opts.cost(tool);
      this.costs.set(tool, c);
    }
    return c;
  }

  /** Spends the call's cost from the budget: undefined to go on, or the tool error of an exhausted budget. */
  private spend(call: GuardedCall): CallToolResult | undefined | Promise<CallToolResult | undefined> {
    const b = this.opts.budget;
    const store = this.opts.budgetStore;
    if (b === undefined || store === undefined) return undefined;
    const cost = this.costOf(call.tool);
    if (cost === 0) return undefined;
    const now = this.now();
    if (now >= this.day.endMs) this.day = utcDay(now);
    const { day, endMs } = this.day;
    const key = b.key === "principal" ? principalOf(call) : (claimOf(call.caller.identity?.claims, b.key.slice(6).split(".")) ?? NO_CLAIM);
    let r: SpendResult | Promise<SpendResult>;
    try {
      r = store.spend(this.opts.endpoint, key, day, cost, b.limit, endMs);
    } catch (err) {
      return this.failed(call, b, err);
    }
    if (r instanceof Promise) return r.then((s) => this.spent(call, b, cost, s, endMs, now), (err: unknown) => this.failed(call, b, err));
    return this.spent(call, b, cost, r, endMs, now);
  }

  private spent(call: GuardedCall, b: BudgetConfig, cost: number, s: SpendResult, endMs: number, now: number): CallToolResult | undefined {
    const m = this.opts.metrics;
    if (s.ok) {
      m?.spent.inc();
      m?.units.inc(cost);
      call.notes.budget_used = s.used;
      return undefined;
    }
    m?.exhausted.inc();
    call.notes.budget = "exhausted";
    const reset = new Date(endMs).toISOString();
    return toolError(`budget exhausted: ${s.used} of ${b.limit} units used today (UTC) and ${call.tool.name} costs ${cost}; the budget resets at ${reset}`, {
      "io.ficus/retry_after_ms": Math.max(1, endMs - now),
      "io.ficus/budget_reset": reset,
    } satisfies JsonObject);
  }

  private failed(call: GuardedCall, b: BudgetConfig, err: unknown): CallToolResult | undefined {
    this.opts.metrics?.error.inc();
    const now = performance.now();
    if (this.lastErrorLog === 0 || now - this.lastErrorLog > 10_000) {
      this.lastErrorLog = now;
      this.opts.logger?.warn("MCP budget store failed", { endpoint: this.opts.endpoint, error: err instanceof Error ? err.message : String(err), on_backend_error: b.on_backend_error });
    }
    if (b.on_backend_error === "open") return undefined;
    call.notes.budget = "error";
    return toolError(`the budget could not be checked (its store is unavailable); ${call.tool.name} was not called, try again later`);
  }
}

/** The quotas as src/ratelimit limits of a route "mcp/<endpoint>": GCRA parameters precomputed, Redis when configured. */
export function quotaLimitSettings(endpoint: string, quotas: readonly QuotaConfig[], rateLimit: FicusConfig["rate_limit"] | undefined): RateLimitSettings {
  const backend = rateLimit?.redis !== undefined ? "redis" : "local";
  return compileRateLimits({
    rate_limit: rateLimit,
    routes: [
      {
        name: `mcp/${endpoint}`,
        rate_limit: {
          limits: quotas.map((q) => ({ name: q.name, rate: q.rate, burst: q.burst, key: ["client_ip" as const], missing_key: "skip" as const, backend, on_backend_error: q.on_backend_error })),
          headers: false,
        },
      },
    ],
  });
}

/** The cost of a tool: sources.<source>.per_tool.<upstream name>.cost, default 1. */
export function toolCost(config: FicusConfig, tool: CatalogTool): number {
  const src = config.mcp.sources[tool.entry.source.name];
  return src?.per_tool?.[tool.upstreamName]?.cost ?? 1;
}

function sharedRedis(deps: GuardDeps, settings: RateLimitSettings): RedisStore | undefined {
  const r = settings.redis;
  if (r === undefined) return undefined;
  let store = deps.shared.get("quota:redis") as RedisStore | undefined;
  if (store === undefined) {
    store = new RedisStore({ url: r.url, timeoutMs: r.timeoutMs, retryMs: r.retryMs }, (up, reason) => {
      if (up) deps.logger.info("the Redis store of MCP quotas is back");
      else deps.logger.warn("the Redis store of MCP quotas is down; quotas fail open or closed as configured", { reason });
    });
    deps.shared.set("quota:redis", store);
    const s = store;
    deps.onClose(() => s.close());
  }
  return store;
}

/** The budget store of a config: Redis when rate_limit.redis is configured, else the SQLite file (paths relative to `configDir`). */
export function budgetStoreFor(config: FicusConfig, budget: BudgetConfig, configDir: string): BudgetStore {
  const r = config.rate_limit?.redis;
  if (r !== undefined) return new RedisBudgetStore({ url: r.url, prefix: r.key_prefix, timeoutMs: r.timeout, retryMs: r.retry });
  return new SqliteBudgetStore(resolve(configDir, budget.store));
}

function sharedBudgetStore(deps: GuardDeps, budget: BudgetConfig): BudgetStore {
  const k = deps.config.rate_limit?.redis !== undefined ? "quota:budget:redis" : `quota:budget:${resolve(deps.configDir, budget.store)}`;
  let store = deps.shared.get(k) as BudgetStore | undefined;
  if (store === undefined) {
    store = budgetStoreFor(deps.config, budget, deps.configDir);
    deps.shared.set(k, store);
    const s = store;
    deps.onClose(() => s.close());
  }
  return store;
}

export function createQuotaGuard(deps: GuardDeps): CallGuard | undefined {
  const mcp = deps.route.mcp;
  const quotas = mcp?.quotas ?? [];
  const budget = mcp?.budget;
  if (quotas.length === 0 && budget === undefined) return undefined;
  const endpoint = deps.route.name;
  const m = quotaMetrics(deps.metrics);
  const redis = quotas.length > 0 ? sharedRedis(deps, quotaLimitSettings(endpoint, quotas, deps.config.rate_limit)) : undefined;
  return new QuotaGuard({
    endpoint,
    quotas,
    budget,
    rateLimit: deps.config.rate_limit,
    cost: (t) => toolCost(deps.config, t),
    redis,
    budgetStore: budget === undefined ? undefined : sharedBudgetStore(deps, budget),
    metrics: m.bindBudget(endpoint),
    bindQuota: (q) => m.bindQuota(endpoint, q),
    logger: deps.logger,
  });
}
