/**
 * Per-process GCRA state: one number (the TAT, in ms of a monotonic clock)
 * per key, in a Map bounded by `maxKeys`. O(1) per request and no timer per
 * key: the Map is kept in order of last use (a key used is moved to the end),
 * so idle keys gather at the front; each request drops up to two expired keys
 * from there (a TAT in the past is the same as no entry), and a full map
 * evicts its least recently used key (counted: that key starts afresh).
 */
import { gcra, type GcraParams, type GcraResult } from "./gcra.ts";

/** Expired keys dropped from the front per request: more than one, so the map drains faster than it fills. */
const SWEEP_PER_CALL = 2;

export class LocalStore {
  private readonly tats = new Map<string, number>();

  constructor(
    readonly params: GcraParams,
    private readonly maxKeys: number,
    /** Called when a live key is evicted because the map is full. */
    private readonly onEvict: (() => void) | undefined = undefined,
  ) {}

  get size(): number {
    return this.tats.size;
  }

  /** What admitting one request under `key` at `now` would decide, without recording it. */
  peek(key: string, now: number): GcraResult {
    return gcra(this.tats.get(key) ?? now, now, this.params);
  }

  /** Records an admission decided by `peek` (or takes one unconditionally): the key's TAT becomes `tat`. */
  commit(key: string, tat: number, now: number): void {
    const tats = this.tats;
    tats.delete(key);
    tats.set(key, tat);
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
    const tat = this.tats.get(key);
    if (tat === undefined) return;
    const back = tat - this.params.interval;
    if (back <= now) this.tats.delete(key);
    else this.tats.set(key, back);
  }

  private sweep(now: number): void {
    const tats = this.tats;
    let n = 0;
    for (const [k, tat] of tats) {
      if (tats.size > this.maxKeys) {
        tats.delete(k);
        if (tat > now) this.onEvict?.();
        continue;
      }
      if (n++ >= SWEEP_PER_CALL || tat > now) break;
      tats.delete(k);
    }
  }
}
