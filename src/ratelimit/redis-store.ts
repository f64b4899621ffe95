/**
 * Fleet-wide GCRA state in Redis, through Bun's built-in client. Every limit
 * of one request that lives in Redis is checked by one atomic Lua script:
 * each key's TAT is read, all are decided, and they are written only when
 * all admit (a request refused by one limit costs nothing under the others).
 * The script reads Redis's own clock (TIME), so gateways whose clocks
 * disagree still share one timeline; TATs are microseconds of that clock.
 *
 * The script is sent by its SHA-1 (EVALSHA) and in full (EVAL, which also
 * caches it) when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 *
 * Every call has a deadline (`timeoutMs`, e.g. 50 ms), kept in one queue
 * with one timer (calls share the timeout, so deadlines expire in order).
 * A call that fails or misses its deadline marks the store down: later calls
 * fail at once (their limits fail open or closed) and one call per
 * `retryMs` goes through as a probe (reconnecting first if needed); its
 * success marks the store up. `onState` hears each change once, never once
 * per request.
 */
import { RedisClient } from "bun";
import type { GcraParams } from "./gcra.ts";

/**
 * KEYS: one bucket per limit. ARGV: interval and tolerance (µs) per key, in order.
 * Returns {ok, v1, …, vn}: ok is 1 when every key admits (and then every TAT was
 * advanced); vi > 0 is how far key i's TAT now runs ahead of Redis's clock (µs),
 * vi < 0 means key i refused, -vi µs before it would admit.
 */
export const GCRA_SCRIPT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {1}
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  local ahead = tat + interval - now
  if ahead > tolerance then
    out[1] = 0
    out[i + 1] = -(ahead - tolerance)
  else
    tats[i] = tat + interval
    out[i + 1] = ahead
  end
end
if out[1] == 1 then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.floor(out[i + 1] / 1000) + 1)
  end
end
return out`;

const SCRIPT_SHA = new Bun.CryptoHasher("sha1").update(GCRA_SCRIPT).digest("hex");

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

  /** Whether the last call succeeded. */
  get isUp(): boolean {
    return this.up;
  }

  /**
   * Checks every key atomically (see GCRA_SCRIPT): per key, > 0 admitted (µs the TAT runs ahead), < 0 refused
   * (µs until it would admit); `ok` is true when all admitted and were recorded. Rejects with
   * BackendUnavailableError when Redis is down, fails or is slow.
   */
  check(keys: readonly string[], params: readonly GcraParams[]): Promise<{ ok: boolean; values: number[] }> {
    if (this.closed) return Promise.reject(new BackendUnavailableError("the rate-limit store is closed"));
    if (!this.up) {
      const now = performance.now();
      if (now < this.nextProbe) return Promise.reject(new BackendUnavailableError("Redis is down"));
      this.nextProbe = now + this.settings.retryMs;
    }
    const args: string[] = [SCRIPT_SHA, String(keys.length), ...keys];
    for (const p of params) args.push(String(Math.round(p.interval)), String(Math.round(p.tolerance)));
    return this.withDeadline(this.run(args)).then(
      (reply) => {
        this.markUp();
        const r = reply as number[];
        return { ok: r[0] === 1, values: r.slice(1) };
      },
      (err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        if (err instanceof DeadlineError) this.resetConnection();
        this.markDown(why);
        throw err instanceof BackendUnavailableError ? err : new BackendUnavailableError(why);
      },
    );
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
    this.client.close();
  }
}
