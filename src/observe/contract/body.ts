/**
 * Which observed bodies contract inference learns from: the caller hands the
 * payload (already de-chunked and decoded) and its Content-Type; a JSON body
 * within the size bound is parsed and learned from, anything else is counted
 * by why it was skipped (empty, too_large, binary, non_json, invalid,
 * too_complex) so the dashboard can say how much of the traffic the contract
 * rests on.
 *
 * JSON is recognized by its media type (`application/json`, any `+json`
 * suffix, RFC 6839 §3.1) or, when no Content-Type was sent, by its first
 * non-blank character. Text is UTF-8 (RFC 8259 §8.1); a leading BOM is
 * ignored.
 */
import type { ContractLearner, SampleVerdict } from "./infer.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Media types whose payload is not text, whatever their bytes are. */
const BINARY = /^(?:image|audio|video|font)\/|^application\/(?:octet-stream|pdf|zip|gzip|x-tar|x-7z-compressed|vnd\.|protobuf|x-protobuf|grpc|msgpack|x-msgpack|cbor|wasm)/;

/** The media type of a Content-Type field value: lowercased, without parameters (RFC 9110 §8.3.1). */
export function mediaTypeOf(contentType: string | null | undefined): string | undefined {
  if (contentType === null || contentType === undefined) return undefined;
  const semi = contentType.indexOf(";");
  const t = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return t === "" ? undefined : t;
}

/** True for a JSON media type: application/json or a +json structured suffix. */
export function isJsonMediaType(t: string): boolean {
  return t === "application/json" || t.endsWith("+json") || t === "text/json";
}

function firstNonBlank(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
      // A UTF-8 BOM.
      if (c === 0xef && b[i + 1] === 0xbb && b[i + 2] === 0xbf) {
        i += 2;
        continue;
      }
      return c;
    }
  }
  return -1;
}

/**
 * Learns from one body if it is JSON, or counts why not. `body` is the payload
 * (bytes or text); `contentType` the message's Content-Type field, if any.
 */
export function observeBody(learner: ContractLearner, body: Uint8Array | string | null | undefined, contentType?: string | null): SampleVerdict {
  const size = body === null || body === undefined ? 0 : typeof body === "string" ? body.length : body.byteLength;
  if (size === 0) return learner.count("empty");
  if (size > learner.limits.maxBodyBytes) return learner.count("too_large");
  const declared = mediaTypeOf(contentType);
  let media: string;
  if (declared !== undefined) {
    if (BINARY.test(declared)) return learner.count("binary");
    if (!isJsonMediaType(declared)) return learner.count(typeof body === "string" || isUtf8(body as Uint8Array) ? "non_json" : "binary");
    media = declared;
  } else {
    const c = typeof body === "string" ? body.trimStart().replace(/^\uFEFF/, "").charCodeAt(0) : firstNonBlank(body as Uint8Array);
    if (c !== 0x7b && c !== 0x5b) return learner.count(typeof body === "string" || isUtf8(body as Uint8Array) ? "non_json" : "binary");
    media = "application/json";
  }
  let text: string;
  if (typeof body === "string") text = body;
  else {
    try {
      text = decoder.decode(body as Uint8Array);
    } catch {
      return learner.count("binary");
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    // Malformed JSON, or nesting deeper than the parser's own stack allows.
    return learner.count("invalid");
  }
  return learner.observe(value, media);
}

function isUtf8(b: Uint8Array): boolean {
  try {
    decoder.decode(b);
    return true;
  } catch {
    return false;
  }
}
