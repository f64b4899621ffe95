/**
 * 2025-era MCP sessions across replicas: a session opened on one gateway is
 * served by another holding the same key (no sticky load balancer, no shared
 * store), refused by one with another key, and shared by the workers of one
 * gateway that made its own key.
 */
import { afterAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { type Ficus, freePort, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { post, startListening, type Listening } from "../helpers/mcp.ts";

const started: Ficus[] = [];
let api: Listening | undefined;

afterAll(async () => {
  await Promise.all(started.map((g) => g.stop()));
  await api?.stop();
});

function config(key: string | undefined, port: number, apiPort: number, workers = 1): string {
  return writeConfig(
    tempDir("ficus-mcp-sessions-"),
    `
mode: edge-mcp
listen: 127.0.0.1:${port}
admin: { listen: 127.0.0.1:0 }
workers: ${workers}
mcp:
${key ? `  session: { key: "${key}" }\n` : ""}  sources:
    shop:
      upstream: http://127.0.0.1:${apiPort}
      tools:
        - name: get_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          call: { path: "/orders/{id}" }
`,
  );
}

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const CALL = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "get_order", arguments: { id: "42" } } };

test("a session opened on one gateway is served by another with the same key, and refused by one without it", async () => {
  api = await startListening("mcp/orders-api.ts");
  const key = randomBytes(32).toString("base64");
  const [a, b, c] = await Promise.all([
    startFicus(["-c", config(key, 0, api.port)]),
    startFicus(["-c", config(key, 0, api.port)]),
    startFicus(["-c", config(randomBytes(32).toString("base64"), 0, api.port)]),
  ]);
  started.push(a, b, c);
  const init = await post(`${a.url}/mcp`, INIT);
  const sid = init.headers.get("mcp-session-id") as string;
  expect(sid).toBeTruthy();
  const onB = await post(`${b.url}/mcp`, CALL, { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" });
  expect(onB.status).toBe(200);
  expect(JSON.stringify(onB.messages[0])).toContain('\\"id\\":\\"42\\"');
  const onC = await post(`${c.url}/mcp`, CALL, { "mcp-session-id": sid });
  expect(onC.status).toBe(404);
}, 30_000);

test("the workers of one gateway share the key it made for itself, and an ended session is refused by all of them", async () => {
  api ??= await startListening("mcp/orders-api.ts");
  const port = freePort();
  const g = await startFicus(["-c", config(undefined, port, api.port, 2)]);
  started.push(g);
  const url = `http://127.0.0.1:${port}/mcp`;
  // Both workers answer (the kernel spreads new connections): every call with the session must be served.
  const init = await post(url, INIT);
  const sid = init.headers.get("mcp-session-id") as string;
  const call = () => fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sid, connection: "close" }, body: JSON.stringify(CALL) });
  for (let i = 0; i < 20; i++) {
    const r = await call();
    expect(r.status).toBe(200);
    await r.text();
  }
  // Ended on one worker: refused by both at once (the DELETE is answered once every worker knows).
  const del = await fetch(url, { method: "DELETE", headers: { "mcp-session-id": sid, connection: "close" } });
  expect(del.status).toBe(200);
  for (let i = 0; i < 20; i++) {
    const r = await call();
    expect(r.status).toBe(404);
    await r.text();
  }
}, 30_000);
