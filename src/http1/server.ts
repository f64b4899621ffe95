/**
 * The server side of the HTTP/1.1 connection layer: `listen()` accepts
 * connections with `Bun.listen` (plain or TLS) and drives the codec over
 * each one — heads parsed incrementally, bodies read with backpressure,
 * responses framed and written, keep-alive and pipelining, 100-continue,
 * Upgrade tunnels, and every deadline (head, idle, body, send) on one
 * TimerWheel. It knows nothing above HTTP: each request goes to `handler`,
 * errors to `onError`.
 *
 * Files: this one (options, `listen`, the server), server-connection.ts (one
 * object per socket: input, output, timers, the request loop),
 * server-exchange.ts (the request, its body source and the response),
 * server-tunnel.ts (the byte tunnel after 101).
 */
import type { Socket, SocketHandler, TCPSocketListener, TLSOptions } from "bun";
import type { PeerCertificate } from "node:tls";
import type { BodySource, BodyTarget } from "./body.ts";
import { type ChunkedLimits, chunkedLimits, type HeadLimits, headLimits } from "./limits.ts";
import { STATUS_REASONS } from "./serialize.ts";
import { Connection, type ServerCore } from "./server-connection.ts";
import { addServerName } from "./server-names.ts";
import { TimerWheel } from "./timers.ts";

export interface ServerOptions {
  hostname: string;
  port: number;
  reusePort?: boolean;
  /**
   * Serve TLS when set: the default context (clients that send no server
   * name, or one no `serverNames` entry matches). With `requestCert` and a
   * `ca`, a verified client certificate is on `ServerRequest.peerCertificate`.
   */
  tls?: TLSOptions;
  /** More certificates, each served to clients asking for its name (SNI); with `tls` only. Give each the same client-certificate options as `tls`. */
  serverNames?: readonly ServerName[];
  limits?: Partial<HeadLimits>;
  chunkedLimits?: Partial<ChunkedLimits>;
  timeouts?: {
    /** ms from a request's first byte (or from accept, for the first request) until its whole head has arrived: 408 then close (a silent close when nothing came). Default 30 000. */
    head?: number;
    /** ms idle between requests on a kept-alive connection: silent close. Default 60 000. */
    keepAlive?: number;
    /** ms with no request-body byte while the handler is reading it: the body source errors `{code: "timeout"}`. Default 60 000. */
    body?: number;
    /** ms the client may leave our output buffered without reading any of it: the connection is closed, the exchange aborted. Default 60 000. */
    send?: number;
  };
  /** Bytes of input read but not yet processed (pipelined requests, a body not yet read) before the socket is paused. Default 64 KiB. */
  maxPipelined?: number;
  /** A shared timer structure (default: one per server). */
  wheel?: TimerWheel;
  /**
   * Called once per request, in order (one at a time per connection). May
   * throw: the server then answers 500 if no response head went out yet,
   * else closes the connection.
   */
  handler(req: ServerRequest, res: ServerResponse): void;
  /**
   * Formats the body of a response the server writes itself
   * (400/408/413/414/431/417/501/505/500): header fields (flat; no framing or
   * Connection field) and body. Default: `text/plain`, "<status> <reason phrase>\n".
   */
  errorResponse?(status: number, code: string, reason: string): { fields: string[]; body: Uint8Array | string };
  /** Logging hook: handler throws (`where` = "handler", "body"), errorResponse throws, a response ended short ("response"), socket errors ("socket"). */
  onError?(error: unknown, where: string): void;
}

/** A TLS context served for one name: "api.example.com", or "*.example.com" for one label under it. */
export interface ServerName {
  readonly serverName: string;
  readonly tls: TLSOptions;
}

export interface Http1Server {
  readonly port: number;
  readonly hostname: string;
  /** Open connections. */
  connections: number;
  /** Requests handed to the handler whose response has not finished. */
  activeRequests: number;
  /**
   * Stops accepting; idle kept-alive connections are closed now, busy ones
   * after their current response (which gets `connection: close`). Resolves
   * true when all connections are gone, or false once `deadlineMs` passed
   * (the rest are then closed, and their exchanges see onAbort("shutdown")).
   */
  close(deadlineMs: number): Promise<boolean>;
  /** Closes everything at once (exchanges see onAbort("shutdown")). */
  destroy(): void;
  /**
   * New TLS contexts (certificate rotation), for new connections only: open
   * connections keep their session. Bun cannot swap a listener's TLS context
   * in place, so a new listener is bound to the same address (which needs
   * `reusePort`) with the new contexts, then the old one stops accepting;
   * both feed the same connections and the same handler. Throws when the
   * server was not started with `tls` and `reusePort`, or the bind fails
   * (the old listener then keeps serving).
   */
  replaceTls(tls: TLSOptions, serverNames?: readonly ServerName[]): void;
}

