/**
 * Test helpers for the upstream client: raw upstreams on Bun.listen that
 * write exact bytes, an HTTP responder that reads requests with the codec,
 * a manual timer wheel, and body sources/sinks that record what happened.
 */
import { afterEach } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { ConnectionPool, type PoolOptions } from "../../../src/http1/client.ts";
import type { BodyError, BodySink, BodySource } from "../../../src/http1/body.ts";
import { ChunkedDecoder } from "../../../src/http1/chunked.ts";
import { requestFraming } from "../../../src/http1/framing.ts";
import { type HeadProgress, parseRequestHead, type RequestHead } from "../../../src/http1/head.ts";
import { TimerWheel } from "../../../src/http1/timers.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder("latin1");

/** One connection accepted by a raw upstream. */
export interface RawConn {
  readonly id: number;
  socket: Socket<RawConn>;
  /** Everything received, as latin-1 text. */
  received: string;
  /** Data events received (how the client's writes were cut). */
  packets: Uint8Array[];
  closed: boolean;
  /** Free-form state for handlers. */
  state: Record<string, unknown>;
}

export interface RawUpstream {
  readonly port: number;
  readonly conns: RawConn[];
  stop(): void;
}

export interface RawHandlers {
  open?(c: RawConn): void;
  data?(c: RawConn, chunk: Uint8Array): void;
  close?(c: RawConn): void;
  drain?(c: RawConn): void;
}

/** A Bun.listen upstream on 127.0.0.1 port 0; every connection is recorded. */
export function rawUpstream(handlers: RawHandlers = {}): RawUpstream {
  const conns: RawConn[] = [];
  let ids = 0;
  const socket: Bun.SocketHandler<RawConn, "uint8array"> = {
    binaryType: "uint8array",
    open(socket) {
      const c: RawConn = { id: ids++, socket, received: "", packets: [], closed: false, state: {} };
      socket.data = c;
      conns.push(c);
      handlers.open?.(c);
    },
    data(socket, chunk) {
      const c = socket.data;
      c.received += dec.decode(chunk);
      c.packets.push(chunk);
      handlers.data?.(c, chunk);
    },
    drain(socket) {
      handlers.drain?.(socket.data);
    },
    close(socket) {
      const c = socket.data;
      if (c === undefined) return;
      c.closed = true;
      handlers.close?.(c);
    },
  };
  const listener: TCPSocketListener<RawConn> = Bun.listen<RawConn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: socket as unknown as Bun.SocketHandler<RawConn>,
  });
  return {
    port: listener.port,
    conns,
    stop() {
      listener.stop(true);
    },
  };
}

/** A request read by `httpUpstream`. */
export interface SeenRequest {
  head: RequestHead;
  body: Uint8Array;
  trailers: string[];
  conn: RawConn;
  /** Its index on its connection. */
  index: number;
}

/**
 * An upstream that reads requests (head, then a Content-Length or chunked
 * body) and answers each with `respond`'s bytes (nothing when it returns
 * null: the test answers later through `conn.socket`).
 */
export function httpUpstream(respond: (req: SeenRequest) => string | Uint8Array | null, more: RawHandlers = {}): RawUpstream & { requests: SeenRequest[] } {
  const requests: SeenRequest[] = [];
  type St = { buf: Uint8Array; len: number; progress?: HeadProgress; head?: RequestHead; need: number; chunked?: ChunkedDecoder; parts: Uint8Array[]; count: number };
  const up = rawUpstream({
    ...more,
    data(c, chunk) {
      const st = (c.state.http ??= { buf: new Uint8Array(0), len: 0, need: 0, parts: [], count: 0 }) as St;
      const joined = new Uint8Array(st.len + chunk.byteLength);
      joined.set(st.buf.subarray(0, st.len));
      joined.set(chunk, st.len);
      st.buf = joined;
      st.len = joined.byteLength;
      let at = 0;
      for (;;) {
        if (st.head === undefined) {
          const r = parseRequestHead(st.buf, at, st.len, undefined, st.progress);
          if (r.kind === "incomplete") {
            st.progress = r.progress;
            break;
          }
          st.progress = undefined;
          if (r.kind === "error") throw new Error(`test upstream: bad request ${r.code}`);
          st.head = r.head;
          at = r.next;
          const f = requestFraming(r.head);
          if (f.kind === "error") throw new Error(`test upstream: bad framing ${f.code}`);
          st.need = f.kind === "length" ? f.length : 0;
          st.chunked = f.kind === "chunked" ? new ChunkedDecoder() : undefined;
          st.parts = [];
        }
        let trailers: string[] = [];
        if (st.chunked !== undefined) {
          const r = st.chunked.push(st.buf, at, st.len);
          for (const p of r.chunks) st.parts.push(p.slice());
          at += r.consumed;
          if (r.error) throw new Error(`test upstream: bad chunked body ${r.error.code}`);
          if (!r.done) break;
          trailers = r.trailers ?? [];
        } else {
          const n = Math.min(st.need, st.len - at);
          if (n > 0) st.parts.push(st.buf.slice(at, at + n));
          at += n;
          st.need -= n;
          if (st.need > 0) break;
        }
        const body = Buffer.concat(st.parts);
        const req: SeenRequest = { head: st.head, body, trailers, conn: c, index: st.count++ };
        st.head = undefined;
        requests.push(req);
        const answer = respond(req);
        if (answer !== null) c.socket.write(answer);
        if (at >= st.len) break;
      }
      st.buf = st.buf.slice(at, st.len);
      st.len = st.buf.byteLength;
      more.data?.(c, chunk);
    },
  });
  return Object.assign(up, { requests });
}

