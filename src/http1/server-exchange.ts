/**
 * One request/response exchange of the HTTP/1.1 server: the request as the
 * handler sees it, its body as a BodySource fed from the connection's input
 * (Content-Length or chunked, with backpressure and the body timeout), and
 * the response as a BodyTarget that frames what the handler writes
 * (Content-Length checked, chunked, or close-delimited for HTTP/1.0).
 *
 * The response head is held after writeHead until the first body bytes or
 * end(), so the head and a small body leave in one socket write, and so the
 * Connection field can say what the server will really do (RFC 9112 §9.3:
 * close when the request body has not all arrived, on shutdown, for
 * HTTP/1.0 without keep-alive, after a close-delimited body).
 */
import type { PeerCertificate } from "node:tls";
import type { BodyError, BodySink, BodySource, BodyTarget } from "./body.ts";
import type { ChunkedDecoder } from "./chunked.ts";
import type { RequestHead } from "./head.ts";
import { nameIs } from "./fields.ts";
import { chunkHeader, LAST_CHUNK, lastChunk, STATUS_REASONS } from "./serialize.ts";
import { digits, encodeHead, HEAD_ROOM, headSize, putAscii, putNumber } from "./server-head.ts";
import type { ServerRequest, ServerResponse } from "./server.ts";
import type { AbortReason, Connection } from "./server-connection.ts";

const NO_TRAILERS: readonly string[] = Object.freeze([]);
const CRLF = "\r\n";

/** A large chunk: its size line, the data as it is, CRLF (three writes, no copy). True when all went out. */
function chunkBytesLarge(conn: Connection, data: Uint8Array): boolean {
  const a = conn.send(chunkHeader(data.byteLength));
  const b = conn.send(data);
  return conn.send(CRLF) && a && b;
}

const CANCELLED: BodyError = Object.freeze({ code: "cancelled", reason: "the server answered the request itself" });
const NOT_READ: BodyError = Object.freeze({ code: "cancelled", reason: "the response finished before the body was read" });

/** The request handed to the handler. */
export class Request implements ServerRequest {
  readonly method: string;
  readonly target: string;
  readonly version: 0 | 1;
  readonly fields: readonly string[];
  readonly authority: string;
  readonly absoluteForm: boolean;
  readonly tls: boolean;
  readonly expectContinue: boolean;
  readonly upgrade: string | undefined;
  readonly body: RequestBody | undefined;
  readonly receivedAt: number;
  /** @internal */
  readonly conn: Connection;

  constructor(conn: Connection, head: RequestHead, authority: string, body: RequestBody | undefined, expectContinue: boolean, upgrade: string | undefined) {
    this.method = head.method;
    this.target = head.target;
    this.version = head.version;
    this.fields = head.fields;
    this.authority = authority;
    this.absoluteForm = head.target.charCodeAt(0) !== 0x2f && head.target !== "*" && head.method !== "CONNECT";
    this.tls = conn.server.tls;
    this.expectContinue = expectContinue;
    this.upgrade = upgrade;
    this.body = body;
    this.receivedAt = performance.now();
    this.conn = conn;
  }

  get peer(): { readonly address: string; readonly port: number } {
    return this.conn.peer;
  }

  get peerCertificate(): PeerCertificate | undefined {
    return this.conn.peerCertificate;
  }
}

// RequestBody states.
const B_NEW = 0;
const B_FLOWING = 1;
const B_PAUSED = 2;
/** Cancelled, or the exchange ended: bytes are read and dropped. */
const B_DISCARD = 3;
/** onEnd or onError delivered. */
const B_DONE = 4;

/**
 * A request body read from the connection. Bytes are taken from the socket
 * only while flowing: before start() and while paused they stay where they
 * arrived (the socket is paused), chunked data is decoded only when it can
 * be delivered.
 */
export class RequestBody implements BodySource {
  readonly length: number;
  readonly conn: Connection;
  readonly decoder: ChunkedDecoder | undefined;
  /** Content-Length bytes still to come. */
  remaining: number;
  state = B_NEW;
  sink: BodySink | undefined = undefined;
  /** The whole body has been read from the input (its framing is complete). */
  received = false;
  /** The body is broken (bad chunked, timeout, closed). */
  failed = false;
  /** The exchange is over: this object no longer touches the connection. */
  detached = false;
  exchange: ServerExchange | undefined = undefined;
  /** Chunks decoded while paused, to deliver on resume. */
  pending: Uint8Array[] | undefined = undefined;
  /** Trailers of a body that ended while paused. */
  endTrailers: readonly string[] | undefined = undefined;
  /** An error that came before start(). */
  pendingError: BodyError | undefined = undefined;
  /** flushPending is running. */
  flushing = false;

