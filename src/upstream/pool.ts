/**
 * An upstream: its endpoints (pre-parsed once), the balancing policy, and
 * passive health checking. An endpoint that fails `max_failures` times in a
 * row is ejected for a back-off that doubles on each repeated ejection (capped);
 * a success resets its failure count. When every endpoint is ejected the pool
 * fails open (uses the one whose ejection ends first), as Envoy's panic mode
 * does: a wholly ejected upstream is more often a gateway-side problem than a
 * dead fleet.
 */
import type { ConnectionPool } from "../http1/client.ts";
import type { UpstreamTlsSettings } from "../tls/settings.ts";
import type { UpstreamClients } from "./clients.ts";

export interface HealthSettings {
  readonly maxFailures: number;
  readonly ejectionMs: number;
  readonly maxEjectionMs: number;
}

export interface EjectionEvent {
  readonly upstream: string;
  readonly endpoint: string;
  readonly failures: number;
  readonly durationMs: number;
}

export class Endpoint {
  /** Base URL without trailing slash: "http://10.0.0.1:8080" or "http://h/base". */
  readonly base: string;
  /** The URL's path without trailing slash ("" or "/base"), put before every forwarded target. */
  readonly basePath: string;
  /** The keep-alive connections to this endpoint's origin (shared with other endpoints of the same origin). */
  readonly client: ConnectionPool | undefined;
  /** Value for the Host header: hostname[:port] as in the URL. */
  readonly host: string;
  /** Label for metrics and logs: origin + base path. */
  readonly id: string;
  readonly wsBase: string;
  inflight = 0;
  consecutiveFailures = 0;
  ejectedUntil = 0;
  ejections = 0;

  constructor(url: string, clients?: UpstreamClients, tls?: UpstreamTlsSettings) {
    const u = new URL(url);
    const basePath = u.pathname.replace(/\/+$/, "");
    this.basePath = basePath;
    this.client = clients?.for(u, tls);
    this.base = `${u.protocol}//${u.host}${basePath}`;
    this.host = u.host;
    this.id = this.base;
    this.wsBase = `${u.protocol === "https:" ? "wss:" : "ws:"}//${u.host}${basePath}`;
  }
}

export type Balance = "round_robin" | "least_outstanding";

export class UpstreamPool {
  readonly name: string;
  readonly endpoints: readonly Endpoint[];
  private readonly balance: Balance;
  private readonly health: HealthSettings;
  private cursor = 0;
  /** The upstream's `tls:` (https endpoints), when configured. */
  readonly tls: UpstreamTlsSettings | undefined;
  onEject: ((e: EjectionEvent) => void) | undefined;

  constructor(name: string, urls: readonly string[], balance: Balance, health: HealthSettings, clients?: UpstreamClients, tls?: UpstreamTlsSettings) {
    this.name = name;
    this.tls = tls;
    this.endpoints = urls.map((u) => new Endpoint(u, clients, tls));
    this.balance = balance;
    this.health = health;
  }

  /** Picks an endpoint, skipping ejected ones and any in `exclude` (tried already by this request). */
  pick(now: number, exclude?: Endpoint): Endpoint {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 1) return eps[0] as Endpoint;
    let best: Endpoint | undefined;
    if (this.balance === "round_robin") {
      for (let i = 0; i < n; i++) {
        const e = eps[(this.cursor + i) % n] as Endpoint;
        if (e.ejectedUntil <= now && e !== exclude) {
          this.cursor = (this.cursor + i + 1) % n;
          return e;
        }
      }
    } else {
      // Least outstanding requests; ties broken by rotating the start point.
      const start = this.cursor++ % n;
      for (let i = 0; i < n; i++) {
        const e = eps[(start + i) % n] as Endpoint;
        if (e.ejectedUntil > now || e === exclude) continue;
        if (!best || e.inflight < best.inflight) best = e;
      }
      if (best) return best;
    }
    // Everything ejected (or excluded): fail open to the endpoint whose ejection ends first.
    for (const e of eps) if (e !== exclude && (!best || e.ejectedUntil < best.ejectedUntil)) best = e;
    return best ?? (eps[0] as Endpoint);
  }

  success(e: Endpoint): void {
    if (e.consecutiveFailures !== 0) e.consecutiveFailures = 0;
    if (e.ejections !== 0 && e.ejectedUntil <= Date.now()) e.ejections = 0;
  }

  failure(e: Endpoint, now: number): void {
    e.consecutiveFailures++;
    if (e.consecutiveFailures < this.health.maxFailures || e.ejectedUntil > now) return;
    const durationMs = Math.min(this.health.ejectionMs * 2 ** e.ejections, this.health.maxEjectionMs);
    e.ejections++;
    e.ejectedUntil = now + durationMs;
    const failures = e.consecutiveFailures;
    e.consecutiveFailures = 0;
    this.onEject?.({ upstream: this.name, endpoint: e.id, failures, durationMs });
  }

  ejectedCount(now: number): number {
    let n = 0;
    for (const e of this.endpoints) if (e.ejectedUntil > now) n++;
    return n;
  }
}

/**
 * Retry budget: retries may add at most `ratio` of the request rate, plus a
 * floor of `minPerSecond`, so retries can never multiply an overload
 * (Finagle/Linkerd style). Tokens are earned per request and spent per retry.
 */
export class RetryBudget {
  private tokens: number;
  private last: number;
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly cap: number;

  constructor(ratio: number, minPerSecond: number, now = Date.now()) {
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.cap = Math.max(minPerSecond, 1) * 10;
    this.tokens = minPerSecond;
    this.last = now;
  }

  /** Called once per original request. */
  deposit(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens += (elapsed / 1000) * this.minPerSecond;
      this.last = now;
    }
    this.tokens = Math.min(this.cap, this.tokens + this.ratio);
  }

  /** Takes one retry token; false when the budget is spent. */
  withdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
