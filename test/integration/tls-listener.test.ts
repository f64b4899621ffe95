/**
 * TLS on the data-plane listener (issue 11, item 1): the engine's server with
 * the HTTP/1.1 front and a pipeline whose one layer answers with what it sees
 * (ex.tls, ex.peerCertificate), certificates from ListenerTls. Real TLS
 * clients (node:tls) read the served certificate's subject.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import tls from "node:tls";
import { listen, type Http1Server } from "../../src/http1/server.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import type { Reply } from "../../src/pipeline/exchange.ts";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import { Http1Front } from "../../src/server/http1-front.ts";
import { ListenerTls } from "../../src/tls/listener.ts";
import type { ListenerTlsConfig } from "../../src/tls/settings.ts";
import { hasTool } from "../helpers/tools.ts";
import { type Issued, TestPki } from "../helpers/tls-certs.ts";

const HAVE = hasTool("openssl", "TLS listener tests (certificates are made at test time)");
const pki = new TestPki();
let ca: Issued;
let other: Issued;
let def: Issued;
let a: Issued;
let b: Issued;
let rotated: Issued;
let client: Issued;
let expiredClient: Issued;
let strangerClient: Issued;

beforeAll(() => {
  if (!HAVE) return;
  ca = pki.ca("ca");
  other = pki.ca("other", "Untrusted CA");
  def = pki.leaf("default", ca, "default.test", "DNS:default.test,IP:127.0.0.1");
  a = pki.leaf("a", ca, "a.test", "DNS:a.test");
  b = pki.leaf("b", ca, "b.test", "DNS:b.test,DNS:*.b.test");
  rotated = pki.leaf("rotated", ca, "rotated.test", "DNS:rotated.test,IP:127.0.0.1");
  client = pki.leaf("client", ca, "orders-service", "URI:spiffe://acme/orders,DNS:orders.internal", { org: "Acme" });
  expiredClient = pki.leaf("expired-client", ca, "old-service", "DNS:old.internal", { expired: true });
  strangerClient = pki.leaf("stranger", other, "stranger", "DNS:stranger.internal");
});
afterAll(() => pki.cleanup());

const logger = createLogger("error", {}, () => {});
const running: { server: Http1Server; tls: ListenerTls }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.tls.close();
    r.server.destroy();
  }
});

/** What the one layer answers: the exchange's TLS view, as JSON. */
const echo = {
  name: "echo",
  request(ex: import("../../src/pipeline/exchange.ts").Exchange): Reply {
    const body = new TextEncoder().encode(JSON.stringify({ tls: ex.tls, peer: ex.peerCertificate ?? null }));
    return { status: 200, fields: ["content-type", "application/json"], body };
  },
};

function start(config: Partial<ListenerTlsConfig>): { server: Http1Server; tls: ListenerTls } {
  const full: ListenerTlsConfig = { cert: def.cert, key: def.key, sni: [], client_auth: "none", watch_interval: 1000, ...config } as ListenerTlsConfig;
  const listenerTls = new ListenerTls(full, { logger, metrics: new Metrics() });
  const front = new Http1Front(new Pipeline([echo], logger), logger);
  const s = listenerTls.settings;
  const server = listen({ hostname: "127.0.0.1", port: 0, reusePort: true, tls: s.tls, serverNames: s.serverNames, handler: front.handle });
  listenerTls.attach(server);
  const r = { server, tls: listenerTls };
  running.push(r);
  return r;
}

interface Conn {
  readonly socket: tls.TLSSocket;
  readonly cn: string;
}

function connect(port: number, opts: tls.ConnectionOptions = {}): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: pemText(ca.cert), rejectUnauthorized: false, ...opts }, () => {
      resolve({ socket, cn: String(socket.getPeerCertificate().subject?.CN ?? "") });
    });
    socket.once("error", reject);
  });
}

/** One keep-alive GET on an open TLS connection; resolves the body, or "closed" when the server closed it. */
function get(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? -1);
      if (buf.length >= end + 4 + len) {
        cleanup();
        resolve(buf.slice(end + 4, end + 4 + len));
      }
    };
    const onClose = () => {
      cleanup();
      resolve("closed");
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
    };
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.once("error", onError);
    socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
  });
}

async function servedCn(port: number, servername?: string): Promise<string> {
  const c = await connect(port, servername !== undefined ? { servername } : {});
  c.socket.end();
  return c.cn;
}

const pemText = (p: string) => require("node:fs").readFileSync(p, "utf8") as string;