  constructor(conn: Connection, length: number, decoder: ChunkedDecoder | undefined) {
    this.conn = conn;
    this.length = length;
    this.remaining = length < 0 ? 0 : length;
    this.decoder = decoder;
  }

  /** Input should be fed to feed() now. */
  wantsInput(): boolean {
    return (this.state === B_FLOWING || this.state === B_DISCARD) && !this.received && !this.failed;
  }

  isPaused(): boolean {
    return this.state === B_PAUSED && !this.received;
  }

  /** All of the body is in: read, or waiting unread in the connection's input. */
  arrived(): boolean {
    if (this.received) return !this.failed;
    return this.decoder === undefined && this.remaining <= this.conn.buffered;
  }

  /** Takes body bytes from the connection's input (at least one is there). */
  feed(): void {
    const conn = this.conn;
    const buf = conn.inBuf!;
    const start = conn.inStart;
    const end = conn.inEnd;
    const decoder = this.decoder;
    if (decoder === undefined) {
      const take = Math.min(end - start, this.remaining);
      const view = buf.subarray(start, start + take);
      this.remaining -= take;
      conn.consume(take);
      if (this.remaining === 0) {
        this.received = true;
        conn.disarmBodyTimer();
      } else if (this.state === B_FLOWING) {
        conn.armBodyTimer();
      }
      if (this.state === B_FLOWING) this.deliver(view);
      if (this.received) this.deliverEnd(NO_TRAILERS);
      return;
    }
    const r = decoder.push(buf, start, end);
    conn.consume(r.consumed);
    if (this.state === B_FLOWING || this.state === B_PAUSED) {
      for (let i = 0; i < r.chunks.length; i++) this.deliver(r.chunks[i]!);
    }
    if (r.error !== undefined) {
      this.failed = true;
      conn.closeAfter = true;
      conn.disarmBodyTimer();
      this.fail({ code: r.error.code, reason: r.error.reason });
      const ex = this.exchange;
      if (ex !== undefined && conn.exchange === ex && !ex.headSent) conn.respondError(400, r.error.code, r.error.reason);
      return;
    }
    if (r.done) {
      this.received = true;
      conn.disarmBodyTimer();
      this.deliverEnd(r.trailers ?? NO_TRAILERS);
    } else if (this.state === B_FLOWING) {
      conn.armBodyTimer();
    }
  }

  /** Hands one piece to the sink, or queues it while paused (or while queued pieces go first). */
  deliver(view: Uint8Array): void {
    if (this.state === B_FLOWING && this.pending === undefined && !this.flushing) {
      this.push(view);
    } else if (this.state === B_FLOWING || this.state === B_PAUSED) {
      (this.pending ??= []).push(view);
    }
  }

  push(view: Uint8Array): void {
    let more: boolean | undefined;
    try {
      more = this.sink!.onData(view);
    } catch (error) {
      this.sinkThrew(error);
      return;
    }
    if (more === false && this.state === B_FLOWING) this.pause();
  }

