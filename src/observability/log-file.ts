/**
 * A log file written by appending, as the access log and the decision log
 * keep theirs: opened with O_APPEND (so several processes append whole
 * lines without overwriting each other), remembered by device and inode so
 * a file rotated away or deleted is noticed and the path opened again, and
 * closed without ever throwing.
 */
import type { FileSink } from "bun";
import { closeSync, fstatSync, openSync, statSync } from "node:fs";

/** An open file output: its descriptor and the file it is (device, inode). */
export interface OpenFile {
  readonly path: string;
  readonly fd: number;
  readonly dev: bigint;
  readonly ino: bigint;
}

/** Opens `path` for appending (creating it) and a buffered sink on it. */
export function openLogFile(path: string, highWaterMark: number): [OpenFile, FileSink] {
  const fd = openSync(path, "a");
  const st = fstatSync(fd, { bigint: true });
  return [{ path, fd, dev: st.dev, ino: st.ino }, Bun.file(fd).writer({ highWaterMark })];
}

/** An output as configured: "stdout", "stderr" or a file path (opened for appending, `file` set). */
export function openLogOutput(output: string, highWaterMark: number): { file: OpenFile | undefined; sink: FileSink } {
  if (output === "stdout" || output === "stderr") return { file: undefined, sink: (output === "stdout" ? Bun.stdout : Bun.stderr).writer({ highWaterMark }) };
  const [file, sink] = openLogFile(output, highWaterMark);
  return { file, sink };
}

/** How often a file output's path is checked for rotation or deletion. */
const MOVED_CHECK_MS = 1000;

/** Rotation noticed without a stat per tick: `movedAway` looks at the path at most once a second. */
export class RotationCheck {
  private checkedAt = Date.now();

  due(f: OpenFile): boolean {
    const now = Date.now();
    if (now - this.checkedAt < MOVED_CHECK_MS) return false;
    this.checkedAt = now;
    return movedAway(f);
  }
}

/** Whether the path no longer names the open file (rotated away, deleted, replaced). */
export function movedAway(f: OpenFile): boolean {
  let st: { dev: bigint; ino: bigint } | undefined;
  try {
    st = statSync(f.path, { bigint: true, throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  return st === undefined || st.dev !== f.dev || st.ino !== f.ino;
}

/** Ends a file sink (writing what it holds) and closes its descriptor; never throws or rejects. */
export function closeLogFile(sink: FileSink, fd: number): void {
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
