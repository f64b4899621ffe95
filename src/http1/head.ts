/**
 * Incremental parsing of HTTP/1.1 message heads (RFC 9112 §2–5): the request
 * line or status line and the header section, up to and including the empty
 * line. Pure functions over bytes; the caller owns the buffer and calls again
 * with more bytes when the answer is "incomplete", passing back the progress
 * it got so no line is examined twice.
 *
 * Each complete line is validated as soon as its LF arrives, in order, so a
 * head fed in any number of pieces gets the same answer as all at once.
 * Strings are made once per head (one latin-1 decode, then slices).
 *
 * Also used for trailer sections (chunked.ts): a header section without a
 * start line.
 */
import { COLON, CR, FIELD_VALUE, HTAB, LF, SP, TARGET, TCHAR } from "./chars.ts";
import { targetProblem } from "./authority.ts";
import { latin1 } from "./latin1.ts";
import { type CodecError, errorTables } from "./errors.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./limits.ts";

/** A parsed request head. `fields` is flat: name, value, name, value… (names as received, values without surrounding whitespace). */
export interface RequestHead {
  method: string;
  target: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  version: 0 | 1;
  fields: string[];
}

/** A parsed response head. */
export interface ResponseHead {
  version: 0 | 1;
  status: number;
  /** The reason phrase as received (may be empty). */
  reason: string;
  fields: string[];
}

/** Why a head was refused. */
export type HeadErrorCode =
  | "bad_method"
  | "bad_request_line"
  | "bad_target"
  | "bad_version"
  | "unsupported_version"
  | "request_line_too_long"
  | "bad_status_line"
  | "bad_status"
  | "bad_reason"
  | "status_line_too_long"
  | "bare_lf"
  | "obs_fold"
  | "bad_field_name"
  | "bad_field_value"
  | "header_line_too_long"
  | "too_many_headers"
  | "head_too_large";

/**
 * A refused head: `status` is what to answer (400, 414, 431, 505 for
 * requests; 502 for every response error, RFC 9112 §6.3), `code` is stable,
 * `reason` is for logs.
 */
export type HeadError = CodecError<HeadErrorCode>;

/** More bytes are needed. Pass `progress` back with the grown buffer (same `start`). */
export interface HeadIncomplete {
  readonly kind: "incomplete";
  readonly progress: HeadProgress;
}

/** A complete head; the body (or next message) starts at `next`. */
export interface HeadOk<H> {
  readonly kind: "ok";
  readonly head: H;
  readonly next: number;
}

export type HeadResult<H> = HeadIncomplete | HeadError | HeadOk<H>;

const REQUEST = 0;
const RESPONSE = 1;
const TRAILERS = 2;
type Mode = typeof REQUEST | typeof RESPONSE | typeof TRAILERS;

/**
 * How far an incomplete head was read: offsets from `start` and what the
 * lines read so far hold. Opaque to callers; valid only for the same message
 * bytes at the same `start`.
 */
export class HeadProgress {
  /** Offset of the line being read. */
  line = 0;
  /** Offset up to which the line being read is known to hold no LF (and, in the request line, a valid method prefix). */
  scanned = 0;
  /** The start line has been read (always true for trailers). */
  started: boolean;
  /** The request line's method ended (an SP was seen). */
  methodDone = false;
  version: 0 | 1 = 1;
  status = 0;
  /** Start-line parts: method and target, or reason (offsets). */
  a0 = 0;
  a1 = 0;
  b0 = 0;
  b1 = 0;
  /** Per field: name start, name end, value start, value end (offsets). */
  fields: number[] = [];

  constructor(started: boolean) {
    this.started = started;
  }
}

// ---- errors: one frozen object per code and side, so refusing allocates nothing ----

