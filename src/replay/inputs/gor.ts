/**
 * GoReplay files (`--output-file x.gor`): payloads separated by "\n🐵🙈🙉\n",
 * each a meta line "TYPE ID TIMESTAMP_NS LATENCY_NS" and the raw HTTP message.
 * Type 1 is a request, 2 the response the recorded service gave (written when
 * GoReplay tracked responses), 3 a response of a replay (ignored). A response
 * is joined to its request by id.
 */
import { dechunk, headerIn, indexOfSeq, parseRawHttp, splitHead } from "../../compare/index.ts";
import { type RecordedExchange, type InputItem, type RecordedResponse, splitTarget } from "../exchange.ts";
import type { ByteSource } from "./source.ts";

const SEPARATOR = [...new TextEncoder().encode("\n🐵🙈🙉\n")];
/** Requests waiting for their response; past this many the oldest goes on without one. */
const MAX_PENDING = 1000;

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

const REQUEST_LINE = /^([A-Za-z]+) (\S+) HTTP\/\d(?:\.\d)?$/;

/** A raw HTTP/1.x request: request line, header fields, body (un-chunked). Throws a readable message. */
export function parseRawRequest(bytes: Uint8Array): { method: string; url: string; headers: [string, string][]; body: Uint8Array } {
  const { lines, bodyStart } = splitHead(bytes, 0);
  const m = REQUEST_LINE.exec(lines[0] ?? "");
  if (!m) throw new Error(`not an HTTP request line: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  let headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i <= 0) throw new Error(`malformed header field: ${JSON.stringify(l.slice(0, 80))}`);
    headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
  }
  let body = bytes.subarray(bodyStart);
  const declared = headerIn(headers, "content-length");
  if (declared !== undefined && /^\d+$/.test(declared) && body.length < Number(declared)) throw new Error(`truncated: the body has ${body.length} of ${declared} bytes`);
  if (/\bchunked\b/i.test(headerIn(headers, "transfer-encoding") ?? "")) {
    const plain = dechunk(body);
    if (!plain) throw new Error("broken chunked body");
    body = plain.body;
    headers = headers.filter(([k]) => !["transfer-encoding", "trailer"].includes(k.toLowerCase()));
  }
  return { method: (m[1] as string).toUpperCase(), url: m[2] as string, headers, body };
}

interface Meta {
  type: string;
  id: string;
  timeNs: number;
  latencyNs: number;
}

function parseMeta(line: string): Meta {
  const [type, id, time, latency] = line.trim().split(" ");
  if (!type || !/^[123]$/.test(type) || !id || !time || !/^\d+$/.test(time)) throw new Error(`not a GoReplay meta line: ${JSON.stringify(line.slice(0, 80))}`);
  return { type, id, timeNs: Number(time), latencyNs: latency && /^-?\d+$/.test(latency) ? Number(latency) : 0 };
}

export async function* readGor(src: ByteSource): AsyncGenerator<InputItem> {
  const pending = new Map<string, RecordedExchange>();
  let buf = new Uint8Array(0);
  let lineAtBuf = 1;
  let scanned = 0;
  function* payload(bytes: Uint8Array, line: number): Generator<InputItem> {
    if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 10)) return;
    const nl = bytes.indexOf(10);
    let meta: Meta;
    try {
      meta = parseMeta(new TextDecoder().decode(nl < 0 ? bytes : bytes.subarray(0, nl)));
      if (nl < 0) throw new Error("payload without an HTTP message");
    } catch (err) {
      yield { corrupt: { file: src.path, line, message: (err as Error).message } };
      return;
    }
    const http = bytes.subarray(nl + 1);
    if (meta.type === "1") {
      try {
        const r = parseRawRequest(http);
        const { host, target } = splitTarget(r.url);
        pending.set(meta.id, {
          time: meta.timeNs / 1e6,
          route: undefined,
          request: { method: r.method, target, host: host ?? headerIn(r.headers, "host"), headers: r.headers, body: r.body.length > 0 ? r.body : undefined },
          response: undefined,
          file: src.path,
          line,
        });
      } catch (err) {
        yield { corrupt: { file: src.path, line, message: (err as Error).message } };
        return;
      }
      if (pending.size > MAX_PENDING) {
        const [oldest, ex] = pending.entries().next().value as [string, RecordedExchange];
        pending.delete(oldest);
        yield { exchange: ex };
      }
    } else if (meta.type === "2") {
      const req = pending.get(meta.id);
      if (!req) return; // a response whose request is not in the file
      pending.delete(meta.id);
      const parsed = parseRawHttp(http);
      if (!parsed.status) {
        yield { corrupt: { file: src.path, line, message: "response payload without an HTTP status line" } };
        yield { exchange: req };
        return;
      }
      const response: RecordedResponse = { status: parsed.status, headers: parsed.headers ?? [], body: parsed.body, durationMs: meta.latencyNs > 0 ? meta.latencyNs / 1e6 : undefined };
      yield { exchange: { ...req, response } };
    }
  }
  for await (const chunk of src.chunks()) {
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
    let from = 0;
    // Resume the search where the last chunk's ended, not from the start of a long payload.
    for (let i = indexOfSeq(buf, SEPARATOR, scanned); i >= 0; i = indexOfSeq(buf, SEPARATOR, from)) {
      const bytes = buf.subarray(from, i);
      yield* payload(bytes, lineAtBuf);
      lineAtBuf += countLines(bytes) + 2;
      from = i + SEPARATOR.length;
    }
    buf = buf.slice(from);
    scanned = Math.max(0, buf.length - SEPARATOR.length + 1);
  }
  // The last payload may lack its separator.
  if (buf.length > 0) yield* payload(buf[buf.length - 1] === 10 ? buf.subarray(0, buf.length - 1) : buf, lineAtBuf);
  for (const ex of pending.values()) yield { exchange: ex };
}