/** A fixed response with a Content-Length body. */
export function ok(body = "ok", fields = ""): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${fields}\r\n${body}`;
}

/** Waits until `cond()` holds (checking every few ms), or fails after `ms`. */
export async function until(cond: () => boolean, ms = 2000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** A timer wheel on a manual clock: `advance(ms)` moves it and fires what is due. */
export function manualWheel(tickMs = 10) {
  const clock = { now: 1000 };
  const wheel = new TimerWheel({ tickMs, now: () => clock.now, scheduler: null });
  return {
    wheel,
    advance(ms: number) {
      const to = clock.now + ms;
      while (clock.now < to) {
        clock.now = Math.min(to, clock.now + tickMs);
        wheel.tick();
      }
    },
  };
}

/** A sink that records everything. */
export function recordingSink(onData?: (chunk: Uint8Array) => boolean | undefined) {
  const parts: Uint8Array[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const rec = {
    parts,
    bytes: 0,
    trailers: undefined as readonly string[] | undefined,
    error: undefined as BodyError | undefined,
    done,
    text: () => dec.decode(Buffer.concat(parts)),
    sink: {
      onData(chunk: Uint8Array) {
        parts.push(chunk.slice());
        rec.bytes += chunk.byteLength;
        return onData?.(chunk);
      },
      onEnd(trailers: readonly string[]) {
        rec.trailers = trailers;
        resolveDone();
      },
      onError(error: BodyError) {
        rec.error = error;
        resolveDone();
      },
    } satisfies BodySink,
  };
  return rec;
}

/**
 * A request body source driven by the test: `push` returns what the sink
 * said, `end`/`fail` finish it; `paused` and `resumes` show backpressure.
 */
export function manualSource(length = -1) {
  let sink: BodySink | undefined;
  const src = {
    paused: false,
    resumes: 0,
    cancelled: false,
    started: false,
    source: {
      length,
      start(s: BodySink) {
        sink = s;
        src.started = true;
      },
      pause() {
        src.paused = true;
      },
      resume() {
        src.paused = false;
        src.resumes++;
      },
      cancel() {
        src.cancelled = true;
      },
    } satisfies BodySource,
    push(chunk: Uint8Array): boolean {
      const r = (sink as BodySink).onData(chunk);
      if (r === false) src.paused = true;
      return r !== false;
    },
    end(trailers: string[] = []) {
      (sink as BodySink).onEnd(trailers);
    },
    fail(code = "closed") {
      (sink as BodySink).onError({ code, reason: "test" });
    },
  };
  return src;
}

/**
 * What every client test file sets up: upstreams and pools that are stopped and closed after each test, and a
 * plain GET. Call once at the top of a test file.
 */
export function clientTestScope() {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const f of cleanup.splice(0)) f();
  });
  return {
    /** Runs `fn` after the test. */
    defer(fn: () => void): void {
      cleanup.push(fn);
    },
    upstream<U extends RawUpstream>(u: U): U {
      cleanup.push(() => u.stop());
      return u;
    },
    pool(port: number, opts: Partial<PoolOptions> = {}): ConnectionPool {
      const p = new ConnectionPool({ host: "127.0.0.1", port, ...opts });
      cleanup.push(() => p.close());
      return p;
    },
  };
}

export const GET = (target = "/") => ({ method: "GET", target, fields: ["host", "test"] });
