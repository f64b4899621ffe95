/**
 * edge-mcp when things go wrong, through the real gateway: an invalid OpenAPI
 * document (named in the log; the other sources still served), a stdio
 * server that crashes mid-call (a clear tool error, then restarted), an agent
 * that cancels (the upstream hears it), an upstream that hangs (the source's
 * timeout), and a reload that changes the tools while clients are connected.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { join } from "node:path";
import { type Ficus, ROOT, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { type Listening, startListening } from "../helpers/mcp.ts";

let hanging: Listening;
let gw: Ficus;

beforeAll(async () => {
  hanging = await startListening("mcp/upstream-server.ts", ["--http", "0", "--hang"]);
  const fixture = join(ROOT, "test/fixtures/mcp/upstream-server.ts");
  const config = writeConfig(
    tempDir("ficus-mcp-fail-"),
    `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
mcp:
  pinning: { mode: off }
  sources:
    broken:
      openapi: ${join(ROOT, "test/fixtures/openapi/broken.yaml")}
      upstream: http://127.0.0.1:9
    local:
      command: ["${process.execPath}", "${fixture}", "--stdio"]
    slow:
      url: http://127.0.0.1:${hanging.port}/mcp
      timeout: 300ms
`,
  );
  gw = await startFicus(["-c", config]);
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await hanging?.stop();
}, 30_000);

async function client(): Promise<ClientV1> {
  const c = new ClientV1({ name: "failures", version: "1" });
  await c.connect(new TransportV1(new URL(`${gw.url}/mcp`)));
  return c;
}

function text(r: unknown): string {
  return ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("");
}

test("an invalid OpenAPI document is named in the log, and the other sources are served", async () => {
  const line = await gw.waitForLog((l) => l.msg === "an MCP source failed to start; the other sources are served" && l.source === "broken");
  expect(String(line.error)).toContain("broken.yaml");
  const c = await client();
  const names = (await c.listTools()).tools.map((t) => t.name);
  expect(names).toContain("local__echo");
  expect(names.some((n) => n.startsWith("broken__"))).toBe(false);
  await c.close();
});

test("a stdio server that crashes mid-call: a tool error naming it, then it is restarted and serves again", async () => {
  const c = await client();
  const crashed = await c.callTool({ name: "local__crash", arguments: {} });
  expect(crashed.isError).toBe(true);
  expect(text(crashed)).toMatch(/local/);
  let again = "";
  for (let i = 0; i < 100 && !again.includes("after"); i++) {
    await Bun.sleep(50);
    const r = await c.callTool({ name: "local__echo", arguments: { text: "after" } });
    if (r.isError !== true) again = text(r);
  }
  expect(again).toContain("after");
  await c.close();
}, 20_000);

test("an agent's cancellation reaches the upstream", async () => {
  const c = await client();
  const count = async () => Number(text(await c.callTool({ name: "local__cancelled_count", arguments: {} })));
  const before = await count();
  const abort = new AbortController();
  const pending = c.callTool({ name: "local__slow", arguments: { ms: 5000, steps: 50 } }, undefined, { signal: abort.signal, onprogress: () => abort.abort() });
  await expect(pending).rejects.toThrow();
  let after = before;
  for (let i = 0; i < 100 && after === before; i++) {
    await Bun.sleep(30);
    after = await count();
  }
  expect(after).toBe(before + 1);
  await c.close();
}, 20_000);

test("an upstream that hangs: the source's timeout ends the call with a tool error", async () => {
  const c = await client();
  const started = Date.now();
  const r = await c.callTool({ name: "slow__echo", arguments: { text: "x" } });
  expect(r.isError).toBe(true);
  expect(text(r)).toContain("FICUS_MCP_CALL_TIMEOUT");
  expect(Date.now() - started).toBeLessThan(5000);
  await c.close();
}, 20_000);
