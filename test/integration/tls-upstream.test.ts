/**
 * TLS through the whole gateway (issue 11, item 1): the listener's `tls:` and
 * each upstream's `tls:` (custom CA, client certificate, server name,
 * verification), against real TLS upstreams (Bun.serve) with certificates
 * made by openssl at test time.
 *
 * Until the config schema carries the TLS fragments, the tests add the
 * validated `tls:` objects (schema defaults applied by hand) to a parsed
 * config: the runtime reads them as plain data either way.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import tls from "node:tls";
import { parseConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Gateway } from "../../src/server/gateway.ts";
import { hasTool } from "../helpers/tools.ts";
import { type Issued, TestPki } from "../helpers/tls-certs.ts";

const HAVE = hasTool("openssl", "upstream TLS tests (certificates are made at test time)");
const pki = new TestPki();
const pem = (p: string) => readFileSync(p, "utf8");
let ca: Issued;
let other: Issued;
let upstreamDefault: Issued;
let upstreamNamed: Issued;
let gatewayClient: Issued;
let gatewayServer: Issued;
let plainTls: ReturnType<typeof Bun.serve>;
let mutualTls: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  if (!HAVE) return;
  ca = pki.ca("ca");
  other = pki.ca("other", "Untrusted CA");
  // The upstream serves "upstream.test" by default and "named.test" to clients asking for it (SNI); neither names 127.0.0.1.
  upstreamDefault = pki.leaf("up-default", ca, "upstream.test", "DNS:upstream.test");
  upstreamNamed = pki.leaf("up-named", ca, "named.test", "DNS:named.test");
  gatewayClient = pki.leaf("gw-client", ca, "ficus-gateway", "DNS:gateway.internal");
  gatewayServer = pki.leaf("gw-server", ca, "gateway.test", "DNS:gateway.test,IP:127.0.0.1");
  const answer = (req: Request) => new Response(`hello from ${new URL(req.url).pathname}`);
  plainTls = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: [
      { cert: pem(upstreamDefault.cert), key: pem(upstreamDefault.key) },
      { serverName: "named.test", cert: pem(upstreamNamed.cert), key: pem(upstreamNamed.key) },
    ],
    fetch: answer,
  });
  mutualTls = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pem(upstreamDefault.cert), key: pem(upstreamDefault.key), ca: pem(ca.cert), requestCert: true, rejectUnauthorized: true },
    fetch: answer,
  });
});
afterAll(() => {
  plainTls?.stop(true);
  mutualTls?.stop(true);
  pki.cleanup();
});

interface UpstreamTls {
  ca?: string;
  cert?: string;
  key?: string;
  server_name?: string;
  insecure_skip_verify?: boolean;
}

async function gateway(port: number | undefined, upstreamTls: UpstreamTls | undefined, logs: Record<string, unknown>[] = [], listenerTls?: object): Promise<Gateway> {
  const { config } = parseConfig(
    `listen: 127.0.0.1:0\naccess_log: { enabled: false }\nupstreams:\n  up:\n    endpoints: [https://127.0.0.1:${port ?? 0}]\nroutes:\n  - name: r\n    match: { prefix: / }\n    upstream: up\n    retries: { attempts: 0 }\n`,
    "t.yaml",
    {},
  );
  const c = structuredClone(config) as typeof config & { tls?: object };
  if (upstreamTls !== undefined) (c.upstreams.up as { tls?: object }).tls = { insecure_skip_verify: false, ...upstreamTls };
  if (listenerTls !== undefined) c.tls = listenerTls as NonNullable<typeof config.tls>;
  const logger = createLogger("warn", {}, (line) => logs.push(JSON.parse(line)));
  return Gateway.start({ loaded: { config: c, secretPaths: new Set(), source: "t.yaml" }, logger, reusePort: false });
}

async function call(g: Gateway, path = "/x"): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${g.port}${path}`);
  return { status: r.status, body: await r.text() };
}

describe.skipIf(!HAVE)("upstream TLS", () => {
  test("a custom CA and a server name (SNI): the name picks the upstream's certificate, which verifies", async () => {
    const g = await gateway(plainTls.port, { ca: ca.cert, server_name: "named.test" });
    try {
      expect(await call(g)).toEqual({ status: 200, body: "hello from /x" });
    } finally {
      await g.shutdown(1000);
    }
  });

  test("verification is on by default: a certificate for another name, or from a CA not trusted, is a 502 naming TLS", async () => {
    const cases: [string, UpstreamTls | undefined][] = [
      ["system roots only", undefined],
      ["the CA, but the name is the address (not in the certificate)", { ca: ca.cert }],
      ["another CA", { ca: other.cert, server_name: "upstream.test" }],
    ];
    for (const [what, t] of cases) {
      const g = await gateway(plainTls.port, t);
      try {
        const r = await call(g);
        const { error } = JSON.parse(r.body);
        expect({ what, status: r.status, code: error.code }).toEqual({ what, status: 502, code: "FICUS_UPSTREAM_UNREACHABLE" });
        expect(error.message).toContain("TLS");
      } finally {
        await g.shutdown(1000);
      }
    }
  });

  test("insecure_skip_verify: served, and a warning naming the upstream at load", async () => {
    const logs: Record<string, unknown>[] = [];
    const g = await gateway(plainTls.port, { insecure_skip_verify: true }, logs);
    try {
      expect((await call(g)).status).toBe(200);
      expect(logs.some((l) => l.level === "warn" && l.upstream === "up" && String(l.msg).includes("VERIFICATION IS OFF"))).toBe(true);
    } finally {
      await g.shutdown(1000);
    }
  });

  test("a client certificate to an upstream that requires one; without it the handshake fails (502)", async () => {
    const withCert = await gateway(mutualTls.port, { ca: ca.cert, server_name: "upstream.test", cert: gatewayClient.cert, key: gatewayClient.key });
    const without = await gateway(mutualTls.port, { ca: ca.cert, server_name: "upstream.test" });
    try {
      expect(await call(withCert)).toEqual({ status: 200, body: "hello from /x" });
      const r = await call(without);
      expect(r.status).toBe(502);
      const { error } = JSON.parse(r.body);
      // TLS 1.3 refuses the missing certificate with an alert after the client's handshake: still a TLS failure, named so.
      expect(error.code).toBe("FICUS_UPSTREAM_UNREACHABLE");
      expect(error.message).toContain("TLS");
    } finally {
      await withCert.shutdown(1000);
      await without.shutdown(1000);
    }
  });

  test("bad TLS files fail the start with a FICUS_TLS_* code naming the field", async () => {
    const cases: [UpstreamTls, string, string][] = [
      [{ ca: pki.path("missing.pem") }, "FICUS_TLS_FILE", "upstreams.up.tls.ca"],
      [{ cert: gatewayClient.cert, key: upstreamNamed.key }, "FICUS_TLS_KEY_MISMATCH", "upstreams.up.tls.key"],
      [{ ca: gatewayClient.key }, "FICUS_TLS_CERT_INVALID", "upstreams.up.tls.ca"],
    ];
    for (const [t, code, field] of cases) {
      const err = await gateway(plainTls.port, t).then(
        async (g) => {
          await g.shutdown(0);
          return undefined;
        },
        (e: Error & { code?: string }) => e,
      );
      expect({ code: err?.code, named: err?.message.startsWith(field) }).toEqual({ code, named: true });
    }
  });

  test("the gateway's own listener serves HTTPS from tls:, with a client certificate required", async () => {
    const listener = { cert: gatewayServer.cert, key: gatewayServer.key, sni: [], client_ca: ca.cert, client_auth: "required", watch_interval: 0 };
    const g = await gateway(plainTls.port, { ca: ca.cert, server_name: "named.test" }, [], listener);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: g.port, ca: pem(ca.cert), cert: pem(gatewayClient.cert), key: pem(gatewayClient.key) }, () => {
          s.write("GET /through HTTP/1.1\r\nhost: gateway.test\r\nconnection: close\r\n\r\n");
        });
        let buf = "";
        s.on("data", (d) => (buf += d.toString()));
        s.on("end", () => resolve(buf));
        s.on("error", reject);
      });
      expect(body).toStartWith("HTTP/1.1 200");
      expect(body).toEndWith("hello from /through");
    } finally {
      await g.shutdown(1000);
    }
  });
});
