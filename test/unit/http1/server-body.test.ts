import { describe, expect, test } from "bun:test";
import { type BodyError, type BodySink, readBody } from "../../../src/http1/body.ts";
import type { ServerRequest, ServerResponse } from "../../../src/http1/server.ts";
import { dec, enc, field, kernelBufferMax, RawClient, send, serve, until } from "./server-helpers.ts";

/** A sink that records everything. */
interface Recorder {
  chunks: string[];
  bytes: number;
  trailers: readonly string[] | undefined;
  error: BodyError | undefined;
  sink: BodySink;
}

function recorder(more: (n: number) => boolean = () => true): Recorder {
  const r: Recorder = {
    chunks: [] as string[],
    bytes: 0,
    trailers: undefined as readonly string[] | undefined,
    error: undefined as BodyError | undefined,
    sink: {
      onData(d: Uint8Array): boolean {
        r.chunks.push(dec(d));
        r.bytes += d.byteLength;
        return more(r.bytes);
      },
      onEnd(t: readonly string[]) {
        r.trailers = t;
      },
      onError(e: BodyError) {
        r.error = e;
      },
    },
  };
  return r;
}

function ok(res: ServerResponse, body = ""): void {
  res.writeHead(200, undefined, [], body.length);
  if (body.length > 0) res.write(enc(body));
  res.end();
}

