/**
 * Recording live traffic (`ficus record start|stop`): per route, a sampled
 * share of the requests legacy serves is captured with its response and
 * written as Ficus JSON Lines (the format `ficus replay` reads).
 *
 * The data plane only decides (an accumulator, so any fraction is exact over
 * time) and hands the captured parts to a bounded queue; redaction,
 * serialization and the disk happen in the writer loop. When the queue is
 * full the exchange is dropped and counted: recording never slows serving.
 * Each process writes its own files; a session ends by itself once it has
 * written `max` exchanges.
 */
import { decodeContent } from "../compare/index.ts";
import type { FicusConfig } from "../config/schema.ts";
import { contentTypeOf, type Redactor } from "../migration/redact.ts";
import { HOP_BY_HOP } from "../pipeline/fields.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { encodeBody, type ExchangeLine } from "../replay/exchange.ts";
import { JsonlWriter } from "./writer.ts";

/**
 * Why an exchange was not recorded. `undecodable`: a body in a content coding Ficus cannot decode, which
 * therefore cannot be checked for secrets, is never written.
 */
export const RECORD_SKIPS = ["body_too_large", "streamed", "failed", "undecodable"] as const;
export type RecordSkip = (typeof RECORD_SKIPS)[number];

export interface RecordStart {
  readonly route: string;
  /** Fraction of the route's requests recorded, 0–1. */
  readonly sample: number;
  /** Exchanges this process records before the session ends. */
  readonly max: number;
  /** Folder of the files (default record.dir). */
  readonly dir?: string | undefined;
  readonly gzip?: boolean | undefined;
  /** Shared by the processes of one start, in file names. */
  readonly stamp: string;
}

export interface SessionStatus {
  readonly route: string;
  readonly state: "recording" | "done" | "stopped";
  readonly sample: number;
  readonly max: number;
  readonly recorded: number;
  readonly dropped: number;
  readonly skipped: Record<RecordSkip, number>;
  readonly files: readonly string[];
  readonly started: string;
}

interface Entry {
  readonly time: number;
  readonly method: string;
  readonly target: string;
  readonly requestHeaders: readonly (readonly [string, string])[];
  readonly requestBody: Uint8Array | undefined;
  readonly status: number;
  readonly responseHeaders: readonly (readonly [string, string])[];
  readonly responseBody: Uint8Array;
  readonly durationMs: number;
}


class Session {
  acc = 0;
  /** Captures started and not given up: never more than max are in the pipeline. */
  taken = 0;
  recorded = 0;
  dropped = 0;
  readonly skipped = Object.fromEntries(RECORD_SKIPS.map((r) => [r, 0])) as Record<RecordSkip, number>;
  state: SessionStatus["state"] = "recording";
  private writeFailed = false;
  private readonly queue: Entry[] = [];
  /** Body bytes held by `queue`, bounded by record.queue_bytes. */
  private queuedBytes = 0;
  private pumping: Promise<void> | undefined;
  readonly writer: JsonlWriter;
  readonly started = new Date().toISOString();

  constructor(
    readonly cmd: RecordStart,
    private readonly redactor: Redactor,
    private readonly settings: FicusConfig["record"],
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    workerIndex: number,
  ) {
    this.writer = new JsonlWriter(cmd.dir ?? settings.dir, `${cmd.route}-${cmd.stamp}-w${workerIndex}`, settings.max_file_size, cmd.gzip === true);
  }

  get maxBody(): number {
    return this.settings.max_body;
  }

  skip(reason: RecordSkip): void {
    this.taken--;
    this.skipped[reason]++;
    this.metrics.recordExchanges.inc({ route: this.cmd.route, result: "skipped" });
  }

