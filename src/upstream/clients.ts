/**
 * Keep-alive connection pools to upstream origins, shared by every route
 * table: a reload builds new routes but keeps the warm connections of the
 * origins it still uses. One ConnectionPool per origin (scheme, host, port)
 * and TLS settings (an upstream's `tls:`: CA, client certificate, server
 * name), so upstreams with different TLS settings never share a connection,
 * and changed certificate files (a new digest) get new connections on reload.
 */
import { ConnectionPool } from "../http1/client.ts";
import type { TimerWheel } from "../http1/timers.ts";
import type { UpstreamTlsSettings } from "../tls/settings.ts";

export interface ClientSettings {
  readonly maxIdle: number;
  readonly idleTimeout: number;
  readonly connectTimeout: number;
}

export class UpstreamClients {
  private readonly pools = new Map<string, ConnectionPool>();

  constructor(
    private readonly wheel: TimerWheel,
    private settings: ClientSettings,
  ) {}

  /** The pool for an origin URL's scheme, host and port, with an upstream's TLS settings (https only). */
  for(url: URL, upstreamTls?: UpstreamTlsSettings): ConnectionPool {
    const tls = url.protocol === "https:";
    const port = url.port !== "" ? Number(url.port) : tls ? 443 : 80;
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const key = tls && upstreamTls !== undefined ? `https://${host}:${port}#${upstreamTls.key}` : `${tls ? "https" : "http"}://${host}:${port}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new ConnectionPool({
        host,
        port,
        // Verification is on unless the upstream says insecure_skip_verify; the server name defaults to the host.
        tls: tls ? { serverName: host, ...upstreamTls?.options } : undefined,
        maxIdle: this.settings.maxIdle,
        idleTimeout: this.settings.idleTimeout,
        connectTimeout: this.settings.connectTimeout,
        wheel: this.wheel,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Settings for pools made from now on (a reload); existing pools keep theirs until closed. */
  configure(settings: ClientSettings): void {
    this.settings = settings;
  }

  /** Closes pools no route uses any more (after a reload), and idle connections with them. */
  retain(used: ReadonlySet<ConnectionPool>): void {
    for (const [key, pool] of this.pools) {
      if (used.has(pool)) continue;
      pool.close();
      this.pools.delete(key);
    }
  }

  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