  /** Delivers queued pieces (and a queued end) while flowing. */
  flushPending(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.state === B_FLOWING && this.pending !== undefined) {
        const view = this.pending.shift()!;
        if (this.pending.length === 0) this.pending = undefined;
        this.push(view);
      }
    } finally {
      this.flushing = false;
    }
    if (this.state === B_FLOWING && this.pending === undefined && this.endTrailers !== undefined) {
      const t = this.endTrailers;
      this.endTrailers = undefined;
      this.deliverEnd(t);
    }
  }

  deliverEnd(trailers: readonly string[]): void {
    if (this.state === B_PAUSED || (this.state === B_FLOWING && (this.pending !== undefined || this.flushing))) {
      this.endTrailers = trailers;
      return;
    }
    if (this.state !== B_FLOWING) return;
    this.state = B_DONE;
    const sink = this.sink!;
    this.sink = undefined;
    try {
      sink.onEnd(trailers);
    } catch (error) {
      this.sinkThrew(error);
    }
  }

  /** The body is cut (bad chunked, timeout, client gone, cancelled by the server). */
  fail(error: BodyError): void {
    this.failed = true;
    if (!this.detached) this.conn.disarmBodyTimer();
    if (this.state === B_NEW) {
      this.pendingError ??= error;
      return;
    }
    if (this.state === B_FLOWING || this.state === B_PAUSED) {
      this.state = B_DONE;
      this.pending = undefined;
      this.endTrailers = undefined;
      const sink = this.sink!;
      this.sink = undefined;
      try {
        sink.onError(error);
      } catch (e) {
        this.sinkThrew(e);
      }
      return;
    }
    if (this.state === B_DISCARD) this.state = B_DONE;
  }

  sinkThrew(error: unknown): void {
    const ex = this.exchange;
    if (ex !== undefined && !this.detached) this.conn.handlerFailed(ex, error, "body");
    else this.conn.server.onError(error, "body");
  }

  // ---- BodySource ----

  start(sink: BodySink): void {
    if (this.state !== B_NEW) {
      if (this.state === B_DISCARD || this.detached) {
        sink.onError(this.pendingError ?? NOT_READ);
        return;
      }
      throw new Error("http1 server: the request body was already started");
    }
    this.sink = sink;
    this.state = B_FLOWING;
    if (this.pendingError !== undefined) {
      this.fail(this.pendingError);
      return;
    }
    const conn = this.conn;
    const ex = this.exchange;
    if (ex !== undefined && conn.exchange === ex && ex.req.expectContinue && !ex.headSent && !ex.continueSent && !this.received) {
      ex.continueSent = true;
      conn.sendContinue();
    }
    if (!this.received) conn.armBodyTimer();
    conn.process();
  }

  pause(): void {
    if (this.state !== B_FLOWING) return;
    this.state = B_PAUSED;
    if (this.detached) return;
    this.conn.disarmBodyTimer();
    this.conn.updateReading();
  }

  resume(): void {
    if (this.state !== B_PAUSED) return;
    this.state = B_FLOWING;
    this.flushPending();
    if (this.state !== B_FLOWING || this.detached || this.received) return;
    this.conn.armBodyTimer();
    this.conn.process();
  }

  cancel(): void {
    if (this.state === B_DONE || this.state === B_DISCARD) return;
    this.discard();
    if (this.detached) return;
    if (!this.received) this.conn.closeAfter = true;
    this.conn.disarmBodyTimer();
    this.conn.process();
  }

  /** Nobody reads the rest: drop it as it comes (the consumer's cancel: no more calls to its sink). */
  discard(): void {
    if (this.state === B_DONE) return;
    this.state = B_DISCARD;
    this.sink = undefined;
    this.pending = undefined;
    this.endTrailers = undefined;
  }

  /** The response finished before the body was read: a sink still attached hears so, the rest is dropped. */
  abandon(): void {
    const sink = this.sink;
    const reading = this.state === B_FLOWING || this.state === B_PAUSED;
    this.discard();
    if (reading && sink !== undefined) {
      try {
        sink.onError(NOT_READ);
      } catch (error) {
        this.conn.server.onError(error, "body");
      }
    }
  }

  /** The exchange is over: later calls touch nothing; a start() still to come gets an error. */
  detach(): void {
    if (this.state === B_NEW) this.pendingError ??= NOT_READ;
    else if (this.state !== B_DONE) this.discard();
    this.detached = true;
  }
}

// Response framing.
const F_NONE = 0;
const F_LENGTH = 1;
const F_CHUNKED = 2;
/** Close-delimited: a "chunked" body for an HTTP/1.0 client. */
const F_CLOSE = 3;

function checkFields(fields: readonly string[]): void {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const n = name.length;
    if (
      (n === 14 && nameIs(name, "content-length")) ||
      (n === 17 && nameIs(name, "transfer-encoding")) ||
      (n === 10 && nameIs(name, "connection"))
    ) {
      throw new TypeError(`http1 server: ${name} is written by the server (use the framing argument, closeAfter())`);
    }
  }
}

/** Below this, a head and body bytes (or a chunk and its framing) are copied into one buffer for one socket write. */
const COALESCE_MAX = 64 * 1024;
/** A Content-Length body up to this size gets room in the head's buffer. */
const INLINE_MAX = 16 * 1024;

