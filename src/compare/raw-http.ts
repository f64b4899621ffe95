/**
 * Raw HTTP/1.x messages as bytes (`curl -i` output, GoReplay payloads): the
 * head split into fields, and the body with its transfer framing removed
 * (RFC 9112 §6–7), so what the compare engine sees is the message content
 * whatever way it travelled. Content codings (gzip, br, …) are undone later,
 * by `normalizeMessage` in http-message.ts, for every input alike.
 */
import type { HttpMessage } from "./http-message.ts";

const CRLFCRLF = [13, 10, 13, 10];
const latin1 = new TextDecoder("latin1");

/** The first index of `seq` in `bytes` at or after `from`; -1 when absent. */
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
  const lines = latin1.decode(bytes.subarray(start, end)).split(/\r?\n/);
  return { lines, bodyStart: Math.min(bytes.length, end + sepLen) };
}

/** Header fields of head lines (the start line excluded); a line without a colon is skipped. */
export function fieldsOf(lines: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k] as string;
    const i = line.indexOf(":");
    if (i > 0) out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}

/** One line ending at CRLF or LF from `from`: its text (latin-1) and where the next line starts; undefined at the end. */
function lineAt(bytes: Uint8Array, from: number): { text: string; next: number } | undefined {
  const lf = bytes.indexOf(10, from);
  if (lf < 0) return undefined;
  const end = lf > from && bytes[lf - 1] === 13 ? lf - 1 : lf;
  return { text: latin1.decode(bytes.subarray(from, end)), next: lf + 1 };
}

const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/;

/**
 * Removes chunked framing (RFC 9112 §7.1): chunk sizes with their extensions,
 * the last chunk, and the trailer section, whose fields are returned apart.
 * Undefined unless the bytes are one complete, well-formed chunked body — in
 * particular when a tool already removed the framing (curl writes a chunked
 * response's body de-chunked, under its `Transfer-Encoding: chunked` header).
 */
export function dechunk(bytes: Uint8Array): { body: Uint8Array; trailers: [string, string][] } | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  let i = 0;
  for (;;) {
    const sizeLine = lineAt(bytes, i);
    const m = sizeLine && CHUNK_SIZE.exec(sizeLine.text);
    if (!sizeLine || !m) return undefined;
    const size = Number.parseInt(m[1] as string, 16);
    i = sizeLine.next;
    if (size === 0) break;
    if (i + size > bytes.length) return undefined;
    parts.push(bytes.subarray(i, i + size));
    total += size;
    i += size;
    // chunk-data CRLF (a bare LF is tolerated)
    if (bytes[i] === 13 && bytes[i + 1] === 10) i += 2;
    else if (bytes[i] === 10) i += 1;
    else return undefined;
  }
  const trailers: [string, string][] = [];
  for (;;) {
    const line = lineAt(bytes, i);
    if (!line) {
      // The final CRLF is missing: accept only when nothing at all follows the last chunk (a common truncation).
      if (i === bytes.length) break;
      return undefined;
    }
    i = line.next;
    if (line.text === "") break;
    const c = line.text.indexOf(":");
    if (c <= 0) return undefined;
    trailers.push([line.text.slice(0, c).trim(), line.text.slice(c + 1).trim()]);
  }
  if (i !== bytes.length) return undefined;
  const body = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return { body, trailers };
}

/** True when a Transfer-Encoding value ends in "chunked" (RFC 9112 §6.3: then chunked framing delimits the body). */
export function isChunked(transferEncoding: string | undefined): boolean {
  return transferEncoding !== undefined && /(?:^|,)\s*chunked\s*$/i.test(transferEncoding);
}

/**
 * The body of a message from the bytes after its head, per its framing:
 * chunked bodies are de-chunked (when they are still framed, see `dechunk`);
 * a Content-Length body and a close-delimited body are the bytes as they are
 * (a recording holds one message, and `curl --compressed` writes more bytes
 * than the Content-Length it shows). Transfer-Encoding and Trailer fields are
 * dropped once the framing is removed; trailer fields are not kept.
 */
export function unframe(headers: [string, string][], bytes: Uint8Array): { headers: [string, string][]; body: Uint8Array } {
  let te: string | undefined;
  for (const [k, v] of headers) if (k.toLowerCase() === "transfer-encoding") te = te === undefined ? v : `${te}, ${v}`;
  if (!isChunked(te)) return { headers, body: bytes };
  const plain = dechunk(bytes);
  const kept = headers.filter(([k]) => {
    const n = k.toLowerCase();
    return n !== "transfer-encoding" && n !== "trailer";
  });
  return { headers: kept, body: plain ? plain.body : bytes };
}

const STATUS_LINE = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/;

/** True when the bytes start like an HTTP response ("HTTP/1.1 200 OK"). */
export function looksLikeHttp(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && latin1.decode(bytes.subarray(0, 5)) === "HTTP/";
}

/**
 * Parses a raw HTTP/1.x response as `curl -i` writes it or GoReplay records
 * it. Interim blocks (1xx, a proxy's "200 Connection established") are
 * skipped: the last header block before the body wins. Bare-LF line endings
 * are accepted. The body comes without transfer framing (see `unframe`).
 */
export function parseRawHttp(bytes: Uint8Array): HttpMessage {
  let start = 0;
  for (;;) {
    const { lines, bodyStart } = splitHead(bytes, start);
    const status = Number(STATUS_LINE.exec(lines[0] ?? "")?.[1] ?? 0);
    const next = latin1.decode(bytes.subarray(bodyStart, bodyStart + 5));
    if (next === "HTTP/" && (status < 200 || /connection established/i.test(lines[0] ?? ""))) {
      start = bodyStart;
      continue;
    }
    return { status, ...unframe(fieldsOf(lines), bytes.subarray(bodyStart)) };
  }
}
