/** rand.intn: in range, stable per (key, n) within one decision, drawn again in the next. */
import { describe, expect, test } from "bun:test";
import { Rego } from "../../../../src/policy/rego/api.ts";

describe("rand.intn", () => {
  test("in [0, |n|), 0 for n = 0, stable within a decision", async () => {
    const policy = await Rego.compile({
      modules: { "r.rego": 'package r\n\nxs := [rand.intn("a", 10), rand.intn("a", 10), rand.intn("a", -10), rand.intn("z", 0)]' },
    });
    for (let i = 0; i < 50; i++) {
      const [a, b, c, z] = policy.evaluate("data.r.xs") as number[];
      expect(a).toBe(b as number);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(10);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThan(10);
      expect(z).toBe(0);
    }
  });

  test("a new decision draws again (over many decisions, more than one value appears)", async () => {
    const policy = await Rego.compile({ modules: { "r.rego": 'package r\n\nx := rand.intn("k", 1000000)' } });
    const seen = new Set<unknown>();
    for (let i = 0; i < 20; i++) seen.add(policy.evaluate("data.r.x"));
    expect(seen.size).toBeGreaterThan(1);
  });

  test("operand errors name the position (strict)", async () => {
    const policy = await Rego.compile({ modules: { "r.rego": "package r\n\nx := rand.intn(input.k, input.n)" }, strict: true });
    expect(() => policy.evaluate("data.r.x", { input: { k: 1, n: 2 } })).toThrow("rand.intn: operand 1 must be string but got number");
    expect(() => policy.evaluate("data.r.x", { input: { k: "a", n: 2.5 } })).toThrow("operand 2");
  });
});
