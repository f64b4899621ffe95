/**
 * An incremental decoder of the chunked transfer coding (RFC 9112 §7.1): a
 * byte-driven state machine fed with whatever bytes arrived, returning views
 * of the chunk data (no copies), then the trailer fields. Strict: hex sizes
 * only (at most 16 digits, at most 2^53-1), extensions checked against their
 * grammar and bounded, exactly CRLF after each size line and chunk, trailers
 * parsed like header fields. The same bytes split anywhere give the same
 * result.
 */
import { BACKSLASH, CR, DQUOTE, EQUALS, HEX, HTAB, LF, QDTEXT, QUOTED_PAIR, SEMI, SP, TCHAR } from "./chars.ts";
import { type HeadErrorCode, HeadProgress, parseTrailerSection } from "./head.ts";
import { type ChunkedLimits, DEFAULT_CHUNKED_LIMITS, type HeadLimits } from "./limits.ts";

export type ChunkedErrorCode =
  | "bad_chunk_size"
  | "chunk_size_overflow"
  | "bad_chunk_extension"
  | "chunk_extension_too_long"
  | "chunk_extensions_too_large"
  | "bad_chunk_line_ending"
  | "bad_chunk_terminator"
  | "bad_trailer"
  | "trailer_line_too_long"
  | "too_many_trailers"
  | "trailers_too_large";

/** Why a chunked body was refused (the status to answer depends on the side: 400 for a request, 502 for a response). */
export interface ChunkedError {
  readonly code: ChunkedErrorCode;
  readonly reason: string;
}

/** What one `push` did. */
export interface ChunkedResult {
  /**
   * Bytes of the input taken; on `done`, bytes after them belong to the next
   * message. After an error it only says how far decoding got: the message,
   * and the connection, are lost.
   */
  consumed: number;
  /** Chunk data in this input, as views into it (valid while the caller keeps the input unchanged). */
  chunks: Uint8Array[];
  /** The last chunk and the trailer section have been read. */
  done: boolean;
  /** Trailer fields, flat [name, value, …], set with `done` (empty when there were none). */
  trailers: string[] | undefined;
  /** Set when the body is malformed; the decoder stays failed. */
  error: ChunkedError | undefined;
}

function err(code: ChunkedErrorCode, reason: string): ChunkedError {
  return Object.freeze({ code, reason });
}

const E = {
  size: err("bad_chunk_size", "a chunk size is not 1*HEXDIG (no sign, prefix or leading whitespace; RFC 9112 §7.1)"),
  overflow: err("chunk_size_overflow", "a chunk size has more than 16 hex digits or exceeds 2^53-1"),
  ext: err("bad_chunk_extension", "a chunk extension does not match ;name[=token|quoted-string] (RFC 9112 §7.1.1)"),
  extLong: err("chunk_extension_too_long", "the chunk extensions of one chunk are longer than the limit"),
  extTotal: err("chunk_extensions_too_large", "the chunk extensions of the body are larger than the limit"),
  lineEnd: err("bad_chunk_line_ending", "a chunk size line does not end with CRLF (RFC 9112 §7.1)"),
  terminator: err("bad_chunk_terminator", "chunk data is not followed by CRLF (RFC 9112 §7.1)"),
  trailer: err("bad_trailer", "the trailer section is malformed (RFC 9112 §7.1.2)"),
} as const;

const TRAILER_ERRORS: Partial<Record<HeadErrorCode, ChunkedError>> = {
  header_line_too_long: err("trailer_line_too_long", "a trailer field line is longer than the limit"),
  too_many_headers: err("too_many_trailers", "the trailer section has more fields than the limit"),
  head_too_large: err("trailers_too_large", "the trailer section is larger than the limit"),
};

const SIZE_START = 0;
const SIZE = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const EXT_BWS = 6; // whitespace after the size or a value: only ";" may follow
const EXT_PRE_NAME = 7;
const EXT_NAME = 8;
const EXT_NAME_BWS = 9; // whitespace after a name: "=" or ";" may follow
const EXT_PRE_VALUE = 10;
const EXT_TOKEN = 11;
const EXT_QUOTED = 12;
const EXT_QUOTED_PAIR = 13;
const EXT_AFTER_QUOTED = 14;
const TRAILER_START = 15;
const END_LF = 16;
const TRAILERS = 17;
const DONE = 18;
const FAILED = 19;

const MAX_SIZE_DIGITS = 16;
/** Largest size before the next digit: floor((2^53 - 1) / 16). */
const SIZE_SHIFT_MAX = Math.floor(Number.MAX_SAFE_INTEGER / 16);

