/** OpenTelemetry: spans exported over OTLP/HTTP to a collector (a real socket), parented on the client's traceparent. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Ficus, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}

const API_KEY = "k-traced-0123456789abcdef";
let up: Upstream;
let gw: Ficus;
const spans: OtlpSpan[] = [];
let headersSeen: Record<string, string> = {};
const collector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    headersSeen = Object.fromEntries(req.headers);
    const body = (await req.json()) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    return Response.json({});
  },
});

beforeAll(async () => {
  up = await startUpstream("traced");
  const path = writeConfig(
    tempDir(),
    `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\ntracing: { otlp_endpoint: "http://127.0.0.1:${collector.port}/v1/traces", headers: { x-collector-key: k1 } }\nauth_policies:\n  keys:\n    api_key: { keys: [{ id: batch-job, env: TRACED_API_KEY, scopes: [orders:read] }] }\nroutes:\n  - name: secured\n    match: { prefix: /secured }\n    upstream: ${up.url}\n    auth: keys\n    authz: { scopes: [orders:read] }\n  - name: traced\n    upstream: ${up.url}\n  - name: mcp\n    match: { path: /mcp }\n    mcp: {}\nmcp:\n  sources:\n    api:\n      upstream: ${up.url}\n      tools:\n        - { name: echo, call: { path: /echo } }\n`,
  );
  gw = await startFicus(["-c", path], { env: { TRACED_API_KEY: API_KEY } });
});
afterAll(async () => {
  await gw?.stop();
  await up?.stop();
  collector.stop(true);
});

test("a span per request and per upstream call, continuing the client's trace", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parent = "00f067aa0ba902b7";
  const res = await fetch(`${gw.url}/echo`, { headers: { traceparent: `00-${traceId}-${parent}-01` } });
  const seen = (await res.json()) as { headers: Record<string, string> };
  // The upstream sees the same trace, with the gateway's upstream span as parent.
  const tp = seen.headers.traceparent?.split("-") ?? [];
  expect(tp[1]).toBe(traceId);
  expect(tp[2]).not.toBe(parent);
  for (let i = 0; i < 60 && spans.length < 2; i++) await Bun.sleep(50);
  const server = spans.find((s) => s.traceId === traceId && s.parentSpanId === parent);
  const client = spans.find((s) => s.traceId === traceId && s.parentSpanId === server?.spanId);
  expect(server?.name).toBe("GET traced");
  expect(client?.name).toBe("upstream traced");
  expect(client?.spanId).toBe(tp[2] as string);
  expect(headersSeen["x-collector-key"]).toBe("k1");
});

test("the request span carries who called and the authorization decision, never the credential", async () => {
  const traceId = "5bf92f3577b34da6a3ce929d0e0e4737";
  const res = await fetch(`${gw.url}/secured/x`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b8-01`, "x-api-key": API_KEY } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  let server: OtlpSpan | undefined;
  for (let i = 0; i < 60 && server === undefined; i++) {
    server = spans.find((s) => s.traceId === traceId && s.kind === 2);
    if (server === undefined) await Bun.sleep(50);
  }
  const attrs = Object.fromEntries((server?.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue]));
  expect(attrs["enduser.id"]).toBe("batch-job");
  expect(attrs["ficus.auth.method"]).toBe("api_key");
  expect(attrs["ficus.authz.decision"]).toBe("allow");
  expect(JSON.stringify(spans)).not.toContain(API_KEY);
});

test("an MCP tool call's span names the method and the tool, and the tool's HTTP call continues the trace", async () => {
  const traceId = "6bf92f3577b34da6a3ce929d0e0e4738";
  const init = await fetch(`${gw.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", traceparent: `00-${traceId}-00f067aa0ba902b9-01` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {}, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } }),
  });
  expect(init.status).toBe(400); // the 2026-07-28 headers are missing
  const res = await fetch(`${gw.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", traceparent: `00-${traceId}-00f067aa0ba902b9-01`, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "echo" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: {}, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } }),
  });
  const body = (await res.json()) as { result: { content: { text: string }[] } };
  const echoed = JSON.parse(body.result.content[0]?.text ?? "{}") as { headers: Record<string, string> };
  // The upstream saw the same trace.
  expect(echoed.headers.traceparent?.split("-")[1]).toBe(traceId);
  let server: OtlpSpan | undefined;
  for (let i = 0; i < 60; i++) {
    server = spans.find((s) => s.traceId === traceId && s.kind === 2 && (s.attributes ?? []).some((a) => a.key === "gen_ai.tool.name"));
    if (server !== undefined) break;
    await Bun.sleep(50);
  }
  const attrs = Object.fromEntries((server?.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue]));
  expect(attrs["mcp.method.name"]).toBe("tools/call");
  expect(attrs["gen_ai.tool.name"]).toBe("echo");
  expect(spans.some((s) => s.traceId === traceId && s.parentSpanId === server?.spanId && s.name === "upstream mcp")).toBe(true);
});
