/**
 * Resumable event streams for 2025-era sessions (2025-11-25 and later,
 * SEP-1699). The event stream answering a call starts with a priming event
 * (an id, a retry delay, no data); every message on it has an id. When the
 * connection breaks, the call goes on: its events are kept, and the client
 * that reconnects with GET and `Last-Event-ID` gets the ones it missed, then
 * the rest as they come, on the new connection. Only a
 * notifications/cancelled (or the call's timeout) stops a call.
 *
 * Streams live in the process that holds the call (the call itself is
 * there), bounded in number and in bytes kept; one that ended is kept a
 * minute for a late reconnection. A reconnection that reaches another
 * replica, or names an event no longer kept, is refused with 400, and the
 * client sends its request again.
 */
import type { SseBody } from "./sse.ts";

/** How long a client waits before reconnecting (the retry field of the priming event), ms. */
export const RETRY_MS = 1000;
const KEEP_ENDED_MS = 60_000;
const MAX_STREAMS = 4096;
/** Bytes of events kept per stream for a reconnection; older ones are dropped first. */
const MAX_KEPT_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 15_000;

let streamSeq = 0;
const PROCESS_TAG = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

export class ResumableStream {
  readonly id: string;
  private kept: { seq: number; frame: string }[] = [];
  private keptBytes = 0;
  private nextSeq = 1;
  private sink: SseBody | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  ended = false;
  endedAt = 0;

  constructor(readonly session: string) {
    this.id = `${PROCESS_TAG}-${++streamSeq}`;
  }

  /** Starts the first connection: the priming event, then whatever comes. */
  open(sse: SseBody): void {
    sse.raw(`id: ${this.id}.0\nretry: ${RETRY_MS}\ndata: \n\n`);
    this.attach(sse, 0);
  }

  /** A (re)connection: the events after `after` are sent, then the new ones as they come. */
  attach(sse: SseBody, after: number): boolean {
    if (this.kept.length > 0 && (this.kept[0] as { seq: number }).seq > after + 1) return false; // some were dropped
    // A reconnection replaces the connection the client left behind.
    const old = this.sink;
    this.detach();
    old?.end();
    for (const e of this.kept) if (e.seq > after) sse.raw(e.frame);
    if (this.ended) {
      sse.end();
      return true;
    }
    this.sink = sse;
    this.keepalive = setInterval(() => sse.comment("keep-alive"), KEEPALIVE_MS);
    sse.onCancel = () => {
      if (this.sink === sse) this.detach();
    };
    return true;
  }

  private detach(): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    this.keepalive = undefined;
    this.sink = undefined;
  }

  /** Sends one JSON-RPC message, kept for a reconnection. */
  message(json: string): void {
    if (this.ended) return;
    const seq = this.nextSeq++;
    const frame = `id: ${this.id}.${seq}\nevent: message\ndata: ${json}\n\n`;
    this.kept.push({ seq, frame });
    this.keptBytes += frame.length;
    while (this.keptBytes > MAX_KEPT_BYTES && this.kept.length > 1) this.keptBytes -= (this.kept.shift() as { frame: string }).frame.length;
    if (this.sink !== undefined && !this.sink.raw(frame)) this.detach();
  }

  /** The call is over: the connection (if any) ends after the last event. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.endedAt = Date.now();
    const sink = this.sink;
    this.detach();
    sink?.end();
  }

  /** Whether a client is connected to it now. */
  get connected(): boolean {
    return this.sink !== undefined;
  }
}

/** The resumable streams of this process, by id. */
export class StreamStore {
  private readonly streams = new Map<string, ResumableStream>();

  create(session: string): ResumableStream {
    if (this.streams.size >= MAX_STREAMS) this.sweep(true);
    const s = new ResumableStream(session);
    this.streams.set(s.id, s);
    return s;
  }

  /** The stream and position a Last-Event-ID names, if it is kept here and belongs to the session. */
  find(lastEventId: string, session: string): { stream: ResumableStream; after: number } | undefined {
    this.sweep(false);
    const dot = lastEventId.lastIndexOf(".");
    if (dot < 0) return undefined;
    const stream = this.streams.get(lastEventId.slice(0, dot));
    const after = Number(lastEventId.slice(dot + 1));
    if (stream === undefined || stream.session !== session || !Number.isSafeInteger(after) || after < 0) return undefined;
    return { stream, after };
  }

  private sweep(full: boolean): void {
    const now = Date.now();
    for (const [id, s] of this.streams) {
      if (s.ended && (full || now - s.endedAt > KEEP_ENDED_MS)) this.streams.delete(id);
    }
    if (full && this.streams.size >= MAX_STREAMS) {
      // Still full of calls in flight: forget the oldest (their clients can no longer reconnect).
      const first = this.streams.keys().next().value;
      if (first !== undefined) this.streams.delete(first);
    }
  }
}