export interface ServerRequest {
  readonly method: string;
  readonly target: string;
  readonly version: 0 | 1;
  /** Flat [name, value, …] exactly as parsed (names as received). */
  readonly fields: readonly string[];
  /** From requestAuthority: Host, or the absolute-form / CONNECT target's authority. */
  readonly authority: string;
  /** The target was absolute-form. */
  readonly absoluteForm: boolean;
  readonly peer: { readonly address: string; readonly port: number };
  readonly tls: boolean;
  /**
   * The client's certificate when the TLS handshake asked for one and it
   * verified against the server's `ca` (read once per connection, on first use);
   * undefined otherwise (no TLS, none asked, none sent, or it failed to verify).
   */
  readonly peerCertificate?: PeerCertificate | undefined;
  /** The server sends "100 Continue" itself the first time the body source is started or resumed, if no response head was written yet. */
  readonly expectContinue: boolean;
  /** The lowercased first protocol of Upgrade when Connection has "upgrade" (HTTP/1.1 only), e.g. "websocket". */
  readonly upgrade: string | undefined;
  /** undefined when the request has no body; `length` is the Content-Length, or -1 for chunked. */
  readonly body: BodySource | undefined;
  /** performance.now() when the head was complete. */
  readonly receivedAt: number;
}

export interface ServerResponse extends BodyTarget {
  /**
   * Sends (when the first body byte or `end` comes, in the same socket write)
   * the response head. `framing`: a number is the Content-Length to send;
   * "chunked" is chunked for HTTP/1.1 clients and close-delimited for
   * HTTP/1.0; "none" is no body and no framing field (1xx, 204, 304, HEAD
   * without a known length; on any other status the server writes
   * `content-length: 0`). For a HEAD request the framing is written as given
   * and body bytes are dropped. `fields` must not hold Content-Length,
   * Transfer-Encoding or Connection: the server writes framing and
   * `connection: close` / `keep-alive` itself.
   */
  writeHead(status: number, reason: string | undefined, fields: readonly string[], framing: number | "chunked" | "none"): void;
  /** A 1xx informational response (e.g. 103) before writeHead; dropped for HTTP/1.0 clients (RFC 9110 §15.2). */
  writeInformational(status: number, fields: readonly string[]): void;
  readonly headSent: boolean;
  readonly finished: boolean;
  /**
   * After writeHead(101, …, "none") (or a 2xx to CONNECT): the connection as a
   * byte tunnel both ways; bytes the client sent after the request head come
   * first from `source`. No more requests are read on this connection.
   */
  tunnel(): { source: BodySource; target: BodyTarget };
  /** Close after this response (adds `connection: close` when the head is not yet sent). */
  closeAfter(): void;
  /** Called once if the connection dies (client closed or reset, send timeout, server shut down) before the response finished. */
  onAbort: ((reason: "closed" | "timeout" | "shutdown") => void) | undefined;
}

const DEFAULTS = { head: 30_000, keepAlive: 60_000, body: 60_000, send: 60_000 } as const;

function checkMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`http1 server: timeouts.${name} must be a finite number > 0 (ms), got ${String(value)}`);
  return value;
}

function defaultErrorResponse(status: number): { fields: string[]; body: string } {
  return { fields: ["content-type", "text/plain; charset=utf-8"], body: `${status} ${STATUS_REASONS[status] ?? "Error"}\n` };
}

function defaultOnError(): void {}

class Server implements Http1Server, ServerCore {
  readonly port: number;
  readonly hostname: string;
  connections = 0;
  activeRequests = 0;
  closing = false;
  readonly handler: ServerCore["handler"];
  readonly limits: Readonly<HeadLimits>;
  readonly chunkedLimits: Readonly<ChunkedLimits>;
  readonly headMs: number;
  readonly keepAliveMs: number;
  readonly bodyMs: number;
  readonly sendMs: number;
  readonly maxPipelined: number;
  readonly wheel: TimerWheel;
  readonly tls: boolean;
  readonly errorResponse: ServerCore["errorResponse"];
  readonly onError: ServerCore["onError"];
  readonly #conns = new Set<Connection>();
  #listener: TCPSocketListener<Connection | undefined>;
  /** Listeners replaced by replaceTls: no longer accepting, their connections still served. */
  readonly #retired: TCPSocketListener<Connection | undefined>[] = [];
  readonly #listenOptions: Bun.TCPSocketListenOptions<Connection | undefined>;
  #closed: (() => void) | undefined;

