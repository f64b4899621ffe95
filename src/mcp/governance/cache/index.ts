/**
 * The tool-result cache (docs/mcp.md, "Cache"): the same question asked
 * again by the same principal (or tenant, or anyone, as the tool's cache
 * scope says) is answered from a stored result, in `before`, without calling
 * the tool. Safe by construction:
 *
 * - only read-only tools: a readOnlyHint the gateway trusts (declared and
 *   OpenAPI tools come from the config; a federated server's only with
 *   `trust_annotations: true`) or the operator's `read_only: true`;
 * - only complete results: never a tool error (isError), an input_required
 *   round, a protocol error, or a result over `max_entry_bytes`;
 * - the key holds the scope (method, issuer and subject of the principal;
 *   or issuer and tenant; or "*"), the source, the hash of the tool's
 *   definition (a changed definition misses), the tool's name and the
 *   canonical arguments (key.ts); a caller with nothing to scope on is
 *   not cached, except the anonymous callers of an endpoint without any
 *   authentication, who are all the same principal to the gateway;
 * - a source's entries are dropped when its tool list changes.
 *
 * A hit carries `_meta["io.ficus/cache"] = { hit: true, age_ms }` and
 * notes.cache = "hit"; a miss notes "miss" and `after` stores the result.
 * The hit path is a WeakMap read (the tool's compiled plan), a string
 * concatenation and a Map read.
 */
import { definitionHash } from "../../pinning/hash.ts";
import type { CatalogTool } from "../../registry/registry.ts";
import type { CallToolResult, ToolDefinition } from "../../types.ts";
import { Counter, type Metrics } from "../../../observability/metrics.ts";
import type { CallEnd, CallGuard, Caller, GuardedCall } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { canonicalArguments, compileKeyFields, type KeyField, schemaDefaults } from "./key.ts";
import { RedisCacheStore } from "./redis-store.ts";
import type { ToolCacheConfig } from "./schema.ts";
import { type CachedResult, type CacheStore, MemoryStore } from "./store.ts";

export { cacheConfigSchema, cachePerToolFields, cacheSourceFields } from "./schema.ts";
export { canonicalArguments, compileKeyFields, schemaDefaults } from "./key.ts";
export { MemoryStore } from "./store.ts";
export { RedisCacheStore } from "./redis-store.ts";

/** The `_meta` key of a hit. */
export const CACHE_META = "io.ficus/cache";

/** While Redis is down, one read per this many ms probes it. */
const REDIS_RETRY_MS = 1000;

/** A tool's cache settings, compiled from its per_tool entry. */
interface ToolSettings {
  readonly ttl: number;
  readonly fields: readonly KeyField[] | undefined;
  readonly scope: "principal" | "tenant" | "global";
  readonly tenantClaim: string;
  readonly readOnly: boolean | undefined;
}

interface SourceSettings {
  readonly trustAnnotations: boolean;
  readonly tools: ReadonlyMap<string, ToolSettings>;
}

/** What the cache knows of one catalog tool, compiled on its first call (a catalog rebuild makes new tools). */
interface Plan {
  readonly settings: ToolSettings;
  readonly source: string;
  /** Read-only as the gateway trusts it (or the operator said). */
  readonly cacheable: boolean;
  /** "\0<source>\0<definition hash>\0<tool name>\0": the key's middle, made once. */
  readonly middle: string;
  readonly defaults: ReturnType<typeof schemaDefaults>;
  readonly labels: { readonly hit: L; readonly miss: L; readonly stored: L; readonly skipped: L };
}
type L = { tool: string; result: string };

/** What a miss leaves for `after`. */
interface Pending {
  readonly key: string;
  readonly plan: Plan;
}

/** The definition hash of each definition object (a catalog rebuild makes new objects, so a change is seen). */
const hashes = new WeakMap<ToolDefinition, string>();
function hashOf(d: ToolDefinition): string {
  let h = hashes.get(d);
  if (h === undefined) {
    h = definitionHash(d);
    hashes.set(d, h);
  }
  return h;
}

const counters = new WeakMap<Metrics, Counter<"tool" | "result">>();
function cacheCounter(metrics: Metrics): Counter<"tool" | "result"> {
  let c = counters.get(metrics);
  if (c === undefined) {
    c = new Counter(metrics.registry, {
      name: "ficus_mcp_cache_total",
      help: "MCP tool calls seen by the result cache, by tool and result: hit (answered from the cache), miss (looked up, not found), stored (a miss's result kept), skipped (not cached: the tool is not trusted as read-only, the caller has no principal or tenant to key on, or the result was an error, input_required or too large).",
      labelNames: ["tool", "result"] as const,
    });
    counters.set(metrics, c);
  }
  return c;
}

