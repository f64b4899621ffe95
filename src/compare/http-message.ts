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

type Decoder = (bytes: Uint8Array) => Uint8Array;
const zstd = (zlib as unknown as { zstdDecompressSync?: Decoder }).zstdDecompressSync;

/** Content codings undone (RFC 9110 §8.4.1); zstd where the runtime has it (Bun, Node ≥ 22.15). */
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: zlib.gunzipSync,
  "x-gzip": zlib.gunzipSync,
  br: zlib.brotliDecompressSync,
  // "deflate" is zlib-wrapped by the RFC, raw in some servers: accept both.
  deflate: (b) => {
    try {
      return zlib.inflateSync(b);
    } catch {
      return zlib.inflateRawSync(b);
    }
  },
  ...(zstd ? { zstd } : {}),
};

/** Undoes Content-Encoding (several codings in reverse order of application). Undefined when it fails. */
export function decodeContent(body: Uint8Array, encoding: string | undefined): Uint8Array | undefined {
  if (!encoding || body.length === 0) return body;
  const codings = encoding.toLowerCase().split(",");
  let out: Uint8Array = body;
  try {
    for (let i = codings.length - 1; i >= 0; i--) {
      const c = (codings[i] as string).trim();
      if (c === "" || c === "identity") continue;
      const decode = DECODERS[c];
      if (!decode) return undefined;
      out = decode(out);
    }
  } catch {
    return undefined;
  }
  return out;
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
  if (coding !== undefined) {
    const decoded = decodeContent(body, coding);
    if (decoded) body = decoded;
    else if (!opts.mayBeDecoded) codingError = `content encoding ${JSON.stringify(coding)} could not be decoded`;
  }
  const keepCoding = codingError !== undefined;
  const kept = headers.filter(([k]) => {
    const n = k.toLowerCase();
    return !FRAMING.has(n) && (keepCoding || n !== "content-encoding");
  });
  return { status: msg.status, headers: kept, body, codingError };
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
