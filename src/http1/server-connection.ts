/**
 * One accepted connection of the HTTP/1.1 server: the socket's input (heads
 * parsed where they arrived, bytes kept only while a request is being
 * handled), its output (written straight through; what the socket does not
 * take waits in a queue until `drain`), its deadlines (one wheel timer for
 * head / idle / body / linger, one for send) and the request loop: one
 * exchange at a time, in order, then the next pipelined head.
 *
 * Bun hands each `data` event a fresh buffer, so input is kept as views of
 * it; only a head or body that spans packets while not being consumed is
 * copied into a buffer of our own.
 */
import type { Socket } from "bun";
import type { PeerCertificate } from "node:tls";
import type { BodyError } from "./body.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { connectionInfo, expectation } from "./connection.ts";
import type { ChunkedLimits, HeadLimits } from "./limits.ts";
import { nameIs } from "./fields.ts";
import { type RequestFraming, requestFraming } from "./framing.ts";
import { type HeadProgress, parseRequestHead, type RequestHead } from "./head.ts";
import { requestAuthority } from "./host.ts";
import { STATUS_REASONS, type Wire } from "./serialize.ts";
import { encodeHead, HEAD_ROOM, headSize, putAscii, putNumber } from "./server-head.ts";
import type { ServerRequest, ServerResponse } from "./server.ts";
import { ServerExchange, Request, RequestBody } from "./server-exchange.ts";
import { Tunnel } from "./server-tunnel.ts";
import type { Timer, TimerWheel } from "./timers.ts";

/** What a connection needs of its server: resolved options and counters. */
export interface ServerCore {
  readonly handler: (req: ServerRequest, res: ServerResponse) => void;
  readonly limits: Readonly<HeadLimits>;
  readonly chunkedLimits: Readonly<ChunkedLimits>;
  readonly headMs: number;
  readonly keepAliveMs: number;
  readonly bodyMs: number;
  readonly sendMs: number;
  readonly maxPipelined: number;
  readonly wheel: TimerWheel;
  readonly tls: boolean;
  readonly errorResponse: (status: number, code: string, reason: string) => { fields: string[]; body: Uint8Array | string };
  readonly onError: (error: unknown, where: string) => void;
  readonly closing: boolean;
  activeRequests: number;
  connectionClosed(conn: Connection): void;
}

export type AbortReason = "closed" | "timeout" | "shutdown";

// Connection states.
/** Waiting for, or reading, a request head. */
export const S_HEAD = 0;
/** A request is with the handler. */
export const S_EXCHANGE = 1;
/** After 101 / CONNECT: raw bytes both ways. */
export const S_TUNNEL = 2;
/** Output is being flushed, then the write side shut; input is discarded. */
export const S_CLOSING = 3;
export const S_CLOSED = 4;

// What the phase timer means.
const T_NONE = 0;
/** The first head, from accept: silent close when nothing came, 408 when a part did. */
const T_FIRST = 1;
/** A head started arriving: 408. */
const T_HEAD = 2;
/** Kept alive between requests: silent close. */
const T_IDLE = 3;
/** The handler is reading the body: the body source errors with `timeout`. */
const T_BODY = 4;
/** After our FIN, waiting for the client's. */
const T_LINGER = 5;

/** How long a closing connection keeps reading (and dropping) input after its FIN, so that a client still sending gets our response before a reset. */
const LINGER_MS = 2000;

const CONTINUE_100 = "HTTP/1.1 100 Continue\r\n\r\n";

const TIMEOUT_ERROR: BodyError = Object.freeze({ code: "timeout", reason: "no request body byte arrived within the body timeout" });
const CLOSED_ERROR: BodyError = Object.freeze({ code: "closed", reason: "the client closed the connection before the body ended" });

const EMPTY: readonly string[] = Object.freeze([]);

/** The head of an answer the server writes itself: the fields, Content-Length, `connection: close`. */
function errorHead(status: number, fields: readonly string[], length: number): Uint8Array {
  const reason = STATUS_REASONS[status] ?? "";
  const out = new Uint8Array(headSize(reason, fields) + HEAD_ROOM);
  let at = encodeHead(out, status, reason, fields);
  at = putAscii(out, at, "content-length: ");
  at = putNumber(out, at, length, 10);
  at = putAscii(out, at, "\r\nconnection: close\r\n\r\n");
  return out.subarray(0, at);
}

