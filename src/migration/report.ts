/**
 * The migration report: per route, its stage and the shadow results (the
 * shape `ficus report --json` prints and GET /admin/migrations serves).
 */
import type { FicusConfig } from "../config/schema.ts";
import type { NoiseEntry, ResultsStore, RouteResults, SignatureSummary } from "./store.ts";

export interface RouteReport {
  readonly route: string;
  readonly stage: string;
  readonly total: number;
  readonly shadowed: number;
  readonly compared: number;
  readonly matched: number;
  readonly mismatched: number;
  readonly noise_only: number;
  readonly candidate_error: number;
  readonly candidate_timeout: number;
  readonly skipped: RouteResults["skipped"];
  readonly latency: { readonly legacy: RouteResults["latency"]["legacy"]; readonly candidate: RouteResults["latency"]["candidate"]; readonly ratio_p50: number };
  readonly signatures: readonly Pick<SignatureSummary, "id" | "count" | "status" | "paths" | "severity">[];
  readonly aa_compared: number;
  readonly noise: readonly NoiseEntry[];
}

const DEFAULT_NOISE = { relative: 0.2, absolute: 0.0003, min_aa: 20 };

/** Routes that take part in a migration: those with a candidate, plus any with stored results. */
export function migrationRoutes(config: FicusConfig, store: ResultsStore): string[] {
  const names = config.routes.filter((r) => r.candidate !== undefined).map((r) => r.name);
  for (const r of store.routes()) if (!names.includes(r.route)) names.push(r.route);
  return names;
}

export function routeReport(config: FicusConfig, store: ResultsStore, route: string, topSignatures = 10): RouteReport {
  const r = store.route(route);
  const rc = config.routes.find((x) => x.name === route);
  const stage = rc?.stage ?? "(not configured)";
  return {
    route,
    stage,
    ...r.counters,
    skipped: r.skipped,
    latency: { legacy: r.latency.legacy, candidate: r.latency.candidate, ratio_p50: r.latency.ratio_p50 },
    signatures: store.signatures(route, topSignatures).map(({ id, count, status, paths, severity }) => ({ id, count, status, paths, severity })),
    noise: store.noise(route, rc?.shadow.noise ?? DEFAULT_NOISE),
  };
}

export function migrationsReport(config: FicusConfig, store: ResultsStore): { routes: RouteReport[] } {
  return { routes: migrationRoutes(config, store).map((r) => routeReport(config, store, r)) };
}