  enqueue(e: Entry): void {
    if (this.state !== "recording") return;
    const bytes = (e.requestBody?.byteLength ?? 0) + e.responseBody.byteLength;
    if (this.queue.length >= this.settings.queue || this.queuedBytes + bytes > this.settings.queue_bytes) {
      this.taken--;
      this.dropped++;
      this.metrics.recordExchanges.inc({ route: this.cmd.route, result: "dropped" });
      return;
    }
    this.queue.push(e);
    this.queuedBytes += bytes;
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  /** The exchange as a JSON line, or undefined when a body cannot be decoded (and so cannot be redacted). */
  private line(e: Entry): string | undefined {
    // Bodies are stored decoded, both ways, so redaction and comparison see what the encoding hid
    // (regression: a gzip request body was written with its secrets inside).
    const request = decodedSide(e.requestBody, e.requestHeaders);
    const response = decodedSide(e.responseBody, e.responseHeaders);
    if (request === undefined || response === undefined) return undefined;
    const responseHeaders = response.headers;
    const decoded = response.body;
    const r = this.redactor;
    const headers = (h: readonly (readonly [string, string])[]) => r.fields(h.filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
    const line: ExchangeLine = {
      v: 1,
      time: new Date(e.time).toISOString(),
      route: this.cmd.route,
      request: { method: e.method, url: r.url(e.target), headers: headers(request.headers), ...encodeBody(r.recordedBody(request.body, contentTypeOf(request.headers))) },
      response: {
        status: e.status,
        headers: headers(responseHeaders),
        ...encodeBody(r.recordedBody(decoded, contentTypeOf(responseHeaders))),
        duration_ms: Math.round(e.durationMs * 1000) / 1000,
      },
    };
    return JSON.stringify(line);
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && this.state === "recording") {
      const e = this.queue.shift() as Entry;
      this.queuedBytes -= (e.requestBody?.byteLength ?? 0) + e.responseBody.byteLength;
      try {
        const line = this.line(e);
        if (line === undefined) {
          this.skip("undecodable");
          continue;
        }
        await this.writer.write(line);
        this.recorded++;
        this.metrics.recordExchanges.inc({ route: this.cmd.route, result: "recorded" });
      } catch (err) {
        this.taken--;
        this.dropped++;
        this.metrics.recordExchanges.inc({ route: this.cmd.route, result: "dropped" });
        // Logged once per session; the count keeps going up in status and metrics.
        if (!this.writeFailed) this.logger.error("recording write failed; exchanges are dropped until it works", { route: this.cmd.route, error: err });
        this.writeFailed = true;
      }
      if (this.recorded >= this.cmd.max) await this.end("done");
    }
  }

  async end(state: "done" | "stopped"): Promise<void> {
    if (this.state !== "recording") return;
    if (state === "stopped") await this.pumping; // what was captured before the stop is written
    this.state = state;
    this.queue.length = 0;
    this.queuedBytes = 0;
    await this.writer.close();
    this.logger.info("recording ended", { route: this.cmd.route, state, recorded: this.recorded, dropped: this.dropped, files: this.writer.files });
  }

  status(): SessionStatus {
    const { route, sample, max } = this.cmd;
    return { route, state: this.state, sample, max, recorded: this.recorded, dropped: this.dropped, skipped: { ...this.skipped }, files: [...this.writer.files], started: this.started };
  }
}

/**
 * A body with its Content-Encoding undone (and Content-Encoding/Content-Length dropped from its fields, which
 * described the encoded bytes); undefined when the coding cannot be decoded.
 */
function decodedSide(body: Uint8Array | undefined, fields: readonly (readonly [string, string])[]): { body: Uint8Array | undefined; headers: readonly (readonly [string, string])[] } | undefined {
  const encoding = fields.find(([k]) => k.toLowerCase() === "content-encoding")?.[1];
  if (encoding === undefined || body === undefined || body.byteLength === 0) return { body, headers: fields };
  const decoded = decodeContent(body, encoding);
  if (decoded === undefined) return undefined;
  return { body: decoded, headers: fields.filter(([k]) => !["content-encoding", "content-length"].includes(k.toLowerCase())) };
}

/** One captured request, waiting for its response. */
export class Capture {
  private settled = false;
  private readonly t0 = performance.now();
  private readonly time = Date.now();

  constructor(
    private readonly session: Session,
    private readonly method: string,
    private readonly requestHeaders: readonly (readonly [string, string])[],
  ) {}

  /** The request body, read whole by the proxy (none for a bodiless request). */
  requestBody: Uint8Array | undefined;
  /** The path and query sent to legacy (after the route's rewrite), set by the proxy. */
  target = "/";

