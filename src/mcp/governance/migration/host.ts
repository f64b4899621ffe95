/**
 * What the migrating sources of one MCP service share: the candidate sources
 * (one connection or child process each, whatever the number of endpoints),
 * each source's runtime state (the stage and canary share in force, the
 * sampling and concurrency accumulators, learned noise), the results writer
 * into the migration store, and the poller that obeys commands (`ficus
 * promote|rollback mcp:<source>`, the controller) within 200 ms, exactly as
 * the gateway does for routes: the store's state applies while ficus.yaml
 * says what it said when the state was written.
 */
import { type CompiledRules, compileRules } from "../../../compare/rules.ts";
import type { FicusConfig, RouteConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { Metrics } from "../../../observability/metrics.ts";
import type { CanarySettings } from "../../../migration/canary.ts";
import { type ControlState, configKey, configState } from "../../../migration/control.ts";
import { Redactor } from "../../../migration/redact.ts";
import type { ResultsBuffer } from "../../../migration/results.ts";
import type { ResultsWriter } from "../../../migration/results-writer.ts";
import type { ControlRow } from "../../../migration/store.ts";
import { McpHttpSource, StdioSource } from "../../sources/federated/index.ts";
import type { McpSourceConfig } from "../../schema.ts";
import type { ToolSource } from "../../types.ts";
import { mcpMigrationRoutes } from "./routes.ts";

/** One migrating source's runtime state. */
export interface SourceMigration {
  /** mcp:<source> */
  readonly name: string;
  readonly candidate: ToolSource;
  /** Read per call; changed by the control poller. */
  readonly live: { stage: ControlState["stage"]; paused: boolean };
  readonly configured: ControlState;
  readonly configKey: string;
  /** percent is changed by the control poller. */
  readonly canary: CanarySettings;
  readonly byAddress: boolean;
  readonly compareRules: CompiledRules;
  readonly redactor: Redactor;
  readonly shadow: {
    readonly sample: number;
    readonly aa: number;
    readonly maxConcurrency: number;
    readonly timeout: number;
    readonly noiseSettings: { readonly relative: number; readonly absolute: number; readonly min_aa: number };
    acc: number;
    aaAcc: number;
    inflight: number;
    noise: ReadonlySet<string>;
  };
  /** Longest call served by the candidate (the source's timeout, else mcp.call_timeout), ms. */
  readonly callTimeout: number;
}

const POLL_MS = 200;
const HOST_KEY = "migration";

/** The runtime state of one migrating source, as ficus.yaml sets it (the control poller then applies the store's). */
export function sourceMigration(config: FicusConfig, rc: RouteConfig, s: McpSourceConfig, candidate: ToolSource): SourceMigration {
  const configured = configState(rc);
  return {
    name: rc.name,
    candidate,
    live: { stage: configured.stage, paused: false },
    configured,
    configKey: configKey(rc),
    canary: { percent: configured.percent, header: undefined, cookie: undefined, fallback: "ip", salt: s.canary.salt },
    byAddress: s.canary.sticky === "address",
    compareRules: compileRules(s.compare),
    redactor: new Redactor(config.redact, s.shadow.redact),
    shadow: { sample: s.shadow.sample, aa: s.shadow.aa, maxConcurrency: s.shadow.max_concurrency, timeout: s.shadow.timeout, noiseSettings: s.shadow.noise, acc: 0, aaAcc: 0, inflight: 0, noise: new Set() },
    callTimeout: s.timeout > 0 ? s.timeout : config.mcp.call_timeout,
  };
}

/**
 * Applies the store's state of a source (its row, while ficus.yaml still says what it said when the row was
 * written; else what ficus.yaml says). True when something changed.
 */
export function applyControl(m: SourceMigration, rows: readonly ControlRow[]): boolean {
  const row = rows.find((x) => x.route === m.name);
  const want = row !== undefined && row.config_key === m.configKey ? row : m.configured;
  if (m.live.stage === want.stage && m.canary.percent === want.percent && m.live.paused === want.paused) return false;
  m.live.stage = want.stage;
  m.live.paused = want.paused;
  m.canary.percent = want.percent;
  return true;
}

export class MigrationHost {
  readonly bySource = new Map<string, SourceMigration>();
  readonly writer: ResultsWriter;
  private readonly timer: ReturnType<typeof setInterval>;
  private polling = false;
  private storeUp = true;
  private closed = false;

  constructor(
    config: FicusConfig,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    configDir: string,
  ) {
    // Loaded only when a source migrates (Bun's require is synchronous), as the gateway loads the route migration code.
    const { ResultsWriter } = require("../../../migration/results-writer.ts") as typeof import("../../../migration/results-writer.ts");
    this.writer = new ResultsWriter(config.store, metrics, logger);
    const routes = new Map(mcpMigrationRoutes(config).map((r) => [r.name, r]));
    for (const [name, s] of Object.entries(config.mcp.sources)) {
      const c = s.candidate;
      if (c === undefined) continue;
      const rc = routes.get(`mcp:${name}`);
      if (rc === undefined) continue;
      const timeout = s.timeout > 0 ? s.timeout : config.mcp.call_timeout;
      const onLog = (line: string) => logger.info("MCP candidate stderr", { source: name, line });
      const candidate =
        c.url !== undefined
          ? new McpHttpSource({ name: `${name}.candidate`, url: c.url, headers: c.headers, timeout, onLog })
          : new StdioSource({ name: `${name}.candidate`, command: c.command ?? [], env: c.env, cwd: c.cwd ?? configDir, timeout, onLog });
      this.bySource.set(name, sourceMigration(config, rc, s, candidate));
    }
    this.writer.onFlush = async (store) => {
      // Noise learned from A/A pairs (by every worker) and marks made by hand.
      for (const m of this.bySource.values()) {
        if (m.live.stage === "shadow" || m.live.stage === "canary") m.shadow.noise = new Set((await store.noise(m.name, m.shadow.noiseSettings)).map((e) => e.path));
      }
    };
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref?.();
  }

  get results(): ResultsBuffer {
    return this.writer.buffer;
  }

  /** Connects the candidates (a candidate that is down is retried by its source) and reads the state in force. */
  start(): void {
    for (const m of this.bySource.values()) {
      m.candidate.start().catch((err: unknown) => this.logger.warn("MCP candidate not reachable yet; retrying", { migration: m.name, error: err instanceof Error ? err.message : String(err) }));
    }
    this.refreshGauges();
    void this.poll();
  }

  /** Reads the runtime state from the store and applies it (never overlapping, never throwing). */
  async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    let rows;
    try {
      rows = await this.writer.open().controlRows();
    } catch (err) {
      if (this.storeUp) this.logger.error("cannot read the migration store; MCP migrations keep their last known stages", { error: err instanceof Error ? err.message : String(err) });
      this.storeUp = false;
      return;
    } finally {
      this.polling = false;
    }
    this.storeUp = true;
    let changed = false;
    for (const m of this.bySource.values()) {
      const from = { stage: m.live.stage, percent: m.canary.percent };
      if (applyControl(m, rows)) {
        this.logger.info("MCP migration stage in force", { migration: m.name, stage: m.live.stage, percent: m.canary.percent, paused: m.live.paused, from });
        changed = true;
      }
    }
    if (changed) this.refreshGauges();
  }

  private refreshGauges(): void {
    for (const m of this.bySource.values()) {
      for (const stage of ["legacy", "shadow", "canary", "candidate"] as const) this.metrics.stage.set({ route: m.name, stage }, stage === m.live.stage ? 1 : 0);
      this.metrics.canaryPercent.set({ route: m.name }, m.canary.percent);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([...this.bySource.values()].map((m) => m.candidate.close().catch(() => {})));
    await this.writer.close();
  }

  /** The host of a service (made once, shared by its endpoints, closed with the service). */
  static of(deps: { config: FicusConfig; logger: Logger; metrics: Metrics; configDir: string; shared: Map<string, unknown>; onClose: (fn: () => void | Promise<void>) => void }): MigrationHost {
    let host = deps.shared.get(HOST_KEY) as MigrationHost | undefined;
    if (host === undefined) {
      host = new MigrationHost(deps.config, deps.logger, deps.metrics, deps.configDir);
      deps.shared.set(HOST_KEY, host);
      const h = host;
      deps.onClose(() => h.close());
      host.start();
    }
    return host;
  }
}
