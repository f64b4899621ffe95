/**
 * Compiles a validated config into what the data plane reads: routes with
 * pre-parsed endpoints, header ops, rewrite functions and bound metrics, and
 * the router. A RouteTable is immutable once built; a reload builds a new one
 * and swaps the reference, so a request keeps the table it started with.
 */
import { type CompiledRules, compileRules } from "../compare/rules.ts";
import type { FicusConfig, RouteConfig, UpstreamObject } from "../config/schema.ts";
import type { CanarySettings, CanaryState } from "../migration/canary.ts";
import { type ControlState, configKey, configState, type Plan, planOf } from "../migration/control.ts";
import { Redactor } from "../migration/redact.ts";
import { type RouteMatcher, Router } from "../routing/router.ts";
import type { HeaderOps } from "./headers.ts";
import { RetryBudget, UpstreamPool } from "./upstream-pool.ts";
import type { Metrics, RouteMetrics } from "../observability/metrics.ts";

export type RetryCondition = "connect-failure" | "502" | "503" | "504" | "reset";

export interface ShadowState {
  readonly config: RouteConfig["shadow"];
  readonly redactor: Redactor;
  /** Sampling accumulator: a request is mirrored each time it reaches 1. */
  acc: number;
  /** Candidate calls in flight. */
  inflight: number;
  /** A/A accumulator: a mirrored safe request also goes to legacy twice each time it reaches 1. */
  aaAcc: number;
  /** Generalized paths whose differences are noise (learned or marked), refreshed from the store. */
  noise: ReadonlySet<string>;
}

/** The stage in force for a route: what ficus.yaml says, or what a command changed it to. */
export interface LiveState {
  stage: RouteConfig["stage"];
  paused: boolean;
}

export interface RuntimeRoute {
  readonly name: string;
  /** Read per request; updated by the control poller (the canary percentage lives in `canary.percent`). */
  readonly live: LiveState;
  /** What ficus.yaml says, and the key runtime state is tied to. */
  readonly configured: ControlState;
  readonly configKey: string;
  readonly plan: Plan;
  readonly legacyPool: UpstreamPool;
  readonly candidatePool: UpstreamPool | undefined;
  readonly canary: CanarySettings;
  readonly canaryState: CanaryState;
  /** Honour X-Ficus-Force (routes with a candidate). */
  readonly allowForce: boolean;
  /** Answer with X-Ficus-Served-By (routes with a candidate). */
  readonly servedByHeader: boolean;
  readonly compareRules: CompiledRules;
  readonly shadow: ShadowState;
  readonly rewrite: ((path: string, params: Record<string, string>) => string) | undefined;
  readonly requestOps: HeaderOps | undefined;
  readonly responseOps: HeaderOps | undefined;
  readonly timeouts: { readonly header: number; readonly idle: number; readonly total: number };
  readonly retries: { readonly attempts: number; readonly on: ReadonlySet<RetryCondition>; readonly backoff: number };
  readonly budget: RetryBudget;
  readonly maxBody: number;
  readonly preserveHost: boolean;
  readonly metrics: RouteMetrics;
  readonly config: RouteConfig;
}

export interface RouteTable {
  readonly router: Router<RuntimeRoute>;
  readonly routes: readonly RuntimeRoute[];
  readonly byName: ReadonlyMap<string, RuntimeRoute>;
  readonly defaultRoute: RuntimeRoute | undefined;
  readonly pools: readonly UpstreamPool[];
  readonly limits: { readonly maxUrl: number; readonly maxHeader: number };
}

function ops(o: { add: Record<string, string>; remove: string[] } | undefined): HeaderOps | undefined {
  if (!o) return undefined;
  const add = Object.entries(o.add).map(([k, v]) => [k.toLowerCase(), v] as const);
  const remove = o.remove.map((r) => r.toLowerCase());
  return add.length + remove.length > 0 ? { add, remove } : undefined;
}

/** Builds the path rewrite of a route, or undefined when the path is forwarded as is. */
export function compileRewrite(r: RouteConfig["rewrite"]): RuntimeRoute["rewrite"] {
  if (!r) return undefined;
  const { strip_prefix: strip, prefix, path: template } = r;
  if (template !== undefined) {
    const parts = template.split("/").map((seg) => (seg === "*" ? { param: "*" } : seg.startsWith(":") ? { param: seg.slice(1) } : { text: seg }));
    return (_path, params) =>
      parts.map((p) => ("text" in p ? p.text : (params[p.param as string] ?? ""))).join("/") || "/";
  }
  const stripLen = strip ? strip.replace(/\/+$/, "").length : 0;
  const add = prefix ? prefix.replace(/\/+$/, "") : "";
  return (path) => {
    let p = path;
    if (stripLen > 0 && strip && p.startsWith(strip.replace(/\/+$/, ""))) {
      p = p.slice(stripLen);
      if (p === "" || p[0] !== "/") p = `/${p}`;
    }
    return add ? (p === "/" ? `${add}/` : add + p) : p;
  };
}

