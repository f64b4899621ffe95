import { describe, expect, test } from "bun:test";
import { decide, evaluateGates, type GateResult, type GateSettings, mannWhitneyGreater, normalCdf, type StepStats } from "../../../src/migration/gates.ts";
import { newHistogram } from "../../../src/migration/results.ts";

const G: GateSettings = { mismatch_rate: 0.01, min_severity: "medium", error_margin: 0.01, min_compared: 20, latency: { p50_factor: 1.2, p99_factor: 1.5, min_samples: 50, alpha: 0.01 } };
const STEP = { min_duration: 60_000, min_requests: 100 };

/** A deterministic latency histogram (µs): n values spread around `median`. */
function latencies(n: number, median: number, spread = 0.2) {
  const h = newHistogram();
  for (let i = 0; i < n; i++) h.recordValue(Math.round(median * (1 - spread + (2 * spread * i) / n)));
  return h;
}

function stats(over: Partial<StepStats> = {}): StepStats {
  const mismatched = over.mismatched ?? 0;
  // Unless a test says otherwise, mismatches are medium (a differing value).
  return { compared: 200, mismatched, mismatchedBySeverity: { low: 0, medium: mismatched, high: 0 }, candidateFailures: 0, candidate5xx: 0, legacy5xx: 0, legacy: latencies(200, 2000), candidate: latencies(200, 2000), ...over };
}

describe("Mann–Whitney U", () => {
  test("normal CDF", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 3);
    expect(normalCdf(-2.326)).toBeCloseTo(0.01, 3);
  });

  test("the same distribution is not significantly slower", () => {
    expect(mannWhitneyGreater(latencies(200, 2000), latencies(200, 2000)).p).toBeGreaterThan(0.4);
  });

  test("a clearly slower candidate is significant; within the factor it is not", () => {
    expect(mannWhitneyGreater(latencies(200, 2000), latencies(200, 4000), 1.2).p).toBeLessThan(0.001);
    expect(mannWhitneyGreater(latencies(200, 2000), latencies(200, 2200), 1.2).p).toBeGreaterThan(0.5);
  });

  test("ties get average ranks", () => {
    const x = newHistogram();
    const y = newHistogram();
    for (let i = 0; i < 10; i++) {
      x.recordValue(100);
      y.recordValue(100);
    }
    const r = mannWhitneyGreater(x, y);
    expect(r.u).toBe(50);
    expect(r.p).toBeCloseTo(0.5, 6);
  });
});

describe("gates", () => {
  test("low-severity mismatches (a differing X- header, an extra field) do not count toward the mismatch gate by default", () => {
    // Regression: 50 header-only mismatches in 200 pairs rolled the route back.
    const headerOnly = stats({ mismatched: 50, mismatchedBySeverity: { low: 50, medium: 0, high: 0 } });
    const gate = evaluateGates(headerOnly, G).find((r) => r.gate === "mismatch_rate");
    expect(gate?.status).toBe("pass");
    expect(gate?.detail).toBe("0 of 200 compared pairs mismatched at medium severity or above (50 more below it, reported but not counted)");
    // With min_severity low they count; with high, medium ones no longer do.
    expect(evaluateGates(headerOnly, { ...G, min_severity: "low" }).find((r) => r.gate === "mismatch_rate")?.status).toBe("fail");
    const values = stats({ mismatched: 10, mismatchedBySeverity: { low: 0, medium: 10, high: 0 } });
    expect(evaluateGates(values, G).find((r) => r.gate === "mismatch_rate")?.status).toBe("fail");
    expect(evaluateGates(values, { ...G, min_severity: "high" }).find((r) => r.gate === "mismatch_rate")?.status).toBe("pass");
    const statuses = stats({ mismatched: 10, mismatchedBySeverity: { low: 0, medium: 0, high: 10 } });
    expect(evaluateGates(statuses, { ...G, min_severity: "high" }).find((r) => r.gate === "mismatch_rate")?.status).toBe("fail");
  });

  test("a healthy step passes every gate", () => {
    expect(evaluateGates(stats(), G).map((r) => [r.gate, r.status])).toEqual([
      ["mismatch_rate", "pass"],
      ["error_rate", "pass"],
      ["latency_p50", "pass"],
      ["latency_p99", "pass"],
    ]);
  });

  const failing: [string, Partial<StepStats>, GateResult["gate"]][] = [
    ["too many mismatches", { mismatched: 5 }, "mismatch_rate"],
    ["candidate errors above legacy's plus the margin", { candidate5xx: 6 }, "error_rate"],
    ["candidate timeouts count as errors", { candidateFailures: 6 }, "error_rate"],
    ["a slower median", { candidate: latencies(200, 3000) }, "latency_p50"],
    ["a worse tail", { candidate: (() => { const h = latencies(200, 2000); for (let i = 0; i < 10; i++) h.recordValue(20_000); return h; })() }, "latency_p99"],
  ];
  for (const [name, over, gate] of failing) {
    test(`fails: ${name}`, () => {
      const r = evaluateGates(stats(over), G);
      expect(r.find((x) => x.gate === gate)?.status).toBe("fail");
      expect(r.filter((x) => x.status === "fail").map((x) => x.gate)).toEqual([gate]);
    });
  }

  test("legacy's own errors raise the candidate's allowance", () => {
    expect(evaluateGates(stats({ candidate5xx: 6, legacy5xx: 5 }), G).find((r) => r.gate === "error_rate")?.status).toBe("pass");
  });

  test("not enough samples: pending, never failing", () => {
    const r = evaluateGates(stats({ compared: 5, mismatched: 5, legacy: latencies(10, 2000), candidate: latencies(10, 9000) }), G);
    expect(r.map((x) => x.status)).toEqual(["pending", "pending", "pending", "pending"]);
  });
});

describe("decisions, with a fake clock", () => {
  const t0 = 1_000_000;
  test("waits for the step's duration and requests, then promotes", () => {
    expect(decide(stats(), t0, t0 + 30_000, STEP, G)).toMatchObject({ action: "wait", reason: expect.stringContaining("30 s of 60 s") });
    expect(decide(stats({ compared: 50 }), t0, t0 + 90_000, STEP, G)).toMatchObject({ action: "wait", reason: expect.stringContaining("50 of 100 requests compared") });
    expect(decide(stats(), t0, t0 + 60_000, STEP, G)).toMatchObject({ action: "promote" });
  });

  test("a failing gate rolls back at once, with its values", () => {
    const d = decide(stats({ mismatched: 10 }), t0, t0 + 1_000, STEP, G);
    expect(d.action).toBe("rollback");
    expect(d.reason).toContain("mismatch_rate 0.05 > 0.01 (10 of 200 compared pairs mismatched at medium severity or above)");
  });

  test("pending gates hold promotion", () => {
    const d = decide(stats({ legacy: latencies(10, 2000), candidate: latencies(10, 2000) }), t0, t0 + 120_000, STEP, G);
    expect(d).toMatchObject({ action: "wait", reason: expect.stringContaining("gates pending: latency_p50, latency_p99") });
  });
});
