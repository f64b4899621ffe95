/**
 * The response side of an upstream exchange as the pipeline sees it: the
 * response body (or a tunnel's incoming bytes) as a `BodySource`, and a
 * tunnel's outgoing side as a `BodyTarget`.
 *
 * The connection decodes bytes as they arrive and hands the body its pieces
 * (`deliver`), then `complete` or `fail`. The body passes them to its sink
 * while it flows and queues them (views, no copies: each socket read is a
 * fresh buffer) while it is paused or not started; the connection stops
 * reading from the socket as soon as the body is blocked, so the queue holds
 * at most what one read brought. Once every byte has arrived the body lets go
 * of the connection (which may already serve another request) and drains its
 * queue at the consumer's pace.
 */
import type { BodyError, BodySink, BodySource, BodyTarget } from "./body.ts";

/** What a body needs from its connection while bytes are still arriving. */
export interface BodyOwner {
  /** The consumer is not taking bytes: stop reading from the socket (and the body idle timer). */
  pauseReading(): void;
  /** The consumer takes bytes again. */
  resumeReading(): void;
  /** The consumer does not want the rest: the connection is destroyed. */
  cancelBody(): void;
}

const WAITING = 0; // not started
const FLOWING = 1;
const PAUSED = 2;
const ENDED = 3;
const FAILED = 4;
const CANCELLED = 5;

const NO_TRAILERS: readonly string[] = Object.freeze([]);

/** A response body (or a tunnel's incoming side) fed by an upstream connection. */
export class ResponseBody implements BodySource {
  readonly length: number;
  /** The connection while bytes are still to come; null once they all came (or it failed). */
  owner: BodyOwner | null;
  #sink: BodySink | null = null;
  #state = WAITING;
  #queue: Uint8Array[] | null = null;
  #trailers: readonly string[] | null = null;
  #error: BodyError | null = null;
  #flushing = false;

  constructor(owner: BodyOwner, length: number) {
    this.owner = owner;
    this.length = length;
  }

  /** Whether the body takes no bytes now (not started, paused, or behind on its queue): the socket should not be read. */
  get blocked(): boolean {
    return this.#state !== FLOWING || (this.#queue !== null && this.#queue.length > 0);
  }

  /** Whether the consumer has seen the end (or an error, or cancelled). */
  get finished(): boolean {
    return this.#state >= ENDED;
  }

  /** A piece of the body, from the connection. */
  deliver(view: Uint8Array): void {
    const state = this.#state;
    if (state === FLOWING && (this.#queue === null || this.#queue.length === 0)) {
      if ((this.#sink as BodySink).onData(view) === false && this.#state === FLOWING) this.#state = PAUSED;
    } else if (state < ENDED) {
      (this.#queue ??= []).push(view);
    }
  }

  /** Every byte has arrived; the consumer gets `onEnd` after the queued pieces. */
  complete(trailers: readonly string[] = NO_TRAILERS): void {
    this.owner = null;
    if (this.#state >= ENDED || this.#trailers !== null || this.#error !== null) return;
    this.#trailers = trailers;
    this.#flush();
  }

  /** The body was cut (closed, timed out, malformed); the consumer gets `onError` after the queued pieces. */
  fail(error: BodyError): void {
    this.owner = null;
    if (this.#state >= ENDED || this.#trailers !== null || this.#error !== null) return;
    this.#error = error;
    this.#flush();
  }

  /** Ends it at once (the exchange was aborted): queued pieces are dropped, the sink gets `onError` now. */
  abort(error: BodyError): void {
    this.owner = null;
    const state = this.#state;
    if (state >= ENDED) return;
    this.#queue = null;
    this.#state = FAILED;
    const sink = this.#sink;
    this.#sink = null;
    if (sink !== null) sink.onError(error);
    else this.#error = error; // told at start()
  }

  start(sink: BodySink): void {
    if (this.#state !== WAITING) {
      if (this.#state === FAILED && this.#sink === null && this.#error !== null) {
        // Aborted before it was started.
        const error = this.#error;
        this.#error = null;
        sink.onError(error);
        return;
      }
      throw new Error("http1: a body can be started once");
    }
    this.#sink = sink;
    this.#state = FLOWING;
    this.#flush();
    if (this.#state === FLOWING && !this.blocked) this.owner?.resumeReading();
  }

  pause(): void {
    if (this.#state !== FLOWING) return;
    this.#state = PAUSED;
    this.owner?.pauseReading();
  }

  resume(): void {
    if (this.#state !== PAUSED) return;
    this.#state = FLOWING;
    this.#flush();
    if (this.#state === FLOWING && !this.blocked) this.owner?.resumeReading();
  }

  cancel(): void {
    const state = this.#state;
    if (state >= ENDED) return;
    this.#state = CANCELLED;
    this.#sink = null;
    this.#queue = null;
    const owner = this.owner;
    this.owner = null;
    owner?.cancelBody();
  }

  /** Delivers queued pieces while the sink takes them, then the end or the error. */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const queue = this.#queue;
      if (queue !== null) {
        while (this.#state === FLOWING && queue.length > 0) {
          const view = queue.shift() as Uint8Array;
          if ((this.#sink as BodySink).onData(view) === false && this.#state === FLOWING) this.#state = PAUSED;
        }
      }
      if (this.#state !== FLOWING || (queue !== null && queue.length > 0)) return;
      const sink = this.#sink as BodySink;
      if (this.#trailers !== null) {
        this.#state = ENDED;
        this.#sink = null;
        sink.onEnd(this.#trailers);
      } else if (this.#error !== null) {
        this.#state = FAILED;
        this.#sink = null;
        sink.onError(this.#error);
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/** What a tunnel's outgoing side needs from its connection. */
export interface TunnelOwner {
  /** Writes (queues what the socket did not take); false when the socket is full. */
  tunnelWrite(chunk: Uint8Array): boolean;
  /** Half-closes: sends FIN once the queue is written; the incoming side stays open. */
  tunnelEnd(): void;
  /** Closes the connection at once. */
  tunnelAbort(): void;
}

/** The outgoing side of a tunnel (after 101 Switching Protocols, or a 2xx to CONNECT). */
export class TunnelTarget implements BodyTarget {
  onDrain: (() => void) | undefined = undefined;
  #owner: TunnelOwner | null;

  constructor(owner: TunnelOwner) {
    this.#owner = owner;
  }

  write(chunk: Uint8Array): boolean {
    return this.#owner === null ? false : this.#owner.tunnelWrite(chunk);
  }

  end(): void {
    const owner = this.#owner;
    this.#owner = null;
    owner?.tunnelEnd();
  }

  abort(_error: BodyError): void {
    const owner = this.#owner;
    this.#owner = null;
    owner?.tunnelAbort();
  }

  /** @internal The connection closed: writes are dropped from now on. */
  detach(): void {
    this.#owner = null;
  }
}
