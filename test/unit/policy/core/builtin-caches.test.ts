/**
 * The two caches built-ins get: the policy-wide one is bounded (arguments can
 * come from input), and the per-evaluation memo keeps uuid.rfc4122 stable
 * within one decision only.
 */
import { describe, expect, test } from "bun:test";
import { Rego } from "../../../../src/policy/rego/api.ts";
import { BuiltinCache } from "../../../../src/policy/rego/builtins/types.ts";

describe("built-in caches", () => {
  test("regression: uuid.rfc4122 gives one UUID per key within a decision and new ones in the next decision", async () => {
    const policy = await Rego.compile({ modules: { "u.rego": "package u\n\nids := [uuid.rfc4122(\"k\"), uuid.rfc4122(\"k\"), uuid.rfc4122(\"other\")]" } });
    const first = policy.evaluate("data.u.ids") as string[];
    expect(first[0]).toBe(first[1] as string);
    expect(first[2]).not.toBe(first[0] as string);
    const second = policy.evaluate("data.u.ids") as string[];
    expect(second[0]).not.toBe(first[0] as string);
  });

  test("the policy-wide cache holds at most its limit, forgetting the oldest entry first", () => {
    const c = new BuiltinCache(3);
    for (const k of ["a", "b", "c", "d"]) c.set(k, k);
    expect([...c.keys()]).toEqual(["b", "c", "d"]);
    c.set("c", "again");
    expect(c.size).toBe(3);
  });
});
