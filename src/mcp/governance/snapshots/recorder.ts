/**
 * The recorder between the snapshot guard and the store: failed calls wait
 * in a bounded queue and are written in batches shortly after (never on
 * the call path). A store that cannot be opened or written (a read-only
 * folder, a full disk, a lock held too long) is logged once, retried each
 * second with what failed kept (within the queue's bound), and logged once
 * more when it works again; what does not fit is dropped and counted. A
 * call never fails because of a snapshot. Old snapshots are swept each
 * minute (retention, max).
 */
import type { Logger } from "../../../observability/logger.ts";
import type { Redactor } from "../../../migration/redact.ts";
import { buildSnapshot, type PendingSnapshot, type Snapshot, type SnapshotTarget } from "./snapshot.ts";

/** What the recorder needs of a store (SnapshotStore; a test may give one that fails). */
export interface SnapshotSink {
  insert(rows: readonly Snapshot[]): void;
  sweep(retentionMs: number, max: number): number;
  close(): void;
}

export interface RecorderOptions {
  /** Opens the store (may throw: retried later). */
  readonly open: () => SnapshotSink;
  /** For log lines: the store's path. */
  readonly where: string;
  readonly retentionMs: number;
  readonly max: number;
  readonly maxBytes: number;
  readonly targets: ReadonlyMap<string, SnapshotTarget>;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Snapshots written, by kind; snapshots lost. */
  readonly onStored?: ((kind: string) => void) | undefined;
  readonly onDropped?: ((n: number) => void) | undefined;
  /** Most snapshots waiting (queued and kept for a retry). Default 1000. */
  readonly queueMax?: number | undefined;
  /** Delay before a batch is written. Default 20 ms. */
  readonly flushDelayMs?: number | undefined;
}

const BATCH = 500;
const RETRY_MS = 1000;
const SWEEP_MS = 60_000;

export class SnapshotRecorder {
  private pending: PendingSnapshot[] = [];
  /** Built snapshots a failed write left, written first next time. */
  private unwritten: Snapshot[] = [];
  private store: SnapshotSink | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private retryAt = 0;
  private broken = false;
  private lostWhileBroken = 0;
  private queueFull = false;
  private closed = false;
  private readonly queueMax: number;
  private readonly delay: number;
  /** Snapshots lost (queue full, or a store that stayed unwritable). */
  dropped = 0;

  constructor(private readonly o: RecorderOptions) {
    this.queueMax = o.queueMax ?? 1000;
    this.delay = o.flushDelayMs ?? 20;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref?.();
  }

  /** How many wait to be written. */
  get waiting(): number {
    return this.pending.length + this.unwritten.length;
  }

  /** Queues a failed call (on the call path: a push, and a timer when none is armed). */
  record(p: PendingSnapshot): void {
    if (this.closed) return;
    if (this.waiting >= this.queueMax) {
      this.drop(1);
      if (!this.queueFull) {
        this.queueFull = true;
        this.o.logger.warn("MCP error snapshots are dropped: too many wait to be written", { store: this.o.where, waiting: this.waiting });
      }
      return;
    }
    this.pending.push(p);
    this.arm(this.delay);
  }

  private arm(ms: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
    this.timer.unref?.();
  }

  private drop(n: number): void {
    this.dropped += n;
    if (this.broken) this.lostWhileBroken += n;
    this.o.onDropped?.(n);
  }

  private problem(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.o.logger.error("MCP error snapshots cannot be written; tool calls go on without them (retried each second)", { store: this.o.where, error: err instanceof Error ? err.message : String(err) });
  }

  private recovered(): void {
    if (!this.broken) return;
    this.broken = false;
    this.o.logger.info("MCP error snapshots are written again", { store: this.o.where, lost: this.lostWhileBroken });
    this.lostWhileBroken = 0;
  }

  private openStore(): SnapshotSink {
    if (this.store === undefined) {
      this.store = this.o.open();
      this.store.sweep(this.o.retentionMs, this.o.max);
    }
    return this.store;
  }

  /** Writes what waits (one batch); `force` ignores the retry delay (close). */
  flush(force = false): void {
    const now = Date.now();
    if (!force && now < this.retryAt) return this.arm(this.retryAt - now);
    const fresh = this.pending.splice(0, BATCH);
    const batch = this.unwritten.length === 0 ? fresh.map((p) => this.build(p)) : [...this.unwritten.splice(0), ...fresh.map((p) => this.build(p))];
    if (batch.length === 0) return;
    try {
      this.openStore().insert(batch);
    } catch (err) {
      this.problem(err);
      this.retryAt = now + RETRY_MS;
      const room = Math.max(0, this.queueMax - this.pending.length);
      this.unwritten = batch.slice(0, room);
      if (batch.length > room) this.drop(batch.length - room);
      if (!this.closed) this.arm(RETRY_MS);
      return;
    }
    this.recovered();
    for (const s of batch) this.o.onStored?.(s.kind);
    if (this.waiting < this.queueMax / 2) this.queueFull = false;
    if (this.pending.length > 0) this.arm(0);
  }

  private build(p: PendingSnapshot): Snapshot {
    return buildSnapshot(p, this.o.targets, this.o.redactor, this.o.maxBytes);
  }

  private sweep(): void {
    if (this.store === undefined) return;
    try {
      this.store.sweep(this.o.retentionMs, this.o.max);
    } catch (err) {
      this.problem(err);
    }
  }

  /** Writes what waits (once, whatever the retry delay) and closes the store. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    clearInterval(this.sweeper);
    this.closed = true;
    while (this.pending.length > 0 || this.unwritten.length > 0) {
      const before = this.waiting;
      this.flush(true);
      if (this.unwritten.length > 0 || this.waiting >= before) {
        this.drop(this.waiting);
        this.pending = [];
        this.unwritten = [];
      }
    }
    this.store?.close();
    this.store = undefined;
  }
}
