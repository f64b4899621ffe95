/** compileRules takes validated rules (a route's `compare` as the config loaded it); compileRulesInput validates raw rules first. */
import { describe, expect, test } from "bun:test";
import { ZodError } from "zod";
import { compareDocuments, compareRulesSchema, compileRules, compileRulesInput, type CompiledRules, DEFAULT_BUDGET_MS, DEFAULT_COMPARE_RULES } from "../../../src/compare/index.ts";
import { deepFreeze, parseConfig } from "../../../src/config/load.ts";

/** What a verdict depends on, comparable with toEqual (the path set compared by what it matches). */
function summary(r: CompiledRules) {
  return {
    absTol: r.absTol,
    relTol: r.relTol,
    nullEqualsMissing: r.nullEqualsMissing,
    ignoredHeaders: [...r.ignoredHeaders].sort(),
    onlyHeaders: [...r.onlyHeaders].sort(),
    budgetMs: r.budgetMs,
    budgetExplicit: r.budgetExplicit,
  };
}

const RAW = {
  ignore: ["$.meta.request_id"],
  numbers: { abs: 0.01 },
  null_equals_missing: true,
  arrays: { "$.items": { key: "id" } },
  timestamps: ["$.at"],
  normalize: [{ path: "$.id", pattern: "^[0-9a-f-]{36}$", replace: "<uuid>" }],
  headers: { ignore: ["X-Trace"] },
  budget: "2s",
};

describe("compileRules", () => {
  test("the defaults written out in rules.ts are what the schema gives for no rules", () => {
    expect(compareRulesSchema.parse({})).toEqual(DEFAULT_COMPARE_RULES);
    expect(summary(compileRules())).toEqual(summary(compileRules(compareRulesSchema.parse({}))));
    expect(compileRules().budgetMs).toBe(DEFAULT_BUDGET_MS);
  });

  test("a route's validated (and frozen) `compare` compiles as is, like the same rules given raw", () => {
    const yaml = `routes:
  - name: a
    upstream: http://127.0.0.1:9000
    compare:
      ignore: ["$.meta.request_id"]
      numbers: { abs: 0.01 }
      null_equals_missing: true
      arrays: { "$.items": { key: id } }
      timestamps: ["$.at"]
      normalize: [{ path: "$.id", pattern: "^[0-9a-f-]{36}$", replace: "<uuid>" }]
      headers: { ignore: [X-Trace] }
      budget: 2s
`;
    const rc = deepFreeze(parseConfig(yaml, "ficus.yaml", {}).config).routes[0];
    if (rc === undefined) throw new Error("no route");
    const fromConfig = compileRules(rc.compare);
    const fromRaw = compileRulesInput(RAW);
    expect(summary(fromConfig)).toEqual(summary(fromRaw));
    expect(fromConfig.budgetMs).toBe(2000);
    expect(fromConfig.ignoredHeaders.has("x-trace")).toBe(true);
    const a = '{"meta":{"request_id":"1"},"items":[{"id":1,"v":1},{"id":2,"v":2}],"at":"2024-01-01T00:00:00Z","id":"6f1c1f0e-0000-4000-8000-000000000001","n":1.001}';
    const b = '{"meta":{"request_id":"2"},"items":[{"id":2,"v":2},{"id":1,"v":1}],"at":"2024-01-01T01:00:00+01:00","id":"0b7e6a52-0000-4000-8000-000000000002","n":1}';
    expect(compareDocuments(a, b, fromConfig).equal).toBe(true);
    expect(compareDocuments(a, b, fromRaw).equal).toBe(true);
    expect(compareDocuments(a, b, compileRules()).equal).toBe(false);
  });
});

describe("compileRulesInput", () => {
  test("validates: raw rules the schema refuses throw its error, naming the rule", () => {
    expect(() => compileRulesInput({ ignore: ["$.[bad"] })).toThrow(ZodError);
    expect(() => compileRulesInput({ normalize: [{ path: "$.a", pattern: "(?=x)", replace: "" }] })).toThrow(ZodError);
    expect(() => compileRulesInput({ budget: "1 fortnight" })).toThrow(/expected a duration/);
    expect(() => compileRulesInput({ colour: "blue" })).toThrow(ZodError);
  });

  test("no input is the defaults", () => {
    expect(summary(compileRulesInput())).toEqual(summary(compileRules()));
  });
});
