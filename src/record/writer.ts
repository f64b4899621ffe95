/**
 * Writes a recording as JSON Lines files, one after another: a file is closed
 * and the next opened once `maxFileSize` bytes (of lines, before compression)
 * are in it; with gzip each file is a complete gzip stream. Writes wait when
 * the disk is slower than the lines come (the caller's queue absorbs it).
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createGzip, type Gzip } from "node:zlib";

export class JsonlWriter {
  readonly files: string[] = [];
  private out: { file: WriteStream; gzip: Gzip | undefined; bytes: number } | undefined;
  private seq = 0;

  constructor(
    private readonly dir: string,
    /** File names are `${prefix}-0001.jsonl[.gz]`, … */
    private readonly prefix: string,
    private readonly maxFileSize: number,
    private readonly gzip: boolean,
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
    this.out = { file, gzip, bytes: 0 };
    return this.out;
  }

  /** Appends one line; resolves when the stream can take more. */
  async write(line: string): Promise<void> {
    let out = this.out;
    if (out && out.bytes > 0 && out.bytes + line.length + 1 > this.maxFileSize) {
      await this.closeCurrent();
      out = undefined;
    }
    out ??= this.open();
    const data = `${line}\n`;
    out.bytes += Buffer.byteLength(data);
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
