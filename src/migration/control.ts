/**
 * Migration control: the stage, canary percentage and hold of each route, as
 * changed by commands (promote, pause, resume, rollback, the kill switch) on
 * top of what ficus.yaml says. Transitions are pure functions here; the store
 * applies them in a transaction and records an event for every command.
 *
 * Rules, in one place:
 * - promote walks legacy → shadow → canary at each of canary.steps → candidate
 *   (a step of 100 means candidate); past the last step it changes nothing.
 * - rollback returns to canary.rollback_to (shadow by default) and holds the
 *   route (paused), like the kill switch (every route to legacy, held).
 * - a held (paused) route refuses promotion until resumed. So a promote and a
 *   rollback racing each other always end rolled back, whatever their order.
 * - runtime state applies while ficus.yaml still says what it said when the
 *   state was written; editing a route's stage, percent or steps wins.
 */
import type { RouteConfig } from "../config/schema.ts";

export type Stage = RouteConfig["stage"];
export type Action = "promote" | "pause" | "resume" | "rollback" | "rollback_all";
export const ACTIONS: readonly Action[] = ["promote", "pause", "resume", "rollback", "rollback_all"];

export interface ControlState {
  readonly stage: Stage;
  /** Share served by the candidate: 0 at legacy/shadow, the step in canary, 100 at candidate. */
  readonly percent: number;
  readonly paused: boolean;
}

export interface Plan {
  readonly steps: readonly number[];
  readonly rollbackTo: "shadow" | "legacy";
}

export interface Transition {
  readonly changed: boolean;
  readonly to: ControlState;
  readonly message: string;
}

/** The state ficus.yaml describes for a route. */
export function configState(rc: RouteConfig): ControlState {
  const percent = rc.stage === "canary" ? rc.canary.percent : rc.stage === "candidate" ? 100 : 0;
  return { stage: rc.stage, percent, paused: false };
}

/** What runtime state is tied to: when this changes in ficus.yaml, the file wins. */
export function configKey(rc: RouteConfig): string {
  return JSON.stringify([rc.stage, rc.canary.percent, rc.canary.steps, rc.canary.rollback_to]);
}

export function planOf(rc: RouteConfig): Plan {
  return { steps: rc.canary.steps, rollbackTo: rc.canary.rollback_to };
}

const describe = (s: ControlState) => (s.stage === "canary" ? `canary ${s.percent}%` : s.stage);

function canaryAt(percent: number, paused: boolean): ControlState {
  return percent >= 100 ? { stage: "candidate", percent: 100, paused } : { stage: "canary", percent, paused };
}

export function transition(from: ControlState, action: Action, plan: Plan): Transition {
  const same = (message: string): Transition => ({ changed: false, to: from, message });
  switch (action) {
    case "promote": {
      if (from.paused) return same(`the route is paused at ${describe(from)}; resume it first`);
      if (from.stage === "candidate") return same("already served by the candidate: there is no further step");
      let to: ControlState;
      if (from.stage === "legacy") to = { stage: "shadow", percent: 0, paused: false };
      else if (from.stage === "shadow") to = canaryAt(plan.steps[0] as number, false);
      else {
        const next = plan.steps.find((p) => p > from.percent);
        to = canaryAt(next ?? 100, false);
      }
      return { changed: true, to, message: `promoted from ${describe(from)} to ${describe(to)}` };
    }
    case "pause":
      return from.paused ? same("already paused") : { changed: true, to: { ...from, paused: true }, message: `paused at ${describe(from)}` };
    case "resume":
      return from.paused ? { changed: true, to: { ...from, paused: false }, message: `resumed at ${describe(from)}` } : same("not paused");
    case "rollback":
    case "rollback_all": {
      const stage = action === "rollback_all" ? "legacy" : plan.rollbackTo;
      const to: ControlState = { stage, percent: 0, paused: true };
      if (from.stage === to.stage && from.paused) return same(`already rolled back to ${stage}`);
      return { changed: true, to, message: `rolled back from ${describe(from)} to ${stage} (held until resumed)` };
    }
  }
}