/**
 * Decodes one chunked body. Feed it bytes with `push` until `done` or
 * `error`; `reset` readies it for the next body.
 */
export class ChunkedDecoder {
  private state = SIZE_START;
  private size = 0;
  private digits = 0;
  private extLen = 0;
  private extTotal = 0;
  private failure: ChunkedError | undefined;
  private trailerBuf: Uint8Array | undefined;
  private trailerLen = 0;
  private trailerProgress: HeadProgress | undefined;
  private trailers: string[] | undefined;
  private readonly limits: Readonly<ChunkedLimits>;
  private readonly trailerLimits: HeadLimits;

  constructor(limits: Readonly<ChunkedLimits> = DEFAULT_CHUNKED_LIMITS) {
    this.limits = limits;
    this.trailerLimits = {
      maxRequestLine: limits.maxTrailerLine,
      maxHeaderLine: limits.maxTrailerLine,
      maxHead: limits.maxTrailerSection,
      maxHeaders: limits.maxTrailers,
    };
  }

  /** Forgets the body read so far: the decoder starts a new one. */
  reset(): void {
    this.state = SIZE_START;
    this.size = 0;
    this.digits = 0;
    this.extLen = 0;
    this.extTotal = 0;
    this.failure = undefined;
    this.trailerLen = 0;
    this.trailerProgress = undefined;
    this.trailers = undefined;
  }

  /** Reads buf[start, end). */
  push(buf: Uint8Array, start: number, end: number): ChunkedResult {
    const chunks: Uint8Array[] = [];
    let i = start;
    let state = this.state;
    if (state === DONE) return { consumed: 0, chunks, done: true, trailers: this.trailers, error: undefined };
    if (state === FAILED) return { consumed: 0, chunks, done: false, trailers: undefined, error: this.failure };
    let failure: ChunkedError | undefined;
    loop: while (i < end) {
      switch (state) {
        case DATA: {
          const avail = end - i;
          if (avail < this.size) {
            chunks.push(buf.subarray(i, end));
            this.size -= avail;
            i = end;
          } else {
            chunks.push(buf.subarray(i, i + this.size));
            i += this.size;
            this.size = 0;
            state = DATA_CR;
          }
          continue;
        }
        case SIZE_START:
        case SIZE: {
          const c = buf[i]!;
          const h = HEX[c]!;
          if (h >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS || this.size > SIZE_SHIFT_MAX || this.size * 16 + h > Number.MAX_SAFE_INTEGER) {
              failure = E.overflow;
              break loop;
            }
            this.size = this.size * 16 + h;
            state = SIZE;
            i++;
            continue;
          }
          if (state === SIZE_START) {
            failure = E.size;
            break loop;
          }
          if (c === CR) state = SIZE_LF;
          else if (c === SEMI) state = EXT_PRE_NAME;
          else if (c === SP || c === HTAB) state = EXT_BWS;
          else {
            failure = c === LF ? E.lineEnd : E.size;
            break loop;
          }
          if (c !== CR && !this.countExt()) {
            failure = this.failure;
            break loop;
          }
          i++;
          continue;
        }
        case SIZE_LF: {
          if (buf[i] !== LF) {
            failure = E.lineEnd;
            break loop;
          }
          i++;
          this.digits = 0;
          this.extLen = 0;
          state = this.size === 0 ? TRAILER_START : DATA;
          continue;
        }
        case DATA_CR:
        case DATA_LF: {
          if (buf[i] !== (state === DATA_CR ? CR : LF)) {
            failure = E.terminator;
            break loop;
          }
          i++;
          state = state === DATA_CR ? DATA_LF : SIZE_START;
          continue;
        }
        case TRAILER_START: {
          if (buf[i] === CR) {
            // The common case: no trailers, "0\r\n\r\n".
            state = END_LF;
            i++;
            continue;
          }
          state = TRAILERS;
          this.trailerProgress = new HeadProgress(true);
          this.trailerLen = 0;
          continue;
        }
        case END_LF: {
          if (buf[i] !== LF) {
            failure = E.trailer;
            break loop;
          }
          i++;
          this.trailers = [];
          state = DONE;
          break loop;
        }
        case TRAILERS: {
          const r = this.readTrailers(buf, i, end);
          if (typeof r === "number") {
            i = r;
            if (this.trailers !== undefined) state = DONE;
            break loop;
          }
          failure = r;
          break loop;
        }
        default: {
          // Chunk extensions (RFC 9112 §7.1.1): *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ).
          const c = buf[i]!;
          const next = extStep(state, c);
          if (next < 0) {
            failure = c === LF && state !== EXT_QUOTED ? E.lineEnd : E.ext;
            break loop;
          }
          state = next;
          if (next !== SIZE_LF && !this.countExt()) {
            failure = this.failure;
            break loop;
          }
          i++;
        }
      }
    }
    if (failure !== undefined) {
      this.state = FAILED;
      this.failure = failure;
      return { consumed: i - start, chunks, done: false, trailers: undefined, error: failure };
    }
    this.state = state;
    const done = state === DONE;
    return { consumed: i - start, chunks, done, trailers: done ? this.trailers : undefined, error: undefined };
  }

  /** Counts one extension byte against the limits; false (and `failure` set) when over. */
  private countExt(): boolean {
    if (++this.extLen > this.limits.maxExtension) {
      this.failure = E.extLong;
      return false;
    }
    if (++this.extTotal > this.limits.maxExtensionTotal) {
      this.failure = E.extTotal;
      return false;
    }
    return true;
  }

  /**
   * Copies trailer bytes (bounded by maxTrailerSection) and parses the
   * section as header fields. Returns the input index reached, with
   * `trailers` set when the section ended, or the error.
   */
  private readTrailers(buf: Uint8Array, i: number, end: number): number | ChunkedError {
    const cap = this.limits.maxTrailerSection;
    const before = this.trailerLen;
    const take = Math.min(end - i, cap - before);
    if (this.trailerBuf === undefined || this.trailerBuf.length < before + take) {
      const grown = new Uint8Array(Math.min(cap, Math.max(256, (before + take) * 2)));
      if (this.trailerBuf !== undefined) grown.set(this.trailerBuf.subarray(0, before));
      this.trailerBuf = grown;
    }
    this.trailerBuf.set(buf.subarray(i, i + take), before);
    this.trailerLen = before + take;
    const r = parseTrailerSection(this.trailerBuf, 0, this.trailerLen, this.trailerLimits, this.trailerProgress!);
    if (r === undefined) return i + take;
    if ("kind" in r) return TRAILER_ERRORS[r.code] ?? { code: E.trailer.code, reason: `${E.trailer.reason}: ${r.reason}` };
    this.trailers = r.fields;
    return i + (r.next - before);
  }
}

