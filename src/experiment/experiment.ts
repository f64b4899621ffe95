/**
 * In-process experiments (GitHub Scientist's pattern): the old code calls the
 * new implementation beside itself and Ficus compares the two, with the same
 * engine and results model as a route in the shadow stage.
 *
 *   const price = await experiment("pricing", { use: () => legacyPrice(o), try: () => rustPrice(o) });
 *
 * The call returns exactly what `use` returns (its value, its promise) or
 * throws its error object; `try` never changes that. The fast path (disabled
 * or not sampled) reads two fields and a counter and allocates nothing; a
 * sampled call serializes `use`'s value before handing it back (so a caller
 * mutating it later cannot fake a difference), runs `try` after `use` has
 * settled (by default) in a macrotask of its own, and queues the pair. A
 * timer publishes the queue in batches, never on the caller's path; when the
 * queue is full or the gateway is unreachable, results are dropped and counted.
 * Comparison happens where the results are stored (the gateway, or the local
 * store), so this module imports neither the compare engine nor zod.
 */
import type { CompareRulesInput } from "../compare/rules.ts";
import { type GatewayOptions, gatewayPublisher, PublishError, type Publisher } from "./publisher.ts";
import { errorInfo, toJsonText } from "./serialize.ts";
import { BATCH_VERSION, EXPERIMENT_NAME, type ExperimentBatch, type ExperimentEntry, type ExperimentResult, MAX_VALUE_CHARS, type Outcome } from "./wire.ts";

/** Sampling is counted in millionths: `sample: 0.01` is exactly every 100th call. */
const UNIT = 1_000_000;
const MAX_NAMES = 1000;
/** Results per batch at most. */
const BATCH_RESULTS = 1000;

export interface ExperimentOptions<T> {
  /** The current implementation. Always called; what it returns (or throws) is what the experiment returns (or throws). */
  readonly use: () => T;
  /** The new implementation. Called for sampled calls only; its value or error is recorded, never returned. */
  readonly try: () => NoInfer<T> | NoInfer<Awaited<T>> | PromiseLike<NoInfer<Awaited<T>>>;
  /** Off: only `use` runs (the call is still counted). A function is asked on every call. Default true. */
  readonly enabled?: boolean | (() => boolean);
  /** Share of calls that also run `try` (0–1), deterministic per experiment name. Default: the instance's (1). */
  readonly sample?: number;
  /** Compare rules, as a route's `compare:` block. Read on the first call of a name; compiled once where compared. */
  readonly compare?: CompareRulesInput;
  /** JSONPath patterns hidden in stored samples, as a route's `shadow.redact`. Read on the first call of a name. */
  readonly redact?: readonly string[];
  /** Maps both values (and the A/A value) before they are serialized and compared. */
  readonly clean?: (value: Awaited<T>) => unknown;
  /** Stored with mismatch samples (as JSON), e.g. the input of the call. */
  readonly context?: unknown;
  /** How long `try` may take, ms; later it counts as a timeout and its result is ignored. Default: the instance's (1000). */
  readonly timeout?: number;
  /** Share of sampled calls that call `use` a second time to learn noise (A/A). Only for pure functions. Default 0. */
  readonly aa?: number;
  /** `after` (default): `try` starts once `use` has settled, in a macrotask. `concurrent`: right after `use` is called. */
  readonly run?: "after" | "concurrent";
}

export interface ExperimentsConfig {
  /** Where results go: a gateway's admin API (default: FICUS_ADMIN_URL or http://127.0.0.1:9901), a Publisher, or false (experiments off). */
  readonly publish?: Publisher | GatewayOptions | false;
  /** Every experiment of this instance off (only `use` runs, nothing is counted). Default true. */
  readonly enabled?: boolean;
  /** Default share of calls sampled. Default 1. */
  readonly sample?: number;
  /** Default `try` timeout, ms. Default 1000. */
  readonly timeout?: number;
  /** Default order. Default "after". */
  readonly run?: "after" | "concurrent";
  /** How often queued results are published, ms. Default 1000. */
  readonly flushInterval?: number;
  /** Results waiting to be published; past it new ones are dropped and counted. Default 10,000. */
  readonly maxQueue?: number;
  /** Sampled calls in flight per experiment; past it calls are not tried (counted). Default 1000. */
  readonly maxInflight?: number;
  /** Value characters per batch (a batch is also cut at 1,000 results); a full batch is published at once. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** Largest value text compared (one side, or the context); larger calls are skipped and counted. Default 256 KiB (as a route's buffered answers), at most 1 MiB. */
  readonly maxValueChars?: number;
  /** Told about problems (gateway unreachable or refusing, bad experiment names), each distinct message once. Default: console.warn. */
  readonly onError?: (err: Error) => void;
}

