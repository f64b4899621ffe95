/**
 * Response heads written straight into bytes for the server's hot path: the
 * status line and the handler's fields are checked and copied in one pass
 * (a name must be a token, a value field-vchar / SP / HTAB without
 * surrounding whitespace, a reason phrase the same: no CR, LF or NUL can
 * split a message), into a buffer with room for the framing and Connection
 * lines decided later and, for a small Content-Length body, the body itself.
 *
 * Why bytes and not the strings of serialize.ts: measured with wrk on a
 * hello-world server, building a head string and handing it to
 * `socket.write` cost about 1 µs per response more than copying the same
 * characters into a small Uint8Array (Bun encodes and copies the string
 * again). A view of a large buffer is slow to write too, so every buffer
 * written here is sized to its message.
 */
import { FIELD_VALUE } from "./chars.ts";
import { putFields } from "./serialize.ts";

/**
 * Bytes kept after the fields for what the server adds: a framing line (at
 * most "content-length: " + 16 digits + CRLF = 34), a Connection line (at
 * most "connection: keep-alive\r\n" = 24), the final CRLF, and a last chunk
 * "0\r\n\r\n" when a chunked response ends at once.
 */
export const HEAD_ROOM = 34 + 24 + 2 + 5;

function bad(what: string, s: string): never {
  throw new TypeError(`http1: invalid ${what} ${JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s)}`);
}

/** Bytes of the status line and field lines of a head (the strings are checked when copied). */
export function headSize(reason: string, fields: readonly string[]): number {
  if (fields.length % 2 !== 0) throw new TypeError("http1: fields must be a flat [name, value, …] list");
  let size = 15 + reason.length; // "HTTP/1.1 200 " + reason + CRLF
  for (let i = 0; i < fields.length; i++) size += fields[i]!.length + 2; // ": " or CRLF
  return size;
}

/**
 * Writes "HTTP/1.1 status reason\r\n" and "name: value\r\n" for each field
 * into `out` from 0; returns the index after them. Throws a TypeError on a
 * character that may not be there.
 */
export function encodeHead(out: Uint8Array, status: number, reason: string, fields: readonly string[]): number {
  out[0] = 0x48; // H
  out[1] = 0x54; // T
  out[2] = 0x54; // T
  out[3] = 0x50; // P
  out[4] = 0x2f; // /
  out[5] = 0x31; // 1
  out[6] = 0x2e; // .
  out[7] = 0x31; // 1
  out[8] = 0x20;
  out[9] = 0x30 + ((status / 100) | 0);
  out[10] = 0x30 + (((status / 10) | 0) % 10);
  out[11] = 0x30 + (status % 10);
  out[12] = 0x20;
  let at = 13;
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] !== 1) bad("reason phrase", reason);
    out[at++] = c;
  }
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  return putFields(out, at, fields);
}

/** Copies an ASCII string of our own (no checks); returns the index after it. */
export function putAscii(out: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
  return at;
}

/** Digits of a safe integer ≥ 0 in `radix` (10 or 16). */
export function digits(n: number, radix: number): number {
  let d = 1;
  while (n >= radix) {
    n = Math.floor(n / radix);
    d++;
  }
  return d;
}

const HEX_DIGITS = "0123456789abcdef";

/** Writes `n` (a safe integer ≥ 0) in `radix` (10 or 16); returns the index after it. */
export function putNumber(out: Uint8Array, at: number, n: number, radix: number): number {
  const end = at + digits(n, radix);
  let i = end;
  do {
    const d = n % radix;
    out[--i] = HEX_DIGITS.charCodeAt(d);
    n = (n - d) / radix;
  } while (n > 0);
  return end;
}
