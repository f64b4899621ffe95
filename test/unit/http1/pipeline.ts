/**
 * Test helper: reads a byte stream the way the connection layer will, with
 * the codec alone — head, framing, Host, body (Content-Length or chunked),
 * then the next pipelined message — and returns one verdict, so tests can
 * compare it with llhttp's or assert a framing.
 */
import { ChunkedDecoder } from "../../../src/http1/chunked.ts";
import { connectionInfo } from "../../../src/http1/connection.ts";
import { requestFraming, responseFraming } from "../../../src/http1/framing.ts";
import { parseRequestHead, parseResponseHead } from "../../../src/http1/head.ts";
import { requestAuthority } from "../../../src/http1/host.ts";

export interface ReadMessage {
  /** Where the message starts in the input. */
  start: number;
  method: string | null;
  target: string | null;
  status: number | null;
  reason: string | null;
  version: 0 | 1;
  /** Header fields then trailer fields, flat. */
  fields: string[];
  /** The body with framing removed. */
  body: Uint8Array;
  /** none, length, chunked, close, tunnel. */
  framing: string;
  keepAlive: boolean;
}

export interface Verdict {
  messages: ReadMessage[];
  /** The first refusal: its code, status and where the refused message starts. */
  error: { code: string; status: number; at: number } | null;
  /** The input ended inside a message (for responses, a refusal instead: code "truncated"). */
  pending: boolean;
  /** Where the input ended when pending: in a head or in a body. */
  pendingIn: "head" | "body" | null;
  /** A message asked to close the connection and bytes followed it. */
  dataAfterClose: boolean;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Only CRLF pairs from `pos` to the end (the last maybe cut after its CR): what a server skips between requests. */
function onlyEmptyLines(bytes: Uint8Array, pos: number): boolean {
  for (let i = pos; i < bytes.length; i += 2) if (bytes[i] !== 13 || (i + 1 < bytes.length && bytes[i + 1] !== 10)) return false;
  return true;
}

/** Bytes after a message that closes the connection, other than stray CR and LF (which llhttp also ignores). */
function dataAfter(bytes: Uint8Array, pos: number): boolean {
  for (let i = pos; i < bytes.length; i++) if (bytes[i] !== 13 && bytes[i] !== 10) return true;
  return false;
}

/** Reads requests from `bytes` as a server would. */
export function readRequests(bytes: Uint8Array): Verdict {
  const v: Verdict = { messages: [], error: null, pending: false, pendingIn: null, dataAfterClose: false };
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const r = parseRequestHead(bytes, pos, bytes.length);
    if (r.kind === "incomplete") {
      v.pending = !onlyEmptyLines(bytes, pos);
      v.pendingIn = v.pending ? "head" : null;
      return v;
    }
    if (r.kind === "error") {
      v.error = { code: r.code, status: r.status, at: start };
      return v;
    }
    const head = r.head;
    const framing = requestFraming(head);
    if (framing.kind === "error") {
      v.error = { code: framing.code, status: framing.status, at: start };
      return v;
    }
    const host = requestAuthority(head);
    if (host.kind === "error") {
      v.error = { code: host.code, status: host.status, at: start };
      return v;
    }
    const conn = connectionInfo(head);
    const msg: ReadMessage = {
      start,
      method: head.method,
      target: head.target,
      status: null,
      reason: null,
      version: head.version,
      fields: head.fields.slice(),
      body: new Uint8Array(0),
      framing: framing.kind,
      keepAlive: conn.keepAlive,
    };
    v.messages.push(msg);
    pos = r.next;
    if (head.method === "CONNECT" || conn.upgrade.length > 0) {
      msg.framing = "tunnel";
      return v;
    }
    if (framing.kind === "length") {
      msg.body = bytes.slice(pos, pos + framing.length);
      if (bytes.length - pos < framing.length) {
        v.pending = true;
        v.pendingIn = "body";
        return v;
      }
      pos += framing.length;
    } else if (framing.kind === "chunked") {
      const d = new ChunkedDecoder();
      const res = d.push(bytes, pos, bytes.length);
      msg.body = concat(res.chunks);
      if (res.error) {
        v.error = { code: res.error.code, status: 400, at: start };
        return v;
      }
      if (!res.done) {
        v.pending = true;
        v.pendingIn = "body";
        return v;
      }
      msg.fields.push(...(res.trailers ?? []));
      pos += res.consumed;
    }
    if (!conn.keepAlive) {
      v.dataAfterClose = dataAfter(bytes, pos);
      return v;
    }
  }
  return v;
}

/** Reads responses to `method` requests from `bytes` as a client would, the stream ending where `bytes` does. */
export function readResponses(bytes: Uint8Array, method: string): Verdict {
  const v: Verdict = { messages: [], error: null, pending: false, pendingIn: null, dataAfterClose: false };
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const r = parseResponseHead(bytes, pos, bytes.length);
    if (r.kind === "incomplete") {
      if (!dataAfter(bytes, pos)) return v; // stray CR/LF at the end, as llhttp ignores
      // The stream ends here: a response cut inside its head is refused.
      v.error = { code: "truncated", status: 502, at: start };
      return v;
    }
    if (r.kind === "error") {
      v.error = { code: r.code, status: r.status, at: start };
      return v;
    }
    const head = r.head;
    const framing = responseFraming(head, method);
    if (framing.kind === "error") {
      v.error = { code: framing.code, status: framing.status, at: start };
      return v;
    }
    const msg: ReadMessage = {
      start,
      method: null,
      target: null,
      status: head.status,
      reason: head.reason,
      version: head.version,
      fields: head.fields.slice(),
      body: new Uint8Array(0),
      framing: framing.kind,
      keepAlive: connectionInfo(head).keepAlive,
    };
    v.messages.push(msg);
    pos = r.next;
    if (framing.kind === "tunnel") return v;
    if (framing.kind === "close") {
      msg.body = bytes.slice(pos);
      return v;
    }
    if (framing.kind === "length") {
      msg.body = bytes.slice(pos, pos + framing.length);
      if (bytes.length - pos < framing.length) {
        v.error = { code: "truncated", status: 502, at: start };
        return v;
      }
      pos += framing.length;
    } else if (framing.kind === "chunked") {
      const d = new ChunkedDecoder();
      const res = d.push(bytes, pos, bytes.length);
      msg.body = concat(res.chunks);
      if (res.error) {
        v.error = { code: res.error.code, status: 502, at: start };
        return v;
      }
      if (!res.done) {
        v.error = { code: "truncated", status: 502, at: start };
        return v;
      }
      msg.fields.push(...(res.trailers ?? []));
      pos += res.consumed;
    }
    if (!msg.keepAlive) {
      v.dataAfterClose = dataAfter(bytes, pos);
      return v;
    }
  }
  return v;
}

/** Bytes of a latin-1 string (each character one byte). */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A latin-1 string of bytes. */
export function text(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}
