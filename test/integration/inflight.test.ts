/**
 * Every error path releases what the request took (issue 8, defect 4): after
 * each kind of failure the gateway's in-flight count and each endpoint's
 * outstanding count return to 0, and SIGTERM then exits at once instead of
 * waiting out the drain deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import type { FicusConfig } from "../../src/config/schema.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Gateway } from "../../src/server/gateway.ts";
import { type Ficus, rawRequest, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let up: Upstream;
let gw: Ficus;

beforeAll(async () => {
  up = await startUpstream("legacy");
  const cfg = writeConfig(
    tempDir(),
    `
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
limits: { max_url_bytes: 1KiB, max_header_bytes: 2KiB }
shutdown: { drain_timeout: 20s }
routes:
  - name: ok
    match: { prefix: /ok }
    upstream: ${up.url}
    rewrite: { strip_prefix: /ok }
    max_body: 1KiB
  - name: slow
    match: { prefix: /slow }
    upstream: ${up.url}
    timeouts: { header: 200ms }
    retries: { attempts: 0 }
  - name: total
    match: { prefix: /sse }
    upstream: ${up.url}
    timeouts: { total: 250ms }
  - name: dead
    match: { prefix: /dead }
    upstream: http://127.0.0.1:1
    retries: { attempts: 0 }
  - name: raw
    match: { prefix: /raw }
    upstream: http://127.0.0.1:${up.raw}
    rewrite: { strip_prefix: /raw }
    retries: { attempts: 0 }
`,
  );
  gw = await startFicus(["-c", cfg]);
});
afterAll(async () => {
  await gw?.stop("SIGKILL");
  await up?.stop();
});

async function inFlight(): Promise<number> {
  const text = await (await fetch(`${gw.admin}/metrics`)).text();
  return Number(/^ficus_requests_in_flight (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

async function endpointsOutstanding(): Promise<number> {
  const { routes } = (await (await fetch(`${gw.admin}/admin/routes`)).json()) as { routes: { endpoints: { inflight: number }[] }[] };
  return routes.reduce((n, r) => n + r.endpoints.reduce((m, e) => m + e.inflight, 0), 0);
}

/** Waits (briefly: aborts settle asynchronously) until nothing is in flight; returns what was left. */
async function settled(): Promise<{ inFlight: number; outstanding: number }> {
  const until = Date.now() + 3000;
  for (;;) {
    const now = { inFlight: await inFlight(), outstanding: await endpointsOutstanding() };
    if ((now.inFlight === 0 && now.outstanding === 0) || Date.now() > until) return now;
    await Bun.sleep(25);
  }
}

/** A request the client abandons after `ms`. */
async function abandon(url: string, ms: number, init: RequestInit = {}): Promise<void> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), ms);
  try {
    const res = await fetch(url, { ...init, signal: ctl.signal });
    await res.arrayBuffer();
  } catch {
    // aborted, as intended
  } finally {
    clearTimeout(t);
  }
}

const KINDS: [string, () => Promise<unknown>][] = [
  ["404 no route", () => fetch(`${gw.url}/nowhere`).then((r) => r.arrayBuffer())],
  ["414 target too long", () => fetch(`${gw.url}/ok/${"x".repeat(2000)}`).then((r) => r.arrayBuffer())],
  ["431 headers too large", () => fetch(`${gw.url}/ok/echo`, { headers: { "x-big": "y".repeat(3000) } }).then((r) => r.arrayBuffer())],
  ["413 by Content-Length", () => fetch(`${gw.url}/ok/upload`, { method: "POST", body: "z".repeat(2000) }).then((r) => r.arrayBuffer())],
  ["413 while streaming a chunked body", () => rawRequest(gw.port, `POST /ok/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${"z".repeat(2048)}\r\n0\r\n\r\n`, 1000)],
  ["502 upstream unreachable", () => fetch(`${gw.url}/dead/x`).then((r) => r.arrayBuffer())],
  ["502 upstream sends garbage", () => fetch(`${gw.url}/raw/garbage`).then((r) => r.arrayBuffer())],
  ["504 header timeout", () => fetch(`${gw.url}/slow?ms=1000`).then((r) => r.arrayBuffer())],
  ["total timeout mid-stream", () => fetch(`${gw.url}/sse?n=20&ms=50`).then((r) => r.arrayBuffer()).catch(() => undefined)],
  ["upstream reset mid-body", () => fetch(`${gw.url}/raw/reset-mid-body`).then((r) => r.arrayBuffer()).catch(() => undefined)],
  ["client gone while waiting for the upstream", () => abandon(`${gw.url}/ok/slow?ms=2000`, 100)],
  ["client gone mid-download (sized)", () => abandon(`${gw.url}/raw/sized?n=50000000`, 150)],
  ["client gone mid-download (chunked)", () => abandon(`${gw.url}/ok/sse?n=100&ms=20`, 150)],
  ["client gone mid-upload", () => rawRequest(gw.port, `POST /ok/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n${"z".repeat(100)}`, 150)],
];

describe("in-flight counts return to 0 after every error kind", () => {
  for (const [name, run] of KINDS) {
    test(name, async () => {
      await run();
      expect(await settled()).toEqual({ inFlight: 0, outstanding: 0 });
    });
  }

  test("SIGTERM after all of them exits at once (nothing left to drain)", async () => {
    const t0 = Date.now();
    expect(await gw.stop("SIGTERM")).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000); // the drain deadline is 20 s
  });
});

describe("an unexpected failure inside the request path", () => {
  test("answers 500 FICUS_INTERNAL with the request id, and releases the request and its endpoint", async () => {
    // Configuration validation refuses these values; a table built without validation shows what the
    // data plane does if anything inside it throws anyway: a clean 500, nothing leaked.
    const valid = parseConfig(`listen: 127.0.0.1:0\naccess_log: { enabled: false }\nroutes:\n  - name: a\n    match: { prefix: /req }\n    upstream: ${up.url}\n  - name: b\n    match: { prefix: /res }\n    upstream: ${up.url}\n`, "t.yaml", {});
    const config = structuredClone(valid.config) as { -readonly [K in keyof FicusConfig]: FicusConfig[K] } & { routes: Record<string, unknown>[] };
    (config.routes[0] as Record<string, unknown>).request_headers = { add: { "x-inj": "a\r\nX-Evil: 1" }, remove: [] };
    (config.routes[1] as Record<string, unknown>).response_headers = { add: { "x-snow": "☃" }, remove: [] };
    const lines: string[] = [];
    const g = await Gateway.start({ loaded: { config: config as FicusConfig, secretPaths: new Set(), source: "t.yaml" }, logger: createLogger("info", {}, (l) => lines.push(l)), reusePort: false });
    try {
      for (const path of ["/req/echo", "/res/echo"]) {
        const res = await fetch(`http://127.0.0.1:${g.port}${path}`, { headers: { "x-request-id": `rid-${path.slice(1, 4)}` } });
        expect(res.status).toBe(500);
        const body = (await res.json()) as { error: { code: string; request_id: string } };
        expect(body.error.code).toBe("FICUS_INTERNAL");
        expect(body.error.request_id).toBe(`rid-${path.slice(1, 4)}`);
      }
      expect(g.inFlight).toBe(0);
      for (const r of g.routes()) for (const e of r.endpoints) expect(e.inflight).toBe(0);
      expect(lines.some((l) => l.includes("request failed inside the gateway") && l.includes("rid-res"))).toBe(true);
      // Nothing left to drain: shutdown is immediate.
      expect(await g.shutdown(10_000)).toBe(true);
    } finally {
      await g.shutdown(0).catch(() => {});
    }
  });
});
