/**
 * One data-plane process: the Bun.serve listener, the current route table, its
 * hot reload, and graceful drain. Used directly with one worker, or inside each
 * worker process when the supervisor runs several (SO_REUSEPORT).
 */
import type { Server } from "bun";
import { FicusError } from "../core/errors.ts";
import type { LoadedConfig } from "../config/load.ts";
import { AccessLog } from "../observability/access-log.ts";
import type { Logger } from "../observability/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import { createTracer, type Tracer } from "../observability/tracing.ts";
import { Proxy, type WebSocketData } from "../proxy/forward.ts";
import { buildRouteTable, type RouteTable } from "../proxy/route-table.ts";
import type { UpstreamPool } from "../proxy/upstream-pool.ts";
import { websocketHandlers } from "../proxy/websocket.ts";
import type { ResultsWriter } from "../migration/results-writer.ts";
import { Redactor } from "../migration/redact.ts";
import type { RecordCommand, SessionStatus, TrafficRecorder } from "../record/recorder.ts";
import type { ControlRow } from "../migration/store.ts";

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

export class Gateway {
  readonly metrics: Metrics;
  readonly proxy: Proxy;
  private server: Server<WebSocketData> | undefined;
  private loaded: LoadedConfig;
  private readonly accessLog: AccessLog;
  private readonly logger: Logger;
  private tracer: Tracer | undefined;
  private ready = false;
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
  /** Traffic recording (ficus record), loaded the first time a recording starts. */
  private traffic: TrafficRecorder | undefined;

  private constructor(opts: GatewayOptions, tracer: Tracer | undefined) {
    this.loaded = opts.loaded;
    this.logger = opts.logger;
    this.metrics = opts.metrics ?? new Metrics();
    this.tracer = tracer;
    const c = opts.loaded.config;
    this.accessLog = new AccessLog(c.access_log);
    this.proxy = new Proxy(this.buildTable(opts.loaded), {
      metrics: this.metrics,
      accessLog: this.accessLog,
      logger: this.logger,
      tracer,
      clientIdleMs: c.limits.client_idle_timeout,
    });
  }

  /** Builds the gateway and starts listening. Throws FICUS_LISTEN_FAILED when the port cannot be bound. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    const tracer = await createTracer(opts.loaded.config.tracing);
    const gw = new Gateway(opts, tracer);
    if (opts.loaded.config.routes.some((r) => r.candidate !== undefined)) await gw.migration();
    gw.listen(opts.reusePort);
    return gw;
  }

  /** Loads the migration code and starts recording (once); the proxy mirrors from then on. */
  migration(): Promise<ResultsWriter> {
    this.migrationLoading ??= (async () => {
      const [{ ResultsWriter }, { Shadow }] = await Promise.all([import("../migration/results-writer.ts"), import("../migration/shadow.ts")]);
      const writer = new ResultsWriter(this.loaded.config.store, this.metrics, this.logger);
      writer.onFlush = async (store) => {
        // Noise learned from A/A pairs (by every worker) and marks made by hand, as the data plane reads them.
        for (const r of this.proxy.table.routes) {
          if (r.live.stage === "shadow" || r.live.stage === "canary") r.shadow.noise = new Set((await store.noise(r.name, r.shadow.config.noise)).map((e) => e.path));
        }
      };
      this.resultsWriter = writer;
      this.proxy.shadow = new Shadow(writer.buffer, this.metrics, this.logger);
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
      p.onEject = (e) => {
        this.metrics.ejections.inc({ upstream: e.upstream, endpoint: e.endpoint });
        this.logger.warn("endpoint ejected", { upstream: e.upstream, endpoint: e.endpoint, failures: e.failures, ejected_for_ms: e.durationMs });
      };
    };
    const table = buildRouteTable(loaded.config, this.metrics, onPool);
    return table;
  }

  private listen(reusePort: boolean): void {
    const c = this.loaded.config;
    try {
      this.server = Bun.serve<WebSocketData>({
        hostname: c.listen.hostname,
        port: c.listen.port,
        reusePort,
        idleTimeout: Math.round(c.limits.client_idle_timeout / 1000),
        // Bodies are streamed; per-route max_body is enforced by the proxy.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        fetch: this.proxy.handle,
        websocket: websocketHandlers(this.metrics, this.logger),
        error: (err) => {
          this.logger.error("unhandled error in request handler", { error: err });
          return new Response(JSON.stringify({ error: { code: "FICUS_INTERNAL", message: "internal error", request_id: "" } }), {
            status: 500,
            headers: { "content-type": "application/json" },
          });
        },
      });
    } catch (err) {
      throw new FicusError("FICUS_LISTEN_FAILED", `cannot listen on ${c.listen.hostname}:${c.listen.port}: ${(err as Error).message}`, { cause: err });
    }
    this.ready = true;
    this.logger.info("listening", { address: `${c.listen.hostname}:${this.server.port}`, routes: c.routes.length });
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
    const table = this.buildTable(next);
    // A rollback or promotion in force must survive the reload: apply it before the table serves.
    this.applyControl(table);
    this.proxy.swap(table);
    this.refreshStageGauges();
    this.accessLog.reconfigure(n.access_log);
    this.traffic?.reconfigure(n.record);
    if (n.routes.some((r) => r.candidate !== undefined)) void this.migration().then(() => this.pollControl());
    this.logger.setLevel(n.log.level);
    this.loaded = next;
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
    this.applyControl(this.proxy.table);
  }

  /** Applies the last polled runtime state to a table (synchronously: a reload uses it before swapping). */
  private applyControl(table: RouteTable): void {
    const rows = this.lastRows;
    let changed = false;
    for (const r of table.routes) {
      if (!r.candidatePool) continue;
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
    if (changed && table === this.proxy.table) this.refreshStageGauges();
  }

  private refreshStageGauges(): void {
    this.metrics.stage.reset();
    this.metrics.canaryPercent.reset();
    for (const r of this.proxy.table.routes) {
      if (!r.candidatePool) continue;
      this.metrics.stage.set({ route: r.name, stage: r.live.stage }, 1);
      this.metrics.canaryPercent.set({ route: r.name }, r.canary.percent);
    }
  }

  routes(): RouteInfo[] {
    const now = Date.now();
    const endpoints = (p: UpstreamPool) => p.endpoints.map((e) => ({ url: e.id, ejected: e.ejectedUntil > now, inflight: e.inflight, consecutive_failures: e.consecutiveFailures }));
    return this.proxy.table.routes.map((r) => ({
      name: r.name,
      match: r.config.match,
      stage: r.live.stage,
      upstream: r.legacyPool.name,
      endpoints: endpoints(r.legacyPool),
      ...(r.candidatePool ? { candidate: { upstream: r.candidatePool.name, endpoints: endpoints(r.candidatePool) } } : {}),
    }));
  }

  /** Refreshes gauges that are read rather than counted (called before a scrape). */
  refreshGauges(): void {
    const now = Date.now();
    for (const p of this.proxy.table.pools) this.metrics.ejected.set({ upstream: p.name }, p.ejectedCount(now));
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
      this.proxy.recorder = this.traffic;
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
    const stopped = server.stop(false);
    const drained = await this.proxy.drain(deadlineMs);
    await Promise.race([stopped, Bun.sleep(50)]);
    server.stop(true);
    this.proxy.close();
    if (this.controlTimer) clearInterval(this.controlTimer);
    await this.resultsWriter?.close();
    await this.traffic?.close();
    this.accessLog.close();
    await this.tracer?.shutdown().catch(() => {});
    return drained;
  }
}