export interface ExperimentStats {
  /** Calls seen (sampled or not). */
  readonly calls: number;
  /** Calls that also ran `try`. */
  readonly sampled: number;
  /** Results the publisher accepted. */
  readonly published: number;
  /** Results queued, not yet published. */
  readonly pending: number;
  readonly skipped: { readonly concurrency_limit: number; readonly body_too_large: number };
  /** Results lost: the queue was full, the gateway could not be reached (or failed), or it refused the batch. */
  readonly dropped: { readonly queue_full: number; readonly unreachable: number; readonly rejected: number };
}

/** An experiment runner: call it like `experiment(name, options)`. */
export interface Experiment {
  <T>(name: string, options: ExperimentOptions<T>): T;
  /** Changes the configuration (publisher, defaults, limits); applies to calls from now on. */
  configure(config: ExperimentsConfig): void;
  /** Waits for sampled calls in flight (up to their timeout), then publishes everything queued. */
  flush(): Promise<void>;
  /** Flushes, stops the timer and closes the publisher. */
  close(): Promise<void>;
  stats(): ExperimentStats;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const units = (share: number) => (share >= 1 ? UNIT : share > 0 ? Math.max(1, Math.round(share * UNIT)) : 0);

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";
}

function valueOutcome(v: unknown, ms: number, clean: ((value: never) => unknown) | undefined): Outcome {
  let x = v;
  if (clean) {
    try {
      x = clean(v as never);
    } catch (err) {
      const e = errorInfo(err);
      return { value: `(not JSON: clean threw ${e.name}: ${e.message})`, ms: round(ms) };
    }
  }
  return { value: toJsonText(x), ms: round(ms) };
}

/** Per experiment name: the sampling accumulators, counters since the last batch, and queued results. */
class NameState {
  calls = 0;
  acc = 0;
  aaAcc = 0;
  inflight = 0;
  skippedInflight = 0;
  skippedLarge = 0;
  droppedQueue = 0;
  results: ExperimentResult[] = [];
  chars = 0;

  constructor(
    readonly name: string,
    /** False: only `use` runs (a bad name, too many names, or options the store refused). */
    public valid: boolean,
    readonly compare: unknown,
    readonly redact: readonly string[] | undefined,
  ) {}

  get hasNews(): boolean {
    return this.calls > 0 || this.results.length > 0 || this.skippedInflight > 0 || this.skippedLarge > 0 || this.droppedQueue > 0;
  }
}

/** One sampled call: waits for `use`, `try` and (A/A) a second `use`, then queues the result. */
class Observation {
  use: Outcome | undefined;
  try: Outcome | undefined;
  aa: Outcome | undefined;
  context: string | undefined;
  private parts: number;
  private tryStarted = false;
  readonly time = Date.now();

  constructor(
    private readonly runner: Runner,
    readonly st: NameState,
    private readonly o: ExperimentOptions<unknown>,
    private readonly withAA: boolean,
    private readonly timeout: number,
    readonly concurrent: boolean,
  ) {
    this.parts = withAA ? 3 : 2;
  }

  useSettled(ok: boolean, v: unknown, ms: number): void {
    this.use = ok ? valueOutcome(v, ms, this.o.clean) : { error: errorInfo(v), ms: round(ms) };
    if (this.o.context !== undefined) this.context = toJsonText(this.o.context);
    if (this.concurrent) {
      this.startTry();
      if (this.withAA) this.startAA();
    } else {
      setImmediate(() => {
        this.startTry();
        if (this.withAA) this.startAA();
      });
    }
    this.done();
  }

  startTry(): void {
    if (this.tryStarted) return;
    this.tryStarted = true;
    this.call(this.o.try, (out) => {
      this.try = out;
      this.done();
    });
  }

  private startAA(): void {
    this.call(this.o.use, (out) => {
      this.aa = out;
      this.done();
    });
  }

