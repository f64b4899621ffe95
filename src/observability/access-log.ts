/**
 * The access log: one JSON line per request, written through a buffered sink
 * that is flushed on a short timer, so the data plane never waits on I/O.
 * Sampling is deterministic per request id; errors (status >= 500, or
 * gateway-generated rejections) are always logged.
 */
import type { FileSink } from "bun";

export interface AccessLogSettings {
  readonly enabled: boolean;
  readonly sample: number;
  readonly output: string;
}

export class AccessLog {
  private sink: FileSink | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private settings: AccessLogSettings;
  private counter = 0;
  private lastMs = 0;
  private lastIso = "";

  constructor(settings: AccessLogSettings) {
    this.settings = settings;
    this.open();
  }

  private open(): void {
    if (!this.settings.enabled) return;
    const out = this.settings.output;
    const file = out === "stdout" ? Bun.stdout : out === "stderr" ? Bun.stderr : Bun.file(out);
    this.sink = file.writer({ highWaterMark: 64 * 1024 });
    this.timer = setInterval(() => void this.sink?.flush(), 100);
    this.timer.unref?.();
  }

  /** Applies new settings (hot reload); reopens the output only if it changed. */
  reconfigure(settings: AccessLogSettings): void {
    const reopen = settings.enabled !== this.settings.enabled || settings.output !== this.settings.output;
    if (reopen) this.close();
    this.settings = settings;
    if (reopen) this.open();
  }

  /** True when this request should be logged (cheap; call before building the record). */
  wants(status: number): boolean {
    if (!this.sink) return false;
    const s = this.settings.sample;
    if (s >= 1 || status >= 500) return true;
    if (s <= 0) return false;
    // Deterministic sampling: every k-th request, k = 1/s.
    this.counter++;
    return this.counter % Math.max(1, Math.round(1 / s)) === 0;
  }

  /**
   * Writes one line. Built by hand rather than with JSON.stringify of an object
   * (measured: a third of the access log's cost): request ids, route names,
   * methods, endpoint ids, client addresses and error codes are validated token
   * strings; the path, which may hold any byte the parser let through, is escaped.
   */
  write(requestId: string, route: string, method: string, path: string, status: number, durationMs: number, upstream: string, bytes: number, client: string, error: string | undefined): void {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastIso = new Date(now).toISOString();
    }
    this.sink?.write(
      `{"time":"${this.lastIso}","request_id":"${requestId}","route":"${route}","method":"${method}","path":${JSON.stringify(path)},"status":${status},"duration_ms":${Math.round(durationMs * 1000) / 1000},"upstream":"${upstream}","bytes":${bytes},"client":"${client}"${error ? `,"error":"${error}"` : ""}}\n`,
    );
  }

  flush(): void {
    void this.sink?.flush();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.sink) {
      void this.sink.flush();
      if (this.settings.output !== "stdout" && this.settings.output !== "stderr") void this.sink.end();
    }
    this.sink = undefined;
  }
}
