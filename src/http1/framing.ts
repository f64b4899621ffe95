/**
 * Message body framing (RFC 9112 §6): from a parsed head, how its body is
 * delimited — none, a Content-Length, chunked, until the connection closes,
 * or a tunnel. Pure functions of the head; the place where request smuggling
 * shapes (CL+TE, conflicting lengths, obfuscated Transfer-Encoding) are
 * refused.
 */
import { DQUOTE, HTAB, SP, TCHAR } from "./chars.ts";
import { type CodecError, errorTables } from "./errors.ts";
import { isOws, nameIs } from "./fields.ts";
import type { RequestHead, ResponseHead } from "./head.ts";

export type FramingErrorCode =
  | "te_in_http10"
  | "te_and_cl"
  | "bad_transfer_encoding"
  | "chunked_not_final"
  | "chunked_twice"
  | "unsupported_transfer_coding"
  | "bad_content_length"
  | "conflicting_content_length"
  | "content_length_overflow";

export type FramingError = CodecError<FramingErrorCode>;

const FRAMING_ERRORS: Record<FramingErrorCode, readonly [number, string]> = {
  te_in_http10: [400, "Transfer-Encoding in an HTTP/1.0 message: its framing cannot be trusted (RFC 9112 §6.1)"],
  te_and_cl: [400, "both Transfer-Encoding and Content-Length: a request smuggling shape (RFC 9112 §6.1, §11.2)"],
  bad_transfer_encoding: [400, "Transfer-Encoding is empty or not a list of transfer codings (RFC 9112 §6.1)"],
  chunked_not_final: [400, "chunked is not the final transfer coding, so the body length cannot be known (RFC 9112 §6.3)"],
  chunked_twice: [400, "chunked is applied more than once (RFC 9112 §7)"],
  unsupported_transfer_coding: [501, "a transfer coding other than chunked is not implemented (RFC 9112 §6.1)"],
  bad_content_length: [400, "Content-Length is not 1*DIGIT (RFC 9110 §8.6)"],
  conflicting_content_length: [400, "Content-Length has differing values (RFC 9112 §6.3)"],
  content_length_overflow: [400, "Content-Length is larger than 2^53-1"],
};

const { request: REQ, response: RES } = errorTables(FRAMING_ERRORS);

/** How a request's body is delimited (RFC 9112 §6.3). */
export type RequestFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | FramingError;

/**
 * How a response's body is delimited (RFC 9112 §6.3).
 * - `chunked`: `codings` are the transfer codings applied before chunked
 *   (lowercased, usually none); `stripContentLength` says a Content-Length
 *   came too and was ignored — a proxy must remove it before forwarding.
 * - `close`: the body runs until the server closes the connection (no
 *   framing, or a Transfer-Encoding whose final coding is not chunked).
 * - `tunnel`: after this head the connection carries another protocol (a 2xx
 *   to CONNECT, or 101 Switching Protocols).
 */
export type ResponseFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked"; readonly stripContentLength: boolean; readonly codings: readonly string[] }
  | { readonly kind: "close"; readonly stripContentLength: boolean; readonly codings: readonly string[] }
  | { readonly kind: "tunnel" }
  | FramingError;

const NO_CODINGS: readonly string[] = Object.freeze([]);
const NONE = Object.freeze({ kind: "none" as const });
const CHUNKED = Object.freeze({ kind: "chunked" as const });
const TUNNEL = Object.freeze({ kind: "tunnel" as const });
const RES_CHUNKED = Object.freeze({ kind: "chunked" as const, stripContentLength: false, codings: NO_CODINGS });
const RES_CLOSE = Object.freeze({ kind: "close" as const, stripContentLength: false, codings: NO_CODINGS });

/** Where the framing fields of a head are (indexes into its flat field list). */
interface FramingFields {
  te: number[] | undefined;
  cl: number[] | undefined;
}