  /** Calls `fn` (try, or use again) timed; `settle` gets its outcome once, or a timeout. Never throws. */
  private call(fn: () => unknown, settle: (out: Outcome) => void): void {
    const t0 = performance.now();
    let out: unknown;
    try {
      out = fn();
    } catch (err) {
      settle({ error: errorInfo(err), ms: round(performance.now() - t0) });
      return;
    }
    if (!isThenable(out)) {
      const ms = performance.now() - t0;
      settle(ms > this.timeout ? { timeout: true, ms: round(ms) } : valueOutcome(out, ms, this.o.clean));
      return;
    }
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      settle({ timeout: true, ms: this.timeout });
    }, this.timeout);
    (timer as { unref?: () => void }).unref?.();
    Promise.resolve(out).then(
      (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        settle(valueOutcome(v, performance.now() - t0, this.o.clean));
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        settle({ error: errorInfo(err), ms: round(performance.now() - t0) });
      },
    );
  }

  private done(): void {
    if (--this.parts === 0) this.runner.finish(this);
  }
}

class Runner {
  private readonly names = new Map<string, NameState>();
  private publisher: Publisher | undefined;
  private active = true;
  private enabled = true;
  private sampleUnits = UNIT;
  private timeout = 1000;
  private concurrent = false;
  private flushInterval = 1000;
  private maxQueue = 10_000;
  private maxInflight = 1000;
  private maxBatchChars = 4 * 1024 * 1024;
  private maxValueChars = 256 * 1024;
  private onError: (err: Error) => void = (err) => console.warn(`[ficus experiment] ${err.message}`);
  private readonly reported = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushing: Promise<void> | undefined;
  private queued = 0;
  private inflight = 0;
  private longestTimeout = 0;
  private idle: (() => void)[] = [];
  private exitHook = false;
  private readonly totals = { calls: 0, sampled: 0, published: 0, skipped: { concurrency_limit: 0, body_too_large: 0 }, dropped: { queue_full: 0, unreachable: 0, rejected: 0 } };

  constructor(config: ExperimentsConfig) {
    this.configure(config);
  }

  configure(c: ExperimentsConfig): void {
    if (c.publish !== undefined) {
      this.publisher = c.publish === false ? undefined : typeof (c.publish as Publisher).publish === "function" ? (c.publish as Publisher) : gatewayPublisher(c.publish as GatewayOptions);
    } else if (!this.publisher) this.publisher = gatewayPublisher();
    if (c.enabled !== undefined) this.enabled = c.enabled;
    this.active = this.enabled && this.publisher !== undefined;
    if (c.sample !== undefined) this.sampleUnits = units(c.sample);
    if (c.timeout !== undefined) this.timeout = Math.max(0, c.timeout);
    if (c.run !== undefined) this.concurrent = c.run === "concurrent";
    if (c.maxQueue !== undefined) this.maxQueue = Math.max(0, c.maxQueue);
    if (c.maxInflight !== undefined) this.maxInflight = Math.max(0, c.maxInflight);
    if (c.maxBatchBytes !== undefined) this.maxBatchChars = Math.max(1024, c.maxBatchBytes);
    if (c.maxValueChars !== undefined) this.maxValueChars = Math.min(MAX_VALUE_CHARS, Math.max(0, c.maxValueChars));
    if (c.onError !== undefined) this.onError = c.onError;
    if (c.flushInterval !== undefined && c.flushInterval !== this.flushInterval) {
      this.flushInterval = Math.max(10, c.flushInterval);
      if (this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.startTimer();
      }
    }
  }

  /** The hot path: decide, then either just call `use`, or observe the call. */
  run<T>(name: string, o: ExperimentOptions<T>): T {
    if (!this.active) return o.use();
    let st = this.names.get(name);
    if (st === undefined) st = this.define(name, o.compare, o.redact);
    if (!st.valid) return o.use();
    st.calls++;
    const enabled = o.enabled;
    if (enabled !== undefined && enabled !== true && (enabled === false || !enabled())) return o.use();
    st.acc += o.sample === undefined ? this.sampleUnits : units(o.sample);
    if (st.acc < UNIT) return o.use();
    st.acc -= UNIT;
    if (st.inflight >= this.maxInflight) {
      st.skippedInflight++;
      this.totals.skipped.concurrency_limit++;
      return o.use();
    }
    return this.observe(st, o);
  }