const HAS_FRAMING = 1;
const HAS_CONNECTION = 2;
const HAS_EXPECT = 4;
const NO_BODY: RequestFraming = Object.freeze({ kind: "none" as const });

/** Which of Content-Length / Transfer-Encoding, Connection and Expect a head has (bit flags). */
function fieldFlags(fields: readonly string[]): number {
  let flags = 0;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    switch (name.length) {
      case 6:
        if (nameIs(name, "expect")) flags |= HAS_EXPECT;
        break;
      case 10:
        if (nameIs(name, "connection")) flags |= HAS_CONNECTION;
        break;
      case 14:
        if (nameIs(name, "content-length")) flags |= HAS_FRAMING;
        break;
      case 17:
        if (nameIs(name, "transfer-encoding")) flags |= HAS_FRAMING;
        break;
    }
  }
  return flags;
}

function phaseTimer(conn: Connection): void {
  conn.onPhaseTimer();
}

function sendTimer(conn: Connection): void {
  conn.onSendTimer();
}

function wireLength(w: Wire): number {
  return typeof w === "string" ? w.length : w.byteLength;
}

export class Connection {
  readonly server: ServerCore;
  readonly socket: Socket<Connection>;
  state = S_HEAD;

  // ---- input: unprocessed bytes are inBuf[inStart, inEnd) ----
  inBuf: Uint8Array | undefined = undefined;
  inStart = 0;
  inEnd = 0;
  /** inBuf is ours (may be appended to past inEnd); otherwise it is a buffer Bun handed us. */
  inOwned = false;
  /** The head being read from inStart, when it is incomplete. */
  progress: HeadProgress | undefined = undefined;
  /** We paused the socket. */
  readPaused = false;
  /** The client sent FIN. */
  peerEnded = false;

  // ---- output: what the socket did not take, in order ----
  out: Wire[] | undefined = undefined;
  /** Bytes of out[0] already written. */
  outOffset = 0;
  outBytes = 0;

  // ---- timers ----
  readonly timer: Timer<Connection>;
  timerKind = T_FIRST;
  sendTimer: Timer<Connection> | undefined = undefined;

  // ---- the request loop ----
  exchange: ServerExchange | undefined = undefined;
  tunnel: Tunnel | undefined = undefined;
  /** Requests whose response finished. */
  served = 0;
  /** No further request on this connection. */
  closeAfter = false;
  processing = false;
  abortReason: AbortReason = "closed";
  #peer: { address: string; port: number } | undefined = undefined;

  constructor(server: ServerCore, socket: Socket<Connection>) {
    this.server = server;
    this.socket = socket;
    this.timer = server.wheel.arm<Connection>(server.headMs, phaseTimer, this);
  }

  get peer(): { readonly address: string; readonly port: number } {
    this.#peer ??= { address: this.socket.remoteAddress, port: this.socket.remotePort };
    return this.#peer;
  }

  /** The verified client certificate (read once; null: none). */
  #peerCert: PeerCertificate | null | undefined = undefined;

