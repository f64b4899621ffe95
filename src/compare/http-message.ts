/**
 * HTTP responses as the compare engine sees them: parsed from `curl -i`
 * output (or built by the proxy), bodies decoded per Content-Encoding and
 * charset, then classified as JSON, text or binary. Nothing here throws on a
 * broken body: an undecodable body is compared as bytes.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { type JsonValue, parseJson } from "./json-value.ts";

export interface HttpMessage {
  /** Absent when the input was a bare document. */
  readonly status?: number | undefined;
  /** Header fields in order; names as received. Absent when the input was a bare document. */
  readonly headers?: readonly (readonly [string, string])[] | undefined;
  readonly body: Uint8Array;
}

export type DecodedBody =
  | { readonly kind: "json"; readonly value: JsonValue }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "binary"; readonly bytes: Uint8Array; readonly note?: string };

const CRLFCRLF = [13, 10, 13, 10];

export function indexOfSeq(bytes: Uint8Array, seq: readonly number[], from: number): number {
  const first = seq[0] as number;
  for (let i = bytes.indexOf(first, from); i >= 0 && i + seq.length <= bytes.length; i = bytes.indexOf(first, i + 1)) {
    let j = 1;
    while (j < seq.length && bytes[i + j] === seq[j]) j++;
    if (j === seq.length) return i;
  }
  return -1;
}

/**
 * The header block of a raw HTTP/1.x message starting at `start`: its lines
 * (start line first) and where the body begins. CRLF or bare-LF endings; a
 * message without a blank line is all head.
 */
export function splitHead(bytes: Uint8Array, start: number): { lines: string[]; bodyStart: number } {
  let end = indexOfSeq(bytes, CRLFCRLF, start);
  let sepLen = 4;
  const lf = indexOfSeq(bytes, [10, 10], start);
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    sepLen = 2;
  }
  if (end < 0) {
    end = bytes.length;
    sepLen = 0;
  }
  const lines = new TextDecoder("latin1").decode(bytes.subarray(start, end)).split(/\r?\n/);
  return { lines, bodyStart: Math.min(bytes.length, end + sepLen) };
}

const STATUS_LINE = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/;

/** True when the bytes start like an HTTP response ("HTTP/1.1 200 OK"). */
export function looksLikeHttp(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && new TextDecoder().decode(bytes.subarray(0, 9)).startsWith("HTTP/");
}

/**
 * Parses a raw HTTP/1.x response as `curl -i` writes it. Interim blocks (1xx,
 * a proxy's "200 Connection established") are skipped: the last header block
 * before the body wins. Bare-LF line endings are accepted.
 */
export function parseRawHttp(bytes: Uint8Array): HttpMessage {
  let start = 0;
  for (;;) {
    const { lines, bodyStart } = splitHead(bytes, start);
    const status = Number(STATUS_LINE.exec(lines[0] ?? "")?.[1] ?? 0);
    const next = new TextDecoder("latin1").decode(bytes.subarray(bodyStart, bodyStart + 5));
    if (next === "HTTP/" && (status < 200 || /connection established/i.test(lines[0] ?? ""))) {
      start = bodyStart;
      continue;
    }
    const headers: [string, string][] = [];
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
    return { status, headers, body: bytes.subarray(bodyStart) };
  }
}

/** A header field's value in a list of fields (repeated fields joined by ", "); undefined when absent. */
export function headerIn(headers: readonly (readonly [string, string])[] | undefined, name: string): string | undefined {
  const lower = name.toLowerCase();
  const values = (headers ?? []).filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
  return values.length > 0 ? values.join(", ") : undefined;
}

export function headerValue(msg: HttpMessage, name: string): string | undefined {
  return headerIn(msg.headers, name);
}

/** Undoes Content-Encoding (gzip, deflate, br; several codings in reverse order). Undefined when it fails. */
export function decodeContent(body: Uint8Array, encoding: string | undefined): Uint8Array | undefined {
  if (!encoding || body.length === 0) return body;
  let out: Uint8Array = body;
  const codings = encoding
    .toLowerCase()
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "" && c !== "identity");
  try {
    for (const c of codings.reverse()) {
      if (c === "gzip" || c === "x-gzip") out = gunzipSync(out);
      else if (c === "br") out = brotliDecompressSync(out);
      else if (c === "deflate") {
        // "deflate" is zlib-wrapped by the RFC, raw in some servers: accept both.
        try {
          out = inflateSync(out);
        } catch {
          out = inflateRawSync(out);
        }
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return out;
}

const BINARY_TYPE = /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-tar|x-protobuf|protobuf|grpc|wasm|vnd\.)/i;

function charsetOf(contentType: string | undefined): string {
  const m = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "");
  return m ? (m[1] as string).toLowerCase() : "utf-8";
}

/** Decodes a body and decides how to compare it: JSON, text or bytes. */
export function decodeBody(msg: HttpMessage): DecodedBody {
  const contentType = headerValue(msg, "content-type");
  const decoded = decodeContent(msg.body, headerValue(msg, "content-encoding"));
  if (!decoded) return { kind: "binary", bytes: msg.body, note: "content encoding could not be decoded" };
  if (contentType && BINARY_TYPE.test(contentType) && !/json/i.test(contentType)) return { kind: "binary", bytes: decoded };
  let text: string;
  try {
    let decoder: TextDecoder;
    try {
      decoder = new TextDecoder(charsetOf(contentType) as ConstructorParameters<typeof TextDecoder>[0], { fatal: true });
    } catch {
      decoder = new TextDecoder("utf-8", { fatal: true });
    }
    text = decoder.decode(decoded);
  } catch {
    return { kind: "binary", bytes: decoded };
  }
  const looksJson = /json/i.test(contentType ?? "") || /^\s*[[{"\-\d]|^\s*(true|false|null)\s*$/.test(text);
  if (looksJson) {
    const value = parseJson(text);
    if (value !== undefined) return { kind: "json", value };
  }
  return { kind: "text", text };
}
