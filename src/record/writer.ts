/**
 * Writes a recording as JSON Lines files, one after another: a file is closed
 * and the next opened once `maxFileSize` bytes (of lines, before compression)
 * are in it; with gzip each file is a complete gzip stream. Writes wait when
 * the disk is slower than the lines come (the caller's queue absorbs it).
 * A file deleted or replaced while being written fails one write (saying how
 * many lines went with it) and the recording goes on in the next file.
 */
import { createWriteStream, fstatSync, mkdirSync, statSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createGzip, type Gzip } from "node:zlib";

interface Out {
  readonly path: string;
  readonly file: WriteStream;
  readonly gzip: Gzip | undefined;
  bytes: number;
  lines: number;
  /** The file written (device, inode), known once it is open. */
  id: { dev: number; ino: number } | undefined;
  checkedAt: number;
}

export class JsonlWriter {
  readonly files: string[] = [];
  private out: Out | undefined;
  private seq = 0;

  constructor(
    private readonly dir: string,
    /** File names are `${prefix}-0001.jsonl[.gz]`, … */
    private readonly prefix: string,
    private readonly maxFileSize: number,
    private readonly gzip: boolean,
    /** How often the current file's path is checked for deletion (ms). */
    private readonly checkEveryMs = 1000,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private open() {
    this.seq++;
    const path = join(this.dir, `${this.prefix}-${String(this.seq).padStart(4, "0")}.jsonl${this.gzip ? ".gz" : ""}`);
    const file = createWriteStream(path);
    // An error (disk full, folder removed) surfaces on the next write.
    file.on("error", () => {});
    let gzip: Gzip | undefined;
    if (this.gzip) {
      gzip = createGzip();
      gzip.pipe(file);
    }
    this.files.push(path);
    const out: Out = { path, file, gzip, bytes: 0, lines: 0, id: undefined, checkedAt: performance.now() };
    file.once("open", (fd: number) => {
      const st = fstatSync(fd);
      out.id = { dev: st.dev, ino: st.ino };
    });
    this.out = out;
    return out;
  }

  /** Whether the current file's path names another file or none (checked at most every checkEveryMs). */
  private gone(out: Out): boolean {
    const now = performance.now();
    if (!out.id || now - out.checkedAt < this.checkEveryMs) return false;
    out.checkedAt = now;
    const st = statSync(out.path, { throwIfNoEntry: false });
    return !st || st.dev !== out.id.dev || st.ino !== out.id.ino;
  }

  /** Appends one line; resolves when the stream can take more. */
  async write(line: string): Promise<void> {
    let out = this.out;
    if (out && out.bytes > 0 && out.bytes + line.length + 1 > this.maxFileSize) {
      await this.closeCurrent();
      out = undefined;
    }
    if (out && this.gone(out)) {
      // Its lines went with it: say so (the caller logs and counts), and go on in the next file.
      this.out = undefined;
      this.files.splice(this.files.indexOf(out.path), 1);
      out.gzip?.destroy();
      out.file.destroy();
      throw new Error(`the recording file ${out.path} was deleted or replaced while being written; its ${out.lines} lines are lost; recording goes on in the next file`);
    }
    out ??= this.open();
    const data = `${line}\n`;
    out.bytes += Buffer.byteLength(data);
    out.lines++;
    const sink = out.gzip ?? out.file;
    if (out.file.destroyed) throw new Error(`cannot write ${this.files.at(-1)}: the file is closed`);
    if (sink.write(data)) return;
    // Wait for room, or for the file to fail (disk full, removed): never forever.
    const file = out.file;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        sink.off("drain", onDrain);
        file.off("error", onError);
        file.off("close", onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onError = (err: Error) => done(err);
      const onClose = () => done(new Error("the recording file was closed"));
      sink.on("drain", onDrain);
      file.on("error", onError);
      file.on("close", onClose);
    });
  }

  private async closeCurrent(): Promise<void> {
    const out = this.out;
    this.out = undefined;
    if (!out) return;
    // A file that failed (or never opened) is already closed: nothing to wait for.
    if (out.file.destroyed || out.file.closed) return;
    await new Promise<void>((resolve) => {
      out.file.once("close", resolve);
      out.file.once("error", () => resolve());
      if (out.gzip) out.gzip.end();
      else out.file.end();
    });
  }

  async close(): Promise<void> {
    await this.closeCurrent();
  }
}
