/**
 * Framing and content coding are not differences: the same payload sent with
 * any framing (Content-Length, chunked, chunked with extensions and trailers,
 * close-delimited, or already de-chunked as fetch delivers it) under any
 * coding (none, identity, gzip, deflate zlib or raw, br, gzip then br) compares
 * equal against every other way; a real difference shows up in every one.
 */
import { describe, expect, test } from "bun:test";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import {
  compareMessages,
  DECODED_MAX_BYTES,
  DECODED_MAX_RATIO,
  DECODED_MIN_LIMIT,
  dechunk,
  decodeContent,
  decodeContentWithin,
  decodedLimit,
  type HttpMessage,
  normalizeMessage,
  OVER_LIMIT,
  parseRawHttp,
} from "../../../src/compare/index.ts";

const enc = new TextEncoder();
const concat = (...parts: (string | Uint8Array)[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? enc.encode(p) : p)));

const CODINGS: [name: string, header: string | undefined, encode: (b: Uint8Array) => Uint8Array][] = [
  ["none", undefined, (b) => b],
  ["identity", "identity", (b) => b],
  ["gzip", "gzip", (b) => gzipSync(b)],
  ["x-gzip", "x-gzip", (b) => gzipSync(b)],
  ["deflate (zlib)", "deflate", (b) => deflateSync(b)],
  ["deflate (raw)", "deflate", (b) => deflateRawSync(b)],
  ["br", "br", (b) => brotliCompressSync(b)],
  ["gzip, br", "gzip, br", (b) => brotliCompressSync(gzipSync(b))],
];

/** Splits bytes into chunks of 7 (the last shorter), so every payload has several. */
function chunks(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += 7) out.push(b.subarray(i, i + 7));
  return out;
}

type Framing = (head: string, body: Uint8Array, headers: [string, string][]) => HttpMessage;
const headLines = (headers: [string, string][]) => headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");

const FRAMINGS: [name: string, frame: Framing][] = [
  ["content-length", (head, body, h) => parseRawHttp(concat(head, headLines(h), `Content-Length: ${body.length}\r\n\r\n`, body))],
  ["chunked", (head, body, h) => parseRawHttp(concat(head, headLines(h), "Transfer-Encoding: chunked\r\n\r\n", ...chunks(body).flatMap((c) => [`${c.length.toString(16)}\r\n`, c, "\r\n"]), "0\r\n\r\n"))],
  [
    "chunked with extensions and trailers",
    (head, body, h) =>
      parseRawHttp(
        concat(
          head,
          headLines(h),
          "Transfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Served\r\n\r\n",
          ...chunks(body).flatMap((c, i) => [`${c.length.toString(16).toUpperCase()} ;seq=${i};name="q\\"x"\r\n`, c, "\r\n"]),
          "0;final\r\nX-Checksum: abc123\r\nX-Served: edge-7\r\n\r\n",
        ),
      ),
  ],
  ["close-delimited", (head, body, h) => parseRawHttp(concat(head, headLines(h), "Connection: close\r\n\r\n", body))],
  ["live (fetch: de-chunked, still labelled chunked)", (_head, body, h) => ({ status: 200, headers: [...h, ["transfer-encoding", "chunked"]], body })],
];

const PAYLOADS: [name: string, type: string, same: Uint8Array, other: Uint8Array, differs: string][] = [
  ["JSON", "application/json", enc.encode('{"id":7,"name":"widget","tags":["a","b"],"price":10.5}'), enc.encode('{"tags":["a","b"],"price":11,"name":"widget","id":7}'), "$.price"],
  ["text", "text/plain; charset=utf-8", enc.encode("line one\nline two — é\nline three\n"), enc.encode("line one\nline 2 — é\nline three\n"), "body:line 2"],
  ["binary", "application/octet-stream", Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256), Uint8Array.from({ length: 300 }, (_, i) => (i === 150 ? 0 : (i * 37) % 256)), "body"],
];