const CONNECTION_CLOSE = "connection: close\r\n";
const CONNECTION_KEEP_ALIVE = "connection: keep-alive\r\n";
const CONNECTION_UPGRADE = "connection: upgrade\r\n";
const TRANSFER_CHUNKED = "transfer-encoding: chunked\r\n";
const CONTENT_LENGTH = "content-length: ";

/** One chunk of a chunked body, framing included, in one buffer (data up to COALESCE_MAX). */
function chunkBytes(data: Uint8Array): Uint8Array {
  const n = data.byteLength;
  const out = new Uint8Array(digits(n, 16) + n + 4);
  let at = putNumber(out, 0, n, 16);
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  out.set(data, at);
  at += n;
  out[at++] = 0x0d;
  out[at] = 0x0a;
  return out;
}

/** The response side of an exchange. */
export class ServerExchange implements ServerResponse {
  onAbort: ((reason: AbortReason) => void) | undefined = undefined;
  onDrain: (() => void) | undefined = undefined;
  headSent = false;
  finished = false;
  readonly conn: Connection;
  readonly req: Request;
  readonly body: RequestBody | undefined;
  /** The request allows the connection to persist (RFC 9112 §9.3). */
  readonly reqKeepAlive: boolean;
  /** Decided when the head went out: the connection persists after this response. */
  keptAlive = false;
  status = 0;
  /** The head written by writeHead (status line and fields), with room for what finishHead adds and a small body. */
  headBuf: Uint8Array | undefined = undefined;
  /** Bytes of headBuf in use. */
  headUsed = 0;
  /** The head went out. */
  flushed = false;
  framing = F_NONE;
  /** The Content-Length announced. */
  length = 0;
  /** Content-Length bytes still to write. */
  remaining = 0;
  bodyless = false;
  wantClose = false;
  needDrain = false;
  continueSent = false;
  /** The server answered (or the connection died): later calls do nothing. */
  dead = false;

  constructor(conn: Connection, req: Request, keepAlive: boolean) {
    this.conn = conn;
    this.req = req;
    this.body = req.body;
    this.reqKeepAlive = keepAlive;
    if (req.body !== undefined) req.body.exchange = this;
  }

