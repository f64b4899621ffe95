/**
 * The time a comparison may take. Compare work runs on the gateway's event
 * loop (the shadow stage judges after the client was answered), so it is
 * bounded: the walks count their steps and look at the clock once every 1024,
 * and a comparison past its deadline stops with an incomplete verdict.
 */

/** Thrown (never as an Error: no stack is captured) to unwind a walk whose budget ran out. */
export const BUDGET_EXCEEDED: unique symbol = Symbol("compare budget exceeded");

const CHECK_EVERY = 1024;

export class Budget {
  private steps = 0;
  readonly deadline: number;
  /** Why the comparison stopped, when `stop` said so (else the time ran out). */
  stopReason: string | undefined;

  constructor(
    readonly ms: number,
    readonly start: number = performance.now(),
  ) {
    this.deadline = start + ms;
  }

  /** Counts one step (a JSON node, a line); throws BUDGET_EXCEEDED when a periodic look at the clock finds the deadline passed. */
  tick(): void {
    if (++this.steps % CHECK_EVERY === 0 && performance.now() > this.deadline) throw BUDGET_EXCEEDED;
  }

  /** Looks at the clock now (after a step that cannot be counted, such as a native parse). */
  check(): void {
    if (performance.now() > this.deadline) throw BUDGET_EXCEEDED;
  }

  /** Stops the comparison (its verdict incomplete) for a reason other than the clock: work that cannot fit the budget is not started. */
  stop(reason: string): never {
    this.stopReason = reason;
    throw BUDGET_EXCEEDED;
  }

  /** Milliseconds left (Infinity for an unlimited budget). */
  remaining(): number {
    return this.ms === Number.POSITIVE_INFINITY ? this.ms : this.deadline - performance.now();
  }

  /** Steps counted so far. */
  get counted(): number {
    return this.steps;
  }
}
