/**
 * The tool-result cache end to end, through the real CLI in front of the
 * official-SDK fixture server, with official SDK clients authenticated by
 * API keys. The fixture's echo answers with the traceparent the call
 * carried in _meta, which is not part of the cache key: so each real run
 * of the tool is told apart, and a result served to the wrong principal
 * would show the other principal's traceparent. Also: a list_changed at
 * the upstream drops the source's entries, and the Redis backend is shared
 * by two gateways (a fleet), with its keys expiring, and a Redis that is
 * down only makes misses.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type Listening, startListening } from "../helpers/mcp.ts";
import { type Ficus, freePort, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { testRedis } from "../helpers/redis.ts";

const KEYS = { CACHE_KEY_ALICE: "alice-key-0123456789", CACHE_KEY_BOB: "bob-key-0123456789" };
let upstream: Listening;
const gateways: Ficus[] = [];

beforeAll(async () => {
  upstream = await startListening("mcp/upstream-server.ts", ["--http", "0"]);
}, 30_000);

afterAll(async () => {
  for (const g of gateways) await g.stop();
  await upstream?.stop();
});

function config(cache: string): string {
  return `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
auth_policies:
  keys:
    api_key: { keys: [{ id: alice, env: CACHE_KEY_ALICE }, { id: bob, env: CACHE_KEY_BOB }] }
routes:
  - name: mcp
    match: { path: /mcp }
    auth: keys
    mcp: {}
mcp:
  cache: ${cache}
  sources:
    up:
      url: http://127.0.0.1:${upstream.port}/mcp
      per_tool:
        echo: { cache: { ttl: 1m, read_only: true } }
        add: { cache: { ttl: 1m } }
`;
}

async function gateway(cache = "{}"): Promise<Ficus> {
  const g = await startFicus(["-c", writeConfig(tempDir(), config(cache))], { env: KEYS });
  gateways.push(g);
  return g;
}

async function client(g: Ficus, key: string): Promise<Client> {
  const c = new Client({ name: "cache-test", version: "1" });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp`), { requestInit: { headers: { "x-api-key": key } } }));
  return c;
}

let traceSeq = 0;
/** Calls echo with a fresh traceparent; returns the text, the traceparent sent, and the cache mark. */
async function echo(c: Client, text: string): Promise<{ text: string; sent: string; hit: unknown }> {
  const sent = `00-${(++traceSeq).toString(16).padStart(32, "0")}-${"1".padStart(16, "0")}-01`;
  const r = (await c.callTool({ name: "echo", arguments: { text }, _meta: { traceparent: sent } })) as { content: { text: string }[]; _meta?: Record<string, unknown> };
  return { text: r.content[0]?.text ?? "", sent, hit: r._meta?.["io.ficus/cache"] };
}