/** What the endpoints of one service share: the store, and the registry subscription that drops changed sources. */
interface Shared {
  readonly store: CacheStore;
  readonly counter: Counter<"tool" | "result">;
  /** Tools already warned about (cache configured, not read-only). */
  readonly warned: Set<string>;
}

function sharedState(deps: GuardDeps): Shared {
  const known = deps.shared.get("cache") as Shared | undefined;
  if (known !== undefined) return known;
  const c = deps.config.mcp.cache;
  const store: CacheStore =
    c.backend === "redis"
      ? new RedisCacheStore({ url: c.redis_url, prefix: c.key_prefix, timeoutMs: c.redis_timeout, retryMs: REDIS_RETRY_MS }, (up, reason) => {
          if (up) deps.logger.info("the MCP result cache's Redis is back", {});
          else deps.logger.warn("the MCP result cache's Redis is unreachable: calls go to their tools (as misses) until it is back", { reason });
        })
      : new MemoryStore({ maxEntries: c.max_entries, maxBytes: c.max_bytes });
  // A source's tool list changed (its source refreshed it: a new array): drop its entries. A changed definition
  // also changes the hash in the key; this also covers a behaviour change announced with an unchanged list.
  const registry = deps.registry;
  const seen = new Map(registry.entries.map((e) => [e.source.name, e.source.tools()] as const));
  const unsubscribe = registry.subscribe((kind) => {
    if (kind !== "tools") return;
    for (const e of registry.entries) {
      const now = e.source.tools();
      if (seen.get(e.source.name) === now) continue;
      seen.set(e.source.name, now);
      store.dropSource(e.source.name);
    }
  });
  const shared: Shared = { store, counter: cacheCounter(deps.metrics), warned: new Set() };
  deps.shared.set("cache", shared);
  deps.onClose(() => {
    unsubscribe();
    store.close();
  });
  return shared;
}

function compileSettings(t: ToolCacheConfig): ToolSettings {
  return { ttl: t.ttl, fields: compileKeyFields(t.key), scope: t.scope, tenantClaim: t.tenant_claim, readOnly: t.read_only };
}

export function createCacheGuard(deps: GuardDeps): CallGuard | undefined {
  const served = deps.route.mcp?.sources;
  const sources = new Map<string, SourceSettings>();
  for (const [name, s] of Object.entries(deps.config.mcp.sources)) {
    if (served !== undefined && !served.includes(name)) continue;
    const tools = new Map<string, ToolSettings>();
    for (const [tool, t] of Object.entries(s.per_tool ?? {})) if (t.cache !== undefined) tools.set(tool, compileSettings(t.cache));
    if (tools.size > 0) sources.set(name, { trustAnnotations: s.trust_annotations, tools });
  }
  if (sources.size === 0) return undefined;
  return new CacheGuard(sources, sharedState(deps), deps, deps.route.auth !== undefined);
}

export class CacheGuard implements CallGuard {
  readonly name = "cache";
  private readonly plans = new WeakMap<CatalogTool, Plan | null>();
  private readonly pending = new WeakMap<GuardedCall, Pending>();
  private readonly store: CacheStore;
  private readonly counter: Counter<"tool" | "result">;
  private readonly maxEntryBytes: number;

  constructor(
    private readonly sources: ReadonlyMap<string, SourceSettings>,
    private readonly shared: Shared,
    private readonly deps: Pick<GuardDeps, "logger" | "config">,
    /** The endpoint authenticates (route auth): an anonymous caller there is not cached. */
    private readonly endpointAuth: boolean,
  ) {
    this.store = shared.store;
    this.counter = shared.counter;
    this.maxEntryBytes = deps.config.mcp.cache.max_entry_bytes;
  }

  private planOf(tool: CatalogTool): Plan | null {
    let p = this.plans.get(tool);
    if (p !== undefined) return p;
    p = this.compile(tool);
    this.plans.set(tool, p);
    return p;
  }

