/**
 * Bodies through the upstream client on real sockets: response bodies
 * (chunked with trailers, cut, malformed, 64 MiB with flat memory,
 * pause/resume reaching the socket, cancel) and request bodies (backpressure
 * from a BodySource, chunked re-framing with trailers, a failing source).
 */
import { describe, expect, test } from "bun:test";
import { readBody } from "../../../src/http1/body.ts";
import { ClientError } from "../../../src/http1/client.ts";
import { dec, enc, httpUpstream, manualSource, ok, rawUpstream, recordingSink, until, clientTestScope, GET } from "./client-helpers.ts";

const { upstream, pool } = clientTestScope();

/** Writes `parts` one per macrotask, so each arrives as its own read. */
function writeSlowly(socket: { write(s: string): number }, parts: string[]): void {
  let i = 0;
  const next = () => {
    if (i < parts.length) {
      socket.write(parts[i++]!);
      setTimeout(next, 1);
    }
  };
  next();
}

describe("response bodies", () => {
  const CHUNKED = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-checksum: 42\r\nx-more: a\r\n\r\n";

  test("chunked with trailers, in one packet: data, trailers, pooled", async () => {
    const up = upstream(httpUpstream(() => CHUNKED));
    const p = pool(up.port);
    const res = await p.request(GET()).response;
    expect(res.framing.kind).toBe("chunked");
    expect(res.body!.length).toBe(-1);
    const rec = recordingSink();
    res.body!.start(rec.sink);
    await rec.done;
    expect(rec.text()).toBe("hello world");
    expect(rec.trailers).toEqual(["x-checksum", "42", "x-more", "a"]);
    expect(p.idle).toBe(1);
  });

  test("chunked, cut into pieces anywhere", async () => {
    const cuts = [1, 7, 20, 45, 50, 53, 60, 70, 80];
    const parts: string[] = [];
    let at = 0;
    for (const c of cuts) {
      parts.push(CHUNKED.slice(at, c));
      at = c;
    }
    parts.push(CHUNKED.slice(at));
    const up = upstream(
      httpUpstream((r) => {
        writeSlowly(r.conn.socket, parts);
        return null;
      }),
    );
    const p = pool(up.port);
    const rec = recordingSink();
    (await p.request(GET()).response).body!.start(rec.sink);
    await rec.done;
    expect(rec.text()).toBe("hello world");
    expect(rec.trailers).toEqual(["x-checksum", "42", "x-more", "a"]);
    expect(p.idle).toBe(1);
  });

  test("a malformed chunk: the body errors with the chunked code, the connection is closed", async () => {
    const up = upstream(httpUpstream(() => "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"));
    const p = pool(up.port);
    const rec = recordingSink();
    (await p.request(GET()).response).body!.start(rec.sink);
    await rec.done;
    expect(rec.text()).toBe("hello");
    expect(rec.error?.code).toBe("bad_chunk_size");
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
    await until(() => up.conns[0]!.closed);
  });

  test("a Content-Length body cut by the upstream's close: error closed", async () => {
    const up = upstream(
      httpUpstream((r) => {
        r.conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
        setTimeout(() => r.conn.socket.end(), 5);
        return null;
      }),
    );
    const p = pool(up.port);
    const rec = recordingSink();
    (await p.request(GET()).response).body!.start(rec.sink);
    await rec.done;
    expect(rec.text()).toBe("abc");
    expect(rec.error?.code).toBe("closed");
    expect(p.active).toBe(0);
  });

  test("a body that arrived whole before start() is delivered at start; the connection was already pooled", async () => {
    const up = upstream(httpUpstream(() => ok("early bytes")));
    const p = pool(up.port);
    const res = await p.request(GET()).response;
    expect(p.idle).toBe(1);
    expect(dec.decode(await readBody(res.body!))).toBe("early bytes");
  });

  test("64 MiB Content-Length streamed through with flat memory", async () => {
    const SIZE = 64 << 20;
    const piece = new Uint8Array(1 << 20).fill(0x78);
    const up = upstream(
      rawUpstream({
        data(c) {
          if (c.state.sending !== undefined || !c.received.includes("\r\n\r\n")) return;
          c.state.sending = 0;
          c.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${SIZE}\r\n\r\n`);
          pump(c);
        },
        drain(c) {
          pump(c);
        },
      }),
    );
    /** Writes until the socket is full; drain calls it again. */
    function pump(c: { socket: { write(b: Uint8Array, o?: number, l?: number): number }; state: Record<string, unknown> }) {
      let sent = c.state.sending as number;
      while (sent < SIZE) {
        const at = sent % piece.byteLength;
        const n = c.socket.write(piece, at, piece.byteLength - at);
        sent += Math.max(n, 0);
        if (n < piece.byteLength - at) break;
      }
      c.state.sending = sent;
    }
    const p = pool(up.port);
    Bun.gc(true);
    const before = process.memoryUsage.rss();
    let peak = before;
    let received = 0;
    let pieces = 0;
    const res = await p.request(GET()).response;
    expect(res.body!.length).toBe(SIZE);
    await new Promise<void>((resolve, reject) => {
      res.body!.start({
        onData(chunk) {
          received += chunk.byteLength;
          // Each socket read is a fresh buffer: collect them, so the peak is
          // what is alive (a buffered body would be), not garbage waiting.
          if (++pieces % 64 === 0) {
            Bun.gc(true);
            peak = Math.max(peak, process.memoryUsage.rss());
          }
          return true;
        },
        onEnd: () => resolve(),
        onError: (e) => reject(new Error(e.code)),
      });
    });
    expect(received).toBe(SIZE);
    expect(p.idle).toBe(1);
    const growth = peak - before;
    // Buffering the body would keep 64 MiB alive; streaming keeps a few reads.
    expect(growth).toBeLessThan(16 << 20);
  }, 20_000);

  test("pause() stops reading from the socket (the upstream meets backpressure); resume() continues", async () => {
    const SIZE = 32 << 20;
    const up = upstream(
      rawUpstream({
        data(c) {
          if (c.state.wrote !== undefined) return;
          c.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${SIZE}\r\n\r\n`);
          c.state.wrote = c.socket.write(new Uint8Array(SIZE));
        },
        drain(c) {
          const rest = SIZE - (c.state.wrote as number);
          if (rest > 0) c.state.wrote = (c.state.wrote as number) + Math.max(0, c.socket.write(new Uint8Array(rest)));
        },
      }),
    );
    const p = pool(up.port);
    const res = await p.request(GET()).response;
    let got = 0;
    let paused = false;
    let once = false;
    let ended = false;
    res.body!.start({
      onData(chunk) {
        expect(paused).toBe(false);
        got += chunk.byteLength;
        if (got > 1 << 20 && !once) {
          once = true;
          paused = true;
          return false;
        }
        return true;
      },
      onEnd: () => {
        ended = true;
      },
      onError: () => {},
    });
    await until(() => paused);
    const atPause = got;
    await Bun.sleep(30);
    expect(got).toBe(atPause);
    // The upstream could not write everything: our socket stopped reading.
    expect(up.conns[0]!.state.wrote as number).toBeLessThan(SIZE);
    paused = false;
    res.body!.resume();
    await until(() => ended, 5000, "the end");
    expect(got).toBe(SIZE);
    expect(p.idle).toBe(1);
  });

  test("cancel() before the end destroys the connection; after the end it changes nothing", async () => {
    const up = upstream(
      httpUpstream((r) => {
        if (r.head.target === "/partial") {
          r.conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
          return null;
        }
        return ok("whole");
      }),
    );
    const p = pool(up.port);
    const res = await p.request(GET("/partial")).response;
    const rec = recordingSink();
    res.body!.start(rec.sink);
    await until(() => rec.bytes === 3);
    res.body!.cancel();
    expect(p.active).toBe(0);
    expect(p.idle).toBe(0);
    await until(() => up.conns[0]!.closed);
    expect(rec.error).toBeUndefined(); // a cancelled sink hears nothing more

    const whole = await p.request(GET("/whole")).response;
    expect(dec.decode(await readBody(whole.body!))).toBe("whole");
    whole.body!.cancel();
    expect(p.idle).toBe(1);
  });
});