const HEAD_ERRORS: Record<HeadErrorCode, readonly [number, string]> = {
  bad_method: [400, "the method is not a token followed by one space (RFC 9112 §3)"],
  bad_request_line: [400, "the request line is not method SP request-target SP HTTP-version (RFC 9112 §3)"],
  bad_target: [400, "the request-target holds a character outside visible ASCII or '#', or its form does not fit the method (RFC 9112 §3.2)"],
  bad_version: [400, "the HTTP version is malformed (RFC 9112 §2.3)"],
  unsupported_version: [505, "only HTTP/1.0 and HTTP/1.1 are supported"],
  request_line_too_long: [414, "the request line is longer than the limit"],
  bad_status_line: [502, "the status line is not HTTP-version SP status-code SP reason (RFC 9112 §4)"],
  bad_status: [502, "the status code is not three digits from 100 to 599 (RFC 9110 §15)"],
  bad_reason: [502, "the reason phrase holds a control character (RFC 9112 §4)"],
  status_line_too_long: [502, "the status line is longer than the limit"],
  bare_lf: [400, "a line ends with LF without CR (RFC 9112 §2.2)"],
  obs_fold: [400, "a field line starts with whitespace (obsolete line folding, RFC 9112 §5.2)"],
  bad_field_name: [400, "a field name is not a token followed directly by ':' (RFC 9112 §5.1)"],
  bad_field_value: [400, "a field value holds a control character (CR, LF, NUL…) (RFC 9110 §5.5)"],
  header_line_too_long: [431, "a field line is longer than the limit"],
  too_many_headers: [431, "the head has more fields than the limit"],
  head_too_large: [431, "the head is larger than the limit"],
};

const { request: REQUEST_ERRORS, response: RESPONSE_ERRORS } = errorTables(HEAD_ERRORS);

/** The error for `code` as a request-side (4xx/5xx to the client) or response-side (502) refusal. */
export function headError(code: HeadErrorCode, responseSide: boolean): HeadError {
  return (responseSide ? RESPONSE_ERRORS : REQUEST_ERRORS)[code];
}

function fail(mode: Mode, code: HeadErrorCode): HeadError {
  return (mode === RESPONSE ? RESPONSE_ERRORS : REQUEST_ERRORS)[code];
}

// ---- scanning ----

/** The index of the first LF in buf[from, to), or -1. Never searches past `to`. */
function findLF(buf: Uint8Array, from: number, to: number): number {
  if (from >= to) return -1;
  if (buf.length - to > 64) {
    // A large buffer past `to` (a caller's preallocated space): do not let indexOf run through it.
    const i = buf.subarray(from, to).indexOf(LF);
    return i < 0 ? -1 : from + i;
  }
  const i = buf.indexOf(LF, from);
  return i >= 0 && i < to ? i : -1;
}

/**
 * Checks the method prefix of a request line in buf[from, to): tchars up to the
 * first SP. Lets garbage (TLS on a plaintext port, binary) be refused on its
 * first bytes instead of after 8 KiB.
 */
function methodPrefix(buf: Uint8Array, from: number, to: number, p: HeadProgress): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c === SP) {
      p.methodDone = true;
      return true;
    }
    if (TCHAR[c] !== 1) return false;
  }
  return true;
}

/** 0 for HTTP/1.0, 1 for HTTP/1.1, -2 for another well-formed HTTP/d.d, -1 for anything else; in buf[v, e). */
function versionAt(buf: Uint8Array, v: number, e: number): number {
  if (
    e - v !== 8 ||
    buf[v] !== 0x48 ||
    buf[v + 1] !== 0x54 ||
    buf[v + 2] !== 0x54 ||
    buf[v + 3] !== 0x50 ||
    buf[v + 4] !== 0x2f ||
    buf[v + 6] !== 0x2e
  ) {
    return -1;
  }
  const major = buf[v + 5]! - 0x30;
  const minor = buf[v + 7]! - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return -1;
  if (major === 1 && minor === 1) return 1;
  if (major === 1 && minor === 0) return 0;
  return -2;
}

