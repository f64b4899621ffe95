/**
 * The upstream connection pool on real sockets (127.0.0.1, port 0): keep-alive
 * reuse, the LIFO idle stack, maxIdle, idle timeout, eviction, when a
 * connection may be reused (RFC 9112 §9.3), the stale-connection retry, and
 * close().
 */
import { describe, expect, test } from "bun:test";
import { readBody } from "../../../src/http1/body.ts";
import { ClientError, ConnectionPool } from "../../../src/http1/client.ts";
import { enc, httpUpstream, manualSource, manualWheel, ok, rawUpstream, until, clientTestScope, GET } from "./client-helpers.ts";

const { upstream, pool } = clientTestScope();

async function text(p: ConnectionPool, req = GET()): Promise<{ status: number; body: string }> {
  const res = await p.request(req).response;
  const body = res.body === undefined ? "" : new TextDecoder().decode(await readBody(res.body));
  return { status: res.status, body };
}

describe("keep-alive reuse", () => {
  test("sequential requests share one connection, which is idle between them", async () => {
    const up = upstream(httpUpstream((r) => ok(`conn ${r.conn.id} #${r.index}`)));
    const p = pool(up.port);
    expect(await text(p)).toEqual({ status: 200, body: "conn 0 #0" });
    expect(p.idle).toBe(1);
    expect(p.active).toBe(0);
    expect(await text(p)).toEqual({ status: 200, body: "conn 0 #1" });
    expect(await text(p)).toEqual({ status: 200, body: "conn 0 #2" });
    expect(up.conns.length).toBe(1);
  });

  test("the idle stack is LIFO: the connection returned last is used first", async () => {
    const up = httpUpstream((r) => (r.head.target === "/slow" ? null : ok(`conn ${r.conn.id}`)));
    upstream(up);
    const p = pool(up.port);
    const slow = p.request(GET("/slow"));
    const fast = p.request(GET("/fast"));
    expect(p.active).toBe(2);
    const fastRes = await fast.response;
    const fastConn = new TextDecoder().decode(await readBody(fastRes.body!));
    await until(() => up.requests.length === 2);
    const slowReq = up.requests.find((r) => r.head.target === "/slow")!;
    slowReq.conn.socket.write(ok(`conn ${slowReq.conn.id}`));
    const slowConn = new TextDecoder().decode(await readBody((await slow.response).body!));
    expect(p.idle).toBe(2);
    expect(slowConn).not.toBe(fastConn);
    // Returned last: the slow one.
    expect((await text(p, GET("/fast"))).body).toBe(slowConn);
    expect((await text(p, GET("/fast"))).body).toBe(slowConn);
  });

  test("maxIdle: connections returned to a full pool are closed", async () => {
    const up = upstream(httpUpstream((r) => (r.head.target === "/hold" ? null : ok())));
    const p = pool(up.port, { maxIdle: 1 });
    const exs = [p.request(GET("/hold")), p.request(GET("/hold")), p.request(GET("/hold"))];
    await until(() => up.requests.length === 3);
    for (const r of up.requests) r.conn.socket.write(ok());
    for (const ex of exs) await readBody((await ex.response).body!);
    expect(p.idle).toBe(1);
    expect(p.active).toBe(0);
    await until(() => up.conns.filter((c) => c.closed).length === 2, 2000, "two closes");
  });

  test("idleTimeout: an idle connection is closed after it", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(httpUpstream(() => ok()));
    const p = pool(up.port, { wheel, idleTimeout: 500 });
    await text(p);
    expect(p.idle).toBe(1);
    advance(490);
    expect(p.idle).toBe(1);
    advance(20);
    expect(p.idle).toBe(0);
    await until(() => up.conns[0]!.closed, 2000, "upstream sees the close");
  });

  test("reuse resets the idle timer", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(httpUpstream(() => ok()));
    const p = pool(up.port, { wheel, idleTimeout: 500 });
    await text(p);
    advance(400);
    await text(p);
    advance(400);
    expect(p.idle).toBe(1);
    expect(up.conns.length).toBe(1);
    advance(200);
    expect(p.idle).toBe(0);
  });

  test("an idle connection closed by the upstream is dropped from the pool", async () => {
    const up = upstream(httpUpstream(() => ok()));
    const p = pool(up.port);
    await text(p);
    expect(p.idle).toBe(1);
    up.conns[0]!.socket.end();
    await until(() => p.idle === 0, 2000, "the pool drops it");
    expect(await text(p)).toEqual({ status: 200, body: "ok" });
    expect(up.conns.length).toBe(2);
  });

  test("bytes on an idle connection evict it", async () => {
    const up = upstream(httpUpstream(() => ok()));
    const p = pool(up.port);
    await text(p);
    up.conns[0]!.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    await until(() => p.idle === 0, 2000, "eviction");
    await until(() => up.conns[0]!.closed);
  });

  test("bytes after a complete response: the connection is not reused", async () => {
    const up = upstream(httpUpstream(() => `${ok("a")}${ok("b")}`));
    const p = pool(up.port);
    expect(await text(p)).toEqual({ status: 200, body: "a" });
    expect(p.idle).toBe(0);
    await until(() => up.conns[0]!.closed);
  });
});

