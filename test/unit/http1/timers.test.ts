import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type TickScheduler, TimerWheel } from "../../../src/http1/timers.ts";

/** A manual clock and a scheduler that records whether it runs. */
function fake(tickMs = 50, slots = 8, start = 0) {
  const clock = { now: start };
  const sched = { running: false, starts: 0, stops: 0, everyMs: 0 };
  const scheduler: TickScheduler = {
    start(_tick, everyMs) {
      sched.running = true;
      sched.starts++;
      sched.everyMs = everyMs;
    },
    stop() {
      sched.running = false;
      sched.stops++;
    },
  };
  const wheel = new TimerWheel({ tickMs, slots, now: () => clock.now, scheduler });
  /** Moves the clock to `to`, ticking at every tick boundary on the way (as the interval would). */
  const advance = (to: number) => {
    for (let t = (Math.floor(clock.now / tickMs) + 1) * tickMs; t <= to; t += tickMs) {
      clock.now = t;
      wheel.tick();
    }
    clock.now = to;
    wheel.tick();
  };
  return { clock, sched, wheel, advance };
}

describe("TimerWheel: firing", () => {
  test("fires at the first tick at or after the deadline, never before", () => {
    const { wheel, advance, clock } = fake(50);
    const fired: number[] = [];
    wheel.arm(120, () => fired.push(clock.now));
    advance(149);
    expect(fired).toEqual([]);
    advance(150);
    expect(fired).toEqual([150]);
  });

  test("a deadline on a tick boundary fires on that tick", () => {
    const { wheel, advance, clock } = fake(50);
    const fired: number[] = [];
    wheel.arm(100, () => fired.push(clock.now));
    advance(99);
    expect(fired).toEqual([]);
    advance(100);
    expect(fired).toEqual([100]);
  });

  test("arm(0) fires on the next tick, not synchronously", () => {
    const { wheel, advance } = fake(50, 8, 10);
    let n = 0;
    wheel.arm(0, () => n++);
    expect(n).toBe(0);
    wheel.tick();
    expect(n).toBe(0);
    advance(50);
    expect(n).toBe(1);
  });

  test("timers due in different ticks fire in deadline order, also when one tick() catches up many", () => {
    const { wheel, clock } = fake(10, 4); // 4 slots: deadlines wrap the wheel several times
    const order: number[] = [];
    for (const ms of [95, 5, 41, 200, 12, 77, 150, 33]) wheel.arm(ms, () => order.push(ms));
    clock.now = 1000;
    wheel.tick();
    expect(order).toEqual([5, 12, 33, 41, 77, 95, 150, 200]);
  });

  test("a timer beyond one turn of the wheel waits for its round", () => {
    const { wheel, advance } = fake(10, 4); // one turn is 40 ms
    let n = 0;
    wheel.arm(125, () => n++);
    advance(120);
    expect(n).toBe(0);
    advance(130);
    expect(n).toBe(1);
  });

  test("the callback gets its argument", () => {
    const { wheel, advance } = fake();
    const seen: string[] = [];
    const conn = { id: "c1" };
    wheel.arm(10, (c) => seen.push(c.id), conn);
    advance(100);
    expect(seen).toEqual(["c1"]);
  });

  test("a throwing callback goes to onError and the others still fire", () => {
    const clock = { now: 0 };
    const errors: unknown[] = [];
    const wheel = new TimerWheel({ tickMs: 10, now: () => clock.now, scheduler: null, onError: (e) => errors.push(e) });
    let n = 0;
    wheel.arm(5, () => {
      throw new Error("boom");
    });
    wheel.arm(5, () => n++);
    clock.now = 20;
    wheel.tick();
    expect(n).toBe(1);
    expect(errors).toHaveLength(1);
    expect(wheel.size).toBe(0);
  });

  test("floating-point deadlines never fire early", () => {
    // With a tick of 50/3 ms, ceil(24550.000000000004 / tick) is 1473, whose start is 24550: a hair early.
    const tickMs = 50 / 3;
    const { wheel, clock } = fake(tickMs, 8, 0);
    let firedAt = -1;
    const t = wheel.arm(24550.000000000004, () => {
      firedAt = clock.now;
    });
    expect(Math.floor(24550 / tickMs)).toBe(Math.ceil(t.deadline / tickMs));
    clock.now = 24550;
    wheel.tick();
    expect(firedAt).toBe(-1);
    clock.now = 24570; // the next tick starts at 24566.67
    wheel.tick();
    expect(firedAt).toBe(24570);
  });

  test("arm(0) exactly on a tick boundary fires on the next tick, not a turn later", () => {
    const { wheel, advance, clock } = fake(50, 8, 100);
    wheel.arm(1000, () => {}); // keeps the wheel non-empty
    advance(200);
    const fired: number[] = [];
    wheel.arm(0, () => fired.push(clock.now));
    advance(250);
    expect(fired).toEqual([250]);
  });
});

