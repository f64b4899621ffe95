/** OpenTelemetry: spans exported over OTLP/HTTP to a collector (a real socket), parented on the client's traceparent. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Ficus, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

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
    `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\ntracing: { otlp_endpoint: "http://127.0.0.1:${collector.port}/v1/traces", headers: { x-collector-key: k1 } }\nroutes:\n  - name: traced\n    upstream: ${up.url}\n`,
  );
  gw = await startFicus(["-c", path]);
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