/** The next extension state after byte `c`, or -1 when `c` is not allowed there. */
function extStep(state: number, c: number): number {
  switch (state) {
    case EXT_BWS:
      if (c === SP || c === HTAB) return EXT_BWS;
      return c === SEMI ? EXT_PRE_NAME : -1;
    case EXT_PRE_NAME:
      if (c === SP || c === HTAB) return EXT_PRE_NAME;
      return TCHAR[c] === 1 ? EXT_NAME : -1;
    case EXT_NAME:
      if (TCHAR[c] === 1) return EXT_NAME;
      if (c === EQUALS) return EXT_PRE_VALUE;
      if (c === SEMI) return EXT_PRE_NAME;
      if (c === CR) return SIZE_LF;
      return c === SP || c === HTAB ? EXT_NAME_BWS : -1;
    case EXT_NAME_BWS:
      if (c === SP || c === HTAB) return EXT_NAME_BWS;
      if (c === EQUALS) return EXT_PRE_VALUE;
      return c === SEMI ? EXT_PRE_NAME : -1;
    case EXT_PRE_VALUE:
      if (c === SP || c === HTAB) return EXT_PRE_VALUE;
      if (c === DQUOTE) return EXT_QUOTED;
      return TCHAR[c] === 1 ? EXT_TOKEN : -1;
    case EXT_TOKEN:
      if (TCHAR[c] === 1) return EXT_TOKEN;
      if (c === SEMI) return EXT_PRE_NAME;
      if (c === CR) return SIZE_LF;
      return c === SP || c === HTAB ? EXT_BWS : -1;
    case EXT_QUOTED:
      if (c === DQUOTE) return EXT_AFTER_QUOTED;
      if (c === BACKSLASH) return EXT_QUOTED_PAIR;
      return QDTEXT[c] === 1 ? EXT_QUOTED : -1;
    case EXT_QUOTED_PAIR:
      return QUOTED_PAIR[c] === 1 ? EXT_QUOTED : -1;
    case EXT_AFTER_QUOTED:
      if (c === SEMI) return EXT_PRE_NAME;
      if (c === CR) return SIZE_LF;
      return c === SP || c === HTAB ? EXT_BWS : -1;
    default:
      return -1;
  }
}
