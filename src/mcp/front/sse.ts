/**
 * A Server-Sent Events body the gateway writes as things happen (progress, a
 * request for the client, the result; list changes on a GET stream). It is a
 * BodySource like an upstream's body, so the front writes it with the same
 * backpressure: events wait in a bounded queue while the client reads slowly,
 * and a client that stops reading for good is cut once the queue is full
 * (the call it was waiting for is cancelled through `onCancel`).
 */
import type { BodySink, BodySource } from "../../http1/body.ts";

const ENCODER = new TextEncoder();
/** Bytes of events kept for a client that is not reading; past it the stream is cut. */
const MAX_QUEUED = 8 * 1024 * 1024;

export class SseBody implements BodySource {
  readonly length = -1;
  private sink: BodySink | undefined;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private paused = false;
  private ended = false;
  private endSent = false;
  /** Set when the stream ended because the client went away or could not keep up. */
  cancelled = false;
  private nextId = 0;
  /** Called once when the client went away (or was cut): stop what feeds the stream. */
  onCancel: (() => void) | undefined;

  /** A prefix for event ids (a stream id), so a client can tell which stream an event came on. */
  constructor(private readonly idPrefix = "") {}

  /** Sends one JSON-RPC message as an event. Returns false when the stream is gone. */
  message(json: string): boolean {
    return this.push(ENCODER.encode(`id: ${this.idPrefix}${this.nextId++}\nevent: message\ndata: ${json}\n\n`));
  }

  /** A comment line, to keep idle connections (and the proxies between) from timing out. */
  comment(text: string): boolean {
    return this.push(ENCODER.encode(`: ${text}\n\n`));
  }

  /** Raw SSE text (a retry field, a priming event). */
  raw(text: string): boolean {
    return this.push(ENCODER.encode(text));
  }

  private push(chunk: Uint8Array): boolean {
    if (this.ended) return false;
    const sink = this.sink;
    if (sink !== undefined && !this.paused && this.queue.length === 0) {
      if (sink.onData(chunk) === false) this.paused = true;
      return true;
    }
    this.queue.push(chunk);
    this.queued += chunk.byteLength;
    if (this.queued > MAX_QUEUED) {
      this.fail("the client did not read the event stream");
      return false;
    }
    return true;
  }

  /** Ends the stream cleanly (after the last event). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
  }

  private fail(reason: string): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.ended = true;
    const sink = this.sink;
    this.queue = [];
    this.queued = 0;
    sink?.onError({ code: "cancelled", reason });
    this.onCancel?.();
  }

  start(sink: BodySink): void {
    this.sink = sink;
    this.flush();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  private flush(): void {
    const sink = this.sink;
    if (sink === undefined) return;
    while (this.queue.length > 0 && !this.paused) {
      const c = this.queue.shift() as Uint8Array;
      this.queued -= c.byteLength;
      if (sink.onData(c) === false) this.paused = true;
    }
    if (this.queue.length === 0 && this.ended && !this.cancelled && !this.endSent) {
      this.endSent = true;
      sink.onEnd([]);
    }
  }

  /** The consumer (the front) does not want more: the client went away. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.ended = true;
    this.queue = [];
    this.queued = 0;
    this.onCancel?.();
  }
}
