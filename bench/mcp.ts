/**
 * edge-mcp benchmarks (docs/benchmarks.md, "edge-mcp"):
 *
 * 1. A declared HTTP tool: tools/call through Ficus (routed through the
 *    gateway's own route to the API) against the same API called directly;
 *    the added p50.
 * 2. Throughput of that tool call, Ficus pinned to one core (wrk on the
 *    other, with the API).
 * 3. A federated Streamable HTTP tool: tools/call through Ficus against the
 *    same call sent to the upstream MCP server directly; the added p50.
 * 4. 10,000 tools across four sources (two OpenAPI documents, two declared
 *    sources): the time of a full tools/list, and the gateway's memory over
 *    the same gateway serving one tool.
 *
 *   bun bench/mcp.ts [--seconds 10] [--json]
 *
 * Latency is timed on one keep-alive connection, one request at a time, from
 * the first byte written to the last byte read (Bun.nanoseconds). Needs
 * taskset; wrk for the throughput row (skipped with a note without it).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { latency as timed } from "./lib/latency.ts";
import { PIN, start, startFicus as ficus, which } from "./lib/processes.ts";

/** p50/p99 (ms) of `n` copies of one request. */
const latency = (port: number, request: Uint8Array, n: number) => timed(port, () => request, n);

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;
const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf("--seconds") + 1] ?? 10) || 10;

function httpRequest(method: string, path: string, headers: Record<string, string>, body?: string): Uint8Array {
  const b = body ?? "";
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(b)}`);
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n${b}`);
}

const META = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
function toolCall(name: string, args: Record<string, unknown>): { headers: Record<string, string>; body: string } {
  return {
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": name },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args, _meta: META } }),
  };
}

/** Polls tools/list until it lists `expected` tools (the sources start in the background); returns the count. */
async function waitForTools(port: number, expected: number): Promise<number> {
  const headers = { "Content-Type": "application/json", Accept: "application/json", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list" };
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: META } });
  let count = 0;
  for (let i = 0; i < 300 && count < expected; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", headers, body });
    count = ((await res.json()) as { result?: { tools: unknown[] } }).result?.tools.length ?? 0;
    if (count < expected) await Bun.sleep(100);
  }
  return count;
}

/** Fails the run when a tool call does not succeed (a benchmark of errors measures nothing). */
async function expectResult(port: number, call: { headers: Record<string, string>; body: string }): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", headers: call.headers, body: call.body });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"isError":true') || text.includes('"error"')) throw new Error(`the tool call failed: ${res.status} ${text.slice(0, 300)}`);
}

