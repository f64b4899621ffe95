import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import { generalizePath, ResultsBuffer, signatureOf } from "../../../src/migration/results.ts";
import { Shadow } from "../../../src/migration/shadow.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { buildRouteTable } from "../../../src/routing/route-table.ts";
import { buildMigrationRoutes } from "../../../src/migration/routes.ts";

function route(shadow: string) {
  const metrics = new Metrics({ defaultMetrics: false });
  const { config } = parseConfig(`routes:\n  - name: r\n    legacy: http://a\n    candidate: http://b\n    stage: shadow\n    shadow: ${shadow}\n`, "t.yaml", {});
  const table = buildRouteTable(config, metrics);
  const migrations = buildMigrationRoutes(config, table);
  return { route: migrations.get("r") as NonNullable<ReturnType<typeof migrations.get>>, shadow: new Shadow(new ResultsBuffer(5), metrics, createLogger("error", {}, () => {})) };
}

describe("sampling", () => {
  for (const fraction of [0.01, 0.1, 0.25, 0.5, 0.333, 1]) {
    test(`${fraction} of 10,000 requests, within ±1 percentage point`, () => {
      const { route: r, shadow } = route(`{ sample: ${fraction} }`);
      let go = 0;
      for (let i = 0; i < 10_000; i++) if (shadow.decide(r, "GET", -1, false) === "go") go++;
      expect(Math.abs(go / 10_000 - fraction)).toBeLessThanOrEqual(0.01);
    });
  }

  test("zero mirrors nothing; decisions are deterministic", () => {
    const a = route("{ sample: 0 }");
    for (let i = 0; i < 1000; i++) expect(a.shadow.decide(a.route, "GET", -1, false)).toBe("sampled_out");
    const x = route("{ sample: 0.3 }");
    const y = route("{ sample: 0.3 }");
    const seq = (t: typeof x) => Array.from({ length: 100 }, () => t.shadow.decide(t.route, "GET", -1, false)).join();
    expect(seq(x)).toBe(seq(y));
  });

  test("skip reasons: unsafe method, body too large, unsized body", () => {
    const { route: r, shadow } = route("{ max_body: 100 }");
    expect(shadow.decide(r, "POST", 10, false)).toBe("unsafe_method");
    expect(shadow.decide(r, "GET", 101, false)).toBe("body_too_large");
    expect(shadow.decide(r, "GET", -1, true)).toBe("body_too_large");
    expect(shadow.decide(r, "GET", 100, false)).toBe("go");
  });
});

describe("signatures", () => {
  test("array positions and keyed elements generalize; text lines collapse", () => {
    expect(generalizePath("$.items[3].price")).toBe("$.items[*].price");
    expect(generalizePath("$.items[id=7].tags[0]")).toBe("$.items[*].tags[*]");
    expect(generalizePath("$['a b']")).toBe("$['a b']");
    expect(generalizePath("body:line 12")).toBe("body:line *");
  });

  test("same route, status pair and path set → same id, regardless of order and positions", () => {
    const d = (path: string, severity: "low" | "medium" | "high" = "medium") => ({ path, kind: "value" as const, severity, legacy: 1, candidate: 2 });
    const a = signatureOf("r", [200, 200], [d("$.items[1].p"), d("$.total")]);
    const b = signatureOf("r", [200, 200], [d("$.total"), d("$.items[9].p")]);
    expect(a.id).toBe(b.id);
    expect(a.paths).toEqual(["$.items[*].p", "$.total"]);
    expect(signatureOf("r", [200, 500], [d("$.total")]).id).not.toBe(signatureOf("r", [200, 200], [d("$.total")]).id);
    expect(signatureOf("other", [200, 200], [d("$.total")]).id).not.toBe(signatureOf("r", [200, 200], [d("$.total")]).id);
    expect(signatureOf("r", [200, 200], [d("$.a", "low"), d("$.b", "high")]).severity).toBe("high");
  });
});
