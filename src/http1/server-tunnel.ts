/**
 * The byte tunnel a server connection becomes after a 101 (or a 2xx to
 * CONNECT): the client's bytes as a BodySource (what arrived after the
 * request head first), and a BodyTarget that writes raw bytes back. A FIN
 * from the client ends the source; ending the target sends ours; when both
 * are done the connection closes.
 */
import type { BodyError, BodySink, BodySource, BodyTarget } from "./body.ts";
import type { Connection } from "./server-connection.ts";

const NO_TRAILERS: readonly string[] = Object.freeze([]);
const CLOSED: BodyError = Object.freeze({ code: "closed", reason: "the client closed the tunnel abruptly" });

export class Tunnel implements BodySource, BodyTarget {
  readonly conn: Connection;
  readonly length = -1;
  onDrain: (() => void) | undefined = undefined;
  sink: BodySink | undefined = undefined;
  started = false;
  paused = false;
  cancelled = false;
  /** The client's FIN came; delivered as onEnd once what is queued went out. */
  peerEnded = false;
  /** onEnd or onError delivered. */
  sourceDone = false;
  writeEnded = false;
  needDrain = false;
  closed = false;
  flushing = false;
  pending: Uint8Array[] | undefined = undefined;
  pendingBytes = 0;

  constructor(conn: Connection, first: Uint8Array | undefined) {
    this.conn = conn;
    if (first !== undefined && first.byteLength > 0) {
      this.pending = [first];
      this.pendingBytes = first.byteLength;
    }
  }

  /** Whether the socket should be read. */
  wantsInput(): boolean {
    if (this.cancelled) return true;
    if (!this.started) return this.pendingBytes < this.conn.server.maxPipelined;
    return !this.paused;
  }

  onData(d: Uint8Array): void {
    if (this.cancelled || this.sourceDone) return;
    if (!this.started || this.paused || this.pending !== undefined || this.flushing) {
      (this.pending ??= []).push(d);
      this.pendingBytes += d.byteLength;
      this.conn.updateReading();
      return;
    }
    this.push(d);
  }

  push(d: Uint8Array): void {
    let more: boolean | undefined;
    try {
      more = this.sink!.onData(d);
    } catch (error) {
      this.conn.server.onError(error, "body");
      this.conn.destroy("closed");
      return;
    }
    if (more === false) this.pause();
  }

  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.started && !this.paused && !this.cancelled && this.pending !== undefined) {
        const d = this.pending.shift()!;
        this.pendingBytes -= d.byteLength;
        if (this.pending.length === 0) this.pending = undefined;
        this.push(d);
      }
    } finally {
      this.flushing = false;
    }
    if (this.peerEnded && this.pending === undefined && this.started && !this.paused) this.endSource();
    if (!this.closed) this.conn.updateReading();
  }

  endSource(): void {
    if (this.sourceDone || this.cancelled) return;
    this.sourceDone = true;
    const sink = this.sink!;
    this.sink = undefined;
    try {
      sink.onEnd(NO_TRAILERS);
    } catch (error) {
      this.conn.server.onError(error, "body");
    }
    if (this.writeEnded && this.conn.outBytes === 0 && !this.closed) this.conn.end();
  }

  onPeerEnd(): void {
    this.peerEnded = true;
    if (this.cancelled) {
      if (this.writeEnded) this.conn.end();
      return;
    }
    if (this.started && !this.paused && this.pending === undefined) this.endSource();
  }

  /** The socket is gone. */
  onClosed(error: Error | undefined): void {
    this.closed = true;
    if (this.sourceDone || this.cancelled) return;
    if (error === undefined && this.writeEnded && this.started && !this.paused && this.pending === undefined) {
      // After our FIN, Bun reports the client's FIN as a clean close (no `end` event).
      this.endSource();
      return;
    }
    this.sourceDone = true;
    this.pending = undefined;
    const sink = this.sink;
    this.sink = undefined;
    if (sink === undefined) return;
    try {
      sink.onError(CLOSED);
    } catch (error) {
      this.conn.server.onError(error, "body");
    }
  }

  drained(): void {
    if (this.writeEnded) {
      this.conn.socket.shutdown();
      if (this.peerEnded) this.conn.end();
      return;
    }
    if (!this.needDrain) return;
    this.needDrain = false;
    try {
      this.onDrain?.();
    } catch (error) {
      this.conn.server.onError(error, "handler");
    }
  }

  // ---- BodySource: the client's bytes ----

  start(sink: BodySink): void {
    if (this.started) throw new Error("http1 server: the tunnel source was already started");
    this.started = true;
    this.sink = sink;
    if (this.closed) {
      this.sourceDone = true;
      sink.onError(CLOSED);
      return;
    }
    this.flush();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (!this.closed) this.conn.updateReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
  }

  cancel(): void {
    this.cancelled = true;
    this.sink = undefined;
    this.pending = undefined;
    this.pendingBytes = 0;
    if (!this.closed) this.conn.updateReading();
  }

  // ---- BodyTarget: bytes to the client ----

  write(chunk: Uint8Array): boolean {
    if (this.closed || this.writeEnded) return false;
    if (chunk.byteLength === 0) return this.conn.outBytes === 0;
    const ok = this.conn.send(chunk);
    if (!ok) this.needDrain = true;
    return ok;
  }

  end(): void {
    if (this.closed || this.writeEnded) return;
    this.writeEnded = true;
    if (this.conn.outBytes > 0) return; // drained() sends the FIN
    if (this.sourceDone || this.cancelled || this.peerEnded) this.conn.end();
    else this.conn.socket.shutdown();
  }

  abort(_error: BodyError): void {
    if (this.closed) return;
    this.conn.destroy("closed");
  }
}
