/**
 * One data-plane process: the HTTP/1.1 listener (Ficus's own engine), the
 * layer pipeline over it, the current route table and its hot reload, and
 * graceful drain. Used directly with one worker, or inside each worker
 * process when the supervisor runs several (SO_REUSEPORT).
 */
import { FicusError } from "../core/errors.ts";
import type { LoadedConfig } from "../config/load.ts";
import { type Http1Server, listen } from "../http1/server.ts";
import { TimerWheel } from "../http1/timers.ts";
import { AccessLog } from "../observability/access-log.ts";
import { ObservabilityLayer } from "../observability/layer.ts";
import type { Logger } from "../observability/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import { createTracer, type Tracer } from "../observability/tracing.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { LimitsLayer } from "../pipeline/layers/limits.ts";
import { requestIdLayer } from "../pipeline/layers/request-id.ts";
import { UpstreamClients } from "../upstream/clients.ts";
import { ForwardLayer } from "../proxy/forward-layer.ts";
import { upstreamRequestLayer } from "../proxy/upstream-request.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import type { ConnectionPool } from "../http1/client.ts";
import { RoutingLayer } from "../routing/layer.ts";
import { buildRouteTable, type RouteTable } from "../routing/route-table.ts";
import { MigrationLayer } from "../migration/layer.ts";
import { buildMigrationRoutes, type MigrationRoutes } from "../migration/routes.ts";
import type { ResultsWriter } from "../migration/results-writer.ts";
import { Redactor } from "../migration/redact.ts";
import type { ControlRow } from "../migration/store.ts";
import { RecordLayer } from "../record/layer.ts";
import type { RecordCommand, SessionStatus, TrafficRecorder } from "../record/recorder.ts";
import { ListenerTls, listenerTlsConfig } from "../tls/listener.ts";
import type { Sidecar } from "../sidecar/front.ts";
import type { SidecarSettings } from "../sidecar/settings.ts";
import { configDir, Enforcement } from "./enforcement.ts";
import { McpLayer, McpWellKnownLayer } from "../mcp/layer.ts";
import type { McpService } from "../mcp/service.ts";
import { Http1Front } from "./http1-front.ts";
import { hasMcpMigrations } from "../mcp/governance/migration/has.ts";
import { engineErrorResponse } from "./engine-errors.ts";

export interface GatewayOptions {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  /** Set SO_REUSEPORT so several processes share the port. */
  readonly reusePort: boolean;
  readonly metrics?: Metrics;
}

export interface EndpointInfo {
  readonly url: string;
  readonly ejected: boolean;
  readonly inflight: number;
  readonly consecutive_failures: number;
}

export interface RouteInfo {
  readonly name: string;
  readonly match: unknown;
  readonly stage: string;
  readonly upstream: string;
  readonly endpoints: EndpointInfo[];
  readonly candidate?: { readonly upstream: string; readonly endpoints: EndpointInfo[] };
}

/** The sidecar's settings: the answer carries every identity header any auth policy names. */
function sidecarSettings(c: LoadedConfig["config"]): SidecarSettings {
  // Loaded only in sidecar mode (Bun's require is synchronous), like the enforcement parts.
  const { compileSidecar, identityHeaderNames } = require("../sidecar/settings.ts") as typeof import("../sidecar/settings.ts");
  const inline = c.routes.flatMap((r) => (r.auth !== undefined && typeof r.auth === "object" ? [r.auth] : []));
  return compileSidecar(c.sidecar, identityHeaderNames([...Object.values(c.auth_policies), ...inline]));
}

/** The upstream connection pools' settings from the config. */
function clientSettings(c: LoadedConfig["config"]): { maxIdle: number; idleTimeout: number; connectTimeout: number } {
  const u = c.upstream_connections;
  return { maxIdle: u.max_idle, idleTimeout: u.idle_timeout, connectTimeout: u.connect_timeout };
}

