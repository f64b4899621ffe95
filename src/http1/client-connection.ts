/**
 * The hot path of the upstream client: one `UpstreamConnection` per socket
 * (the Bun socket's `data` points to it; one handler object serves every
 * socket, so no closure is made per connection or per request), the
 * `UpstreamExchange` a caller holds, and `PoolCore`, the idle stack.
 *
 * A connection serves one exchange at a time (no pipelining). The request is
 * written as it can be (head and a small body in one write; a streamed body
 * with backpressure), the response is read as it comes: heads parsed from the
 * received buffer without a copy when whole, 1xx handled, then the body
 * decoded by its framing and handed to a `ResponseBody`. The connection goes
 * back to the pool only when the response ended cleanly, the request was
 * fully written and neither side said close (RFC 9112 §9.3); any error,
 * timeout, abort or stray byte destroys it.
 */
import type { Socket, SocketHandler, TLSOptions } from "bun";
import type { BodyError, BodySink, BodySource, BodyTarget } from "./body.ts";
import { ResponseBody, type BodyOwner, TunnelTarget, type TunnelOwner } from "./client-body.ts";
import { ClientError, type ClientErrorCode } from "./client-error.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { connectionInfo } from "./connection.ts";
import { nameIs } from "./fields.ts";
import { type ResponseFraming, responseFraming } from "./framing.ts";
import { type HeadProgress, parseResponseHead, type ResponseHead } from "./head.ts";
import type { ChunkedLimits, HeadLimits } from "./limits.ts";
import { chunkHeader, lastChunk, requestHeadBytes, type Wire } from "./serialize.ts";
import type { Timer, TimerWheel } from "./timers.ts";

// ---- public shapes (re-exported by client.ts) ----

/** A request to send upstream. */
export interface ClientRequest {
  method: string;
  target: string;
  /**
   * Flat [name, value, …], written exactly as given (the caller includes
   * Host). Must not hold Content-Length, Transfer-Encoding or Connection
   * (Connection is allowed with `upgrade`): the client writes the framing.
   */
  fields: readonly string[];
  /**
   * undefined: no body, no framing field. Uint8Array: Content-Length (0
   * included); it must not change until the exchange ends (it is written
   * without a copy, and sent again on a retry). BodySource: Content-Length
   * when its length is known, else chunked (its trailers are sent).
   */
  body?: Uint8Array | BodySource;
  /** ms from `request()` (connect included) until the response head; then the exchange fails with `header_timeout`. */
  headerTimeout?: number;
  /** ms without a response-body byte (while the consumer is taking them); then the body errors with `timeout`. */
  bodyTimeout?: number;
  /** Sends `expect: 100-continue` and holds the body until 100 Continue, a final response, or 1 s. */
  expectContinue?: boolean;
  /** Called for each 1xx response other than 100 and 101 (e.g. 103 Early Hints). Must not throw. */
  onInformational?(head: ResponseHead): void;
  /** The caller sent Upgrade and `connection: upgrade` itself and expects 101: the response then carries `tunnel`. */
  upgrade?: boolean;
}

/** A request in flight. */
export interface ClientExchange {
  /** The response once its head came; rejects with a ClientError before that. */
  readonly response: Promise<ClientResponse>;
  /**
   * Ends it now: the connection is destroyed (never reused); a pending
   * response rejects with `aborted`; a body in progress errors with
   * `cancelled`. Does nothing once the response body has ended.
   */
  abort(reason?: string): void;
}

/** A response head, its framing and its body. */
export interface ClientResponse {
  status: number;
  reason: string;
  version: 0 | 1;
  /** As received, framing fields included (the caller decides what to forward). */
  fields: string[];
  /** From `responseFraming`: none, length, chunked, close or tunnel. */
  framing: ResponseFraming;
  /** undefined when there is no body (HEAD, 1xx, 204, 304, Content-Length 0, a tunnel). */
  body: BodySource | undefined;
  /**
   * After 101 to an `upgrade` request (or a 2xx to CONNECT): the raw
   * connection both ways; bytes that came after the head come first. Never
   * pooled.
   */
  tunnel?: { source: BodySource; target: BodyTarget } | undefined;
}

/** Options of a pool, checked and with defaults applied (see client.ts). */
export interface PoolConfig {
  readonly host: string;
  readonly port: number;
  /** Bun's TLS options with the server name set, or undefined for plain TCP. */
  readonly tls: TLSOptions | undefined;
  readonly maxIdle: number;
  readonly idleTimeout: number;
  readonly connectTimeout: number;
  readonly limits: Readonly<HeadLimits>;
  readonly chunkedLimits: Readonly<ChunkedLimits>;
  readonly wheel: TimerWheel;
  /** The socket opener (Bun.connect; tests may wrap it). */
  readonly connect: typeof Bun.connect;
}

// ---- constants ----

/** A head plus a body up to this size goes out in one write. */
export const SMALL_BODY = 16 * 1024;
/** Informational responses accepted before a final one. */
const MAX_INFORMATIONAL = 32;
/** How long a request with `expect: 100-continue` waits before sending its body anyway. */
export const CONTINUE_WAIT = 1000;