function framingFields(fields: readonly string[]): FramingFields {
  let te: number[] | undefined;
  let cl: number[] | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    // Length first: most names are neither 14 nor 17 characters long.
    if (name.length === 14 && nameIs(name, "content-length")) (cl ??= []).push(i + 1);
    else if (name.length === 17 && nameIs(name, "transfer-encoding")) (te ??= []).push(i + 1);
  }
  return { te, cl };
}

const CL_SYNTAX = -1;
const CL_CONFLICT = -2;
const CL_OVERFLOW = -3;

/**
 * The value of the Content-Length fields at `at`: each a list of 1*DIGIT
 * (RFC 9110 §8.6). Identical values, repeated as a list or in several
 * fields, count as one; differing values are CL_CONFLICT. No sign, no hex,
 * no inner spaces, no empty element.
 */
export function contentLengthOf(fields: readonly string[], at: readonly number[]): number {
  let length = -1;
  for (const k of at) {
    const v = fields[k]!;
    let i = 0;
    for (;;) {
      while (i < v.length && isOws(v.charCodeAt(i))) i++;
      const d0 = i;
      let n = 0;
      while (i < v.length) {
        const d = v.charCodeAt(i) - 0x30;
        if (d < 0 || d > 9) break;
        if (n > (Number.MAX_SAFE_INTEGER - d) / 10) return CL_OVERFLOW;
        n = n * 10 + d;
        i++;
      }
      if (i === d0) return CL_SYNTAX;
      while (i < v.length && isOws(v.charCodeAt(i))) i++;
      if (length >= 0 && n !== length) return CL_CONFLICT;
      length = n;
      if (i === v.length) break;
      if (v.charCodeAt(i) !== 0x2c) return CL_SYNTAX;
      i++;
    }
  }
  return length;
}

function clError(r: number, side: typeof REQ): FramingError {
  if (r === CL_CONFLICT) return side.conflicting_content_length;
  if (r === CL_OVERFLOW) return side.content_length_overflow;
  return side.bad_content_length;
}

/** A transfer coding as listed: its name lowercased, and whether parameters followed it. */
interface Coding {
  name: string;
  params: boolean;
}

/**
 * The transfer codings of the Transfer-Encoding fields at `at`, in order
 * (RFC 9112 §6.1: `#transfer-coding`, each `token *( OWS ";" OWS
 * transfer-parameter )`); undefined when any element is malformed or the
 * list is empty.
 */
export function transferCodingsOf(fields: readonly string[], at: readonly number[]): Coding[] | undefined {
  const out: Coding[] = [];
  for (const k of at) {
    const v = fields[k]!;
    const n = v.length;
    let i = 0;
    for (;;) {
      // Empty list elements are allowed and skipped (RFC 9110 §5.6.1).
      while (i < n && (isOws(v.charCodeAt(i)) || v.charCodeAt(i) === 0x2c)) i++;
      if (i === n) break;
      const t = tokenAt(v, i);
      if (t === i) return undefined;
      const name = v.slice(i, t).toLowerCase();
      i = t;
      let params = false;
      for (;;) {
        let j = i;
        while (j < n && isOws(v.charCodeAt(j))) j++;
        if (v.charCodeAt(j) !== 0x3b) break;
        j = skipOws(v, j + 1);
        const pn = tokenAt(v, j);
        if (pn === j) return undefined;
        j = skipOws(v, pn);
        if (v.charCodeAt(j) !== 0x3d) return undefined;
        j = skipOws(v, j + 1);
        const pv = v.charCodeAt(j) === DQUOTE ? quotedEnd(v, j) : tokenAt(v, j);
        if (pv <= j) return undefined;
        i = pv;
        params = true;
      }
      i = skipOws(v, i);
      if (i < n && v.charCodeAt(i) !== 0x2c) return undefined;
      out.push({ name, params });
    }
  }
  return out.length === 0 ? undefined : out;
}

/** chunked takes no parameters (RFC 9112 §7.1); one given is a malformed coding. */
function chunkedWithParams(codings: readonly Coding[]): boolean {
  for (const c of codings) if (c.params && c.name === "chunked") return true;
  return false;
}

function skipOws(s: string, i: number): number {
  while (i < s.length && isOws(s.charCodeAt(i))) i++;
  return i;
}