export class Gateway {
  readonly metrics: Metrics;
  readonly pipeline: Pipeline;
  private server: Http1Server | undefined;
  private loaded: LoadedConfig;
  private readonly accessLog: AccessLog;
  private readonly logger: Logger;
  private tracer: Tracer | undefined;
  private ready = false;
  private readonly wheel = new TimerWheel();
  private readonly clients: UpstreamClients;
  private readonly front: Http1Front;
  private readonly routing: RoutingLayer;
  private readonly limits: LimitsLayer;
  private readonly migrationLayer: MigrationLayer;
  private readonly recordLayer = new RecordLayer();
  /** Authentication, authorization and rate limits, each loaded once the config uses it. */
  private readonly enforcement: Enforcement;
  /** Set in sidecar mode (`mode: sidecar`): the front that translates check requests and the answer layer. */
  private readonly sidecar: Sidecar | undefined;
  /** The listener's certificates (top-level `tls:`), followed on disk; undefined for plain HTTP. */
  private readonly listenerTls: ListenerTls | undefined;
  private migrations: MigrationRoutes;
  /**
   * Shadow/canary results of this process, flushed to the store. Created (and the migration code
   * loaded) only once a route has a candidate, so plain proxying pays nothing for it.
   */
  resultsWriter: ResultsWriter | undefined;
  private migrationLoading: Promise<ResultsWriter> | undefined;
  private controlTimer: ReturnType<typeof setInterval> | undefined;
  /** Whether the migration store could be read at the last poll (stages stay as last known when not). */
  storeUp = true;
  /** The control rows of the last successful poll, applied at once to a table built by a reload. */
  private lastRows: ControlRow[] = [];
  private polling = false;
  /** edge-mcp: the MCP endpoints of routes with an `mcp:` block; the service is loaded only when a config has one. */
  private readonly mcpLayer = new McpLayer();
  private mcpFingerprint = "";
  /** Ended MCP sessions, kept across reloads (each reload's service seals with the same key). */
  private readonly mcpRevoked = new Map<string, number>();
  /** Traffic recording (ficus record), loaded the first time a recording starts. */
  private traffic: TrafficRecorder | undefined;

  private constructor(opts: GatewayOptions, tracer: Tracer | undefined) {
    this.loaded = opts.loaded;
    this.logger = opts.logger;
    this.metrics = opts.metrics ?? new Metrics();
    this.tracer = tracer;
    const c = opts.loaded.config;
    this.accessLog = new AccessLog(c.access_log);
    // Certificate files are read and checked before anything listens (FICUS_TLS_* on a bad one).
    const tls = listenerTlsConfig(c);
    this.listenerTls = tls !== undefined ? new ListenerTls(tls, { logger: this.logger, metrics: this.metrics }) : undefined;
    this.clients = new UpstreamClients(this.wheel, clientSettings(c));
    const table = this.buildTable(opts.loaded);
    this.migrations = buildMigrationRoutes(c, table);
    this.routing = new RoutingLayer(table);
    this.limits = new LimitsLayer(table.limits);
    this.migrationLayer = new MigrationLayer(this.metrics);
    this.migrationLayer.routes = this.migrations;
    this.enforcement = new Enforcement(this.metrics, this.logger);
    this.enforcement.configure(opts.loaded);
    const { auth, authz, rateLimit } = this.enforcement;
    this.sidecar = c.mode === "sidecar" ? new (require("../sidecar/front.ts") as typeof import("../sidecar/front.ts")).Sidecar(sidecarSettings(c), this.metrics) : undefined;
    const observability = new ObservabilityLayer(this.metrics, this.accessLog, tracer);
    // The pipeline, in order: one line per layer (docs/architecture.md, "Adding a layer").
    // Who is calling (auth), whether they may (authz), how often (rate limit): before anything reaches an upstream.
    const layers =
      this.sidecar === undefined
        ? [requestIdLayer, this.limits, new McpWellKnownLayer(this.mcpLayer), this.routing, observability, auth, authz, rateLimit, this.mcpLayer, this.migrationLayer, this.recordLayer, upstreamRequestLayer, new ForwardLayer({ metrics: this.metrics, wheel: this.wheel })]
        : // Sidecar: the original request is decided by the same layers, and answered instead of forwarded (docs/sidecar.md).
          [requestIdLayer, this.sidecar.entry, this.limits, this.routing, observability, auth, authz, rateLimit, this.sidecar.answer];
    this.pipeline = new Pipeline(layers, this.logger);
    this.front = new Http1Front(this.pipeline, this.logger, this.metrics.websockets);
    this.metrics.setInFlightSource(() => this.pipeline.inflight);
    this.refreshStageGauges();
  }

  /** Builds the gateway and starts listening. Throws FICUS_LISTEN_FAILED when the port cannot be bound. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    const tracer = await createTracer(opts.loaded.config.tracing);
    const gw = new Gateway(opts, tracer);
    if (opts.loaded.config.routes.some((r) => r.candidate !== undefined) || hasMcpMigrations(opts.loaded.config)) await gw.migration();
    // Signing keys fetched before the first request needs them; a provider that is down is retried on demand.
    await gw.enforcement.warm();
    await gw.configureMcp(opts.loaded);
    gw.listen(opts.reusePort);
    return gw;
  }

  /** The route table in force. */
  get table(): RouteTable {
    return this.routing.table;
  }

