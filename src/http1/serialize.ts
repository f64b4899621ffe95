/**
 * Writing HTTP/1.1 messages: request and response heads, chunk framing and
 * the last chunk with trailers (RFC 9112 §3–5, §7.1). Every name, value,
 * method, target and reason is checked on the way out, so a CR, LF or NUL
 * that slipped in cannot split a message (a TypeError: a bug in the caller).
 *
 * `requestHead` and `responseHead` give a string when the head is ASCII and
 * latin-1 bytes when a value holds obs-text (0x80–0xFF): Bun writes strings
 * as UTF-8. The hot paths write bytes built in one pass instead:
 * `requestHeadBytes` here (the upstream client) and `server-head.ts` (the
 * server). A first micro-benchmark (a 430-byte head written 100k times) had
 * the string ahead, 2.25 against 2.55 µs; through the whole gateway under
 * wrk, copying characters into one exact-size buffer was ~5% more requests/s
 * (less garbage, no encoding inside `socket.write`).
 */
import { FIELD_VALUE, TARGET, TCHAR } from "./chars.ts";

/** What socket.write takes: an ASCII string, or bytes. */
export type Wire = string | Uint8Array;

/** Reason phrases of the status codes registered by RFC 9110 §15 and companions. */
export const STATUS_REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  511: "Network Authentication Required",
});

function bad(what: string, s: string): never {
  throw new TypeError(`http1: invalid ${what} ${JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s)}`);
}

function checkToken(s: string, what: string): void {
  if (s.length === 0) bad(what, s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) bad(what, s);
  }
}

/**
 * Checks a field value or reason phrase (field-vchar, SP, HTAB; no leading or
 * trailing whitespace for values). True when it holds obs-text (non-ASCII).
 */
function checkText(s: string, what: string, trimmed: boolean): boolean {
  let high = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c > 0xff || FIELD_VALUE[c] !== 1) bad(what, s);
    if (c >= 0x80) high = true;
  }
  if (trimmed && s.length > 0) {
    const a = s.charCodeAt(0);
    const z = s.charCodeAt(s.length - 1);
    if (a === 0x20 || a === 0x09 || z === 0x20 || z === 0x09) bad(what, s);
  }
  return high;
}

/** Appends "name: value\r\n" lines for `fields` to `head`; sets `high` via the return when a value is not ASCII. */
function appendFields(head: string, fields: readonly string[], out: { high: boolean }): string {
  if (fields.length % 2 !== 0) throw new TypeError("http1: fields must be a flat [name, value, …] list");
  let s = head;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    checkToken(name, "field name");
    if (checkText(value, "field value", true)) out.high = true;
    s += `${name}: ${value}\r\n`;
  }
  return s;
}

/** The bytes of a string whose characters are all below U+0100 (latin-1). */
export function latin1Bytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** `w` as bytes: strings from this module are latin-1 text. */
export function wireBytes(w: Wire): Uint8Array {
  return typeof w === "string" ? latin1Bytes(w) : w;
}

const scratch = { high: false };

/**
 * A request head: `method target HTTP/1.x`, the fields, the empty line.
 * `fields` is flat [name, value, …]; framing fields (Content-Length,
 * Transfer-Encoding, Host) are the caller's to include.
 */
export function requestHead(method: string, target: string, fields: readonly string[], version: 0 | 1 = 1): Wire {
  checkToken(method, "method");
  if (target.length === 0) bad("request-target", target);
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c >= 128 || TARGET[c] !== 1) bad("request-target", target);
  }
  scratch.high = false;
  const s = `${appendFields(`${method} ${target} HTTP/1.${version}\r\n`, fields, scratch)}\r\n`;
  return scratch.high ? latin1Bytes(s) : s;
}

/**
 * Copies "name: value\r\n" for each field into `out` from `at`, checking
 * each character as it goes (a name must be a token; a value field-vchar,
 * SP or HTAB, without surrounding whitespace); returns the index after them.
 * `out` must have room: the sum of the lengths plus 4 a field.
 */
