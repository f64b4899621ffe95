import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readBody } from "../../../src/http1/body.ts";
import type { ServerRequest } from "../../../src/http1/server.ts";
import { mutate, mutation, request } from "./generators.ts";
import { dec, enc, field, hello, RawClient, send, serve, until } from "./server-helpers.ts";

describe("http1 server: requests and responses", () => {
  test("a GET gets exactly the handler's fields plus the framing", async () => {
    const s = serve(hello("hi there"));
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const text = await c.waitFor((t) => t.endsWith("hi there"));
    expect(text).toBe("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 8\r\n\r\nhi there");
    expect(await c.quiet(30)).toBe(true); // kept alive
  });

  test("the request as parsed: method, target, fields as received, authority, peer, tls, receivedAt", async () => {
    let seen: ServerRequest | undefined;
    let peer: { address: string; port: number } | undefined;
    const s = serve((req, res) => {
      seen = req;
      peer = { ...req.peer };
      res.writeHead(204, undefined, [], "none");
      res.end();
    });
    const before = performance.now();
    const c = await send(s.port, "PATCH /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nX-Thing:  v1 \r\nx-thing: v2\r\n\r\n");
    await c.responses(1);
    expect(seen!.method).toBe("PATCH");
    expect(seen!.target).toBe("/a/b?c=d");
    expect(seen!.version).toBe(1);
    expect(seen!.fields).toEqual(["Host", "example.com:8080", "X-Thing", "v1", "x-thing", "v2"]);
    expect(seen!.authority).toBe("example.com:8080");
    expect(seen!.absoluteForm).toBe(false);
    expect(seen!.tls).toBe(false);
    expect(seen!.expectContinue).toBe(false);
    expect(seen!.upgrade).toBeUndefined();
    expect(seen!.body).toBeUndefined();
    expect(seen!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(peer!.address).toBe("127.0.0.1");
    expect(peer!.port).toBe(c.socket.localPort!);
  });

  test("absolute-form: the authority comes from the target", async () => {
    let seen: ServerRequest | undefined;
    const s = serve((req, res) => {
      seen = req;
      res.writeHead(200, undefined, [], 0);
      res.end();
    });
    const c = await send(s.port, "GET http://upstream.test:81/x HTTP/1.1\r\nHost: other\r\n\r\n");
    await c.responses(1);
    expect(seen!.absoluteForm).toBe(true);
    expect(seen!.authority).toBe("upstream.test:81");
  });

  test("a 204 and a 304 carry no framing field; 'none' on a 200 says content-length: 0", async () => {
    const statuses = [204, 304, 200];
    let i = 0;
    const s = serve((_req, res) => {
      res.writeHead(statuses[i++]!, undefined, ["x", "y"], "none");
      res.end();
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(3));
    await c.waitFor((t) => t.split("HTTP/1.1").length === 4 && t.endsWith("\r\n\r\n"));
    expect(c.text).toBe(
      "HTTP/1.1 204 No Content\r\nx: y\r\n\r\n" + "HTTP/1.1 304 Not Modified\r\nx: y\r\n\r\n" + "HTTP/1.1 200 OK\r\nx: y\r\ncontent-length: 0\r\n\r\n",
    );
  });

  test("HEAD: the framing is written as given, the body is not sent", async () => {
    const s = serve((_req, res) => {
      res.writeHead(200, undefined, [], 5);
      res.write(enc("hello"));
      res.end();
    });
    const c = await send(s.port, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.waitFor((t) => t.endsWith("hello"));
    expect(c.text).toBe("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
  });

  test("a chunked response is framed by the server, trailers included", async () => {
    const s = serve((_req, res) => {
      res.writeHead(200, undefined, ["trailer", "x-sum"], "chunked");
      res.write(enc("hello "));
      res.write(enc(""));
      res.write(enc("world"));
      res.end(["x-sum", "42"]);
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const text = await c.waitFor((t) => t.endsWith("\r\n\r\n") && t.includes("x-sum: 42"));
    expect(text).toBe("HTTP/1.1 200 OK\r\ntrailer: x-sum\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\nx-sum: 42\r\n\r\n");
  });

  test("the head and the first body bytes leave in one socket write", async () => {
    const s = serve((_req, res) => {
      res.writeHead(200, undefined, ["content-type", "text/plain"], "chunked");
      setTimeout(() => {
        res.write(enc("first"));
        setTimeout(() => res.end(), 20);
      }, 20);
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.waitFor((t) => t.includes("first"));
    // Nothing arrived before the first chunk, and the head came with it.
    expect(c.dataEvents).toBe(1);
    expect(c.text).toBe("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
    await c.waitFor((t) => t.endsWith("0\r\n\r\n"));
  });

  test("writeInformational sends a 103 before the final response", async () => {
    const s = serve((_req, res) => {
      res.writeInformational(103, ["link", "</a.css>; rel=preload"]);
      res.writeHead(200, undefined, [], 2);
      res.write(enc("ok"));
      res.end();
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const text = await c.waitFor((t) => t.endsWith("ok"));
    expect(text).toBe("HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });

  test("no 1xx to an HTTP/1.0 client", async () => {
    const s = serve((_req, res) => {
      res.writeInformational(103, ["link", "</a.css>"]);
      res.writeHead(200, undefined, [], 0);
      res.end();
    });
    const c = await send(s.port, "GET / HTTP/1.0\r\n\r\n");
    await c.waitClosed();
    expect(c.text).toBe("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });

  test("a field value with CR LF is refused at writeHead (no response splitting)", async () => {
    let thrown: unknown;
    const s = serve((_req, res) => {
      try {
        res.writeHead(200, undefined, ["x", "a\r\nset-cookie: evil=1"], 0);
      } catch (e) {
        thrown = e;
      }
      res.writeHead(200, undefined, ["x", "ok"], 0);
      res.end();
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.responses(1);
    expect(thrown).toBeInstanceOf(TypeError);
    expect(c.text).toBe("HTTP/1.1 200 OK\r\nx: ok\r\ncontent-length: 0\r\n\r\n");
  });

  test("writeHead refuses framing and Connection fields, twice, and 1xx", async () => {
    const errors: string[] = [];
    const s = serve((_req, res) => {
      for (const f of [["Content-Length", "1"], ["transfer-encoding", "chunked"], ["CONNECTION", "close"]]) {
        try {
          res.writeHead(200, undefined, f, 0);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      try {
        res.writeHead(100, undefined, [], "none");
      } catch (e) {
        errors.push((e as Error).message);
      }
      res.writeHead(200, undefined, [], 0);
      try {
        res.writeHead(200, undefined, [], 0);
      } catch (e) {
        errors.push((e as Error).message);
      }
      res.end();
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.responses(1);
    expect(errors.length).toBe(5);
    expect(c.text).toBe("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  });
});

describe("http1 server: pipelining", () => {
  test("two GETs in one write get two responses, in order, handled one at a time", async () => {
    const order: string[] = [];
    let active = 0;
    const s = serve((req, res) => {
      active++;
      expect(active).toBe(1);
      order.push(req.target);
      // The first answers later than the second would: order must hold anyway.
      setTimeout(
        () => {
          const body = enc(req.target);
          res.writeHead(200, undefined, [], body.byteLength);
          res.write(body);
          active--;
          res.end();
        },
        req.target === "/1" ? 30 : 0,
      );
    });
    const c = await send(s.port, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    const v = await c.responses(2);
    expect(v.messages.map((m) => dec(m.body))).toEqual(["/1", "/2"]);
    expect(order).toEqual(["/1", "/2"]);
  });

  test("a POST with a body followed by a GET in one write", async () => {
    const bodies: string[] = [];
    const s = serve((req, res) => {
      const answer = (b: string) => {
        bodies.push(`${req.method} ${b}`);
        res.writeHead(200, undefined, [], b.length);
        res.write(enc(b));
        res.end();
      };
      if (req.body === undefined) answer("");
      else void readBody(req.body).then((b) => answer(dec(b)));
    });
    const c = await send(s.port, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello worldGET /g HTTP/1.1\r\nHost: a\r\n\r\n");
    const v = await c.responses(2);
    expect(v.messages.map((m) => dec(m.body))).toEqual(["hello world", ""]);
    expect(bodies).toEqual(["POST hello world", "GET "]);
  });

  test("many pipelined requests split at every byte boundary still come back in order", async () => {
    let n = 0;
    const s = serve((req, res) => {
      const b = enc(String(n++));
      const answer = () => {
        res.writeHead(200, undefined, [], b.byteLength);
        res.write(b);
        res.end();
      };
      if (req.body === undefined) answer();
      else void readBody(req.body).then(answer);
    });
    const one = "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    const c = await RawClient.connect(s.port);
    const all = one.repeat(10);
    // Irregular pieces: 1, 2, 3, … bytes.
    for (let i = 0, k = 1; i < all.length; i += k, k = (k % 7) + 1) await c.write(all.slice(i, i + k));
    const v = await c.responses(20);
    expect(v.messages.map((m) => dec(m.body))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  test("pipelined input beyond maxPipelined pauses the socket; requests go on as responses are written", async () => {
    let handled = 0;
    const pending: (() => void)[] = [];
    const s = serve(
      (_req, res) => {
        handled++;
        pending.push(() => {
          res.writeHead(200, undefined, [], 0);
          res.end();
        });
      },
      { maxPipelined: 1024 },
    );
    const c = await RawClient.connect(s.port);
    const req = `GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ${"p".repeat(240)}\r\n\r\n`;
    void c.write(req.repeat(32_000)).catch(() => {}); // ~8.6 MB, more than loopback buffers hold
    await until(() => handled === 1);
    await Bun.sleep(100);
    expect(handled).toBe(1);
    // The server stopped reading: the rest waits in the client's own buffer.
    expect(c.socket.writableLength).toBeGreaterThan(1_000_000);
    for (let k = 0; k < 20; k++) {
      await until(() => pending.length > 0);
      pending.shift()!();
    }
    const v = await c.responses(20);
    expect(v.messages.slice(0, 20).map((m) => m.status)).toEqual(Array(20).fill(200));
    expect(handled).toBe(21);
  });
});

describe("http1 server: refusals", () => {
  const cases: [string, string, number][] = [
    ["bad request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400],
    ["request line too long", `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
    ["field line too long", `GET / HTTP/1.1\r\nHost: a\r\nX: ${"b".repeat(9000)}\r\n\r\n`, 431],
    ["too many fields", `GET / HTTP/1.1\r\nHost: a\r\n${"X: y\r\n".repeat(101)}\r\n`, 431],
    ["unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400],
    ["bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400],
    ["Expect other than 100-continue", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417],
  ];
  for (const [name, input, status] of cases) {
    test(`${name} -> ${status}, connection: close, closed`, async () => {
      let called = 0;
      const s = serve(() => called++);
      const c = await send(s.port, input);
      await c.waitClosed();
      const v = await c.responses(1);
      expect(v.messages[0]!.status).toBe(status);
      expect(field(v.messages[0]!.fields, "connection")).toBe("close");
      expect(dec(v.messages[0]!.body)).toStartWith(`${status} `);
      expect(called).toBe(0);
    });
  }

  test("errorResponse formats the server's own answers", async () => {
    const seen: [number, string][] = [];
    const s = serve(() => {}, {
      errorResponse(status, code) {
        seen.push([status, code]);
        return { fields: ["content-type", "application/json"], body: JSON.stringify({ status, code }) };
      },
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\n\r\n");
    await c.waitClosed();
    expect(c.text).toBe(
      'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 34\r\nconnection: close\r\n\r\n{"status":400,"code":"missing_host"}'.replace(
        "34",
        String('{"status":400,"code":"missing_host"}'.length),
      ),
    );
    expect(seen).toEqual([[400, "missing_host"]]);
  });

  test("an errorResponse that throws falls back to a plain answer and is reported", async () => {
    const errors: string[] = [];
    const s = serve(() => {}, {
      errorResponse() {
        throw new Error("boom");
      },
      onError: (_e, where) => errors.push(where),
    });
    const c = await send(s.port, "GET / HTTP/1.1\r\n\r\n");
    await c.waitClosed();
    expect(c.text).toStartWith("HTTP/1.1 400 Bad Request\r\n");
    expect(errors).toEqual(["errorResponse"]);
  });

  test("a handler that throws before writing gets 500 and a close; after writing, a close", async () => {
    const errors: [unknown, string][] = [];
    let mode = 0;
    const s = serve(
      (_req, res) => {
        if (mode === 1) {
          res.writeHead(200, undefined, [], 10);
          res.write(enc("12345"));
        }
        if (mode === 2) res.writeHead(200, undefined, [], 10); // not sent yet: replaced by the 500
        throw new Error("handler bug");
      },
      { onError: (e, where) => errors.push([e, where]) },
    );
    const c0 = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c0.waitClosed();
    expect(c0.text).toStartWith("HTTP/1.1 500 Internal Server Error\r\n");
    expect(c0.text).toContain("connection: close\r\n");
    mode = 1;
    const c1 = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c1.waitClosed();
    expect(c1.text).toBe("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345");
    mode = 2;
    const c2 = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c2.waitClosed();
    expect(c2.text).toStartWith("HTTP/1.1 500 Internal Server Error\r\n");
    expect(errors.map(([e, w]) => `${w}: ${(e as Error).message}`)).toEqual(["handler: handler bug", "handler: handler bug", "handler: handler bug"]);
    expect(s.activeRequests).toBe(0);
  });

  test("never crashes or hangs on mutated requests: each connection gets answers or a close, and the server still serves", async () => {
    const s = serve(hello("ok"), { timeouts: { head: 200, body: 200 } });
    await fc.assert(
      fc.asyncProperty(request, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (req, muts) => {
        let input = req;
        for (const m of muts) input = mutate(input, m);
        const c = await send(s.port, `${input}GET / HTTP/1.1\r\nHost: a\r\n\r\n`);
        // Either the final GET is answered, or the connection is closed (refused / timed out).
        const end = performance.now() + 2000;
        while (!c.closed && !c.ended && !c.text.endsWith("ok")) {
          if (performance.now() > end) throw new Error(`hung on ${JSON.stringify(input)}`);
          await Bun.sleep(2);
        }
        c.destroy();
      }),
      { numRuns: 150, seed: 42 },
    );
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.waitFor((t) => t.endsWith("ok"));
    await until(() => s.connections === 1, 2000, "mutated connections closed");
  });

  test("random bytes never crash the server", async () => {
    const s = serve(hello("ok"), { timeouts: { head: 100 } });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (junk) => {
        const c = await send(s.port, junk);
        const end = performance.now() + 2000;
        while (!c.closed && !c.ended) {
          if (performance.now() > end) throw new Error(`hung on ${JSON.stringify(dec(junk))}`);
          await Bun.sleep(2);
        }
      }),
      { numRuns: 60, seed: 7 },
    );
    const c = await send(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.waitFor((t) => t.endsWith("ok"));
  });
});

describe("http1 server: slow clients", () => {
  test("a head and a body arriving one byte at a time", async () => {
    let got = "";
    let fields: readonly string[] = [];
    const s = serve((req, res) => {
      fields = req.fields;
      void readBody(req.body!).then((b) => {
        got = dec(b);
        res.writeHead(200, undefined, [], 0);
        res.end();
      });
    });
    const c = await RawClient.connect(s.port);
    await c.writeSlowly("POST /slow HTTP/1.1\r\nHost: a\r\nX-A: b\r\nContent-Length: 5\r\n\r\nab\r\nc", 0);
    await c.responses(1);
    expect(fields).toEqual(["Host", "a", "X-A", "b", "Content-Length", "5"]);
    expect(got).toBe("ab\r\nc");
  });

  test("a chunked body one byte at a time, with trailers", async () => {
    let got = "";
    let trailers: readonly string[] = [];
    const s = serve((req, res) => {
      const parts: string[] = [];
      req.body!.start({
        onData: (d) => {
          parts.push(dec(d));
          return true;
        },
        onEnd: (t) => {
          got = parts.join("");
          trailers = t;
          res.writeHead(200, undefined, [], 0);
          res.end();
        },
        onError: () => {},
      });
    });
    const c = await RawClient.connect(s.port);
    await c.writeSlowly("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n", 0);
    await c.responses(1);
    expect(got).toBe("wikipedia");
    expect(trailers).toEqual(["X-T", "1"]);
  });
});