async function counts(g: Ficus): Promise<Record<string, number>> {
  const body = await (await fetch(`${g.admin}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/^ficus_mcp_cache_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out[`${labels.tool}:${labels.result}`] = Number(m[2]);
  }
  return out;
}

test("one principal never receives another's cached result; a principal's repeat is a hit, whatever its _meta", async () => {
  const g = await gateway();
  const alice = await client(g, KEYS.CACHE_KEY_ALICE);
  const bob = await client(g, KEYS.CACHE_KEY_BOB);
  const a1 = await echo(alice, "which orders are mine?");
  expect(a1.text).toBe(`which orders are mine? traceparent=${a1.sent}`);
  expect(a1.hit).toBeUndefined();
  // Alice again, another traceparent: the stored answer (her first call's), marked as a hit.
  const a2 = await echo(alice, "which orders are mine?");
  expect(a2.text).toBe(a1.text);
  expect(a2.hit).toMatchObject({ hit: true });
  expect((a2.hit as { age_ms: number }).age_ms).toBeGreaterThanOrEqual(0);
  // Bob, same tool, same arguments: his own call reaches the tool (his traceparent), never Alice's answer.
  const b1 = await echo(bob, "which orders are mine?");
  expect(b1.text).toBe(`which orders are mine? traceparent=${b1.sent}`);
  expect(b1.text).not.toContain(a1.sent);
  expect(b1.hit).toBeUndefined();
  const b2 = await echo(bob, "which orders are mine?");
  expect(b2.text).toBe(b1.text);
  expect(b2.hit).toMatchObject({ hit: true });
  // Other arguments: another question.
  const a3 = await echo(alice, "something else");
  expect(a3.text).toContain(a3.sent);
  // add has a ttl but no readOnlyHint: never cached, and counted as skipped.
  expect(((await alice.callTool({ name: "add", arguments: { a: 1, b: 2 } })) as { _meta?: unknown })._meta).toBeUndefined();
  await alice.callTool({ name: "add", arguments: { a: 1, b: 2 } });
  expect(await counts(g)).toMatchObject({ "echo:miss": 3, "echo:stored": 3, "echo:hit": 2, "add:skipped": 2 });
  expect(g.logs.some((l) => String(l.msg).includes("not cached") && l.tool === "add")).toBe(true);
  await alice.close();
  await bob.close();
}, 20_000);

test("list_changed at the upstream drops the source's entries", async () => {
  const g = await gateway();
  const alice = await client(g, KEYS.CACHE_KEY_ALICE);
  const first = await echo(alice, "before the change");
  expect((await echo(alice, "before the change")).text).toBe(first.text);
  await alice.callTool({ name: "add_tool", arguments: { name: `cache_added_${Date.now()}` } });
  const until = Date.now() + 5000;
  while (Date.now() < until && !(await alice.listTools()).tools.some((t) => t.name.startsWith("cache_added_"))) await Bun.sleep(20);
  const after = await echo(alice, "before the change");
  expect(after.hit).toBeUndefined();
  expect(after.text).toBe(`before the change traceparent=${after.sent}`);
  await alice.close();
}, 20_000);

test("Redis: two gateways share entries per principal, keys expire with the tool's TTL; a Redis that is down only makes misses", async () => {
  const redis = await testRedis("the Redis cache test");
  if (redis === undefined) return;
  const prefix = `ficus:test:cache:${crypto.randomUUID().slice(0, 8)}:`;
  const cache = `{ backend: redis, redis_url: "redis://127.0.0.1:6379", key_prefix: "${prefix}" }`;
  try {
    const [g1, g2] = await Promise.all([gateway(cache), gateway(cache)]);
    const alice1 = await client(g1 as Ficus, KEYS.CACHE_KEY_ALICE);
    const alice2 = await client(g2 as Ficus, KEYS.CACHE_KEY_ALICE);
    const bob2 = await client(g2 as Ficus, KEYS.CACHE_KEY_BOB);
    const a1 = await echo(alice1, "fleet");
    expect(a1.hit).toBeUndefined();
    // The write is not awaited by the call: give it a moment to land.
    let keys: string[] = [];
    for (let i = 0; i < 50 && keys.length === 0; i++) {
      keys = (await redis.send("KEYS", [`${prefix}*`])) as string[];
      if (keys.length === 0) await Bun.sleep(10);
    }
    expect(keys.length).toBe(1);
    expect(keys[0]).toStartWith(`${prefix}up:`);
    const ttl = Number(await redis.send("PTTL", [keys[0] as string]));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Alice on the other gateway: the fleet's entry.
    const a2 = await echo(alice2, "fleet");
    expect(a2.text).toBe(a1.text);
    expect(a2.hit).toMatchObject({ hit: true });
    // Bob on that gateway: his own call.
    const b = await echo(bob2, "fleet");
    expect(b.text).toBe(`fleet traceparent=${b.sent}`);
    expect(b.hit).toBeUndefined();
    // A list change drops the source's keys in Redis.
    await alice1.callTool({ name: "add_tool", arguments: { name: `redis_added_${Date.now()}` } });
    for (let i = 0; i < 250 && keys.length > 0; i++) {
      keys = (await redis.send("KEYS", [`${prefix}*`])) as string[];
      if (keys.length > 0) await Bun.sleep(20);
    }
    expect(keys).toEqual([]);
    for (const c of [alice1, alice2, bob2]) await c.close();
    // Redis down (nothing listens there): every call still answers, as a miss; logged once.
    const down = await gateway(`{ backend: redis, redis_url: "redis://127.0.0.1:${freePort()}", redis_timeout: 100ms }`);
    const alice = await client(down, KEYS.CACHE_KEY_ALICE);
    const d1 = await echo(alice, "no redis");
    const d2 = await echo(alice, "no redis");
    expect(d1.text).toBe(`no redis traceparent=${d1.sent}`);
    expect(d2.text).toBe(`no redis traceparent=${d2.sent}`);
    expect(d2.hit).toBeUndefined();
    await down.waitForLog((l) => String(l.msg).includes("Redis is unreachable"), 3000);
    expect(down.logs.filter((l) => String(l.msg).includes("Redis is unreachable")).length).toBe(1);
    await alice.close();
  } finally {
    const left = (await redis.send("KEYS", [`${prefix}*`])) as string[];
    if (left.length > 0) await redis.send("DEL", left);
    redis.close();
  }
}, 30_000);