  private define(name: string, compare: unknown, redact: readonly string[] | undefined): NameState {
    let valid = EXPERIMENT_NAME.test(name);
    if (!valid) this.report(new Error(`experiment name ${JSON.stringify(name)} is not valid (letters, digits, '_', '.', '-', at most 100); it only runs use`));
    else if (this.names.size >= MAX_NAMES) {
      valid = false;
      this.report(new Error(`more than ${MAX_NAMES} experiment names; ${JSON.stringify(name)} only runs use`));
    }
    const st = new NameState(name, valid, compare, redact);
    // Invalid names are remembered too (up to a point), so they are reported once.
    if (valid || this.names.size < 2 * MAX_NAMES) this.names.set(name, st);
    if (valid) this.startTimer();
    return st;
  }

  private observe<T>(st: NameState, o: ExperimentOptions<T>): T {
    let withAA = false;
    if (o.aa !== undefined && o.aa > 0) {
      st.aaAcc += units(o.aa);
      if (st.aaAcc >= UNIT) {
        st.aaAcc -= UNIT;
        withAA = true;
      }
    }
    const timeout = o.timeout === undefined ? this.timeout : Math.max(0, o.timeout);
    if (timeout > this.longestTimeout) this.longestTimeout = timeout;
    const obs = new Observation(this, st, o as ExperimentOptions<unknown>, withAA, timeout, o.run === undefined ? this.concurrent : o.run === "concurrent");
    st.inflight++;
    this.inflight++;
    this.totals.sampled++;
    const t0 = performance.now();
    let out: T;
    try {
      out = o.use();
    } catch (err) {
      obs.useSettled(false, err, performance.now() - t0);
      throw err;
    }
    if (isThenable(out)) {
      if (obs.concurrent) obs.startTry();
      return Promise.resolve(out).then(
        (v) => {
          obs.useSettled(true, v, performance.now() - t0);
          return v;
        },
        (err: unknown) => {
          obs.useSettled(false, err, performance.now() - t0);
          throw err;
        },
      ) as T;
    }
    obs.useSettled(true, out, performance.now() - t0);
    return out;
  }

  /** An observation is complete: queue its result (or count why not). */
  finish(obs: Observation): void {
    const st = obs.st;
    st.inflight--;
    this.inflight--;
    if (this.inflight === 0 && this.idle.length > 0) for (const wake of this.idle.splice(0)) wake();
    const use = obs.use as Outcome;
    const tried = obs.try as Outcome;
    const aa = obs.aa !== undefined && "value" in obs.aa && obs.aa.value.length > this.maxValueChars ? undefined : obs.aa;
    const chars = ("value" in use ? use.value.length : 0) + ("value" in tried ? tried.value.length : 0) + (aa && "value" in aa ? aa.value.length : 0) + (obs.context?.length ?? 0);
    if (("value" in use && use.value.length > this.maxValueChars) || ("value" in tried && tried.value.length > this.maxValueChars) || (obs.context?.length ?? 0) > this.maxValueChars) {
      st.skippedLarge++;
      this.totals.skipped.body_too_large++;
      return;
    }
    if (this.queued >= this.maxQueue) {
      st.droppedQueue++;
      this.totals.dropped.queue_full++;
      return;
    }
    st.results.push({ time: obs.time, ...(obs.context !== undefined ? { context: obs.context } : {}), use, try: tried, ...(aa !== undefined ? { aa } : {}) });
    st.chars += chars + 100;
    this.queued++;
    // A full batch goes at once rather than waiting for the timer (so high rates do not fill the queue).
    if ((st.chars >= this.maxBatchChars || this.queued >= BATCH_RESULTS) && !this.flushing) void this.flush(false);
  }

