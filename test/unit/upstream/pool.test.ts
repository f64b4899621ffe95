import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type EjectionEvent, RetryBudget, UpstreamPool } from "../../../src/upstream/pool.ts";

const HEALTH = { maxFailures: 3, ejectionMs: 1000, maxEjectionMs: 4000 };
const urls = ["http://a:1", "http://b:2", "http://c:3"];

describe("balancing", () => {
  test("round robin visits every endpoint in turn", () => {
    const p = new UpstreamPool("u", urls, "round_robin", HEALTH);
    expect([0, 1, 2, 3, 4, 5].map(() => p.pick(0).host)).toEqual(["a:1", "b:2", "c:3", "a:1", "b:2", "c:3"]);
  });

  test("least outstanding prefers the endpoint with the fewest requests in flight", () => {
    const p = new UpstreamPool("u", urls, "least_outstanding", HEALTH);
    const [a, b, c] = p.endpoints;
    if (!a || !b || !c) throw new Error("endpoints");
    a.inflight = 5;
    b.inflight = 1;
    c.inflight = 3;
    for (let i = 0; i < 5; i++) expect(p.pick(0)).toBe(b);
  });

  test("an excluded endpoint (already tried) is skipped", () => {
    const p = new UpstreamPool("u", urls.slice(0, 2), "round_robin", HEALTH);
    const first = p.pick(0);
    expect(p.pick(0, first)).not.toBe(first);
    expect(p.pick(0, first)).not.toBe(first);
  });

  test("base paths are kept and trailing slashes dropped", () => {
    const p = new UpstreamPool("u", ["http://h:8080/base/", "https://s.example"], "round_robin", HEALTH);
    expect(p.endpoints.map((e) => [e.base, e.host, e.wsBase])).toEqual([
      ["http://h:8080/base", "h:8080", "ws://h:8080/base"],
      ["https://s.example", "s.example", "wss://s.example"],
    ]);
  });
});

describe("passive health", () => {
  test("N consecutive failures eject; the back-off doubles and is capped; success resets the count", () => {
    const events: EjectionEvent[] = [];
    const p = new UpstreamPool("u", urls, "round_robin", HEALTH);
    p.onEject = (e) => events.push(e);
    const a = p.endpoints[0];
    if (!a) throw new Error("endpoint");
    p.failure(a, 0);
    p.failure(a, 0);
    p.success(a);
    p.failure(a, 0);
    p.failure(a, 0);
    expect(events).toEqual([]);
    p.failure(a, 0);
    expect(events).toEqual([{ upstream: "u", endpoint: "http://a:1", failures: 3, durationMs: 1000 }]);
    expect(p.ejectedCount(500)).toBe(1);
    // While ejected it is not picked.
    for (let i = 0; i < 6; i++) expect(p.pick(500)).not.toBe(a);
    for (const t of [2000, 2000, 2000]) p.failure(a, t);
    for (const t of [5000, 5000, 5000]) p.failure(a, t);
    for (const t of [20000, 20000, 20000]) p.failure(a, t);
    expect(events.map((e) => e.durationMs)).toEqual([1000, 2000, 4000, 4000]);
    expect(p.ejectedCount(25000)).toBe(0);
  });

  test("when every endpoint is ejected the pool fails open to the one that returns first", () => {
    const p = new UpstreamPool("u", urls.slice(0, 2), "round_robin", { maxFailures: 1, ejectionMs: 1000, maxEjectionMs: 10000 });
    const [a, b] = p.endpoints;
    if (!a || !b) throw new Error("endpoints");
    p.failure(a, 0);
    p.failure(b, 100);
    expect(p.pick(200)).toBe(a);
  });
});

describe("retry budget", () => {
  test("the floor allows min_per_second retries, then the ratio governs", () => {
    const b = new RetryBudget(0.2, 2, 0);
    let allowed = 0;
    for (let i = 0; i < 100; i++) {
      b.deposit(0);
      if (b.withdraw()) allowed++;
    }
    // 2 from the floor plus 20% of 100 requests.
    expect(allowed).toBe(22);
  });

  test("property: retries never exceed ratio × requests + floor × seconds (+ the initial floor)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 20 }), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), (ratio, floor, gaps) => {
        const b = new RetryBudget(ratio, floor, 0);
        let t = 0;
        let retries = 0;
        for (const g of gaps) {
          t += g;
          b.deposit(t);
          if (b.withdraw()) retries++;
        }
        expect(retries).toBeLessThanOrEqual(Math.floor(ratio * gaps.length + floor * (t / 1000) + floor + 1e-9));
      }),
    );
  });
});
