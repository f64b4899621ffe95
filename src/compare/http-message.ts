/**
 * HTTP responses as the compare engine sees them. Every input — a `curl -i`
 * file, a GoReplay payload, a HAR entry, a Ficus recording, a live answer —
 * becomes an HttpMessage whose body has no transfer framing (raw-http.ts does
 * that for raw bytes); `normalizeMessage` then undoes content codings and
 * drops the fields that only describe how the bytes travelled, so two answers
 * that differ only in framing or compression compare equal. Nothing here
 * throws on a broken body: an undecodable body is compared as bytes.
 */
import * as zlib from "node:zlib";
import { type JsonValue, parseJson } from "./json-value.ts";

export interface HttpMessage {
  /** Absent when the input was a bare document. */
  readonly status?: number | undefined;
  /** Header fields in order; names as received. Absent when the input was a bare document. */
  readonly headers?: readonly (readonly [string, string])[] | undefined;
  /** The content: transfer framing removed, content codings as `Content-Encoding` says. */
  readonly body: Uint8Array;
}

/** A message after `normalizeMessage`: the body is the payload, the fields those worth comparing. */
export interface NormalizedMessage extends HttpMessage {
  /** Why the declared Content-Encoding could not be undone (the body is then the bytes as received, and the field is kept). */
  readonly codingError?: string | undefined;
  /** True when the coding was not undone because the payload is larger than decodedLimit allows (a decompression bomb): such bodies cannot be compared. */
  readonly overLimit?: boolean | undefined;
}

export type DecodedBody =
  | { readonly kind: "json"; readonly value: JsonValue }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "binary"; readonly bytes: Uint8Array; readonly note?: string };

/** A field's value in a list of fields (repeated fields joined by ", "); undefined when absent. */
export function headerIn(headers: readonly (readonly [string, string])[] | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  let out: string | undefined;
  for (const [k, v] of headers) if (k.length === lower.length && k.toLowerCase() === lower) out = out === undefined ? v : `${out}, ${v}`;
  return out;
}

export function headerValue(msg: HttpMessage, name: string): string | undefined {
  return headerIn(msg.headers, name);
}

/**
 * Decoded bodies are capped, so a decompression bomb (a few KB of gzip that
 * expand to gigabytes) is never allocated in full on the event loop: a body may
 * decode to DECODED_MAX_RATIO times its encoded size, at least
 * DECODED_MIN_LIMIT and at most DECODED_MAX_BYTES (zlib's maxOutputLength
 * stops the decoder there). Real JSON and text compress 5–20×.
 */
export const DECODED_MAX_RATIO = 64;
export const DECODED_MIN_LIMIT = 1024 * 1024;
export const DECODED_MAX_BYTES = 64 * 1024 * 1024;

/** The most bytes a body of `encodedLength` bytes may decode to. */
export function decodedLimit(encodedLength: number): number {
  return Math.min(DECODED_MAX_BYTES, Math.max(DECODED_MIN_LIMIT, DECODED_MAX_RATIO * encodedLength));
}

/** decodeContentWithin's answer for a body whose payload is larger than the limit. */
export const OVER_LIMIT: unique symbol = Symbol("decoded body over the limit");

type Decoder = (bytes: Uint8Array, options: { maxOutputLength: number }) => Uint8Array;
const zstd = (zlib as unknown as { zstdDecompressSync?: Decoder }).zstdDecompressSync;

/** Node's (and Bun's) error when maxOutputLength is reached. */
function isOverLimit(err: unknown): boolean {
  return err instanceof RangeError && (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
}

/** Content codings undone (RFC 9110 §8.4.1); zstd where the runtime has it (Bun, Node ≥ 22.15). */
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: zlib.gunzipSync,
  "x-gzip": zlib.gunzipSync,
  br: zlib.brotliDecompressSync,
  // "deflate" is zlib-wrapped by the RFC, raw in some servers: accept both.
  deflate: (b, options) => {
    try {
      return zlib.inflateSync(b, options);
    } catch (err) {
      if (isOverLimit(err)) throw err;
      return zlib.inflateRawSync(b, options);
    }
  },
  ...(zstd ? { zstd } : {}),
};

/**
 * Undoes Content-Encoding (several codings in reverse order of application),
 * each step stopped at `limit` bytes of output: OVER_LIMIT past it (nothing
 * larger is allocated), undefined when a coding is unknown or the bytes are not
 * in it.
 */
export function decodeContentWithin(body: Uint8Array, encoding: string | undefined, limit: number): Uint8Array | typeof OVER_LIMIT | undefined {
  if (!encoding || body.length === 0) return body;
  const codings = encoding.toLowerCase().split(",");
  const options = { maxOutputLength: limit };
  let out: Uint8Array = body;
  try {
    for (let i = codings.length - 1; i >= 0; i--) {
      const c = (codings[i] as string).trim();
      if (c === "" || c === "identity") continue;
      const decode = DECODERS[c];
      if (!decode) return undefined;
      out = decode(out, options);
    }
  } catch (err) {
    return isOverLimit(err) ? OVER_LIMIT : undefined;
  }
  return out;
}

