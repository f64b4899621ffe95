/**
 * The migration controller: once a second, for each route in shadow or canary
 * with `canary.auto`, it reads the current step's statistics from the store,
 * evaluates the gates, and promotes or rolls back through the same command
 * path as a person (actor "controller", with the gate values in the event).
 * A decision is applied only if the route's state did not change meanwhile,
 * so several controllers (one per gateway) never double a step.
 */
import type { FicusConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { candidateRoutes } from "./commands.ts";
import { configKey, configState, planOf } from "./control.ts";
import { decide, type GateResult } from "./gates.ts";
import type { MigrationEvent, ResultsStore } from "./store.ts";

export async function controllerTick(
  config: FicusConfig,
  store: ResultsStore,
  now = Date.now(),
  onGates?: (route: string, gates: readonly GateResult[]) => void,
): Promise<MigrationEvent[]> {
  const events: MigrationEvent[] = [];
  for (const rc of candidateRoutes(config)) {
    if (!rc.canary.auto) continue;
    const key = configKey(rc);
    const step = await store.step(rc.name, key, configState(rc));
    if (step.state.paused || (step.state.stage !== "shadow" && step.state.stage !== "canary")) continue;
    const d = decide(step.stats, step.startedAt, now, rc.canary.step, rc.canary.gates);
    onGates?.(rc.name, d.gates);
    if (d.action === "wait") continue;
    const r = await store.command({ route: rc.name, key, configured: configState(rc), action: d.action, plan: planOf(rc), actor: "controller", reason: d.reason, detail: { gates: d.gates }, expectedVersion: step.version });
    if (r.event.changed) events.push(r.event);
  }
  return events;
}

/** Runs the controller every `intervalMs`; returns a stop function. */
export function startController(
  read: () => Promise<{ config: FicusConfig; store: ResultsStore } | undefined>,
  onEvent: (e: MigrationEvent) => void,
  logger: Logger,
  metrics?: Metrics,
  intervalMs = 1000,
): () => void {
  const onGates = metrics
    ? (route: string, gates: readonly GateResult[]) => {
        for (const g of gates) {
          metrics.gateValue.set({ route, gate: g.gate }, g.value);
          for (const state of ["pass", "fail", "pending"] as const) metrics.gateState.set({ route, gate: g.gate, state }, g.status === state ? 1 : 0);
        }
      }
    : undefined;
  let running = false;
  const timer = setInterval(async () => {
    // One tick at a time: a slow store must not pile up evaluations.
    if (running) return;
    running = true;
    try {
      const v = await read();
      if (v) for (const e of await controllerTick(v.config, v.store, Date.now(), onGates)) onEvent(e);
    } catch (err) {
      logger.warn("migration controller could not run; stages stay as they are", { error: err });
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
