/**
 * The audit log's output: lines kept in memory and handed to the sink every
 * 100 ms (or when 64 KiB are waiting), so a tool call never waits on I/O.
 * A file is opened for appending (the workers of one gateway append whole
 * lines to the same file) and reopened when it is rotated away or deleted,
 * as the access log does.
 */
import type { FileSink } from "bun";
import { closeLogFile, type OpenFile, openLogFile, openLogOutput, RotationCheck } from "../../../observability/log-file.ts";

const FLUSH_MS = 100;
const HAND_OVER_CHARS = 64 * 1024;
/** Past this many characters waiting (a sink that does not drain), new lines are dropped and counted. */
const MAX_PENDING_CHARS = 16 * 1024 * 1024;

export class AuditWriter {
  private sink: FileSink | undefined;
  private file: OpenFile | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly rotation = new RotationCheck();
  private pending: string[] = [];
  private chars = 0;
  /** Lines dropped because the output could not keep up. */
  dropped = 0;

  constructor(readonly output: string) {
    ({ file: this.file, sink: this.sink } = openLogOutput(output, 64 * 1024));
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  /** Queues one line (without its newline). */
  write(line: string): void {
    if (this.sink === undefined) return;
    if (this.chars > MAX_PENDING_CHARS) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.chars += line.length + 1;
    if (this.chars >= HAND_OVER_CHARS) this.drain();
  }

  private drain(): void {
    if (this.pending.length === 0 || this.sink === undefined) return;
    const text = `${this.pending.join("\n")}\n`;
    this.pending = [];
    this.chars = 0;
    try {
      this.sink.write(text);
    } catch {
      // A closed descriptor: the lines are lost, the calls go on.
      this.dropped++;
    }
  }

  /** Hands what is waiting to the sink and flushes it; reopens a file rotated away. */
  flush(): void {
    this.drain();
    try {
      void Promise.resolve(this.sink?.flush()).catch(() => {});
    } catch {
      // Nothing to do: see drain.
    }
    const f = this.file;
    if (f !== undefined && this.rotation.due(f)) this.reopen(f);
  }

  private reopen(old: OpenFile): void {
    const oldSink = this.sink;
    try {
      [this.file, this.sink] = openLogFile(old.path, 64 * 1024);
    } catch {
      return; // The folder is gone: keep writing to the old file, try again later.
    }
    if (oldSink !== undefined) closeLogFile(oldSink, old.fd);
  }

  /** Writes what is waiting and closes a file output (stdout and stderr stay open). */
  close(): void {
    clearInterval(this.timer);
    this.drain();
    const sink = this.sink;
    this.sink = undefined;
    if (sink === undefined) return;
    if (this.file !== undefined) closeLogFile(sink, this.file.fd);
    else void Promise.resolve(sink.flush()).catch(() => {});
    this.file = undefined;
  }
}