describe("TimerWheel: cancel and reset", () => {
  test("a cancelled timer never fires; cancel twice is harmless", () => {
    const { wheel, advance } = fake();
    let n = 0;
    const t = wheel.arm(100, () => n++);
    t.cancel();
    t.cancel();
    expect(t.active).toBe(false);
    expect(wheel.size).toBe(0);
    advance(1000);
    expect(n).toBe(0);
  });

  test("reset later moves the deadline (idle timeout pushed back on each chunk)", () => {
    const { wheel, advance, clock } = fake(50);
    const fired: number[] = [];
    const idle = wheel.arm(200, () => fired.push(clock.now));
    for (const at of [100, 250, 400]) {
      advance(at);
      idle.reset();
    }
    advance(599);
    expect(fired).toEqual([]);
    advance(600);
    expect(fired).toEqual([600]);
    expect(wheel.size).toBe(0);
  });

  test("reset earlier moves the deadline forward", () => {
    const { wheel, advance, clock } = fake(50);
    const fired: number[] = [];
    const t = wheel.arm(1000, () => fired.push(clock.now));
    t.reset(100);
    advance(100);
    expect(fired).toEqual([100]);
  });

  test("reset after firing or cancel re-arms the same handle", () => {
    const { wheel, advance } = fake(50);
    let n = 0;
    const t = wheel.arm(50, () => n++);
    advance(100);
    expect(n).toBe(1);
    t.reset();
    expect(t.active).toBe(true);
    advance(200);
    expect(n).toBe(2);
    t.reset(50);
    t.cancel();
    t.reset(50);
    advance(300);
    expect(n).toBe(3);
  });

  test("reset does not count the timer twice", () => {
    const { wheel } = fake();
    const t = wheel.arm(100, () => {});
    t.reset(300);
    t.reset(10);
    t.reset(5000);
    expect(wheel.size).toBe(1);
    t.cancel();
    expect(wheel.size).toBe(0);
  });

  test("a callback may reset itself (periodic), cancel a timer due in the same tick, and arm new ones", () => {
    const { wheel, advance } = fake(10);
    const log: string[] = [];
    let periodic = 0;
    const self = wheel.arm(10, () => {
      log.push("self");
      if (++periodic < 3) self.reset();
    });
    let victim = wheel.arm(10, () => log.push("victim"));
    const killer = wheel.arm(10, () => {
      log.push("killer");
      victim.cancel();
      wheel.arm(0, () => log.push("child"));
    });
    // Order inside a tick is unspecified: the victim fires only if it came before the killer.
    advance(10);
    const victimFired = log.includes("victim");
    expect(log.includes("killer")).toBe(true);
    expect(log.filter((l) => l === "victim").length).toBe(victimFired ? 1 : 0);
    advance(100);
    expect(log.filter((l) => l === "self").length).toBe(3);
    expect(log.filter((l) => l === "child").length).toBe(1);
    expect(killer.active).toBe(false);
    expect(wheel.size).toBe(0);
  });

  test("a timer reset to later by another callback of the same tick does not fire now", () => {
    const { wheel, advance, clock } = fake(10);
    const fired: [string, number][] = [];
    const a = wheel.arm(10, () => {
      fired.push(["a", clock.now]);
      b.reset(100);
    });
    const b = wheel.arm(10, () => {
      fired.push(["b", clock.now]);
      a.reset(100);
    });
    advance(10);
    expect(fired).toHaveLength(1);
    advance(200);
    expect(fired).toHaveLength(2);
    expect((fired[1] as [string, number])[1]).toBe(110);
  });

  test("a timer cancelled by another callback of the same tick does not fire", () => {
    const { wheel, advance } = fake(10);
    const fired: string[] = [];
    // Both due at the same tick: whichever fires first cancels the other.
    const a = wheel.arm(10, () => {
      fired.push("a");
      b.cancel();
    });
    const b = wheel.arm(10, () => {
      fired.push("b");
      a.cancel();
    });
    advance(50);
    expect(fired).toHaveLength(1);
  });

  test("rejects bad durations and options", () => {
    const { wheel } = fake();
    expect(() => wheel.arm(-1, () => {})).toThrow(RangeError);
    expect(() => wheel.arm(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => wheel.arm(Number.POSITIVE_INFINITY, () => {})).toThrow(RangeError);
    expect(() => new TimerWheel({ tickMs: 0, scheduler: null })).toThrow(RangeError);
    expect(() => new TimerWheel({ slots: 0, scheduler: null })).toThrow(RangeError);
  });
});

describe("TimerWheel: the scheduler runs only while timers are armed", () => {
  test("starts on the first arm, stops at the tick after the last timer ends", () => {
    const { wheel, sched, advance } = fake(50);
    expect(sched.running).toBe(false);
    const t = wheel.arm(100, () => {});
    expect(sched).toMatchObject({ running: true, starts: 1, everyMs: 50 });
    wheel.arm(100, () => {});
    expect(sched.starts).toBe(1);
    advance(100);
    expect(sched).toMatchObject({ running: false, stops: 1 });
    // Cancel does not stop at once (arm+cancel churn would restart the interval every time)...
    t.reset();
    t.cancel();
    expect(sched.running).toBe(true);
    // ...the next tick does.
    advance(150);
    expect(sched).toMatchObject({ running: false, starts: 2, stops: 2 });
  });

  test("after an idle period (processed tick far behind) the wheel does not fire anything early", () => {
    const { wheel, clock, advance } = fake(50, 8);
    const fired: number[] = [];
    clock.now = 1_000_000;
    wheel.arm(100, () => fired.push(clock.now));
    advance(1_000_099);
    expect(fired).toEqual([]);
    advance(1_000_100);
    expect(fired).toEqual([1_000_100]);
  });

  test("clear cancels everything and stops", () => {
    const { wheel, sched, advance } = fake();
    let n = 0;
    const ts = [wheel.arm(10, () => n++), wheel.arm(1000, () => n++)];
    wheel.clear();
    expect(ts.map((t) => t.active)).toEqual([false, false]);
    expect(sched.running).toBe(false);
    advance(5000);
    expect(n).toBe(0);
  });

  test("the real wheel (setInterval, performance.now) fires, then stops its interval", async () => {
    const wheel = new TimerWheel({ tickMs: 5 });
    const start = performance.now();
    const firedAt = await new Promise<number>((resolve) => wheel.arm(20, () => resolve(performance.now())));
    expect(firedAt - start).toBeGreaterThanOrEqual(20);
    await Bun.sleep(15);
    expect(wheel.running).toBe(false);
  });
});

// The property: random arm / cancel / reset / advance sequences against a naive model that keeps each
// timer's deadline. After every tick() at time `now`: nothing fired before its deadline, nothing cancelled
// fired, every timer whose deadline is a full tick or more in the past has fired exactly once, and timers
// fired in one tick() call came in deadline order within one tick.
type Op =
  | { op: "arm"; ms: number }
  | { op: "cancel"; i: number }
  | { op: "reset"; i: number; ms: number }
  | { op: "advance"; dt: number }
  | { op: "jump"; dt: number };

const msArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2000 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("arm" as const), ms: msArb }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant("cancel" as const), i: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("reset" as const), i: fc.nat(), ms: msArb }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("advance" as const), dt: fc.integer({ min: 0, max: 120 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant("jump" as const), dt: fc.integer({ min: 0, max: 3000 }) }), weight: 1 },
);