function poolFor(name: string, u: UpstreamObject): UpstreamPool {
  const h = u.health ?? { max_failures: 5, ejection: 10_000, max_ejection: 300_000 };
  return new UpstreamPool(name, u.endpoints, u.balance, { maxFailures: h.max_failures, ejectionMs: h.ejection, maxEjectionMs: h.max_ejection });
}

/** What the router matches a route's requests by, from its `match:` block. */
export function matcherOf(rc: RouteConfig): RouteMatcher {
  const m = rc.match;
  return { host: m.host, path: m.path, prefix: m.prefix, methods: m.methods, headers: m.headers ? Object.entries(m.headers).map(([name, value]) => ({ name, value })) : undefined };
}

export function buildRouteTable(config: FicusConfig, metrics: Metrics, onPool?: (p: UpstreamPool) => void): RouteTable {
  const named = new Map<string, UpstreamPool>();
  for (const [name, u] of Object.entries(config.upstreams)) named.set(name, poolFor(name, u));
  const pools: UpstreamPool[] = [...named.values()];
  const resolve = (name: string, up: NonNullable<RouteConfig["upstream"]>): UpstreamPool => {
    if (typeof up === "string" && named.has(up)) return named.get(up) as UpstreamPool;
    const obj: UpstreamObject = typeof up === "string" ? { endpoints: [up], balance: "round_robin" } : Array.isArray(up) ? { endpoints: up, balance: "round_robin" } : up;
    const pool = poolFor(name, obj);
    pools.push(pool);
    return pool;
  };
  const routes: RuntimeRoute[] = config.routes.map((rc) => {
    const legacyPool = resolve(rc.name, (rc.legacy ?? rc.upstream) as NonNullable<RouteConfig["upstream"]>);
    const candidatePool = rc.candidate !== undefined ? resolve(`${rc.name}.candidate`, rc.candidate) : undefined;
    const configured = configState(rc);
    return {
      name: rc.name,
      live: { stage: rc.stage, paused: false },
      configured,
      configKey: configKey(rc),
      plan: planOf(rc),
      legacyPool,
      candidatePool,
      canary: { percent: configured.percent, header: rc.canary.sticky.header?.toLowerCase(), cookie: rc.canary.sticky.cookie, fallback: rc.canary.sticky.fallback, salt: rc.canary.sticky.salt },
      canaryState: { acc: 0 },
      allowForce: candidatePool !== undefined && rc.canary.allow_force,
      servedByHeader: candidatePool !== undefined && rc.served_by_header,
      compareRules: compileRules(rc.compare),
      shadow: { config: rc.shadow, redactor: new Redactor(config.redact, rc.shadow.redact), acc: 0, inflight: 0, aaAcc: 0, noise: new Set() },
      rewrite: compileRewrite(rc.rewrite),
      requestOps: ops(rc.request_headers),
      responseOps: ops(rc.response_headers),
      timeouts: rc.timeouts,
      retries: { attempts: rc.retries.attempts, on: new Set(rc.retries.on), backoff: rc.retries.backoff },
      budget: new RetryBudget(rc.retries.budget, rc.retries.min_per_second),
      maxBody: rc.max_body,
      preserveHost: rc.preserve_host,
      metrics: metrics.forRoute(rc.name),
      config: rc,
    };
  });
  for (const p of pools) onPool?.(p);
  metrics.stage.reset();
  metrics.canaryPercent.reset();
  for (const r of routes) {
    if (!r.candidatePool) continue;
    metrics.stage.set({ route: r.name, stage: r.live.stage }, 1);
    metrics.canaryPercent.set({ route: r.name }, r.canary.percent);
  }
  const router = new Router(
    routes.map((r, order) => ({
      value: r,
      order,
      match: matcherOf(r.config),
    })),
  );
  const byName = new Map(routes.map((r) => [r.name, r]));
  return {
    router,
    routes,
    byName,
    defaultRoute: config.default_route !== undefined ? byName.get(config.default_route) : undefined,
    pools,
    limits: { maxUrl: config.limits.max_url_bytes, maxHeader: config.limits.max_header_bytes },
  };
}