const COMBOS = FRAMINGS.flatMap(([fname, frame]) => CODINGS.map(([cname, header, encode]) => ({ name: `${fname} × ${cname}`, frame, header, encode })));

function response(combo: (typeof COMBOS)[number], type: string, payload: Uint8Array): HttpMessage {
  const headers: [string, string][] = [["Content-Type", type], ["Cache-Control", "no-store"]];
  if (combo.header !== undefined) headers.push(["Content-Encoding", combo.header]);
  return combo.frame("HTTP/1.1 200 OK\r\n", combo.encode(payload), headers);
}

describe.each(PAYLOADS)("%s payload", (_p, type, same, other, differs) => {
  test.each(COMBOS.map((c) => [c.name, c] as const))("%s against every framing × coding", (_name, left) => {
    const legacy = response(left, type, same);
    for (const right of COMBOS) {
      const equal = compareMessages(legacy, response(right, type, same));
      if (equal.differences.length > 0) throw new Error(`${left.name} vs ${right.name}: ${JSON.stringify(equal.differences)}`);
      expect(equal.equal).toBe(true);
      const changed = compareMessages(legacy, response(right, type, other));
      expect(changed.equal).toBe(false);
      expect(changed.differences.map((d) => d.path)).toEqual([differs]);
    }
  });
});

describe("what stays a difference", () => {
  test("a body that cannot be decoded keeps its Content-Encoding, which then differs, and is compared as bytes", () => {
    const good = parseRawHttp(enc.encode('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"a":1}'));
    const broken = parseRawHttp(enc.encode('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\r\n{"a":2}'));
    const v = compareMessages(good, broken);
    expect(v.differences.map((d) => [d.path, d.kind])).toEqual([
      ["headers.content-encoding", "header"],
      ["body", "type"],
    ]);
    // The same bytes under a coding they are not in: only the label differs.
    const mislabelled = parseRawHttp(enc.encode('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\r\n{"a":1}'));
    expect(compareMessages(good, mislabelled).differences.map((d) => d.path)).toEqual(["headers.content-encoding"]);
  });

  test("an unknown coding is not undone", () => {
    const n = normalizeMessage({ status: 200, headers: [["Content-Encoding", "compress"]], body: enc.encode("x") });
    expect(n.codingError).toMatch(/could not be decoded/);
    expect(n.headers).toEqual([["Content-Encoding", "compress"]]);
  });

  test("maybe-decoded input (HAR, curl --compressed): a body that is not in its declared coding is the payload", () => {
    const n = normalizeMessage({ status: 200, headers: [["Content-Encoding", "gzip"], ["Content-Length", "20"], ["X-A", "1"]], body: enc.encode('{"a":1}') }, { mayBeDecoded: true });
    expect(n.codingError).toBeUndefined();
    expect(n.headers).toEqual([["X-A", "1"]]);
    expect(new TextDecoder().decode(n.body)).toBe('{"a":1}');
  });
});