const CONNECTING = 0;
const BUSY = 1;
const IDLE = 2;
const CLOSED = 3;

// response side
const R_NONE = 0;
const R_HEAD = 1;
const R_BODY = 2;
const R_TUNNEL = 3;

// body framing
const B_LENGTH = 0;
const B_CHUNKED = 1;
const B_CLOSE = 2;

// request body
const Q_NONE = 0; // nothing (more) to send from a body
const Q_CONTINUE = 1; // waiting for 100 Continue
const Q_STREAM = 2; // a BodySource is being written

const TUNNEL_FRAMING: ResponseFraming = Object.freeze({ kind: "tunnel" as const });
const EMPTY: readonly string[] = Object.freeze([]);

/** Shared buffer for one-write head+body and chunk frames (single-threaded, used synchronously). */
const SCRATCH = Buffer.allocUnsafe(SMALL_BODY + 4096);

function noop(): void {}

function bodyError(code: string, reason: string): BodyError {
  return { code, reason };
}

const CLOSED_ERROR: BodyError = Object.freeze({ code: "closed", reason: "the upstream closed the connection before the body ended" });
const TIMEOUT_ERROR: BodyError = Object.freeze({ code: "timeout", reason: "no response body byte within the body timeout" });

// ---- the exchange ----

const PENDING = 0;
const RESOLVED = 1;
const SETTLED = 2;

let nextResolve: (r: ClientResponse) => void = noop;
let nextReject: (e: unknown) => void = noop;
function executor(resolve: (r: ClientResponse) => void, reject: (e: unknown) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

function onHeaderTimeout(ex: UpstreamExchange): void {
  ex.fail("header_timeout", "no response head within the header timeout");
}

/** A request in flight, as the caller holds it. */
export class UpstreamExchange implements ClientExchange {
  readonly response: Promise<ClientResponse>;
  readonly req: ClientRequest;
  /** The request head, framing fields included. */
  readonly head: Uint8Array;
  /** Whether `expect: 100-continue` was sent. */
  readonly expect: boolean;
  /** The connection serving it, until the response has fully arrived (or failed). */
  conn: UpstreamConnection | null = null;
  /** The response body, once the head came. */
  body: ResponseBody | null = null;
  phase = PENDING;
  /** Sent once already on a stale connection (it is retried at most once). */
  retried = false;
  #resolve: (r: ClientResponse) => void;
  #reject: (e: unknown) => void;
  #headerTimer: Timer<UpstreamExchange> | null = null;

  constructor(req: ClientRequest, wheel: TimerWheel) {
    this.req = req;
    this.response = new Promise<ClientResponse>(executor);
    this.#resolve = nextResolve;
    this.#reject = nextReject;
    const body = req.body;
    const length = body === undefined ? 0 : body instanceof Uint8Array ? body.byteLength : body.length;
    this.expect = req.expectContinue === true && body !== undefined && length !== 0;
    this.head = buildHead(req, body === undefined ? -2 : length, this.expect);
    if (req.headerTimeout !== undefined) this.#headerTimer = wheel.arm<UpstreamExchange>(req.headerTimeout, onHeaderTimeout, this);
  }

  abort(reason = "aborted by the caller"): void {
    const conn = this.conn;
    this.conn = null;
    if (this.phase === PENDING) {
      const sent = conn !== null && conn.sentAny;
      conn?.abandon();
      this.response.catch(noop); // the caller asked for it: not an unhandled rejection
      this.#settle(new ClientError("aborted", `the exchange was aborted: ${reason}`, sent || this.retried, reason));
    } else if (this.phase === RESOLVED) {
      conn?.abandon();
      this.body?.abort(bodyError("cancelled", reason));
    }
  }

  /** Rejects the pending response; the connection (if any) is destroyed. */
  fail(code: ClientErrorCode, message: string, detail?: string): void {
    if (this.phase !== PENDING) return;
    const conn = this.conn;
    this.conn = null;
    const sent = conn !== null && conn.sentAny;
    conn?.abandon();
    this.#settle(new ClientError(code, message, sent || this.retried, detail));
  }

  /** @internal Rejects with `error` (the connection is already taken care of). */
  reject(error: ClientError): void {
    if (this.phase !== PENDING) return;
    this.conn = null;
    this.#settle(error);
  }

  /** @internal */
  resolve(response: ClientResponse): void {
    if (this.phase !== PENDING) return;
    this.phase = RESOLVED;
    this.#headerTimer?.cancel();
    this.#resolve(response);
  }

  #settle(error: ClientError): void {
    this.phase = SETTLED;
    this.#headerTimer?.cancel();
    this.#reject(error);
  }
}

/**
 * The request head with the framing the client owns: Content-Length for a
 * known length (`length` ≥ 0), chunked for -1, nothing for -2 (no body), and
 * `expect: 100-continue` when asked.
 */
