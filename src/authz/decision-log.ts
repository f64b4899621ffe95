/**
 * The decision log: one JSON line per authorization decision, to stdout,
 * stderr or a file. Lines are held in memory and handed to the output on a
 * short timer (or when 64 KiB are waiting), never written on the request's
 * turn; while the output is still busy with earlier lines (a slow pipe),
 * new ones wait, up to `max_buffer` bytes, and past it they are dropped and
 * counted. The data plane never waits for the log.
 *
 * Sampling (`sample`) applies to allow decisions only, every k-th one;
 * denials, dry-run denials and errors are always logged, being what an
 * operator reads the log for.
 *
 * A file output is appended to (the workers of one gateway share it; each
 * write is whole lines) and reopened when its path names another file or
 * none (rotation), checked once a second, as the access log does.
 *
 * What a line holds is chosen by the layer (layer.ts) and never includes a
 * credential: no token, no header, no query, no body.
 */
import { closeLogFile, type OpenFile, openLogFile, openLogOutput, RotationCheck } from "../observability/log-file.ts";
import type { FileSink } from "bun";
import type { DecisionResult } from "./metrics.ts";
import type { DecisionLogSettings } from "./settings.ts";

/** Waiting bytes that trigger a write before the timer. */
const WRITE_AT = 64 * 1024;
const TICK_MS = 100;

/** One decision, as the layer describes it. */
export interface DecisionRecord {
  readonly requestId: string;
  readonly route: string;
  /** The identity's subject ("" when anonymous). */
  readonly subject: string;
  readonly identityMethod: string;
  readonly method: string;
  /** The path, without the query (which may carry a credential). */
  readonly path: string;
  /** The policy's decision query (data.http.allow), when a policy decided. */
  readonly policy: string | undefined;
  readonly bundle: string | undefined;
  readonly result: DecisionResult;
  readonly dryRun: boolean;
  /** The status a denial answers (or would answer, in dry-run). */
  readonly status: number;
  /** Why: the rule that denied, the policy's message, or the error. */
  readonly reason: string | undefined;
  readonly durationUs: number;
}

export interface DecisionLogOptions {
  /** Counts a dropped line (ficus_decision_log_dropped_total). */
  readonly onDrop?: () => void;
  /** The wall clock for `time` (ms since the epoch). */
  readonly now?: () => number;
  /** Makes decision ids. */
  readonly newId?: () => string;
}

export class DecisionLog {
  private settings: DecisionLogSettings;
  private sink: FileSink | undefined;
  private file: OpenFile | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The line being written goes here; full buffers wait in `queue` (the sink may hold a buffer until it writes it). */
  private buf: Uint8Array = new Uint8Array(WRITE_AT);
  private at = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private readonly spare: Uint8Array[] = [];
  /** The output has not finished the last write (a promise from flush). */
  private busy = false;
  private counter = 0;
  private readonly rotation = new RotationCheck();
  private lastMs = -1;
  private lastIso = "";
  /** Lines dropped since start (also counted through onDrop). */
  dropped = 0;
  private readonly onDrop: () => void;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(settings: DecisionLogSettings, options: DecisionLogOptions = {}) {
    this.settings = settings;
    this.onDrop = options.onDrop ?? (() => {});
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? newDecisionId;
    this.open();
  }

