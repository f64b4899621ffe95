/**
 * Running migration commands against the store (admin API, CLI): validates
 * the route, applies the transition in one transaction, and returns the event.
 * Every gateway process polls the store and obeys within a fraction of a second.
 */
import type { FicusConfig, RouteConfig } from "../config/schema.ts";
import { FicusError } from "../core/errors.ts";
import { type Action, type ControlState, configKey, configState, planOf } from "./control.ts";
import type { MigrationEvent, ResultsStore } from "./store.ts";
import { mcpMigrationRoutes } from "../mcp/governance/migration/routes.ts";

/** Longest reason and actor a command may carry: both are stored in the audit trail and printed by `ficus events`. */
export const MAX_REASON = 500;
export const MAX_ACTOR = 200;

/** Refuses an overlong reason or actor with FICUS_BAD_REQUEST (400 at the admin API) before anything is stored. */
function checkNote(actor: string, reason: string): void {
  if (reason.length > MAX_REASON) throw new FicusError("FICUS_BAD_REQUEST", `reason: at most ${MAX_REASON} characters, got ${reason.length}`);
  if (actor.length > MAX_ACTOR) throw new FicusError("FICUS_BAD_REQUEST", `actor (X-Ficus-Actor): at most ${MAX_ACTOR} characters, got ${actor.length}`);
}

export function candidateRoutes(config: FicusConfig): RouteConfig[] {
  return [...config.routes.filter((r) => r.candidate !== undefined), ...mcpMigrationRoutes(config)];
}

export function routeConfig(config: FicusConfig, route: string): RouteConfig {
  const rc = candidateRoutes(config).find((r) => r.name === route);
  if (!rc) {
    const known = candidateRoutes(config).map((r) => r.name);
    throw new FicusError("FICUS_ROUTE_UNKNOWN", `no migration route ${JSON.stringify(route)}; known routes: ${known.length > 0 ? known.join(", ") : "(no route has a candidate)"}`);
  }
  return rc;
}

/** The state in force for a route: the store's runtime state while ficus.yaml is unchanged, else the file's. */
export async function effectiveState(rc: RouteConfig, store: ResultsStore): Promise<ControlState> {
  const row = (await store.controlRows()).find((r) => r.route === rc.name);
  return row && row.config_key === configKey(rc) ? { stage: row.stage, percent: row.percent, paused: row.paused } : configState(rc);
}

export async function runCommand(config: FicusConfig, store: ResultsStore, route: string, action: Exclude<Action, "rollback_all">, actor: string, reason: string): Promise<MigrationEvent> {
  checkNote(actor, reason);
  const rc = routeConfig(config, route);
  return (await storeCall(() => store.command({ route: rc.name, key: configKey(rc), configured: configState(rc), action, plan: planOf(rc), actor, reason }))).event;
}

/** A store operation for a command: a failure of the store itself (disk full, file locked) is FICUS_STORE_UNAVAILABLE (503), nothing changed. */
async function storeCall<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof FicusError) throw err;
    throw new FicusError("FICUS_STORE_UNAVAILABLE", `the results store refused the command: ${(err as Error).message}`, { cause: err });
  }
}

/** The kill switch: every route with a candidate back to legacy, held. */
export async function rollbackAll(config: FicusConfig, store: ResultsStore, actor: string, reason: string): Promise<MigrationEvent[]> {
  checkNote(actor, reason);
  const events: MigrationEvent[] = [];
  for (const rc of candidateRoutes(config)) events.push((await storeCall(() => store.command({ route: rc.name, key: configKey(rc), configured: configState(rc), action: "rollback_all", plan: planOf(rc), actor, reason }))).event);
  return events;
}
