import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listen, type ServerResponse } from "../../../src/http1/server.ts";
import { TimerWheel } from "../../../src/http1/timers.ts";
import { enc, field, RawClient, send, serve, until } from "./server-helpers.ts";

const GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

function ok(res: ServerResponse, body = "ok"): void {
  res.writeHead(200, undefined, [], body.length);
  res.write(enc(body));
  res.end();
}

describe("http1 server: close and destroy", () => {
  test("close(): idle connections go now, a busy one finishes its response with connection: close; resolves true", async () => {
    const held: ServerResponse[] = [];
    const s = serve((req, res) => {
      if (req.target === "/slow") held.push(res);
      else ok(res);
    });
    const idle = await send(s.port, GET);
    await idle.responses(1);
    const busy = await send(s.port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => held.length === 1);
    const closing = s.close(2000);
    await idle.waitClosed();
    expect(busy.closed).toBe(false);
    // No new connections are accepted.
    await expect(RawClient.connect(s.port)).rejects.toThrow();
    ok(held[0]!, "done");
    await busy.waitClosed();
    expect(await closing).toBe(true);
    const v = await busy.responses(1);
    expect(field(v.messages[0]!.fields, "connection")).toBe("close");
    expect(s.connections).toBe(0);
  });

  test("close(deadline): what is still busy at the deadline is closed, its exchange sees onAbort('shutdown'); resolves false", async () => {
    let aborted: string | undefined;
    const s = serve((_req, res) => {
      res.onAbort = (why) => (aborted = why);
    });
    const c = await send(s.port, GET);
    await until(() => s.activeRequests === 1);
    const t0 = performance.now();
    expect(await s.close(100)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(aborted).toBe("shutdown");
    await c.waitClosed();
    expect(s.connections).toBe(0);
    expect(s.activeRequests).toBe(0);
  });

  test("close() with no connections resolves at once", async () => {
    const s = serve(() => {});
    expect(await s.close(1000)).toBe(true);
  });

  test("destroy(): everything closes at once, exchanges see onAbort('shutdown')", async () => {
    const reasons: string[] = [];
    const s = serve((_req, res) => {
      res.onAbort = (why) => reasons.push(why);
    });
    const a = await send(s.port, GET);
    const b = await send(s.port, GET);
    const idle = await RawClient.connect(s.port);
    await until(() => s.activeRequests === 2 && s.connections === 3);
    s.destroy();
    expect(reasons).toEqual(["shutdown", "shutdown"]);
    expect(s.connections).toBe(0);
    await a.waitClosed();
    await b.waitClosed();
    await idle.waitClosed();
  });

  test("listen() throws the OS error when the port is taken", () => {
    const s = serve(() => {});
    expect(() => listen({ hostname: "127.0.0.1", port: s.port, handler() {} })).toThrow();
  });

  test("reusePort: two servers share a port", async () => {
    const a = serve((_req, res) => ok(res, "a"), { reusePort: true });
    const b = serve((_req, res) => ok(res, "b"), { reusePort: true, port: a.port });
    expect(b.port).toBe(a.port);
    const c = await send(a.port, GET);
    const v = await c.responses(1);
    expect(["a", "b"]).toContain(Buffer.from(v.messages[0]!.body).toString());
  });

  test("options are checked", () => {
    expect(() => listen({ hostname: "127.0.0.1", port: 0, handler() {}, timeouts: { head: -1 } })).toThrow(/timeouts.head/);
    expect(() => listen({ hostname: "127.0.0.1", port: 0, handler() {}, maxPipelined: 0 })).toThrow(/maxPipelined/);
    expect(() => listen({ hostname: "127.0.0.1", port: 0, handler() {}, limits: { maxHead: 1 << 20 } })).toThrow(/maxHead/);
  });

  test("a shared TimerWheel drives the deadlines of several servers", async () => {
    const wheel = new TimerWheel({ tickMs: 10 });
    const a = serve(() => {}, { wheel, timeouts: { head: 50 } });
    const b = serve(() => {}, { wheel, timeouts: { head: 50 } });
    const ca = await RawClient.connect(a.port);
    const cb = await RawClient.connect(b.port);
    await ca.waitClosed();
    await cb.waitClosed();
    await until(() => wheel.size === 0);
  });
});

describe("http1 server: TLS", () => {
  test("serves HTTPS with a certificate made at test time (fetch client)", async () => {
    if (Bun.which("openssl") === null) {
      if (process.env.CI) throw new Error("openssl is required in CI for the TLS test");
      console.warn("skipping the TLS test: openssl is not installed");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "ficus-http1-tls-"));
    try {
      const gen = Bun.spawnSync([
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", "/CN=localhost", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      ]);
      if (gen.exitCode !== 0) throw new Error(`openssl failed: ${gen.stderr.toString()}`);
      let tls = false;
      const s = serve(
        (req, res) => {
          tls = req.tls;
          if (req.target === "/big") {
            // 4 MiB through TLS with backpressure: partial writes and drains on an encrypted socket.
            const total = 4 * 1024 * 1024;
            res.writeHead(200, undefined, [], total);
            let sent = 0;
            const pump = () => {
              while (sent < total) {
                const piece = new Uint8Array(64 * 1024);
                for (let i = 0; i < piece.length; i++) piece[i] = (sent + i) % 253;
                sent += piece.length;
                if (!res.write(piece)) return;
              }
              res.end();
            };
            res.onDrain = pump;
            return pump();
          }
          const answer = (text: string) => ok(res, `${req.method} ${req.target} ${text}`);
          if (req.body === undefined) return answer("");
          const parts: Uint8Array[] = [];
          req.body.start({
            onData: (d) => (parts.push(d.slice()), true),
            onEnd: () => answer(Buffer.concat(parts).toString()),
            onError: () => {},
          });
        },
        { tls: { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") } },
      );
      const url = `https://127.0.0.1:${s.port}`;
      const r1 = await fetch(`${url}/a`, { tls: { rejectUnauthorized: false } });
      expect(await r1.text()).toBe("GET /a ");
      const r2 = await fetch(`${url}/b`, { method: "POST", body: "over tls", tls: { rejectUnauthorized: false } });
      expect(r2.status).toBe(200);
      expect(await r2.text()).toBe("POST /b over tls");
      expect(tls).toBe(true);
      const big = new Uint8Array(await (await fetch(`${url}/big`, { tls: { rejectUnauthorized: false } })).arrayBuffer());
      expect(big.byteLength).toBe(4 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 997) if (big[i] !== i % 253) throw new Error(`byte ${i} is wrong`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