  writeHead(status: number, reason: string | undefined, fields: readonly string[], framing: number | "chunked" | "none"): void {
    if (this.dead) return;
    if (this.headSent) throw new Error("http1 server: writeHead called twice");
    if (this.finished) throw new Error("http1 server: the response is finished");
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`http1 server: invalid status ${String(status)}`);
    if (status < 200 && status !== 101) throw new TypeError(`http1 server: ${status} is informational: use writeInformational`);
    checkFields(fields);
    const req = this.req;
    const connect = req.method === "CONNECT";
    const noBodyStatus = status < 200 || status === 204 || status === 304 || (connect && status < 300);
    const bodyless = noBodyStatus || req.method === "HEAD";
    let kind = F_NONE;
    let length = 0;
    if (typeof framing === "number") {
      if (!Number.isSafeInteger(framing) || framing < 0) throw new TypeError(`http1 server: invalid Content-Length ${String(framing)}`);
      // RFC 9110 §8.6: no Content-Length in 1xx, 204 or a 2xx to CONNECT; a 304 may carry one.
      if (!(noBodyStatus && status !== 304)) {
        kind = F_LENGTH;
        length = framing;
      }
    } else if (framing === "chunked") {
      if (!noBodyStatus) {
        if (req.version === 1) kind = F_CHUNKED;
        else if (!bodyless) kind = F_CLOSE;
      }
    } else if (framing === "none") {
      // A body-bearing status without framing would be read until close (RFC 9112 §6.3): say it is empty.
      if (!bodyless) kind = F_LENGTH;
    } else {
      throw new TypeError(`http1 server: invalid framing ${String(framing)}`);
    }
    const phrase = reason ?? STATUS_REASONS[status] ?? "";
    const inline = kind === F_LENGTH && !bodyless && length <= INLINE_MAX ? length : 0;
    const buf = new Uint8Array(headSize(phrase, fields) + HEAD_ROOM + inline);
    this.headUsed = encodeHead(buf, status, phrase, fields);
    this.headBuf = buf;
    this.status = status;
    this.framing = kind;
    this.length = length;
    this.remaining = bodyless ? 0 : length;
    this.bodyless = bodyless;
    this.headSent = true;
  }

  writeInformational(status: number, fields: readonly string[]): void {
    if (this.dead) return;
    if (this.headSent || this.finished) throw new Error("http1 server: writeInformational after writeHead");
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) {
      throw new TypeError(`http1 server: ${String(status)} is not an informational status (101 goes through writeHead)`);
    }
    checkFields(fields);
    // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
    if (this.req.version === 0) return;
    const phrase = STATUS_REASONS[status] ?? "";
    const buf = new Uint8Array(headSize(phrase, fields) + 2);
    const at = encodeHead(buf, status, phrase, fields);
    buf[at] = 0x0d;
    buf[at + 1] = 0x0a;
    if (status === 100) this.continueSent = true;
    this.conn.send(buf);
  }

  /**
   * Completes the head in its buffer with the framing and Connection lines,
   * now that what follows is known; returns its end. The buffer is written
   * by the caller (with body bytes after it when they fit).
   */
  finishHead(): number {
    const conn = this.conn;
    const status = this.status;
    const buf = this.headBuf!;
    let at = this.headUsed;
    if (this.framing === F_LENGTH) {
      at = putAscii(buf, at, CONTENT_LENGTH);
      at = putNumber(buf, at, this.length, 10);
      buf[at++] = 0x0d;
      buf[at++] = 0x0a;
    } else if (this.framing === F_CHUNKED) {
      at = putAscii(buf, at, TRANSFER_CHUNKED);
    }
    if (status === 101) {
      at = putAscii(buf, at, CONNECTION_UPGRADE);
    } else if (!(this.req.method === "CONNECT" && status < 300)) {
      // RFC 9112 §9.3: close when the request or the handler says so, on shutdown, after a close-delimited
      // body, or when the rest of the request body has not arrived (it would have to be read first).
      let keep = this.reqKeepAlive && !this.wantClose && !conn.closeAfter && !conn.server.closing && !conn.peerEnded && this.framing !== F_CLOSE;
      if (keep && this.body !== undefined && !this.body.arrived()) keep = false;
      this.keptAlive = keep;
      if (!keep) {
        conn.closeAfter = true;
        at = putAscii(buf, at, CONNECTION_CLOSE);
      } else if (this.req.version === 0) {
        at = putAscii(buf, at, CONNECTION_KEEP_ALIVE);
      }
    }
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
    this.flushed = true;
    this.headUsed = at;
    return at;
  }

  /** Sends the head alone (no body bytes yet). */
  sendHead(): boolean {
    const end = this.finishHead();
    const buf = this.headBuf!;
    this.headBuf = undefined;
    return this.conn.sendHead(buf, end);
  }

  /** Sends the head and the first body bytes (`prefix` + `data` + CRLF for a chunk), in one write when small. */
  sendHeadWith(data: Uint8Array, chunked: boolean): boolean {
    const end = this.finishHead();
    const head = this.headBuf!;
    this.headBuf = undefined;
    const n = data.byteLength;
    const frame = chunked ? digits(n, 16) + 4 : 0;
    const total = end + frame + n;
    let out: Uint8Array;
    if (total <= head.byteLength) {
      out = head;
    } else if (total <= COALESCE_MAX) {
      out = new Uint8Array(total);
      out.set(head.byteLength === end ? head : head.subarray(0, end), 0);
    } else {
      const ok = this.conn.sendHead(head, end);
      const rest = chunked ? chunkBytesLarge(this.conn, data) : this.conn.send(data);
      return ok && rest;
    }
    let at = end;
    if (chunked) {
      at = putNumber(out, at, n, 16);
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    }
    out.set(data, at);
    if (chunked) {
      out[at + n] = 0x0d;
      out[at + n + 1] = 0x0a;
    }
    return this.conn.sendHead(out, total);
  }

  write(chunk: Uint8Array): boolean {
    if (this.dead) return true;
    if (this.finished) throw new Error("http1 server: write after end");
    if (!this.headSent) throw new Error("http1 server: write before writeHead");
    const conn = this.conn;
    const n = chunk.byteLength;
    let ok: boolean;
    if (this.bodyless || n === 0) {
      ok = this.flushed ? conn.outBytes === 0 : this.sendHead();
    } else if (this.framing === F_CHUNKED) {
      if (!this.flushed) ok = this.sendHeadWith(chunk, true);
      else ok = n <= COALESCE_MAX ? conn.send(chunkBytes(chunk)) : chunkBytesLarge(conn, chunk) && conn.outBytes === 0;
    } else {
      if (this.framing === F_LENGTH) {
        if (n > this.remaining) throw new RangeError(`http1 server: ${n} bytes written where ${this.remaining} remain of the Content-Length`);
        this.remaining -= n;
      }
      ok = this.flushed ? conn.send(chunk) : this.sendHeadWith(chunk, false);
    }
    if (!ok) this.needDrain = true;
    return ok;
  }

  end(trailers?: readonly string[]): void {
    if (this.dead || this.finished) return;
    if (!this.headSent) throw new Error("http1 server: end before writeHead");
    const conn = this.conn;
    if (!this.bodyless && this.framing === F_CHUNKED) {
      const hasTrailers = trailers !== undefined && trailers.length > 0;
      if (!this.flushed && !hasTrailers) {
        // Head and last chunk together: HEAD_ROOM keeps room for "0\r\n\r\n".
        const end = this.finishHead();
        const buf = this.headBuf!;
        this.headBuf = undefined;
        const last = putAscii(buf, end, LAST_CHUNK);
        conn.sendHead(buf, last);
      } else {
        if (!this.flushed) this.sendHead();
        conn.send(hasTrailers ? lastChunk(trailers) : LAST_CHUNK);
      }
    } else {
      if (!this.flushed) this.sendHead();
      if (!this.bodyless && this.framing === F_LENGTH && this.remaining > 0) {
        // The client would wait for bytes that never come: close, so it sees the body cut.
        conn.closeAfter = true;
        conn.server.onError(new Error(`http1 server: response ended ${this.remaining} bytes short of its Content-Length`), "response");
      }
    }
    this.finished = true;
    conn.finishExchange(this);
  }

  abort(_error: BodyError): void {
    if (this.dead || this.finished) return;
    this.finished = true;
    this.dead = true;
    const conn = this.conn;
    conn.exchangeAborted(this);
    // A cut the client can tell: a short Content-Length or a missing last chunk ends at FIN; anything else is reset.
    if (this.flushed && !this.bodyless && (this.framing === F_LENGTH || this.framing === F_CHUNKED)) conn.end();
    else conn.destroy("closed");
  }

  tunnel(): { source: BodySource; target: BodyTarget } {
    const connect2xx = this.req.method === "CONNECT" && this.status >= 200 && this.status < 300;
    if (!this.headSent || !(this.status === 101 || connect2xx)) throw new Error("http1 server: tunnel() needs a 101 (or a 2xx to CONNECT) written first");
    if (this.finished || this.dead) throw new Error("http1 server: the response is finished");
    if (this.body !== undefined && !this.body.received) throw new Error("http1 server: tunnel() before the request body was read");
    const conn = this.conn;
    if (!this.flushed) this.sendHead();
    this.finished = true;
    return conn.startTunnel(this);
  }

  closeAfter(): void {
    this.wantClose = true;
    if (this.flushed) this.conn.closeAfter = true;
  }

  /** Bun drained our output. */
  drained(): void {
    if (!this.needDrain || this.dead) return;
    this.needDrain = false;
    const cb = this.onDrain;
    if (cb === undefined) return;
    try {
      cb();
    } catch (error) {
      this.conn.handlerFailed(this, error, "handler");
    }
  }

  /** The server wrote its own answer instead (500 after a throw, 400 for a bad body). */
  replaced(): void {
    if (this.finished && this.dead) return;
    this.finished = true;
    this.dead = true;
    this.body?.fail(CANCELLED);
    this.callAbort("closed");
  }

  /** The connection died before the response finished. */
  connectionLost(reason: AbortReason, error: BodyError): void {
    this.finished = true;
    this.dead = true;
    const body = this.body;
    if (body !== undefined && !body.detached) {
      body.fail(error);
      body.detach();
    }
    this.callAbort(reason);
  }

  callAbort(reason: AbortReason): void {
    const cb = this.onAbort;
    if (cb === undefined) return;
    this.onAbort = undefined;
    try {
      cb(reason);
    } catch (error) {
      this.conn.server.onError(error, "handler");
    }
  }
}
