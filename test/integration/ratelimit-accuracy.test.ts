/**
 * Fleet-wide accuracy: two separate processes (each a "gateway" using the rate-limit library) share one Redis
 * key with a limit of N/s; over a 10-second run together they admit N·t (+ the burst) within 5%, however much
 * more they ask for. Redis's clock decides, so the processes' own clocks do not matter.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, ROOT } from "../helpers/processes.ts";
import { testRedis } from "../helpers/redis.ts";

const RATE = 500;
const BURST = 10;
const SECONDS = 10;

test(
  "two processes, one Redis, 500/s for 10 s: admitted = 500 × 10 (+ burst) ± 5%",
  async () => {
    const probe = await testRedis("the rate-limit accuracy test");
    if (probe === undefined) return;
    const prefix = `ficus:test:acc:${process.pid}:${Date.now()}:`;
    const startAt = Date.now() + 800; // both processes loaded and connected by then
    const procs = [0, 1].map(() =>
      Bun.spawn([BUN, join(ROOT, "test/fixtures/ratelimit-worker.ts"), "redis://127.0.0.1:6379", prefix, String(RATE), String(BURST), String(startAt), String(SECONDS * 1000)], {
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
    try {
      const results = await Promise.all(procs.map(async (p) => JSON.parse(await new Response(p.stdout).text()) as { admitted: number; limited: number; errors: number }));
      const admitted = results.reduce((n, r) => n + r.admitted, 0);
      const expected = RATE * SECONDS + BURST;
      console.log(`accuracy: admitted ${admitted} of ${results.reduce((n, r) => n + r.admitted + r.limited, 0)} asked (expected ${expected}; per process ${results.map((r) => r.admitted).join(" + ")})`);
      expect(results.every((r) => r.errors === 0)).toBe(true);
      // Both processes got a share, and each asked for far more than the limit.
      expect(results.every((r) => r.admitted > 0 && r.limited > r.admitted)).toBe(true);
      expect(Math.abs(admitted - expected) / expected).toBeLessThanOrEqual(0.05);
    } finally {
      for (const p of procs) p.kill();
      const keys = (await probe.send("KEYS", [`${prefix}*`])) as string[];
      if (keys.length > 0) await probe.send("DEL", keys);
      probe.close();
    }
  },
  { timeout: 15_000 },
);
