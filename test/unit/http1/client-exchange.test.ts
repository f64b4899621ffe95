/**
 * One exchange through the upstream client on real sockets: response heads
 * (no-body responses, invalid heads), timeouts on a manual timer wheel,
 * abort() at every phase, early responses, 100-continue, 103, the 101
 * tunnel, one write for a small request, and an https upstream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBody } from "../../../src/http1/body.ts";
import { ClientError, type PoolOptions } from "../../../src/http1/client.ts";
import type { ResponseHead } from "../../../src/http1/head.ts";
import { dec, enc, httpUpstream, manualSource, manualWheel, ok, rawUpstream, recordingSink, until, clientTestScope, GET } from "./client-helpers.ts";

const { upstream, pool, defer } = clientTestScope();

/** An upstream that announces 100 bytes of body, sends 3, and stalls. */
const stalledBody = () =>
  httpUpstream((r) => {
    r.conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    return null;
  });

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  const e = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(ClientError);
  return e as ClientError;
}

describe("responses without a body", () => {
  const cases: [string, string, string][] = [
    ["HEAD with Content-Length", "HEAD", "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n"],
    ["204", "GET", "HTTP/1.1 204 No Content\r\n\r\n"],
    ["304 with Content-Length", "GET", "HTTP/1.1 304 Not Modified\r\ncontent-length: 50\r\n\r\n"],
    ["Content-Length: 0", "GET", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
  ];
  for (const [name, method, response] of cases) {
    test(`${name}: body undefined, the connection reused`, async () => {
      const up = upstream(httpUpstream(() => response));
      const p = pool(up.port);
      for (let i = 0; i < 2; i++) {
        const res = await p.request({ method, target: "/", fields: ["host", "t"] }).response;
        expect(res.body).toBeUndefined();
        expect(res.framing.kind).toBe(name === "Content-Length: 0" ? "length" : "none");
        expect(p.idle).toBe(1);
      }
      expect(up.conns.length).toBe(1);
    });
  }

  test("fields come as received, framing fields included", async () => {
    const up = upstream(httpUpstream(() => "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\nhi"));
    const p = pool(up.port);
    const res = await p.request(GET()).response;
    expect(res).toMatchObject({ status: 200, reason: "Fine", version: 1, fields: ["Content-Length", "2", "X-A", "1", "x-a", "2"] });
    expect(res.framing).toEqual({ kind: "length", length: 2 });
    expect(res.body!.length).toBe(2);
  });
});

describe("invalid responses: bad_response with the codec's code", () => {
  const cases: [string, string, string, Partial<PoolOptions>?][] = [
    ["a bad status line", "HTTP/1.1 2OO OK\r\n\r\n", "bad_status"],
    ["not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "bad_version"],
    ["no status code", "HTTP/1.1\r\n\r\n", "bad_status_line"],
    ["status 600", "HTTP/1.1 600 Weird\r\ncontent-length: 0\r\n\r\n", "bad_status"],
    ["status 099", "HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n", "bad_status"],
    ["a head over maxHead", `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(3000)}\r\n\r\n`, "head_too_large", { limits: { maxHead: 2048, maxHeaderLine: 4096 } }],
    ["a bad Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n", "bad_content_length"],
    ["conflicting Content-Lengths", "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", "conflicting_content_length"],
    ["obs-fold", "HTTP/1.1 200 OK\r\nx: a\r\n b\r\ncontent-length: 0\r\n\r\n", "obs_fold"],
    ["101 without an upgrade request", "HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n", "unexpected_101"],
  ];
  for (const [name, response, detail, opts] of cases) {
    test(name, async () => {
      const up = upstream(httpUpstream(() => response));
      const p = pool(up.port, opts);
      const err = await failure(p.request(GET()).response);
      expect(err.code).toBe("bad_response");
      expect(err.detail).toBe(detail);
      expect(err.sent).toBe(true);
      expect(p.active).toBe(0);
      expect(p.idle).toBe(0);
      await until(() => up.conns[0]!.closed, 2000, "the connection closed");
    });
  }

  test("a head split into single bytes parses the same", async () => {
    const response = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-long: abcdefghij\r\n\r\nhello";
    const up = upstream(
      httpUpstream((r) => {
        let i = 0;
        const next = () => {
          if (i < response.length) {
            r.conn.socket.write(response[i++]!);
            setTimeout(next, 0);
          }
        };
        next();
        return null;
      }),
    );
    const p = pool(up.port);
    const res = await p.request(GET()).response;
    expect(res.fields).toEqual(["content-length", "5", "x-long", "abcdefghij"]);
    expect(dec.decode(await readBody(res.body!))).toBe("hello");
    expect(p.idle).toBe(1);
  });
});

describe("timeouts", () => {
  test("header timeout: counted from request(), the connection destroyed", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(httpUpstream(() => null));
    const p = pool(up.port, { wheel });
    const ex = p.request({ ...GET(), headerTimeout: 500 });
    await until(() => up.requests.length === 1);
    advance(490);
    expect(p.active).toBe(1);
    advance(20);
    const err = await failure(ex.response);
    expect(err.code).toBe("header_timeout");
    expect(err.sent).toBe(true);
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("header timeout includes the connect", async () => {
    const { wheel, advance } = manualWheel();
    const p = pool(1, { wheel, connectTimeout: 5000, connect: (() => new Promise(() => {})) as unknown as typeof Bun.connect });
    const ex = p.request({ ...GET(), headerTimeout: 200 });
    advance(210);
    const err = await failure(ex.response);
    expect(err.code).toBe("header_timeout");
    expect(err.sent).toBe(false);
    expect(p.active).toBe(0);
  });

  test("header timeout stops once the head came", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(
      httpUpstream((r) => {
        r.conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab");
        return null;
      }),
    );
    const p = pool(up.port, { wheel });
    const res = await p.request({ ...GET(), headerTimeout: 100 }).response;
    const rec = recordingSink();
    res.body!.start(rec.sink);
    advance(1000);
    expect(rec.error).toBeUndefined();
    up.conns[0]!.socket.write("cd");
    await rec.done;
    expect(rec.text()).toBe("abcd");
  });

  test("body timeout: no body byte for bodyTimeout -> the body errors with timeout", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(
      httpUpstream((r) => {
        r.conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789");
        return null;
      }),
    );
    const p = pool(up.port, { wheel });
    const res = await p.request({ ...GET(), bodyTimeout: 300 }).response;
    const rec = recordingSink();
    res.body!.start(rec.sink);
    await until(() => rec.bytes === 10);
    advance(200);
    up.conns[0]!.socket.write("abcde"); // activity resets the timer
    await until(() => rec.bytes === 15);
    advance(200);
    expect(rec.error).toBeUndefined();
    advance(120);
    await rec.done;
    expect(rec.error?.code).toBe("timeout");
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("the body timer does not run while the consumer has the body paused", async () => {
    const { wheel, advance } = manualWheel();
    const up = upstream(
      httpUpstream((r) => {
        r.conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n0123456789");
        return null;
      }),
    );
    const p = pool(up.port, { wheel });
    const res = await p.request({ ...GET(), bodyTimeout: 300 }).response;
    const rec = recordingSink(() => false); // pauses after each piece
    res.body!.start(rec.sink);
    await until(() => rec.bytes === 10);
    advance(1000);
    expect(rec.error).toBeUndefined();
    up.conns[0]!.socket.write("abcdefghij");
    res.body!.resume();
    await until(() => rec.bytes === 20);
    expect(rec.trailers).toBeUndefined(); // paused: the end waits for resume()
    res.body!.resume();
    await rec.done;
    expect(rec.text()).toBe("0123456789abcdefghij");
  });
});

describe("abort()", () => {
  test("while connecting: rejects aborted, nothing stays open", async () => {
    const up = upstream(rawUpstream());
    const p = pool(up.port);
    const ex = p.request(GET());
    ex.abort("gone");
    const err = await failure(ex.response);
    expect(err).toMatchObject({ code: "aborted", detail: "gone", sent: false });
    expect(p.active).toBe(0);
    await Bun.sleep(20);
    expect(up.conns.every((c) => c.closed)).toBe(true);
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
  });

  test("while sending a streamed body: the source is cancelled, the connection closed", async () => {
    const up = upstream(httpUpstream(() => ok()));
    const p = pool(up.port);
    const src = manualSource(1000);
    const ex = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: src.source });
    await until(() => src.started);
    src.push(enc.encode("abc"));
    await until(() => up.conns[0]?.received.endsWith("abc") === true);
    ex.abort();
    expect((await failure(ex.response)).code).toBe("aborted");
    expect(src.cancelled).toBe(true);
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("while awaiting the head", async () => {
    const up = upstream(httpUpstream(() => null));
    const p = pool(up.port);
    const ex = p.request(GET());
    await until(() => up.requests.length === 1);
    ex.abort();
    expect(await failure(ex.response)).toMatchObject({ code: "aborted", sent: true });
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("while streaming the body: the body errors with cancelled, never pooled", async () => {
    const up = upstream(stalledBody());
    const p = pool(up.port);
    const ex = p.request(GET());
    const res = await ex.response;
    const rec = recordingSink();
    res.body!.start(rec.sink);
    await until(() => rec.bytes === 3);
    ex.abort();
    expect(rec.error?.code).toBe("cancelled");
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("before the body was started: start() gets the error", async () => {
    const up = upstream(stalledBody());
    const p = pool(up.port);
    const ex = p.request(GET());
    const res = await ex.response;
    ex.abort();
    const rec = recordingSink();
    res.body!.start(rec.sink);
    expect(rec.error?.code).toBe("cancelled");
    expect(rec.bytes).toBe(0);
    expect(p.active).toBe(0);
  });

  test("after the body ended: nothing happens, the connection stays pooled", async () => {
    const up = upstream(httpUpstream(() => ok("done")));
    const p = pool(up.port);
    const ex = p.request(GET());
    const res = await ex.response;
    expect(dec.decode(await readBody(res.body!))).toBe("done");
    ex.abort();
    expect(p.idle).toBe(1);
    expect(up.conns[0]!.closed).toBe(false);
  });
});

describe("a response before the request was sent", () => {
  test("an early 413 stops the body, is delivered, and the connection is not reused", async () => {
    const up = upstream(
      rawUpstream({
        data(c) {
          if (c.state.answered !== true && c.received.includes("\r\n\r\n")) {
            c.state.answered = true;
            c.socket.write("HTTP/1.1 413 Content Too Large\r\ncontent-length: 8\r\n\r\ntoo much");
          }
        },
      }),
    );
    const p = pool(up.port);
    const src = manualSource(10_000_000);
    const ex = p.request({ method: "POST", target: "/upload", fields: ["host", "t"], body: src.source });
    await until(() => src.started);
    src.push(new Uint8Array(1000));
    const res = await ex.response;
    expect(res.status).toBe(413);
    expect(src.cancelled).toBe(true);
    expect(dec.decode(await readBody(res.body!))).toBe("too much");
    expect(p.idle).toBe(0);
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
  });
});

describe("1xx", () => {
  function continueUpstream(answer: "100" | "417" | "none") {
    return upstream(
      httpUpstream((r) => ok(`got ${r.body.byteLength}`), {
        data(c) {
          if (c.state.sent100 === undefined && c.received.includes("\r\n\r\n")) {
            c.state.sent100 = true;
            c.state.headOnly = c.received.endsWith("\r\n\r\n");
            if (answer === "100") setTimeout(() => c.socket.write("HTTP/1.1 100 Continue\r\n\r\n"), 10);
            if (answer === "417") c.socket.write("HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n");
          }
        },
      }),
    );
  }

  test("expectContinue: the body waits for 100 Continue", async () => {
    const { wheel } = manualWheel();
    const up = continueUpstream("100");
    const p = pool(up.port, { wheel });
    const ex = p.request({ method: "PUT", target: "/", fields: ["host", "t"], body: enc.encode("payload"), expectContinue: true });
    const res = await ex.response;
    expect(dec.decode(await readBody(res.body!))).toBe("got 7");
    const c = up.conns[0]!;
    expect(c.state.headOnly).toBe(true);
    expect(c.received).toContain("expect: 100-continue\r\n");
    expect(c.received).toContain("content-length: 7\r\n");
    expect(p.idle).toBe(1);
  });

  test("expectContinue with a streamed body", async () => {
    const { wheel } = manualWheel();
    const up = continueUpstream("100");
    const p = pool(up.port, { wheel });
    const src = manualSource(-1);
    const ex = p.request({ method: "PUT", target: "/", fields: ["host", "t"], body: src.source, expectContinue: true });
    await until(() => up.conns[0]?.state.sent100 === true);
    expect(src.started).toBe(false);
    await until(() => src.started);
    src.push(enc.encode("abc"));
    src.end();
    const res = await ex.response;
    expect(dec.decode(await readBody(res.body!))).toBe("got 3");
  });

  test("expectContinue: without an answer the body goes after 1 s", async () => {
    const { wheel, advance } = manualWheel();
    const up = continueUpstream("none");
    const p = pool(up.port, { wheel });
    const ex = p.request({ method: "PUT", target: "/", fields: ["host", "t"], body: enc.encode("xyz"), expectContinue: true });
    await until(() => up.conns[0]?.state.sent100 === true);
    advance(900);
    await Bun.sleep(10);
    expect(up.requests.length).toBe(0);
    advance(150);
    const res = await ex.response;
    expect(dec.decode(await readBody(res.body!))).toBe("got 3");
  });

  test("expectContinue: a final response instead of 100 -> the body is never sent, no reuse", async () => {
    const { wheel, advance } = manualWheel();
    const up = continueUpstream("417");
    const p = pool(up.port, { wheel });
    const ex = p.request({ method: "PUT", target: "/", fields: ["host", "t"], body: enc.encode("xyz"), expectContinue: true });
    const res = await ex.response;
    expect(res.status).toBe(417);
    expect(res.body).toBeUndefined();
    advance(2000);
    expect(p.idle).toBe(0);
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
    expect(up.conns[0]!.received.endsWith("\r\n\r\n")).toBe(true);
  });

  test("103 Early Hints goes to onInformational; an unasked 100 is ignored", async () => {
    const up = upstream(
      httpUpstream(
        () =>
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" +
          ok("final"),
      ),
    );
    const p = pool(up.port);
    const seen: ResponseHead[] = [];
    const res = await p.request({ ...GET(), onInformational: (h) => seen.push(h) }).response;
    expect(seen.map((h) => h.status)).toEqual([103, 102]);
    expect(seen[0]!.fields).toEqual(["link", "</style.css>; rel=preload"]);
    expect(dec.decode(await readBody(res.body!))).toBe("final");
    expect(p.idle).toBe(1);
  });

  test("101 with upgrade: a tunnel both ways; bytes in the packet of the 101 come first; never pooled", async () => {
    const up = upstream(
      rawUpstream({
        data(c, chunk) {
          if (c.state.upgraded === true) {
            c.socket.write(chunk); // echo
            return;
          }
          if (c.received.includes("\r\n\r\n")) {
            c.state.upgraded = true;
            c.socket.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nHELLO ");
          }
        },
      }),
    );
    const p = pool(up.port);
    const ex = p.request({ method: "GET", target: "/ws", fields: ["host", "t", "upgrade", "echo", "connection", "upgrade"], upgrade: true });
    const res = await ex.response;
    expect(res.status).toBe(101);
    expect(res.framing.kind).toBe("tunnel");
    expect(res.body).toBeUndefined();
    const { source, target } = res.tunnel!;
    const rec = recordingSink();
    source.start(rec.sink);
    await until(() => rec.text() === "HELLO ");
    expect(target.write(enc.encode("ping"))).toBe(true);
    await until(() => rec.text() === "HELLO ping");
    expect(p.active).toBe(1);
    target.end(); // FIN: the echo server closes, the source ends
    await rec.done;
    expect(rec.error).toBeUndefined();
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
  });

  test("a 2xx to CONNECT is a tunnel too", async () => {
    const up = upstream(
      rawUpstream({
        data(c, chunk) {
          if (c.state.open === true) {
            c.socket.write(chunk);
            return;
          }
          if (c.received.includes("\r\n\r\n")) {
            c.state.open = true;
            c.socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          }
        },
      }),
    );
    const p = pool(up.port);
    const res = await p.request({ method: "CONNECT", target: "example.com:443", fields: ["host", "example.com:443"] }).response;
    expect(res.framing.kind).toBe("tunnel");
    const rec = recordingSink();
    res.tunnel!.source.start(rec.sink);
    res.tunnel!.target.write(enc.encode("raw bytes"));
    await until(() => rec.text() === "raw bytes");
    res.tunnel!.target.abort({ code: "cancelled", reason: "test" });
    await rec.done;
    expect(rec.error?.code).toBe("cancelled");
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("a non-101 answer to an upgrade request is an ordinary response", async () => {
    const up = upstream(httpUpstream(() => ok("no upgrade")));
    const p = pool(up.port);
    const res = await p.request({ method: "GET", target: "/ws", fields: ["host", "t", "upgrade", "echo", "connection", "upgrade"], upgrade: true }).response;
    expect(res.tunnel).toBeUndefined();
    expect(dec.decode(await readBody(res.body!))).toBe("no upgrade");
    expect(p.idle).toBe(1);
  });
});

describe("writes", () => {
  /** Bun.connect with the socket's write wrapped to record each call's size. */
  function countingConnect(writes: number[]): typeof Bun.connect {
    return ((opts: Bun.TCPSocketConnectOptions<unknown>) => {
      const handlers = opts.socket;
      return Bun.connect({
        ...opts,
        socket: {
          ...handlers,
          open(socket: Bun.Socket<unknown>) {
            const write = socket.write.bind(socket);
            (socket as { write: typeof write }).write = (data, offset?: number, length?: number) => {
              writes.push(typeof data === "string" ? data.length : (length ?? (data as Uint8Array).byteLength - (offset ?? 0)));
              return write(data, offset, length);
            };
            return handlers.open?.(socket);
          },
        },
      } as Bun.TCPSocketConnectOptions<unknown>);
    }) as unknown as typeof Bun.connect;
  }

  test("the head and a small body go out in one write", async () => {
    const writes: number[] = [];
    const up = upstream(httpUpstream((r) => ok(String(r.body.byteLength))));
    const p = pool(up.port, { connect: countingConnect(writes) });
    const body = new Uint8Array(8000).fill(0x61);
    const res = await p.request({ method: "POST", target: "/", fields: ["host", "t"], body }).response;
    expect(dec.decode(await readBody(res.body!))).toBe("8000");
    expect(writes.length).toBe(1);
    expect(writes[0]).toBeGreaterThan(8000);
    // A GET: one write too.
    writes.length = 0;
    await readBody((await p.request(GET()).response).body!);
    expect(writes.length).toBe(1);
  });

  test("a large Uint8Array body is written without a copy after the head", async () => {
    const writes: number[] = [];
    const up = upstream(httpUpstream((r) => ok(String(r.body.byteLength))));
    const p = pool(up.port, { connect: countingConnect(writes) });
    const body = new Uint8Array(3 << 20).fill(0x62);
    const res = await p.request({ method: "POST", target: "/", fields: ["host", "t"], body }).response;
    expect(dec.decode(await readBody(res.body!))).toBe(String(3 << 20));
    expect(up.requests[0]!.body.every((b) => b === 0x62)).toBe(true);
    expect(p.idle).toBe(1);
  });
});

describe("https upstream", () => {
  let dir: string | undefined;
  let tls: { key: string; cert: string } | undefined;
  beforeAll(() => {
    if (Bun.which("openssl") === null) {
      if (process.env.CI) throw new Error("openssl is required in CI for the https upstream test");
      console.warn("skipping the https upstream tests: openssl is not installed");
      return;
    }
    dir = mkdtempSync(join(tmpdir(), "ficus-client-tls-"));
    const r = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stderr: "pipe" },
    );
    if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
    tls = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test("requests over TLS, kept alive; an unverified certificate is refused by default", async () => {
    if (tls === undefined) return;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls,
      async fetch(req, srv) {
        return new Response(`secure ${req.method} ${(await req.arrayBuffer()).byteLength}`, { headers: { "x-client-port": String(srv.requestIP(req)?.port) } });
      },
    });
    defer(() => server.stop(true));
    const p = pool(server.port!, { tls: { rejectUnauthorized: false } });
    const ports = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await p.request({ method: "POST", target: "/", fields: ["host", "localhost"], body: enc.encode("12345") }).response;
      expect(res.status).toBe(200);
      expect(dec.decode(await readBody(res.body!))).toBe("secure POST 5");
      ports.add(res.fields[res.fields.findIndex((f) => f.toLowerCase() === "x-client-port") + 1]!);
    }
    expect(ports.size).toBe(1); // one connection, kept alive
    expect(p.idle).toBe(1);

    const strict = pool(server.port!, { tls: true });
    const err = await failure(strict.request(GET()).response);
    expect(err.code).toBe("connect_failed");
    expect(err.detail).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(strict.active).toBe(0);
  });
});
