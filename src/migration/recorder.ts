/**
 * Moves shadow results from the data plane to the store, off the hot path:
 * results accumulate in a ResultsBuffer and are written every flush interval
 * in one transaction. The store is opened on first use (a gateway without a
 * shadow-stage route never creates the file).
 *
 * SQLite (store.path): when the file cannot be opened or written, results go
 * to an in-memory store instead; the gateway keeps serving and counting, says
 * so in the log, and counts the failures.
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
import { ResultsBuffer } from "./results.ts";
import { type ResultsStore, SqliteStore } from "./store.ts";
import { PostgresStore } from "./store-postgres.ts";

export class ResultsRecorder {
  readonly buffer: ResultsBuffer;
  private store: ResultsStore | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  private degraded = false;
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

  /** The store, opened on first use; an in-memory one when the file cannot be used. */
  open(): ResultsStore {
    if (this.store) return this.store;
    let store: ResultsStore;
    try {
      store = this.settings.url
        ? new PostgresStore(this.settings.url, this.settings.schema, this.settings.samples_per_signature, this.settings.retention)
        : new SqliteStore(this.settings.path, this.settings.samples_per_signature, this.settings.retention);
    } catch (err) {
      this.degrade(err, "open");
      store = new SqliteStore(":memory:", this.settings.samples_per_signature, this.settings.retention);
    }
    this.store = store;
    return store;
  }

  private degrade(err: unknown, op: string): void {
    this.metrics.shadowStoreErrors.inc();
    if (!this.degraded) {
      this.degraded = true;
      if (this.settings.url) this.logger.error("results store unreachable; dropping results until it is back", { store: this.store?.location, op, error: err });
      else this.logger.error("results store unusable; keeping shadow results in memory", { path: this.settings.path, op, error: err });
    }
  }

  private recovered(): void {
    if (this.degraded && this.settings.url) {
      this.degraded = false;
      this.logger.info("results store reachable again", { store: this.store?.location });
    }
  }

  private async tick(): Promise<void> {
    // One tick at a time: a slow store must not pile up flushes.
    if (this.ticking) return;
    this.ticking = true;
    try {
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

  /** Writes what has accumulated. Never throws. */
  async flush(): Promise<void> {
    if (this.buffer.empty) return;
    const deltas = this.buffer.drain();
    const store = this.open();
    try {
      await store.apply(deltas);
      this.recovered();
    } catch (err) {
      this.degrade(err, "write");
      if (!this.settings.url && store.location !== ":memory:") {
        const memory = new SqliteStore(":memory:", this.settings.samples_per_signature, this.settings.retention);
        this.store = memory;
        await memory.apply(deltas).catch(() => {
          // Nothing more to do: the counts of this flush are lost, the gateway serves on.
        });
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.store?.close();
    this.store = undefined;
  }
}
