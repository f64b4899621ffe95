/**
 * The recording layer (`ficus record`): while a session runs for the route, a
 * sampled share of the requests legacy serves is captured whole — request as
 * the client sent it, response as legacy sent it — by a tap, and written by
 * the TrafficRecorder off the request path.
 */
import { concatBytes } from "../http1/body.ts";
import type { Exchange, Tap } from "../pipeline/exchange.ts";
import { toHeaders } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { Capture, TrafficRecorder } from "./recorder.ts";

/** Responses larger than this are not recorded (skipped as streamed). */
const RECORD_BODY_MAX = 256 * 1024;

export class RecordLayer implements Layer {
  readonly name = "record";
  /** Set the first time a recording starts. */
  recorder: TrafficRecorder | undefined;

  request(ex: Exchange): undefined {
    const recorder = this.recorder;
    if (recorder === undefined || !recorder.active || ex.side !== "legacy" || ex.route === undefined) return undefined;
    const body = ex.body;
    const capture = recorder.capture(ex.route.name, ex.method, toHeaders(ex.fields), body === undefined ? 0 : body.length, body !== undefined && body.length < 0);
    if (capture !== undefined) ex.tap(new RecordTap(capture, ex));
    return undefined;
  }
}

class RecordTap implements Tap {
  private requestParts: Uint8Array[] | undefined;
  private status = 0;
  private fields: readonly string[] = [];
  private parts: Uint8Array[] = [];
  private size = 0;
  private tooLarge = false;

  constructor(
    private readonly capture: Capture,
    private readonly ex: Exchange,
  ) {}

  requestBody(chunk: Uint8Array): void {
    (this.requestParts ??= []).push(chunk.slice());
  }

  responseHead(status: number, fields: readonly string[]): void {
    this.status = status;
    this.fields = fields.slice();
  }

  responseBody(chunk: Uint8Array): void {
    if (this.tooLarge) return;
    this.size += chunk.byteLength;
    if (this.size > RECORD_BODY_MAX) {
      this.tooLarge = true;
      this.parts = [];
      return;
    }
    this.parts.push(chunk.slice());
  }

  complete(): void {
    if (this.tooLarge) return this.capture.skip("streamed");
    this.capture.target = this.ex.upstreamTarget;
    if (this.requestParts !== undefined) this.capture.requestBody = concatBytes(this.requestParts);
    this.capture.complete(this.status, toHeaders(this.fields), concatBytes(this.parts, this.size).buffer as ArrayBuffer);
  }

  skip(): void {
    this.capture.skip("failed");
  }
}