function tokenAt(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) break;
    i++;
  }
  return i;
}

/** The index after the quoted-string starting at `i` (a DQUOTE), or -1 (RFC 9110 §5.6.4). */
function quotedEnd(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === 0x5c) {
      i++;
      const q = s.charCodeAt(i);
      if (!(q === HTAB || (q >= SP && q !== 0x7f))) return -1;
    } else if (!(c === HTAB || (c >= SP && c !== 0x7f))) return -1;
  }
  return -1;
}

/**
 * How the body of `head` is delimited (RFC 9112 §6.3 for requests):
 * - Transfer-Encoding: refused in HTTP/1.0 (400), with Content-Length
 *   (400) and when malformed (400); chunked must be the final coding (else 400) and appear once; any
 *   other coding is not implemented (501). Then `chunked`.
 * - Content-Length: a valid, unambiguous length, else 400. Then `length`.
 * - Neither: `none` (a request without framing has no body).
 */
export function requestFraming(head: RequestHead): RequestFraming {
  const { te, cl } = framingFields(head.fields);
  if (te !== undefined) {
    if (head.version === 0) return REQ.te_in_http10;
    if (cl !== undefined) return REQ.te_and_cl;
    const codings = transferCodingsOf(head.fields, te);
    if (codings === undefined) return REQ.bad_transfer_encoding;
    if (chunkedWithParams(codings)) return REQ.bad_transfer_encoding;
    if (codings[codings.length - 1]!.name !== "chunked") return REQ.chunked_not_final;
    for (let i = 0; i < codings.length - 1; i++) if (codings[i]!.name === "chunked") return REQ.chunked_twice;
    if (codings.length > 1) return REQ.unsupported_transfer_coding;
    return CHUNKED;
  }
  if (cl !== undefined) {
    const length = contentLengthOf(head.fields, cl);
    if (length < 0) return clError(length, REQ);
    return { kind: "length", length };
  }
  return NONE;
}

/**
 * How the body of a response to a `requestMethod` request is delimited
 * (RFC 9112 §6.3, in its order):
 * 1. a response to HEAD, 1xx, 204 and 304 have no body (`none`); 101 Switching
 *    Protocols is a `tunnel`;
 * 2. a 2xx to CONNECT is a `tunnel`;
 * 3. Transfer-Encoding: chunked last → `chunked` (a Content-Length is ignored
 *    and flagged); otherwise `close`; in HTTP/1.0, malformed, or chunked
 *    twice → 502;
 * 4. Content-Length valid → `length`, invalid or conflicting → 502;
 * 5. otherwise `close`.
 */
export function responseFraming(head: ResponseHead, requestMethod: string): ResponseFraming {
  const status = head.status;
  if (status === 101) return TUNNEL;
  if (requestMethod === "HEAD" || status < 200 || status === 204 || status === 304) return NONE;
  if (requestMethod === "CONNECT" && status < 300) return TUNNEL;
  const { te, cl } = framingFields(head.fields);
  if (te !== undefined) {
    if (head.version === 0) return RES.te_in_http10;
    const codings = transferCodingsOf(head.fields, te);
    if (codings === undefined) return RES.bad_transfer_encoding;
    if (chunkedWithParams(codings)) return RES.bad_transfer_encoding;
    const chunked = codings[codings.length - 1]!.name === "chunked";
    const before = chunked ? codings.length - 1 : codings.length;
    for (let i = 0; i < before; i++) if (codings[i]!.name === "chunked" && chunked) return RES.chunked_twice;
    const strip = cl !== undefined;
    if (chunked && before === 0 && !strip) return RES_CHUNKED;
    const names = before === 0 ? NO_CODINGS : codings.slice(0, before).map((c) => c.name);
    return { kind: chunked ? "chunked" : "close", stripContentLength: strip, codings: names };
  }
  if (cl !== undefined) {
    const length = contentLengthOf(head.fields, cl);
    if (length < 0) return clError(length, RES);
    return { kind: "length", length };
  }
  return RES_CLOSE;
}
