/**
 * The migration report: per route, its stage and the shadow results (the
 * shape `ficus report --json` prints and GET /admin/migrations serves).
 */
import type { FicusConfig } from "../config/schema.ts";
import { EXPERIMENT_PREFIX } from "../experiment/wire.ts";
import { candidateRoutes, effectiveState } from "./commands.ts";
import type { NoiseEntry, ResultsStore, RouteResults, SignatureSummary } from "./store.ts";

export interface RouteReport {
  readonly route: string;
  readonly stage: string;
  /** Share served by the candidate now. */
  readonly percent: number;
  /** Held against promotion (paused, or after a rollback). */
  readonly paused: boolean;
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

/** Noise settings for a route no longer in the config (its stored results are still reported). */
export const DEFAULT_NOISE = { relative: 0.2, absolute: 0.0003, min_aa: 20 };

/** Routes that take part in a migration: those with a candidate, plus any with stored results (experiment:NAME entries too). */
export async function migrationRoutes(config: FicusConfig, store: ResultsStore): Promise<string[]> {
  const names = candidateRoutes(config).map((r) => r.name);
  for (const r of await store.routes()) if (!names.includes(r.route)) names.push(r.route);
  return names;
}

/**
 * Signatures as they read now: noise paths (possibly learned after the
 * mismatch was recorded) are dropped, signatures that become the same are
 * merged (the id is the largest one's, for its samples), and signatures made
 * only of noise are left to the noise list.
 */
export function currentSignatures(sigs: readonly SignatureSummary[], noise: readonly NoiseEntry[], limit: number): RouteReport["signatures"] {
  const noisy = new Set(noise.map((n) => n.path));
  const merged = new Map<string, { id: string; count: number; best: number; status: readonly [number, number]; paths: readonly string[]; severity: SignatureSummary["severity"] }>();
  for (const s of sigs) {
    const paths = s.paths.filter((p) => !noisy.has(p));
    if (paths.length === 0 && s.status[0] === s.status[1]) continue;
    const key = `${s.status[0]} ${s.status[1]} ${paths.join("\n")}`;
    const m = merged.get(key);
    if (!m) merged.set(key, { id: s.id, count: s.count, best: s.count, status: s.status, paths, severity: s.severity });
    else {
      m.count += s.count;
      if (s.count > m.best) {
        m.best = s.count;
        m.id = s.id;
      }
    }
  }
  return [...merged.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, limit)
    .map(({ id, count, status, paths, severity }) => ({ id, count, status, paths, severity }));
}

export async function routeReport(config: FicusConfig, store: ResultsStore, route: string, topSignatures = 10): Promise<RouteReport> {
  const r = await store.route(route);
  const rc = candidateRoutes(config).find((x) => x.name === route) ?? config.routes.find((x) => x.name === route);
  const state = rc && rc.candidate !== undefined ? await effectiveState(rc, store) : undefined;
  // In-process experiments (src/experiment) report like routes, under experiment:NAME, with no stage to move.
  const stage = state?.stage ?? rc?.stage ?? (route.startsWith(EXPERIMENT_PREFIX) ? "experiment" : "(not configured)");
  const noise = await store.noise(route, rc?.shadow.noise ?? DEFAULT_NOISE);
  return {
    route,
    stage,
    percent: state?.percent ?? 0,
    paused: state?.paused ?? false,
    ...r.counters,
    skipped: r.skipped,
    latency: { legacy: r.latency.legacy, candidate: r.latency.candidate, ratio_p50: r.latency.ratio_p50 },
    signatures: currentSignatures(await store.signatures(route, 1000), noise, topSignatures),
    noise,
  };
}

export async function migrationsReport(config: FicusConfig, store: ResultsStore): Promise<{ routes: RouteReport[] }> {
  const routes: RouteReport[] = [];
  for (const r of await migrationRoutes(config, store)) routes.push(await routeReport(config, store, r));
  return { routes };
}