function rssMb(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const dir = mkdtempSync(join(tmpdir(), "ficus-bench-mcp-"));
const rows: { measure: string; value: string; target: string; ok: boolean }[] = [];
const N = Math.max(2000, SECONDS * 400);

// The API and the upstream MCP server share core 1 with the load generator; Ficus has core 0.
const api = await start([BUN, join(ROOT, "test/fixtures/mcp/orders-api.ts")], 1, /listening (\d+)/);
const apiPort = Number(api.match[1]);
const up = await start([BUN, join(ROOT, "test/fixtures/mcp/upstream-server.ts"), "--http", "0"], 1, /listening (\d+)/);
const upPort = Number(up.match[1]);

const config = join(dir, "ficus.yaml");
writeFileSync(
  config,
  `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
access_log: { enabled: false }
mcp:
  sources:
    shop:
      prefix: ""
      tools:
        - name: get_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          call: { path: "/orders/{id}" }
    up:
      prefix: ""
      url: http://127.0.0.1:${upPort}/mcp
routes:
  - name: orders
    match: { prefix: /orders }
    upstream: http://127.0.0.1:${apiPort}
  - name: mcp
    match: { path: /mcp }
    mcp: {}
`,
);
const gw = await ficus(config, 0);
await waitForTools(gw.port, 2 + 7);

// 1. Declared HTTP tool vs the endpoint directly.
const direct = await latency(apiPort, httpRequest("GET", "/orders/1", {}), N);
const call = toolCall("get_order", { id: "1" });
await expectResult(gw.port, call);
const viaMcp = await latency(gw.port, httpRequest("POST", "/mcp", call.headers, call.body), N);
const addedHttp = viaMcp.p50 - direct.p50;
rows.push({ measure: "declared HTTP tool: added p50 (tools/call via Ficus − GET direct)", value: `${(addedHttp * 1000).toFixed(0)} µs (${viaMcp.p50.toFixed(3)} − ${direct.p50.toFixed(3)} ms)`, target: "≤ 0.5 ms", ok: addedHttp <= 0.5 });

// 2. Throughput on one core.
if (which("wrk")) {
  const lua = join(dir, "call.lua");
  writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(call.body)}\n${Object.entries(call.headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join("\n")}\n`);
  const cmd = [...(PIN ? ["taskset", "-c", "1"] : []), "wrk", "-t", "1", "-c", "32", "-d", `${SECONDS}s`, "-s", lua, `http://127.0.0.1:${gw.port}/mcp`];
  const out = new TextDecoder().decode(Bun.spawnSync(cmd).stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  rows.push({ measure: "declared HTTP tool: tool calls/s, Ficus on one core (wrk -c 32)", value: `${Math.round(rps)}${non2xx ? ` (${non2xx} non-2xx!)` : ""}`, target: "≥ 5,000", ok: rps >= 5000 && non2xx === undefined });
} else rows.push({ measure: "declared HTTP tool: tool calls/s", value: "skipped: wrk is not installed", target: "≥ 5,000", ok: false });

// 3. Federated Streamable HTTP tool vs the upstream directly.
const echo = toolCall("echo", { text: "hi" });
await expectResult(upPort, echo);
await expectResult(gw.port, echo);
const upDirect = await latency(upPort, httpRequest("POST", "/mcp", echo.headers, echo.body), Math.floor(N / 2));
const upVia = await latency(gw.port, httpRequest("POST", "/mcp", echo.headers, echo.body), Math.floor(N / 2));
const addedFed = upVia.p50 - upDirect.p50;
rows.push({ measure: "federated Streamable HTTP tool: added p50 (via Ficus − upstream direct)", value: `${(addedFed * 1000).toFixed(0)} µs (${upVia.p50.toFixed(3)} − ${upDirect.p50.toFixed(3)} ms)`, target: "≤ 1 ms", ok: addedFed <= 1 });
gw.proc.kill("SIGTERM");
await gw.proc.exited;

// 4. 10,000 tools across four sources, against the same gateway with one tool.
function openapi(prefix: string, count: number): string {
  const paths: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    paths[`/${prefix}/items${i}/{id}`] = {
      get: {
        operationId: `${prefix}Get${i}`,
        summary: `Read item ${i} of ${prefix}`,
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }, { name: "fields", in: "query", schema: { type: "string" } }],
        responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { id: { type: "string" }, name: { type: "string" } } } } } } },
      },
    };
  }
  const file = join(dir, `${prefix}.json`);
  writeFileSync(file, JSON.stringify({ openapi: "3.1.0", info: { title: prefix, version: "1" }, paths }));
  return file;
}
function declared(prefix: string, count: number): string {
  const tools: string[] = [];
  for (let i = 0; i < count; i++) tools.push(`        - { name: ${prefix}_${i}, description: "Tool ${i} of ${prefix}", input_schema: { type: object, properties: { id: { type: string } } }, call: { path: "/orders/{id}" } }`);
  return tools.join("\n");
}
/** 10,000 tools: four OpenAPI documents of 2,500 operations, or two documents and two sources of 2,500 tools declared in ficus.yaml. */
async function tenThousand(mix: "openapi" | "mixed"): Promise<void> {
  const what = mix === "openapi" ? "4 OpenAPI documents" : "2 OpenAPI documents + 2 declared sources in ficus.yaml";
  const big = join(dir, `big-${mix}.yaml`);
  const pinning = (process.env.BENCH_PINNING_OFF ? "  pinning: { mode: off }\n" : "") + (process.env.BENCH_NO_SNAPSHOTS ? "  snapshots: { enabled: false }\n" : "");
  const cd =
    mix === "openapi"
      ? `    c: { openapi: ${openapi("c", 2500)}, upstream: "http://127.0.0.1:${apiPort}" }\n    d: { openapi: ${openapi("d", 2500)}, upstream: "http://127.0.0.1:${apiPort}" }\n`
      : `    c:\n      upstream: http://127.0.0.1:${apiPort}\n      tools:\n${declared("c", 2500)}\n    d:\n      upstream: http://127.0.0.1:${apiPort}\n      tools:\n${declared("d", 2500)}\n`;
  const ab = `    a: { openapi: ${openapi("a", 2500)}, upstream: "http://127.0.0.1:${apiPort}" }\n    b: { openapi: ${openapi("b", 2500)}, upstream: "http://127.0.0.1:${apiPort}" }\n`;
  writeFileSync(big, `mode: edge-mcp\nlisten: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\naccess_log: { enabled: false }\nmcp:\n  list_page_size: 10000\n${pinning}  sources:\n${ab}${cd}`);
  const small = join(dir, "small.yaml");
  writeFileSync(small, `mode: edge-mcp\nlisten: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\naccess_log: { enabled: false }\nmcp:\n  sources:\n    c:\n      upstream: http://127.0.0.1:${apiPort}\n      tools:\n${declared("c", 1)}\n`);
  const list = { headers: { "Content-Type": "application/json", Accept: "application/json", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: META } }) };
  const base = await ficus(small, 0);
  await waitForTools(base.port, 1);
  await latency(base.port, httpRequest("POST", "/mcp", list.headers, list.body), 300);
  await Bun.sleep(3000); // steady state: what loading left behind is collected and returned
  const baseRss = rssMb(base.proc.pid);
  base.proc.kill("SIGTERM");
  const tenK = await ficus(big, 0);
  const started = performance.now();
  await waitForTools(tenK.port, 10_000);
  const loadMs = performance.now() - started;
  const listed = await latency(tenK.port, httpRequest("POST", "/mcp", list.headers, list.body), 300);
  await Bun.sleep(3000);
  const bigRss = rssMb(tenK.proc.pid);
  const probe = await fetch(`http://127.0.0.1:${tenK.port}/mcp`, { method: "POST", headers: list.headers, body: list.body });
  const count = ((await probe.json()) as { result: { tools: unknown[] } }).result.tools.length;
  rows.push({ measure: `${count} tools (${what}): listed within (after the listener is up)`, value: `${Math.round(loadMs)} ms`, target: "—", ok: true });
  rows.push({ measure: `${count} tools (${what}): full tools/list p50`, value: `${listed.p50.toFixed(2)} ms (p99 ${listed.p99.toFixed(2)})`, target: "≤ 20 ms", ok: listed.p50 <= 20 && count === 10_000 });
  rows.push({ measure: `${count} tools (${what}): memory over the same gateway with 1 tool`, value: `${(bigRss - baseRss).toFixed(1)} MB (${bigRss.toFixed(1)} vs ${baseRss.toFixed(1)} MB RSS)`, target: "≤ 30 MB", ok: bigRss - baseRss <= 30 });
  tenK.proc.kill("SIGTERM");
    await tenK.proc.exited;
}

await tenThousand("openapi");
await tenThousand("mixed");

if (args.includes("--json")) console.log(JSON.stringify(rows));
else {
  console.log(`edge-mcp benchmark (${new Date().toISOString()}, ${SECONDS} s per throughput run, ${PIN ? "Ficus pinned to core 0" : "not pinned: taskset missing"})\n`);
  console.log("| Measure | Result | Target | |\n|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.measure} | ${r.value} | ${r.target} | ${r.ok ? "✓" : "✗"} |`);
}
process.exit(0);