describe("dechunk", () => {
  test("extensions, trailers, bare LF, upper-case hex", () => {
    const r = dechunk(enc.encode('5;a=1;b="x;y"\r\nhello\r\nA\nworld12345\n0\r\nX-T: 1\r\n\r\n'));
    expect(new TextDecoder().decode(r?.body)).toBe("helloworld12345");
    expect(r?.trailers).toEqual([["X-T", "1"]]);
  });

  test("a body that is not (or no longer) chunked is left alone", () => {
    // curl writes a chunked response's body de-chunked under its Transfer-Encoding: chunked header.
    const m = parseRawHttp(enc.encode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n{"a":1}'));
    expect(new TextDecoder().decode(m.body)).toBe('{"a":1}');
    expect(m.headers).toEqual([["Content-Type", "application/json"]]);
    expect(dechunk(enc.encode("5\r\nhel"))).toBeUndefined();
    expect(dechunk(enc.encode("5\r\nhello\r\n0\r\n\r\nextra"))).toBeUndefined();
    expect(dechunk(enc.encode("zz\r\n"))).toBeUndefined();
  });
});

describe("decompression bombs: decoded bodies are capped", () => {
  // 8 MiB of "a" gzip to ~8 KB (cap: 1 MiB); 256 MiB of spaces brotli to a few hundred bytes.
  const gzipBomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61), { level: 9 });
  const brBomb = brotliCompressSync(Buffer.alloc(256 * 1024 * 1024, 0x20));
  const json = (coding: string, body: Uint8Array): HttpMessage => ({ status: 200, headers: [["Content-Type", "application/json"], ["Content-Encoding", coding]], body });

  test("the bombs are real: a few KB (or bytes) that expand far past the cap", () => {
    expect(gzipBomb.length).toBeLessThan(16 * 1024);
    expect(brBomb.length).toBeLessThan(1024);
    expect(decodedLimit(gzipBomb.length)).toBe(DECODED_MIN_LIMIT);
    expect(decodedLimit(10 * 1024 * 1024)).toBe(DECODED_MAX_BYTES);
    expect(decodedLimit(100_000)).toBe(100_000 * DECODED_MAX_RATIO);
  });

  test.each([
    ["gzip", () => gzipBomb],
    ["br", () => brBomb],
    ["deflate", () => deflateSync(Buffer.alloc(8 * 1024 * 1024, 0x61))],
    ["gzip, br", () => brotliCompressSync(gzipBomb)],
  ])("regression: a %s bomb is not decoded in full; the comparison is incomplete, never a verdict on a guess", (coding, bomb) => {
    const bytes = bomb();
    const t0 = performance.now();
    const n = normalizeMessage(json(coding, bytes));
    expect(n.overLimit).toBe(true);
    expect(n.body).toBe(bytes);
    expect(n.codingError).toStartWith(`content encoding ${JSON.stringify(coding)} decodes to more than ${decodedLimit(bytes.length)} bytes`);
    expect(n.headers).toContainEqual(["Content-Encoding", coding]);
    expect(decodeContentWithin(bytes, coding, decodedLimit(bytes.length))).toBe(OVER_LIMIT);
    expect(decodeContent(bytes, coding)).toBeUndefined();
    const v = compareMessages(json("identity", enc.encode('{"a":1}')), json(coding, bytes));
    expect(v).toMatchObject({ equal: false, incomplete: true });
    expect(v.reason).toStartWith(`the candidate body cannot be compared: content encoding ${JSON.stringify(coding)} decodes to more than`);
    expect(compareMessages(json(coding, bytes), json("identity", enc.encode("{}"))).reason).toStartWith("the legacy body cannot be compared");
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test("a maybe-decoded input (HAR, curl --compressed) holding a bomb is not taken as the payload either", () => {
    const n = normalizeMessage(json("gzip", gzipBomb), { mayBeDecoded: true });
    expect(n.overLimit).toBe(true);
    expect(n.body).toBe(gzipBomb);
  });

  test("the same bomb on both sides, byte for byte, is equal without decoding", () => {
    expect(compareMessages(json("gzip", gzipBomb), json("gzip", gzipBomb))).toMatchObject({ equal: true, incomplete: false });
  });

  test("a highly compressible payload within 64× its coded size still decodes", () => {
    const doc = JSON.stringify({ rows: Array.from({ length: 20_000 }, (_, i) => ({ id: i % 10, status: "active", ok: true })) });
    const coded = gzipSync(doc);
    expect(doc.length / coded.length).toBeGreaterThan(30);
    expect(doc.length).toBeGreaterThan(DECODED_MIN_LIMIT / 2);
    expect(compareMessages(json("identity", enc.encode(doc)), json("gzip", coded))).toMatchObject({ equal: true, incomplete: false });
  });
});
