/**
 * edge-mcp end to end: the real CLI in front of a real HTTP API (declared and
 * OpenAPI tools), the MCP fixture server over Streamable HTTP and over stdio;
 * official SDK clients of both eras; curation and virtual endpoints; bad
 * input of every kind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { join } from "node:path";
import { type Ficus, ROOT, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { type Listening, modern, post, startListening } from "../helpers/mcp.ts";

let api: Listening;
let everything: Listening;
let gw: Ficus;
let mcpUrl: string;

beforeAll(async () => {
  [api, everything] = await Promise.all([startListening("mcp/orders-api.ts"), startListening("mcp/everything-server.ts", ["--port", "0"])]);
  const dir = tempDir("ficus-mcp-");
  const config = writeConfig(
    dir,
    `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
mcp:
  sources:
    shop:
      prefix: ""
      tools:
        - name: get_order
          description: Read one order by id
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          output_schema: { type: object, properties: { id: { type: string }, item: { type: string }, qty: { type: integer } } }
          annotations: { readOnlyHint: true }
          call: { method: GET, path: "/orders/{id}" }
        - name: place_order
          input_schema: { type: object, properties: { item: { type: string }, qty: { type: integer }, channel: { type: string } }, required: [item] }
          call: { method: POST, path: /orders, body: "*" }
      fixed_arguments:
        place_order: { channel: agent }
    orders:
      openapi: http://127.0.0.1:${api.port}/openapi.json
      upstream: http://127.0.0.1:${api.port}
      exclude: { tags: [internal] }
    everything:
      url: http://127.0.0.1:${everything.port}/mcp
      deny: ["test_reconnection"]
      rename: { test_simple_text: simple_text }
    local:
      command: ["${process.execPath}", "${join(ROOT, "test/fixtures/mcp/everything-server.ts")}", "--stdio"]
      allow: ["test_simple_text", "test_error_handling"]
routes:
  - name: orders-api
    match: { prefix: /orders }
    upstream: http://127.0.0.1:${api.port}
  - name: mcp
    match: { path: /mcp }
    mcp: {}
  - name: support
    match: { path: /mcp/support }
    mcp: { tools: ["get_order", "orders__*"], name: support }
`,
  );
  gw = await startFicus(["-c", config]);
  mcpUrl = `${gw.url}/mcp`;
  // The sources start in the background of the listener: wait for the stdio one to be listed.
  await gw.waitForLog((l) => l.msg === "listening");
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([api?.stop(), everything?.stop()]);
});

async function legacyClient(url = mcpUrl): Promise<ClientV1> {
  const c = new ClientV1({ name: "v1-test", version: "1.0.0" }, { capabilities: { sampling: {} } });
  await c.connect(new TransportV1(new URL(url)));
  return c;
}

function text(r: unknown): string {
  const content = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? "").join("");
}

describe("2025-era clients (SDK v1)", () => {
  test("lists the tools of every source, curated, under one endpoint", async () => {
    const c = await legacyClient();
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toContain("get_order");
    expect(names).toContain("place_order");
    expect(names).toContain("orders__getOrder");
    expect(names).toContain("orders__createOrder");
    expect(names).not.toContain("orders__slow"); // excluded by tag
    expect(names).toContain("simple_text"); // renamed: no prefix
    expect(names).toContain("everything__test_image_content");
    expect(names).not.toContain("everything__test_reconnection"); // denied
    expect(names.filter((n) => n.startsWith("local__")).sort()).toEqual(["local__test_error_handling", "local__test_simple_text"]);
    const place = (await c.listTools()).tools.find((t) => t.name === "place_order");
    expect(Object.keys(place?.inputSchema.properties ?? {})).not.toContain("channel"); // fixed: hidden
    await c.close();
  });

  test("a declared tool's call goes through the gateway's route; fixed arguments are injected", async () => {
    const c = await legacyClient();
    const r = await c.callTool({ name: "get_order", arguments: { id: "a/1" } });
    expect(r.structuredContent).toEqual({ id: "a/1", item: "book", qty: 1 });
    const placed = await c.callTool({ name: "place_order", arguments: { item: "pen", channel: "forged" } });
    expect(JSON.parse(text(placed))).toEqual({ id: "o-2", item: "pen", channel: "agent" });
    // The route's access-log line: the tool call was a request of route orders-api.
    await gw.waitForLog(() => gw.access.some((l) => l.route === "orders-api" && l.path === "/orders/a%2F1"), 5000).catch(() => undefined);
    expect(gw.access.some((l) => l.route === "orders-api" && l.path === "/orders/a%2F1")).toBe(true);
    expect(gw.access.some((l) => l.route === "mcp" && l.mcp_method === "tools/call" && l.mcp_tool === "get_order")).toBe(true);
    await c.close();
  });

  test("OpenAPI tools call the upstream; an HTTP error is a tool error", async () => {
    const c = await legacyClient();
    const r = await c.callTool({ name: "orders__createOrder", arguments: { item: "cup", qty: 2 } });
    expect(r.isError).not.toBe(true);
    expect(JSON.parse(text(r))).toMatchObject({ id: "o-2", item: "cup", qty: 2 });
    const missing = await c.callTool({ name: "orders__getOrder", arguments: { id: "missing" } });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain("404");
    await c.close();
  });

  test("federated tools over HTTP and stdio, with progress passed through", async () => {
    const c = await legacyClient();
    expect(text(await c.callTool({ name: "simple_text", arguments: {} }))).toContain("simple text");
    expect(text(await c.callTool({ name: "local__test_simple_text", arguments: {} }))).toContain("simple text");
    const err = await c.callTool({ name: "local__test_error_handling", arguments: {} });
    expect(err.isError).toBe(true);
    const seen: number[] = [];
    await c.callTool({ name: "everything__test_tool_with_progress", arguments: {} }, undefined, { onprogress: (p) => seen.push(p.progress) });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    await c.close();
  });

  test("a virtual endpoint exposes only its subset", async () => {
    const c = await legacyClient(`${gw.url}/mcp/support`);
    const names = (await c.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["get_order", "orders__createOrder", "orders__getOrder"]);
    await expect(c.callTool({ name: "simple_text", arguments: {} })).rejects.toThrow(/unknown tool/);
    await c.close();
  });

  test("a session is refused on another endpoint, and after DELETE", async () => {
    const init = await post(mcpUrl, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
    expect(init.status).toBe(200);
    const sid = init.headers.get("mcp-session-id") as string;
    expect(sid).toMatch(/^[\x21-\x7e]+$/);
    const list = { jsonrpc: "2.0", id: 2, method: "tools/list" };
    expect((await post(mcpUrl, list, { "mcp-session-id": sid })).status).toBe(200);
    expect((await post(`${gw.url}/mcp/support`, list, { "mcp-session-id": sid })).status).toBe(404);
    expect((await fetch(mcpUrl, { method: "DELETE", headers: { "mcp-session-id": sid } })).status).toBe(200);
    expect((await post(mcpUrl, list, { "mcp-session-id": sid })).status).toBe(404);
  });
});

describe("2026-07-28 clients", () => {
  test("server/discover and a tool call without a session", async () => {
    const d = await modern(mcpUrl, 1, "server/discover");
    expect(d.status).toBe(200);
    const result = d.messages[0]?.result as Record<string, unknown>;
    expect(result.supportedVersions).toEqual(["2026-07-28"]);
    expect(result.resultType).toBe("complete");
    expect(typeof result.ttlMs).toBe("number");
    const call = await modern(mcpUrl, 2, "tools/call", { name: "get_order", arguments: { id: "7" } });
    expect(call.status).toBe(200);
    expect((call.messages[0]?.result as Record<string, unknown>).structuredContent).toEqual({ id: "7", item: "book", qty: 1 });
  });

  test("the SDK v2 client, pinned to 2026-07-28", async () => {
    const c = new Client({ name: "v2-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await c.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toContain("orders__getOrder");
    const r = await c.callTool({ name: "orders__getOrder", arguments: { id: "9" } });
    expect(JSON.parse(text(r))).toEqual({ id: "9", item: "book", qty: 1 });
    expect(text(await c.callTool({ name: "simple_text", arguments: {} }))).toContain("simple text");
    await c.close();
  });

  test("headers must match the body", async () => {
    const wrong = await modern(mcpUrl, 3, "tools/call", { name: "get_order", arguments: { id: "1" } }, { "mcp-name": "place_order" });
    expect(wrong.status).toBe(400);
    expect((wrong.messages[0]?.error as { code: number }).code).toBe(-32020);
    const version = await modern(mcpUrl, 4, "tools/list", { _meta: { "io.modelcontextprotocol/protocolVersion": "2099-01-01" } }, { "mcp-protocol-version": "2099-01-01" });
    expect(version.status).toBe(400);
    expect((version.messages[0]?.error as { code: number; data: unknown }).code).toBe(-32022);
    const ping = await modern(mcpUrl, 5, "ping");
    expect(ping.status).toBe(404);
  });
});

describe("bad input", () => {
  test.each([
    ["malformed JSON", "{nope", 400, -32700],
    ["a batch", "[]", 400, -32600],
    ["a message that is not JSON-RPC", '{"hello":1}', 400, -32600],
    ["no session", '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', 400, -32000],
  ])("%s", async (_name, body, status, code) => {
    const r = await post(mcpUrl, body);
    expect(r.status).toBe(status);
    expect((r.messages[0]?.error as { code: number }).code).toBe(code);
  });

  test("an unknown or forged session is 404", async () => {
    const r = await post(mcpUrl, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { "mcp-session-id": "A".repeat(60) });
    expect(r.status).toBe(404);
  });

  test("a foreign Origin is refused (DNS rebinding)", async () => {
    const r = await post(mcpUrl, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }, { origin: "http://evil.example.com" });
    expect(r.status).toBe(403);
    const host = await fetch(mcpUrl, { method: "POST", headers: { host: "evil.example.com", "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(host.status).toBe(403);
  });

  test("a message over the size limit is 413, the wrong media type 415", async () => {
    const big = await post(mcpUrl, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(5 * 1024 * 1024) } }));
    expect(big.status).toBe(413);
    const media = await fetch(mcpUrl, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(media.status).toBe(415);
  });

  test("an unknown method and an unknown tool are JSON-RPC errors; the gateway keeps serving", async () => {
    const c = await legacyClient();
    await expect(c.request({ method: "nope/nothing", params: {} } as never, (await import("@modelcontextprotocol/sdk/types.js")).EmptyResultSchema)).rejects.toThrow(/not found/i);
    await expect(c.callTool({ name: "no_such_tool", arguments: {} })).rejects.toThrow(/unknown tool/);
    expect((await c.listTools()).tools.length).toBeGreaterThan(5);
    await c.close();
  });
});