describe("request bodies", () => {
  test("backpressure: the source is paused when the socket is full and resumed on drain", async () => {
    const TOTAL = 64 << 20;
    const up = upstream(
      httpUpstream((r) => ok(String(r.body.byteLength)), {
        open(c) {
          c.socket.pause(); // not reading: the client's writes back up
        },
      }),
    );
    const p = pool(up.port);
    const src = manualSource(TOTAL);
    const ex = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: src.source });
    await until(() => src.started);
    const piece = new Uint8Array(1 << 20).fill(0x41);
    let pushed = 0;
    while (pushed < TOTAL && src.push(piece)) pushed += piece.byteLength;
    expect(src.paused).toBe(true);
    pushed += piece.byteLength; // the piece that filled the socket was kept
    expect(pushed).toBeLessThan(TOTAL);
    up.conns[0]!.socket.resume();
    // Push the rest, one piece per resume, as a source would.
    while (pushed < TOTAL) {
      const resumes = src.resumes;
      if (src.paused) await until(() => src.resumes > resumes, 5000, "resume on drain");
      while (pushed < TOTAL && !src.paused) {
        src.push(piece);
        pushed += piece.byteLength;
      }
    }
    src.end();
    const res = await ex.response;
    expect(dec.decode(await readBody(res.body!))).toBe(String(TOTAL));
    expect(up.requests[0]!.body.byteLength).toBe(TOTAL);
    expect(p.idle).toBe(1);
  }, 20_000);

  test("a source of unknown length is re-framed as chunked, trailers sent", async () => {
    const up = upstream(httpUpstream((r) => ok(`${r.body.byteLength} ${JSON.stringify(r.trailers)}`)));
    const p = pool(up.port);
    const src = manualSource(-1);
    const ex = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: src.source });
    await until(() => src.started);
    src.push(enc.encode("small"));
    src.push(new Uint8Array(0)); // an empty piece is not a last chunk
    src.push(new Uint8Array(40_000).fill(0x42)); // large: header, data, CRLF
    src.end(["x-checksum", "abc"]);
    const res = await ex.response;
    expect(dec.decode(await readBody(res.body!))).toBe('40005 ["x-checksum","abc"]');
    const seen = up.conns[0]!.received;
    expect(seen).toContain("transfer-encoding: chunked\r\n");
    expect(seen).toContain("\r\n5\r\nsmall\r\n9c40\r\n");
    expect(seen.endsWith("0\r\nx-checksum: abc\r\n\r\n")).toBe(true);
    expect(up.requests[0]!.body.subarray(5).every((b) => b === 0x42)).toBe(true);
    expect(p.idle).toBe(1);
  });

  test("a source that fails mid-body (chunked): no last chunk, the connection closed, aborted with its code", async () => {
    const up = upstream(rawUpstream());
    const p = pool(up.port);
    const src = manualSource(-1);
    const ex = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: src.source });
    await until(() => src.started);
    src.push(enc.encode("part"));
    src.fail("client_gone");
    const err = (await ex.response.catch((e) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: "aborted", detail: "client_gone", sent: true });
    expect(p.active).toBe(0);
    await until(() => up.conns[0]!.closed);
    const seen = up.conns[0]!.received;
    expect(seen.endsWith("4\r\npart\r\n")).toBe(true);
    expect(seen).not.toContain("0\r\n\r\n");
  });

  test("a source that fails mid-body (Content-Length): fewer bytes, then the close", async () => {
    const up = upstream(rawUpstream());
    const p = pool(up.port);
    const src = manualSource(10);
    const ex = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: src.source });
    await until(() => src.started);
    src.push(enc.encode("abc"));
    src.fail("closed");
    expect(((await ex.response.catch((e) => e)) as ClientError).detail).toBe("closed");
    await until(() => up.conns[0]!.closed);
    expect(up.conns[0]!.received.endsWith("content-length: 10\r\n\r\nabc")).toBe(true);
  });

  test("a source that breaks its length: aborted (body_too_short, body_too_long)", async () => {
    const up = upstream(rawUpstream());
    const p = pool(up.port);
    const short = manualSource(5);
    const ex1 = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: short.source });
    await until(() => short.started);
    short.push(enc.encode("abc"));
    short.end();
    expect(((await ex1.response.catch((e) => e)) as ClientError).detail).toBe("body_too_short");
    const long = manualSource(2);
    const ex2 = p.request({ method: "POST", target: "/", fields: ["host", "t"], body: long.source });
    await until(() => long.started);
    expect(long.push(enc.encode("abc"))).toBe(false);
    expect(((await ex2.response.catch((e) => e)) as ClientError).detail).toBe("body_too_long");
    expect(long.cancelled).toBe(true);
    expect(p.active).toBe(0);
  });

  test("a Content-Length source: written as given, the connection reused", async () => {
    const up = upstream(httpUpstream((r) => ok(dec.decode(r.body))));
    const p = pool(up.port);
    for (const word of ["first", "second"]) {
      const src = manualSource(word.length);
      const ex = p.request({ method: "PUT", target: "/", fields: ["host", "t"], body: src.source });
      await until(() => src.started);
      src.push(enc.encode(word.slice(0, 2)));
      src.push(enc.encode(word.slice(2)));
      src.end();
      expect(dec.decode(await readBody((await ex.response).body!))).toBe(word);
    }
    expect(up.conns.length).toBe(1);
    expect(up.conns[0]!.received).toContain(`content-length: 5\r\n`);
  });
});
