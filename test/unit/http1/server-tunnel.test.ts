import { describe, expect, test } from "bun:test";
import type { BodySource, BodyTarget } from "../../../src/http1/body.ts";
import type { ServerRequest } from "../../../src/http1/server.ts";
import { RawClient, send, serve, until } from "./server-helpers.ts";

/** Echoes every byte of `source` back into `target`, with backpressure; ends when the source ends. */
function echo(source: BodySource, target: BodyTarget, log: string[]): void {
  target.onDrain = () => source.resume();
  source.start({
    onData(d) {
      return target.write(d.slice());
    },
    onEnd() {
      log.push("end");
      target.end();
    },
    onError(e) {
      log.push(`error ${e.code}`);
    },
  });
}

const UPGRADE = "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo/1, other\r\n\r\n";
const SWITCHED = "HTTP/1.1 101 Switching Protocols\r\nupgrade: echo/1\r\nconnection: upgrade\r\n\r\n";

describe("http1 server: Upgrade and tunnels", () => {
  test("101 then tunnel(): a raw echo, bytes sent right after the request head come first", async () => {
    let upgrade: string | undefined;
    const log: string[] = [];
    const s = serve((req, res) => {
      upgrade = req.upgrade;
      res.writeHead(101, undefined, ["upgrade", "echo/1"], "none");
      const t = res.tunnel();
      echo(t.source, t.target, log);
    });
    const c = await send(s.port, `${UPGRADE}early bytes|`);
    await c.waitFor((t) => t === `${SWITCHED}early bytes|`);
    expect(upgrade).toBe("echo/1");
    expect(s.activeRequests).toBe(0);
    await c.write("GET / HTTP/1.1\r\n\r\n"); // no longer HTTP: echoed as bytes
    await c.waitFor((t) => t.endsWith("GET / HTTP/1.1\r\n\r\n"));
    const big = "x".repeat(1024 * 1024);
    await c.write(big);
    await c.waitFor((t) => t.endsWith(big));
    c.end();
    await until(() => log.includes("end"));
    await c.waitClosed();
    await until(() => s.connections === 0);
  });

  test("the tunnel source keeps bytes that arrive before start(), and its target can end first", async () => {
    let tunnel: { source: BodySource; target: BodyTarget } | undefined;
    const s = serve((_req, res) => {
      res.writeHead(101, undefined, ["upgrade", "echo/1"], "none");
      tunnel = res.tunnel();
    });
    const c = await RawClient.connect(s.port, { allowHalfOpen: true });
    await c.write(UPGRADE);
    await c.waitFor((t) => t === SWITCHED);
    await c.write("before start");
    await Bun.sleep(20);
    const got: string[] = [];
    let ended = false;
    tunnel!.source.start({
      onData(d) {
        got.push(Buffer.from(d).toString());
        return true;
      },
      onEnd() {
        ended = true;
      },
      onError() {},
    });
    expect(got.join("")).toBe("before start");
    tunnel!.target.write(new TextEncoder().encode("bye"));
    tunnel!.target.end();
    await until(() => c.ended);
    expect(c.text).toBe(`${SWITCHED}bye`);
    // Half-closed: the client can still send, then end.
    await c.write(" after");
    await until(() => got.join("") === "before start after");
    c.end();
    await until(() => ended);
    await until(() => s.connections === 0);
  });

  test("a reset tunnel: the source errors with closed", async () => {
    const log: string[] = [];
    const s = serve((_req, res) => {
      res.writeHead(101, undefined, ["upgrade", "echo/1"], "none");
      const t = res.tunnel();
      echo(t.source, t.target, log);
    });
    const c = await send(s.port, UPGRADE);
    await c.waitFor((t) => t === SWITCHED);
    c.reset();
    await until(() => log.length > 0);
    expect(log).toEqual(["error closed"]);
  });

  test("CONNECT: a 2xx then tunnel() carries bytes both ways", async () => {
    let req: ServerRequest | undefined;
    const log: string[] = [];
    const s = serve((r, res) => {
      req = r;
      res.writeHead(200, "Connection Established", [], "none");
      const t = res.tunnel();
      echo(t.source, t.target, log);
    });
    const c = await send(s.port, "CONNECT upstream.test:443 HTTP/1.1\r\nHost: upstream.test:443\r\n\r\nhello");
    await c.waitFor((t) => t === "HTTP/1.1 200 Connection Established\r\n\r\nhello");
    expect(req!.authority).toBe("upstream.test:443");
    expect(req!.absoluteForm).toBe(false);
  });

  test("tunnel() without a 101 throws; an Upgrade without Connection: upgrade is not an upgrade", async () => {
    let thrown: unknown;
    let upgrade: string | undefined = "unset";
    const s = serve((req, res) => {
      upgrade = req.upgrade;
      res.writeHead(200, undefined, [], 0);
      try {
        res.tunnel();
      } catch (e) {
        thrown = e;
      }
      res.end();
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
    await c.responses(1);
    expect(upgrade).toBeUndefined();
    expect(thrown).toBeInstanceOf(Error);
  });
});
