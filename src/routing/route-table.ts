/**
 * Compiles a validated config into what the data plane reads: routes with
 * their upstream pools, header operations, rewrite functions and bound
 * metrics, and the router. A RouteTable is immutable once built (its pools
 * and retry budgets keep runtime counters, never configuration); a reload
 * builds a new one and swaps the reference, so a request keeps the table it
 * started with. What a migration changes at runtime (stage, percentage,
 * sampling) lives in src/migration/routes.ts, not here.
 */
import type { FicusConfig, RouteConfig, UpstreamObject } from "../config/schema.ts";
import type { Metrics, RouteMetrics } from "../observability/metrics.ts";
import { compileUpstreamTls, type UpstreamTlsConfig } from "../tls/settings.ts";
import type { UpstreamClients } from "../upstream/clients.ts";
import { RetryBudget, UpstreamPool } from "../upstream/pool.ts";
import { type RouteMatcher, Router } from "./router.ts";

export type RetryCondition = "connect-failure" | "502" | "503" | "504" | "reset";

/** Header changes of a route: [lowercase name, value] pairs to set, lowercase names to remove. */
export interface HeaderOps {
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export interface RuntimeRoute {
  readonly name: string;
  /** Where the route forwards; undefined only in sidecar mode, where routes decide and never forward. */
  readonly legacyPool: UpstreamPool | undefined;
  readonly candidatePool: UpstreamPool | undefined;
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

function poolFor(name: string, u: UpstreamObject & { readonly tls?: UpstreamTlsConfig }, clients: UpstreamClients | undefined, where: string): UpstreamPool {
  const h = u.health ?? { max_failures: 5, ejection: 10_000, max_ejection: 300_000 };
  // TLS files are read only where connections are made (not by tools that only match routes).
  const tls = clients !== undefined && u.tls !== undefined ? compileUpstreamTls(u.tls, `${where}.tls`) : undefined;
  return new UpstreamPool(name, u.endpoints, u.balance, { maxFailures: h.max_failures, ejectionMs: h.ejection, maxEjectionMs: h.max_ejection }, clients, tls);
}

/** What the router matches a route's requests by, from its `match:` block. */
export function matcherOf(rc: RouteConfig): RouteMatcher {
  const m = rc.match;
  return { host: m.host, path: m.path, prefix: m.prefix, methods: m.methods, headers: m.headers ? Object.entries(m.headers).map(([name, value]) => ({ name, value })) : undefined };
}

/** Builds the table; `clients` gives each endpoint its connection pool (absent in tools that only match routes). */
export function buildRouteTable(config: FicusConfig, metrics: Metrics, onPool?: (p: UpstreamPool) => void, clients?: UpstreamClients): RouteTable {
  const named = new Map<string, UpstreamPool>();
  for (const [name, u] of Object.entries(config.upstreams)) named.set(name, poolFor(name, u, clients, `upstreams.${name}`));
  const pools: UpstreamPool[] = [...named.values()];
  const resolve = (name: string, up: NonNullable<RouteConfig["upstream"]>, field: string): UpstreamPool => {
    if (typeof up === "string" && named.has(up)) return named.get(up) as UpstreamPool;
    const obj: UpstreamObject = typeof up === "string" ? { endpoints: [up], balance: "round_robin" } : Array.isArray(up) ? { endpoints: up, balance: "round_robin" } : up;
    const pool = poolFor(name, obj, clients, field);
    pools.push(pool);
    return pool;
  };
  const routes: RuntimeRoute[] = config.routes.map((rc) => {
    const legacyRef = rc.legacy ?? rc.upstream;
    const legacyPool = legacyRef === undefined ? undefined : resolve(rc.name, legacyRef, `routes.${rc.name}.${rc.legacy !== undefined ? "legacy" : "upstream"}`);
    const candidatePool = rc.candidate !== undefined ? resolve(`${rc.name}.candidate`, rc.candidate, `routes.${rc.name}.candidate`) : undefined;
    return {
      name: rc.name,
      legacyPool,
      candidatePool,
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
