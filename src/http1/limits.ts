/**
 * Size limits of the HTTP/1.1 codec: how long a request line, a field line and
 * a whole head may be, how many fields a head may carry, and the bounds on
 * chunk extensions and trailers. Validated once where a configuration is built
 * (`headLimits`, `chunkedLimits`); the parsers read plain numbers.
 */

/** Bounds on a message head (start line and header section). */
export interface HeadLimits {
  /** Bytes of the request line or status line, CRLF excluded (longer request line: 414). */
  maxRequestLine: number;
  /** Bytes of one field line, CRLF excluded (longer: 431). */
  maxHeaderLine: number;
  /** Bytes of the whole head, from the first byte to the CRLF ending the empty line (longer: 431). */
  maxHead: number;
  /** Number of field lines (more: 431). */
  maxHeaders: number;
}

/** The largest `maxHead` accepted: 64 KiB. */
export const MAX_HEAD_BYTES = 65536;

/** 8 KiB request line, 8 KiB per field line, 16 KiB head, 100 fields. */
export const DEFAULT_HEAD_LIMITS: Readonly<HeadLimits> = Object.freeze({
  maxRequestLine: 8192,
  maxHeaderLine: 8192,
  maxHead: 16384,
  maxHeaders: 100,
});

/** Bounds on a chunked body's framing (RFC 9112 §7.1). */
export interface ChunkedLimits {
  /** Bytes of chunk extensions on one chunk-size line (after the size, before CRLF). */
  maxExtension: number;
  /** Bytes of chunk extensions over a whole body (bounds work spent on many tiny chunks). */
  maxExtensionTotal: number;
  /** Bytes of one trailer field line, CRLF excluded. */
  maxTrailerLine: number;
  /** Bytes of the trailer section, its final CRLF included. */
  maxTrailerSection: number;
  /** Number of trailer fields. */
  maxTrailers: number;
}

/** 1 KiB of extensions per chunk, 16 KiB per body; trailers bounded like heads. */
export const DEFAULT_CHUNKED_LIMITS: Readonly<ChunkedLimits> = Object.freeze({
  maxExtension: 1024,
  maxExtensionTotal: 16384,
  maxTrailerLine: 8192,
  maxTrailerSection: 16384,
  maxTrailers: 100,
});

function check(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RangeError(`http1 limit ${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
}

/** Head limits from the defaults and `overrides`, checked (a RangeError names the bad option). */
export function headLimits(overrides: Partial<HeadLimits> = {}): Readonly<HeadLimits> {
  const l = { ...DEFAULT_HEAD_LIMITS, ...overrides };
  check("maxHead", l.maxHead, MAX_HEAD_BYTES);
  // A line limit above maxHead is allowed: maxHead bounds the line anyway.
  check("maxRequestLine", l.maxRequestLine, MAX_HEAD_BYTES);
  check("maxHeaderLine", l.maxHeaderLine, MAX_HEAD_BYTES);
  check("maxHeaders", l.maxHeaders, MAX_HEAD_BYTES);
  return Object.freeze(l);
}

/** Chunked limits from the defaults and `overrides`, checked (a RangeError names the bad option). */
export function chunkedLimits(overrides: Partial<ChunkedLimits> = {}): Readonly<ChunkedLimits> {
  const l = { ...DEFAULT_CHUNKED_LIMITS, ...overrides };
  check("maxExtension", l.maxExtension, MAX_HEAD_BYTES);
  check("maxExtensionTotal", l.maxExtensionTotal, Number.MAX_SAFE_INTEGER);
  check("maxTrailerSection", l.maxTrailerSection, MAX_HEAD_BYTES);
  check("maxTrailerLine", l.maxTrailerLine, MAX_HEAD_BYTES);
  check("maxTrailers", l.maxTrailers, MAX_HEAD_BYTES);
  return Object.freeze(l);
}
