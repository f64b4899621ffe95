/**
 * The client side of Ficus's HTTP/1.1 connection layer: a keep-alive pool of
 * connections to one upstream (host and port), on `Bun.connect`.
 *
 * ```ts
 * const pool = new ConnectionPool({ host: "127.0.0.1", port: 8080 });
 * const ex = pool.request({ method: "GET", target: "/", fields: ["host", "example"], headerTimeout: 5000 });
 * const res = await ex.response;            // rejects with a ClientError
 * if (res.body) await readBody(res.body);   // the connection returns to the pool when the body ends
 * ```
 *
 * One request per connection at a time (no pipelining); idle connections are
 * kept on a LIFO stack (the most recently used is the warmest and least
 * likely to have been closed by the upstream); a request that meets a stale
 * reused connection is sent again once on a new one when its body can be
 * replayed. Deadlines run on one TimerWheel. The hot path lives in
 * client-connection.ts; see README.md beside this file.
 */
import type { TLSOptions } from "bun";
import { type ClientExchange, type ClientRequest, UpstreamExchange, type PoolConfig, PoolCore } from "./client-connection.ts";
import { type ChunkedLimits, chunkedLimits, type HeadLimits, headLimits } from "./limits.ts";
import { TimerWheel } from "./timers.ts";

export type { ClientExchange, ClientRequest, ClientResponse } from "./client-connection.ts";
export { ClientError, type ClientErrorCode } from "./client-error.ts";

export interface PoolOptions {
  host: string;
  port: number;
  /** An https upstream: `true`, or Bun's TLS options. The server name (SNI and certificate check) is `host` unless given. */
  tls?: boolean | TLSOptions;
  /** Idle keep-alive connections kept (default 64); a connection returned to a full pool is closed. */
  maxIdle?: number;
  /** ms an idle connection is kept (default 4000: upstreams commonly close at 5 s). */
  idleTimeout?: number;
  /** ms for TCP connect and the TLS handshake (default 5000). */
  connectTimeout?: number;
  /** Bounds on response heads (defaults: DEFAULT_HEAD_LIMITS). */
  limits?: Partial<HeadLimits>;
  /** Bounds on chunked response bodies (defaults: DEFAULT_CHUNKED_LIMITS). */
  chunkedLimits?: Partial<ChunkedLimits>;
  /** The timer wheel for every deadline (default: one wheel shared by the pools that are given none). */
  wheel?: TimerWheel;
  /** Opens sockets (default `Bun.connect`); for tests. */
  connect?: typeof Bun.connect;
}

let sharedWheel: TimerWheel | undefined;

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`ConnectionPool option ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Bun's TLS options with the server name (SNI, and the name the certificate
 * is checked against) set to `host` unless given. Never an empty object: Bun
 * reads `tls: {}` as no TLS at all.
 */
function tlsOptions(host: string, tls: boolean | TLSOptions | undefined): TLSOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  const options: TLSOptions = tls === true ? {} : { ...tls };
  if (options.serverName === undefined) options.serverName = options.servername ?? host;
  return options;
}

/** Keep-alive connections to one upstream. */
export class ConnectionPool {
  readonly #core: PoolCore;

  constructor(opts: PoolOptions) {
    if (typeof opts.host !== "string" || opts.host.length === 0) throw new TypeError("ConnectionPool option host must be a non-empty string");
    const port = count("port", opts.port, -1, 1);
    if (port > 65535) throw new RangeError(`ConnectionPool option port must be 1..65535, got ${port}`);
    const config: PoolConfig = Object.freeze({
      host: opts.host,
      port,
      tls: tlsOptions(opts.host, opts.tls),
      maxIdle: count("maxIdle", opts.maxIdle, 64, 0),
      idleTimeout: count("idleTimeout", opts.idleTimeout, 4000, 1),
      connectTimeout: count("connectTimeout", opts.connectTimeout, 5000, 1),
      limits: headLimits(opts.limits),
      chunkedLimits: chunkedLimits(opts.chunkedLimits),
      wheel: opts.wheel ?? (sharedWheel ??= new TimerWheel()),
      connect: opts.connect ?? Bun.connect,
    });
    this.#core = new PoolCore(config);
  }

  /**
   * Sends a request on an idle connection (the most recently used) or a new
   * one. Throws a TypeError for a malformed request (a CR in a value, a
   * framing field in `fields`); everything else is reported through the
   * exchange.
   */
  request(req: ClientRequest): ClientExchange {
    const core = this.#core;
    const ex = new UpstreamExchange(req, core.config.wheel);
    core.dispatch(ex, false);
    return ex;
  }

  /** Idle connections kept for reuse. */
  get idle(): number {
    return this.#core.idle.length;
  }

  /** Connections connecting or serving an exchange (tunnels included). */
  get active(): number {
    return this.#core.active;
  }

  /** Closes idle connections now and the others when their exchange ends; later requests fail (`connect_failed`, detail `pool_closed`). */
  close(): void {
    this.#core.close();
  }
}
