/**
 * Quotas and budgets end to end: the real CLI with API keys on the MCP route,
 * official SDK clients. A quota exceeded answers a tool error with the retry
 * hint; a budget spent by a tool's cost answers a tool error with its reset;
 * with Redis (rate_limit.redis) a quota holds across two gateways.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { type Listening, startListening } from "../helpers/mcp.ts";
import { TEST_REDIS_URL, testRedis } from "../helpers/redis.ts";

const KEYS = { alice: "alice-key-0123456789", bob: "bob-key-0123456789" };
const ENV = { KEY_ALICE: KEYS.alice, KEY_BOB: KEYS.bob };
let api: Listening;
const gateways: Ficus[] = [];

function config(extra: string, mcp: string): string {
  return `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
${extra}
auth_policies:
  keys:
    api_key: { keys: [{ id: alice, env: KEY_ALICE }, { id: bob, env: KEY_BOB }] }
mcp:
  sources:
    shop:
      prefix: ""
      upstream: http://127.0.0.1:${api.port}
      tools:
        - name: get_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          call: { method: GET, path: "/orders/{id}" }
        - name: place_order
          input_schema: { type: object, properties: { item: { type: string } }, required: [item] }
          call: { method: POST, path: /orders, body: "*" }
      per_tool:
        place_order: { cost: 3 }
routes:
  - name: mcp
    match: { path: /mcp }
    auth: keys
    mcp:
${mcp}
`;
}

async function start(dir: string, text: string): Promise<Ficus> {
  const gw = await startFicus(["-c", writeConfig(dir, text)], { env: ENV });
  gateways.push(gw);
  return gw;
}

beforeAll(async () => {
  api = await startListening("mcp/orders-api.ts");
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await api?.stop();
});

async function legacy(gw: Ficus, key: string): Promise<ClientV1> {
  const c = new ClientV1({ name: "v1-test", version: "1.0.0" });
  await c.connect(new TransportV1(new URL(`${gw.url}/mcp`), { requestInit: { headers: { "x-api-key": key } } }));
  return c;
}

function text(r: unknown): string {
  return ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("");
}

describe("local store", () => {
  let gw: Ficus;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir("ficus-mcp-quota-");
    gw = await start(dir, config("", `      quotas: [{ name: reads, rate: "2/m", tools: ["get_*"] }]\n      budget: { limit: 5 }`));
  }, 30_000);

  test("a quota exceeded is a tool error with the retry hint; another principal has its own", async () => {
    const alice = await legacy(gw, KEYS.alice);
    expect((await alice.callTool({ name: "get_order", arguments: { id: "1" } })).isError).toBeFalsy();
    expect((await alice.callTool({ name: "get_order", arguments: { id: "2" } })).isError).toBeFalsy();
    const r = await alice.callTool({ name: "get_order", arguments: { id: "3" } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^rate limit reads exceeded for get_order; retry after (29|30) s$/);
    const retry = (r._meta as Record<string, unknown>)["io.ficus/retry_after_ms"] as number;
    expect(retry).toBeGreaterThan(25_000);
    expect(retry).toBeLessThanOrEqual(30_000);
    const bob = await legacy(gw, KEYS.bob);
    expect((await bob.callTool({ name: "get_order", arguments: { id: "1" } })).isError).toBeFalsy();
    await Promise.all([alice.close(), bob.close()]);
    const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
    expect(metrics).toContain('ficus_mcp_quota_total{endpoint="mcp",quota="reads",result="limited"} 1');
  });

  test("a budget spent by a tool's cost is a tool error stating when it resets (2026-07-28 client)", async () => {
    const c = new Client({ name: "v2-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { "x-api-key": KEYS.bob } } }));
    // bob spent 1 (get_order) above; place_order costs 3.
    expect((await c.callTool({ name: "place_order", arguments: { item: "pen" } })).isError).toBeFalsy();
    const r = await c.callTool({ name: "place_order", arguments: { item: "pen" } });
    expect(r.isError).toBe(true);
    const tomorrow = new Date(Math.ceil((Date.now() + 1) / 86_400_000) * 86_400_000).toISOString();
    expect(text(r)).toBe(`budget exhausted: 4 of 5 units used today (UTC) and place_order costs 3; the budget resets at ${tomorrow}`);
    expect((r._meta as Record<string, unknown>)["io.ficus/budget_reset"]).toBe(tomorrow);
    // A cheaper tool still fits (the quota of get_* is bob's second call).
    expect((await c.callTool({ name: "get_order", arguments: { id: "1" } })).isError).toBeFalsy();
    await c.close();
    expect(existsSync(join(dir, ".ficus/mcp-budgets.db"))).toBe(true);
  });
});

describe("Redis store", async () => {
  const redis = await testRedis("the Redis-backed MCP quota test");
  afterAll(() => redis?.close());

  test.skipIf(redis === undefined)("a quota holds across two gateways sharing Redis", async () => {
    const prefix = `ficus:test:${crypto.randomUUID()}:`;
    const text1 = config(`rate_limit: { redis: { url: "${TEST_REDIS_URL}", key_prefix: "${prefix}" } }`, `      quotas: [{ name: fleet, rate: "3/m", key: [principal] }]`);
    const [a, b] = await Promise.all([start(tempDir("ficus-mcp-quota-a-"), text1), start(tempDir("ficus-mcp-quota-b-"), text1)]);
    const ca = await legacy(a, KEYS.alice);
    const cb = await legacy(b, KEYS.alice);
    const results: boolean[] = [];
    for (let i = 0; i < 5; i++) results.push(((await (i % 2 === 0 ? ca : cb).callTool({ name: "get_order", arguments: { id: String(i) } })).isError ?? false) === true);
    expect(results).toEqual([false, false, false, true, true]);
    const r = await cb.callTool({ name: "get_order", arguments: { id: "x" } });
    expect(text(r)).toMatch(/^rate limit fleet exceeded for get_order; retry after \d+ s$/);
    const keys = (await redis?.send("KEYS", [`${prefix}*`])) as string[];
    expect(keys.length).toBe(1);
    expect(keys[0]).not.toContain("alice");
    await redis?.send("DEL", keys);
    await Promise.all([ca.close(), cb.close()]);
  }, 30_000);
});
