/**
 * Fleet-wide GCRA state in Redis, through Bun's built-in client. Every limit
 * of one request that lives in Redis is checked atomically: each key's TAT is
 * read, all are decided, and they are advanced only when all admit (a request
 * refused by one limit costs nothing under the others). The script reads
 * Redis's own clock (TIME), so gateways whose clocks disagree still share one
 * timeline; TATs are microseconds of that clock.
 *
 * Batching: the checks made during one event-loop turn (every request the
 * turn read) go to Redis together, at the end of the turn, as one script call
 * that decides them in order, one after the other, exactly as separate calls
 * would (same admissions, same refusals: the accuracy does not change). What
 * changes is the cost: one command, one write and one script run per turn
 * instead of per request (Bun's client writes each command with its own
 * syscall and its cost grows with the number of arguments, so a batch is a
 * handful of arguments: the keys and one JSON array of numbers).
 *
 * The script is sent by its SHA-1 (EVALSHA) and in full (EVAL, which also
 * caches it) when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 *
 * Every call (batch) has a deadline (`timeoutMs`, e.g. 50 ms), kept in one
 * queue with one timer (calls share the timeout, so deadlines expire in
 * order). A call that fails or misses its deadline fails every check of its
 * batch and marks the store down: later checks fail at once (their limits
 * fail open or closed) and one check per `retryMs` goes through as a probe
 * (reconnecting first if needed); its success marks the store up. `onState`
 * hears each change once, never once per request.
 */
import { RedisClient } from "bun";
import type { GcraParams } from "./gcra.ts";

/**
 * One call decides a batch of checks (every check of one event-loop turn), in order, as if each had been its
 * own atomic script. KEYS are the distinct buckets of the batch. ARGV[1] is one JSON array of whole numbers
 * (one argument, however large the batch: the client's cost grows with the number of arguments, not with
 * their length; Redis's cjson reads it in C, several times faster than a Lua loop): per check, its number of
 * limits m, then per limit the index of its key in KEYS (1-based), its interval and its tolerance (µs). Each TAT is read once, advanced in the script as the
 * checks admit, and written once at the end, expiring when it is reached. Returns, per check, {ok, v1, …, vm}:
 * ok is 1 when every limit admits (and then every TAT was advanced); vi > 0 is how far limit i's TAT now runs
 * ahead of Redis's clock (µs), vi < 0 means limit i refused, -vi µs before it would admit. Redis's own clock
 * (TIME, once per call) decides.
 */
export const GCRA_SCRIPT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = {}
for k = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[k]))
  if v == nil or v < now then v = now end
  tat[k] = v
end
local num = cjson.decode(ARGV[1])
local n = #num
local dirty = {}
local out = {}
local o = 0
local a = 1
while a <= n do
  local m = num[a]
  local ok = 1
  for l = 1, m do
    local b = a + 3 * l - 2
    local ahead = tat[num[b]] + num[b + 1] - now
    local tolerance = num[b + 2]
    if ahead > tolerance then
      ok = 0
      out[o + 1 + l] = tolerance - ahead
    else
      out[o + 1 + l] = ahead
    end
  end
  out[o + 1] = ok
  if ok == 1 then
    for l = 1, m do
      local b = a + 3 * l - 2
      local k = num[b]
      tat[k] = tat[k] + num[b + 1]
      dirty[k] = true
    end
  end
  o = o + 1 + m
  a = a + 1 + 3 * m
end
for k = 1, #KEYS do
  if dirty[k] then
    redis.call('SET', KEYS[k], string.format('%.0f', tat[k]), 'PX', math.floor((tat[k] - now) / 1000) + 1)
  end