function buildHead(req: ClientRequest, length: number, expect: boolean): Uint8Array {
  const fields = req.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const n = name.length;
    if (
      (n === 14 && nameIs(name, "content-length")) ||
      (n === 17 && nameIs(name, "transfer-encoding")) ||
      (n === 10 && req.upgrade !== true && nameIs(name, "connection"))
    ) {
      throw new TypeError(`http1 client: the request fields must not hold ${name}: the client writes the framing itself`);
    }
  }
  let extra = length === -2 ? "" : length === -1 ? "transfer-encoding: chunked\r\n" : `content-length: ${length}\r\n`;
  if (expect) extra += "expect: 100-continue\r\n";
  return requestHeadBytes(req.method, req.target, fields, extra);
}

// ---- the pool's core: idle stack and counts ----

/** The idle stack (LIFO) and the count of busy connections; the public ConnectionPool wraps it. */
export class PoolCore {
  readonly config: PoolConfig;
  readonly idle: UpstreamConnection[] = [];
  /** Connections connecting or serving an exchange. */
  active = 0;
  closed = false;

  constructor(config: PoolConfig) {
    this.config = config;
  }

  /** Serves `ex` on the most recently used idle connection, or a new one (`fresh`: always a new one). */
  dispatch(ex: UpstreamExchange, fresh: boolean): void {
    if (this.closed) {
      ex.reject(new ClientError("connect_failed", "the pool is closed", ex.retried, "pool_closed"));
      return;
    }
    if (!fresh) {
      const idle = this.idle;
      while (idle.length > 0) {
        const conn = idle.pop() as UpstreamConnection;
        if (conn.usable()) {
          this.active++;
          conn.begin(ex);
          return;
        }
        conn.destroy();
      }
    }
    const conn = new UpstreamConnection(this);
    this.active++;
    conn.ex = ex;
    ex.conn = conn;
    conn.connect();
  }

  /** A connection whose exchange ended cleanly: kept idle, or closed when the pool is full or closed. */
  release(conn: UpstreamConnection): void {
    if (this.closed || this.idle.length >= this.config.maxIdle) {
      conn.destroy();
      return;
    }
    this.active--;
    conn.makeIdle();
    this.idle.push(conn);
  }

  /** A connection closed (by either side). */
  forget(conn: UpstreamConnection, wasIdle: boolean): void {
    if (!wasIdle) {
      this.active--;
      return;
    }
    const at = this.idle.lastIndexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
  }

  close(): void {
    this.closed = true;
    const idle = this.idle.splice(0);
    for (const conn of idle) conn.destroy();
  }
}

// ---- the connection ----

function onConnectTimeout(conn: UpstreamConnection): void {
  conn.connectFailed("connect_timeout", `no connection within ${conn.core.config.connectTimeout} ms`);
}
function onIdleTimeout(conn: UpstreamConnection): void {
  conn.destroy();
}
function onBodyTimeout(conn: UpstreamConnection): void {
  conn.bodyFailed(TIMEOUT_ERROR);
}
function onContinueWait(conn: UpstreamConnection): void {
  conn.sendBody();
}

type UpstreamSocket = Socket<UpstreamConnection>;

/** Every socket's handlers: each forwards to the connection in `socket.data`. */
const HANDLERS: SocketHandler<UpstreamConnection, "uint8array"> = {
  binaryType: "uint8array",
  open(socket) {
    socket.data.onOpen(socket);
  },
  handshake(socket, success, error) {
    socket.data.onHandshake(socket, success, error);
  },
  data(socket, data) {
    socket.data.onData(data);
  },
  drain(socket) {
    socket.data.onDrain();
  },
  close(socket, error) {
    socket.data.onClose(error);
  },
  error(socket, error) {
    socket.data.onError(error);
  },
  connectError(socket, error) {
    socket.data.onConnectError(error);
  },
};

/** The request body sink handed to a BodySource: forwards to the connection while it is current. */
class RequestSink implements BodySink {
  conn: UpstreamConnection | null;
  constructor(conn: UpstreamConnection) {
    this.conn = conn;
  }
  onData(chunk: Uint8Array): boolean {
    const conn = this.conn;
    return conn !== null && conn.sink === this ? conn.bodyData(chunk) : false;
  }
  onEnd(trailers: readonly string[]): void {
    const conn = this.conn;
    if (conn !== null && conn.sink === this) conn.bodyEnd(trailers);
  }
  onError(error: BodyError): void {
    const conn = this.conn;
    if (conn !== null && conn.sink === this) conn.bodySourceFailed(error);
  }
}

/** One upstream socket and the exchange it serves. */
export class UpstreamConnection implements BodyOwner, TunnelOwner {
  readonly core: PoolCore;
  socket: UpstreamSocket | null = null;
  state = CONNECTING;
  /** Exchanges completed on it (a connection with some is "reused"). */
  served = 0;
  ex: UpstreamExchange | null = null;

