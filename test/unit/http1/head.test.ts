import { describe, expect, test } from "bun:test";
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from "../../../src/http1/head.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits, headLimits, MAX_HEAD_BYTES } from "../../../src/http1/limits.ts";
import { bytes } from "./pipeline.ts";

function req(s: string, limits: HeadLimits = DEFAULT_HEAD_LIMITS) {
  const b = bytes(s);
  return parseRequestHead(b, 0, b.length, limits);
}

function res(s: string, limits: HeadLimits = DEFAULT_HEAD_LIMITS) {
  const b = bytes(s);
  return parseResponseHead(b, 0, b.length, limits);
}

type RequestCase = [name: string, input: string, expected: Partial<RequestHead> | [status: number, code: string]];

// Each request case: the head as sent (\r\n\r\n appended when it does not end with it), and either what it parses to or [status, code].
const requests: RequestCase[] = [
  ["simple GET", "GET / HTTP/1.1\r\nHost: a", { method: "GET", target: "/", version: 1, fields: ["Host", "a"] }],
  ["HTTP/1.0", "GET /x HTTP/1.0", { version: 0, fields: [] }],
  ["lowercase method is a valid token", "get / HTTP/1.1", { method: "get" }],
  ["extension method", "PURGE-ALL /a HTTP/1.1", { method: "PURGE-ALL" }],
  ["method with tchar punctuation", "M!#$%&'*+-.^_`|~ / HTTP/1.1", { method: "M!#$%&'*+-.^_`|~" }],
  ["query and unencoded | { }", "GET /a?b=1&c={x}|y HTTP/1.1", { target: "/a?b=1&c={x}|y" }],
  ["names as received, values trimmed", "GET / HTTP/1.1\r\nX-CaSe:  \t v a l \t ", { fields: ["X-CaSe", "v a l"] }],
  ["empty value", "GET / HTTP/1.1\r\nX:", { fields: ["X", ""] }],
  ["whitespace-only value", "GET / HTTP/1.1\r\nX:  \t ", { fields: ["X", ""] }],
  ["obs-text in value kept as latin-1", "GET / HTTP/1.1\r\nX: caf\xe9\xff", { fields: ["X", "caf\xe9\xff"] }],
  ["HTAB inside value", "GET / HTTP/1.1\r\nX: a\tb", { fields: ["X", "a\tb"] }],
  ["duplicate fields kept in order", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nA: 3", { fields: ["A", "1", "B", "2", "A", "3"] }],
  ["one leading CRLF skipped (RFC 9112 §2.2)", "\r\nGET / HTTP/1.1", { method: "GET" }],
  ["several leading CRLFs skipped", "\r\n\r\n\r\nGET / HTTP/1.1", { method: "GET" }],
  ["asterisk-form for OPTIONS", "OPTIONS * HTTP/1.1", { target: "*" }],
  ["authority-form for CONNECT", "CONNECT example.com:443 HTTP/1.1", { target: "example.com:443" }],
  ["CONNECT to an IPv6 literal", "CONNECT [::1]:8443 HTTP/1.1", { target: "[::1]:8443" }],
  ["absolute-form", "GET http://example.com:8080/p?q HTTP/1.1", { target: "http://example.com:8080/p?q" }],
  ["absolute-form, https in any case", "GET HTTPS://example.com HTTP/1.1", { target: "HTTPS://example.com" }],
  // request line
  ["empty method (leading SP)", " GET / HTTP/1.1", [400, "bad_method"]],
  ["tab after method", "GET\t/ HTTP/1.1", [400, "bad_method"]],
  ["method with '/'", "GE/T / HTTP/1.1", [400, "bad_method"]],
  ["non-ASCII method", "G\xc9T / HTTP/1.1", [400, "bad_method"]],
  ["TLS handshake bytes", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", [400, "bad_method"]],
  ["two spaces after method", "GET  / HTTP/1.1", [400, "bad_request_line"]],
  ["two spaces before version", "GET /  HTTP/1.1", [400, "bad_request_line"]],
  ["trailing space after version", "GET / HTTP/1.1 ", [400, "bad_version"]],
  ["HTTP/0.9 request (no version)", "GET /", [400, "bad_request_line"]],
  ["tab inside target", "GET /a\tb HTTP/1.1", [400, "bad_target"]],
  ["NUL inside target", "GET /a\0b HTTP/1.1", [400, "bad_target"]],
  ["DEL inside target", "GET /a\x7fb HTTP/1.1", [400, "bad_target"]],
  ["raw UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1", [400, "bad_target"]],
  ["fragment in target", "GET /a#frag HTTP/1.1", [400, "bad_target"]],
  ["CR alone inside the request line", "GET /a\rb HTTP/1.1", [400, "bad_target"]],
  ["relative target", "GET a/b HTTP/1.1", [400, "bad_target"]],
  ["asterisk-form for GET", "GET * HTTP/1.1", [400, "bad_target"]],
  ["CONNECT with origin-form", "CONNECT /x HTTP/1.1", [400, "bad_target"]],
  ["CONNECT without port", "CONNECT example.com HTTP/1.1", [400, "bad_target"]],
  ["absolute-form with userinfo", "GET http://user:pw@example.com/ HTTP/1.1", [400, "bad_target"]],
  ["absolute-form with empty host", "GET http:///x HTTP/1.1", [400, "bad_target"]],
  ["absolute-form http without //", "GET http:example.com HTTP/1.1", [400, "bad_target"]],
  ["absolute-form, other scheme", "GET urn:isbn:123 HTTP/1.1", [400, "bad_target"]],
  ["absolute-form, ftp", "GET ftp://example.com/f HTTP/1.1", [400, "bad_target"]],
  ["lowercase HTTP-name", "GET / http/1.1", [400, "bad_version"]],
  ["version with extra digit", "GET / HTTP/1.10", [400, "bad_version"]],
  ["version without minor", "GET / HTTP/1", [400, "bad_version"]],
  ["HTTP/2.0 is well formed but unsupported", "GET / HTTP/2.0", [505, "unsupported_version"]],
  ["HTTP/1.2 is unsupported", "GET / HTTP/1.2", [505, "unsupported_version"]],
  ["HTTP/0.9 version string", "GET / HTTP/0.9", [505, "unsupported_version"]],
  // line endings
  ["bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", [400, "bare_lf"]],
  ["bare LF after a field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", [400, "bare_lf"]],
  ["bare LF as the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\n", [400, "bare_lf"]],
  ["bare LF before the request line", "\nGET / HTTP/1.1", [400, "bare_lf"]],
  ["CR alone ending a field line", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", [400, "bad_field_value"]],
  ["CR CR LF", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", [400, "bad_field_value"]],
  // fields
  ["obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b", [400, "obs_fold"]],
  ["obs-fold with HTAB", "GET / HTTP/1.1\r\nX: a\r\n\tb", [400, "obs_fold"]],
  ["whitespace line after request line", "GET / HTTP/1.1\r\n Host: a", [400, "obs_fold"]],
  ["space before colon", "GET / HTTP/1.1\r\nHost : a", [400, "bad_field_name"]],
  ["tab before colon", "GET / HTTP/1.1\r\nTransfer-Encoding\t: chunked", [400, "bad_field_name"]],
  ["empty name", "GET / HTTP/1.1\r\n: a", [400, "bad_field_name"]],
  ["no colon", "GET / HTTP/1.1\r\nHost", [400, "bad_field_name"]],
  ["space inside name", "GET / HTTP/1.1\r\nX Y: a", [400, "bad_field_name"]],
  ["non-ASCII name", "GET / HTTP/1.1\r\nX\xe9: a", [400, "bad_field_name"]],
  ["NUL in value", "GET / HTTP/1.1\r\nX: a\0b", [400, "bad_field_value"]],
  ["NUL at the end of a value", "GET / HTTP/1.1\r\nX: a\0", [400, "bad_field_value"]],
  ["control character in value", "GET / HTTP/1.1\r\nX: a\x01b", [400, "bad_field_value"]],
  ["escape character in value", "GET / HTTP/1.1\r\nX: \x1b[31m", [400, "bad_field_value"]],
  ["DEL in value", "GET / HTTP/1.1\r\nX: a\x7f", [400, "bad_field_value"]],
];

describe("request heads (RFC 9112 §2–3, §5)", () => {
  for (const [name, input, expected] of requests) {
    test(name, () => {
      const full = input.endsWith("\r\n\r\n") || input.endsWith("\n\n") || input.endsWith("\r\n\n") ? input : `${input}\r\n\r\n`;
      const r = req(full);
      if (Array.isArray(expected)) {
        expect(r).toMatchObject({ kind: "error", status: expected[0], code: expected[1] });
      } else {
        expect(r.kind).toBe("ok");
        if (r.kind === "ok") {
          expect(r.head).toMatchObject(expected);
          expect(r.next).toBe(full.length);
        }
      }
    });
  }

  test("next points after the empty line; what follows is left alone", () => {
    const s = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET";
    const r = req(s);
    expect(r.kind === "ok" && r.next).toBe(s.indexOf("abc"));
  });

  test("parsing starts at `start`", () => {
    const b = bytes("junkGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const r = parseRequestHead(b, 4, b.length);
    expect(r).toMatchObject({ kind: "ok", head: { method: "GET", fields: ["Host", "a"] }, next: b.length });
  });

  test("a view with a byte offset decodes its own bytes, every byte one character", () => {
    const backing = bytes("xxxxxGET /v HTTP/1.1\r\nX: \x80\x9f\xff\r\n\r\n");
    const view = backing.subarray(5);
    const r = parseRequestHead(view, 0, view.length);
    expect(r).toMatchObject({ kind: "ok", head: { target: "/v", fields: ["X", "\x80\x9f\xff"] }, next: view.length });
  });

  test("bytes past `end` are not read", () => {
    const b = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(parseRequestHead(b, 0, b.length - 1).kind).toBe("incomplete");
    const big = new Uint8Array(4096);
    big.set(b);
    expect(parseRequestHead(big, 0, b.length - 2).kind).toBe("incomplete");
    expect(parseRequestHead(big, 0, b.length).kind).toBe("ok");
  });

  test("an incomplete head resumes from its progress with the grown buffer", () => {
    const all = bytes("GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
    let r = parseRequestHead(all, 0, 10);
    expect(r.kind).toBe("incomplete");
    if (r.kind !== "incomplete") return;
    // A new, larger buffer holding the same bytes (as a connection's accumulator would).
    const copy = new Uint8Array(64);
    copy.set(all);
    r = parseRequestHead(copy, 0, 30, DEFAULT_HEAD_LIMITS, r.progress);
    expect(r.kind).toBe("incomplete");
    if (r.kind !== "incomplete") return;
    r = parseRequestHead(copy, 0, all.length, DEFAULT_HEAD_LIMITS, r.progress);
    expect(r).toMatchObject({ kind: "ok", head: { target: "/x", fields: ["Host", "a", "Accept", "*/*"] }, next: all.length });
  });

  test("garbage is refused on its first bytes, before a line ends", () => {
    expect(req("\x16\x03")).toMatchObject({ code: "bad_method" });
    const b = bytes("GET");
    expect(parseRequestHead(b, 0, 3).kind).toBe("incomplete");
    const b2 = bytes("GE\0");
    expect(parseRequestHead(b2, 0, 3)).toMatchObject({ code: "bad_method" });
  });

  test("a lone CR at the start waits: it may be a leading empty line", () => {
    const b = bytes("\r");
    expect(parseRequestHead(b, 0, 1).kind).toBe("incomplete");
  });
});

describe("request head limits", () => {
  const small: HeadLimits = headLimits({ maxRequestLine: 40, maxHeaderLine: 30, maxHead: 200, maxHeaders: 3 });
  const line = (n: number) => `GET /${"a".repeat(n - 14)} HTTP/1.1`; // a request line of n bytes

  test("request line at the limit passes, one byte more is 414", () => {
    expect(line(40).length).toBe(40);
    expect(req(`${line(40)}\r\n\r\n`, small).kind).toBe("ok");
    expect(req(`${line(41)}\r\n\r\n`, small)).toMatchObject({ status: 414, code: "request_line_too_long" });
  });

  test("an over-long request line is refused before its end arrives", () => {
    const b = bytes(line(60));
    // 41 bytes without LF may still be 40 bytes and a CR; 42 cannot.
    expect(parseRequestHead(b, 0, 41, small).kind).toBe("incomplete");
    expect(parseRequestHead(b, 0, 42, small)).toMatchObject({ status: 414 });
  });

  test("field line at the limit passes, one byte more is 431", () => {
    const f = (n: number) => `X: ${"v".repeat(n - 3)}`;
    expect(req(`GET / HTTP/1.1\r\n${f(30)}\r\n\r\n`, small).kind).toBe("ok");
    expect(req(`GET / HTTP/1.1\r\n${f(31)}\r\n\r\n`, small)).toMatchObject({ status: 431, code: "header_line_too_long" });
  });

  test("field count at the limit passes, one more is 431", () => {
    expect(req("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", small).kind).toBe("ok");
    expect(req("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", small)).toMatchObject({ status: 431, code: "too_many_headers" });
  });

  test("head size at the limit passes, one byte more is 431, also while incomplete", () => {
    const limits = headLimits({ maxHead: 64 });
    const base = "GET / HTTP/1.1\r\nX: ";
    const exact = `${base}${"v".repeat(64 - base.length - 4)}\r\n\r\n`;
    expect(exact.length).toBe(64);
    expect(req(exact, limits).kind).toBe("ok");
    const over = `${base}${"v".repeat(64 - base.length - 3)}\r\n\r\n`;
    expect(req(over, limits)).toMatchObject({ status: 431, code: "head_too_large" });
    const b = bytes(`${base}${"v".repeat(100)}`);
    expect(parseRequestHead(b, 0, 63, limits).kind).toBe("incomplete");
    expect(parseRequestHead(b, 0, 64, limits)).toMatchObject({ status: 431, code: "head_too_large" });
  });

  test("defaults: 8 KiB request line, 8 KiB field line, 16 KiB head, 100 fields", () => {
    expect(DEFAULT_HEAD_LIMITS).toEqual({ maxRequestLine: 8192, maxHeaderLine: 8192, maxHead: 16384, maxHeaders: 100 });
    expect(req(`GET /${"a".repeat(8192 - 14)} HTTP/1.1\r\n\r\n`).kind).toBe("ok");
    expect(req(`GET /${"a".repeat(8193 - 14)} HTTP/1.1\r\n\r\n`)).toMatchObject({ status: 414 });
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `F${i}: v\r\n`).join("");
    expect(req(`GET / HTTP/1.1\r\n${fields(100)}\r\n`).kind).toBe("ok");
    expect(req(`GET / HTTP/1.1\r\n${fields(101)}\r\n`)).toMatchObject({ status: 431, code: "too_many_headers" });
    const big = `GET / HTTP/1.1\r\nA: ${"x".repeat(8000)}\r\nB: ${"x".repeat(8000)}\r\nC: ${"x".repeat(400)}\r\n\r\n`;
    expect(big.length).toBeGreaterThan(16384);
    expect(req(big)).toMatchObject({ status: 431, code: "head_too_large" });
  });

  test("the head may be configured up to 64 KiB and no further", () => {
    const limits = headLimits({ maxHead: MAX_HEAD_BYTES, maxHeaderLine: 60000 });
    const big = `GET / HTTP/1.1\r\nA: ${"x".repeat(50000)}\r\n\r\n`;
    expect(req(big, limits).kind).toBe("ok");
    expect(() => headLimits({ maxHead: MAX_HEAD_BYTES + 1 })).toThrow(/maxHead/);
    expect(() => headLimits({ maxHeaders: 0 })).toThrow(/maxHeaders/);
    expect(() => headLimits({ maxRequestLine: 1.5 })).toThrow(/maxRequestLine/);
    expect(() => headLimits({ maxHeaderLine: MAX_HEAD_BYTES + 1 })).toThrow(/maxHeaderLine/);
  });
});

type ResponseCase = [name: string, input: string, expected: Partial<ResponseHead> | [status: number, code: string]];

const responses: ResponseCase[] = [
  ["200 OK", "HTTP/1.1 200 OK\r\nContent-Length: 0", { version: 1, status: 200, reason: "OK", fields: ["Content-Length", "0"] }],
  ["HTTP/1.0", "HTTP/1.0 404 Not Found", { version: 0, status: 404, reason: "Not Found" }],
  ["empty reason after SP", "HTTP/1.1 204 ", { status: 204, reason: "" }],
  ["no SP after the code (tolerated, as real servers send it)", "HTTP/1.1 204", { status: 204, reason: "" }],
  ["reason with spaces, tab and obs-text", "HTTP/1.1 200 Tr\xe8s  bien\t!", { reason: "Tr\xe8s  bien\t!" }],
  ["lowest and highest codes", "HTTP/1.1 100 Continue", { status: 100 }],
  ["599", "HTTP/1.1 599 X", { status: 599 }],
  ["099", "HTTP/1.1 099 X", [502, "bad_status"]],
  ["600", "HTTP/1.1 600 X", [502, "bad_status"]],
  ["two-digit code", "HTTP/1.1 20 OK", [502, "bad_status"]],
  ["four-digit code", "HTTP/1.1 2000 OK", [502, "bad_status"]],
  ["letters in code", "HTTP/1.1 2x0 OK", [502, "bad_status"]],
  ["two spaces before the code", "HTTP/1.1  200 OK", [502, "bad_status"]],
  ["no code", "HTTP/1.1", [502, "bad_status_line"]],
  ["control character in reason", "HTTP/1.1 200 O\x01K", [502, "bad_reason"]],
  ["NUL in reason", "HTTP/1.1 200 O\0K", [502, "bad_reason"]],
  ["HTTP/2.0", "HTTP/2.0 200 OK", [502, "unsupported_version"]],
  ["lowercase http", "http/1.1 200 OK", [502, "bad_version"]],
  ["ICY (SHOUTcast) status line", "ICY 200 OK", [502, "bad_version"]],
  ["leading empty line", "\r\nHTTP/1.1 200 OK", [502, "bad_status_line"]],
  ["bare LF", "HTTP/1.1 200 OK\nX: a\r\n\r\n", [502, "bare_lf"]],
  ["obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b", [502, "obs_fold"]],
  ["space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5", [502, "bad_field_name"]],
  ["NUL in a value", "HTTP/1.1 200 OK\r\nSet-Cookie: a\0b", [502, "bad_field_value"]],
];

describe("response heads (RFC 9112 §4–5)", () => {
  for (const [name, input, expected] of responses) {
    test(name, () => {
      const full = input.endsWith("\r\n\r\n") ? input : `${input}\r\n\r\n`;
      const r = res(full);
      if (Array.isArray(expected)) {
        expect(r).toMatchObject({ kind: "error", status: expected[0], code: expected[1] });
      } else {
        expect(r.kind).toBe("ok");
        if (r.kind === "ok") expect(r.head).toMatchObject(expected);
      }
    });
  }

  test("limits apply to responses with status 502", () => {
    const limits = headLimits({ maxRequestLine: 20, maxHeaders: 1 });
    expect(res("HTTP/1.1 200 A long reason phrase\r\n\r\n", limits)).toMatchObject({ status: 502, code: "status_line_too_long" });
    expect(res("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", limits)).toMatchObject({ status: 502, code: "too_many_headers" });
  });
});
