/**
 * edge-mcp passes an upstream's list changes on: a 2025-era session hears
 * notifications/tools/list_changed on its GET stream, a 2026-07-28 client on
 * its subscriptions/listen stream; and @modelcontextprotocol/inspector-cli, as
 * an operator would run it, lists and calls tools through the gateway.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { dirname, join } from "node:path";
import { type Ficus, ROOT, startFicus } from "../helpers/processes.ts";
import { envelope, type Listening, MODERN, startListening } from "../helpers/mcp.ts";

let upstream: Listening;
let gw: Ficus;
let url: string;

beforeAll(async () => {
  upstream = await startListening("mcp/upstream-server.ts", ["--http", "0"]);
  gw = await startFicus(["--mode", "edge-mcp", "--mcp", `http://127.0.0.1:${upstream.port}/mcp`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", "1"]);
  url = `${gw.url}/mcp`;
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await Bun.sleep(20);
}

test("a 2025-era session hears list_changed on its GET stream, and the new tool is listed and callable", async () => {
  const c = new ClientV1({ name: "v1", version: "1" });
  let heard = 0;
  c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    heard++;
  });
  await c.connect(new TransportV1(new URL(url)));
  await Bun.sleep(100); // the client opens its GET stream after initialize
  await c.callTool({ name: "add_tool", arguments: { name: "added_legacy" } });
  await until(() => heard > 0);
  expect(heard).toBeGreaterThan(0);
  expect((await c.listTools()).tools.map((t) => t.name)).toContain("added_legacy");
  const r = await c.callTool({ name: "added_legacy", arguments: {} });
  expect(JSON.stringify(r.content)).toContain("added_legacy ran");
  await c.close();
});

test("a 2026-07-28 client hears it on subscriptions/listen, acknowledged first, stamped with its subscription id", async () => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": MODERN, "mcp-method": "subscriptions/listen" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "L1", method: "subscriptions/listen", params: { notifications: { toolsListChanged: true }, _meta: envelope() } }),
  });
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let text = "";
  const events = () => text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)) as { method?: string; params?: Record<string, unknown> });
  const readUntil = async (n: number) => {
    const end = Date.now() + 5000;
    while (events().length < n && Date.now() < end) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
  };
  await readUntil(1);
  expect(events()[0]?.method).toBe("notifications/subscriptions/acknowledged");
  // Another client adds a tool at the upstream.
  const c = new ClientV1({ name: "v1", version: "1" });
  await c.connect(new TransportV1(new URL(url)));
  await c.callTool({ name: "add_tool", arguments: { name: "added_modern" } });
  await c.close();
  await readUntil(2);
  const change = events()[1];
  expect(change?.method).toBe("notifications/tools/list_changed");
  expect((change?.params?._meta as Record<string, unknown>)["io.modelcontextprotocol/subscriptionId"]).toBe("L1");
  await reader.cancel();
});

test("inspector-cli lists and calls tools through the gateway", async () => {
  // inspector-cli 1.0.3 finds its package.json relative to the working folder: run it from its build folder.
  const cli = join(dirname(Bun.resolveSync("@modelcontextprotocol/inspector-cli/package.json", ROOT)), "build");
  const run = async (args: string[]) => {
    const p = Bun.spawn(["node", join(cli, "index.js"), url, "--transport", "http", ...args], { cwd: cli, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code, err).toBe(0);
    return JSON.parse(out) as Record<string, unknown>;
  };
  const list = await run(["--method", "tools/list"]);
  expect((list.tools as { name: string }[]).map((t) => t.name)).toContain("echo");
  const call = await run(["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "text=hello"]);
  expect(JSON.stringify(call.content)).toContain("hello");
}, 30_000);

test("a 2025-11-25 call's stream is resumable: the client leaves mid-call, reconnects with Last-Event-ID and gets the rest", async () => {
  const init = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });
  const sid = init.headers.get("mcp-session-id") as string;
  await init.text();
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
  const abort = new AbortController();
  const res = await fetch(url, {
    method: "POST",
    headers,
    signal: abort.signal,
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "slow", arguments: { ms: 600, steps: 6 }, _meta: { progressToken: "p7" } } }),
  });
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let text = "";
  // The priming event (an id, a retry delay, no data) comes first; read until one progress event is in.
  while (!/data: \{[^\n]*notifications\/progress/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  expect(text).toMatch(/^id: \S+\.0\nretry: \d+\ndata: \n\n/);
  const lastId = [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]).pop() as string;
  abort.abort(); // the client goes away mid-call
  await Bun.sleep(50);
  const resumed = await fetch(url, { method: "GET", headers: { accept: "text/event-stream", "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25", "last-event-id": lastId } });
  expect(resumed.status).toBe(200);
  const rest = await resumed.text(); // ends after the result
  const messages = rest.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)) as { id?: number; method?: string; result?: { content: { text: string }[] } });
  expect(messages.some((m) => m.method === "notifications/progress")).toBe(true);
  const result = messages.find((m) => m.id === 7);
  expect(result?.result?.content[0]?.text).toBeDefined();
  // An unknown position is refused: the client sends its request again.
  const unknown = await fetch(url, { method: "GET", headers: { accept: "text/event-stream", "mcp-session-id": sid, "last-event-id": "nope.3" } });
  expect(unknown.status).toBe(400);
  await unknown.text();
}, 20_000);