export function putFields(out: Uint8Array, at: number, fields: readonly string[]): number {
  for (let f = 0; f < fields.length; f += 2) {
    const name = fields[f]!;
    const value = fields[f + 1]!;
    const n = name.length;
    if (n === 0) bad("field name", name);
    for (let i = 0; i < n; i++) {
      const c = name.charCodeAt(i);
      if (c > 0x7f || TCHAR[c] !== 1) bad("field name", name);
      out[at++] = c;
    }
    out[at++] = 0x3a;
    out[at++] = 0x20;
    const m = value.length;
    if (m > 0) {
      const a = value.charCodeAt(0);
      const z = value.charCodeAt(m - 1);
      if (a === 0x20 || a === 0x09 || z === 0x20 || z === 0x09) bad("field value", value);
    }
    for (let i = 0; i < m; i++) {
      const c = value.charCodeAt(i);
      if (c > 0xff || FIELD_VALUE[c] !== 1) bad("field value", value);
      out[at++] = c;
    }
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  return at;
}

/**
 * A request head as bytes of its exact size, checked as it is copied (the same
 * rules as `requestHead`), with `extra` — lines the caller owns, such as the
 * framing, each ending in CRLF — before the empty line. Copying characters
 * into one small buffer costs less than building the head as a string and
 * having the socket encode it (measured through the gateway: see
 * docs/benchmarks.md), and obs-text needs no second pass.
 */
export function requestHeadBytes(method: string, target: string, fields: readonly string[], extra = "", version: 0 | 1 = 1): Uint8Array {
  checkToken(method, "method");
  if (target.length === 0) bad("request-target", target);
  if (fields.length % 2 !== 0) throw new TypeError("http1: fields must be a flat [name, value, …] list");
  let size = method.length + 1 + target.length + 11 + extra.length + 2;
  for (let i = 0; i < fields.length; i++) size += fields[i]!.length + 2;
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < method.length; i++) out[at++] = method.charCodeAt(i);
  out[at++] = 0x20;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c >= 128 || TARGET[c] !== 1) bad("request-target", target);
    out[at++] = c;
  }
  // " HTTP/1.x\r\n"
  out[at++] = 0x20;
  out[at++] = 0x48;
  out[at++] = 0x54;
  out[at++] = 0x54;
  out[at++] = 0x50;
  out[at++] = 0x2f;
  out[at++] = 0x31;
  out[at++] = 0x2e;
  out[at++] = version === 1 ? 0x31 : 0x30;
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  at = putFields(out, at, fields);
  for (let i = 0; i < extra.length; i++) out[at++] = extra.charCodeAt(i);
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  return out;
}

/**
 * A response head: `HTTP/1.x status reason`, the fields, the empty line.
 * `reason` defaults to the registered phrase (empty for an unregistered code).
 */
export function responseHead(status: number, reason: string | undefined, fields: readonly string[], version: 0 | 1 = 1): Wire {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`http1: invalid status ${String(status)}`);
  const phrase = reason ?? STATUS_REASONS[status] ?? "";
  scratch.high = checkText(phrase, "reason phrase", false);
  const s = `${appendFields(`HTTP/1.${version} ${status} ${phrase}\r\n`, fields, scratch)}\r\n`;
  return scratch.high ? latin1Bytes(s) : s;
}

/** The chunk-size line for a chunk of `size` bytes ("1a\r\n"); size > 0. */
export function chunkHeader(size: number): string {
  if (!Number.isSafeInteger(size) || size <= 0) throw new TypeError(`http1: invalid chunk size ${String(size)}`);
  return `${size.toString(16)}\r\n`;
}

/** What follows chunk data. */
export const CRLF = "\r\n";

/**
 * One chunk in one buffer: size line, `data`, CRLF (a copy of `data`; for
 * large data write `chunkHeader`, the data and `CRLF` instead). Empty `data`
 * gives empty bytes: a zero-size chunk would end the body.
 */
export function chunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) return new Uint8Array(0);
  const header = chunkHeader(data.length);
  const out = new Uint8Array(header.length + data.length + 2);
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  out.set(data, header.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

/** The last chunk without trailers: "0\r\n\r\n". */
export const LAST_CHUNK = "0\r\n\r\n";

/** The last chunk with a trailer section (flat [name, value, …]). */
export function lastChunk(trailers: readonly string[] = []): Wire {
  if (trailers.length === 0) return LAST_CHUNK;
  scratch.high = false;
  const s = `${appendFields("0\r\n", trailers, scratch)}\r\n`;
  return scratch.high ? latin1Bytes(s) : s;
}
