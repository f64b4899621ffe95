/**
 * One cheap timer structure for the deadlines of many connections (connect,
 * header, idle, total): a hashed timing wheel driven by a single interval,
 * instead of a setTimeout (and an AbortController) per request.
 *
 * Time is cut into ticks of `tickMs`; a timer is due at the first tick whose
 * start is at or after its deadline, so it never fires early and fires at
 * most one tick (plus the interval's own lateness) late. Timers live in
 * intrusive doubly linked lists, one per slot: arm, cancel and reset are
 * O(1), and reset allocates nothing (moving a deadline later — an idle
 * timeout pushed back on each chunk — only writes two numbers; the timer is
 * moved to its new slot when the wheel next passes it).
 *
 * The interval runs only while timers are armed, and is unref'd, so an idle
 * wheel neither costs wake-ups nor keeps the process alive.
 */

/** Drives `tick()` every `everyMs`; the default uses an unref'd setInterval. */
export interface TickScheduler {
  start(tick: () => void, everyMs: number): void;
  stop(): void;
}

export interface TimerWheelOptions {
  /** Granularity in ms (default 50): timers fire up to this much late. */
  readonly tickMs?: number;
  /** Slots in the wheel, rounded up to a power of two (default 512: 25.6 s per turn at 50 ms). */
  readonly slots?: number;
  /** The clock in ms (default `performance.now`). */
  readonly now?: () => number;
  /** What calls `tick()`; `null` for none (tests call `tick()` themselves). */
  readonly scheduler?: TickScheduler | null;
  /** Where a callback's exception goes (default: rethrown from a microtask, like a throwing setTimeout). */
  readonly onError?: (error: unknown) => void;
}

function noop(): void {}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** The default scheduler: one setInterval, unref'd, while the wheel has timers. */
export function intervalScheduler(): TickScheduler {
  let handle: ReturnType<typeof setInterval> | undefined;
  return {
    start(tick, everyMs) {
      if (handle !== undefined) return;
      handle = setInterval(tick, everyMs);
      (handle as { unref?: () => void }).unref?.();
    },
    stop() {
      if (handle === undefined) return;
      clearInterval(handle);
      handle = undefined;
    },
  };
}

/**
 * A timer armed on a wheel. Keep the handle: `reset()` re-arms it (also after
 * it fired or was cancelled) without allocating.
 */
export class Timer<T = undefined> {
  /** @internal List links; `prev === null` when not armed. */
  prev: Timer<T> | null = null;
  /** @internal */
  next: Timer<T> | null = null;
  /** @internal The tick at which it is due. */
  due = 0;
  /** The absolute deadline, in the wheel's clock (ms). */
  deadline = 0;
  /** The duration of the last arm or reset (ms). */
  ms: number;
  readonly #wheel: TimerWheel;
  readonly #fn: (arg: T) => void;
  readonly #arg: T;

  /** @internal Use `TimerWheel.arm`. */
  constructor(wheel: TimerWheel, ms: number, fn: (arg: T) => void, arg: T) {
    this.#wheel = wheel;
    this.ms = ms;
    this.#fn = fn;
    this.#arg = arg;
  }

  /** Whether it is armed (not yet fired, not cancelled). */
  get active(): boolean {
    return this.prev !== null;
  }

  /** Disarms it; does nothing if it already fired or was cancelled. */
  cancel(): void {
    if (this.prev === null) return;
    this.#wheel.unlink(this);
  }

  /** Re-arms it to fire `ms` (default: the last duration) from now. */
  reset(ms: number = this.ms): void {
    this.#wheel.rearm(this, ms);
  }

  /** @internal */
  fire(): void {
    this.#fn(this.#arg);
  }
}

function sentinel(wheel: TimerWheel): Timer<undefined> {
  const s = new Timer<undefined>(wheel, 0, noop, undefined);
  s.prev = s;
  s.next = s;
  return s;
}

function validDuration(ms: number): number {
  if (!(ms >= 0) || ms === Number.POSITIVE_INFINITY) throw new RangeError(`timer duration must be a finite number ≥ 0, got ${ms}`);
  return ms;
}

/** A hashed timing wheel (Varghese & Lauck) with a fixed tick. */
export class TimerWheel {
  readonly tickMs: number;
  readonly #mask: number;
  readonly #slots: Timer<unknown>[];
  /** Due timers of the tick being processed, in the order they fire. */
  readonly #firing: Timer<unknown>;
  readonly #now: () => number;
  readonly #scheduler: TickScheduler | null;
  readonly #onError: (error: unknown) => void;
  readonly #tick = (): void => this.tick();
  /** The last tick processed: timers due at it or before have fired. */
  #processed = 0;
  #size = 0;
  #running = false;
  #ticking = false;

  constructor(options: TimerWheelOptions = {}) {
    const tickMs = options.tickMs ?? 50;
    if (!Number.isFinite(tickMs) || tickMs <= 0) throw new RangeError(`tickMs must be a finite number > 0, got ${tickMs}`);
    const slots = options.slots ?? 512;
    if (!Number.isInteger(slots) || slots < 1 || slots > 1 << 20) throw new RangeError(`slots must be an integer in 1..2^20, got ${slots}`);
    let n = 1;
    while (n < slots) n <<= 1;
    this.tickMs = tickMs;
    this.#mask = n - 1;
    this.#slots = Array.from({ length: n }, () => sentinel(this) as Timer<unknown>);
    this.#firing = sentinel(this) as Timer<unknown>;
    this.#now = options.now ?? (() => performance.now());
    this.#scheduler = options.scheduler === undefined ? intervalScheduler() : options.scheduler;
    this.#onError = options.onError ?? rethrowLater;
    this.#processed = Math.floor(this.#now() / tickMs);
  }