  get peerCertificate(): PeerCertificate | undefined {
    if (this.#peerCert === undefined) this.#peerCert = (this.server.tls && this.socket.authorized ? this.socket.getPeerCertificate() : undefined) ?? null;
    return this.#peerCert ?? undefined;
  }

  // =====================================================================
  // Input
  // =====================================================================

  onData(d: Uint8Array): void {
    const state = this.state;
    if (state === S_TUNNEL) {
      this.tunnel!.onData(d);
      return;
    }
    if (state >= S_CLOSING) return; // lingering: input is dropped
    if (this.inStart === this.inEnd) {
      this.inBuf = d;
      this.inStart = 0;
      this.inEnd = d.byteLength;
      this.inOwned = false;
    } else {
      this.append(d);
    }
    this.process();
  }

  /** Appends `d` after the unprocessed input, copying into a buffer of our own. Never moves bytes before inEnd of a buffer already handed out as views. */
  append(d: Uint8Array): void {
    const have = this.inEnd - this.inStart;
    const need = have + d.byteLength;
    const buf = this.inBuf!;
    if (this.inOwned && buf.byteLength - this.inEnd >= d.byteLength) {
      buf.set(d, this.inEnd);
      this.inEnd += d.byteLength;
      return;
    }
    const grown = new Uint8Array(Math.max(need * 2, 4096));
    grown.set(buf.subarray(this.inStart, this.inEnd), 0);
    grown.set(d, have);
    this.inBuf = grown;
    this.inStart = 0;
    this.inEnd = need;
    this.inOwned = true;
  }

  get buffered(): number {
    return this.inEnd - this.inStart;
  }

  /** Consumes `n` bytes of input; forgets the buffer when it is used up. */
  consume(n: number): void {
    this.inStart += n;
    if (this.inStart === this.inEnd) this.dropInput();
  }

  dropInput(): void {
    this.inBuf = undefined;
    this.inStart = 0;
    this.inEnd = 0;
    this.inOwned = false;
  }

  /**
   * The request loop: parse heads, hand requests to the handler, feed
   * bodies, as far as the input and the current exchange allow. Re-entered
   * calls (from the handler, a sink, a finish) just let the running loop go on.
   */
  process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      for (;;) {
        const state = this.state;
        if (state === S_HEAD) {
          if (this.outBytes > 0 || this.inStart === this.inEnd) break;
          if (!this.readHead()) break;
        } else if (state === S_EXCHANGE) {
          const body = this.exchange!.body;
          if (body === undefined || !body.wantsInput() || this.inStart === this.inEnd) break;
          body.feed();
        } else {
          break;
        }
      }
    } finally {
      this.processing = false;
    }
    this.updateReading();
  }

  /** Whether the socket should be read now; pauses or resumes it to match. */
  updateReading(): void {
    let want: boolean;
    switch (this.state) {
      case S_HEAD:
        want = this.outBytes === 0 || this.buffered < this.server.maxPipelined;
        break;
      case S_EXCHANGE: {
        const body = this.exchange!.body;
        if (body !== undefined && body.isPaused()) want = false;
        else if (body !== undefined && body.wantsInput()) want = true;
        else want = this.buffered < this.server.maxPipelined;
        break;
      }
      case S_TUNNEL:
        want = this.tunnel!.wantsInput();
        break;
      case S_CLOSING:
        want = true;
        break;
      default:
        return;
    }
    if (want === !this.readPaused) return;
    this.readPaused = !want;
    if (want) this.socket.resume();
    else this.socket.pause();
  }

  /** Parses the head at inStart; false when it is incomplete or was refused. */
  readHead(): boolean {
    const buf = this.inBuf!;
    const r = parseRequestHead(buf, this.inStart, this.inEnd, this.server.limits, this.progress);
    if (r.kind === "incomplete") {
      this.progress = r.progress;
      if (this.timerKind === T_IDLE) this.setTimer(T_HEAD, this.server.headMs);
      if (!this.inOwned) {
        // Keep the partial head in a buffer of our own so later bytes can follow it.
        const have = this.inEnd - this.inStart;
        const own = new Uint8Array(Math.max(have * 2, 1024));
        own.set(buf.subarray(this.inStart, this.inEnd), 0);
        this.inBuf = own;
        this.inStart = 0;
        this.inEnd = have;
        this.inOwned = true;
      }
      return false;
    }
    this.progress = undefined;
    if (r.kind === "error") {
      this.respondError(r.status, r.code, r.reason);
      return false;
    }
    this.inStart = r.next;
    if (this.inStart === this.inEnd) this.dropInput();
    this.startExchange(r.head);
    return true;
  }

  startExchange(head: RequestHead): void {
    // One pass over the names says which of the codec's judgements apply; each is skipped
    // when its fields are absent (they would answer: no body, no expectation, the version's default).
    const flags = fieldFlags(head.fields);
    let framing: RequestFraming = NO_BODY;
    if ((flags & HAS_FRAMING) !== 0) {
      framing = requestFraming(head);
      if (framing.kind === "error") return this.respondError(framing.status, framing.code, framing.reason);
    }
    const auth = requestAuthority(head);
    if (auth.kind === "error") return this.respondError(auth.status, auth.code, auth.reason);
    let expectContinue = false;
    if ((flags & HAS_EXPECT) !== 0) {
      const expect = expectation(head);
      if (expect === "unsupported") {
        return this.respondError(417, "unsupported_expectation", "the request has an expectation other than 100-continue (RFC 9110 §10.1.1)");
      }
      expectContinue = expect === "continue";
    }
    let keepAlive = head.version === 1;
    let upgrade: string | undefined;
    if ((flags & HAS_CONNECTION) !== 0) {
      const info = connectionInfo(head);
      keepAlive = info.keepAlive;
      if (info.upgrade.length > 0) upgrade = info.upgrade[0];
    }
    if (this.timerKind !== T_NONE) {
      this.timer.cancel();
      this.timerKind = T_NONE;
    }
    let body: RequestBody | undefined;
    if (framing.kind === "chunked") body = new RequestBody(this, -1, new ChunkedDecoder(this.server.chunkedLimits));
    else if (framing.kind === "length" && framing.length > 0) body = new RequestBody(this, framing.length, undefined);
    const req = new Request(this, head, auth.authority, body, expectContinue, upgrade);
    const ex = new ServerExchange(this, req, keepAlive);
    this.exchange = ex;
    this.state = S_EXCHANGE;
    this.server.activeRequests++;
    try {
      this.server.handler(req, ex);
    } catch (error) {
      this.handlerFailed(ex, error, "handler");
    }
  }

  /** The handler (or a body sink) threw: 500 when no response head went out yet, else the connection is closed. */
  handlerFailed(ex: ServerExchange, error: unknown, where: string): void {
    this.server.onError(error, where);
    if (ex.finished || this.exchange !== ex) return;
    if (!ex.flushed) this.respondError(500, "handler_error", "the request handler failed");
    else this.destroy("closed");
  }

  /**
   * Ends the current exchange (its response was written whole). The request
   * body left unread is skipped when it has all arrived, else the
   * connection closes; then the next request, or the idle timer.
   */
  finishExchange(ex: ServerExchange): void {
    if (this.exchange !== ex) return;
    this.exchange = undefined;
    this.server.activeRequests--;
    this.served++;
    if (this.state >= S_CLOSING) return;
    let reuse = ex.keptAlive && !this.closeAfter && !this.server.closing && !this.peerEnded;
    const body = ex.body;
    if (body !== undefined && !body.received) {
      // Skip what is left of the body when it is all here; else the connection cannot be reused.
      body.abandon();
      if (reuse) while (!body.received && !body.failed && this.inStart !== this.inEnd) body.feed();
      if (!body.received || body.failed) reuse = false;
    }
    body?.detach();
    if (!reuse) {
      this.closeGracefully();
      return;
    }
    this.state = S_HEAD;
    if (this.inStart === this.inEnd) this.setTimer(T_IDLE, this.server.keepAliveMs);
    else this.setTimer(T_HEAD, this.server.headMs);
    if (!this.processing) this.process();
  }

  /** The handler aborted its response: the exchange is over, the connection goes. */
  exchangeAborted(ex: ServerExchange): void {
    if (this.exchange !== ex) return;
    this.exchange = undefined;
    this.server.activeRequests--;
    this.closeAfter = true;
    ex.body?.detach();
  }

  /** After a 101 (or 2xx to CONNECT) went out: the connection becomes a byte tunnel. */
  startTunnel(ex: ServerExchange): { source: Tunnel; target: Tunnel } {
    this.exchange = undefined;
    this.server.activeRequests--;
    this.served++;
    ex.body?.detach();
    this.cancelTimer();
    const first = this.inStart < this.inEnd ? this.inBuf!.subarray(this.inStart, this.inEnd) : undefined;
    this.dropInput();
    const tunnel = new Tunnel(this, first);
    this.tunnel = tunnel;
    this.state = S_TUNNEL;
    if (this.peerEnded) tunnel.peerEnded = true;
    this.updateReading();
    return { source: tunnel, target: tunnel };
  }

  // =====================================================================
  // Output
  // =====================================================================

  /** Writes `w`, queueing what the socket does not take. True when all of it went out. */
  send(w: Wire): boolean {
    if (this.state === S_CLOSED) return false;
    if (this.outBytes > 0) {
      this.enqueue(w, 0);
      return false;
    }
    const len = wireLength(w);
    const n = this.socket.write(w);
    if (n === len) return true;
    if (n < 0) return false;
    this.enqueue(w, n);
    return false;
  }

  /** Writes buf[0, length) (no view made: a new typed array per write costs more than the write's other work). */
  sendHead(buf: Uint8Array, length: number): boolean {
    if (length === buf.byteLength) return this.send(buf);
    if (this.state === S_CLOSED) return false;
    if (this.outBytes > 0) {
      this.enqueue(buf.subarray(0, length), 0);
      return false;
    }
    const n = this.socket.write(buf, 0, length);
    if (n === length) return true;
    if (n < 0) return false;
    this.enqueue(buf.subarray(0, length), n);
    return false;
  }

  enqueue(w: Wire, written: number): void {
    if (this.out === undefined) this.out = [];
    if (this.out.length === 0) this.outOffset = written;
    this.out.push(w);
    this.outBytes += wireLength(w) - written;
    if (this.sendTimer === undefined) this.sendTimer = this.server.wheel.arm<Connection>(this.server.sendMs, sendTimer, this);
    else if (!this.sendTimer.active) this.sendTimer.reset(this.server.sendMs);
  }

  /** Bun's `drain`: the socket has room again. */
  onWritable(): void {
    if (this.state === S_CLOSED) return;
    const out = this.out;
    if (out !== undefined && out.length > 0) {
      let wrote = 0;
      let i = 0;
      while (i < out.length) {
        const w = out[i]!;
        const len = wireLength(w);
        const rest = len - this.outOffset;
        const n = typeof w === "string"
          ? this.socket.write(this.outOffset === 0 ? w : w.slice(this.outOffset))
          : this.socket.write(w, this.outOffset, rest);
        if (n < 0) return;
        wrote += n;
        if (n < rest) {
          this.outOffset += n;
          break;
        }
        this.outOffset = 0;
        i++;
      }
      if (i > 0) out.splice(0, i);
      this.outBytes -= wrote;
      if (out.length > 0) {
        if (wrote > 0) this.sendTimer!.reset(this.server.sendMs);
        return;
      }
      this.sendTimer?.cancel();
    }
    // Everything went out.
    switch (this.state) {
      case S_CLOSING:
        this.shutdownWrite();
        return;
      case S_EXCHANGE:
        this.exchange?.drained();
        return;
      case S_TUNNEL:
        this.tunnel!.drained();
        return;
      case S_HEAD:
        if (!this.processing) this.process();
        return;
    }
  }

  /**
   * An error answer the server writes itself (bad head, 408, 417, 500):
   * errorResponse's fields and body, `connection: close`, then the
   * connection closes. Replaces the current exchange if its head is not out.
   */
  respondError(status: number, code: string, reason: string): void {
    if (this.state >= S_CLOSING) return;
    let fields: readonly string[];
    let body: Uint8Array;
    try {
      const r = this.server.errorResponse(status, code, reason);
      fields = r.fields;
      body = typeof r.body === "string" ? Buffer.from(r.body, "utf8") : r.body;
      for (let i = 0; i < fields.length; i += 2) {
        const n = fields[i]!.toLowerCase();
        if (n === "content-length" || n === "transfer-encoding" || n === "connection") throw new TypeError(`errorResponse: ${n} is written by the server`);
      }
    } catch (error) {
      this.server.onError(error, "errorResponse");
      fields = ["content-type", "text/plain; charset=utf-8"];
      body = Buffer.from(`${status}\n`);
    }
    let head: Uint8Array;
    try {
      head = errorHead(status, fields, body.byteLength);
    } catch (error) {
      this.server.onError(error, "errorResponse");
      head = errorHead(status, EMPTY, 0);
      body = new Uint8Array(0);
    }
    const ex = this.exchange;
    if (ex !== undefined) {
      ex.replaced();
      this.exchange = undefined;
      this.server.activeRequests--;
      ex.body?.detach();
    }
    this.closeAfter = true;
    if (body.byteLength === 0) {
      this.send(head);
    } else {
      const out = new Uint8Array(head.byteLength + body.byteLength);
      out.set(head, 0);
      out.set(body, head.byteLength);
      this.send(out);
    }
    this.closeGracefully();
  }

  // =====================================================================
  // Timers
  // =====================================================================

  setTimer(kind: number, ms: number): void {
    this.timerKind = kind;
    this.timer.reset(ms);
  }

  cancelTimer(): void {
    this.timerKind = T_NONE;
    this.timer.cancel();
  }

  /** The body source is being read: no byte within `body` ms errors it. */
  armBodyTimer(): void {
    if (this.timerKind === T_BODY) this.timer.reset(this.server.bodyMs);
    else this.setTimer(T_BODY, this.server.bodyMs);
  }

  disarmBodyTimer(): void {
    if (this.timerKind === T_BODY) this.cancelTimer();
  }

  onPhaseTimer(): void {
    const kind = this.timerKind;
    this.timerKind = T_NONE;
    switch (kind) {
      case T_FIRST:
      case T_HEAD:
        if (this.state !== S_HEAD) return;
        if (this.inStart !== this.inEnd) this.respondError(408, "head_timeout", "the request head did not arrive within the head timeout");
        else this.end();
        return;
      case T_IDLE:
        if (this.state === S_HEAD && this.inStart === this.inEnd) this.end();
        return;
      case T_BODY: {
        const body = this.exchange?.body;
        if (body === undefined || body.received) return;
        this.closeAfter = true;
        body.fail(TIMEOUT_ERROR);
        return;
      }
      case T_LINGER:
        this.end();
        return;
    }
  }

  onSendTimer(): void {
    if (this.outBytes === 0) return;
    this.destroy("timeout");
  }

  // =====================================================================
  // Closing
  // =====================================================================

  /** Stops taking requests: after the queued output, FIN; input is read and dropped for a while so the client gets our response. */
  closeGracefully(): void {
    if (this.state >= S_CLOSING) return;
    this.state = S_CLOSING;
    this.closeAfter = true;
    this.dropInput();
    this.progress = undefined;
    this.cancelTimer();
    if (this.outBytes === 0) this.shutdownWrite();
    this.updateReading();
  }

  /** Our side is done writing: FIN, then wait (a while) for the client's. */
  shutdownWrite(): void {
    if (this.peerEnded) {
      this.end();
      return;
    }
    this.socket.shutdown();
    this.setTimer(T_LINGER, LINGER_MS);
  }

  /** Server close(): an idle connection goes now, a busy one after its response. */
  shutdown(): void {
    this.closeAfter = true;
    if (this.outBytes > 0) return;
    if ((this.state === S_HEAD && this.inStart === this.inEnd) || this.state === S_CLOSING) this.end();
  }

  /** Closes the socket now, cleanly (FIN). */
  end(): void {
    if (this.state === S_CLOSED) return;
    this.socket.end();
    this.onClosed(undefined);
  }

  /** Closes the socket now with a reset; the current exchange sees onAbort(reason). */
  destroy(reason: AbortReason): void {
    if (this.state === S_CLOSED) return;
    this.abortReason = reason;
    this.socket.terminate();
    this.onClosed(undefined);
  }

  /**
   * The client sent FIN. It is taken as gone, as nginx (499) and Bun.serve
   * take it: a request being handled is aborted, requests pipelined behind
   * the output still queued are dropped. A tunnel may still send.
   */
  onPeerEnd(): void {
    this.peerEnded = true;
    switch (this.state) {
      case S_TUNNEL:
        this.tunnel!.onPeerEnd();
        return;
      case S_CLOSING:
        if (this.outBytes === 0) this.end();
        return; // else onWritable → shutdownWrite → end
      case S_HEAD:
        if (this.outBytes > 0) {
          this.closeGracefully();
          return;
        }
        this.end();
        return;
      default:
        this.end();
    }
  }

  onSocketError(): void {
    if (this.state !== S_CLOSED) this.destroy("closed");
  }

  /** Bun's `close` (or our own close): everything is released once. */
  onClosed(_error: Error | undefined): void {
    if (this.state === S_CLOSED) return;
    this.state = S_CLOSED;
    this.timer.cancel();
    this.timerKind = T_NONE;
    this.sendTimer?.cancel();
    this.out = undefined;
    this.outBytes = 0;
    this.dropInput();
    this.progress = undefined;
    const ex = this.exchange;
    this.exchange = undefined;
    if (ex !== undefined) {
      this.server.activeRequests--;
      ex.connectionLost(this.abortReason, CLOSED_ERROR);
    }
    this.tunnel?.onClosed(_error);
    this.server.connectionClosed(this);
  }

  /** A 100 Continue, once, before any response head. */
  sendContinue(): void {
    this.send(CONTINUE_100);
  }
}

