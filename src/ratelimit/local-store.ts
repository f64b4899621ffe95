/**
 * Per-process GCRA state: one TAT (ms of a monotonic clock) per key, bounded
 * by `maxKeys`. O(1) per request and no timer per key: entries sit in a
 * doubly linked list in order of last admission (an admitted key moves to
 * the tail), so idle keys gather at the head; each request drops up to two
 * keys idle for a second past their TAT from there (a TAT in the past is the
 * same as no entry), and a
 * full store evicts its least recently admitted key (counted: that key
 * starts afresh). The Map is only looked up, never iterated: iterating a Map
 * that has seen many deletions walks their tombstones.
 */
import { gcra, type GcraParams, type GcraResult } from "./gcra.ts";

/** Expired keys dropped from the head per request: more than one, so the store drains faster than it fills. */
const SWEEP_PER_CALL = 2;
/**
 * A key is dropped once its TAT is this far in the past (ms), not at once: a client that comes back a few
 * milliseconds after its TAT would otherwise cost a Map delete and insert per request.
 */
const IDLE_GRACE_MS = 1000;

interface Entry {
  readonly key: string;
  tat: number;
  prev: Entry | undefined;
  next: Entry | undefined;
}

export class LocalStore {
  private readonly entries = new Map<string, Entry>();
  /** Least recently admitted. */
  private head: Entry | undefined;
  /** Most recently admitted. */
  private tail: Entry | undefined;

  constructor(
    readonly params: GcraParams,
    private readonly maxKeys: number,
    /** Called when a live key is evicted because the store is full. */
    private readonly onEvict: (() => void) | undefined = undefined,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** What admitting one request under `key` at `now` would decide, without recording it. */
  peek(key: string, now: number): GcraResult {
    const e = this.entries.get(key);
    return gcra(e === undefined ? now : e.tat, now, this.params);
  }

  /** Records an admission decided by `peek`: the key's TAT becomes `tat` and the key the most recent. */
  commit(key: string, tat: number, now: number): void {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { key, tat, prev: undefined, next: undefined };
      this.entries.set(key, e);
      this.append(e);
    } else {
      e.tat = tat;
      if (e !== this.tail) {
        this.unlink(e);
        this.append(e);
      }
    }
    this.sweep(now);
  }

  /** One GCRA step: decides and records. */
  take(key: string, now: number): GcraResult {
    const r = this.peek(key, now);
    if (r.admitted) this.commit(key, r.tat, now);
    else this.sweep(now);
    return r;
  }

  /** Gives back one admission (another limit of the same request refused it). */
  refund(key: string, now: number): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.tat -= this.params.interval;
    if (e.tat <= now) this.remove(e);
  }

  private sweep(now: number): void {
    while (this.entries.size > this.maxKeys) {
      const h = this.head as Entry;
      this.remove(h);
      if (h.tat > now) this.onEvict?.();
    }
    for (let n = 0; n < SWEEP_PER_CALL; n++) {
      const h = this.head;
      if (h === undefined || h.tat + IDLE_GRACE_MS > now) return;
      this.remove(h);
    }
  }

  private remove(e: Entry): void {
    this.entries.delete(e.key);
    this.unlink(e);
  }

  private append(e: Entry): void {
    e.prev = this.tail;
    e.next = undefined;
    if (this.tail === undefined) this.head = e;
    else this.tail.next = e;
    this.tail = e;
  }

  private unlink(e: Entry): void {
    if (e.prev === undefined) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = undefined;
    e.next = undefined;
  }
}
