/**
 * The results and migration-state store in PostgreSQL, for several gateway
 * instances (Bun's SQL client). Same tables and meaning as the SQLite store;
 * writes that read-modify-write a route (histogram merges, commands, steps)
 * take a per-route transaction-scoped advisory lock, so instances serialize
 * per route exactly as SQLite serializes per file. Tables (or the schema)
 * dropped while the gateways run are created again on the next operation, with
 * the stages this instance last read put back, and the operation retried.
 */
import { SQL } from "bun";
import { FicusError } from "../core/errors.ts";
import * as hdr from "hdr-histogram-js";
import type { Severity } from "../compare/index.ts";
import { type Action, type ControlState, type Stage, type Transition } from "./control.ts";
import { newHistogram, type RouteDelta, type Sample } from "./results.ts";
import {
  type ControlRow,
  type CommandRequest,
  commandEvent,
  decideCommand,
  learnedNoise,
  type MigrationEvent,
  type NoiseEntry,
  type NoiseSettings,
  type ResultsStore,
  type RouteResults,
  routeResults,
  type SignatureSummary,
  type StepInfo,
  stepStats,
} from "./store.ts";

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const DDL = (s: string) => `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.counters (route text NOT NULL, name text NOT NULL, value bigint NOT NULL, PRIMARY KEY (route, name));
CREATE TABLE IF NOT EXISTS ${s}.signatures (id text PRIMARY KEY, route text NOT NULL, status_legacy int NOT NULL, status_candidate int NOT NULL,
  paths text NOT NULL, severity text NOT NULL, count bigint NOT NULL, first_seen bigint NOT NULL, last_seen bigint NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.samples (id bigserial PRIMARY KEY, signature text NOT NULL, time bigint NOT NULL, data text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.latency (route text NOT NULL, side text NOT NULL, histogram text NOT NULL, PRIMARY KEY (route, side));
CREATE TABLE IF NOT EXISTS ${s}.path_stats (route text NOT NULL, path text NOT NULL, raw bigint NOT NULL, aa bigint NOT NULL, PRIMARY KEY (route, path));
CREATE TABLE IF NOT EXISTS ${s}.noise_marks (route text NOT NULL, path text NOT NULL, reason text NOT NULL, created bigint NOT NULL, PRIMARY KEY (route, path));
CREATE TABLE IF NOT EXISTS ${s}.route_state (route text PRIMARY KEY, stage text NOT NULL, percent double precision NOT NULL, paused boolean NOT NULL,
  config_key text NOT NULL, version int NOT NULL, updated bigint NOT NULL, step_started bigint NOT NULL, baseline text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.events (id bigserial PRIMARY KEY, time bigint NOT NULL, route text NOT NULL, actor text NOT NULL, action text NOT NULL,
  changed boolean NOT NULL, from_stage text NOT NULL, from_percent double precision NOT NULL, to_stage text NOT NULL, to_percent double precision NOT NULL,
  message text NOT NULL, detail text NOT NULL);
`;

/** PostgreSQL error codes of a relation or schema that does not exist (dropped under us). */
const MISSING = new Set(["42P01", "3F000"]);
const missing = (err: unknown) => MISSING.has(String((err as { errno?: unknown } | undefined)?.errno ?? ""));

type Tx = { unsafe(query: string, params?: unknown[]): Promise<Record<string, unknown>[]> };