  private open(): void {
    if (!this.settings.enabled) return;
    const out = this.settings.output;
    ({ file: this.file, sink: this.sink } = openLogOutput(out, WRITE_AT));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  /** True when a decision with this result should be logged (cheap; call before describing it). */
  wants(result: DecisionResult): boolean {
    if (this.sink === undefined) return false;
    if (result !== "allow") return true;
    const s = this.settings.sample;
    if (s >= 1) return true;
    if (s <= 0) return false;
    this.counter++;
    return this.counter % Math.max(1, Math.round(1 / s)) === 0;
  }

  /** Queues one line; dropped (and counted) when max_buffer bytes are already waiting. */
  write(r: DecisionRecord): void {
    if (this.sink === undefined) return;
    const ms = this.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    // The line's longest form: the fixed text, then every string at 6 bytes a character (\u escapes) or 3 (UTF-8).
    const room = 400 + 6 * (r.requestId.length + r.route.length + r.subject.length + r.method.length + r.path.length + (r.policy?.length ?? 0) + (r.reason?.length ?? 0) + 64);
    if (this.queued + this.at + room > this.settings.maxBuffer) {
      this.dropped++;
      this.onDrop();
      return;
    }
    if (this.at + room > this.buf.length) this.seal(room);
    this.put('{"log":"decision","decision_id":');
    this.putString(this.newId());
    this.put(',"time":"');
    this.put(this.lastIso);
    this.put('","request_id":');
    this.putString(r.requestId);
    this.put(',"route":');
    this.putString(r.route);
    this.put(',"subject":');
    this.putString(r.subject);
    this.put(',"identity":');
    this.putString(r.identityMethod);
    this.put(',"method":');
    this.putString(r.method);
    this.put(',"path":');
    this.putString(r.path);
    if (r.policy !== undefined) {
      this.put(',"policy":');
      this.putString(r.policy);
    }
    if (r.bundle !== undefined) {
      this.put(',"bundle":"sha256:');
      this.put(r.bundle);
      this.put('"');
    }
    this.put(r.result === "allow" ? ',"result":"allow"' : r.result === "deny" ? ',"result":"deny"' : ',"result":"error"');
    this.put(r.dryRun ? ',"dry_run":true' : ',"dry_run":false');
    if (r.result !== "allow") {
      this.put(',"status":');
      this.put(String(r.status));
    }
    if (r.reason !== undefined) {
      this.put(',"reason":');
      this.putString(r.reason);
    }
    this.put(',"duration_us":');
    this.put(String(Math.round(r.durationUs * 1000) / 1000));
    this.put("}\n");
    if (this.queued + this.at >= WRITE_AT) this.drain();
  }

  /** ASCII text known to need no escaping, copied byte by byte (no string built per line). */
  private put(s: string): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** A JSON string: printable ASCII copied as it is; anything else through JSON.stringify, as UTF-8. */
  private putString(s: string): void {
    if (PLAIN.test(s)) {
      this.buf[this.at++] = 0x22;
      this.put(s);
      this.buf[this.at++] = 0x22;
      return;
    }
    this.at += ENCODER.encodeInto(JSON.stringify(s), this.buf.subarray(this.at)).written;
  }

  /** Moves the current buffer to the queue and starts a new one with room for at least `room` bytes. */
  private seal(room: number): void {
    if (this.at > 0) {
      this.queue.push(this.buf.subarray(0, this.at));
      this.queued += this.at;
    }
    // Allocating 64 KiB typed arrays is what costs most here: buffers the output is done with are reused.
    this.buf = room <= WRITE_AT ? (this.spare.pop() ?? new Uint8Array(WRITE_AT)) : new Uint8Array(room);
    this.at = 0;
  }

  /** Hands what waits to the output, unless it is still writing earlier lines. */
  private drain(): void {
    const sink = this.sink;
    if (sink === undefined || this.busy) return;
    this.seal(0);
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    this.queued = 0;
    try {
      for (const chunk of queue) sink.write(chunk);
      const r = sink.flush();
      if (!(r instanceof Promise)) {
        // Written: the buffers are free again.
        for (const chunk of queue) if (chunk.buffer.byteLength === WRITE_AT && this.spare.length < 4) this.spare.push(new Uint8Array(chunk.buffer));
      } else {
        this.busy = true;
        r.then(
          () => {
            this.busy = false;
          },
          () => {
            this.busy = false;
          },
        );
      }
    } catch {
      // An output that failed (a closed pipe): the lines are lost, never the request.
      this.busy = false;
    }
  }

  private tick(): void {
    this.drain();
    const f = this.file;
    if (f === undefined) return;
    if (this.rotation.due(f)) this.reopen();
  }

  /** Reopens a file output at its path (after rotation or deletion); what waits goes to the old file first. */
  reopen(): void {
    const old = this.file;
    const oldSink = this.sink;
    if (old === undefined || oldSink === undefined) return;
    this.busy = false;
    this.drain();
    try {
      [this.file, this.sink] = openLogFile(old.path, WRITE_AT);
    } catch {
      return;
    }
    this.busy = false;
    closeLogFile(oldSink, old.fd);
  }

  /** Applies new settings (hot reload); reopens the output only when it changed. */
  reconfigure(settings: DecisionLogSettings): void {
    const reopen = settings.enabled !== this.settings.enabled || settings.output !== this.settings.output;
    if (reopen) this.close();
    this.settings = settings;
    if (reopen) this.open();
  }

  /** Writes what waits now (tests, shutdown). Resolves once the output took it. */
  async flush(): Promise<void> {
    this.busy = false;
    this.drain();
    await this.sink?.flush();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.busy = false;
    this.drain();
    const sink = this.sink;
    const file = this.file;
    this.sink = undefined;
    this.file = undefined;
    if (sink !== undefined) {
      if (file !== undefined) closeLogFile(sink, file.fd);
      else void sink.flush();
    }
  }
}

/** Printable ASCII without `"` or `\\`: written as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const ENCODER = new TextEncoder();

/**
 * Decision ids: unique, in UUID form, without a random draw per decision (crypto.randomUUID costs ~0.6 µs):
 * this process's random first 20 hex digits, then a counter.
 */
const ID_PREFIX = crypto.randomUUID().slice(0, 24);
let idCounter = 0;
function newDecisionId(): string {
  idCounter++;
  return `${ID_PREFIX}${idCounter.toString(16).padStart(12, "0")}`;
}
