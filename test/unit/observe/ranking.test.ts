/** "Port this first": order, weights, and explanations whose numbers are the result's own. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type EndpointSummary, ProfileRecorder, type ProfileSummary } from "../../../src/observe/profile.ts";
import { formatMs, formatPercent, formatScore, rankEndpoints } from "../../../src/observe/ranking.ts";
import { OTHER } from "../../../src/observe/templates.ts";

function endpoint(method: string, template: string, timeShare: number, errorRate: number, p99Ms: number, requests = 1000, clientErrorRate = 0): EndpointSummary {
  return {
    method,
    template,
    requests,
    serverErrors: Math.round(errorRate * requests),
    clientErrors: Math.round(clientErrorRate * requests),
    errorRate,
    clientErrorRate,
    timeShare,
    latencyTotalMs: timeShare * 10_000,
    meanMs: 1,
    p50Ms: p99Ms / 4,
    p95Ms: p99Ms / 2,
    p99Ms,
    maxMs: p99Ms,
    bytesIn: 0,
    bytesOut: 0,
    statusClasses: { "1xx": 0, "2xx": requests, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 },
    statusCodes: {},
  };
}

const summary = (endpoints: EndpointSummary[]): ProfileSummary => ({ requests: endpoints.reduce((a, e) => a + e.requests, 0), latencyTotalMs: 10_000, endpoints });

describe("rankEndpoints", () => {
  test("the explanation reads like the issue's example", () => {
    const r = rankEndpoints(summary([endpoint("GET", "/inventory/{id}", 0.38, 0.021, 420), endpoint("GET", "/health", 0.62, 0, 1)]));
    expect(r.endpoints[0]?.explanation).toBe("62% of all time spent (p99 1 ms), 0% errors → score 0.62");
    expect(r.endpoints[1]?.explanation).toBe("38% of all time spent (p99 420 ms), 2.1% errors → score 0.41");
  });

  test("errors lift a slightly cooler endpoint above a hotter one; with w = 0 time share alone decides", () => {
    const eps = [endpoint("GET", "/hot", 0.3, 0, 50), endpoint("POST", "/failing", 0.25, 0.25, 80), endpoint("GET", "/cold", 0.45, 0, 5)];
    expect(rankEndpoints(summary(eps)).endpoints.map((e) => e.template)).toEqual(["/failing", "/cold", "/hot"]);
    expect(rankEndpoints(summary(eps), { serverErrors: 0 }).endpoints.map((e) => e.template)).toEqual(["/cold", "/hot", "/failing"]);
  });

  test("weights: 4xx counted when weighted (and explained), minRequests, limit, ranks from 1", () => {
    const eps = [endpoint("GET", "/a", 0.5, 0, 10, 1000, 0.5), endpoint("GET", "/b", 0.45, 0, 10, 1000, 0), endpoint("GET", "/rare", 0.05, 0, 10, 3)];
    const r = rankEndpoints(summary(eps), { clientErrors: 1, minRequests: 10, limit: 1 });
    expect(r.endpoints).toHaveLength(1);
    expect(r.endpoints[0]).toMatchObject({ rank: 1, template: "/a", score: 0.75 });
    expect(r.endpoints[0]?.explanation).toBe("50% of all time spent (p99 10 ms), 0% errors, 50% 4xx → score 0.75");
    expect(r.weights).toEqual({ timeShare: 1, serverErrors: 4, clientErrors: 1, minRequests: 10 });
    expect(() => rankEndpoints(summary(eps), { serverErrors: -1 })).toThrow("serverErrors");
  });

  test("(other) counts in the total but is not ranked", () => {
    const r = rankEndpoints(summary([endpoint("*", OTHER, 0.4, 0, 10), endpoint("GET", "/x", 0.6, 0, 10)]));
    expect(r.endpoints.map((e) => e.template)).toEqual(["/x"]);
    expect(r.otherTimeShare).toBe(0.4);
  });

  test("from a recorded snapshot: time share is each endpoint's latency over all, and the JSON round-trips", () => {
    const rec = new ProfileRecorder();
    for (let i = 0; i < 90; i++) rec.record("GET", "/inventory/{id}", i < 9 ? 500 : 200, 30, 0, 100);
    for (let i = 0; i < 900; i++) rec.record("GET", "/health", 200, 1, 0, 2);
    const r = rankEndpoints(rec.snapshot());
    const [inv, health] = r.endpoints;
    expect(inv?.template).toBe("/inventory/{id}");
    expect(inv?.timeShare).toBeCloseTo(2700 / 3600, 12);
    expect(inv?.errorRate).toBe(0.1);
    expect(inv?.score).toBeCloseTo((2700 / 3600) * 1.4, 12);
    expect(health?.score).toBeCloseTo(900 / 3600, 12);
    expect(r.totalRequests).toBe(990);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  test("property: sorted by score, score = time × errors, and the explanation's numbers are the result's and agree with each other", () => {
    const EXPLAIN = /^(\S+)% of all time spent \(p99 (\S+) ms\), (\S+)% errors → score (\S+)$/;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1e6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 10_000, noNaN: true })), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (raw, w) => {
          const total = raw.reduce((a, [t]) => a + t, 0);
          const r = rankEndpoints(summary(raw.map(([t, err, p99], i) => endpoint("GET", `/e${i}`, t / total, err, p99))), { serverErrors: w });
          r.endpoints.forEach((e, i) => {
            expect(e.rank).toBe(i + 1);
            if (i > 0) expect(e.score).toBeLessThanOrEqual(r.endpoints[i - 1]?.score ?? Infinity);
            expect(e.score).toBeCloseTo(e.factors.time * e.factors.errors, 12);
            expect(e.factors.errors).toBeCloseTo(1 + e.errorRate * w, 12);
            const m = EXPLAIN.exec(e.explanation);
            expect(m).not.toBeNull();
            const [, share, p99, err, score] = m as RegExpExecArray;
            expect(`${share}%`).toBe(formatPercent(e.timeShare));
            expect(`${p99} ms`).toBe(formatMs(e.p99Ms));
            expect(`${err}%`).toBe(formatPercent(e.errorRate));
            expect(score).toBe(formatScore(e.score));
            // Printed numbers agree: share × (1 + err × w) ≈ score, within their rounding.
            const printed = (Number(share) / 100) * (1 + (Number(err) / 100) * w);
            expect(Math.abs(printed - Number(score))).toBeLessThanOrEqual(0.06 * Math.max(Number(score), 1e-9) + 0.006 * (1 + w) + 1e-12);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