describe("TimerWheel: property against a naive model", () => {
  test("fired set, never early, at most one tick late, order within the granularity", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 200 }),
        fc.constantFrom(1, 7, 50),
        fc.constantFrom(1, 4, 64),
        fc.integer({ min: 0, max: 10_000 }),
        (ops, tickMs, slots, start) => {
          const clock = { now: start };
          const wheel = new TimerWheel({ tickMs, slots, now: () => clock.now, scheduler: null });
          // Model: the deadline of each armed timer (undefined once fired or cancelled).
          const model: (number | undefined)[] = [];
          const fires: number[] = [];
          const timers = [] as ReturnType<typeof wheel.arm<number>>[];
          let batch: number[] = [];
          const onFire = (i: number) => {
            const d = model[i];
            if (d === undefined) throw new Error(`timer ${i} fired while not armed`);
            if (clock.now < d) throw new Error(`timer ${i} fired early: now ${clock.now} < deadline ${d}`);
            model[i] = undefined;
            fires[i] = (fires[i] ?? 0) + 1;
            batch.push(d);
          };
          const tick = () => {
            batch = [];
            wheel.tick();
            for (let k = 1; k < batch.length; k++) {
              expect(batch[k - 1] as number).toBeLessThanOrEqual((batch[k] as number) + tickMs);
            }
            model.forEach((d, i) => {
              if (d !== undefined && d + tickMs <= clock.now) throw new Error(`timer ${i} late: deadline ${d}, now ${clock.now}`);
            });
            expect(wheel.size).toBe(model.filter((d) => d !== undefined).length);
          };
          for (const o of ops) {
            if (o.op === "arm") {
              const i = timers.length;
              model.push(clock.now + o.ms);
              timers.push(wheel.arm(o.ms, onFire, i));
            } else if (o.op === "cancel" || o.op === "reset") {
              if (timers.length === 0) continue;
              const i = o.i % timers.length;
              if (o.op === "cancel") {
                timers[i]?.cancel();
                model[i] = undefined;
              } else {
                timers[i]?.reset(o.ms);
                model[i] = clock.now + o.ms;
              }
            } else if (o.op === "advance") {
              // The interval's pace: tick at every boundary passed, then at the new time.
              const to = clock.now + o.dt;
              for (let t = (Math.floor(clock.now / tickMs) + 1) * tickMs; t < to; t += tickMs) {
                clock.now = t;
                tick();
              }
              clock.now = to;
              tick();
            } else {
              // A stalled event loop: one tick() after a long gap.
              clock.now += o.dt;
              tick();
            }
          }
          // Everything still armed fires exactly once in the end.
          clock.now += 2000 + 2 * tickMs;
          tick();
          expect(model.every((d) => d === undefined)).toBe(true);
          expect(wheel.size).toBe(0);
        },
      ),
      { numRuns: 600, seed: 42 },
    );
  });
});
