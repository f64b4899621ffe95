/**
 * The recording layer (`ficus record`): while a session runs for the route, a
 * sampled share of the requests legacy serves is captured whole — request as
 * the client sent it, response as legacy sent it — by a tap, and written by
 * the TrafficRecorder off the request path.
 */
import { CopyingTap } from "../pipeline/copying-tap.ts";
import type { Exchange } from "../pipeline/exchange.ts";
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

class RecordTap extends CopyingTap {
  constructor(
    private readonly capture: Capture,
    private readonly ex: Exchange,
  ) {
    super(RECORD_BODY_MAX);
  }

  complete(): void {
    if (this.response.tooLarge) return this.capture.skip("streamed");
    this.capture.target = this.ex.upstreamTarget;
    if (this.sawRequestBody) this.capture.requestBody = this.request.bytes();
    this.capture.complete(this.status, toHeaders(this.fields), this.response.bytes().buffer as ArrayBuffer);
  }

  skip(): void {
    this.capture.skip("failed");
  }
}
