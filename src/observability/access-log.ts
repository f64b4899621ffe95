/**
 * The access log: one JSON line per request, written through a buffered sink
 * that is flushed on a short timer, so the data plane never waits on I/O.
 * Sampling is deterministic per request id; errors (status >= 500, or
 * gateway-generated rejections) are always logged.
 *
 * A file output is opened for appending (O_APPEND): a restart keeps the lines
 * already there, and the workers of one gateway writing the same file never
 * overwrite each other's. It is reopened when its path names another file or
 * none (rotated by logrotate, or deleted), checked once a second, as nginx
 * does on USR1 and without the signal.
 */
import { closeLogFile, type OpenFile, openLogFile, openLogOutput, RotationCheck } from "./log-file.ts";
import type { FileSink } from "bun";

/** Access-log bytes held before they are handed to the sink. */
const BUFFER_BYTES = 64 * 1024;

export interface AccessLogSettings {
  readonly enabled: boolean;
  readonly sample: number;
  readonly output: string;
}

export class AccessLog {
  private sink: FileSink | undefined;
  private file: OpenFile | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private settings: AccessLogSettings;
  private counter = 0;
  private lastMs = 0;
  private lastIso = "";
  private readonly rotation = new RotationCheck();
  /**
   * Lines not yet handed to the sink, as bytes. Bun's FileSink writes at the end of every event-loop turn that wrote
   * to it, which under load is a write(2) per request (measured: a quarter of the proxy's throughput); and a line
   * built as a string, then joined and encoded, cost ~1.3 µs a request. Lines are copied into this buffer and handed
   * over when it is full, or by the 100 ms timer. Every field is ASCII: ids, route names, methods, endpoint ids,
   * addresses and codes are tokens, and the path is a request target (visible ASCII), escaped for JSON.
   */
  private buf = new Uint8Array(BUFFER_BYTES);
  private at = 0;

  constructor(settings: AccessLogSettings) {
    this.settings = settings;
    this.open();
  }

  private open(): void {
    if (!this.settings.enabled) return;
    const out = this.settings.output;
    ({ file: this.file, sink: this.sink } = openLogOutput(out, 64 * 1024));
    this.timer = setInterval(() => this.tick(), 100);
    this.timer.unref?.();
  }

  private drain(): void {
    if (this.at === 0) return;
    const full = this.buf.subarray(0, this.at);
    // The sink may hold the view until it writes: the next lines go to a new buffer.
    this.buf = new Uint8Array(BUFFER_BYTES);
    this.at = 0;
    this.sink?.write(full);
  }

  private put(s: string): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** A JSON string of ASCII: `"` and `\\` escaped, control and other characters (never in a parsed target) as \\u escapes. */
  private putJsonString(s: string): void {
    const buf = this.buf;
    let at = this.at;
    buf[at++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x22 || c === 0x5c) {
        buf[at++] = 0x5c;
        buf[at++] = c;
      } else if (c >= 0x20 && c < 0x7f) buf[at++] = c;
      else {
        const hex = c.toString(16).padStart(4, "0");
        buf[at++] = 0x5c;
        buf[at++] = 0x75;
        for (let k = 0; k < 4; k++) buf[at++] = hex.charCodeAt(k);
      }
    }
    buf[at++] = 0x22;
    this.at = at;
  }

  private tick(): void {
    this.drain();
    void this.sink?.flush();
    const f = this.file;
    if (!f) return;
    if (this.rotation.due(f)) this.reopen();
  }

  /**
   * Reopens a file output at its path (after rotation or deletion). What was
   * buffered goes to the old file first. When the path cannot be opened (its
   * folder is gone), lines keep going to the old file and it is tried again.
   */
  reopen(): void {
    const old = this.file;
    const oldSink = this.sink;
    if (!old || !oldSink) return;
    this.drain();
    try {
      [this.file, this.sink] = openLogFile(old.path, 64 * 1024);
    } catch {
      return;
    }
    closeLogFile(oldSink, old.fd);
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
   * Writes one line, copied into the buffer field by field (no string per line):
   * request ids, route names, methods, endpoint ids, client addresses and error
   * codes are validated token strings; the path is escaped.
   */
  write(
    requestId: string,
    route: string,
    method: string,
    path: string,
    status: number,
    durationMs: number,
    upstream: string,
    bytes: number,
    client: string,
    error: string | undefined,
    /** The authenticated caller (a token's sub, an API key's id), escaped: it comes from the credential. */
    subject?: string,
    /** The authorization decision (allow, deny, dry-run-deny, error), when the route has authz. */
    decision?: string,
    /** On an MCP endpoint: the MCP method and the tool called (escaped: they come from the client). */
    mcp?: { readonly method: string; readonly tool: string | undefined },
  ): void {
    if (this.sink === undefined) return;
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastIso = new Date(now).toISOString();
    }
    // Room for the line: the fixed text and numbers, the fields, and the path at its longest escaped (6 bytes a character).
    const room = 240 + requestId.length + route.length + method.length + path.length * 6 + upstream.length + client.length + (error?.length ?? 0) + (subject?.length ?? 0) * 6 + (decision?.length ?? 0) + (mcp === undefined ? 0 : 40 + (mcp.method.length + (mcp.tool?.length ?? 0)) * 6);
    if (this.at + room > this.buf.length) {
      this.drain();
      if (room > this.buf.length) this.buf = new Uint8Array(room);
    }
    this.put('{"time":"');
    this.put(this.lastIso);
    this.put('","request_id":"');
    this.put(requestId);
    this.put('","route":"');
    this.put(route);
    this.put('","method":"');
    this.put(method);
    this.put('","path":');
    this.putJsonString(path);
    this.put(',"status":');
    this.put(String(status));
    this.put(',"duration_ms":');
    this.put(String(Math.round(durationMs * 1000) / 1000));
    this.put(',"upstream":"');
    this.put(upstream);
    this.put('","bytes":');
    this.put(String(bytes));
    this.put(',"client":"');
    this.put(client);
    if (error) {
      this.put('","error":"');
      this.put(error);
    }
    this.put('"');
    if (subject) {
      this.put(',"subject":');
      this.putJsonString(subject);
    }
    if (decision) {
      this.put(',"decision":"');
      this.put(decision);
      this.put('"');
    }
    if (mcp !== undefined) {
      this.put(',"mcp_method":');
      this.putJsonString(mcp.method);
      if (mcp.tool !== undefined) {
        this.put(',"mcp_tool":');
        this.putJsonString(mcp.tool);
      }
    }
    this.put("}\n");
  }

  flush(): void {
    this.drain();
    void this.sink?.flush();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const file = this.file;
    this.drain();
    if (this.sink) {
      void this.sink.flush();
      if (file) closeLogFile(this.sink, file.fd);
    }
    this.sink = undefined;
    this.file = undefined;
  }
}
