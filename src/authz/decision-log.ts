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
import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import type { FileSink } from "bun";
import type { DecisionResult } from "./metrics.ts";
import type { DecisionLogSettings } from "./settings.ts";

/** Waiting bytes that trigger a write before the timer. */
const WRITE_AT = 64 * 1024;
const TICK_MS = 100;
const REOPEN_CHECK_MS = 1000;

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

interface OpenFile {
  readonly path: string;
  readonly fd: number;
  readonly dev: bigint;
  readonly ino: bigint;
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
  private lines: string[] = [];
  private waiting = 0;
  /** The output has not finished the last write (a promise from flush). */
  private busy = false;
  private counter = 0;
  private checkedAt = 0;
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
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.open();
  }

  private open(): void {
    if (!this.settings.enabled) return;
    const out = this.settings.output;
    if (out === "stdout" || out === "stderr") this.sink = (out === "stdout" ? Bun.stdout : Bun.stderr).writer({ highWaterMark: WRITE_AT });
    else [this.file, this.sink] = openFile(out);
    this.checkedAt = Date.now();
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
    // Ids, route names, methods, results and hex hashes are tokens; everything else is quoted by JSON.stringify.
    let line = `{"log":"decision","decision_id":"${this.newId()}","time":"${this.lastIso}","request_id":${JSON.stringify(r.requestId)},"route":${JSON.stringify(r.route)},"subject":${JSON.stringify(r.subject)},"identity":"${r.identityMethod}","method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)}`;
    if (r.policy !== undefined) line += `,"policy":${JSON.stringify(r.policy)}`;
    if (r.bundle !== undefined) line += `,"bundle":"sha256:${r.bundle}"`;
    line += `,"result":"${r.result}","dry_run":${r.dryRun}`;
    if (r.result !== "allow") line += `,"status":${r.status}`;
    if (r.reason !== undefined) line += `,"reason":${JSON.stringify(r.reason)}`;
    line += `,"duration_us":${Math.round(r.durationUs * 1000) / 1000}}\n`;
    // Bytes as UTF-8 are at most 3 per UTF-16 unit; the bound uses the length, which is exact for ASCII lines.
    if (this.waiting + line.length > this.settings.maxBuffer) {
      this.dropped++;
      this.onDrop();
      return;
    }
    this.lines.push(line);
    this.waiting += line.length;
    if (this.waiting >= WRITE_AT) this.drain();
  }

  /** Hands what waits to the output, unless it is still writing earlier lines. */
  private drain(): void {
    const sink = this.sink;
    if (sink === undefined || this.busy || this.lines.length === 0) return;
    const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join("");
    this.lines = [];
    this.waiting = 0;
    try {
      sink.write(text);
      const r = sink.flush();
      if (r instanceof Promise) {
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
    const now = Date.now();
    if (now - this.checkedAt < REOPEN_CHECK_MS) return;
    this.checkedAt = now;
    let st: { dev: bigint; ino: bigint } | undefined;
    try {
      st = statSync(f.path, { bigint: true, throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (st === undefined || st.dev !== f.dev || st.ino !== f.ino) this.reopen();
  }

  /** Reopens a file output at its path (after rotation or deletion); what waits goes to the old file first. */
  reopen(): void {
    const old = this.file;
    const oldSink = this.sink;
    if (old === undefined || oldSink === undefined) return;
    this.busy = false;
    this.drain();
    try {
      [this.file, this.sink] = openFile(old.path);
    } catch {
      return;
    }
    this.busy = false;
    finish(oldSink, old.fd);
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
      if (file !== undefined) finish(sink, file.fd);
      else void sink.flush();
    }
  }
}

/** Ends a file sink (writing what it holds) and closes its descriptor; never throws or rejects. */
function finish(sink: FileSink, fd: number): void {
  const done = () => {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  };
  try {
    void Promise.resolve(sink.end()).then(done, done);
  } catch {
    done();
  }
}

function openFile(path: string): [OpenFile, FileSink] {
  const fd = openSync(path, "a");
  const st = fstatSync(fd, { bigint: true });
  return [{ path, fd, dev: st.dev, ino: st.ino }, Bun.file(fd).writer({ highWaterMark: WRITE_AT })];
}
