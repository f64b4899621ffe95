/**
 * Request smuggling and parser-discrepancy shapes from published research,
 * each fed to the codec the way the connection layer will (pipeline.ts:
 * head → framing → Host → body → next message). Every shape must either be
 * refused (with the given status and code) or parse to one unambiguous
 * framing (the listed messages, with their bodies), whole and one byte at a
 * time alike.
 *
 * Sources: Linhart et al., "HTTP Request Smuggling" (Watchfire, 2005);
 * Kettle, "HTTP Desync Attacks: Request Smuggling Reborn" (PortSwigger, 2019)
 * and "Browser-Powered Desync Attacks" (2022); the HTTP Garden parser
 * differential work (Kallus et al., 2024); llhttp advisories CVE-2022-32213,
 * CVE-2022-32214, CVE-2022-32215, CVE-2023-30589, CVE-2024-22019; Go
 * CVE-2025-22871; Python's int() accepting "0x", "+", "_" in sizes.
 */
import { describe, expect, test } from "bun:test";
import { connectionInfo } from "../../../src/http1/connection.ts";
import { requestFraming, responseFraming } from "../../../src/http1/framing.ts";
import { type HeadProgress, parseRequestHead, parseResponseHead } from "../../../src/http1/head.ts";
import { bytes, readRequests, readResponses, text, type Verdict } from "./pipeline.ts";

type Expect = { refuse: [status: number, code: string] } | { messages: { target?: string; status?: number; framing: string; body: string }[] };

// [shape, source, bytes on the wire, expectation]
type Row = [string, string, string, Expect];

const H = "Host: a.test\r\n";
const post = (fields: string, body: string) => `POST /x HTTP/1.1\r\n${H}${fields}\r\n${body}`;
const NEXT = "GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n";
const refuse = (status: number, code: string): Expect => ({ refuse: [status, code] });
const two = (framing: string, body: string): Expect => ({
  messages: [
    { target: "/x", framing, body },
    { target: "/smuggled", framing: "none", body: "" },
  ],
});

