/**
 * Bodies in motion: the one contract between the connection layer (server and
 * client sockets) and whatever sits above it. A body is pushed chunk by chunk
 * from a `BodySource` into a `BodySink`, with backpressure: a sink that cannot
 * take more returns false, the source pauses (its socket stops reading), and
 * the consumer resumes it when it can. Nothing here buffers a whole body.
 *
 * `BodyTarget` is the writing side (a response to a client, a request to an
 * upstream): `write` returns false once the socket's buffer is full, and
 * `onDrain` is called when it has room again. `pipeBody` joins the two.
 */

/** Why a body did not arrive whole. `code` is stable; `reason` is for people. */
export interface BodyError {
  /**
   * - `closed`: the peer closed the connection (or reset it) before the body ended
   * - `timeout`: no byte within the body's idle timeout
   * - `cancelled`: the consumer cancelled it
   * - a chunked-coding error code (`bad_chunk_size`, …) from ChunkedDecoder
   */
  readonly code: string;
  readonly reason: string;
}

export interface BodySink {
  /**
   * One piece of the body. The view may be reused by the source after the
   * call returns: copy it to keep it. Return `false` to pause the source
   * until `resume()` (returning nothing or `true` keeps it flowing).
   */
  onData(chunk: Uint8Array): boolean | undefined;
  /** The body ended whole; `trailers` is the flat trailer list of a chunked body (empty when none). */
  onEnd(trailers: readonly string[]): void;
  /** The body was cut. Called at most once, and never after `onEnd`. */
  onError(error: BodyError): void;
}

export interface BodySource {
  /** The length announced by Content-Length, or -1 when unknown (chunked, close-delimited, a tunnel). */
  readonly length: number;
  /** Starts delivery to `sink`; once per source. Bytes that arrived before are delivered first. */
  start(sink: BodySink): void;
  /** Stops delivery until `resume()` (the socket behind it stops reading). */
  pause(): void;
  resume(): void;
  /**
   * The consumer does not want the rest. The source stops delivering and
   * frees what it holds; for a socket, the connection is not reused for
   * another message unless the body had already ended. The sink gets no
   * further call.
   */
  cancel(): void;
}

export interface BodyTarget {
  /** Sends a piece. Returns false when the socket's buffer is full: wait for `onDrain` before writing more. */
  write(chunk: Uint8Array): boolean;
  /** Ends the body (a chunked body sends its last chunk and `trailers`). */
  end(trailers?: readonly string[]): void;
  /** Cuts the body: the peer must be able to tell it is incomplete (the connection is closed, never ended cleanly). */
  abort(error: BodyError): void;
  /** Called each time the socket has room again after `write` returned false. */
  onDrain: (() => void) | undefined;
}

/**
 * Pipes a source into a target with backpressure both ways. `done` is called
 * once: with no argument when the body ended and the target was ended, or
 * with the error after the target was aborted. `onChunk` sees every piece
 * (counting, tapping) before it is written.
 */
export function pipeBody(
  source: BodySource,
  target: BodyTarget,
  done: (error?: BodyError) => void,
  onChunk?: (chunk: Uint8Array) => void,
): void {
  target.onDrain = () => source.resume();
  source.start({
    onData(chunk) {
      onChunk?.(chunk);
      return target.write(chunk);
    },
    onEnd(trailers) {
      target.onDrain = undefined;
      target.end(trailers);
      done();
    },
    onError(error) {
      target.onDrain = undefined;
      target.abort(error);
      done(error);
    },
  });
}

/**
 * Reads a whole body into one buffer. Rejects with the BodyError when the body
 * is cut, or with `{ code: "too_large" }` (after cancelling the source) once
 * more than `max` bytes have come.
 */
export function readBody(source: BodySource, max = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    source.start({
      onData(chunk) {
        size += chunk.byteLength;
        if (size > max) {
          source.cancel();
          reject({ code: "too_large", reason: `the body is larger than ${max} bytes` } satisfies BodyError);
          return false;
        }
        parts.push(chunk.slice());
        return true;
      },
      onEnd() {
        if (parts.length === 1) return resolve(parts[0] as Uint8Array);
        const out = new Uint8Array(size);
        let at = 0;
        for (const p of parts) {
          out.set(p, at);
          at += p.byteLength;
        }
        resolve(out);
      },
      onError: reject,
    });
  });
}

/** Joins pieces into one new buffer of exactly `size` bytes (its `.buffer` holds nothing else). */
export function concatBytes(parts: readonly Uint8Array[], size = parts.reduce((n, p) => n + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * A body already in memory, in one or more pieces, as a BodySource: for a
 * message that did not come from a socket (an internal request), or an
 * answer assembled from shared buffers without copying them (a cached list
 * between a per-request prefix and suffix). Honours backpressure between
 * pieces; the pieces must not change while it is delivered.
 */
export class MemoryBody implements BodySource {
  readonly length: number;
  private sink: BodySink | undefined;
  private next = 0;
  private paused = false;
  private done = false;

  constructor(private readonly pieces: readonly Uint8Array[]) {
    let n = 0;
    for (const p of pieces) n += p.byteLength;
    this.length = n;
  }

  start(sink: BodySink): void {
    this.sink = sink;
    this.flush();
  }

  private flush(): void {
    const sink = this.sink;
    if (sink === undefined) return;
    while (!this.done && !this.paused && this.next < this.pieces.length) {
      const p = this.pieces[this.next++] as Uint8Array;
      if (p.byteLength > 0 && sink.onData(p) === false) this.paused = true;
    }
    if (!this.done && this.next >= this.pieces.length) {
      this.done = true;
      sink.onEnd([]);
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  cancel(): void {
    this.done = true;
  }
}
