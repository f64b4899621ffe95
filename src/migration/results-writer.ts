/**
 * Moves shadow results from the data plane to the store, off the hot path:
 * results accumulate in a ResultsBuffer and are written every flush interval
 * in one transaction. The store is opened on first use (a gateway without a
 * shadow-stage route never creates the file).
 *
 * SQLite (store.path): a flush that fails because the disk is full, or on an
 * I/O or read-only error, keeps its results (bounded) and is tried again at the
 * next interval, until the disk takes them again. The file deleted or replaced
 * while running is put back (store-file.ts). When the file cannot be used at
 * all (at start, or failing otherwise), results go to an in-memory store
 * instead, a copy of what the file held; the gateway keeps serving and
 * counting. Each of these is logged when it changes, counted, and shows in
 * ficus_store_up.
 *
 * PostgreSQL (store.url): the database is shared by a fleet, so there is no
 * local fallback (an instance deciding alone would split the fleet's view of a
 * migration). While the database is unreachable, the results of the failed
 * flushes are dropped and counted, routing keeps the last state it read, and
 * writing resumes by itself when the database is back.
 */
import type { FicusConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { ResultsBuffer, type RouteDelta, type SignatureDelta } from "./results.ts";
import { type ResultsStore, SqliteStore } from "./store.ts";
import type { StoreFileNotice } from "./store-file.ts";
import { PostgresStore } from "./store-postgres.ts";

/** Past these, results kept for a retry drop their oldest signatures and paths (counted). */
export const PENDING_MAX_SIGNATURES = 10_000;
export const PENDING_MAX_PATHS = 10_000;

/** Why a write failed, when trying again later can succeed (SQLite result codes, extended ones included). */
export function retryableReason(err: unknown): "full" | "ioerr" | "readonly" | "busy" | undefined {
  const code = String((err as { code?: unknown } | undefined)?.code ?? "");
  if (code === "SQLITE_FULL") return "full";
  if (code.startsWith("SQLITE_IOERR")) return "ioerr";
  if (code.startsWith("SQLITE_READONLY")) return "readonly";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "busy";
  return undefined;
}

/** Adds the results of `b` to `a` (both taken from buffers): what applying both would write. */
export function mergeDeltas(a: Map<string, RouteDelta>, b: Map<string, RouteDelta>, samplesPerSignature: number): Map<string, RouteDelta> {
  for (const [route, d] of b) {
    const into = a.get(route);
    a.set(route, into ? mergeRoute(into, d, samplesPerSignature) : d);
  }
  return a;
}

function mergeRoute(a: RouteDelta, b: RouteDelta, samplesPerSignature: number): RouteDelta {
  for (const [name, n] of b.counters) a.counters.set(name, (a.counters.get(name) ?? 0) + n);
  for (const [path, c] of b.paths) {
    const have = a.paths.get(path);
    if (have) {
      have.raw += c.raw;
      have.aa += c.aa;
    } else a.paths.set(path, c);
  }
  for (const [id, s] of b.signatures) {
    const have = a.signatures.get(id);
    if (!have) {
      a.signatures.set(id, s);
      continue;
    }
    have.count += s.count;
    have.firstSeen = Math.min(have.firstSeen, s.firstSeen);
    have.lastSeen = Math.max(have.lastSeen, s.lastSeen);
    for (const sample of s.samples) if (have.samples.length < samplesPerSignature) have.samples.push(sample);
  }
  a.legacy.add(b.legacy);
  a.candidate.add(b.candidate);
  a.ratio.add(b.ratio);
  // Every field, so a field added to RouteDelta fails to compile here until it is merged too.
  return { counters: a.counters, paths: a.paths, signatures: a.signatures, legacy: a.legacy, candidate: a.candidate, ratio: a.ratio };
}

/** Drops the oldest signatures and paths past the caps; returns how many of each went. */
export function capPending(deltas: Map<string, RouteDelta>, maxSignatures: number, maxPaths: number): { signatures: number; paths: number } {
  const sigs: [RouteDelta, SignatureDelta][] = [];
  let paths = 0;
  for (const d of deltas.values()) {
    for (const s of d.signatures.values()) sigs.push([d, s]);
    paths += d.paths.size;
  }
  let droppedSigs = 0;
  if (sigs.length > maxSignatures) {
    sigs.sort((x, y) => x[1].lastSeen - y[1].lastSeen);
    for (const [d, s] of sigs.slice(0, sigs.length - maxSignatures)) {
      d.signatures.delete(s.id);
      droppedSigs++;
    }
  }
  let droppedPaths = 0;
  // Paths in the order first seen: the oldest go first.
  for (const d of deltas.values()) {
    for (const path of d.paths.keys()) {
      if (paths - droppedPaths <= maxPaths) break;
      d.paths.delete(path);
      droppedPaths++;
    }
  }
  return { signatures: droppedSigs, paths: droppedPaths };
}

export class ResultsWriter {
  readonly buffer: ResultsBuffer;
  private store: ResultsStore | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  /** SQLite: results went to memory (for good). PostgreSQL: the database is unreachable. */
  private degraded = false;
  /** Why the last flush failed and its results wait for a retry; undefined when writes work. */
  private failing: string | undefined;
  /** Results of failed flushes, written with the next one. */
  private pending: Map<string, RouteDelta> | undefined;
  /** Called after every flush tick with the store (to refresh what the data plane reads from it). */
  onFlush: ((store: ResultsStore) => Promise<void>) | undefined;
  private ticking = false;

  constructor(
    private readonly settings: FicusConfig["store"],
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.buffer = new ResultsBuffer(settings.samples_per_signature);
    this.timer = setInterval(() => this.tick(), settings.flush_interval);
    this.timer.unref?.();
  }

  /** True when results reach the configured store: reachable (PostgreSQL); not in memory, not failing, the file not lost (SQLite). */
  get healthy(): boolean {
    if (this.settings.url) return !this.degraded;
    const s = this.store;
    return this.failing === undefined && !(s instanceof SqliteStore && (s.location === ":memory:" || s.fileLost));
  }

  /** True when the store in use is this process's own memory (the file could not be used): other processes cannot see it. */
  get private(): boolean {
    const s = this.store;
    return s instanceof SqliteStore && s.location === ":memory:";
  }

  /** The store, opened on first use; an in-memory one when the file cannot be used. */
  open(): ResultsStore {
    if (this.store) return this.store;
    let store: ResultsStore;
    try {
      if (this.settings.url) {
        const pg = new PostgresStore(this.settings.url, this.settings.schema, this.settings.samples_per_signature, this.settings.retention);
        pg.onDropped = (routes) => {
          this.metrics.storeErrors.inc({ reason: "dropped" });
          this.logger.error("results store tables were dropped while in use; created them again and put back the stages last read", { store: pg.location, routes });
        };
        store = pg;
      } else {
        const file = new SqliteStore(this.settings.path, this.settings.samples_per_signature, this.settings.retention);
        file.onNotice = (n) => this.fileNotice(n);
        store = file;
      }
    } catch (err) {
      this.degrade(err, "open");
      store = new SqliteStore(":memory:", this.settings.samples_per_signature, this.settings.retention);
    }
    this.store = store;
    return store;
  }

  private publishUp(): void {
    this.metrics.storeUp.set(this.healthy ? 1 : 0);
  }

  private degrade(err: unknown, op: string): void {
    this.metrics.shadowStoreErrors.inc();
    if (!this.degraded) {
      this.degraded = true;
      if (this.settings.url) this.logger.error("results store unreachable; dropping results until it is back", { store: this.store?.location, op, error: err });
      else this.logger.error("results store unusable; keeping shadow results in memory", { path: this.settings.path, op, error: err });
    }
    this.publishUp();
  }

  private recovered(): void {
    if (this.degraded && this.settings.url) {
      this.degraded = false;
      this.logger.info("results store reachable again", { store: this.store?.location });
      this.publishUp();
    }
  }

  /** The SQLite file deleted or replaced under the gateway, and what became of it. */
  private fileNotice(n: StoreFileNotice): void {
    const path = this.settings.path;
    if (n.kind === "lost") {
      this.metrics.storeErrors.inc({ reason: "deleted" });
      this.logger.error("results store file deleted or replaced while in use; putting it back", { path, found: n.found });
    } else if (n.kind === "restored") {
      this.logger.info("results store file put back; results, stages and audit trail carried over", { path, how: n.how });
    } else {
      this.metrics.storeErrors.inc({ reason: "restore_failed" });
      this.logger.error("results store file cannot be put back; writing to the deleted file (kept only while the gateway runs) and trying again", { path, error: n.error });
    }
    this.publishUp();
  }

  private async tick(): Promise<void> {
    // One tick at a time: a slow store must not pile up flushes.
    if (this.ticking) return;
    this.ticking = true;
    try {
      // A process that only reads (the supervisor) notices a deleted file here too.
      if (this.store instanceof SqliteStore) this.store.verify();
      await this.flush();
      if (this.onFlush) {
        await this.onFlush(this.open()).then(
          () => this.recovered(),
          (err) => this.degrade(err, "read"),
        );
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Writes what has accumulated (and what failed before). Never throws. */
  async flush(): Promise<void> {
    if (this.buffer.empty && !this.pending) return;
    const fresh = this.buffer.drain();
    const deltas = this.pending ? mergeDeltas(this.pending, fresh, this.settings.samples_per_signature) : fresh;
    this.pending = undefined;
    const store = this.open();
    try {
      await store.apply(deltas);
      this.recovered();
      if (this.failing !== undefined) {
        this.failing = undefined;
        this.logger.info("results store writable again; the results kept meanwhile are written", { path: this.settings.path });
        this.publishUp();
      }
    } catch (err) {
      const reason = retryableReason(err);
      if (reason && store instanceof SqliteStore && store.location !== ":memory:") {
        this.keep(deltas, reason, err);
        return;
      }
      this.degrade(err, "write");
      if (!this.settings.url && store instanceof SqliteStore && store.location !== ":memory:") {
        // The copy keeps the stages and the audit trail in force; without it every route would fall back to its configured stage.
        let memory: SqliteStore;
        try {
          memory = store.memoryCopy();
        } catch {
          memory = new SqliteStore(":memory:", this.settings.samples_per_signature, this.settings.retention);
        }
        this.store = memory;
        await store.close().catch(() => {});
        await memory.apply(deltas).catch(() => {
          // Nothing more to do: the counts of this flush are lost, the gateway serves on.
        });
      }
    }
  }

  /** Keeps a failed flush's results for the next one (bounded), logging a change of reason once. */
  private keep(deltas: Map<string, RouteDelta>, reason: string, err: unknown): void {
    this.metrics.shadowStoreErrors.inc();
    this.metrics.storeErrors.inc({ reason });
    const dropped = capPending(deltas, PENDING_MAX_SIGNATURES, PENDING_MAX_PATHS);
    if (dropped.signatures > 0) this.metrics.storeDropped.inc({ kind: "signature" }, dropped.signatures);
    if (dropped.paths > 0) this.metrics.storeDropped.inc({ kind: "path" }, dropped.paths);
    this.pending = deltas;
    if (this.failing !== reason) {
      this.failing = reason;
      this.logger.error("results store write failed; keeping results in memory to write them when it works", { path: this.settings.path, reason, error: err });
      this.publishUp();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.pending) this.logger.error("results store still failing at shutdown; the results kept for it are lost", { path: this.settings.path, reason: this.failing });
    await this.store?.close();
    this.store = undefined;
  }
}
