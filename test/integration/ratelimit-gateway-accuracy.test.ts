/**
 * Fleet-wide accuracy through the gateway (issue 11, item 4): two real `ficus start` processes, each one
 * process on its own port, share one Redis and one named limit (a policy) of N/s. Both are driven at once by
 * closed loops of keep-alive requests, far more than N/s, for 10 s; together they admit N·t (+ the burst)
 * within 5%, and everything else is a 429 (no error, no 503). The key prefix is unique per run, so keys of
 * an earlier run never count.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RedisClient } from "bun";
import { startFicus, startUpstream, tempDir, writeConfig, type Ficus, type Upstream } from "../helpers/processes.ts";
import { testRedis } from "../helpers/redis.ts";

const REDIS = "redis://127.0.0.1:6379";
const RATE = 200;
const BURST = 40; // absorbs a 200 ms stall of the load (a busy machine), which a closed loop cannot make up
const SECONDS = 10;
const LOOPS = 6; // concurrent closed loops per gateway
const PREFIX = `ficus:test:gwacc:${process.pid}:${Date.now()}:`;

let redis: RedisClient | undefined;
let skip = "";
let up: Upstream | undefined;
const gateways: Ficus[] = [];

beforeAll(async () => {
  redis = await testRedis("the gateway rate-limit accuracy test");
  if (redis === undefined) {
    skip = "no Redis";
    return;
  }
  up = await startUpstream("acc");
  const config = writeConfig(
    tempDir("ficus-rl-gwacc-"),
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
rate_limit:
  redis: { url: ${REDIS}, timeout: 500ms, key_prefix: "${PREFIX}" }
  policies:
    fleet: { rate: ${RATE}/s, burst: ${BURST}, key: [route], backend: redis, on_backend_error: closed }
routes:
  - name: acc
    match: { prefix: / }
    upstream: ${up.url}
    rewrite: { path: /echo }
    rate_limit: { headers: false, limits: [fleet] }
`,
  );
  gateways.push(...(await Promise.all([startFicus(["-c", config]), startFicus(["-c", config])])));
}, 10_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await up?.stop();
  if (redis === undefined) return;
  const keys = (await redis.send("KEYS", [`${PREFIX}*`])) as string[];
  if (keys.length > 0) await redis.send("DEL", keys);
  redis.close();
});

interface Counts {
  ok: number;
  limited: number;
  other: number;
}

/** A closed loop against `url` until `end` (epoch ms); only answers that arrive before `end` count. */
async function loop(url: string, end: number, into: Counts): Promise<void> {
  while (Date.now() < end) {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (Date.now() >= end) break;
    if (res.status === 200) into.ok++;
    else if (res.status === 429) into.limited++;
    else into.other++;
  }
}

test(
  `two gateways, one Redis, ${RATE}/s for ${SECONDS} s: admitted = ${RATE} × ${SECONDS} (+ burst) ± 5%`,
  async () => {
    if (skip) return;
    // Both gateways connected to Redis and past their first request; then the bucket fills up again.
    for (const g of gateways) expect([200, 429]).toContain((await fetch(`${g.url}/warm`)).status);
    await Bun.sleep(((BURST + 2) * 1000) / RATE + 50);
    const end = Date.now() + SECONDS * 1000;
    const counts: Counts[] = gateways.map(() => ({ ok: 0, limited: 0, other: 0 }));
    await Promise.all(gateways.flatMap((g, i) => Array.from({ length: LOOPS }, () => loop(`${g.url}/orders/1`, end, counts[i] as Counts))));
    const admitted = counts.reduce((n, c) => n + c.ok, 0);
    const asked = counts.reduce((n, c) => n + c.ok + c.limited + c.other, 0);
    const expected = RATE * SECONDS + BURST;
    console.log(
      `gateway accuracy: admitted ${admitted} of ${asked} asked (${Math.round(asked / SECONDS)} req/s offered; expected ${expected}; per gateway ${counts.map((c) => `${c.ok} ok / ${c.limited} limited`).join(", ")})`,
    );
    expect(counts.every((c) => c.other === 0)).toBe(true);
    // The load clearly exceeds the limit (at least 2,000 req/s offered, ten times N), and both gateways got a share.
    expect(asked / SECONDS).toBeGreaterThanOrEqual(2000);
    expect(counts.every((c) => c.ok > 0 && c.limited > c.ok)).toBe(true);
    expect(Math.abs(admitted - expected) / expected).toBeLessThanOrEqual(0.05);
  },
  { timeout: 15_000 },
);