  private startTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (!this.flushing) void this.flush(false);
    }, this.flushInterval);
    (this.timer as { unref?: () => void }).unref?.();
    if (!this.exitHook && typeof process !== "undefined" && typeof process.on === "function") {
      this.exitHook = true;
      // The process is about to exit with results queued: publish them (the request keeps it alive until done).
      process.on("beforeExit", () => {
        if (!this.flushing && [...this.names.values()].some((s) => s.hasNews)) void this.flush(false);
      });
    }
  }

  /** Publishes what is queued now; with `wait`, first waits for sampled calls in flight (up to the longest timeout). */
  async flush(wait = true): Promise<void> {
    if (wait && this.inflight > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.longestTimeout + 100);
        }),
      ]);
      clearTimeout(timer);
    }
    while (this.flushing) await this.flushing;
    this.flushing = this.publishQueued().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async publishQueued(): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return;
    // Only what is queued now: new results wait for the next tick, so a failing gateway cannot keep us looping.
    const limit = this.queued;
    let sent = 0;
    do {
      const { batch, results } = this.take();
      if (batch.experiments.length === 0) break;
      sent += results;
      try {
        await publisher.publish(batch);
        this.totals.published += results;
      } catch (err) {
        const kind = err instanceof PublishError ? err.kind : "unreachable";
        this.totals.dropped[kind] += results;
        this.report(err instanceof Error ? err : new Error(String(err)));
        // The store refused one experiment's definition (its compare rules, its redact paths): turn that
        // experiment off, so that it does not take the other experiments' results down with it batch after batch.
        const bad = kind === "rejected" ? /experiments\[\d+\]\.(?:compare|redact)\b.*?\(experiment "([A-Za-z0-9_.-]+)"/.exec((err as Error).message) : null;
        const name = bad?.[1];
        const st = name === undefined ? undefined : this.names.get(name);
        if (st?.valid) {
          st.valid = false;
          this.report(new Error(`experiment ${JSON.stringify(name)} is off (only use runs): its options were refused`));
        }
      }
    } while (sent < limit);
  }

  /** Cuts one batch: every name's counters, and results up to the batch limits. */
  private take(): { batch: ExperimentBatch; results: number } {
    const experiments: ExperimentEntry[] = [];
    let budget = this.maxBatchChars;
    let room = BATCH_RESULTS;
    let results = 0;
    for (const st of this.names.values()) {
      if (!st.valid || !st.hasNews) continue;
      let n = 0;
      let chars = 0;
      while (n < st.results.length && room > 0) {
        const r = st.results[n] as ExperimentResult;
        const size = resultChars(r);
        if (n > 0 && chars + size > budget) break;
        chars += size;
        n++;
        room--;
      }
      budget -= chars;
      const taken = st.results.splice(0, n);
      st.chars = Math.max(0, st.chars - chars);
      this.queued -= n;
      results += n;
      const skipped = st.skippedInflight > 0 || st.droppedQueue > 0 || st.skippedLarge > 0;
      experiments.push({
        name: st.name,
        calls: st.calls,
        ...(skipped ? { skipped: { concurrency_limit: st.skippedInflight + st.droppedQueue, body_too_large: st.skippedLarge } } : {}),
        ...(st.compare !== undefined ? { compare: st.compare } : {}),
        ...(st.redact !== undefined ? { redact: st.redact } : {}),
        results: taken,
      });
      this.totals.calls += st.calls;
      st.calls = 0;
      st.skippedInflight = 0;
      st.droppedQueue = 0;
      st.skippedLarge = 0;
      if (budget <= 0 || room <= 0) break;
    }
    const batch: ExperimentBatch = typeof process !== "undefined" && process.pid ? { version: BATCH_VERSION, source: `pid ${process.pid}`, experiments } : { version: BATCH_VERSION, experiments };
    return { batch, results };
  }

  private report(err: Error): void {
    if (this.reported.has(err.message)) return;
    if (this.reported.size < 100) this.reported.add(err.message);
    try {
      this.onError(err);
    } catch {
      // A failing error hook must not reach the caller either.
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.publisher?.close?.();
  }

  stats(): ExperimentStats {
    let calls = this.totals.calls;
    for (const st of this.names.values()) calls += st.calls;
    const t = this.totals;
    return { calls, sampled: t.sampled, published: t.published, pending: this.queued, skipped: { ...t.skipped }, dropped: { ...t.dropped } };
  }
}

function resultChars(r: ExperimentResult): number {
  const side = (o: Outcome | undefined) => (o && "value" in o ? o.value.length : 0);
  return side(r.use) + side(r.try) + side(r.aa) + (r.context?.length ?? 0) + 100;
}

/** A configured experiment runner (its own publisher, defaults and queue). */
export function createExperiments(config: ExperimentsConfig = {}): Experiment {
  const runner = new Runner(config);
  const experiment = (<T>(name: string, options: ExperimentOptions<T>): T => runner.run(name, options)) as Experiment;
  experiment.configure = (c) => runner.configure(c);
  experiment.flush = () => runner.flush();
  experiment.close = () => runner.close();
  experiment.stats = () => runner.stats();
  return experiment;
}
