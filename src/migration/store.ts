/**
 * Durable shadow-stage results in SQLite (bun:sqlite). Processes write deltas
 * (counters add, signatures upsert, histograms merge) in one transaction per
 * flush, so several workers can share one file (WAL, busy timeout). Bounded:
 * a few samples per signature (the first ones seen), and signatures unseen for
 * the retention period are deleted. Results survive restarts, and the file
 * being deleted or replaced under a running gateway (store-file.ts).
 */
import { Database } from "bun:sqlite";
import * as hdr from "hdr-histogram-js";
import type { Severity } from "../compare/index.ts";
import { type Action, type ControlState, type Plan, type Stage, type Transition, transition } from "./control.ts";
import type { StepStats } from "./gates.ts";
import { COUNTERS, type CounterName, newHistogram, type RouteDelta, type Sample, SKIP_REASONS, type SkipReason } from "./results.ts";
import { StoreFile, type StoreFileNotice } from "./store-file.ts";

export interface LatencySummary {
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
}

export interface SignatureSummary {
  readonly id: string;
  readonly count: number;
  readonly status: readonly [number, number];
  readonly paths: readonly string[];
  readonly severity: Severity;
  readonly first_seen: string;
  readonly last_seen: string;
}

export interface RouteResults {
  readonly route: string;
  readonly counters: Record<CounterName, number>;
  readonly skipped: Record<SkipReason, number>;
  readonly latency: {
    readonly legacy: LatencySummary;
    readonly candidate: LatencySummary;
    readonly ratio_p50: number;
    readonly pairs: number;
    /** Both distributions at CURVE_PERCENTILES (ms), for charts. */
    readonly curve: readonly { readonly p: number; readonly legacy_ms: number; readonly candidate_ms: number }[];
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS counters (route TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (route, name));
CREATE TABLE IF NOT EXISTS signatures (
  id TEXT PRIMARY KEY, route TEXT NOT NULL, status_legacy INTEGER NOT NULL, status_candidate INTEGER NOT NULL,
  paths TEXT NOT NULL, severity TEXT NOT NULL, count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS signatures_route ON signatures (route, count DESC);
CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY AUTOINCREMENT, signature TEXT NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS samples_signature ON samples (signature);
CREATE TABLE IF NOT EXISTS latency (route TEXT NOT NULL, side TEXT NOT NULL, histogram TEXT NOT NULL, PRIMARY KEY (route, side));
CREATE TABLE IF NOT EXISTS path_stats (route TEXT NOT NULL, path TEXT NOT NULL, raw INTEGER NOT NULL, aa INTEGER NOT NULL, PRIMARY KEY (route, path));
CREATE TABLE IF NOT EXISTS route_state (route TEXT PRIMARY KEY, stage TEXT NOT NULL, percent REAL NOT NULL, paused INTEGER NOT NULL, config_key TEXT NOT NULL, version INTEGER NOT NULL, updated INTEGER NOT NULL,
  step_started INTEGER NOT NULL DEFAULT 0, baseline TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, route TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  changed INTEGER NOT NULL, from_stage TEXT NOT NULL, from_percent REAL NOT NULL, to_stage TEXT NOT NULL, to_percent REAL NOT NULL, message TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_route ON events (route, id);
CREATE TABLE IF NOT EXISTS noise_marks (route TEXT NOT NULL, path TEXT NOT NULL, reason TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (route, path));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export interface NoiseSettings {
  readonly relative: number;
  readonly absolute: number;
  readonly min_aa: number;
}

/** A path whose differences say nothing about the candidate, and why. */
export interface NoiseEntry {
  readonly path: string;
  readonly source: "learned" | "manual";
  /** Share of compared legacy/candidate pairs where the path differed. */
  readonly candidate_rate: number;
  /** Share of A/A (legacy/legacy) pairs where the path differed. */
  readonly aa_rate: number;
  readonly why: string;
}

const pctText = (x: number) => `${(x * 100).toFixed(2)}%`;

export interface ControlRow {
  readonly route: string;
  readonly stage: Stage;
  readonly percent: number;
  readonly paused: boolean;
  readonly config_key: string;
  readonly version: number;
}

/** One entry of the audit trail: who or what, from, to, why. */
export interface MigrationEvent {
  readonly id: number;
  readonly time: string;
  readonly route: string;
  readonly actor: string;
  readonly action: Action;
  readonly changed: boolean;
  readonly from: { readonly stage: Stage; readonly percent: number };
  readonly to: { readonly stage: Stage; readonly percent: number };
  readonly message: string;
  readonly detail: unknown;
}

/**
 * Where shadow results, migration state and the audit trail live. Two
 * implementations: SQLite (one machine; its workers share the file) and
 * PostgreSQL (several gateway instances). Methods are async for the network one.
 */
export interface ResultsStore {
  /** A file path, ":memory:", or a redacted database URL. */
  readonly location: string;
  apply(deltas: Map<string, RouteDelta>, now?: number): Promise<void>;
  routes(): Promise<RouteResults[]>;
  route(route: string): Promise<RouteResults>;
  signatures(route: string, limit?: number): Promise<SignatureSummary[]>;
  samples(route: string, signature: string): Promise<Sample[] | undefined>;
  noise(route: string, s: NoiseSettings): Promise<NoiseEntry[]>;
  markNoise(route: string, path: string, reason: string): Promise<void>;
  unmarkNoise(route: string, path: string): Promise<boolean>;
  controlRows(): Promise<ControlRow[]>;
  command(req: CommandRequest): Promise<{ transition: Transition; from: ControlState; event: MigrationEvent }>;
  step(route: string, key: string, configured: ControlState): Promise<StepInfo>;
  events(route?: string, limit?: number): Promise<MigrationEvent[]>;
  close(): Promise<void>;
}

export interface StepInfo {
  readonly version: number;
  readonly startedAt: number;
  readonly state: ControlState;
  readonly stats: StepStats;
}

/** Percentiles of a latency histogram (µs) in milliseconds. */
export function summary(h: hdr.Histogram): LatencySummary {
  const at = (p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / 1000);
  return { p50_ms: at(50), p95_ms: at(95), p99_ms: at(99) };
}

/** Diffy's significance rule over path statistics (shared by both stores). */
export function learnedNoise(
  stats: readonly { path: string; raw: number; aa: number }[],
  marks: readonly { path: string; reason: string }[],
  compared: number,
  aaTotal: number,
  s: NoiseSettings,
): NoiseEntry[] {
  const byPath = new Map(stats.map((r) => [r.path, r]));
  const rates = (path: string) => {
    const st = byPath.get(path);
    return { candidate_rate: compared > 0 && st ? st.raw / compared : 0, aa_rate: aaTotal > 0 && st ? st.aa / aaTotal : 0 };
  };
  const out: NoiseEntry[] = [];
  for (const m of [...marks].sort((a, b) => a.path.localeCompare(b.path))) out.push({ path: m.path, source: "manual", ...rates(m.path), why: `marked by hand: ${m.reason}` });
  if (aaTotal >= s.min_aa) {
    for (const st of [...stats].sort((a, b) => a.path.localeCompare(b.path))) {
      if (st.aa === 0 || out.some((e) => e.path === st.path)) continue;
      const { candidate_rate, aa_rate } = rates(st.path);
      const excess = candidate_rate - aa_rate;
      if (excess >= s.absolute && excess >= s.relative * aa_rate) continue;
      out.push({
        path: st.path,
        source: "learned",
        candidate_rate,
        aa_rate,
        why: `differs in ${pctText(aa_rate)} of ${aaTotal} A/A pairs and ${pctText(candidate_rate)} of ${compared} candidate pairs: not significantly more (needs +${pctText(s.absolute)} and +${Math.round(s.relative * 100)}% relative)`,
      });
    }
  }
  return out;
}

/** Counters as RouteResults fields (shared by both stores). */
export function routeResults(route: string, rows: readonly { name: string; value: number }[], legacy: hdr.Histogram, candidate: hdr.Histogram, ratio: hdr.Histogram): RouteResults {
  const counters = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<CounterName, number>;
  const skipped = Object.fromEntries(SKIP_REASONS.map((c) => [c, 0])) as Record<SkipReason, number>;
  for (const row of rows) {
    if (row.name.startsWith("skipped.")) skipped[row.name.slice(8) as SkipReason] = Number(row.value);
    else if ((COUNTERS as readonly string[]).includes(row.name)) counters[row.name as CounterName] = Number(row.value);
  }
  return {
    route,
    counters,
    skipped,
    latency: {
      legacy: summary(legacy),
      candidate: summary(candidate),
      ratio_p50: ratio.totalCount === 0 ? 0 : Math.round(ratio.getValueAtPercentile(50)) / 1000,
      pairs: ratio.totalCount,
      curve: CURVE_PERCENTILES.map((p) => ({ p, legacy_ms: at(legacy, p), candidate_ms: at(candidate, p) })),
    },
  };
}

/** Where the latency distribution is sampled for charts. */
export const CURVE_PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9] as const;
const at = (h: hdr.Histogram, p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / 1000);

/** One command on a route, as the stores apply it. */
export interface CommandRequest {
  readonly route: string;
  /** configKey of the route's config: state written for another ficus.yaml is ignored. */
  readonly key: string;
  /** The state ficus.yaml describes, used when no runtime state applies. */
  readonly configured: ControlState;
  readonly action: Action;
  readonly plan: Plan;
  readonly actor: string;
  readonly reason: string;
  /** Stored with the event (the gate values of an automatic decision). */
  readonly detail?: unknown;
  /** For automatic decisions: the step version decided on; a changed route voids the command. */
  readonly expectedVersion?: number | undefined;
}

/** A route's stored runtime state, as both stores read it. */
export interface StateRow {
  readonly stage: Stage;
  readonly percent: number;
  readonly paused: boolean;
  readonly config_key: string;
  readonly version: number;
}

/**
 * What a command does, given the stored state (shared by both stores). State
 * written for another ficus.yaml (key) is ignored: the file's state applies.
 * An automatic decision made on a state that has changed since is void
 * (another process or a person acted).
 */
export function decideCommand(
  row: StateRow | undefined,
  key: string,
  configured: ControlState,
  action: Action,
  plan: Plan,
  reason: string,
  expectedVersion: number | undefined,
): { from: ControlState; t: Transition; message: string } {
  const current = row && row.config_key === key ? row : undefined;
  const from: ControlState = current ? { stage: current.stage, percent: current.percent, paused: current.paused } : configured;
  const stale = expectedVersion !== undefined && (current?.version ?? 0) !== expectedVersion;
  const t: Transition = stale ? { changed: false, to: from, message: "the route changed while this was decided; nothing done" } : transition(from, action, plan);
  return { from, t, message: reason ? `${t.message} — ${reason}` : t.message };
}

export function commandEvent(id: number, now: number, route: string, actor: string, action: Action, from: ControlState, t: Transition, message: string, detail: unknown): MigrationEvent {
  return {
    id,
    time: new Date(now).toISOString(),
    route,
    actor,
    action,
    changed: t.changed,
    from: { stage: from.stage, percent: from.percent },
    to: { stage: t.to.stage, percent: t.to.percent },
    message,
    detail,
  };
}

/** Step statistics from counters now and at the step's start (shared by both stores). */
export function stepStats(now: Record<string, number>, base: Record<string, number>, legacy: hdr.Histogram, candidate: hdr.Histogram): StepStats {
  const since = (name: string) => (now[name] ?? 0) - (base[name] ?? 0);
  return {
    compared: since("compared"),
    mismatched: since("mismatched"),
    mismatchedBySeverity: { low: since("mismatched_low"), medium: since("mismatched_medium"), high: since("mismatched_high") },
    candidateFailures: since("candidate_error") + since("candidate_timeout"),
    candidate5xx: since("candidate_5xx"),
    legacy5xx: since("legacy_5xx"),
    legacy,
    candidate,
  };
}

/**
 * Adds the data of the attached snapshot `snap` to `into` (a file that does not
 * hold it yet), as if its writes had been applied there: counters, statistics,
 * signatures and histograms add up, samples stay capped, a route keeps the
 * state changed last, and the audit trails interleave by time.
 */
function mergeSnapshot(into: Database, samplesPerSignature: number): void {
  into.exec(`
    INSERT INTO counters (route, name, value) SELECT route, name, value FROM snap.counters WHERE true
      ON CONFLICT (route, name) DO UPDATE SET value = value + excluded.value;
    INSERT INTO path_stats (route, path, raw, aa) SELECT route, path, raw, aa FROM snap.path_stats WHERE true
      ON CONFLICT (route, path) DO UPDATE SET raw = raw + excluded.raw, aa = aa + excluded.aa;
    INSERT INTO signatures (id, route, status_legacy, status_candidate, paths, severity, count, first_seen, last_seen)
      SELECT id, route, status_legacy, status_candidate, paths, severity, count, first_seen, last_seen FROM snap.signatures WHERE true
      ON CONFLICT (id) DO UPDATE SET count = count + excluded.count, first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen);
    INSERT INTO noise_marks (route, path, reason, created) SELECT route, path, reason, created FROM snap.noise_marks WHERE true ON CONFLICT (route, path) DO NOTHING;
    INSERT INTO route_state (route, stage, percent, paused, config_key, version, updated, step_started, baseline)
      SELECT route, stage, percent, paused, config_key, version, updated, step_started, baseline FROM snap.route_state WHERE true
      ON CONFLICT (route) DO UPDATE SET stage = excluded.stage, percent = excluded.percent, paused = excluded.paused, config_key = excluded.config_key,
        version = max(version, excluded.version) + 1, updated = excluded.updated, step_started = excluded.step_started, baseline = excluded.baseline
      WHERE excluded.updated > route_state.updated;
    CREATE TEMP TABLE merged_events AS SELECT 0 AS src, * FROM main.events;
    INSERT INTO temp.merged_events SELECT 1, o.* FROM snap.events o WHERE NOT EXISTS (
      SELECT 1 FROM main.events e WHERE e.time = o.time AND e.route = o.route AND e.actor = o.actor AND e.action = o.action AND e.message = o.message);
    DELETE FROM main.events;
    INSERT INTO main.events (time, route, actor, action, changed, from_stage, from_percent, to_stage, to_percent, message, detail)
      SELECT time, route, actor, action, changed, from_stage, from_percent, to_stage, to_percent, message, detail FROM temp.merged_events ORDER BY time, src, id;
    DROP TABLE temp.merged_events;
  `);
  // The first samples of a signature are kept, up to the cap, counting those already there.
  into
    .query(
      `INSERT INTO samples (signature, time, data)
       SELECT signature, time, data FROM (SELECT id, signature, time, data, row_number() OVER (PARTITION BY signature ORDER BY id) AS n FROM snap.samples) AS c
       WHERE c.n <= ? - (SELECT COUNT(*) FROM main.samples s WHERE s.signature = c.signature) ORDER BY c.id`,
    )
    .run(samplesPerSignature);
  const mine = into.query("SELECT histogram FROM main.latency WHERE route = ? AND side = ?");
  const put = into.query("INSERT INTO main.latency (route, side, histogram) VALUES (?, ?, ?) ON CONFLICT (route, side) DO UPDATE SET histogram = excluded.histogram");
  for (const r of into.query("SELECT route, side, histogram FROM snap.latency").all() as { route: string; side: string; histogram: string }[]) {
    const h = hdr.decodeFromCompressedBase64(r.histogram, 32, false);
    const row = mine.get(r.route, r.side) as { histogram: string } | null;
    if (row) h.add(hdr.decodeFromCompressedBase64(row.histogram, 32, false));
    put.run(r.route, r.side, hdr.encodeIntoCompressedBase64(h));
  }
}

export class SqliteStore implements ResultsStore {
  /** The file (path given), or undefined for an in-memory store. */
  private readonly file: StoreFile | undefined;
  private readonly memory: Database | undefined;
  readonly location: string;

  /**
   * Opens (creating) the store at `path`, or an in-memory one for ":memory:"
   * (`from`: an in-memory database to use). Throws when the file cannot be used.
   */
  constructor(
    path: string,
    private readonly samplesPerSignature: number,
    private readonly retentionMs: number,
    from?: Database,
  ) {
    this.location = path;
    if (path === ":memory:") {
      this.memory = from ?? new Database(":memory:", { strict: true });
      this.memory.exec(SCHEMA);
    } else {
      this.file = new StoreFile(
        path,
        (db) => db.exec(SCHEMA),
        (into) => mergeSnapshot(into, samplesPerSignature),
      );
    }
  }

  private get db(): Database {
    return this.file ? this.file.db : (this.memory as Database);
  }

  /** Told when the file is deleted or replaced, put back, or cannot be put back (see StoreFileNotice). */
  set onNotice(fn: ((n: StoreFileNotice) => void) | undefined) {
    if (this.file) this.file.onNotice = fn;
  }

  /** True while the file was deleted or replaced and could not be put back yet (writes go to the deleted file). */
  get fileLost(): boolean {
    return this.file?.lost ?? false;
  }

  /** Checks that the path still names the open file, putting it back if not (one stat; the results writer calls it each flush interval). */
  verify(): void {
    this.file?.verify(true);
  }

  /** An in-memory store holding a copy of everything this one holds (the fallback when the file fails). */
  memoryCopy(): SqliteStore {
    return new SqliteStore(":memory:", this.samplesPerSignature, this.retentionMs, this.file ? this.file.memoryCopy() : undefined);
  }

  /** Runs one SQL statement on the open connection and returns its first row (for tests: `PRAGMA max_page_count` fills the "disk"). */
  exec(statement: string): unknown {
    return this.db.query(statement).get();
  }

  /** Reads check the file at most every 100 ms. */
  private read(): Database {
    this.file?.verify(false);
    return this.db;
  }

  /** Writes run on the file the path names, under the shared lock (store-file.ts). */
  private write<T>(fn: (db: Database) => T): T {
    return this.file ? this.file.write(fn) : fn(this.db);
  }

  /** Merges one process's deltas, in a single transaction. */
  async apply(deltas: Map<string, RouteDelta>, now = Date.now()): Promise<void> {
    this.write((db) => this.applyTo(db, deltas, now));
  }

  private applyTo(db: Database, deltas: Map<string, RouteDelta>, now: number): void {
    const addCounter = db.query("INSERT INTO counters (route, name, value) VALUES (?, ?, ?) ON CONFLICT (route, name) DO UPDATE SET value = value + excluded.value");
    const addPath = db.query("INSERT INTO path_stats (route, path, raw, aa) VALUES (?, ?, ?, ?) ON CONFLICT (route, path) DO UPDATE SET raw = raw + excluded.raw, aa = aa + excluded.aa");
    const upsertSig = db.query(
      `INSERT INTO signatures (id, route, status_legacy, status_candidate, paths, severity, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET count = count + excluded.count, first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
    );
    const countSamples = db.query("SELECT COUNT(*) AS n FROM samples WHERE signature = ?");
    const addSample = db.query("INSERT INTO samples (signature, time, data) VALUES (?, ?, ?)");
    const getLatency = db.query("SELECT histogram FROM latency WHERE route = ? AND side = ?");
    const putLatency = db.query("INSERT INTO latency (route, side, histogram) VALUES (?, ?, ?) ON CONFLICT (route, side) DO UPDATE SET histogram = excluded.histogram");
    db.transaction(() => {
      for (const [route, d] of deltas) {
        for (const [name, n] of d.counters) addCounter.run(route, name, n);
        for (const [path, c] of d.paths) addPath.run(route, path, c.raw, c.aa);
        for (const s of d.signatures.values()) {
          upsertSig.run(s.id, route, s.status[0], s.status[1], JSON.stringify(s.paths), s.severity, s.count, s.firstSeen, s.lastSeen);
          const have = (countSamples.get(s.id) as { n: number }).n;
          for (const sample of s.samples.slice(0, Math.max(0, this.samplesPerSignature - have))) addSample.run(s.id, Date.parse(sample.time), JSON.stringify(sample));
        }
        for (const side of ["legacy", "candidate", "ratio", "step_legacy", "step_candidate"] as const) {
          // The step histograms (cleared at each transition) feed the latency gates.
          const delta = side === "step_legacy" ? d.legacy : side === "step_candidate" ? d.candidate : d[side];
          if (delta.totalCount === 0) continue;
          const row = getLatency.get(route, side) as { histogram: string } | null;
          const merged = row ? hdr.decodeFromCompressedBase64(row.histogram, 32, false) : newHistogram();
          merged.add(delta);
          putLatency.run(route, side, hdr.encodeIntoCompressedBase64(merged));
        }
      }
      if (this.retentionMs > 0) {
        const cutoff = now - this.retentionMs;
        db.query("DELETE FROM samples WHERE signature IN (SELECT id FROM signatures WHERE last_seen < ?)").run(cutoff);
        db.query("DELETE FROM signatures WHERE last_seen < ?").run(cutoff);
      }
    })();
  }

  async routes(): Promise<RouteResults[]> {
    const names = new Set<string>();
    for (const r of this.read().query("SELECT DISTINCT route FROM counters UNION SELECT DISTINCT route FROM latency UNION SELECT DISTINCT route FROM noise_marks").all() as { route: string }[]) names.add(r.route);
    return Promise.all([...names].sort().map((route) => this.route(route)));
  }

  async route(route: string): Promise<RouteResults> {
    const rows = this.read().query("SELECT name, value FROM counters WHERE route = ?").all(route) as { name: string; value: number }[];
    return routeResults(route, rows, this.hist(route, "legacy"), this.hist(route, "candidate"), this.hist(route, "ratio"));
  }

  private hist(route: string, side: string): hdr.Histogram {
    const row = this.db.query("SELECT histogram FROM latency WHERE route = ? AND side = ?").get(route, side) as { histogram: string } | null;
    return row ? hdr.decodeFromCompressedBase64(row.histogram, 32, false) : newHistogram();
  }

  async signatures(route: string, limit = 100): Promise<SignatureSummary[]> {
    const rows = this.read()
      .query("SELECT id, count, status_legacy, status_candidate, paths, severity, first_seen, last_seen FROM signatures WHERE route = ? ORDER BY count DESC, id LIMIT ?")
      .all(route, limit) as { id: string; count: number; status_legacy: number; status_candidate: number; paths: string; severity: Severity; first_seen: number; last_seen: number }[];
    return rows.map((r) => ({
      id: r.id,
      count: r.count,
      status: [r.status_legacy, r.status_candidate] as const,
      paths: JSON.parse(r.paths) as string[],
      severity: r.severity,
      first_seen: new Date(r.first_seen).toISOString(),
      last_seen: new Date(r.last_seen).toISOString(),
    }));
  }

  /** Samples of a signature of a route; undefined when the signature is unknown there. */
  async samples(route: string, signature: string): Promise<Sample[] | undefined> {
    const known = this.read().query("SELECT 1 FROM signatures WHERE id = ? AND route = ?").get(signature, route);
    if (!known) return undefined;
    return (this.db.query("SELECT data FROM samples WHERE signature = ? ORDER BY id").all(signature) as { data: string }[]).map((r) => JSON.parse(r.data) as Sample);
  }

  /**
   * The route's noise: manual marks, and paths learned from A/A pairs. A path is
   * learned as noise when it differs between two legacy answers and its
   * candidate difference rate is not significantly higher: significant means
   * candidate_rate − aa_rate ≥ absolute and ≥ relative × aa_rate (Diffy's rule).
   */
  async noise(route: string, s: NoiseSettings): Promise<NoiseEntry[]> {
    this.read();
    const counters = this.counterMap(route);
    const stats = this.db.query("SELECT path, raw, aa FROM path_stats WHERE route = ?").all(route) as { path: string; raw: number; aa: number }[];
    const marks = this.db.query("SELECT path, reason FROM noise_marks WHERE route = ?").all(route) as { path: string; reason: string }[];
    return learnedNoise(stats, marks, counters.compared ?? 0, counters.aa_compared ?? 0, s);
  }

  async markNoise(route: string, path: string, reason: string): Promise<void> {
    this.write((db) => db.query("INSERT INTO noise_marks (route, path, reason, created) VALUES (?, ?, ?, ?) ON CONFLICT (route, path) DO UPDATE SET reason = excluded.reason").run(route, path, reason, Date.now()));
  }

  /** Removes a manual mark; false when there was none. */
  async unmarkNoise(route: string, path: string): Promise<boolean> {
    return this.write((db) => db.query("DELETE FROM noise_marks WHERE route = ? AND path = ?").run(route, path).changes > 0);
  }

  /** Runtime control rows; the caller ignores a row whose config key no longer matches. */
  async controlRows(): Promise<ControlRow[]> {
    return (this.read().query("SELECT route, stage, percent, paused, config_key, version FROM route_state").all() as (Omit<ControlRow, "paused"> & { paused: number })[]).map((r) => ({
      ...r,
      paused: r.paused === 1,
    }));
  }

  /**
   * Applies one command in a single transaction (commands from several
   * processes serialize here) and records an event, changed or not.
   */
  async command(req: CommandRequest): Promise<{ transition: Transition; from: ControlState; event: MigrationEvent }> {
    const { route, key, configured, action, plan, actor, reason, detail = {}, expectedVersion } = req;
    return this.write((db) => db.transaction(() => {
      const row = this.db.query("SELECT stage, percent, paused, config_key, version FROM route_state WHERE route = ?").get(route) as
        | { stage: Stage; percent: number; paused: number; config_key: string; version: number }
        | null;
      const { from, t, message } = decideCommand(row ? { ...row, paused: row.paused === 1 } : undefined, key, configured, action, plan, reason, expectedVersion);
      const now = Date.now();
      if (t.changed) {
        // A new step starts: its statistics count from here.
        this.db
          .query(
            `INSERT INTO route_state (route, stage, percent, paused, config_key, version, updated, step_started, baseline) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
             ON CONFLICT (route) DO UPDATE SET stage = excluded.stage, percent = excluded.percent, paused = excluded.paused, config_key = excluded.config_key,
               version = version + 1, updated = excluded.updated, step_started = excluded.step_started, baseline = excluded.baseline`,
          )
          .run(route, t.to.stage, t.to.percent, t.to.paused ? 1 : 0, key, now, now, JSON.stringify(this.counterMap(route)));
        this.db.query("DELETE FROM latency WHERE route = ? AND side IN ('step_legacy', 'step_candidate')").run(route);
      }
      const info = this.db
        .query("INSERT INTO events (time, route, actor, action, changed, from_stage, from_percent, to_stage, to_percent, message, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(now, route, actor, action, t.changed ? 1 : 0, from.stage, from.percent, t.to.stage, t.to.percent, message, JSON.stringify(detail));
      const event = commandEvent(Number(info.lastInsertRowid), now, route, actor, action, from, t, message, detail);
      return { transition: t, from, event };
    }).immediate());
  }

  private counterMap(route: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.db.query("SELECT name, value FROM counters WHERE route = ?").all(route) as { name: string; value: number }[]) out[r.name] = r.value;
    return out;
  }

  /**
   * The current step of a route: when it started, its version, and what happened
   * since (counters minus the step's baseline; the step latency histograms). A
   * route without runtime state gets one now (the step starts with the file's state).
   */
  async step(route: string, key: string, configured: ControlState): Promise<StepInfo> {
    return this.write((db) => db.transaction(() => {
      let row = this.db.query("SELECT stage, percent, paused, config_key, version, step_started, baseline FROM route_state WHERE route = ?").get(route) as
        | { stage: Stage; percent: number; paused: number; config_key: string; version: number; step_started: number; baseline: string }
        | null;
      if (!row || row.config_key !== key) {
        const now = Date.now();
        const baseline = JSON.stringify(this.counterMap(route));
        this.db
          .query(
            `INSERT INTO route_state (route, stage, percent, paused, config_key, version, updated, step_started, baseline) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
             ON CONFLICT (route) DO UPDATE SET stage = excluded.stage, percent = excluded.percent, paused = excluded.paused, config_key = excluded.config_key,
               version = version + 1, updated = excluded.updated, step_started = excluded.step_started, baseline = excluded.baseline`,
          )
          .run(route, configured.stage, configured.percent, configured.paused ? 1 : 0, key, now, now, baseline);
        this.db.query("DELETE FROM latency WHERE route = ? AND side IN ('step_legacy', 'step_candidate')").run(route);
        row = this.db.query("SELECT stage, percent, paused, config_key, version, step_started, baseline FROM route_state WHERE route = ?").get(route) as NonNullable<typeof row>;
      }
      return {
        version: row.version,
        startedAt: row.step_started,
        state: { stage: row.stage, percent: row.percent, paused: row.paused === 1 },
        stats: stepStats(this.counterMap(route), JSON.parse(row.baseline) as Record<string, number>, this.hist(route, "step_legacy"), this.hist(route, "step_candidate")),
      };
    }).immediate());
  }

  /** The audit trail, newest first. */
  async events(route?: string, limit = 200): Promise<MigrationEvent[]> {
    const db = this.read();
    const rows = (
      route === undefined
        ? db.query("SELECT * FROM events ORDER BY id DESC LIMIT ?").all(limit)
        : db.query("SELECT * FROM events WHERE route = ? ORDER BY id DESC LIMIT ?").all(route, limit)
    ) as { id: number; time: number; route: string; actor: string; action: Action; changed: number; from_stage: Stage; from_percent: number; to_stage: Stage; to_percent: number; message: string; detail: string }[];
    return rows.map((r) => ({
      id: r.id,
      time: new Date(r.time).toISOString(),
      route: r.route,
      actor: r.actor,
      action: r.action,
      changed: r.changed === 1,
      from: { stage: r.from_stage, percent: r.from_percent },
      to: { stage: r.to_stage, percent: r.to_percent },
      message: r.message,
      detail: JSON.parse(r.detail) as unknown,
    }));
  }

  async close(): Promise<void> {
    if (this.file) this.file.close();
    else this.memory?.close();
  }
}