function bytesAre(buf: Uint8Array, a: number, b: number, ascii: string): boolean {
  if (b - a !== ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (buf[a + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** method SP request-target SP HTTP-version, in buf[a, z) (buf[z] is CR). */
function requestLine(buf: Uint8Array, start: number, a: number, z: number, p: HeadProgress): HeadError | undefined {
  let i = a;
  while (TCHAR[buf[i]!] === 1) i++;
  if (i === a || buf[i] !== SP) return REQUEST_ERRORS.bad_method;
  const t0 = ++i;
  while (TARGET[buf[i]!] === 1) i++;
  const t1 = i;
  if (t1 === t0) return buf[i] === SP || i === z ? REQUEST_ERRORS.bad_request_line : REQUEST_ERRORS.bad_target;
  if (i === z) return REQUEST_ERRORS.bad_request_line; // no version: an HTTP/0.9-style request
  if (buf[i] !== SP) return REQUEST_ERRORS.bad_target;
  const v = i + 1;
  if (buf[v] === SP) return REQUEST_ERRORS.bad_request_line;
  const version = versionAt(buf, v, z);
  if (version === -2) return REQUEST_ERRORS.unsupported_version;
  if (version < 0) return REQUEST_ERRORS.bad_version;
  // RFC 9112 §3.2: the target's form must fit the method. Origin-form ("/…") is the common case.
  const connect = bytesAre(buf, a, t0 - 1, "CONNECT");
  if (buf[t0] !== 0x2f || connect) {
    const problem = targetProblem(latin1(buf, a, t0 - 1), latin1(buf, t0, t1));
    if (problem !== undefined) return REQUEST_ERRORS.bad_target;
  }
  p.version = version as 0 | 1;
  p.a0 = a - start;
  p.a1 = t0 - 1 - start;
  p.b0 = t0 - start;
  p.b1 = t1 - start;
  return undefined;
}

/** HTTP-version SP status-code [SP reason-phrase], in buf[a, z). A missing SP after the code is tolerated. */
function statusLine(buf: Uint8Array, start: number, a: number, z: number, p: HeadProgress): HeadError | undefined {
  let sp = a;
  while (sp < z && buf[sp] !== SP) sp++;
  const version = versionAt(buf, a, sp);
  if (version === -2) return RESPONSE_ERRORS.unsupported_version;
  if (version < 0) return RESPONSE_ERRORS.bad_version;
  if (sp === z) return RESPONSE_ERRORS.bad_status_line;
  const s = sp + 1;
  if (z - s < 3) return RESPONSE_ERRORS.bad_status;
  const d0 = buf[s]! - 0x30;
  const d1 = buf[s + 1]! - 0x30;
  const d2 = buf[s + 2]! - 0x30;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return RESPONSE_ERRORS.bad_status;
  let r = s + 3;
  if (r < z) {
    if (buf[r] !== SP) return RESPONSE_ERRORS.bad_status;
    r++;
  }
  for (let i = r; i < z; i++) if (FIELD_VALUE[buf[i]!] !== 1) return RESPONSE_ERRORS.bad_reason;
  p.version = version as 0 | 1;
  p.status = d0 * 100 + d1 * 10 + d2;
  p.b0 = r - start;
  p.b1 = z - start;
  return undefined;
}

/** field-name ":" OWS field-value OWS, in buf[a, z). */
function fieldLine(buf: Uint8Array, start: number, a: number, z: number, p: HeadProgress, maxFields: number, mode: Mode): HeadError | undefined {
  const c0 = buf[a]!;
  if (c0 === SP || c0 === HTAB) return fail(mode, "obs_fold");
  if (p.fields.length >= maxFields * 4) return fail(mode, "too_many_headers");
  let i = a;
  while (TCHAR[buf[i]!] === 1) i++;
  if (i === a || i === z || buf[i] !== COLON) return fail(mode, "bad_field_name");
  const nameEnd = i;
  i++;
  while (i < z && (buf[i] === SP || buf[i] === HTAB)) i++;
  const v0 = i;
  while (i < z && FIELD_VALUE[buf[i]!] === 1) i++;
  if (i < z) return fail(mode, "bad_field_value");
  let v1 = z;
  while (v1 > v0 && (buf[v1 - 1] === SP || buf[v1 - 1] === HTAB)) v1--;
  p.fields.push(a - start, nameEnd - start, v0 - start, v1 - start);
  return undefined;
}

const FAST_NO = -1;

/**
 * The common case of a field line, in one pass: a complete, valid line (or
 * the empty line) at `a`. Returns the index after its LF, after recording
 * the field, or FAST_NO when anything is unusual — the careful path then
 * judges the line with the checks in their defined order. On success both
 * paths give the same result.
 */
function fastFieldLine(buf: Uint8Array, start: number, a: number, windowEnd: number, p: HeadProgress, limits: HeadLimits): number {
  // The CR may lie at most maxHeaderLine bytes after `a`, and its LF inside the window.
  const crMax = a + limits.maxHeaderLine < windowEnd - 2 ? a + limits.maxHeaderLine : windowEnd - 2;
  const bound = crMax + 1;
  let i = a;
  while (i < bound && TCHAR[buf[i]!] === 1) i++;
  if (i === a || i >= bound || buf[i] !== COLON || p.fields.length >= limits.maxHeaders * 4) return FAST_NO;
  const nameEnd = i++;
  while (i < bound && (buf[i] === SP || buf[i] === HTAB)) i++;
  const v0 = i;
  let c = 0;
  while (i < bound && (((c = buf[i]!) > 0x1f && c !== 0x7f) || c === HTAB)) i++;
  if (i >= bound || c !== CR || buf[i + 1] !== LF) return FAST_NO;
  let v1 = i;
  while (v1 > v0 && (buf[v1 - 1] === SP || buf[v1 - 1] === HTAB)) v1--;
  p.fields.push(a - start, nameEnd - start, v0 - start, v1 - start);
  return i + 2;
}

/**
 * Reads lines from where `p` left off. Returns the index after the head's
 * final CRLF, -1 when more bytes are needed (`p` updated), or the error.
 */
function scan(buf: Uint8Array, start: number, end: number, limits: HeadLimits, p: HeadProgress, mode: Mode): number | HeadError {
  const maxEnd = start + limits.maxHead;
  const windowEnd = end < maxEnd ? end : maxEnd;
  let lineStart = start + p.line;
  let from = start + p.scanned;
  for (;;) {
    if (p.started) {
      if (buf[lineStart] === CR && lineStart + 1 < windowEnd && buf[lineStart + 1] === LF) return lineStart + 2;
      const next = fastFieldLine(buf, start, lineStart, windowEnd, p, limits);
      if (next !== FAST_NO) {
        lineStart = from = next;
        continue;
      }
    }
    const firstLine = !p.started;
    const checkMethod = firstLine && mode === REQUEST && !p.methodDone;
    const lineLimit = firstLine ? limits.maxRequestLine : limits.maxHeaderLine;
    // Bytes a line may take before its LF: the limit, plus CR. Checks on a partial line never look further.
    const lineCap = lineStart + lineLimit + 2;
    const lf = findLF(buf, from, windowEnd);
    if (lf < 0) {
      if (checkMethod) {
        if (windowEnd - lineStart === 1 && buf[lineStart] === CR) {
          // Maybe a leading empty line (RFC 9112 §2.2): wait for its LF before judging.
          p.line = lineStart - start;
          p.scanned = p.line;
          return -1;
        }
        if (!methodPrefix(buf, from, windowEnd < lineCap ? windowEnd : lineCap, p)) return REQUEST_ERRORS.bad_method;
      }
      if (windowEnd - lineStart > lineLimit + 1) return lineTooLong(mode, firstLine);
      if (windowEnd === maxEnd) return fail(mode, "head_too_large");
      p.line = lineStart - start;
      p.scanned = windowEnd - start;
      return -1;
    }
    const lineBytes = lf - lineStart;
    if (lineBytes === 1 && buf[lineStart] === CR) {
      if (!firstLine) return lf + 1;
      if (mode !== REQUEST) return RESPONSE_ERRORS.bad_status_line;
      // RFC 9112 §2.2: empty lines before the request line are ignored.
      lineStart = from = lf + 1;
      continue;
    }
    if (checkMethod && !methodPrefix(buf, from, lf < lineCap ? lf : lineCap, p)) return REQUEST_ERRORS.bad_method;
    if (lineBytes > lineLimit + 1) return lineTooLong(mode, firstLine);
    if (lineBytes === 0 || buf[lf - 1] !== CR) return fail(mode, "bare_lf");
    const z = lf - 1;
    let err: HeadError | undefined;
    if (firstLine) {
      err = mode === REQUEST ? requestLine(buf, start, lineStart, z, p) : statusLine(buf, start, lineStart, z, p);
      p.started = true;
    } else {
      err = fieldLine(buf, start, lineStart, z, p, limits.maxHeaders, mode);
    }
    if (err !== undefined) return err;
    lineStart = from = lf + 1;
  }
}

function lineTooLong(mode: Mode, firstLine: boolean): HeadError {
  if (!firstLine) return fail(mode, "header_line_too_long");
  return mode === REQUEST ? REQUEST_ERRORS.request_line_too_long : RESPONSE_ERRORS.status_line_too_long;
}

function fieldStrings(text: string, offsets: number[]): string[] {
  const out = new Array<string>(offsets.length >> 1);
  for (let k = 0, j = 0; k < offsets.length; k += 4, j += 2) {
    out[j] = text.slice(offsets[k]!, offsets[k + 1]!);
    out[j + 1] = text.slice(offsets[k + 2]!, offsets[k + 3]!);
  }
  return out;
}

/**
 * Parses a request head from buf[start, end) (RFC 9112 §2–3, §5).
 * "incomplete": call again when more bytes have arrived, with the same
 * `start`, the new `end` and the returned `progress`.
 * "ok": `next` is the index after the empty line. Method, target and version
 * are checked for syntax (any token is a method: `get` is valid here); Host,
 * framing and connection fields are judged by framing.ts, host.ts and
 * connection.ts.
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: Readonly<HeadLimits> = DEFAULT_HEAD_LIMITS,
  progress?: HeadProgress,
): HeadResult<RequestHead> {
  const p = progress ?? new HeadProgress(false);
  const r = scan(buf, start, end, limits, p, REQUEST);
  if (typeof r !== "number") return r;
  if (r < 0) return { kind: "incomplete", progress: p };
  const text = latin1(buf, start, r);
  const head: RequestHead = {
    method: text.slice(p.a0, p.a1),
    target: text.slice(p.b0, p.b1),
    version: p.version,
    fields: fieldStrings(text, p.fields),
  };
  return { kind: "ok", head, next: r };
}

/**
 * Parses a response head from buf[start, end) (RFC 9112 §4–5). Errors carry
 * status 502: a proxy answers a malformed response with Bad Gateway. Empty
 * lines before the status line are refused (on a persistent connection they
 * mean the previous response's framing was wrong).
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: Readonly<HeadLimits> = DEFAULT_HEAD_LIMITS,
  progress?: HeadProgress,
): HeadResult<ResponseHead> {
  const p = progress ?? new HeadProgress(false);
  const r = scan(buf, start, end, limits, p, RESPONSE);
  if (typeof r !== "number") return r;
  if (r < 0) return { kind: "incomplete", progress: p };
  const text = latin1(buf, start, r);
  const head: ResponseHead = {
    version: p.version,
    status: p.status,
    reason: text.slice(p.b0, p.b1),
    fields: fieldStrings(text, p.fields),
  };
  return { kind: "ok", head, next: r };
}

/**
 * Parses a trailer section (RFC 9112 §7.1.2: field lines, then an empty line)
 * from buf[start, end), with `limits.maxHead` bounding the section and
 * `maxHeaderLine`/`maxHeaders` its lines. Errors are request-side codes.
 */
export function parseTrailerSection(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: Readonly<HeadLimits>,
  progress: HeadProgress,
): HeadError | { fields: string[]; next: number } | undefined {
  const r = scan(buf, start, end, limits, progress, TRAILERS);
  if (typeof r !== "number") return r;
  if (r < 0) return undefined;
  return { fields: fieldStrings(latin1(buf, start, r), progress.fields), next: r };
}
