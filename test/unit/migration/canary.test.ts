import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { assign, bucketOf, type CanarySettings, cookieValue, forcedSide, inCanary, stickyKey } from "../../../src/migration/canary.ts";

const settings = (percent: number, extra: Partial<CanarySettings> = {}): CanarySettings => ({ percent, header: "x-user-id", fallback: "ip", salt: "", ...extra });
const withUser = (id: string) => new Headers({ "x-user-id": id });

describe("distribution", () => {
  for (const percent of [1, 10, 50]) {
    test(`${percent}% of 100,000 keys, within ±1 percentage point`, () => {
      const s = settings(percent);
      let n = 0;
      for (let i = 0; i < 100_000; i++) if (assign(s, { acc: 0 }, withUser(`user-${i}`), "") === "candidate") n++;
      expect(Math.abs((n / 100_000) * 100 - percent)).toBeLessThanOrEqual(1);
    });
  }

  test("0% and 100% are absolute", () => {
    expect(assign(settings(0), { acc: 0 }, withUser("a"), "")).toBe("legacy");
    expect(assign(settings(100), { acc: 0 }, withUser("a"), "")).toBe("candidate");
  });

  test("requests without a key: exactly the percentage, per request", () => {
    const s = settings(25, { header: undefined, fallback: "none" });
    const state = { acc: 0 };
    let n = 0;
    for (let i = 0; i < 1000; i++) if (assign(s, state, new Headers(), "") === "candidate") n++;
    expect(n).toBe(250);
  });
});

describe("stickiness and promotion", () => {
  test("a key always lands on the same side at a given percentage", () => {
    const s = settings(30);
    for (let i = 0; i < 200; i++) {
      const first = assign(s, { acc: 0 }, withUser(`u${i}`), "");
      for (let k = 0; k < 5; k++) expect(assign(s, { acc: 0 }, withUser(`u${i}`), "")).toBe(first);
    }
  });

  test("property: raising the percentage only moves keys from legacy to the candidate", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (key, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const bucket = bucketOf(key, "");
        return !inCanary(bucket, lo) || inCanary(bucket, hi);
      }),
      { numRuns: 2000 },
    );
  });

  test("the salt separates routes; the same salt keeps a key on the same side everywhere", () => {
    let differ = 0;
    for (let i = 0; i < 1000; i++) if (inCanary(bucketOf(`k${i}`, "a"), 50) !== inCanary(bucketOf(`k${i}`, "b"), 50)) differ++;
    expect(differ).toBeGreaterThan(350);
    expect(bucketOf("k1", "")).toBe(bucketOf("k1", ""));
  });
});

describe("keys", () => {
  test("header, then cookie, then the client address; none → undefined", () => {
    expect(stickyKey(settings(10), withUser("u1"), "10.0.0.1")).toBe("u1");
    expect(stickyKey(settings(10), new Headers(), "10.0.0.1")).toBe("10.0.0.1");
    expect(stickyKey(settings(10, { fallback: "none" }), new Headers(), "10.0.0.1")).toBeUndefined();
    expect(stickyKey(settings(10, { header: undefined, cookie: "uid" }), new Headers({ cookie: "a=1; uid=abc ; b=2" }), "ip")).toBe("abc");
  });

  test("cookie parsing", () => {
    expect(cookieValue("a=1; b=2", "b")).toBe("2");
    expect(cookieValue("ab=1; b=2", "a")).toBeUndefined();
    expect(cookieValue(null, "a")).toBeUndefined();
  });

  test("X-Ficus-Force values", () => {
    expect(forcedSide("candidate")).toBe("candidate");
    expect(forcedSide(" Legacy ")).toBe("legacy");
    expect(forcedSide("both")).toBeUndefined();
    expect(forcedSide(null)).toBeUndefined();
  });
});