describe("http1 server: request bodies", () => {
  test("Content-Length: the source says the length and delivers the bytes", async () => {
    let length = 0;
    const s = serve((req, res) => {
      length = req.body!.length;
      void readBody(req.body!).then((b) => ok(res, dec(b)));
    });
    const c = await send(s.port, "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\npayload");
    const v = await c.responses(1);
    expect(dec(v.messages[0]!.body)).toBe("payload");
    expect(length).toBe(7);
  });

  test("Content-Length: 0 means no body source", async () => {
    let body: unknown = "unset";
    const s = serve((req, res) => {
      body = req.body;
      ok(res);
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    await c.responses(1);
    expect(body).toBeUndefined();
  });

  test("chunked: data as it comes, trailers on onEnd, length -1", async () => {
    const rec = recorder();
    let length = 0;
    const s = serve((req, res) => {
      length = req.body!.length;
      req.body!.start({
        ...rec.sink,
        onEnd(t) {
          rec.sink.onEnd(t);
          ok(res);
        },
      });
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Check: 9\r\n\r\n");
    await c.responses(1);
    expect(length).toBe(-1);
    expect(rec.chunks.join("")).toBe("abcde");
    expect(rec.trailers).toEqual(["X-Check", "9"]);
  });

  test("bytes that came before start() are delivered first", async () => {
    const rec = recorder();
    const s = serve((req, res) => {
      setTimeout(() => {
        req.body!.start({
          ...rec.sink,
          onEnd(t) {
            rec.sink.onEnd(t);
            ok(res, rec.chunks.join(""));
          },
        });
      }, 30);
    });
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
    await Bun.sleep(50);
    await c.write("56789");
    const v = await c.responses(1);
    expect(dec(v.messages[0]!.body)).toBe("0123456789");
  });

  test("malformed chunked mid-body: onError with the decoder's code, 400 when no head was written, then a close", async () => {
    const rec = recorder();
    const s = serve((req) => req.body!.start(rec.sink));
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n");
    await c.waitClosed();
    expect(rec.chunks).toEqual(["abc"]);
    expect(rec.error?.code).toBe("bad_chunk_size");
    const v = await c.responses(1);
    expect(v.messages[0]!.status).toBe(400);
    expect(field(v.messages[0]!.fields, "connection")).toBe("close");
  });

  test("malformed chunked after the handler answered: the connection closes after its response", async () => {
    const rec = recorder();
    const s = serve((req, res) => {
      req.body!.start({
        ...rec.sink,
        onError(e) {
          rec.sink.onError(e);
          res.writeHead(422, undefined, [], 0);
          res.end();
        },
      });
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\nabcX\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.waitClosed();
    expect(rec.error?.code).toBe("bad_chunk_terminator");
    const v = await c.responses(1);
    expect(v.messages.length).toBe(1);
    expect(v.messages[0]!.status).toBe(422);
    expect(field(v.messages[0]!.fields, "connection")).toBe("close");
  });

  test("backpressure: a sink returning false stops the socket; resume() continues; nothing is lost", async () => {
    // More than the kernel can hold in both sockets' buffers, so a paused reader must hold the client back.
    const total = kernelBufferMax() + 4 * 1024 * 1024;
    let body: ServerRequest["body"];
    let received = 0;
    let paused = false;
    let ended = false;
    const s = serve(
      (req, res) => {
        body = req.body;
        body!.start({
          onData(d) {
            for (let i = 0; i < d.byteLength; i++) if (d[i] !== ((received + i) & 0xff)) throw new Error(`byte ${received + i} is wrong`);
            received += d.byteLength;
            if (received >= 256 * 1024 && !paused && received < total) {
              paused = true;
              return false;
            }
            return true;
          },
          onEnd() {
            ended = true;
            ok(res, String(received));
          },
          onError() {},
        });
      },
      { maxPipelined: 16 * 1024 },
    );
    const c = await RawClient.connect(s.port);
    await c.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
    const data = new Uint8Array(total);
    for (let i = 0; i < total; i++) data[i] = i & 0xff;
    void c.write(data);
    await until(() => paused);
    await Bun.sleep(100);
    // Paused: at most what one read brought in past the pause point.
    const atPause = received;
    expect(received).toBeLessThan(256 * 1024 + 600 * 1024);
    await Bun.sleep(50);
    expect(received).toBe(atPause);
    expect(c.socket.writableLength).toBeGreaterThan(0); // the client is held back
    body!.resume();
    const v = await c.responses(1, "GET", 5000);
    expect(ended).toBe(true);
    expect(dec(v.messages[0]!.body)).toBe(String(total));
  });

  test("backpressure with chunked: pieces decoded while paused come after resume, in order", async () => {
    const rec = recorder((n) => n !== 3);
    let body: ServerRequest["body"];
    const s = serve((req, res) => {
      body = req.body;
      req.body!.start({
        ...rec.sink,
        onEnd(t) {
          rec.sink.onEnd(t);
          ok(res, rec.chunks.join("|"));
        },
      });
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n");
    await until(() => rec.bytes === 3);
    await Bun.sleep(20);
    expect(rec.chunks).toEqual(["abc"]);
    expect(rec.trailers).toBeUndefined();
    body!.resume();
    const v = await c.responses(1);
    expect(dec(v.messages[0]!.body)).toBe("abc|de|f");
  });

  test("the client closing mid-body: onError closed, and onAbort", async () => {
    const rec = recorder();
    let aborted: string | undefined;
    const s = serve((req, res) => {
      res.onAbort = (why) => (aborted = why);
      req.body!.start(rec.sink);
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhalf");
    await until(() => rec.bytes === 4);
    c.end();
    await until(() => rec.error !== undefined);
    expect(rec.error!.code).toBe("closed");
    await until(() => aborted !== undefined);
    expect(aborted).toBe("closed");
    await until(() => s.connections === 0 && s.activeRequests === 0);
  });

  test("body idle timeout: onError timeout; the handler answers 408 and the connection closes", async () => {
    const rec = recorder();
    const s = serve(
      (req, res) => {
        req.body!.start({
          ...rec.sink,
          onError(e) {
            rec.sink.onError(e);
            res.writeHead(408, undefined, [], 0);
            res.end();
          },
        });
      },
      { timeouts: { body: 100 } },
    );
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
    const t0 = performance.now();
    await c.waitClosed();
    const waited = performance.now() - t0;
    expect(rec.error?.code).toBe("timeout");
    expect(waited).toBeGreaterThanOrEqual(90);
    const v = await c.responses(1);
    expect(v.messages[0]!.status).toBe(408);
    expect(field(v.messages[0]!.fields, "connection")).toBe("close");
  });

  test("the body timer does not run while the handler has the body paused", async () => {
    const rec = recorder(() => false);
    let body: ServerRequest["body"];
    const s = serve(
      (req, res) => {
        body = req.body;
        req.body!.start({
          ...rec.sink,
          onEnd(t) {
            rec.sink.onEnd(t);
            ok(res);
          },
        });
      },
      { timeouts: { body: 60 } },
    );
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc");
    await until(() => rec.bytes === 3);
    await Bun.sleep(150);
    expect(rec.error).toBeUndefined();
    await c.write("def");
    body!.resume();
    await until(() => rec.bytes === 6);
    body!.resume();
    await c.responses(1);
    expect(rec.trailers).toEqual([]);
  });

  test("a response finished while the body is unread: connection: close, then closed", async () => {
    const s = serve((_req, res) => ok(res, "early"));
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nstart");
    await c.waitClosed();
    const v = await c.responses(1);
    expect(dec(v.messages[0]!.body)).toBe("early");
    expect(field(v.messages[0]!.fields, "connection")).toBe("close");
  });

  test("an unread body that had all arrived is skipped and the connection kept", async () => {
    const s = serve((req, res) => ok(res, req.target));
    const c = await send(s.port, "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcdeGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    const v = await c.responses(2);
    expect(v.messages.map((m) => dec(m.body))).toEqual(["/a", "/b"]);
    expect(v.messages.map((m) => field(m.fields, "connection"))).toEqual([undefined, undefined]);
    expect(await c.quiet(30)).toBe(true);
  });

  test("cancel(): the rest is dropped, the connection closes after the response", async () => {
    const s = serve((req, res) => {
      const body = req.body!;
      body.start({
        onData() {
          body.cancel();
          setTimeout(() => ok(res, "cancelled"), 20);
          return true;
        },
        onEnd() {
          throw new Error("no end after cancel");
        },
        onError() {
          throw new Error("no error after cancel");
        },
      });
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nxyz");
    await c.write("more bytes");
    await c.waitClosed();
    const v = await c.responses(1);
    expect(dec(v.messages[0]!.body)).toBe("cancelled");
    expect(field(v.messages[0]!.fields, "connection")).toBe("close");
  });

  test("Expect: 100-continue: the server sends 100 when the body is started, not before", async () => {
    let start: (() => void) | undefined;
    let expectContinue = false;
    const s = serve((req, res) => {
      expectContinue = req.expectContinue;
      start = () => void readBody(req.body!).then((b) => ok(res, dec(b)));
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    await until(() => start !== undefined);
    expect(await c.quiet(30)).toBe(true);
    expect(expectContinue).toBe(true);
    start!();
    await c.waitFor((t) => t === "HTTP/1.1 100 Continue\r\n\r\n");
    await c.write("body");
    await c.waitFor((t) => t.endsWith("body"));
    expect(c.text).toBe("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody");
  });

  test("Expect: 100-continue answered with a final status: no 100, the connection closes", async () => {
    const s = serve((_req, res) => {
      res.writeHead(413, undefined, [], 0);
      res.end();
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4000\r\n\r\n");
    await c.waitClosed();
    expect(c.text).toBe("HTTP/1.1 413 Content Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });

  test("a sink that throws is the handler's failure: 500 and close", async () => {
    const errors: string[] = [];
    const s = serve(
      (req) => {
        req.body!.start({
          onData() {
            throw new Error("sink bug");
          },
          onEnd() {},
          onError() {},
        });
      },
      { onError: (e, where) => errors.push(`${where}: ${(e as Error).message}`) },
    );
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    await c.waitClosed();
    expect(c.text).toStartWith("HTTP/1.1 500 ");
    expect(errors).toEqual(["body: sink bug"]);
  });

  test("a response finished while the body is still being read: the sink hears 'cancelled'; a later start() too", async () => {
    const rec = recorder();
    let late: BodyError | undefined;
    const s = serve((req, res) => {
      req.body!.start(rec.sink);
      setTimeout(() => {
        ok(res, "done");
        req.body!.start({ onData: () => true, onEnd: () => {}, onError: (e) => (late = e) });
      }, 20);
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    await c.waitClosed();
    expect(rec.chunks).toEqual(["abc"]);
    expect(rec.error?.code).toBe("cancelled");
    expect(late?.code).toBe("cancelled");
  });

  test("start() after the handler answered without reading: onError, never a hang", async () => {
    let late: BodyError | undefined;
    const s = serve((req, res) => {
      res.writeHead(200, undefined, [], 0);
      res.abort({ code: "x", reason: "y" });
      req.body!.start({ onData: () => true, onEnd: () => {}, onError: (e) => (late = e) });
    });
    const c = await send(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    await c.waitClosed();
    expect(late?.code).toBe("cancelled");
  });

  test("a FIN after half a head closes at once (no wait for the head timeout)", async () => {
    const s = serve(() => {}, { timeouts: { head: 10_000 } });
    const c = await RawClient.connect(s.port, { allowHalfOpen: true });
    await c.write("GET / HTTP/1.1\r\nHo");
    c.end();
    await c.waitClosed(1000);
    expect(c.text).toBe("");
    await until(() => s.connections === 0);
  });
});
