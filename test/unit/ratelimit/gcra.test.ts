/** GCRA: the bound over any arrival sequence (property), bursts, retry-after, and the bounded local store. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { gcra, gcraParams } from "../../../src/ratelimit/gcra.ts";
import { LocalStore } from "../../../src/ratelimit/local-store.ts";

describe("GCRA", () => {
  test("property: over any arrival sequence, any window of length t admits at most burst + t/interval", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }), // count
        fc.integer({ min: 1, max: 10_000 }), // period ms
        fc.integer({ min: 1, max: 50 }), // burst
        fc.array(fc.double({ min: 0, max: 2_000, noNaN: true }), { minLength: 1, maxLength: 300 }), // gaps between arrivals, ms
        (count, periodMs, burst, gaps) => {
          const p = gcraParams(count, periodMs, burst, 1);
          let tat = 0;
          let now = 0;
          const admitted: number[] = [];
          for (const g of gaps) {
            now += g;
            const r = gcra(tat, now, p);
            if (r.admitted) {
              tat = r.tat;
              admitted.push(now);
            }
          }
          // Every window [admitted[i], admitted[j]] holds j - i + 1 admissions.
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              const t = (admitted[j] as number) - (admitted[i] as number);
              if (j - i + 1 > burst + (t + 1e-6) / p.interval + 1e-9) return false; // 1e-6 ms: the comparison's slack
            }
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  test("property: a client that keeps to the rate is never refused", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 500 }), (count, periodMs, burst, n) => {
        const p = gcraParams(count, periodMs, burst, 1);
        let tat = 0;
        for (let i = 0; i < n; i++) {
          const r = gcra(tat, i * p.interval, p);
          if (!r.admitted) return false;
          tat = r.tat;
        }
        return true;
      }),
    );
  });

  test("an idle key admits exactly its burst at once; remaining counts down; the refusal says when to come back", () => {
    const p = gcraParams(10, 1000, 5, 1); // 10/s, burst 5: interval 100 ms
    let tat = 0;
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = gcra(tat, 1000, p);
      expect(r.admitted).toBe(true);
      remaining.push(r.remaining);
      tat = r.tat;
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = gcra(tat, 1000, p);
    expect(refused).toMatchObject({ admitted: false, remaining: 0, retryAfter: 100 });
    expect(gcra(tat, 1000 + 99, p).admitted).toBe(false);
    expect(gcra(tat, 1000 + 100, p).admitted).toBe(true);
    // The whole burst is back after burst × interval.
    expect(refused.reset).toBe(500);
  });
});

describe("local store", () => {
  const p = gcraParams(1, 1000, 1, 1); // 1/s, burst 1

  test("take, refund, and a key idle a second past its TAT is forgotten from the front", () => {
    const s = new LocalStore(p, 100);
    expect(s.take("a", 0).admitted).toBe(true);
    expect(s.take("a", 10).admitted).toBe(false);
    s.refund("a", 10);
    expect(s.take("a", 20).admitted).toBe(true);
    s.take("b", 30);
    expect(s.size).toBe(2);
    // At t = 5000 both TATs are more than a second past: the next call sweeps them (two per call).
    s.take("c", 5000);
    expect(s.size).toBe(1);
  });

  test("bounded: past max_keys the least recently used key goes, counted when it was still counting", () => {
    let evicted = 0;
    const s = new LocalStore(p, 3, () => evicted++);
    s.take("a", 0);
    s.take("b", 0);
    s.take("c", 0);
    s.take("a", 1); // refused, but "a" stays where it was: only admissions move a key
    s.take("d", 2);
    expect(s.size).toBe(3);
    expect(evicted).toBe(1);
    // "a" was the least recently admitted: it starts afresh.
    expect(s.take("a", 3).admitted).toBe(true);
  });

  test("O(1) per request: 200,000 distinct keys stay within the bound", () => {
    let evicted = 0;
    const s = new LocalStore(gcraParams(100, 1000, 10, 1), 1000, () => evicted++);
    for (let i = 0; i < 200_000; i++) s.take(`k${i}`, i / 1000);
    expect(s.size).toBeLessThanOrEqual(1000);
    expect(evicted).toBeGreaterThan(0);
  });
});
