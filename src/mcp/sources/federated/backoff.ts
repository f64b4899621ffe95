/**
 * Reconnect and restart back-off for federated sources: 100 ms doubling up to a cap (30 s by
 * default), back to the start once a connection has stayed up for a minute.
 */

const FIRST_DELAY_MS = 100;
const DEFAULT_MAX_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

export class Backoff {
  private next = FIRST_DELAY_MS;
  private upSince: number | undefined;
  private readonly maxMs: number;

  constructor(maxMs: number = DEFAULT_MAX_MS) {
    this.maxMs = Math.max(FIRST_DELAY_MS, maxMs);
  }

  /** A connection is up: remember since when, so a later loss after a stable minute starts over. */
  connected(now: number = Date.now()): void {
    this.upSince = now;
  }

  /** The wait before the next attempt; each call doubles the following one, up to the cap. */
  delay(now: number = Date.now()): number {
    if (this.upSince !== undefined && now - this.upSince >= STABLE_AFTER_MS) this.next = FIRST_DELAY_MS;
    this.upSince = undefined;
    const delay = this.next;
    this.next = Math.min(this.next * 2, this.maxMs);
    return delay;
  }
}
