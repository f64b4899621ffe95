/**
 * The Redis of the rate-limit tests (127.0.0.1:6379, as on CI): a connected
 * client, or — when none answers — undefined with the reason printed, and an
 * error instead under CI, where .ci/run starts it.
 */
import { RedisClient } from "bun";

export const TEST_REDIS_URL = "redis://127.0.0.1:6379";

export async function testRedis(purpose: string): Promise<RedisClient | undefined> {
  const c = new RedisClient(TEST_REDIS_URL, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 1000 });
  try {
    await c.connect();
    await c.send("PING", []);
    return c;
  } catch (err) {
    const why = `Redis is not reachable at 127.0.0.1:6379 (${err instanceof Error ? err.message : String(err)}); start it with \`redis-server --daemonize yes\``;
    if (process.env.CI) throw new Error(why);
    console.warn(`skipping ${purpose}: ${why}`);
    return undefined;
  }
}