  /** Requests being handled. */
  get inFlight(): number {
    return this.pipeline.inflight;
  }

  /** Loads the migration code and starts recording (once); the migration layer mirrors from then on. */
  migration(): Promise<ResultsWriter> {
    this.migrationLoading ??= (async () => {
      const [{ ResultsWriter }, { Shadow }] = await Promise.all([import("../migration/results-writer.ts"), import("../migration/shadow.ts")]);
      const writer = new ResultsWriter(this.loaded.config.store, this.metrics, this.logger);
      writer.onFlush = async (store) => {
        // Noise learned from A/A pairs (by every worker) and marks made by hand, as the data plane reads them.
        for (const r of this.migrations.values()) {
          if (r.live.stage === "shadow" || r.live.stage === "canary") r.shadow.noise = new Set((await store.noise(r.name, r.shadow.config.noise)).map((e) => e.path));
        }
      };
      this.resultsWriter = writer;
      this.migrationLayer.shadow = new Shadow(writer.buffer, this.metrics, this.logger, this.wheel);
      // Commands (promote, rollback, …) arrive through the shared store: obey them within 200 ms.
      this.controlTimer = setInterval(() => void this.pollControl(), 200);
      this.controlTimer.unref?.();
      await this.pollControl();
      return writer;
    })();
    return this.migrationLoading;
  }

  private buildTable(loaded: LoadedConfig): RouteTable {
    const onPool = (p: UpstreamPool) => {
      if (p.tls?.insecure) this.logger.warn("UPSTREAM TLS VERIFICATION IS OFF: any certificate is accepted, so anyone on the path can read and change this traffic", { upstream: p.name, insecure_skip_verify: true });
      p.onEject = (e) => {
        this.metrics.ejections.inc({ upstream: e.upstream, endpoint: e.endpoint });
        this.logger.warn("endpoint ejected", { upstream: e.upstream, endpoint: e.endpoint, failures: e.failures, ejected_for_ms: e.durationMs });
      };
    };
    return buildRouteTable(loaded.config, this.metrics, onPool, this.clients);
  }