  // request side
  /** Bytes the socket did not take yet, in order. */
  readonly outq: Uint8Array[] = [];
  /** Every request byte has been handed to write (some may wait in `outq`). */
  reqEnded = false;
  /** The request was cut short (a response came before it was sent): the connection is not reused. */
  reqStopped = false;
  /** Some request byte was written to the socket. */
  sentAny = false;
  reqBody = Q_NONE;
  source: BodySource | null = null;
  sink: RequestSink | null = null;
  /** The source returned false after a write that did not finish: resume it on drain. */
  sourceBlocked = false;
  chunked = false;
  reqLength = 0;
  reqWritten = 0;
  /** A tunnel's FIN waits for the queue. */
  shutdownPending = false;

  // response side
  res = R_NONE;
  /** Some response byte has come for the current exchange. */
  gotBytes = false;
  informational = 0;
  progress: HeadProgress | undefined = undefined;
  /** An incomplete head, accumulated: bytes [0, headLen). */
  headBuf: Uint8Array | null = null;
  headLen = 0;
  keepAlive = false;
  body: ResponseBody | null = null;
  bodyKind = B_LENGTH;
  remaining = 0;
  decoder: ChunkedDecoder | null = null;
  tunnel: TunnelTarget | null = null;
  socketPaused = false;
  bodyTimeout = 0;

  // timers, made once and reset
  connectTimer: Timer<UpstreamConnection> | null = null;
  idleTimer: Timer<UpstreamConnection> | null = null;
  bodyTimer: Timer<UpstreamConnection> | null = null;
  continueTimer: Timer<UpstreamConnection> | null = null;

  constructor(core: PoolCore) {
    this.core = core;
  }

  // ---- lifecycle ----

  connect(): void {
    const config = this.core.config;
    this.connectTimer = config.wheel.arm<UpstreamConnection>(config.connectTimeout, onConnectTimeout, this);
    try {
      config
        .connect<UpstreamConnection>({
          hostname: config.host,
          port: config.port,
          tls: config.tls,
          data: this,
          socket: HANDLERS as unknown as SocketHandler<UpstreamConnection>,
        })
        .catch((error: Error) => this.onConnectError(error)); // also told through connectError: the first wins
    } catch (error) {
      this.connectFailed("connect_failed", `cannot connect: ${(error as Error).message}`, (error as { code?: string }).code);
    }
  }

