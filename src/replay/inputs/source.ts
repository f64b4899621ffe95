/**
 * Reading a recording as a stream: the file's bytes (gunzipped when it is
 * gzip, whatever its name), with a count of the file bytes consumed so far for
 * progress. Nothing here holds more than one chunk and the partial record it
 * ends in.
 */
export class ByteSource {
  /** File bytes read so far (compressed bytes for a gzip file). */
  consumed = 0;
  readonly size: number;

  constructor(readonly path: string) {
    this.size = Bun.file(path).size;
  }

  /** The content, decompressed when the file starts with the gzip magic number. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const file = Bun.file(this.path);
    const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    const gzip = head[0] === 0x1f && head[1] === 0x8b;
    const counted = file.stream().pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, ctl) => {
          this.consumed += chunk.length;
          ctl.enqueue(chunk);
        },
      }),
    );
    const stream = gzip ? counted.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>) : counted;
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value.length > 0) yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** Lines (without their line break), numbered from 1; a last line without a break is yielded too. */
  async *lines(): AsyncGenerator<{ text: string; line: number }> {
    const decoder = new TextDecoder();
    let rest = "";
    let line = 0;
    for await (const chunk of this.chunks()) {
      rest += decoder.decode(chunk, { stream: true });
      let i = rest.indexOf("\n");
      let from = 0;
      while (i >= 0) {
        line++;
        yield { text: rest.slice(from, i).replace(/\r$/, ""), line };
        from = i + 1;
        i = rest.indexOf("\n", from);
      }
      rest = rest.slice(from);
    }
    rest += decoder.decode();
    if (rest.length > 0) yield { text: rest.replace(/\r$/, ""), line: line + 1 };
  }
}