/** Undoes Content-Encoding; undefined when it fails or the payload is larger than decodedLimit allows. */
export function decodeContent(body: Uint8Array, encoding: string | undefined): Uint8Array | undefined {
  const out = decodeContentWithin(body, encoding, decodedLimit(body.length));
  return out === OVER_LIMIT ? undefined : out;
}

/** Fields about how the bytes travelled, never compared once the body is the payload. */
const FRAMING = new Set(["transfer-encoding", "content-length", "trailer"]);

/**
 * The message as compared: the body with its content codings undone, and the
 * fields without Transfer-Encoding, Content-Length, Trailer and (once undone)
 * Content-Encoding. When the coding cannot be undone, the body stays as it is
 * and Content-Encoding stays among the fields — then it is a difference —
 * unless `mayBeDecoded` says the body may already be decoded under a header
 * that still names the coding (HAR files, `curl --compressed`): then the body
 * is taken as the payload.
 */
export function normalizeMessage(msg: HttpMessage, opts: { readonly mayBeDecoded?: boolean } = {}): NormalizedMessage {
  const headers = msg.headers;
  if (!headers) return msg;
  let coding: string | undefined;
  let drop = false;
  for (const [k, v] of headers) {
    const n = k.toLowerCase();
    if (n === "content-encoding") coding = coding === undefined ? v : `${coding}, ${v}`;
    else if (FRAMING.has(n)) drop = true;
  }
  if (coding === undefined && !drop) return msg;
  let body = msg.body;
  let codingError: string | undefined;
  let overLimit: true | undefined;
  if (coding !== undefined) {
    const limit = decodedLimit(body.length);
    const decoded = decodeContentWithin(body, coding, limit);
    if (decoded === OVER_LIMIT) {
      // Decodable but too large: really coded (whatever mayBeDecoded says), and never decoded in full.
      codingError = `content encoding ${JSON.stringify(coding)} decodes to more than ${limit} bytes (the limit for ${body.length} bytes received: ${DECODED_MAX_RATIO}×, 1 MiB to 64 MiB)`;
      overLimit = true;
    } else if (decoded) body = decoded;
    else if (!opts.mayBeDecoded) codingError = `content encoding ${JSON.stringify(coding)} could not be decoded`;
  }
  const keepCoding = codingError !== undefined;
  const kept = headers.filter(([k]) => {
    const n = k.toLowerCase();
    return !FRAMING.has(n) && (keepCoding || n !== "content-encoding");
  });
  return { status: msg.status, headers: kept, body, codingError, overLimit };
}

const BINARY_TYPE = /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-tar|x-protobuf|protobuf|grpc|wasm|vnd\.)/i;
const JSON_TYPE = /json/i;
const LOOKS_JSON = /^\s*[[{"\-\d]|^\s*(true|false|null)\s*$/;
const CHARSET = /charset\s*=\s*"?([^";\s]+)/i;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const decoders = new Map<string, TextDecoder>([["utf-8", UTF8]]);

function decoderFor(contentType: string | undefined): TextDecoder {
  const m = contentType === undefined ? null : CHARSET.exec(contentType);
  if (!m) return UTF8;
  const label = (m[1] as string).toLowerCase();
  let d = decoders.get(label);
  if (!d) {
    try {
      d = new TextDecoder(label as ConstructorParameters<typeof TextDecoder>[0], { fatal: true });
    } catch {
      d = UTF8;
    }
    decoders.set(label, d);
  }
  return d;
}

/** A payload's text, and whether to try it as JSON; undefined when it is binary (by type, or not valid in its charset). */
export function payloadText(body: Uint8Array, contentType: string | undefined): { text: string; json: boolean } | undefined {
  if (contentType !== undefined && BINARY_TYPE.test(contentType) && !JSON_TYPE.test(contentType)) return undefined;
  let text: string;
  try {
    text = decoderFor(contentType).decode(body);
  } catch {
    return undefined;
  }
  return { text, json: (contentType !== undefined && JSON_TYPE.test(contentType)) || LOOKS_JSON.test(text) };
}

/** Decodes a message's body (normalizing it unless it is already) and decides how to compare it: JSON, text or bytes. */
export function decodeBody(message: HttpMessage | NormalizedMessage): DecodedBody {
  const msg: NormalizedMessage = "codingError" in message ? message : normalizeMessage(message);
  if (msg.codingError) return { kind: "binary", bytes: msg.body, note: msg.codingError };
  const t = payloadText(msg.body, headerValue(msg, "content-type"));
  if (!t) return { kind: "binary", bytes: msg.body };
  if (t.json) {
    const value = parseJson(t.text);
    if (value !== undefined) return { kind: "json", value };
  }
  return { kind: "text", text: t.text };
}
