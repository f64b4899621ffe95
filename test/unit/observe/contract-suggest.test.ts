/** Ignore-rule suggestions: fields random per response are suggested, with a reason; a resource's own data is not; the YAML is valid compare rules. */
import { describe, expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { compareRulesSchema } from "../../../src/config/compare-schema.ts";
import { EndpointLearner, type ExchangeSample, ignoreRulesYaml, type ObservedEndpoint, pathStep, suggestIgnores } from "../../../src/observe/contract/index.ts";

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const uuid = (i: number) => `${(0x2000 + i).toString(16).padStart(8, "0")}-1234-4abc-8def-${(i * 104729).toString(16).padStart(12, "0")}`;
const hex = (i: number) => (i * 2654435761 + 12345).toString(16).padStart(16, "0");
const at = (i: number) => new Date(Date.UTC(2024, 2, 1) + i * 1_337).toISOString();

function endpoint(method: string, template: string, n: number, body: (i: number) => unknown, query?: (i: number) => string, status = 200): ObservedEndpoint {
  const l = new EndpointLearner();
  for (let i = 0; i < n; i++) {
    const x: ExchangeSample = { query: query?.(i), status, response: { body: JSON.stringify(body(i)), contentType: "application/json" } };
    l.observe(x);
  }
  return { method, template, state: l.state() };
}

const order = (i: number) => ({
  id: uuid(i),
  status: ["open", "paid"][i % 2],
  created_at: at(i),
  meta: { request_id: uuid(1000 + i), traceId: hex(i), served_at: at(5000 + i), took_ms: 3 + i, region: "eu" },
  items: times(2, (k) => ({ sku: `S${k}`, line_id: uuid(i * 10 + k), spanId: hex(i * 10 + k) })),
});

describe("suggestIgnores", () => {
  test("per-response values in a resource endpoint: named ones high, instants medium, the resource's id and data never", () => {
    const got = suggestIgnores([endpoint("GET", "/orders/{id}", 60, order)]);
    expect(got.map((s) => [s.path, s.confidence])).toEqual([
      ["$.items[*].spanId", "high"],
      ["$.meta.request_id", "high"],
      ["$.meta.served_at", "high"],
      ["$.meta.took_ms", "high"],
      ["$.meta.traceId", "high"],
      ["$.created_at", "medium"],
    ]);
    const rid = got.find((s) => s.path === "$.meta.request_id");
    expect(rid?.reason).toBe('named like a per-response value ("request_id") and a uuid that differs in 100% of 60 responses');
    expect(rid).toMatchObject({ method: "GET", template: "/orders/{id}", samples: 60, distinct: 60, presence: 1 });
    expect(got.find((s) => s.path === "$.created_at")?.reason).toContain("compare it as a timestamp instead");
  });

  test("minConfidence high leaves the guesses out", () => {
    const got = suggestIgnores([endpoint("GET", "/orders/{id}", 60, order)], { minConfidence: "high" });
    expect(got.every((s) => s.confidence === "high")).toBe(true);
    expect(got.map((s) => s.path)).not.toContain("$.created_at");
  });

  test("the same request answered with a new value each time: any name", () => {
    const got = suggestIgnores([endpoint("GET", "/status", 40, (i) => ({ ok: true, build: "1.2.3", cursor: hex(i), count: 7 }))]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ path: "$.cursor", confidence: "high" });
    expect(got[0]?.reason).toBe("a value that differs in 100% of 40 responses to requests without path or query parameters");
  });

  test("a field with query parameters varying is data, unless named or an instant", () => {
    const got = suggestIgnores([endpoint("GET", "/search", 40, (i) => ({ q: `term ${i}`, first: uuid(i), generated_at: at(i) }), (i) => `q=term+${i}`)]);
    expect(got.map((s) => s.path)).toEqual(["$.generated_at"]);
  });

  test("fields that repeat, are often absent, or are too few are not suggested", () => {
    const got = suggestIgnores([
      endpoint("GET", "/a", 40, (i) => ({ request_id: `r${i % 10}` })),
      endpoint("GET", "/b", 40, (i) => (i % 2 ? { request_id: uuid(i) } : {})),
      endpoint("GET", "/c", 10, (i) => ({ request_id: uuid(i) })),
    ]);
    expect(got).toEqual([]);
  });

  test("high cardinality past the exact tracker is estimated", () => {
    const got = suggestIgnores([endpoint("GET", "/orders/{id}", 500, (i) => ({ id: i, trace_id: hex(i), kind: ["a", "b", "c"][i % 3] }))]);
    expect(got.map((s) => s.path)).toEqual(["$.trace_id"]);
    expect(got[0]?.distinct).toBeGreaterThan(400);
  });

  test("epoch numbers are instants; error responses are looked at too", () => {
    const ep = (() => {
      const l = new EndpointLearner();
      for (let i = 0; i < 30; i++) l.observe({ status: 200, response: { body: JSON.stringify({ v: i, at: 1_700_000_000 + i * 17 }), contentType: "application/json" } });
      for (let i = 0; i < 30; i++) l.observe({ status: 500, response: { body: JSON.stringify({ error: "boom", correlationId: uuid(i) }), contentType: "application/json" } });
      return { method: "GET", template: "/x/{id}", state: l.state() };
    })();
    expect(suggestIgnores([ep]).map((s) => [s.path, s.confidence])).toEqual([
      ["$.correlationId", "high"],
      ["$.at", "medium"],
    ]);
  });

  test("keys the rules' JSONPath cannot spell are left out; odd ones are quoted", () => {
    expect(pathStep("request_id")).toBe(".request_id");
    expect(pathStep("x-trace")).toBe(".x-trace");
    expect(pathStep("trace id")).toBe("['trace id']");
    expect(pathStep("it's")).toBe(`["it's"]`);
    expect(pathStep(`it's "x"`)).toBeUndefined();
    expect(pathStep("a]b")).toBeUndefined();
    const got = suggestIgnores([endpoint("GET", "/p", 30, (i) => ({ "trace id": hex(i), "a]b": hex(i + 1) }))]);
    expect(got.map((s) => s.path)).toEqual(["$['trace id']"]);
  });

  test("the YAML is compare rules that validate, each path with its reason", () => {
    const got = suggestIgnores([endpoint("GET", "/orders/{id}", 60, order), endpoint("GET", "/p", 30, (i) => ({ "trace id": hex(i) }))]);
    const yaml = ignoreRulesYaml(got);
    expect(yaml).toContain("# GET /orders/{id}: named like a per-response value");
    const rules = compareRulesSchema.parse(parseYaml(yaml));
    expect(rules.ignore).toEqual(got.map((s) => s.path));
  });
});