  /** How many timers are armed. */
  get size(): number {
    return this.#size;
  }

  /** Whether the scheduler is running (it runs only while timers are armed). */
  get running(): boolean {
    return this.#running;
  }

  /** Arms a timer that calls `fn()` no earlier than `ms` from now. */
  arm(ms: number, fn: () => void): Timer<undefined>;
  /** Arms a timer that calls `fn(arg)` no earlier than `ms` from now (no closure needed). */
  arm<T>(ms: number, fn: (arg: T) => void, arg: T): Timer<T>;
  arm<T>(ms: number, fn: (arg: T) => void, arg?: T): Timer<T> {
    const t = new Timer<T>(this, ms, fn, arg as T);
    this.rearm(t, ms);
    return t;
  }

  /** @internal Arms `t` (armed or not) to fire `ms` from now. */
  rearm(t: Timer<any>, ms: number): void {
    const now = this.#now();
    t.ms = validDuration(ms);
    const deadline = now + ms;
    if (this.#size === 0 && !this.#ticking) this.#processed = Math.floor(now / this.tickMs);
    let due = Math.ceil(deadline / this.tickMs);
    if (due <= this.#processed) due = this.#processed + 1;
    t.deadline = deadline;
    if (t.prev !== null) {
      // Later (or the same): leave it where it is, the wheel moves it when it
      // passes its current slot, which comes no later than the new due tick.
      // A timer in the firing list is due now and must leave it.
      if (due >= t.due && t.due > this.#processed) {
        t.due = due;
        return;
      }
      this.unlink(t);
    }
    t.due = due;
    this.#link(t, this.#slots[due & this.#mask] as Timer<unknown>);
    if (++this.#size === 1 && !this.#running && this.#scheduler !== null) {
      this.#running = true;
      this.#scheduler.start(this.#tick, this.tickMs);
    }
  }

  /** @internal */
  unlink(t: Timer<any>): void {
    const prev = t.prev as Timer<any>;
    const next = t.next as Timer<any>;
    prev.next = next;
    next.prev = prev;
    t.prev = null;
    t.next = null;
    this.#size--;
  }

  #link(t: Timer<any>, head: Timer<unknown>): void {
    const last = head.prev as Timer<unknown>;
    t.prev = last;
    t.next = head;
    last.next = t;
    head.prev = t;
  }

  /** Moves `t` (linked) to the end of the list at `head`, keeping the count. */
  #move(t: Timer<any>, head: Timer<unknown>): void {
    const prev = t.prev as Timer<any>;
    const next = t.next as Timer<any>;
    prev.next = next;
    next.prev = prev;
    this.#link(t, head);
  }

  /**
   * Fires every timer due by now, tick by tick in order (within a tick, in
   * no particular order). Called by the scheduler; tests call it directly.
   * Stops the scheduler when no timer is left.
   */
  tick(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = this.#now();
      const current = Math.floor(now / this.tickMs);
      while (this.#processed < current && this.#size > 0) {
        const tick = ++this.#processed;
        this.#collect(tick);
        this.#fireCollected(now);
      }
      if (this.#processed < current) this.#processed = current;
    } finally {
      this.#ticking = false;
    }
    if (this.#size === 0 && this.#running) {
      this.#running = false;
      this.#scheduler?.stop();
    }
  }

  /** Moves the timers due at `tick` from its slot to the firing list; sends moved-later ones on. */
  #collect(tick: number): void {
    const mask = this.#mask;
    const head = this.#slots[tick & mask] as Timer<unknown>;
    let t = head.next as Timer<unknown>;
    while (t !== head) {
      const next = t.next as Timer<unknown>;
      if (t.due <= tick) this.#move(t, this.#firing);
      else if ((t.due & mask) !== (tick & mask)) this.#move(t, this.#slots[t.due & mask] as Timer<unknown>);
      t = next;
    }
  }

  #fireCollected(now: number): void {
    const firing = this.#firing;
    for (let t = firing.next as Timer<unknown>; t !== firing; t = firing.next as Timer<unknown>) {
      this.unlink(t);
      if (now < t.deadline) {
        // Not due after all: a deadline a hair past its tick's start (floating
        // point), or one moved later while it waited here. Place it again.
        const due = Math.ceil(t.deadline / this.tickMs);
        t.due = due > this.#processed ? due : this.#processed + 1;
        this.#link(t, this.#slots[t.due & this.#mask] as Timer<unknown>);
        this.#size++;
        continue;
      }
      try {
        t.fire();
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** Cancels every timer and stops the scheduler. */
  clear(): void {
    for (const head of [...this.#slots, this.#firing]) {
      for (let t = head.next as Timer<unknown>; t !== head; t = head.next as Timer<unknown>) this.unlink(t);
    }
    if (this.#running) {
      this.#running = false;
      this.#scheduler?.stop();
    }
  }
}