const requests: Row[] = [
  // Content-Length vs Transfer-Encoding
  ["CL.TE", "Watchfire 2005; Kettle 2019", post("Content-Length: 13\r\nTransfer-Encoding: chunked\r\n", `0\r\n\r\n${NEXT}`), refuse(400, "te_and_cl")],
  ["TE.CL", "Kettle 2019", post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", `8\r\nSMUGGLED\r\n0\r\n\r\n`), refuse(400, "te_and_cl")],
  ["CL.0 shape: TE chunked with Content-Length: 0", "Kettle 2022", post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", "0\r\n\r\n"), refuse(400, "te_and_cl")],
  ["CL.CL: two different lengths", "Watchfire 2005", post("Content-Length: 0\r\nContent-Length: 44\r\n", NEXT), refuse(400, "conflicting_content_length")],
  ["CL list with different values", "RFC 9110 §8.6", post("Content-Length: 0, 44\r\n", NEXT), refuse(400, "conflicting_content_length")],
  ["CL list with the same value", "RFC 9110 §8.6", post("Content-Length: 5, 5\r\n", `hello${NEXT}`), two("length", "hello")],
  ["CL repeated with the same value", "RFC 9110 §8.6", post("Content-Length: 5\r\nContent-Length: 5\r\n", `hello${NEXT}`), two("length", "hello")],
  ["CL with a plus sign", "Kettle 2019", post("Content-Length: +5\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL with a minus sign", "Watchfire 2005", post("Content-Length: -1\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL with leading zeros (decimal, never octal)", "HTTP Garden", post("Content-Length: 0005\r\n", `hello${NEXT}`), two("length", "hello")],
  ["CL in hex (0x10)", "HTTP Garden", post("Content-Length: 0x10\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL with an underscore (Python int())", "HTTP Garden", post("Content-Length: 1_0\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL in exponent form", "HTTP Garden", post("Content-Length: 1e1\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL with a space inside", "HTTP Garden", post("Content-Length: 1 0\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL with a trailing comma", "HTTP Garden", post("Content-Length: 5,\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL with non-ASCII digits", "HTTP Garden", post("Content-Length: \xd9\xa5\r\n", "hello"), refuse(400, "bad_content_length")],
  ["CL of 2^64+5 (wraps to 5 in 64 bits)", "HTTP Garden", post("Content-Length: 18446744073709551621\r\n", "hello"), refuse(400, "content_length_overflow")],
  ["CL surrounded by whitespace (OWS is not part of the value)", "RFC 9112 §5.1", post("Content-Length: \t5 \t\r\n", `hello${NEXT}`), two("length", "hello")],
  ["CL with space before the colon", "Kettle 2019", post("Content-Length : 5\r\n", "hello"), refuse(400, "bad_field_name")],
  ["CL with NUL", "HTTP Garden", post("Content-Length: 5\0\r\n", "hello"), refuse(400, "bad_field_value")],
  ["CL folded onto a second line", "Watchfire 2005", post("Content-Length: 5\r\n 0\r\n", "hello"), refuse(400, "obs_fold")],
  ["CL named in Connection (a proxy stripping it would unframe the body)", "Kettle 2019 (hop-by-hop abuse)", post("Connection: Content-Length\r\nContent-Length: 5\r\n", `hello${NEXT}`), two("length", "hello")],
  ["GET with a body and Content-Length (framed like any request)", "Kettle 2022", `GET /x HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello${NEXT}`, two("length", "hello")],
  ["GET without framing fields has no body: what follows is the next request", "Kettle 2022 (CL.0)", `GET /x HTTP/1.1\r\n${H}\r\n${NEXT}`, two("none", "")],
  // obfuscated Transfer-Encoding (TE.TE)
  ["TE: xchunked", "Kettle 2019", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), refuse(400, "chunked_not_final")],
  ["TE: chunk", "Kettle 2019", post("Transfer-Encoding: chunk\r\n", "0\r\n\r\n"), refuse(400, "chunked_not_final")],
  ["TE: chunked, identity", "Kettle 2019", post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"), refuse(400, "chunked_not_final")],
  ["TE: identity, chunked (unknown coding before chunked)", "Kettle 2019", post("Transfer-Encoding: identity, chunked\r\n", "0\r\n\r\n"), refuse(501, "unsupported_transfer_coding")],
  ["TE: chunked then TE: x", "Kettle 2019", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", "0\r\n\r\n"), refuse(400, "chunked_not_final")],
  ["TE: x then TE: chunked", "Kettle 2019", post("Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), refuse(501, "unsupported_transfer_coding")],
  ["TE: chunked twice", "CVE-2022-32213", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), refuse(400, "chunked_twice")],
  ["TE: chunked with trailing space (OWS trimmed)", "Kettle 2019", post("Transfer-Encoding: chunked \r\n", `5\r\nhello\r\n0\r\n\r\n${NEXT}`), two("chunked", "hello")],
  ["TE: leading space before chunked (OWS trimmed)", "Kettle 2019", post("Transfer-Encoding:  chunked\r\n", `5\r\nhello\r\n0\r\n\r\n${NEXT}`), two("chunked", "hello")],
  ["TE: tab before chunked (OWS trimmed)", "Kettle 2019", post("Transfer-Encoding:\tchunked\r\n", `5\r\nhello\r\n0\r\n\r\n${NEXT}`), two("chunked", "hello")],
  ["TE: Chunked in mixed case (codings are case-insensitive)", "RFC 9112 §7", post("Transfer-Encoding: ChUnKeD\r\n", `5\r\nhello\r\n0\r\n\r\n${NEXT}`), two("chunked", "hello")],
  ["TE: quoted chunked", "HTTP Garden", post('Transfer-Encoding: "chunked"\r\n', "0\r\n\r\n"), refuse(400, "bad_transfer_encoding")],
  ["TE: chunked with a parameter", "HTTP Garden", post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"), refuse(400, "bad_transfer_encoding")],
  ["TE: empty", "HTTP Garden", post("Transfer-Encoding:\r\n", "0\r\n\r\n"), refuse(400, "bad_transfer_encoding")],
  ["TE: chunked followed by a vertical tab", "HTTP Garden", post("Transfer-Encoding: chunked\x0b\r\n", "0\r\n\r\n"), refuse(400, "bad_field_value")],
  ["TE: form feed before chunked", "HTTP Garden", post("Transfer-Encoding: \x0cchunked\r\n", "0\r\n\r\n"), refuse(400, "bad_field_value")],
  ["Transfer-Encoding with space before the colon", "Kettle 2019", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), refuse(400, "bad_field_name")],
  ["Transfer-Encoding with tab before the colon", "Kettle 2019", post("Transfer-Encoding\t: chunked\r\n", "0\r\n\r\n"), refuse(400, "bad_field_name")],
  ["Transfer-Encoding with LF before the colon", "Kettle 2019", post("Transfer-Encoding\n: chunked\r\n", "0\r\n\r\n"), refuse(400, "bare_lf")],
  ["Transfer-Encoding line starting with a space", "Kettle 2019", post(" Transfer-Encoding: chunked\r\n", "0\r\n\r\n"), refuse(400, "obs_fold")],
  ["Transfer-Encoding folded onto the previous line", "Kettle 2019; CVE-2022-32215", post("X: y\r\n Transfer-Encoding: chunked\r\n", "0\r\n\r\n"), refuse(400, "obs_fold")],
  ["Transfer-Encoding after a bare LF", "Kettle 2019; CVE-2022-32214", post("X: y\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), refuse(400, "bare_lf")],
  ["Transfer-Encoding after a bare CR", "CVE-2023-30589", post("X: y\rTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), refuse(400, "bad_field_value")],
  ["Transfer_Encoding (underscore) is another field: no body", "HTTP Garden (servers mapping _ to -)", `POST /x HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\n\r\n${NEXT}`, two("none", "")],
  ["Transfer-Encoding with a non-ASCII letter in the name", "HTTP Garden", post("Transfer-Encod\xc4\xb1ng: chunked\r\n", "0\r\n\r\n"), refuse(400, "bad_field_name")],
  ["TE in an HTTP/1.0 request", "RFC 9112 §6.1", `POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, refuse(400, "te_in_http10")],
  // chunk sizes and line endings
  ["chunk size 0x5", "HTTP Garden (Python int(x, 16))", post("Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_size")],
  ["chunk size +5", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "+5\r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_size")],
  ["chunk size with an underscore", "HTTP Garden (Python int())", post("Transfer-Encoding: chunked\r\n", "1_0\r\n0123456789abcdef\r\n0\r\n\r\n"), refuse(400, "bad_chunk_size")],
  ["chunk size with a leading space", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", " 5\r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_size")],
  ["chunk size with trailing garbage", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "5g\r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_size")],
  ["chunk size 5 ;ext (BWS before ';' is allowed)", "RFC 9112 §7.1.1", post("Transfer-Encoding: chunked\r\n", `5 ;ext\r\nhello\r\n0\r\n\r\n${NEXT}`), two("chunked", "hello")],
  ["chunk size with trailing whitespace and no extension", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_extension")],
  ["chunk size of 2^64+5 (wraps to 5 in 64 bits)", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "10000000000000005\r\nhello\r\n0\r\n\r\n"), refuse(400, "chunk_size_overflow")],
  ["chunk size 2^64-1", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "ffffffffffffffff\r\n"), refuse(400, "chunk_size_overflow")],
  ["chunk size with 17 hex digits, leading zeros", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "00000000000000005\r\nhello\r\n0\r\n\r\n"), refuse(400, "chunk_size_overflow")],
  ["chunk extension with a bare LF", "Puma and Go advisories (LF in chunk extensions)", post("Transfer-Encoding: chunked\r\n", "5;a\nxx\r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_line_ending")],
  ["chunk extension with CR LF inside a quoted string", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", '5;a="x\r\n0\r\n\r\n"\r\nhello\r\n0\r\n\r\n'), refuse(400, "bad_chunk_extension")],
  ["chunk-size line ended by a bare LF", "CVE-2025-22871", post("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_line_ending")],
  ["LF-only chunked framing throughout", "CVE-2022-32214", post("Transfer-Encoding: chunked\r\n", "5\nhello\n0\n\n"), refuse(400, "bad_chunk_line_ending")],
  ["chunk data ended by a bare LF", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "5\r\nhello\n0\r\n\r\n"), refuse(400, "bad_chunk_terminator")],
  ["chunk data longer than its size", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "3\r\nhello\r\n0\r\n\r\n"), refuse(400, "bad_chunk_terminator")],
  ["last chunk followed by a bare LF", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "0\r\n\n"), refuse(400, "bad_trailer")],
  ["trailers carrying Content-Length are fields, not framing", "RFC 9110 §6.5.1", post("Transfer-Encoding: chunked\r\n", `5\r\nhello\r\n0\r\nContent-Length: 40\r\n\r\n${NEXT}`), two("chunked", "hello")],
  ["folded trailer", "HTTP Garden", post("Transfer-Encoding: chunked\r\n", "0\r\nX: a\r\n b\r\n\r\n"), refuse(400, "bad_trailer")],
  // header syntax
  ["NUL in a header value", "HTTP Garden", `GET /x HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`, refuse(400, "bad_field_value")],
  ["NUL in a header name", "HTTP Garden", `GET /x HTTP/1.1\r\n${H}X\0: a\r\n\r\n`, refuse(400, "bad_field_name")],
  ["header name with a space before the colon", "Kettle 2019", `GET /x HTTP/1.1\r\nHost : evil.test\r\n\r\n`, refuse(400, "bad_field_name")],
  ["a bare CR as a line ending", "CVE-2023-30589", `GET /x HTTP/1.1\r${H}\r\n`, refuse(400, "bad_version")],
  ["a bare CR ending a header line", "CVE-2023-30589", `GET /x HTTP/1.1\r\nX: a\r${H}\r\n`, refuse(400, "bad_field_value")],
  ["bare LF line endings throughout", "CVE-2022-32214", `GET /x HTTP/1.1\n${H.replace("\r\n", "\n")}\n`, refuse(400, "bare_lf")],
  ["a bare LF before the request line", "HTTP Garden", `\nGET /x HTTP/1.1\r\n${H}\r\n`, refuse(400, "bare_lf")],
  ["obs-fold in any header", "RFC 9112 §5.2", `GET /x HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`, refuse(400, "obs_fold")],
  // request line and Host
  ["request line with tabs", "HTTP Garden", `GET\t/x\tHTTP/1.1\r\n${H}\r\n`, refuse(400, "bad_method")],
  ["request line with two spaces", "HTTP Garden", `GET  /x HTTP/1.1\r\n${H}\r\n`, refuse(400, "bad_request_line")],
  ["HTTP/0.9-style request (no version)", "HTTP Garden", "GET /x\r\n\r\n", refuse(400, "bad_request_line")],
  ["HTTP/0.9 version", "HTTP Garden", `GET /x HTTP/0.9\r\n${H}\r\n`, refuse(505, "unsupported_version")],
  ["fragment in the target", "HTTP Garden", `GET /x#/admin HTTP/1.1\r\n${H}\r\n`, refuse(400, "bad_target")],
  ["two Host fields", "RFC 9112 §3.2", `GET /x HTTP/1.1\r\nHost: a.test\r\nHost: evil.test\r\n\r\n`, refuse(400, "multiple_host")],
  ["Host with userinfo", "HTTP Garden", `GET /x HTTP/1.1\r\nHost: a.test@evil.test\r\n\r\n`, refuse(400, "bad_host")],
  ["Host with a path", "HTTP Garden", `GET /x HTTP/1.1\r\nHost: evil.test/x\r\n\r\n`, refuse(400, "bad_host")],
  ["HTTP/1.1 without Host", "RFC 9112 §3.2", `GET /x HTTP/1.1\r\n\r\n`, refuse(400, "missing_host")],
  ["absolute-form with userinfo", "RFC 9110 §4.2.4", `GET http://a.test@evil.test/x HTTP/1.1\r\n${H}\r\n`, refuse(400, "bad_target")],
];

const responses: [string, string, string, string, Expect][] = [
  ["TE and CL in a response: TE wins, CL flagged for removal", "RFC 9112 §6.3 item 3", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", { messages: [{ status: 200, framing: "chunked", body: "hello" }] }],
  ["two different lengths in a response", "Watchfire 2005", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello", refuse(502, "conflicting_content_length")],
  ["TE not ending in chunked: read until close", "RFC 9112 §6.3 item 4", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nwhatever", { messages: [{ status: 200, framing: "close", body: "whatever" }] }],
  ["Content-Length on a response to HEAD", "RFC 9112 §6.3 item 1", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", { messages: [{ status: 200, framing: "none", body: "" }, { status: 204, framing: "none", body: "" }] }],
  ["chunked 204", "RFC 9112 §6.3 item 1", "GET", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", { messages: [{ status: 204, framing: "none", body: "" }, { status: 200, framing: "length", body: "" }] }],
  ["folded response header", "RFC 9112 §5.2", "GET", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", refuse(502, "obs_fold")],
  ["bare LF in a response", "CVE-2022-32214", "GET", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", refuse(502, "bare_lf")],
  ["status code 0200", "HTTP Garden", "GET", "HTTP/1.1 0200 OK\r\nContent-Length: 0\r\n\r\n", refuse(502, "bad_status")],
];

function summary(v: Verdict): Expect {
  if (v.error !== null) return { refuse: [v.error.status, v.error.code] };
  return {
    messages: v.messages.map((m) => {
      const out: { target?: string; status?: number; framing: string; body: string } = { framing: m.framing, body: text(m.body) };
      if (m.target !== null) out.target = m.target;
      if (m.status !== null) out.status = m.status;
      return out;
    }),
  };
}

/** The same stream read as it would arrive one byte at a time: the head from an accumulating buffer. */
function firstHeadBytewise(input: Uint8Array, response: boolean): unknown {
  let progress: HeadProgress | undefined;
  for (let end = 1; end <= input.length; end++) {
    const r = response ? parseResponseHead(input, 0, end, undefined, progress) : parseRequestHead(input, 0, end, undefined, progress);
    if (r.kind !== "incomplete") return r;
    progress = r.progress;
  }
  return { kind: "incomplete" };
}

function firstHeadWhole(input: Uint8Array, response: boolean): unknown {
  const r = response ? parseResponseHead(input, 0, input.length) : parseRequestHead(input, 0, input.length);
  return r.kind === "incomplete" ? { kind: "incomplete" } : r;
}

describe("request smuggling shapes: refused, or one unambiguous framing", () => {
  for (const [shape, source, wire, expected] of requests) {
    test(`${shape} (${source})`, () => {
      const input = bytes(wire);
      expect(summary(readRequests(input))).toEqual(expected);
      expect(firstHeadBytewise(input, false)).toEqual(firstHeadWhole(input, false));
    });
  }

  for (const [shape, source, method, wire, expected] of responses) {
    test(`response: ${shape} (${source})`, () => {
      const input = bytes(wire);
      expect(summary(readResponses(input, method))).toEqual(expected);
      expect(firstHeadBytewise(input, true)).toEqual(firstHeadWhole(input, true));
    });
  }

  test("a Content-Length beside Transfer-Encoding in a response is flagged for the proxy to strip", () => {
    const b = bytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    const r = parseResponseHead(b, 0, b.length);
    expect(r.kind === "ok" && responseFraming(r.head, "GET")).toEqual({ kind: "chunked", stripContentLength: true, codings: [] });
  });

  test("Connection naming Content-Length does not change the framing; the option is reported for the proxy", () => {
    const b = bytes(post("Connection: Content-Length\r\nContent-Length: 5\r\n", ""));
    const r = parseRequestHead(b, 0, b.length);
    if (r.kind !== "ok") throw new Error(r.kind);
    expect(requestFraming(r.head)).toEqual({ kind: "length", length: 5 });
    expect(connectionInfo(r.head).options).toEqual(["content-length"]);
  });
});
