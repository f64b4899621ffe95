/**
 * The authentication metrics: ficus_auth_total{route,result}, one series
 * per route and outcome (ok, anonymous, missing, invalid, expired,
 * unavailable). Registered once per Metrics instance, so a layer rebuilt on
 * reload counts on.
 */
import { Counter, type Metrics } from "../observability/metrics.ts";

export const AUTH_RESULTS = ["ok", "anonymous", "missing", "invalid", "expired", "unavailable"] as const;
export type AuthResult = (typeof AUTH_RESULTS)[number];

export interface AuthMetrics {
  readonly total: Counter<"route" | "result">;
}

const byRegistry = new WeakMap<Metrics, AuthMetrics>();

export function authMetrics(metrics: Metrics): AuthMetrics {
  let m = byRegistry.get(metrics);
  if (m === undefined) {
    m = {
      total: new Counter(metrics.registry, {
        name: "ficus_auth_total",
        help: "Authentication outcomes by route: ok, anonymous (optional mode, no credential), missing, invalid, expired, unavailable (signing keys could not be fetched).",
        labelNames: ["route", "result"] as const,
      }),
    };
    byRegistry.set(metrics, m);
  }
  return m;
}

/** The bound counters of one route, one per result. */
export type RouteCounters = Readonly<Record<AuthResult, { inc(value?: number): void }>>;

export function routeCounters(m: AuthMetrics, route: string): RouteCounters {
  const out = {} as Record<AuthResult, { inc(value?: number): void }>;
  for (const r of AUTH_RESULTS) out[r] = m.total.labels(route, r);
  return out;
}