describe("when a connection is not reused (RFC 9112 §9.3)", () => {
  const cases: [string, string, boolean][] = [
    ["Connection: close", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok", false],
    ["HTTP/1.0 without keep-alive", "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", false],
    ["HTTP/1.0 with keep-alive", "HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok", true],
    ["HTTP/1.1 with keep-alive, close in a list", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive, close\r\n\r\nok", false],
    ["HTTP/1.1 default", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", true],
  ];
  for (const [name, response, pooled] of cases) {
    test(`${name}: ${pooled ? "pooled" : "closed"}`, async () => {
      const up = upstream(httpUpstream(() => response));
      const p = pool(up.port);
      expect(await text(p)).toEqual({ status: 200, body: "ok" });
      expect(p.idle).toBe(pooled ? 1 : 0);
      expect(p.active).toBe(0);
    });
  }

  test("a close-delimited body ends at the close and is never pooled", async () => {
    const up = upstream(
      httpUpstream((r) => {
        r.conn.socket.write("HTTP/1.1 200 OK\r\n\r\npart one, ");
        setTimeout(() => {
          r.conn.socket.write("part two");
          r.conn.socket.end();
        }, 5);
        return null;
      }),
    );
    const p = pool(up.port);
    const res = await p.request(GET()).response;
    expect(res.framing.kind).toBe("close");
    expect(res.body!.length).toBe(-1);
    expect(new TextDecoder().decode(await readBody(res.body!))).toBe("part one, part two");
    expect(p.idle).toBe(0);
    expect(p.active).toBe(0);
  });
});

describe("stale reused connection", () => {
  /** An upstream that answers the first request on each connection and closes on the second without answering. */
  function staleUpstream() {
    return upstream(
      httpUpstream((r) => {
        if (r.index === 0) return ok(`conn ${r.conn.id}`);
        r.conn.socket.end();
        return null;
      }),
    );
  }

  test("a request without body (or a Uint8Array body) is sent again once on a new connection", async () => {
    const up = staleUpstream();
    const p = pool(up.port);
    expect((await text(p)).body).toBe("conn 0");
    expect((await text(p)).body).toBe("conn 1");
    const post = { method: "POST", target: "/", fields: ["host", "t"], body: enc.encode("payload") };
    expect((await text(p, post)).body).toBe("conn 2");
    expect(up.requests.filter((r) => r.head.method === "POST").map((r) => new TextDecoder().decode(r.body))).toEqual(["payload", "payload"]);
  });

  test("a streamed body is never retried: reset, sent", async () => {
    const up = staleUpstream();
    const p = pool(up.port);
    await text(p);
    const src = manualSource(3);
    const ex = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: src.source });
    src.push(enc.encode("abc"));
    src.end();
    const err = (await ex.response.catch((e) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe("reset");
    expect(err.sent).toBe(true);
    expect(up.conns.length).toBe(1);
  });

  test("a fresh connection closed before any response byte is not retried: reset", async () => {
    const up = upstream(
      httpUpstream((r) => {
        r.conn.socket.end();
        return null;
      }),
    );
    const p = pool(up.port);
    const err = (await p.request(GET()).response.catch((e) => e)) as ClientError;
    expect(err.code).toBe("reset");
    expect(err.sent).toBe(true);
    expect(up.conns.length).toBe(1);
  });

  test("retried at most once: a second stale connection fails the request", async () => {
    // Every connection answers its first request, then closes on the next one;
    // the retry goes to a new connection, whose first request... is answered.
    // So force both attempts to fail: close on any request after the first overall.
    let seen = 0;
    const up = upstream(
      httpUpstream((r) => {
        if (seen++ === 0) return ok();
        r.conn.socket.end();
        return null;
      }),
    );
    const p = pool(up.port);
    await text(p);
    const err = (await p.request(GET()).response.catch((e) => e)) as ClientError;
    expect(err.code).toBe("reset");
    expect(up.conns.length).toBe(2);
    expect(p.active).toBe(0);
  });

  test("closed in the middle of a head: reset (incomplete_head), not retried", async () => {
    let n = 0;
    const up = upstream(
      httpUpstream((r) => {
        if (n++ === 0) return ok();
        r.conn.socket.write("HTTP/1.1 200 O");
        setTimeout(() => r.conn.socket.end(), 5);
        return null;
      }),
    );
    const p = pool(up.port);
    await text(p);
    const err = (await p.request(GET()).response.catch((e) => e)) as ClientError;
    expect(err.code).toBe("reset");
    expect(err.detail).toBe("incomplete_head");
    expect(up.conns.length).toBe(1);
  });
});

describe("connect", () => {
  test("connect refused", async () => {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = l.port;
    l.stop(true);
    const p = pool(port);
    const err = (await p.request(GET()).response.catch((e) => e)) as ClientError;
    expect(err.code).toBe("connect_refused");
    expect(err.sent).toBe(false);
    expect(p.active).toBe(0);
  });

  test("connect timeout: a TLS upstream that never answers the handshake", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(rawUpstream());
    const p = pool(up.port, { tls: { rejectUnauthorized: false }, connectTimeout: 300, wheel });
    const ex = p.request(GET());
    await until(() => up.conns.length === 1 && up.conns[0]!.received.length > 0, 2000, "the ClientHello");
    advance(290);
    expect(p.active).toBe(1);
    advance(20);
    const err = (await ex.response.catch((e) => e)) as ClientError;
    expect(err.code).toBe("connect_timeout");
    expect(err.sent).toBe(false);
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed, 2000, "the upstream sees the close");
  });

  test("other connect errors: connect_failed with the code; a connect that never settles times out", async () => {
    const rejecting = pool(1, {
      connect: (() => Promise.reject(Object.assign(new Error("no route"), { code: "EHOSTUNREACH" }))) as unknown as typeof Bun.connect,
    });
    const rejected = (await rejecting.request(GET()).response.catch((e) => e)) as ClientError;
    expect(rejected.code).toBe("connect_failed");
    expect(rejected.detail).toBe("EHOSTUNREACH");
    expect(rejecting.active).toBe(0);

    const thrower = pool(1, {
      connect: (() => {
        throw Object.assign(new Error("bad address"), { code: "EINVAL" });
      }) as unknown as typeof Bun.connect,
    });
    const thrown = (await thrower.request(GET()).response.catch((e) => e)) as ClientError;
    expect(thrown.code).toBe("connect_failed");
    expect(thrown.detail).toBe("EINVAL");

    const { wheel, advance } = manualWheel();
    const hanging = pool(1, { wheel, connectTimeout: 100, connect: (() => new Promise(() => {})) as unknown as typeof Bun.connect });
    const ex = hanging.request(GET());
    advance(90);
    expect(hanging.active).toBe(1);
    advance(20);
    expect(((await ex.response.catch((e) => e)) as ClientError).code).toBe("connect_timeout");
    expect(hanging.active).toBe(0);
  });
});

describe("close()", () => {
  test("closes idle connections now, busy ones when their exchange ends; later requests fail", async () => {
    const up = upstream(httpUpstream((r) => (r.head.target === "/hold" ? null : ok())));
    const p = pool(up.port);
    await text(p);
    const held = p.request(GET("/hold"));
    await until(() => up.requests.length === 2);
    expect(p.idle).toBe(0);
    // The idle one was taken by /hold; make another idle connection first.
    await text(p);
    expect(p.idle).toBe(1);
    p.close();
    expect(p.idle).toBe(0);
    expect(p.active).toBe(1);
    up.requests[1]!.conn.socket.write(ok());
    await readBody((await held.response).body!);
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
    const err = (await p.request(GET()).response.catch((e) => e)) as ClientError;
    expect(err.code).toBe("connect_failed");
    expect(err.detail).toBe("pool_closed");
  });
});

describe("request validation", () => {
  test("framing fields in the request are a TypeError", () => {
    const p = pool(1);
    for (const name of ["Content-Length", "transfer-encoding", "Connection"]) {
      expect(() => p.request({ method: "GET", target: "/", fields: ["host", "x", name, "1"] })).toThrow(TypeError);
    }
    expect(() => p.request({ method: "GET", target: "/", fields: ["host", "x\r\ny"] })).toThrow(TypeError);
    expect(p.active).toBe(0);
  });

  test("options are checked", () => {
    expect(() => new ConnectionPool({ host: "", port: 1 })).toThrow(TypeError);
    expect(() => new ConnectionPool({ host: "h", port: 70000 })).toThrow(RangeError);
    expect(() => new ConnectionPool({ host: "h", port: 1, maxIdle: -1 })).toThrow(/maxIdle/);
    expect(() => new ConnectionPool({ host: "h", port: 1, limits: { maxHead: 1e9 } })).toThrow(/maxHead/);
  });
});
