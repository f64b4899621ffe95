/**
 * The data-plane listener's certificates over time: compiled from `tls:` at
 * start, re-read when a file changes (polled: a rename, a symlink swap as
 * Kubernetes does for secrets, or an in-place write are all seen) or when a
 * config reload changes `tls:`. A change that loads and verifies goes to the
 * engine's `replaceTls` (new handshakes get it, open connections keep their
 * session); one that does not (a half-written file, a key that does not match
 * yet, an expired certificate) is logged once and the served certificates
 * stay. Counted in ficus_tls_reloads_total; each served certificate's
 * not-after is ficus_tls_certificate_expiry_timestamp_seconds.
 */
import { statSync } from "node:fs";
import { FicusError } from "../core/errors.ts";
import type { Http1Server } from "../http1/server.ts";
import type { Logger } from "../observability/logger.ts";
import { Counter, Gauge, type Metrics } from "../observability/metrics.ts";
import { compileListenerTls, type ListenerTlsConfig, type ListenerTlsSettings } from "./settings.ts";

interface TlsMetrics {
  readonly reloads: Counter<"result">;
  readonly expiry: Gauge<"name">;
}

const registered = new WeakMap<Metrics, TlsMetrics>();

/** The TLS metrics of a Metrics instance (created once per instance). */
export function tlsMetrics(metrics: Metrics): TlsMetrics {
  let m = registered.get(metrics);
  if (m === undefined) {
    m = {
      reloads: new Counter(metrics.registry, {
        name: "ficus_tls_reloads_total",
        help: "Listener certificate reloads after a file or config change, by result (success; failure: the files did not load or verify, the served certificates stay).",
        labelNames: ["result"] as const,
      }),
      expiry: new Gauge(metrics.registry, {
        name: "ficus_tls_certificate_expiry_timestamp_seconds",
        help: 'Not-after of each certificate the listener serves (name: "default" or the SNI server name), in seconds since the epoch.',
        labelNames: ["name"] as const,
        aggregator: "min",
      }),
    };
    registered.set(metrics, m);
  }
  return m;
}

function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ""}`;
  }
}

export interface ListenerTlsOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** For tests: the clock certificates are checked against. */
  readonly now?: () => number;
}

export class ListenerTls {
  private current: ListenerTlsSettings;
  private config: ListenerTlsConfig;
  private server: Http1Server | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stamps = "";
  private lastError = "";
  private readonly logger: Logger;
  private readonly metrics: TlsMetrics | undefined;
  private readonly now: () => number;

  /** Reads and checks the files now: throws the FICUS_TLS_* error of the first problem. */
  constructor(config: ListenerTlsConfig, opts: ListenerTlsOptions) {
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.metrics = opts.metrics ? tlsMetrics(opts.metrics) : undefined;
    this.config = config;
    this.current = compileListenerTls(config, this.now());
    this.stamps = this.stampAll();
    this.publish();
  }

  /** What the listener serves now (the engine's `tls` and `serverNames` options). */
  get settings(): ListenerTlsSettings {
    return this.current;
  }

  /** Starts following the files for `server` (the listener made from `settings`). */
  attach(server: Http1Server): void {
    this.server = server;
    this.watch();
  }

  /**
   * A config reload: new `tls:` settings. Throws (the served certificates stay)
   * when the files do not load; a no-op when nothing changed.
   */
  configure(config: ListenerTlsConfig): void {
    const next = compileListenerTls(config, this.now());
    const interval = this.config.watch_interval;
    this.config = config;
    this.swap(next, "config");
    if (config.watch_interval !== interval) this.watch();
  }

  /** Checks the files now (what the timer does); true when new certificates went into service. */
  check(): boolean {
    const stamps = this.stampAll();
    if (stamps === this.stamps) return false;
    let next: ListenerTlsSettings;
    try {
      next = compileListenerTls(this.config, this.now());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Once per distinct problem: a file being written is seen on several ticks.
      if (message !== this.lastError) {
        this.lastError = message;
        this.metrics?.reloads.inc({ result: "failure" });
        this.logger.error("TLS files changed but do not load; still serving the previous certificates", { code: err instanceof FicusError ? err.code : "FICUS_TLS_FILE", error: message });
      }
      return false;
    }
    this.stamps = stamps;
    return this.swap(next, "file");
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.server = undefined;
  }

  private swap(next: ListenerTlsSettings, why: "file" | "config"): boolean {
    this.lastError = "";
    this.stamps = this.stampAll(next);
    if (next.digest === this.current.digest) {
      this.current = next;
      return false;
    }
    try {
      this.server?.replaceTls(next.tls, next.serverNames);
    } catch (err) {
      this.metrics?.reloads.inc({ result: "failure" });
      this.logger.error("cannot put the new TLS certificates into service; still serving the previous ones", { code: "FICUS_LISTEN_FAILED", error: err instanceof Error ? err.message : String(err) });
      return false;
    }
    this.current = next;
    this.publish();
    this.metrics?.reloads.inc({ result: "success" });
    const served = [...next.certificates].map(([name, c]) => ({ name, subject: c.subject, valid_to: new Date(c.validTo).toISOString(), fingerprint256: c.fingerprint256 }));
    this.logger.info("TLS certificates reloaded; new connections get them, open ones keep their session", { after: why, certificates: served });
    return true;
  }

  private publish(): void {
    if (!this.metrics) return;
    this.metrics.expiry.reset();
    for (const [name, c] of this.current.certificates) this.metrics.expiry.set({ name }, Math.floor(c.validTo / 1000));
  }

  private stampAll(settings: ListenerTlsSettings = this.current): string {
    return settings.files.map(stamp).join("|");
  }

  private watch(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.server === undefined || this.config.watch_interval === 0) return;
    this.timer = setInterval(() => this.check(), this.config.watch_interval);
    this.timer.unref?.();
  }
}

/** The top-level `tls:` of a validated config, when set. */
export function listenerTlsConfig(config: object): ListenerTlsConfig | undefined {
  return (config as { readonly tls?: ListenerTlsConfig }).tls;
}