/** A URL with its password hidden, for logs and /admin/config. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:[redacted]@");
}

export class PostgresStore implements ResultsStore {
  readonly location: string;
  private readonly sql: SQL;
  private readonly s: string;
  private ready: Promise<void> | undefined;
  /** The route states this instance last read (controlRows), put back if the tables are dropped. */
  private lastRows: ControlRow[] = [];
  private recreating: Promise<void> | undefined;
  /** Told when the tables were found dropped and created again, with the routes whose state was put back. */
  onDropped: ((restored: string[]) => void) | undefined;

  constructor(
    url: string,
    schema: string,
    private readonly samplesPerSignature: number,
    private readonly retentionMs: number,
  ) {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
    this.sql = new SQL({ url, max: 4 });
    this.s = schema;
    this.location = redactUrl(url);
  }

  /** Creates the schema and tables on first use (concurrent instances are fine: IF NOT EXISTS under a lock). */
  private init(): Promise<void> {
    this.ready ??= this.sql
      .begin(async (tx) => {
        await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext('ficus:schema'))");
        await tx.unsafe(DDL(this.s));
      })
      .then(() => undefined)
      .catch((err: unknown) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  /** Database errors leave as FICUS_STORE_UNAVAILABLE, naming the store (never its password). */
  private failed(err: unknown): never {
    if (err instanceof FicusError) throw err;
    throw new FicusError("FICUS_STORE_UNAVAILABLE", `results store ${this.location}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }

  /**
   * Runs an operation; when its tables turn out dropped, creates them again,
   * puts back the route states last read, and runs it once more.
   */
  private async run<R>(op: () => Promise<R>): Promise<R> {
    try {
      await this.init();
      return await op();
    } catch (err) {
      if (!missing(err)) return this.failed(err);
    }
    try {
      // Operations failing together recreate (and report) once.
      this.recreating ??= (async () => {
        this.ready = undefined;
        await this.init();
        await this.restoreRows();
      })().finally(() => {
        this.recreating = undefined;
      });
      await this.recreating;
      return await op();
    } catch (err) {
      return this.failed(err);
    }
  }

  /** Puts back the route states this instance last read (another instance may have done it first). */
  private async restoreRows(): Promise<void> {
    const restored: string[] = [];
    const now = Date.now();
    for (const r of this.lastRows) {
      // A new version voids automatic decisions taken on the old statistics (which are gone).
      const ins = await this.sql.unsafe(
        `INSERT INTO ${this.s}.route_state (route, stage, percent, paused, config_key, version, updated, step_started, baseline) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, '{}')
         ON CONFLICT (route) DO NOTHING RETURNING route`,
        [r.route, r.stage, r.percent, r.paused, r.config_key, r.version + 1, now],
      );
      if ((ins as unknown[]).length > 0) restored.push(r.route);
    }
    this.onDropped?.(restored);
  }

  private q(query: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return this.run(async () => (await this.sql.unsafe(query.replaceAll("T.", `${this.s}.`), params)) as Record<string, unknown>[]);
  }

  private tx<R>(route: string, fn: (t: Tx, exec: (query: string, params?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<R>): Promise<R> {
    return this.run(
      async () =>
        (await this.sql.begin(async (t) => {
          const exec = (query: string, params: unknown[] = []) => t.unsafe(query.replaceAll("T.", `${this.s}.`), params) as Promise<Record<string, unknown>[]>;
          await exec("SELECT pg_advisory_xact_lock(hashtext($1))", [`ficus:route:${route}`]);
          return fn(t as unknown as Tx, exec);
        })) as R,
    );
  }

  private async counterMap(exec: (q: string, p?: unknown[]) => Promise<Record<string, unknown>[]>, route: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of await exec("SELECT name, value FROM T.counters WHERE route = $1", [route])) out[r.name as string] = Number(r.value);
    return out;
  }

  private async hist(exec: (q: string, p?: unknown[]) => Promise<Record<string, unknown>[]>, route: string, side: string): Promise<hdr.Histogram> {
    const rows = await exec("SELECT histogram FROM T.latency WHERE route = $1 AND side = $2", [route, side]);
    return rows[0] ? hdr.decodeFromCompressedBase64(rows[0].histogram as string, 32, false) : newHistogram();
  }

  async apply(deltas: Map<string, RouteDelta>, now = Date.now()): Promise<void> {
    for (const [route, d] of deltas) {
      await this.tx(route, async (_t, exec) => {
        for (const [name, n] of d.counters) {
          await exec("INSERT INTO T.counters (route, name, value) VALUES ($1, $2, $3) ON CONFLICT (route, name) DO UPDATE SET value = T.counters.value + EXCLUDED.value", [route, name, n]);
        }
        for (const [path, c] of d.paths) {
          await exec("INSERT INTO T.path_stats (route, path, raw, aa) VALUES ($1, $2, $3, $4) ON CONFLICT (route, path) DO UPDATE SET raw = T.path_stats.raw + EXCLUDED.raw, aa = T.path_stats.aa + EXCLUDED.aa", [
            route,
            path,
            c.raw,
            c.aa,
          ]);
        }
        for (const sg of d.signatures.values()) {
          await exec(
            `INSERT INTO T.signatures (id, route, status_legacy, status_candidate, paths, severity, count, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET count = T.signatures.count + EXCLUDED.count, first_seen = LEAST(T.signatures.first_seen, EXCLUDED.first_seen),
               last_seen = GREATEST(T.signatures.last_seen, EXCLUDED.last_seen)`,
            [sg.id, route, sg.status[0], sg.status[1], JSON.stringify(sg.paths), sg.severity, sg.count, sg.firstSeen, sg.lastSeen],
          );
          const have = Number((await exec("SELECT COUNT(*) AS n FROM T.samples WHERE signature = $1", [sg.id]))[0]?.n ?? 0);
          for (const sample of sg.samples.slice(0, Math.max(0, this.samplesPerSignature - have))) {
            await exec("INSERT INTO T.samples (signature, time, data) VALUES ($1, $2, $3)", [sg.id, Date.parse(sample.time), JSON.stringify(sample)]);
          }
        }
        for (const side of ["legacy", "candidate", "ratio", "step_legacy", "step_candidate"] as const) {
          const delta = side === "step_legacy" ? d.legacy : side === "step_candidate" ? d.candidate : d[side];
          if (delta.totalCount === 0) continue;
          const merged = await this.hist(exec, route, side);
          merged.add(delta);
          await exec("INSERT INTO T.latency (route, side, histogram) VALUES ($1, $2, $3) ON CONFLICT (route, side) DO UPDATE SET histogram = EXCLUDED.histogram", [
            route,
            side,
            hdr.encodeIntoCompressedBase64(merged),
          ]);
        }
        if (this.retentionMs > 0) {
          const cutoff = now - this.retentionMs;
          await exec("DELETE FROM T.samples WHERE signature IN (SELECT id FROM T.signatures WHERE route = $1 AND last_seen < $2)", [route, cutoff]);
          await exec("DELETE FROM T.signatures WHERE route = $1 AND last_seen < $2", [route, cutoff]);
        }
      });
    }
  }

  async routes(): Promise<RouteResults[]> {
    const rows = await this.q("SELECT DISTINCT route FROM T.counters UNION SELECT DISTINCT route FROM T.latency UNION SELECT DISTINCT route FROM T.noise_marks");
    const names = rows.map((r) => r.route as string).sort();
    return Promise.all(names.map((n) => this.route(n)));
  }

  async route(route: string): Promise<RouteResults> {
    const exec = (query: string, params: unknown[] = []) => this.q(query, params);
    const rows = (await exec("SELECT name, value FROM T.counters WHERE route = $1", [route])).map((r) => ({ name: r.name as string, value: Number(r.value) }));
    return routeResults(route, rows, await this.hist(exec, route, "legacy"), await this.hist(exec, route, "candidate"), await this.hist(exec, route, "ratio"));
  }

  async signatures(route: string, limit = 100): Promise<SignatureSummary[]> {
    const rows = await this.q(
      "SELECT id, count, status_legacy, status_candidate, paths, severity, first_seen, last_seen FROM T.signatures WHERE route = $1 ORDER BY count DESC, id LIMIT $2",
      [route, limit],
    );
    return rows.map((r) => ({
      id: r.id as string,
      count: Number(r.count),
      status: [Number(r.status_legacy), Number(r.status_candidate)] as const,
      paths: JSON.parse(r.paths as string) as string[],
      severity: r.severity as Severity,
      first_seen: new Date(Number(r.first_seen)).toISOString(),
      last_seen: new Date(Number(r.last_seen)).toISOString(),
    }));
  }

  async samples(route: string, signature: string): Promise<Sample[] | undefined> {
    const known = await this.q("SELECT 1 FROM T.signatures WHERE id = $1 AND route = $2", [signature, route]);
    if (known.length === 0) return undefined;
    return (await this.q("SELECT data FROM T.samples WHERE signature = $1 ORDER BY id", [signature])).map((r) => JSON.parse(r.data as string) as Sample);
  }

  async noise(route: string, s: NoiseSettings): Promise<NoiseEntry[]> {
    const counters = await this.counterMap((q, p) => this.q(q, p), route);
    const stats = (await this.q("SELECT path, raw, aa FROM T.path_stats WHERE route = $1", [route])).map((r) => ({ path: r.path as string, raw: Number(r.raw), aa: Number(r.aa) }));
    const marks = (await this.q("SELECT path, reason FROM T.noise_marks WHERE route = $1", [route])).map((r) => ({ path: r.path as string, reason: r.reason as string }));
    return learnedNoise(stats, marks, counters.compared ?? 0, counters.aa_compared ?? 0, s);
  }

  async markNoise(route: string, path: string, reason: string): Promise<void> {
    await this.q("INSERT INTO T.noise_marks (route, path, reason, created) VALUES ($1, $2, $3, $4) ON CONFLICT (route, path) DO UPDATE SET reason = EXCLUDED.reason", [
      route,
      path,
      reason,
      Date.now(),
    ]);
  }

  async unmarkNoise(route: string, path: string): Promise<boolean> {
    return (await this.q("DELETE FROM T.noise_marks WHERE route = $1 AND path = $2 RETURNING 1", [route, path])).length > 0;
  }

  async controlRows(): Promise<ControlRow[]> {
    this.lastRows = (await this.q("SELECT route, stage, percent, paused, config_key, version FROM T.route_state")).map((r) => ({
      route: r.route as string,
      stage: r.stage as Stage,
      percent: Number(r.percent),
      paused: r.paused === true,
      config_key: r.config_key as string,
      version: Number(r.version),
    }));
    return this.lastRows;
  }

  private async resetStep(exec: (q: string, p?: unknown[]) => Promise<Record<string, unknown>[]>, route: string, to: ControlState, key: string, now: number): Promise<void> {
    const baseline = JSON.stringify(await this.counterMap(exec, route));
    await exec(
      `INSERT INTO T.route_state (route, stage, percent, paused, config_key, version, updated, step_started, baseline) VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7)
       ON CONFLICT (route) DO UPDATE SET stage = EXCLUDED.stage, percent = EXCLUDED.percent, paused = EXCLUDED.paused, config_key = EXCLUDED.config_key,
         version = T.route_state.version + 1, updated = EXCLUDED.updated, step_started = EXCLUDED.step_started, baseline = EXCLUDED.baseline`,
      [route, to.stage, to.percent, to.paused, key, now, baseline],
    );
    await exec("DELETE FROM T.latency WHERE route = $1 AND side IN ('step_legacy', 'step_candidate')", [route]);
  }

  async command(req: CommandRequest): Promise<{ transition: Transition; from: ControlState; event: MigrationEvent }> {
    const { route, key, configured, action, plan, actor, reason, detail = {}, expectedVersion } = req;
    return this.tx(route, async (_t, exec) => {
      const row = (await exec("SELECT stage, percent, paused, config_key, version FROM T.route_state WHERE route = $1", [route]))[0];
      const state = row && { stage: row.stage as Stage, percent: Number(row.percent), paused: row.paused === true, config_key: row.config_key as string, version: Number(row.version) };
      const { from, t, message } = decideCommand(state, key, configured, action, plan, reason, expectedVersion);
      const now = Date.now();
      if (t.changed) await this.resetStep(exec, route, t.to, key, now);
      const ins = await exec(
        "INSERT INTO T.events (time, route, actor, action, changed, from_stage, from_percent, to_stage, to_percent, message, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        [now, route, actor, action, t.changed, from.stage, from.percent, t.to.stage, t.to.percent, message, JSON.stringify(detail)],
      );
      const event = commandEvent(Number(ins[0]?.id), now, route, actor, action, from, t, message, detail);
      return { transition: t, from, event };
    });
  }

  async step(route: string, key: string, configured: ControlState): Promise<StepInfo> {
    return this.tx(route, async (_t, exec) => {
      let row = (await exec("SELECT stage, percent, paused, config_key, version, step_started, baseline FROM T.route_state WHERE route = $1", [route]))[0];
      if (!row || row.config_key !== key) {
        await this.resetStep(exec, route, configured, key, Date.now());
        row = (await exec("SELECT stage, percent, paused, config_key, version, step_started, baseline FROM T.route_state WHERE route = $1", [route]))[0] as Record<string, unknown>;
      }
      return {
        version: Number(row.version),
        startedAt: Number(row.step_started),
        state: { stage: row.stage as Stage, percent: Number(row.percent), paused: row.paused === true },
        stats: stepStats(await this.counterMap(exec, route), JSON.parse(row.baseline as string) as Record<string, number>, await this.hist(exec, route, "step_legacy"), await this.hist(exec, route, "step_candidate")),
      };
    });
  }

  async events(route?: string, limit = 200): Promise<MigrationEvent[]> {
    const rows =
      route === undefined ? await this.q("SELECT * FROM T.events ORDER BY id DESC LIMIT $1", [limit]) : await this.q("SELECT * FROM T.events WHERE route = $1 ORDER BY id DESC LIMIT $2", [route, limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      time: new Date(Number(r.time)).toISOString(),
      route: r.route as string,
      actor: r.actor as string,
      action: r.action as Action,
      changed: r.changed === true,
      from: { stage: r.from_stage as Stage, percent: Number(r.from_percent) },
      to: { stage: r.to_stage as Stage, percent: Number(r.to_percent) },
      message: r.message as string,
      detail: JSON.parse(r.detail as string) as unknown,
    }));
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}