  onOpen(socket: UpstreamSocket): void {
    if (this.state === CLOSED) {
      socket.terminate();
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    if (this.core.config.tls === undefined) this.ready();
  }

  onHandshake(socket: UpstreamSocket, success: boolean, error: Error | null): void {
    if (this.state === CLOSED) {
      socket.terminate();
      return;
    }
    this.socket = socket;
    // Bun reports an unverified certificate as a failure even with
    // rejectUnauthorized: false (and then leaves the socket open): decide here.
    if (!success && this.core.config.tls?.rejectUnauthorized !== false) {
      const code = (error as { code?: string } | null)?.code;
      this.connectFailed("connect_failed", `TLS handshake failed: ${error?.message ?? "unauthorized"}`, code ?? "tls_handshake");
      return;
    }
    this.ready();
  }

  onConnectError(error: Error): void {
    if (this.state !== CONNECTING) return;
    const code = (error as { code?: string }).code;
    if (code === "ECONNREFUSED") this.connectFailed("connect_refused", "the upstream refused the connection", code);
    else this.connectFailed("connect_failed", `cannot connect: ${error.message}`, code);
  }

  /** Connecting failed: the exchange waiting for it fails (a connect error is never retried here). */
  connectFailed(code: ClientErrorCode, message: string, detail?: string): void {
    if (this.state !== CONNECTING) return;
    const ex = this.ex;
    this.destroy();
    ex?.reject(new ClientError(code, message, ex.retried, detail));
  }

  /** Connected (and the TLS handshake done): send the waiting request. */
  ready(): void {
    this.connectTimer?.cancel();
    const ex = this.ex;
    if (ex === null) {
      this.destroy();
      return;
    }
    this.begin(ex);
  }

  /** Whether an idle connection can take a request. */
  usable(): boolean {
    return this.state === IDLE && this.socket !== null && this.socket.readyState === 1;
  }

  makeIdle(): void {
    this.state = IDLE;
    if (this.socketPaused) {
      this.socketPaused = false;
      this.socket?.resume();
    }
    const ms = this.core.config.idleTimeout;
    if (this.idleTimer === null) this.idleTimer = this.core.config.wheel.arm<UpstreamConnection>(ms, onIdleTimeout, this);
    else this.idleTimer.reset(ms);
  }

  /** Closes the socket and forgets everything; callers tell the exchange and body themselves. */
  destroy(): void {
    if (this.state === CLOSED) return;
    const wasIdle = this.state === IDLE;
    this.state = CLOSED;
    this.core.forget(this, wasIdle);
    this.connectTimer?.cancel();
    this.idleTimer?.cancel();
    this.bodyTimer?.cancel();
    this.continueTimer?.cancel();
    this.ex = null;
    this.body = null;
    this.res = R_NONE;
    this.tunnel?.detach();
    this.tunnel = null;
    this.outq.length = 0;
    this.headBuf = null;
    const source = this.source;
    this.source = null;
    this.sink = null;
    const socket = this.socket;
    this.socket = null;
    source?.cancel();
    // A FIN after what was written: an upstream reading a cut body sees fewer bytes, then the close.
    socket?.end();
  }

  /** The exchange let go of it (aborted, timed out): destroyed, the exchange is told by its caller. */
  abandon(): void {
    this.destroy();
  }

  // ---- request ----

  /** Starts `ex` on this connection (connected, idle or new). */
  begin(ex: UpstreamExchange): void {
    this.state = BUSY;
    this.ex = ex;
    ex.conn = this;
    this.res = R_HEAD;
    this.gotBytes = false;
    this.informational = 0;
    this.progress = undefined;
    this.headBuf = null;
    this.keepAlive = false;
    this.reqEnded = false;
    this.reqStopped = false;
    this.sentAny = false;
    this.reqBody = Q_NONE;
    this.sourceBlocked = false;
    this.shutdownPending = false;
    this.bodyTimeout = ex.req.bodyTimeout ?? 0;
    const body = ex.req.body;
    const head = ex.head;
    if (body === undefined) {
      this.reqEnded = true;
      this.write(head, false);
    } else if (ex.expect) {
      if (!this.write(head, false)) return;
      this.reqBody = Q_CONTINUE;
      const wheel = this.core.config.wheel;
      if (this.continueTimer === null) this.continueTimer = wheel.arm<UpstreamConnection>(CONTINUE_WAIT, onContinueWait, this);
      else this.continueTimer.reset(CONTINUE_WAIT);
    } else if (body instanceof Uint8Array) {
      this.reqEnded = true;
      if (head.byteLength + body.byteLength <= SMALL_BODY) {
        SCRATCH.set(head, 0);
        SCRATCH.set(body, head.byteLength);
        this.writeScratch(head.byteLength + body.byteLength);
      } else if (this.write(head, false)) {
        this.write(body, false);
      }
    } else {
      if (this.write(head, false)) this.startSource(body);
    }
  }

  /** After 100 Continue, a final response's absence for 1 s: send the held body. */
  sendBody(): void {
    if (this.reqBody !== Q_CONTINUE || this.state !== BUSY) return;
    this.continueTimer?.cancel();
    this.reqBody = Q_NONE;
    const body = (this.ex as UpstreamExchange).req.body;
    if (body instanceof Uint8Array) {
      this.reqEnded = true;
      this.write(body, false);
    } else if (body !== undefined) {
      this.startSource(body);
    }
  }

  startSource(source: BodySource): void {
    this.reqBody = Q_STREAM;
    this.source = source;
    this.chunked = source.length < 0;
    this.reqLength = source.length;
    this.reqWritten = 0;
    const sink = new RequestSink(this);
    this.sink = sink;
    source.start(sink);
  }

  /** A piece of the streamed request body. Returns false to pause the source until drain. */
  bodyData(chunk: Uint8Array): boolean {
    const n = chunk.byteLength;
    if (n === 0) return this.outq.length === 0;
    if (this.chunked) {
      const header = chunkHeader(n);
      if (n <= SMALL_BODY) {
        let at = SCRATCH.write(header, 0, "latin1");
        SCRATCH.set(chunk, at);
        at += n;
        SCRATCH[at++] = 0x0d;
        SCRATCH[at++] = 0x0a;
        if (!this.writeScratch(at)) return false;
      } else if (!this.write(header, false) || !this.write(chunk, true) || !this.write("\r\n", false)) {
        return false;
      }
    } else {
      this.reqWritten += n;
      if (this.reqWritten > this.reqLength) {
        this.bodySourceFailed(bodyError("body_too_long", `the body source gave more than its length of ${this.reqLength} bytes`));
        return false;
      }
      if (!this.write(chunk, true)) return false;
    }
    if (this.outq.length === 0) return true;
    this.sourceBlocked = true;
    return false;
  }

  bodyEnd(trailers: readonly string[]): void {
    if (!this.chunked && this.reqWritten !== this.reqLength) {
      this.bodySourceFailed(bodyError("body_too_short", `the body source ended after ${this.reqWritten} of ${this.reqLength} bytes`));
      return;
    }
    this.source = null;
    this.sink = null;
    this.reqBody = Q_NONE;
    this.reqEnded = true;
    if (this.chunked) {
      let last: Wire;
      try {
        last = lastChunk(trailers);
      } catch (error) {
        this.bodySourceFailed(bodyError("bad_trailers", (error as Error).message));
        return;
      }
      this.write(last, false);
    }
  }

  /** The request body's source failed (or broke its length): the upstream must see a cut message. */
  bodySourceFailed(error: BodyError): void {
    const ex = this.ex;
    const source = this.source;
    this.source = null; // it failed: not cancelled
    this.sink = null;
    const sent = this.sentAny;
    const body = this.body;
    this.destroy();
    if (error.code === "body_too_long" || error.code === "body_too_short" || error.code === "bad_trailers") source?.cancel();
    if (ex === null) return;
    if (ex.phase === PENDING) ex.reject(new ClientError("aborted", `the request body failed: ${error.reason}`, sent || ex.retried, error.code));
    else body?.fail(error);
  }

  /** A response came before the request was fully written: stop writing it (RFC 9112 §9.3: the connection is not reused). */
  stopRequest(): void {
    this.reqStopped = true;
    this.reqBody = Q_NONE;
    this.continueTimer?.cancel();
    this.outq.length = 0;
    const source = this.source;
    this.source = null;
    this.sink = null;
    source?.cancel();
  }

  /** The request is on the wire (or in the kernel's buffer). */
  requestSent(): boolean {
    return this.reqEnded && this.outq.length === 0;
  }

  /** Writes `data`, queueing what the socket did not take (a copy when `copy`: the view may be reused). False when the socket is gone. */
  write(data: Wire, copy: boolean): boolean {
    const outq = this.outq;
    const socket = this.socket as UpstreamSocket;
    if (outq.length > 0) {
      outq.push(typeof data === "string" ? Buffer.from(data, "latin1") : copy ? data.slice() : data);
      return true;
    }
    const written = socket.write(data);
    if (written < 0) {
      this.lost(undefined);
      return false;
    }
    if (written > 0) this.sentAny = true;
    const length = typeof data === "string" ? data.length : data.byteLength;
    if (written < length) {
      outq.push(typeof data === "string" ? Buffer.from(data.slice(written), "latin1") : copy ? data.slice(written) : data.subarray(written));
    }
    return true;
  }

  /** Writes SCRATCH[0, length). */
  writeScratch(length: number): boolean {
    const outq = this.outq;
    if (outq.length > 0) {
      outq.push(SCRATCH.slice(0, length));
      return true;
    }
    const written = (this.socket as UpstreamSocket).write(SCRATCH, 0, length);
    if (written < 0) {
      this.lost(undefined);
      return false;
    }
    if (written > 0) this.sentAny = true;
    if (written < length) outq.push(SCRATCH.slice(written, length));
    return true;
  }

  onDrain(): void {
    const socket = this.socket;
    if (socket === null || this.state === CLOSED) return;
    const outq = this.outq;
    while (outq.length > 0) {
      const b = outq[0] as Uint8Array;
      const written = socket.write(b);
      if (written < 0) {
        this.lost(undefined);
        return;
      }
      if (written > 0) this.sentAny = true;
      if (written < b.byteLength) {
        outq[0] = b.subarray(written);
        return;
      }
      outq.shift();
    }
    if (this.res === R_TUNNEL) {
      if (this.shutdownPending) {
        this.shutdownPending = false;
        socket.shutdown();
      }
      this.tunnel?.onDrain?.();
    } else if (this.sourceBlocked && this.source !== null) {
      this.sourceBlocked = false;
      this.source.resume();
    }
  }

  // ---- response ----

  onData(buf: Uint8Array): void {
    switch (this.res) {
      case R_BODY:
        this.bodyBytes(buf, 0, buf.byteLength);
        return;
      case R_HEAD:
        this.headBytes(buf);
        return;
      case R_TUNNEL: {
        const body = this.body as ResponseBody;
        body.deliver(buf);
        if (this.body === body && body.blocked) this.pauseReading();
        return;
      }
      default:
        // Bytes on an idle connection, or after a complete response: no
        // request asked for them, so the connection's framing is lost.
        this.destroy();
    }
  }

  headBytes(input: Uint8Array): void {
    const ex = this.ex as UpstreamExchange;
    const limits = this.core.config.limits;
    this.gotBytes = true;
    let buf = input;
    let start = 0;
    let end = input.byteLength;
    if (this.headBuf !== null) {
      buf = this.appendHead(input);
      end = this.headLen;
    }
    for (;;) {
      const r = parseResponseHead(buf, start, end, limits, this.progress);
      if (r.kind === "incomplete") {
        this.progress = r.progress;
        if (buf !== this.headBuf) {
          // Keep the head's bytes so far (the parser resumes at the same start).
          this.headBuf = null;
          this.headLen = 0;
          this.appendHead(buf.subarray(start, end));
        }
        return;
      }
      this.progress = undefined;
      this.headBuf = null;
      this.headLen = 0;
      if (r.kind === "error") {
        ex.fail("bad_response", `invalid response head: ${r.reason}`, r.code);
        return;
      }
      const head = r.head;
      start = r.next;
      const status = head.status;
      if (status >= 200) {
        this.finalHead(ex, head, buf, start, end);
        return;
      }
      // 1xx (RFC 9110 §15.2)
      if (status === 101) {
        if (ex.req.upgrade !== true) {
          ex.fail("bad_response", "101 Switching Protocols to a request that did not ask for an upgrade", "unexpected_101");
          return;
        }
        this.startTunnel(ex, head, TUNNEL_FRAMING, buf, start, end);
        return;
      }
      if (++this.informational > MAX_INFORMATIONAL) {
        ex.fail("bad_response", `more than ${MAX_INFORMATIONAL} informational responses`, "too_many_informational");
        return;
      }
      if (status === 100) {
        this.sendBody();
      } else if (ex.req.onInformational !== undefined) {
        try {
          ex.req.onInformational(head);
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
      if (this.ex !== ex || this.res !== R_HEAD) return;
      if (start === end) return;
    }
  }

  /** Appends to the accumulated head, growing by doubling; returns the buffer. */
  appendHead(bytes: Uint8Array): Uint8Array {
    let buf = this.headBuf;
    const need = this.headLen + bytes.byteLength;
    if (buf === null || buf.byteLength < need) {
      const grown = new Uint8Array(Math.max(need, buf === null ? 1024 : buf.byteLength * 2));
      if (buf !== null) grown.set(buf.subarray(0, this.headLen));
      buf = grown;
      this.headBuf = grown;
    }
    buf.set(bytes, this.headLen);
    this.headLen = need;
    return buf;
  }

  finalHead(ex: UpstreamExchange, head: ResponseHead, buf: Uint8Array, start: number, end: number): void {
    const framing = responseFraming(head, ex.req.method);
    if (framing.kind === "error") {
      ex.fail("bad_response", `invalid response framing: ${framing.reason}`, framing.code);
      return;
    }
    if (framing.kind === "tunnel") {
      this.startTunnel(ex, head, framing, buf, start, end);
      return;
    }
    const sent = this.requestSent();
    // A response before the request was fully written (an early 413, a final
    // answer to Expect: 100-continue): stop writing; the connection is not reused.
    if (!sent) this.stopRequest();
    this.keepAlive = sent && !this.reqStopped && connectionInfo(head).keepAlive;
    let kind: number;
    let length = -1;
    switch (framing.kind) {
      case "length":
        length = framing.length;
        if (length === 0) {
          this.noBody(ex, head, framing, start < end);
          return;
        }
        kind = B_LENGTH;
        this.remaining = length;
        break;
      case "chunked":
        kind = B_CHUNKED;
        if (this.decoder === null) this.decoder = new ChunkedDecoder(this.core.config.chunkedLimits);
        else this.decoder.reset();
        break;
      case "close":
        kind = B_CLOSE;
        this.keepAlive = false;
        break;
      default:
        this.noBody(ex, head, framing, start < end);
        return;
    }
    const body = new ResponseBody(this, length);
    this.body = body;
    this.bodyKind = kind;
    this.res = R_BODY;
    ex.body = body;
    ex.resolve({ status: head.status, reason: head.reason, version: head.version, fields: head.fields, framing, body, tunnel: undefined });
    if (start < end) this.bodyBytes(buf, start, end);
    else if (this.bodyTimeout > 0) this.armBodyTimer();
  }

  noBody(ex: UpstreamExchange, head: ResponseHead, framing: ResponseFraming, extra: boolean): void {
    this.responseDone(extra);
    ex.resolve({ status: head.status, reason: head.reason, version: head.version, fields: head.fields, framing, body: undefined, tunnel: undefined });
  }

  startTunnel(ex: UpstreamExchange, head: ResponseHead, framing: ResponseFraming, buf: Uint8Array, start: number, end: number): void {
    if (!this.requestSent()) this.stopRequest();
    this.keepAlive = false;
    this.res = R_TUNNEL;
    const source = new ResponseBody(this, -1);
    const target = new TunnelTarget(this);
    this.body = source;
    this.tunnel = target;
    ex.body = source;
    ex.resolve({
      status: head.status,
      reason: head.reason,
      version: head.version,
      fields: head.fields,
      framing,
      body: undefined,
      tunnel: { source, target },
    });
    if (start < end) source.deliver(buf.subarray(start, end));
    if (this.body === source && source.blocked) this.pauseReading();
  }

  bodyBytes(buf: Uint8Array, start: number, end: number): void {
    const body = this.body as ResponseBody;
    switch (this.bodyKind) {
      case B_LENGTH: {
        const n = Math.min(this.remaining, end - start);
        this.remaining -= n;
        const view = buf.subarray(start, start + n);
        if (this.remaining === 0) {
          this.responseDone(start + n < end);
          body.deliver(view);
          body.complete(EMPTY);
          return;
        }
        body.deliver(view);
        if (this.body !== body) return;
        break;
      }
      case B_CHUNKED: {
        const r = (this.decoder as ChunkedDecoder).push(buf, start, end);
        const chunks = r.chunks;
        if (r.done) {
          this.responseDone(start + r.consumed < end);
          for (let i = 0; i < chunks.length; i++) body.deliver(chunks[i] as Uint8Array);
          body.complete(r.trailers ?? EMPTY);
          return;
        }
        for (let i = 0; i < chunks.length; i++) {
          body.deliver(chunks[i] as Uint8Array);
          if (this.body !== body) return;
        }
        if (r.error !== undefined) {
          this.bodyFailed(bodyError(r.error.code, r.error.reason));
          return;
        }
        break;
      }
      default:
        body.deliver(buf.subarray(start, end));
        if (this.body !== body) return;
    }
    if (body.blocked) this.pauseReading();
    else if (this.bodyTimeout > 0) this.armBodyTimer();
  }

  armBodyTimer(): void {
    if (this.bodyTimer === null) this.bodyTimer = this.core.config.wheel.arm<UpstreamConnection>(this.bodyTimeout, onBodyTimeout, this);
    else this.bodyTimer.reset(this.bodyTimeout);
  }

  /** The response has fully arrived: the connection goes back to the pool or is closed. */
  responseDone(extra: boolean): void {
    const ex = this.ex as UpstreamExchange;
    this.ex = null;
    ex.conn = null;
    const body = this.body;
    this.body = null;
    if (body !== null) body.owner = null;
    this.res = R_NONE;
    this.bodyTimer?.cancel();
    this.served++;
    if (!extra && this.keepAlive && this.state === BUSY) this.core.release(this);
    else this.destroy();
  }

  /** The body was cut (timeout, malformed chunk): the connection is destroyed, the consumer told. */
  bodyFailed(error: BodyError): void {
    const body = this.body;
    this.destroy();
    body?.fail(error);
  }

  pauseReading(): void {
    if (!this.socketPaused && this.socket !== null) {
      this.socketPaused = true;
      this.socket.pause();
    }
    this.bodyTimer?.cancel();
  }

  resumeReading(): void {
    if (this.socketPaused && this.socket !== null) {
      this.socketPaused = false;
      this.socket.resume();
    }
    if (this.res === R_BODY && this.bodyTimeout > 0) this.armBodyTimer();
  }

  cancelBody(): void {
    this.body = null; // it cancelled itself
    this.destroy();
  }

  // ---- tunnel ----

  tunnelWrite(chunk: Uint8Array): boolean {
    if (this.state === CLOSED) return false;
    if (!this.write(chunk, true)) return false;
    return this.outq.length === 0;
  }

  tunnelEnd(): void {
    if (this.state === CLOSED || this.socket === null) return;
    if (this.outq.length > 0) this.shutdownPending = true;
    else this.socket.shutdown();
  }

  tunnelAbort(): void {
    const body = this.body;
    this.destroy();
    body?.fail(bodyError("cancelled", "the tunnel's writing side was aborted"));
  }

  // ---- closing ----

  /** A TLS session failure, or one of our handlers threw (a sink's exception, passed on after the connection is cleaned up). */
  onError(error: Error): void {
    this.lost(error);
    if (typeof (error as { code?: unknown } | undefined)?.code !== "string") {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  onClose(error: Error | undefined): void {
    this.lost(error);
  }

  /** The socket closed (or failed) under us. */
  lost(error: Error | undefined): void {
    const state = this.state;
    if (state === CLOSED) return;
    if (state === CONNECTING) {
      const code = (error as { code?: string } | undefined)?.code;
      this.connectFailed("connect_failed", `the connection closed while connecting${error ? `: ${error.message}` : ""}`, code ?? "closed");
      return;
    }
    if (state === IDLE) {
      this.destroy();
      return;
    }
    const ex = this.ex;
    const body = this.body;
    const res = this.res;
    const sent = this.sentAny;
    const reused = this.served > 0;
    const gotBytes = this.gotBytes;
    const bodyKind = this.bodyKind;
    this.destroy();
    if (ex === null) return;
    if (res === R_HEAD) {
      const replayable = ex.req.body === undefined || ex.req.body instanceof Uint8Array;
      if (!gotBytes && reused && replayable && !ex.retried && ex.phase === PENDING) {
        // The stale keep-alive race: the upstream closed an idle connection as
        // we reused it. Send again, once, on a new connection.
        ex.retried = true;
        ex.conn = null;
        this.core.dispatch(ex, true);
        return;
      }
      const code = (error as { code?: string } | undefined)?.code;
      if (!gotBytes && !reused && code === "EPROTO" && this.core.config.tls !== undefined) {
        // TLS 1.3: a server refuses a client certificate (or its absence) after the client's side of
        // the handshake is done, so the refusal arrives as an alert in place of the response.
        ex.reject(new ClientError("connect_failed", `TLS session refused by the upstream after the handshake (it may require a client certificate, or not accept the one sent)${error?.message ? `: ${error.message}` : ""}`, sent || ex.retried, "tls_alert"));
        return;
      }
      const why = gotBytes ? "in the middle of the response head" : "before any response byte";
      ex.reject(new ClientError("reset", `the upstream closed the connection ${why}`, sent || ex.retried, gotBytes ? "incomplete_head" : (error as { code?: string } | undefined)?.code));
      return;
    }
    if (body === null) return;
    if (res === R_TUNNEL || (bodyKind === B_CLOSE && error === undefined)) body.complete(EMPTY);
    else body.fail(CLOSED_ERROR);
  }
}
