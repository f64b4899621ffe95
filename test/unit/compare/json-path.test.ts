/** JSONPath patterns of compare rules: compiling, the step limit, and the matcher's states. */
import { describe, expect, test } from "bun:test";
import { compareRulesSchema } from "../../../src/compare/index.ts";
import { compileJsonPath, JsonPathError, MAX_PATH_STEPS, PathSet, type Step } from "../../../src/core/json-path.ts";

const deep = (n: number) => `$${".a".repeat(n)}`;

/** The payloads matched after walking `segments` from the start. */
function matchedAfter<T>(set: PathSet<T>, segments: readonly (string | number)[]): readonly T[] {
  let st = set.start;
  for (const seg of segments) st = set.advance(st, seg);
  return st.matched ?? [];
}

describe("the step limit", () => {
  test("regression: a path of 300 steps is rejected, naming the limit (it spilled into the next pattern's state)", () => {
    expect(() => compileJsonPath(deep(300))).toThrow(JsonPathError);
    expect(() => compileJsonPath(deep(300))).toThrow(`a path may have at most ${MAX_PATH_STEPS} steps`);
  });

  test("regression: the matcher refuses patterns past the limit rather than matching another pattern", () => {
    const long: Step[] = Array.from({ length: 300 }, () => ({ descendant: false, sel: { key: "a" } }));
    expect(() => new PathSet([[long, "long"], [compileJsonPath("$.b"), "b"]])).toThrow(JsonPathError);
  });

  test("64 steps are fine and match exactly; 65 are not", () => {
    expect(compileJsonPath(deep(MAX_PATH_STEPS))).toHaveLength(MAX_PATH_STEPS);
    expect(() => compileJsonPath(deep(MAX_PATH_STEPS + 1))).toThrow(JsonPathError);
    const set = new PathSet([[compileJsonPath(deep(MAX_PATH_STEPS)), "long"], [compileJsonPath("$.b"), "b"], [compileJsonPath("$..c"), "c"]]);
    const as = Array.from({ length: MAX_PATH_STEPS }, () => "a");
    expect(matchedAfter(set, as)).toEqual(["long"]);
    expect(matchedAfter(set, [...as, "b"])).toEqual([]);
    expect(matchedAfter(set, [...as, "c"])).toEqual(["c"]);
    expect(matchedAfter(set, ["b"])).toEqual(["b"]);
  });

  test("a rule with too long a path is a validation error naming the rule", () => {
    const r = compareRulesSchema.safeParse({ ignore: ["$.ok", deep(100)] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["ignore", 1]);
    expect(r.error?.issues[0]?.message).toStartWith(`a path may have at most ${MAX_PATH_STEPS} steps, "$.a.a.a`);
  });
});
