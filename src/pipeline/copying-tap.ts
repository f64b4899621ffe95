/**
 * A tap that keeps a copy of the exchange as it passes: the request body, the
 * response head as the upstream sent it, and the response body up to a
 * bound. Chunk views are reused by the engine, so each piece is copied. The
 * taps that compare (shadow) and record (ficus record) are built on it.
 */
import { concatBytes } from "../http1/body.ts";
import type { Exchange, Tap } from "./exchange.ts";

/** Body bytes kept up to a bound; past it, nothing is kept and `tooLarge` says so. */
export class BoundedCopy {
  private parts: Uint8Array[] = [];
  size = 0;
  tooLarge = false;

  constructor(private readonly max: number) {}

  push(chunk: Uint8Array): void {
    if (this.tooLarge) return;
    this.size += chunk.byteLength;
    if (this.size > this.max) {
      this.tooLarge = true;
      this.parts = [];
      return;
    }
    this.parts.push(chunk.slice());
  }

  /** The bytes, in one buffer of their exact size. */
  bytes(): Uint8Array {
    return concatBytes(this.parts, this.size);
  }
}

export abstract class CopyingTap implements Tap {
  /** The request body as forwarded (requests are bounded by the layer before it attaches the tap). */
  readonly request = new BoundedCopy(Number.MAX_SAFE_INTEGER);
  /** Set once a request body passed. */
  sawRequestBody = false;
  status = 0;
  fields: readonly string[] = [];
  readonly response: BoundedCopy;

  constructor(responseMax: number) {
    this.response = new BoundedCopy(responseMax);
  }

  requestBody(chunk: Uint8Array): void {
    this.sawRequestBody = true;
    this.request.push(chunk);
  }

  responseHead(status: number, fields: readonly string[]): void {
    this.status = status;
    this.fields = fields.slice();
  }

  responseBody(chunk: Uint8Array): void {
    this.response.push(chunk);
  }

  abstract complete(ex: Exchange): void;
  abstract skip(reason: "failed" | "streamed"): void;
}