  /** The served response, read whole. */
  complete(status: number, headers: Headers, body: ArrayBuffer): void {
    if (this.settled) return;
    this.settled = true;
    const s = this.session;
    if (body.byteLength > s.maxBody) return s.skip("body_too_large");
    s.enqueue({
      time: this.time,
      method: this.method,
      target: this.target,
      requestHeaders: this.requestHeaders,
      requestBody: this.requestBody,
      status,
      responseHeaders: [...headers],
      responseBody: new Uint8Array(body),
      durationMs: performance.now() - this.t0,
    });
  }

  /** No whole response to record (streamed or failed). */
  skip(reason: RecordSkip): void {
    if (this.settled) return;
    this.settled = true;
    this.session.skip(reason);
  }
}

export class TrafficRecorder {
  private readonly sessions = new Map<string, Session>();
  /** Fast check for the data plane. */
  active = false;

  constructor(
    private settings: FicusConfig["record"],
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly workerIndex: number,
  ) {}

  reconfigure(settings: FicusConfig["record"]): void {
    this.settings = settings;
  }

  /** Starts (or restarts) recording a route, hiding what `redactor` hides; a running session of the route ends first. */
  async start(cmd: RecordStart, redactor: Redactor): Promise<SessionStatus> {
    await this.sessions.get(cmd.route)?.end("stopped");
    const session = new Session(cmd, redactor, this.settings, this.metrics, this.logger, this.workerIndex);
    this.sessions.set(cmd.route, session);
    this.active = true;
    this.logger.info("recording started", { route: cmd.route, sample: cmd.sample, max: cmd.max, dir: cmd.dir ?? this.settings.dir });
    return session.status();
  }

  /** Stops one route's session, or all; what was captured before is written. */
  async stop(route?: string): Promise<SessionStatus[]> {
    const ended: SessionStatus[] = [];
    for (const [name, s] of this.sessions) {
      if (route !== undefined && name !== route) continue;
      await s.end("stopped");
      ended.push(s.status());
    }
    this.refreshActive();
    return ended;
  }

  status(): SessionStatus[] {
    this.refreshActive();
    return [...this.sessions.values()].map((s) => s.status());
  }

  private refreshActive(): void {
    this.active = [...this.sessions.values()].some((s) => s.state === "recording");
  }

  /**
   * Whether to record this request (called per request while any session
   * runs). Undefined when not; a request whose body cannot be read whole
   * within max_body is counted and not recorded.
   */
  capture(route: string, method: string, headers: Headers, contentLength: number, unsizedBody: boolean): Capture | undefined {
    const s = this.sessions.get(route);
    if (!s || s.state !== "recording") return undefined;
    if (s.taken >= s.cmd.max) return undefined;
    s.acc += s.cmd.sample;
    if (s.acc < 1) return undefined;
    s.acc -= 1;
    s.taken++;
    if (unsizedBody || contentLength > this.settings.max_body) {
      s.skip("body_too_large");
      return undefined;
    }
    return new Capture(s, method, [...headers]);
  }

  async close(): Promise<void> {
    await this.stop();
  }
}

/** What the admin API asks of each process. */
export type RecordCommand = { readonly action: "start"; readonly start: RecordStart } | { readonly action: "stop"; readonly route?: string | undefined } | { readonly action: "status" };

/** One status per route from the statuses of several processes: counts summed, files listed together. */
export function mergeStatuses(lists: readonly (readonly SessionStatus[])[]): SessionStatus[] {
  const byRoute = new Map<string, SessionStatus[]>();
  for (const list of lists) for (const s of list) byRoute.set(s.route, [...(byRoute.get(s.route) ?? []), s]);
  return [...byRoute.values()].map((all) => {
    const first = all[0] as SessionStatus;
    const skipped = Object.fromEntries(RECORD_SKIPS.map((r) => [r, all.reduce((n, s) => n + s.skipped[r], 0)])) as Record<RecordSkip, number>;
    const state = all.some((s) => s.state === "recording") ? "recording" : all.every((s) => s.state === "done") ? "done" : "stopped";
    return {
      route: first.route,
      state,
      sample: first.sample,
      max: all.reduce((n, s) => n + s.max, 0),
      recorded: all.reduce((n, s) => n + s.recorded, 0),
      dropped: all.reduce((n, s) => n + s.dropped, 0),
      skipped,
      files: all.flatMap((s) => s.files).sort(),
      started: all.map((s) => s.started).sort()[0] as string,
    };
  });
}
