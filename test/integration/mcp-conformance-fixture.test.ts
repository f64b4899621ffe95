/**
 * The MCP everything fixture, started as its own process, passes a fast subset of
 * the official conformance suite's server scenarios in both eras (2025-11-25
 * sessionful, 2026-07-28 stateless), run through scripts/mcp-conformance.ts's
 * runConformance — the same path the gateway's conformance test takes. The full
 * run (every scenario, `bun scripts/mcp-conformance.ts`) is recorded in
 * test/conformance/mcp/.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { baselineFailures, formatTable, runConformance, toBaseline, type Result } from "../../scripts/mcp-conformance.ts";
import { join } from "node:path";
import { startEverythingServer, type EverythingProcess } from "../fixtures/mcp/everything-server.ts";

const FIXTURE = join(import.meta.dir, "../fixtures/mcp/everything-server.ts");

const LEGACY = ["server-initialize", "tools-list", "tools-call-simple-text", "ping", "dns-rebinding-protection"];
const MODERN = ["server-stateless", "tools-list", "tools-call-simple-text", "http-header-validation"];

let fixture: EverythingProcess;

beforeAll(async () => {
  fixture = await startEverythingServer();
});

afterAll(async () => {
  await fixture?.stop();
});

/** The DNS-rebinding scenario needs a localhost URL, as a local user would give it. */
const localUrl = () => `http://localhost:${fixture.port}/mcp`;

function expectAllPass(results: Result[], scenarios: string[]): void {
  const table = formatTable(results);
  expect(results.map((r) => r.scenario).sort(), table).toEqual([...scenarios].sort());
  for (const r of results) {
    expect({ scenario: r.scenario, status: r.status, failed: r.failed }, table).toEqual({ scenario: r.scenario, status: "pass", failed: [] });
    expect(r.checks, `${r.scenario} judged no checks`).toBeGreaterThan(0);
  }
}

test("2025-11-25 (sessionful): initialize, tools, ping and DNS-rebinding protection pass", async () => {
  const results = await runConformance({ url: localUrl(), era: "legacy", scenarios: LEGACY });
  expectAllPass(results, LEGACY);
  expect(results.every((r) => r.revision === "2025-11-25")).toBe(true);
}, 15_000);

test("2026-07-28 (stateless): server-stateless, tools and header validation pass", async () => {
  const results = await runConformance({ url: localUrl(), era: "modern", scenarios: MODERN });
  expectAllPass(results, MODERN);
  expect(results.every((r) => r.revision === "2026-07-28")).toBe(true);
}, 15_000);

test("a scenario the fixture cannot pass is reported as a failure with its check ids", async () => {
  // The tasks extension (SEP-2663) is not in the v2 server SDK, so the fixture fails it.
  const [result] = await runConformance({ url: localUrl(), era: "modern", scenarios: ["tasks-required-task-error"] });
  expect(result?.status).toBe("fail");
  expect(result?.failed).toContain("sep-2663-server-returns-missing-capability-when-required");
  expect(result?.notScored).toBe("extension");
  // …and a baseline naming it reports the miss.
  expect(baselineFailures([result!], { "2026-07-28": ["tasks-required-task-error"] })).toHaveLength(1);
  expect(toBaseline([result!])).toEqual({});
}, 15_000);

test("an unknown scenario name is an error, not a skip", async () => {
  await expect(runConformance({ url: localUrl(), era: "legacy", scenarios: ["no-such-scenario"] })).rejects.toThrow(/Unknown scenario/);
}, 15_000);

test("--stdio serves the same server over stdin/stdout (2025 handshake, then a tool call)", async () => {
  const proc = Bun.spawn([process.execPath, FIXTURE, "--stdio"], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  try {
    const send = (msg: object) => proc.stdin.write(`${JSON.stringify(msg)}\n`);
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "test", version: "1" } },
    });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "test_simple_text", arguments: {} } });
    await proc.stdin.flush();
    const replies = new Map<number, { result?: Record<string, unknown> }>();
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let buf = "";
    while (replies.size < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const msg = JSON.parse(buf.slice(0, i)) as { id?: number; result?: Record<string, unknown> };
        buf = buf.slice(i + 1);
        if (typeof msg.id === "number") replies.set(msg.id, msg);
      }
    }
    expect(replies.get(1)?.result?.["protocolVersion"]).toBe("2025-11-25");
    expect(replies.get(2)?.result?.["content"]).toEqual([{ type: "text", text: "This is a simple text response for testing." }]);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}, 10_000);