end
return out`;

const SCRIPT_SHA = new Bun.CryptoHasher("sha1").update(GCRA_SCRIPT).digest("hex");

/** A batch is sent at once past this many checks or distinct keys (one script call stays short: Redis runs nothing else meanwhile). */
const MAX_BATCH_CHECKS = 512;
const MAX_BATCH_KEYS = 1024;

export interface RedisStoreSettings {
  /** redis:// or rediss:// URL (credentials allowed; never logged). */
  readonly url: string;
  /** Deadline of one call (connecting included), ms. */
  readonly timeoutMs: number;
  /** While down, one call per this many ms is let through to probe Redis. */
  readonly retryMs: number;
}

/** The store is down, the call failed, or it missed its deadline: the limit applies its on_backend_error. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendUnavailableError";
  }
}

/** A call missed its deadline. */
class DeadlineError extends BackendUnavailableError {}

/** What one check decided (see RedisStore.check). */
export interface CheckResult {
  readonly ok: boolean;
  readonly values: number[];
}

/** A check waiting in the batch for the reply: its number of limits, what to make of the outcome, and its promise. */
interface Check {
  readonly m: number;
  readonly onResult: (r: CheckResult) => unknown;
  readonly onError: (err: BackendUnavailableError) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Settles a check with what its handler makes of the outcome (a handler that throws rejects only its own check). */
function settle<A>(c: Check, handler: (a: A) => unknown, a: A): void {
  try {
    c.resolve(handler(a));
  } catch (err) {
    c.reject(err);
  }
}

const identity = <T>(v: T): T => v;
const rethrow = (err: BackendUnavailableError): never => {
  throw err;
};

/** A limit's ",interval,tolerance" in the script's ARGV, made once per limit (its GcraParams object). */
const PARAM_TEXT = new WeakMap<GcraParams, string>();
function paramText(p: GcraParams): string {
  let s = PARAM_TEXT.get(p);
  if (s === undefined) {
    s = `,${Math.max(0, Math.round(p.interval))},${Math.max(0, Math.round(p.tolerance))}`;
    PARAM_TEXT.set(p, s);
  }
  return s;
}

interface Pending {
  readonly deadline: number;
  settled: boolean;
  readonly reject: (err: Error) => void;
}

export class RedisStore {
  private client: RedisClient;
  /** When the connection was last replaced after a missed deadline (performance.now() ms). */
  private resetAt = Number.NEGATIVE_INFINITY;
  private connecting: Promise<void> | undefined;
  private up = true;
  /** While down: when the next probe may go (performance.now() ms). */
  private nextProbe = 0;
  private readonly pending: Pending[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** The batch being gathered: its checks, its distinct keys (1-based index by key) and the script's ARGV so far. */
  private checks: Check[] = [];
  private keys: string[] = [];
  private readonly keyIndex = new Map<string, number>();
  private argv = "";
  private scheduled = false;
  private calls = 0;

  constructor(
    readonly settings: RedisStoreSettings,
    /** Hears each change of state: down (with the reason) and back up. */
    private readonly onState: ((up: boolean, reason: string) => void) | undefined = undefined,
  ) {
    this.client = this.newClient();
    this.connect().catch(() => undefined);
  }

  private newClient(): RedisClient {
    return new RedisClient(this.settings.url, {
      connectionTimeout: Math.max(this.settings.timeoutMs, 1),
      autoReconnect: false, // reconnection is the probe's job, bounded by the call deadline
      enableOfflineQueue: false,
      enableAutoPipelining: true,
    });
  }

  /**
   * A missed deadline may mean a connection that will never answer (a peer gone without a reset, a network that
   * drops packets): replace it, at most once per retry interval, so the next probe starts on a fresh one.
   */
  private resetConnection(): void {
    const now = performance.now();
    if (now - this.resetAt < this.settings.retryMs) return;
    this.resetAt = now;
    const old = this.client;
    this.client = this.newClient();
    this.connecting = undefined;
    old.close();
  }

  /** Script calls sent so far (each decides one batch of checks). */
  get scriptCalls(): number {
    return this.calls;
  }

  /** Whether the last call succeeded. */
  get isUp(): boolean {
    return this.up;
  }

  /**
   * Checks every key atomically (see GCRA_SCRIPT): per key, > 0 admitted (µs the TAT runs ahead), < 0 refused
   * (µs until it would admit); `ok` is true when all admitted and were recorded. Rejects with
   * BackendUnavailableError when Redis is down, fails or is slow.
   *
   * The check joins the current batch, sent at the end of this event-loop turn (setImmediate) as one EVALSHA:
   * one command, one write and one script run for every check of the turn, decided in the order they were
   * made (the same outcome as one script call each).
   */
  check(keys: readonly string[], params: readonly GcraParams[]): Promise<CheckResult> {
    return this.checkThen(keys, params, identity, rethrow);
  }

  /**
   * As `check`, with the outcome handed to `onResult` (or the failure to `onError`) as the reply is read: the
   * promise settles with what they return, with no promise chained per step of the caller.
   */
  checkThen<T>(keys: readonly string[], params: readonly GcraParams[], onResult: (r: CheckResult) => T, onError: (err: BackendUnavailableError) => T): Promise<T> {
    let refused: BackendUnavailableError | undefined;
    if (this.closed) refused = new BackendUnavailableError("the rate-limit store is closed");
    else if (!this.up) {
      const now = performance.now();
      if (now < this.nextProbe) refused = new BackendUnavailableError("Redis is down");
      else this.nextProbe = now + this.settings.retryMs;
    }
    if (refused !== undefined) {
      try {
        return Promise.resolve(onError(refused));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const index = this.keyIndex;
      let argv = this.argv === "" ? `${keys.length}` : `${this.argv},${keys.length}`;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        let k = index.get(key);
        if (k === undefined) {
          k = this.keys.push(key);
          index.set(key, k);
        }
        argv += `,${k}${paramText(params[i] as GcraParams)}`;
      }
      this.argv = argv;
      this.checks.push({ m: keys.length, onResult, onError, resolve: resolve as (v: unknown) => void, reject });
      if (this.checks.length >= MAX_BATCH_CHECKS || this.keys.length >= MAX_BATCH_KEYS) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushSoon);
      }
    });
  }

  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Sends the current batch as one script call and settles each of its checks from the reply. */
  private flush(): void {
    const checks = this.checks;
    if (checks.length === 0 || this.closed) return;
    const keys = this.keys;
    const argv = this.argv;
    this.checks = [];
    this.keys = [];
    this.argv = "";
    this.keyIndex.clear();
    const args: string[] = new Array<string>(3 + keys.length);
    args[0] = SCRIPT_SHA;
    args[1] = String(keys.length);
    for (let i = 0; i < keys.length; i++) args[2 + i] = keys[i] as string;
    args[2 + keys.length] = `[${argv}]`;
    this.calls++;
    this.withDeadline(this.run(args)).then(
      (reply) => {
        const r = reply as number[];
        let size = 0;
        for (const c of checks) size += 1 + c.m;
        if (!Array.isArray(r) || r.length !== size) throw new BackendUnavailableError("Redis answered the rate-limit script with an unexpected reply");
        this.markUp();
        for (let i = 0, o = 0; i < checks.length; i++) {
          const c = checks[i] as Check;
          settle(c, c.onResult, { ok: r[o] === 1, values: r.slice(o + 1, o + 1 + c.m) });
          o += 1 + c.m;
        }
      },
    ).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      if (err instanceof DeadlineError) this.resetConnection();
      this.markDown(why);
      const e = err instanceof BackendUnavailableError ? err : new BackendUnavailableError(why);
      for (const c of checks) settle(c, c.onError, e);
    });
  }

  private async run(args: string[]): Promise<unknown> {
    if (!this.client.connected) await this.connect();
    try {
      return await this.client.send("EVALSHA", args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      args[0] = GCRA_SCRIPT;
      return this.client.send("EVAL", args);
    }
  }

  private connect(): Promise<void> {
    if (this.connecting === undefined) {
      const p = this.client.connect().finally(() => {
        if (this.connecting === p) this.connecting = undefined;
      });
      this.connecting = p;
    }
    return this.connecting;
  }

  /** Rejects `p`'s outcome past the deadline (the command may still complete; its answer is ignored). */
  private withDeadline<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + this.settings.timeoutMs, settled: false, reject };
      this.pending.push(entry);
      if (this.timer === undefined) this.arm(this.settings.timeoutMs);
      p.then(
        (v) => {
          if (entry.settled) return;
          entry.settled = true;
          resolve(v);
        },
        (e: unknown) => {
          if (entry.settled) return;
          entry.settled = true;
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(ms)));
    this.timer.unref?.();
  }

  /** Rejects the calls past their deadline (in order: they share the timeout), then re-arms for the next one. */
  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const q = this.pending;
    while (this.head < q.length) {
      const e = q[this.head] as Pending;
      if (!e.settled) {
        if (e.deadline > now) break;
        e.settled = true;
        e.reject(new DeadlineError(`Redis did not answer within ${this.settings.timeoutMs} ms`));
      }
      this.head++;
    }
    if (this.head === q.length) {
      q.length = 0;
      this.head = 0;
    } else {
      if (this.head > 1024) {
        q.splice(0, this.head);
        this.head = 0;
      }
      this.arm((q[this.head] as Pending).deadline - now);
    }
  }

  private markUp(): void {
    if (this.up) return;
    this.up = true;
    this.onState?.(true, "");
  }

  private markDown(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.nextProbe = performance.now() + this.settings.retryMs;
    this.onState?.(false, reason);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (let i = this.head; i < this.pending.length; i++) {
      const e = this.pending[i] as Pending;
      if (!e.settled) {
        e.settled = true;
        e.reject(new BackendUnavailableError("the rate-limit store is closed"));
      }
    }
    this.pending.length = 0;
    this.head = 0;
    const waiting = this.checks;
    this.checks = [];
    this.keys = [];
    this.argv = "";
    this.keyIndex.clear();
    const e = new BackendUnavailableError("the rate-limit store is closed");
    for (const c of waiting) settle(c, c.onError, e);
    this.client.close();
  }
}
