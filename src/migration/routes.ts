/**
 * The runtime state of each route being migrated (a route with a candidate):
 * the stage and canary percentage in force (changed by commands through the
 * store), the sticky-assignment and sampling accumulators, the learned noise,
 * and the compiled compare rules and redactor. Built beside each route table
 * (at start and on every reload) and owned by the migration layer; the route
 * table itself stays immutable.
 */
import { type CompiledRules, compileRules } from "../compare/rules.ts";
import type { FicusConfig, RouteConfig } from "../config/schema.ts";
import type { RouteTable, RuntimeRoute } from "../routing/route-table.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import type { CanarySettings, CanaryState } from "./canary.ts";
import { type ControlState, configKey, configState, type Plan, planOf } from "./control.ts";
import { Redactor } from "./redact.ts";

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

export interface MigrationRoute {
  readonly name: string;
  readonly route: RuntimeRoute;
  readonly legacyPool: UpstreamPool;
  readonly candidatePool: UpstreamPool;
  /** Read per request; updated by the control poller (the canary percentage lives in `canary.percent`). */
  readonly live: LiveState;
  /** What ficus.yaml says, and the key runtime state is tied to. */
  readonly configured: ControlState;
  readonly configKey: string;
  readonly plan: Plan;
  readonly canary: CanarySettings;
  readonly canaryState: CanaryState;
  /** Honour X-Ficus-Force. */
  readonly allowForce: boolean;
  /** Answer with X-Ficus-Served-By. */
  readonly servedByHeader: boolean;
  readonly compareRules: CompiledRules;
  readonly shadow: ShadowState;
}

/** The migrated routes of one route table, by route name. */
export type MigrationRoutes = ReadonlyMap<string, MigrationRoute>;

export function buildMigrationRoutes(config: FicusConfig, table: RouteTable): MigrationRoutes {
  const out = new Map<string, MigrationRoute>();
  for (const route of table.routes) {
    const rc = route.config;
    // A candidate always has a legacy side (the schema requires it, in either mode).
    if (route.candidatePool === undefined || route.legacyPool === undefined) continue;
    const configured = configState(rc);
    out.set(route.name, {
      name: route.name,
      route,
      legacyPool: route.legacyPool,
      candidatePool: route.candidatePool,
      live: { stage: rc.stage, paused: false },
      configured,
      configKey: configKey(rc),
      plan: planOf(rc),
      canary: { percent: configured.percent, header: rc.canary.sticky.header?.toLowerCase(), cookie: rc.canary.sticky.cookie, fallback: rc.canary.sticky.fallback, salt: rc.canary.sticky.salt },
      canaryState: { acc: 0 },
      allowForce: rc.canary.allow_force,
      servedByHeader: rc.served_by_header,
      compareRules: compileRules(rc.compare),
      shadow: { config: rc.shadow, redactor: new Redactor(config.redact, rc.shadow.redact), acc: 0, inflight: 0, aaAcc: 0, noise: new Set() },
    });
  }
  return out;
}
