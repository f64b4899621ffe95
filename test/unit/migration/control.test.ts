import { describe, expect, test } from "bun:test";
import { type Action, type ControlState, type Plan, transition } from "../../../src/migration/control.ts";

const plan: Plan = { steps: [1, 10, 50, 100], rollbackTo: "shadow" };
const st = (stage: ControlState["stage"], percent = 0, paused = false): ControlState => ({ stage, percent, paused });

describe("transitions", () => {
  const cases: [string, ControlState, Action, Plan, ControlState | "unchanged", string][] = [
    ["legacy → shadow", st("legacy"), "promote", plan, st("shadow"), "promoted from legacy to shadow"],
    ["shadow → first step", st("shadow"), "promote", plan, st("canary", 1), "promoted from shadow to canary 1%"],
    ["step → next step", st("canary", 10), "promote", plan, st("canary", 50), "promoted from canary 10% to canary 50%"],
    ["a percentage between steps moves to the next one", st("canary", 25), "promote", plan, st("canary", 50), ""],
    ["the 100 step is the candidate stage", st("canary", 50), "promote", plan, st("candidate", 100), "promoted from canary 50% to candidate"],
    ["without a 100 step the last promotion still reaches candidate", st("canary", 50), "promote", { steps: [5, 50], rollbackTo: "shadow" }, st("candidate", 100), ""],
    ["past the last step: no change and a message", st("candidate", 100), "promote", plan, "unchanged", "already served by the candidate: there is no further step"],
    ["paused refuses promotion", st("canary", 10, true), "promote", plan, "unchanged", "the route is paused at canary 10%; resume it first"],
    ["pause holds", st("canary", 10), "pause", plan, st("canary", 10, true), "paused at canary 10%"],
    ["pause twice", st("canary", 10, true), "pause", plan, "unchanged", "already paused"],
    ["resume releases", st("shadow", 0, true), "resume", plan, st("shadow"), "resumed at shadow"],
    ["resume when not paused", st("shadow"), "resume", plan, "unchanged", "not paused"],
    ["rollback to shadow, held", st("canary", 50), "rollback", plan, st("shadow", 0, true), "rolled back from canary 50% to shadow (held until resumed)"],
    ["rollback to legacy when configured", st("candidate", 100), "rollback", { steps: [1], rollbackTo: "legacy" }, st("legacy", 0, true), ""],
    ["rollback twice", st("shadow", 0, true), "rollback", plan, "unchanged", "already rolled back to shadow"],
    ["the kill switch goes to legacy", st("canary", 10), "rollback_all", plan, st("legacy", 0, true), ""],
  ];
  for (const [name, from, action, p, want, message] of cases) {
    test(name, () => {
      const t = transition(from, action, p);
      expect(t.changed).toBe(want !== "unchanged");
      expect(t.to).toEqual(want === "unchanged" ? from : want);
      if (message) expect(t.message).toBe(message);
    });
  }

  test("a promote and a rollback in either order end rolled back", () => {
    for (const start of [st("shadow"), st("canary", 1), st("canary", 50), st("candidate", 100)]) {
      const a = transition(transition(start, "promote", plan).to, "rollback", plan).to;
      const b = transition(transition(start, "rollback", plan).to, "promote", plan).to;
      expect(a).toEqual(st("shadow", 0, true));
      expect(b).toEqual(st("shadow", 0, true));
    }
  });
});
