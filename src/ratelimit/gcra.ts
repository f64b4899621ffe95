/**
 * GCRA, the generic cell rate algorithm (ITU-T I.371; the "virtual scheduling"
 * form): a limit of `count` requests per `period` with a burst of `burst` is
 * one number per key, the theoretical arrival time (TAT) of the next request
 * if the client sent at exactly the allowed rate. A request at `now` is
 * admitted when, after it, the TAT is no further ahead of `now` than
 * burst × interval; admitting moves the TAT one interval on.
 *
 * Over any interval of length t, at most burst + t / interval requests are
 * admitted (test/unit/ratelimit/gcra.test.ts checks it as a property). The
 * same arithmetic runs in Redis (redis-store.ts, in microseconds of Redis's
 * own clock) and in process (local-store.ts, in milliseconds).
 */

/** Time slack of a comparison, in the store's unit: a nanosecond for ms, a thousandth of a µs in Redis (whole numbers there). */
const SLACK = 1e-6;

/** A limit in the form both stores use: the interval between requests at the allowed rate, and the tolerance. */
export interface GcraParams {
  /** period / count: time one request "costs" (ms locally, µs in Redis). */
  readonly interval: number;
  /** burst × interval: how far ahead of now the TAT may run. */
  readonly tolerance: number;
}

/** What one GCRA step decided. */
export interface GcraResult {
  readonly admitted: boolean;
  /** The new TAT when admitted; the unchanged one (at least `now`) when not. */
  readonly tat: number;
  /** Requests still admissible right now after this one (0 when refused). */
  readonly remaining: number;
  /** Time until the next request would be admitted (0 when one would be now). */
  readonly retryAfter: number;
  /** Time until the whole burst is available again (the TAT minus now). */
  readonly reset: number;
}

/**
 * One GCRA step. `tat` is the stored TAT (or anything ≤ now for a key never
 * seen or idle long enough: an idle key is the same as a new one).
 */
export function gcra(tat: number, now: number, p: GcraParams): GcraResult {
  const start = tat > now ? tat : now;
  const next = start + p.interval;
  const ahead = next - now;
  // SLACK absorbs floating-point residue (0.2 + 0.2 + 0.2 > 0.6) of local ms arithmetic; Redis works in whole µs.
  if (ahead - p.tolerance > SLACK) {
    // Refused: the TAT stays; the client may send again once next - tolerance has passed.
    return { admitted: false, tat: start, remaining: 0, retryAfter: ahead - p.tolerance, reset: start - now };
  }
  return { admitted: true, tat: next, remaining: remainingAfter(ahead, p), retryAfter: 0, reset: ahead };
}

/** Requests still admissible at once when the TAT is `ahead` of now. */
export function remainingAfter(ahead: number, p: GcraParams): number {
  return Math.max(0, Math.floor((p.tolerance - ahead + SLACK) / p.interval));
}

/** Interval and tolerance for `count` requests per `periodMs` with `burst`, in the time unit `unit` per ms (1 for ms, 1000 for µs). */
export function gcraParams(count: number, periodMs: number, burst: number, unit: number): GcraParams {
  const interval = (periodMs * unit) / count;
  return { interval, tolerance: interval * burst };
}