describe.skipIf(!HAVE)("TLS listener", () => {
  test("SNI: each name gets its certificate, others and no name get the default", async () => {
    const { server } = start({
      sni: [
        { server_name: "a.test", cert: a.cert, key: a.key },
        { server_name: "*.b.test", cert: b.cert, key: b.key },
      ],
    });
    const cases: [string | undefined, string][] = [
      ["a.test", "a.test"],
      ["x.b.test", "b.test"],
      ["c.test", "default.test"],
      [undefined, "default.test"],
    ];
    for (const [name, cn] of cases) expect({ name, cn: await servedCn(server.port, name) }).toEqual({ name, cn });
    // The certificate verifies against the CA for the name asked (what a browser checks).
    const verified = await connect(server.port, { servername: "a.test", rejectUnauthorized: true, ca: pemText(ca.cert) });
    expect(JSON.parse(await get(verified.socket))).toEqual({ tls: true, peer: null });
    verified.socket.end();
  });

  test("reload on file change: an open keep-alive connection keeps working, new connections get the new certificate", async () => {
    const files = { cert: pki.path("live.pem"), key: pki.path("live.key") };
    copyFileSync(def.cert, files.cert);
    copyFileSync(def.key, files.key);
    const { server, tls: lt } = start({ ...files, watch_interval: 20 });
    const open = await connect(server.port);
    expect(open.cn).toBe("default.test");
    expect(JSON.parse(await get(open.socket)).tls).toBe(true);
    // Written as a deploy tool would: the certificate first (now mismatched with the key: refused, still serving), then the key.
    copyFileSync(rotated.cert, files.cert);
    await Bun.sleep(60);
    expect(await servedCn(server.port)).toBe("default.test");
    copyFileSync(rotated.key, files.key);
    const deadline = Date.now() + 3000;
    let cn = "";
    while (Date.now() < deadline && (cn = await servedCn(server.port)) !== "rotated.test") await Bun.sleep(20);
    expect(cn).toBe("rotated.test");
    expect(lt.settings.certificates.get("default")?.subject).toContain("CN=rotated.test");
    // The connection opened before the change is still served, on its old session.
    expect(JSON.parse(await get(open.socket)).tls).toBe(true);
    expect(JSON.parse(await get(open.socket)).tls).toBe(true);
    open.socket.end();
  });

  test("a config reload (configure) swaps certificates too; a bad one is refused and the old stays", async () => {
    const { server, tls: lt } = start({});
    expect(() => lt.configure({ cert: a.cert, key: b.key, sni: [], client_auth: "none", watch_interval: 0 })).toThrow(expect.objectContaining({ code: "FICUS_TLS_KEY_MISMATCH" }));
    expect(await servedCn(server.port)).toBe("default.test");
    lt.configure({ cert: rotated.cert, key: rotated.key, sni: [{ server_name: "a.test", cert: a.cert, key: a.key }], client_auth: "none", watch_interval: 0 });
    expect(await servedCn(server.port)).toBe("rotated.test");
    expect(await servedCn(server.port, "a.test")).toBe("a.test");
  });

  describe("mTLS", () => {
    const clientOpts = (i: Issued) => ({ cert: pemText(i.cert), key: pemText(i.key) });

    test("required: a verified client certificate reaches the exchange; none, an expired one or one from another CA are refused", async () => {
      const { server } = start({ client_ca: ca.cert, client_auth: "required" });
      const ok = await connect(server.port, clientOpts(client));
      const seen = JSON.parse(await get(ok.socket));
      ok.socket.end();
      expect(seen.peer).toMatchObject({
        subject: "CN=orders-service,O=Acme",
        commonName: "orders-service",
        sans: ["URI:spiffe://acme/orders", "DNS:orders.internal"],
        issuer: "CN=ca Test CA,O=Ficus Tests",
      });
      expect(seen.peer.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(seen.peer.validTo).toBeGreaterThan(Date.now());
      for (const [what, opts] of [
        ["no certificate", {}],
        ["an expired certificate", clientOpts(expiredClient)],
        ["a certificate from another CA", clientOpts(strangerClient)],
      ] as const) {
        // TLS 1.3: the client may finish its side before the server checks the certificate; then the server closes at once.
        const outcome = await connect(server.port, opts).then(
          async (c) => get(c.socket).catch((e: Error) => `error: ${e.message}`),
          (e: Error) => `error: ${e.message}`,
        );
        expect({ what, refused: outcome === "closed" || outcome.startsWith("error") }).toEqual({ what, refused: true });
      }
    });

    test("required also holds on SNI certificates", async () => {
      const { server } = start({ client_ca: ca.cert, client_auth: "required", sni: [{ server_name: "a.test", cert: a.cert, key: a.key }] });
      const ok = await connect(server.port, { servername: "a.test", ...clientOpts(client) });
      expect(ok.cn).toBe("a.test");
      expect(JSON.parse(await get(ok.socket)).peer.commonName).toBe("orders-service");
      ok.socket.end();
      const outcome = await connect(server.port, { servername: "a.test" }).then(
        async (c) => get(c.socket).catch((e: Error) => `error: ${e.message}`),
        (e: Error) => `error: ${e.message}`,
      );
      expect(outcome === "closed" || outcome.startsWith("error")).toBe(true);
    });

    test("optional: served either way; only a certificate that verifies gives a peer certificate", async () => {
      const { server } = start({ client_ca: ca.cert, client_auth: "optional" });
      const cases: [string, tls.ConnectionOptions, string | null][] = [
        ["verified", clientOpts(client), "orders-service"],
        ["none", {}, null],
        ["expired", clientOpts(expiredClient), null],
        ["another CA", clientOpts(strangerClient), null],
      ];
      for (const [what, opts, cn] of cases) {
        const c = await connect(server.port, opts);
        const seen = JSON.parse(await get(c.socket));
        c.socket.end();
        expect({ what, cn: seen.peer?.commonName ?? null }).toEqual({ what, cn });
      }
    });
  });
});
