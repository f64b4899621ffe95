/**
 * The guardrails end to end, through the real CLI with official SDK clients:
 * a declared tool to the orders API whose arguments fail its input schema,
 * or match a deny pattern, never reaches the API (its /_last is unchanged);
 * a federated tool's result carrying a fake AWS key is redacted; an oversized
 * result is cut with the marker, or refused as a tool error; all of it is
 * counted in ficus_mcp_guardrail_total and each denial logged without the
 * argument values.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type Listening, startListening } from "../helpers/mcp.ts";
import { type Ficus, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";

// A made-up key of the right shape.
const FAKE_AWS_KEY = "AKIAZ7Q2EXAMPLE4KEY9";
let api: Listening;
let upstream: Listening;
let g: Ficus;
let client: Client;

beforeAll(async () => {
  [api, upstream] = await Promise.all([startListening("mcp/orders-api.ts"), startListening("mcp/upstream-server.ts", ["--http", "0"])]);
  const config = `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
routes:
  - name: mcp
    match: { path: /mcp }
    mcp: {}
mcp:
  guardrails:
    deny_arguments:
      - name: sql
        pattern: '(?i)\\bdrop\\s+table\\b'
        message: "statements that drop tables are not allowed through tools"
  sources:
    orders:
      upstream: http://127.0.0.1:${api.port}
      tools:
        - name: place_order
          description: Place an order
          input_schema:
            type: object
            properties: { item: { type: string }, qty: { type: integer, minimum: 1 } }
            required: [item, qty]
          call: { method: POST, path: /orders, body: "*" }
        - name: get_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          call: { path: "/orders/{id}" }
      per_tool:
        get_order: { max_result_bytes: 1KiB, on_oversize: error }
    up:
      url: http://127.0.0.1:${upstream.port}/mcp
      per_tool:
        echo: { max_result_bytes: 2KiB }
`;
  g = await startFicus(["-c", writeConfig(tempDir(), config)]);
  client = new Client({ name: "guardrails-test", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp`)));
}, 30_000);

afterAll(async () => {
  await client?.close();
  await g?.stop();
  await api?.stop();
  await upstream?.stop();
});

type Result = { content: { type: string; text: string }[]; isError?: boolean; structuredContent?: unknown; _meta?: Record<string, unknown> };
const callTool = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;
const last = async () => (await fetch(`http://127.0.0.1:${api.port}/_last`)).json();

async function counts(): Promise<Record<string, number>> {
  const body = await (await fetch(`${g.admin}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/^ficus_mcp_guardrail_total\{([^}]*)\} (\d+)/gm)) {
    const l = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out[`${l.tool}|${l.rule}|${l.action}`] = Number(m[2]);
  }
  return out;
}

test("a declared tool's call that fails its input schema never reaches the API", async () => {
  const ok = await callTool("orders__place_order", { item: "book", qty: 2 });
  expect(ok.isError).toBeFalsy();
  const before = await last();
  expect(before).toMatchObject({ method: "POST", path: "/orders" });
  expect(JSON.parse((before as { body: string }).body)).toEqual({ item: "book", qty: 2 });

  const bad = await callTool("orders__place_order", { item: "pen", qty: "two" });
  expect(bad.isError).toBe(true);
  expect(bad.content[0]?.text).toBe("arguments do not fit the tool's input schema: /qty must be integer");
  const missing = await callTool("orders__place_order", { item: "pen" });
  expect(missing.content[0]?.text).toBe("arguments do not fit the tool's input schema: (root) must have required property 'qty'");
  expect(await last()).toEqual(before);
});

test("a call matching a deny pattern never reaches the API; the denial is logged by rule, without the values", async () => {
  const before = await last();
  const denied = await callTool("orders__place_order", { item: "x'; DROP TABLE orders; --", qty: 1 });
  expect(denied.isError).toBe(true);
  expect(denied.content[0]?.text).toBe("statements that drop tables are not allowed through tools");
  expect(await last()).toEqual(before);
  const line = g.logs.find((l) => l.msg === "an MCP tool call was denied by a guardrail" && l.rule === "deny_arguments:sql");
  expect(line).toMatchObject({ tool: "orders__place_order", endpoint: "mcp" });
  expect(g.logs.some((l) => JSON.stringify(l).includes("DROP TABLE orders"))).toBe(false);
});

test("a federated tool's result carrying a fake AWS key reaches the agent redacted", async () => {
  const r = await callTool("up__echo", { text: `your key is ${FAKE_AWS_KEY}, keep it safe` });
  expect(r.isError).toBeFalsy();
  expect(r.content[0]?.text).toBe("your key is [redacted], keep it safe");
  expect(JSON.stringify(r)).not.toContain(FAKE_AWS_KEY);
});

test("an oversized federated result is cut with the marker; with on_oversize: error it is a tool error", async () => {
  const big = "lorem ipsum ".repeat(400); // 4,800 bytes against echo's 2 KiB
  const r = await callTool("up__echo", { text: big });
  const text = r.content[0]?.text ?? "";
  expect(r.isError).toBeFalsy();
  expect(text.startsWith("lorem ipsum lorem")).toBe(true);
  expect(text).toEndWith(`[… truncated by Ficus: ${big.length - 2048} bytes over max_result_bytes]`);
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);

  const small = await callTool("up__add", { a: 2, b: 3 });
  expect(small.structuredContent).toEqual({ sum: 5 });

  // The orders API echoes the id it was asked for: a 3,000-character id makes a result over get_order's 1 KiB.
  expect((await callTool("orders__get_order", { id: "o-1" })).content[0]?.text).toContain('"item":"book"');
  const refused = await callTool("orders__get_order", { id: "x".repeat(3000) });
  expect(refused.isError).toBe(true);
  expect(refused.content[0]?.text).toMatch(/^the result of orders__get_order is \d+ bytes, over max_result_bytes \(1024\); it was not passed on$/);
  expect(await counts()).toMatchObject({
    "orders__place_order|schema|denied": 2,
    "orders__place_order|deny_arguments:sql|denied": 1,
    "up__echo|redact|redacted": 1,
    "up__echo|size|truncated": 1,
    "orders__get_order|size|error": 1,
  });
});