  private compile(tool: CatalogTool): Plan | null {
    const source = tool.entry.source;
    const s = this.sources.get(source.name);
    const settings = s?.tools.get(tool.upstreamName);
    if (s === undefined || settings === undefined) return null;
    const d = tool.definition;
    const trusted = source.kind === "http" || source.kind === "openapi" || s.trustAnnotations;
    const cacheable = settings.readOnly ?? (trusted && d.annotations?.readOnlyHint === true);
    if (!cacheable && !this.shared.warned.has(`${source.name}\u0000${tool.upstreamName}`)) {
      this.shared.warned.add(`${source.name}\u0000${tool.upstreamName}`);
      const why =
        settings.readOnly === false
          ? "its cache says read_only: false"
          : d.annotations?.readOnlyHint === true
            ? "its source's readOnlyHint is not trusted (set trust_annotations: true on the source, or read_only: true on the tool)"
            : "its annotations do not say readOnlyHint (set read_only: true on the tool if it only reads)";
      this.deps.logger.warn("an MCP tool has a cache ttl but is not cached: it is not known to be read-only", { source: source.name, tool: tool.name, why });
    }
    const label = (result: string): L => ({ tool: tool.name, result });
    return {
      settings,
      source: source.name,
      cacheable,
      middle: `\u0000${source.name}\u0000${hashOf(d)}\u0000${tool.name}\u0000`,
      defaults: schemaDefaults(d.inputSchema),
      labels: { hit: label("hit"), miss: label("miss"), stored: label("stored"), skipped: label("skipped") },
    };
  }

  /** Who shares the entry: undefined when the caller has nothing to be keyed on (then nothing is cached). */
  private scopeOf(caller: Caller, s: ToolSettings): string | undefined {
    const id = caller.identity;
    if (s.scope === "global") return "*";
    if (s.scope === "tenant") {
      const t = id?.claims[s.tenantClaim];
      if ((typeof t === "string" && t !== "") || typeof t === "number") return `t\u0000${id?.issuer ?? ""}\u0000${t}`;
      return undefined;
    }
    if (caller.subject !== "" && id !== undefined) return `p\u0000${id.method}\u0000${id.issuer}\u0000${caller.subject}`;
    // Anonymous: one principal only on an endpoint that authenticates nobody.
    return id === undefined && !this.endpointAuth ? "a" : undefined;
  }

  before(call: GuardedCall): CallToolResult | undefined | Promise<CallToolResult | undefined> {
    const plan = this.planOf(call.tool);
    if (plan === null) return undefined;
    // A retry carrying the agent's answers to input_required depends on those answers: never looked up or stored.
    const scope = plan.cacheable && !call.retry ? this.scopeOf(call.caller, plan.settings) : undefined;
    if (scope === undefined) {
      call.notes.cache = "skipped";
      this.counter.inc(plan.labels.skipped);
      return undefined;
    }
    const key = scope + plan.middle + canonicalArguments(call.args, plan.defaults, plan.settings.fields);
    const now = Date.now();
    const got = this.store.get(key, plan.source, now);
    if (got instanceof Promise) return got.then((e) => this.answer(call, plan, key, e, now));
    return this.answer(call, plan, key, got, now);
  }

  private answer(call: GuardedCall, plan: Plan, key: string, e: CachedResult | undefined, now: number): CallToolResult | undefined {
    if (e === undefined) {
      call.notes.cache = "miss";
      this.counter.inc(plan.labels.miss);
      this.pending.set(call, { key, plan });
      return undefined;
    }
    call.notes.cache = "hit";
    this.counter.inc(plan.labels.hit);
    const r = e.result;
    // A copy of the top level only: the stored result is never changed (guards replace results, they do not edit them).
    return { ...r, _meta: { ...r._meta, [CACHE_META]: { hit: true, age_ms: now - e.storedAt } } };
  }

  after(call: GuardedCall, end: CallEnd): undefined {
    const p = this.pending.get(call);
    if (p === undefined) return undefined;
    this.pending.delete(call);
    const r = end.kind === "result" ? end.result : undefined;
    // Not kept: errors, input_required, and results of calls during which the upstream asked the agent something.
    if (r === undefined || r.isError === true || (r.resultType !== undefined && r.resultType !== "complete") || call.notes.asked === true) {
      this.counter.inc(p.plan.labels.skipped);
      return undefined;
    }
    const json = JSON.stringify(r);
    const bytes = json.length <= this.maxEntryBytes / 3 ? json.length : Buffer.byteLength(json);
    if (bytes > this.maxEntryBytes) {
      this.counter.inc(p.plan.labels.skipped);
      return undefined;
    }
    this.store.set(p.key, p.plan.source, r, json, bytes, p.plan.settings.ttl, Date.now());
    this.counter.inc(p.plan.labels.stored);
    return undefined;
  }
}