  constructor(opts: ServerOptions) {
    if (typeof opts.handler !== "function") throw new TypeError("http1 server: handler must be a function");
    this.handler = opts.handler;
    this.limits = headLimits(opts.limits);
    this.chunkedLimits = chunkedLimits(opts.chunkedLimits);
    const t = opts.timeouts ?? {};
    this.headMs = checkMs("head", t.head, DEFAULTS.head);
    this.keepAliveMs = checkMs("keepAlive", t.keepAlive, DEFAULTS.keepAlive);
    this.bodyMs = checkMs("body", t.body, DEFAULTS.body);
    this.sendMs = checkMs("send", t.send, DEFAULTS.send);
    const maxPipelined = opts.maxPipelined ?? 65536;
    if (!Number.isSafeInteger(maxPipelined) || maxPipelined < 1) {
      throw new RangeError(`http1 server: maxPipelined must be an integer ≥ 1 (bytes), got ${String(maxPipelined)}`);
    }
    this.maxPipelined = maxPipelined;
    this.wheel = opts.wheel ?? new TimerWheel();
    this.tls = opts.tls !== undefined;
    this.errorResponse = opts.errorResponse ?? defaultErrorResponse;
    this.onError = opts.onError ?? defaultOnError;

    const server = this;
    const socket: SocketHandler<Connection | undefined> = {
      open(s) {
        const conn = new Connection(server, s as Socket<Connection>);
        s.data = conn;
        server.connections++;
        server.#conns.add(conn);
        if (server.closing) conn.shutdown();
      },
      data(s, d) {
        s.data?.onData(d);
      },
      drain(s) {
        s.data?.onWritable();
      },
      end(s) {
        s.data?.onPeerEnd();
      },
      close(s, error) {
        s.data?.onClosed(error);
      },
      error(s, error) {
        server.onError(error, "socket");
        s.data?.onSocketError();
      },
    };
    // reusePort is accepted by Bun.listen at run time; its TCPSocketListenOptions type omits it.
    const listenOptions = {
      hostname: opts.hostname,
      port: opts.port,
      allowHalfOpen: true,
      reusePort: opts.reusePort === true,
      tls: opts.tls,
      socket,
      data: undefined,
    } as Bun.TCPSocketListenOptions<Connection | undefined>;
    if (opts.serverNames !== undefined && opts.serverNames.length > 0 && opts.tls === undefined) throw new TypeError("http1 server: serverNames needs tls (the default context)");
    this.#listenOptions = listenOptions;
    this.#listener = this.#bind(opts.tls, opts.serverNames);
    this.port = this.#listener.port;
    this.hostname = this.#listener.hostname;
  }

  #bind(tls: TLSOptions | undefined, serverNames: readonly ServerName[] | undefined, port?: number): TCPSocketListener<Connection | undefined> {
    const options = { ...this.#listenOptions, tls, ...(port !== undefined ? { port } : {}) } as Bun.TCPSocketListenOptions<Connection | undefined>;
    const listener = Bun.listen<Connection | undefined>(options);
    try {
      for (const s of serverNames ?? []) addServerName(listener, s.serverName, s.tls);
    } catch (err) {
      listener.stop(true);
      throw err;
    }
    return listener;
  }

  replaceTls(tls: TLSOptions, serverNames?: readonly ServerName[]): void {
    if (!this.tls) throw new TypeError("http1 server: replaceTls on a server started without tls");
    if (!(this.#listenOptions as { reusePort?: boolean }).reusePort) throw new TypeError("http1 server: replaceTls needs reusePort (the new listener binds the same address first)");
    if (this.closing) return;
    const next = this.#bind(tls, serverNames, this.port);
    const old = this.#listener;
    this.#listener = next;
    old.stop(false);
    this.#retired.push(old);
  }

  /** @internal A connection is gone (called once per connection). */
  connectionClosed(conn: Connection): void {
    this.connections--;
    this.#conns.delete(conn);
    if (this.closing && this.connections === 0 && this.#closed !== undefined) this.#closed();
  }

  close(deadlineMs: number): Promise<boolean> {
    if (!this.closing) {
      this.closing = true;
      this.#listener.stop(false);
    }
    for (const conn of [...this.#conns]) conn.shutdown();
    if (this.connections === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const previous = this.#closed;
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#closed = () => {
        if (timer !== undefined) clearTimeout(timer);
        previous?.();
        resolve(true);
      };
      timer = setTimeout(() => {
        timer = undefined;
        if (this.connections === 0) return;
        this.#closed = previous;
        for (const conn of [...this.#conns]) conn.destroy("shutdown");
        resolve(false);
      }, Math.max(0, deadlineMs));
    });
  }

  destroy(): void {
    this.closing = true;
    this.#listener.stop(false);
    for (const conn of [...this.#conns]) conn.destroy("shutdown");
    this.#listener.stop(true);
    for (const old of this.#retired.splice(0)) old.stop(true);
  }
}

/** Starts a server; throws when the address cannot be bound (the OS message). */
export function listen(opts: ServerOptions): Http1Server {
  return new Server(opts);
}
