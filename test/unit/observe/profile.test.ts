/** Per-endpoint profiles: what one recorder counts, sampling, caps, and merges that equal the profile of the union. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ANY_METHOD, latencyHistogram, mergeProfiles, ProfileRecorder, type ProfileSnapshot, rekeyProfiles, summarizeProfiles } from "../../../src/observe/profile.ts";
import { OTHER } from "../../../src/observe/templates.ts";

type Exchange = [method: string, template: string, status: number, ms: number, bytesIn: number, bytesOut: number];

function profile(exchanges: readonly Exchange[], opts = {}): ProfileSnapshot {
  const r = new ProfileRecorder(opts);
  for (const x of exchanges) r.record(...x);
  return JSON.parse(JSON.stringify(r.snapshot()));
}

describe("ProfileRecorder", () => {
  test("counts requests, 5xx and 4xx apart, the status mix, bytes, total latency and percentiles", () => {
    const ex: Exchange[] = [];
    for (let i = 1; i <= 100; i++) ex.push(["GET", "/orders/{id}", i <= 3 ? 503 : i <= 10 ? 404 : 200, i, 10, 1000]);
    ex.push(["POST", "/orders", 201, 50, 300, 20]);
    const s = profile(ex);
    expect(s.endpoints.map((e) => `${e.method} ${e.template}`)).toEqual(["GET /orders/{id}", "POST /orders"]);
    const g = s.endpoints[0];
    expect(g).toMatchObject({ requests: 100, serverErrors: 3, clientErrors: 7, bytesIn: 1000, bytesOut: 100_000, latencyTotalUs: 5050 * 1000, statusCodesOther: 0 });
    expect(g?.statusClasses).toEqual({ "1xx": 0, "2xx": 90, "3xx": 0, "4xx": 7, "5xx": 3, other: 0 });
    expect(g?.statusCodes).toEqual([
      [200, 90],
      [404, 7],
      [503, 3],
    ]);
    const sum = summarizeProfiles(s);
    const e = sum.endpoints.find((x) => x.method === "GET");
    expect(Math.abs((e?.p50Ms ?? 0) - 50) / 50).toBeLessThan(0.01);
    expect(Math.abs((e?.p99Ms ?? 0) - 99) / 99).toBeLessThan(0.01);
    expect(e?.errorRate).toBe(0.03);
    expect(e?.clientErrorRate).toBe(0.07);
    expect(e?.timeShare).toBeCloseTo(5050 / 5100, 10);
    expect(sum.endpoints.reduce((a, x) => a + x.timeShare, 0)).toBeCloseTo(1, 10);
  });

  test("exact status codes are bounded; the rest count in their class", () => {
    const r = new ProfileRecorder({ maxStatusCodes: 2 });
    for (const st of [200, 201, 202, 500, 200, 99, 777]) r.record("GET", "/x", st, 1, 0, 0);
    const [e] = r.snapshot().endpoints;
    expect(e?.statusCodes).toEqual([
      [200, 2],
      [201, 1],
    ]);
    expect(e?.statusCodesOther).toBe(4);
    expect(e?.statusClasses).toMatchObject({ "2xx": 4, "5xx": 1, other: 2 });
  });

  test("sampling: admit() lets 1 in k through and record() counts it k times", () => {
    const r = new ProfileRecorder({ sampleEvery: 4 });
    let admitted = 0;
    for (let i = 0; i < 400; i++) {
      if (!r.admit()) continue;
      admitted++;
      r.record("GET", "/x", i % 8 === 3 ? 500 : 200, 2, 5, 7);
    }
    expect(admitted).toBe(100);
    const [e] = r.snapshot().endpoints;
    expect(e).toMatchObject({ requests: 400, serverErrors: 200, bytesIn: 2000, bytesOut: 2800, latencyTotalUs: 800_000 });
    expect(latencyHistogram(e as never).totalCount).toBe(400);
  });

  test("past maxEndpoints requests count under * (other); drain empties the recorder", () => {
    const r = new ProfileRecorder({ maxEndpoints: 2 });
    for (const t of ["/a", "/b", "/c", "/d"]) r.record("GET", t, 200, 1, 0, 0);
    r.record("GET", "/a", 200, 1, 0, 0);
    const s = r.drain();
    expect(s.endpoints.map((e) => [e.method, e.template, e.requests])).toEqual([
      [ANY_METHOD, OTHER, 2],
      ["GET", "/a", 2],
      ["GET", "/b", 1],
    ]);
    expect(r.snapshot().endpoints).toEqual([]);
  });

  test("latency out of range is clamped, not thrown", () => {
    const r = new ProfileRecorder();
    r.record("GET", "/x", 200, 0, 0, 0);
    r.record("GET", "/x", 200, 1e12, 0, 0);
    r.record("GET", "/x", 200, Number.NaN, 0, 0);
    expect(latencyHistogram(r.snapshot().endpoints[0] as never).totalCount).toBe(3);
  });
});

describe("merging", () => {
  const exchange: fc.Arbitrary<Exchange> = fc.tuple(
    fc.constantFrom("GET", "POST", "DELETE"),
    fc.constantFrom("/orders", "/orders/{id}", "/users/{id}", "/health"),
    fc.constantFrom(200, 201, 204, 301, 400, 404, 429, 500, 502, 503),
    fc.oneof(fc.double({ min: 0.001, max: 5000, noNaN: true }), fc.integer({ min: 1, max: 100 })),
    fc.integer({ min: 0, max: 1e6 }),
    fc.integer({ min: 0, max: 1e6 }),
  );

  test("merge of the parts = profile of the union, in any order, through JSON", () => {
    fc.assert(
      fc.property(fc.array(exchange, { maxLength: 80 }), fc.array(exchange, { maxLength: 80 }), fc.array(exchange, { maxLength: 20 }), (a, b, c) => {
        const union = profile([...a, ...b, ...c]);
        expect(mergeProfiles([profile(a), profile(b), profile(c)])).toEqual(union);
        expect(mergeProfiles([profile(c), mergeProfiles([profile(b), profile(a)])])).toEqual(union);
      }),
      { numRuns: 60 },
    );
  });

  test("merged percentiles are those of the union (histograms add, not average)", () => {
    const a: Exchange[] = Array.from({ length: 99 }, () => ["GET", "/x", 200, 1, 0, 0]);
    const b: Exchange[] = [["GET", "/x", 200, 1000, 0, 0]];
    const [e] = summarizeProfiles(mergeProfiles([profile(a), profile(b)])).endpoints;
    expect(e?.p50Ms).toBeLessThan(1.02);
    expect(e?.maxMs).toBeGreaterThan(990);
    expect(e?.requests).toBe(100);
  });

  test("merging past maxEndpoints folds the least requested into * (other), keeping every count", () => {
    const s = profile([
      ["GET", "/a", 200, 1, 0, 0],
      ["GET", "/a", 200, 1, 0, 0],
      ["GET", "/a", 200, 1, 0, 0],
      ["GET", "/b", 200, 1, 0, 0],
      ["GET", "/b", 200, 1, 0, 0],
      ["GET", "/c", 500, 1, 0, 0],
      ["GET", "/d", 200, 1, 0, 0],
    ]);
    const m = mergeProfiles([s], { maxEndpoints: 3 });
    expect(m.endpoints.map((e) => [e.method, e.template, e.requests, e.serverErrors])).toEqual([
      [ANY_METHOD, OTHER, 2, 1],
      ["GET", "/a", 3, 0],
      ["GET", "/b", 2, 0],
    ]);
  });

  test("rekeying adds endpoints that land on one template", () => {
    const s = profile([
      ["GET", "/people/ann", 200, 2, 1, 1],
      ["GET", "/people/bob", 500, 4, 1, 1],
      ["GET", "/health", 200, 1, 0, 0],
    ]);
    const r = rekeyProfiles([s], (m, t) => [m, t.startsWith("/people/") ? "/people/{id}" : t]);
    expect(r.endpoints.map((e) => [e.template, e.requests, e.serverErrors, e.latencyTotalUs])).toEqual([
      ["/health", 1, 0, 1000],
      ["/people/{id}", 2, 1, 6000],
    ]);
  });
});