  private listen(reusePort: boolean): void {
    const c = this.loaded.config;
    try {
      const tls = this.listenerTls?.settings;
      this.server = listen({
        hostname: c.listen.hostname,
        port: c.listen.port,
        // With TLS, certificate reloads bind a new listener beside the old one (ListenerTls, Http1Server.replaceTls).
        reusePort: reusePort || tls !== undefined,
        tls: tls?.tls,
        serverNames: tls?.serverNames,
        wheel: this.wheel,
        limits: { maxRequestLine: c.limits.max_url_bytes + 32, maxHead: Math.max(16 * 1024, c.limits.max_header_bytes + c.limits.max_url_bytes + 64) },
        timeouts: { keepAlive: c.limits.client_idle_timeout, head: c.limits.client_idle_timeout, body: c.limits.client_idle_timeout, send: c.limits.client_idle_timeout },
        handler: this.sidecar === undefined ? this.front.handle : this.sidecar.handler(this.front.handle),
        errorResponse: engineErrorResponse,
        onError: (err, where) => this.logger.error("data-plane connection error", { where, error: err instanceof Error ? err.message : String(err) }),
      });
    } catch (err) {
      throw new FicusError("FICUS_LISTEN_FAILED", `cannot listen on ${c.listen.hostname}:${c.listen.port}: ${(err as Error).message}`, { cause: err });
    }
    this.listenerTls?.attach(this.server);
    this.ready = true;
    this.logger.info("listening", { address: `${c.listen.hostname}:${this.server.port}`, tls: this.listenerTls !== undefined, routes: c.routes.length });
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  get isReady(): boolean {
    return this.ready;
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  /**
   * Applies a new, already validated config: a new route table swapped in one
   * assignment. Listener address changes need a restart and are reported.
   */
  apply(next: LoadedConfig): void {
    const prev = this.loaded.config;
    const n = next.config;
    if (prev.listen.hostname !== n.listen.hostname || prev.listen.port !== n.listen.port) {
      this.logger.warn("listen address changed; it takes effect on restart", { from: prev.listen, to: n.listen });
    }
    this.clients.configure(clientSettings(n));
    const table = this.buildTable(next);
    // New certificate files are read before anything is swapped: a bad one leaves the running config whole.
    const tls = listenerTlsConfig(n);
    if (tls !== undefined && this.listenerTls !== undefined) this.listenerTls.configure(tls);
    else if (tls !== undefined || this.listenerTls !== undefined) this.logger.warn("tls turned on or off; it takes effect on restart", { tls: tls !== undefined });
    if (prev.mode !== n.mode) this.logger.warn("mode changed; it takes effect on restart", { from: prev.mode, to: n.mode });
    const sidecar = this.sidecar !== undefined ? sidecarSettings(n) : undefined;
    // Policies, keys and limits: compiled first and swapped only when all are good (a bad file leaves the running config whole).
    this.enforcement.configure(next);
    const migrations = buildMigrationRoutes(n, table);
    // A rollback or promotion in force must survive the reload: apply it before the table serves.
    this.applyControl(migrations);
    this.routing.table = table;
    this.limits.limits = table.limits;
    this.migrations = migrations;
    this.migrationLayer.routes = migrations;
    if (this.sidecar !== undefined && sidecar !== undefined) this.sidecar.settings = sidecar;
    const used = new Set<ConnectionPool>();
    for (const p of table.pools) for (const e of p.endpoints) if (e.client) used.add(e.client);
    this.clients.retain(used);
    this.refreshStageGauges();
    this.accessLog.reconfigure(n.access_log);
    this.traffic?.reconfigure(n.record);
    if (n.routes.some((r) => r.candidate !== undefined) || hasMcpMigrations(n)) void this.migration().then(() => this.pollControl());
    this.logger.setLevel(n.log.level);
    this.loaded = next;
    void this.configureMcp(next).catch((err: unknown) => this.logger.error("the MCP part of the reload failed; the previous one keeps serving", { error: err instanceof Error ? err.message : String(err) }));
  }

  /** Set by a worker process: tells the other workers of an ended MCP session, resolving once they all know. */
  mcpRevocations: ((nonce: string, expires: number) => Promise<void>) | undefined;

  /** An MCP session ended on another worker: refused here from now on. */
  revokeMcpSession(nonce: string, expires: number): void {
    this.mcpLayer.service?.seal.revokeNonce(nonce, expires);
  }

  /** The MCP service in force, if the config serves MCP. */
  get mcp(): McpService | undefined {
    return this.mcpLayer.service;
  }

  /**
   * Builds the MCP service when the MCP part of the config changed (or appeared), starts its
   * sources (a source slower than 10 s keeps starting in the background), and swaps it in; the
   * previous one is closed once the calls it holds had time to end.
   */
  async configureMcp(loaded: LoadedConfig): Promise<void> {
    const c = loaded.config;
    // Loaded only when a route serves MCP (the SDKs and the governance parts are not a proxy's business).
    if (!c.routes.some((r) => r.mcp !== undefined)) {
      const old = this.mcpLayer.service;
      this.mcpLayer.service = undefined;
      this.mcpFingerprint = "";
      if (old !== undefined) void this.closeLater(old);
      return;
    }
    const { mcpFingerprint, McpService } = require("../mcp/service.ts") as typeof import("../mcp/service.ts");
    const fp = mcpFingerprint(c);
    if (fp === this.mcpFingerprint && this.mcpLayer.service !== undefined) return;
    this.mcpFingerprint = fp;
    const service = new McpService(c, { logger: this.logger, metrics: this.metrics, pipeline: () => this.pipeline, clients: this.clients, configDir: configDir(loaded), revoked: this.mcpRevoked });
    service.seal.onRevoke = (nonce, expires) => this.mcpRevocations?.(nonce, expires) ?? Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([service.start(), new Promise<void>((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (this.mcpFingerprint !== fp) {
      // A newer reload won meanwhile.
      await service.close();
      return;
    }
    const old = this.mcpLayer.service;
    this.mcpLayer.service = service;
    if (old !== undefined) void this.closeLater(old);
  }

  private async closeLater(service: McpService): Promise<void> {
    await Bun.sleep(Math.min(this.loaded.config.mcp.call_timeout, 30_000));
    await service.close();
  }

  /** Applies the runtime stage/percentage of each route with a candidate (or the file's, when stale). */
  /** Reads the runtime state of routes from the store and applies it (never overlapping, never throwing). */
  async pollControl(): Promise<void> {
    const writer = this.resultsWriter;
    if (!writer || this.polling) return;
    this.polling = true;
    try {
      this.lastRows = await writer.open().controlRows();
    } catch (err) {
      // Log the change, not every 200 ms poll.
      if (this.storeUp) this.logger.error("cannot read the migration store; keeping the last known stages", { error: err });
      this.storeUp = false;
      this.metrics.storeUp.set(0);
      return;
    } finally {
      this.polling = false;
    }
    if (!this.storeUp) this.logger.info("migration store readable again");
    this.storeUp = true;
    // Readable is not enough: results must reach it too (not full, not deleted, not in memory).
    this.metrics.storeUp.set(writer.healthy ? 1 : 0);
    this.applyControl(this.migrations);
  }

  /** Applies the last polled runtime state to the migrated routes of a table (synchronously: a reload uses it before swapping). */
  private applyControl(migrations: MigrationRoutes): void {
    const rows = this.lastRows;
    let changed = false;
    for (const r of migrations.values()) {
      const row = rows.find((x) => x.route === r.name);
      const want = row && row.config_key === r.configKey ? row : r.configured;
      if (r.live.stage !== want.stage || r.canary.percent !== want.percent || r.live.paused !== want.paused) {
        this.logger.info("route stage in force", { route: r.name, stage: want.stage, percent: want.percent, paused: want.paused, from: { stage: r.live.stage, percent: r.canary.percent } });
        r.live.stage = want.stage;
        r.live.paused = want.paused;
        r.canary.percent = want.percent;
        changed = true;
      }
    }
    if (changed && migrations === this.migrations) this.refreshStageGauges();
  }

  private refreshStageGauges(): void {
    this.metrics.stage.reset();
    this.metrics.canaryPercent.reset();
    for (const r of this.migrations.values()) {
      this.metrics.stage.set({ route: r.name, stage: r.live.stage }, 1);
      this.metrics.canaryPercent.set({ route: r.name }, r.canary.percent);
    }
  }

  routes(): RouteInfo[] {
    const now = Date.now();
    const endpoints = (p: UpstreamPool) => p.endpoints.map((e) => ({ url: e.id, ejected: e.ejectedUntil > now, inflight: e.inflight, consecutive_failures: e.consecutiveFailures }));
    return this.table.routes.map((r) => ({
      name: r.name,
      match: r.config.match,
      stage: this.migrations.get(r.name)?.live.stage ?? r.config.stage,
      upstream: r.legacyPool?.name ?? "(none: sidecar)",
      endpoints: r.legacyPool ? endpoints(r.legacyPool) : [],
      ...(r.candidatePool ? { candidate: { upstream: r.candidatePool.name, endpoints: endpoints(r.candidatePool) } } : {}),
    }));
  }

  /** Refreshes gauges that are read rather than counted (called before a scrape). */
  refreshGauges(): void {
    const now = Date.now();
    for (const p of this.table.pools) this.metrics.ejected.set({ upstream: p.name }, p.ejectedCount(now));
  }

  /** Starts, stops or reports traffic recording in this process. */
  async record(cmd: RecordCommand): Promise<SessionStatus[]> {
    if (cmd.action === "status") return this.traffic?.status() ?? [];
    if (cmd.action === "stop") return (await this.traffic?.stop(cmd.route)) ?? [];
    const rc = this.loaded.config.routes.find((r) => r.name === cmd.start.route);
    if (!rc) {
      const known = this.loaded.config.routes.map((r) => r.name).join(", ") || "(none)";
      throw new FicusError("FICUS_ROUTE_UNKNOWN", `no route ${JSON.stringify(cmd.start.route)}; known routes: ${known}`);
    }
    if (!this.traffic) {
      const { TrafficRecorder } = await import("../record/recorder.ts");
      this.traffic = new TrafficRecorder(this.loaded.config.record, this.metrics, this.logger, Number(process.env.FICUS_WORKER_INDEX ?? 0));
      this.recordLayer.recorder = this.traffic;
    }
    return [await this.traffic.start(cmd.start, new Redactor(this.loaded.config.redact, rc.shadow.redact))];
  }

  /**
   * Graceful shutdown: stop accepting connections, let in-flight requests
   * finish within the deadline (responses carry Connection: close meanwhile),
   * then close everything. Resolves true when nothing had to be cut.
   */
  async shutdown(deadlineMs: number): Promise<boolean> {
    this.ready = false;
    const server = this.server;
    if (!server) return true;
    this.front.draining = true;
    this.listenerTls?.close();
    const drained = await server.close(deadlineMs);
    await Promise.race([this.pipeline.idle(), Bun.sleep(100)]);
    this.clients.close();
    this.wheel.clear();
    if (this.controlTimer) clearInterval(this.controlTimer);
    await this.resultsWriter?.close();
    await this.traffic?.close();
    this.accessLog.close();
    this.enforcement.close();
    await this.mcpLayer.service?.close();
    await this.tracer?.shutdown().catch(() => {});
    return drained;
  }
}
