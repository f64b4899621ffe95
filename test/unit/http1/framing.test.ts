import { describe, expect, test } from "bun:test";
import { connectionInfo, expectation } from "../../../src/http1/connection.ts";
import { requestFraming, responseFraming } from "../../../src/http1/framing.ts";
import type { RequestHead, ResponseHead } from "../../../src/http1/head.ts";
import { requestAuthority } from "../../../src/http1/host.ts";

function rq(fields: string[], version: 0 | 1 = 1, method = "POST", target = "/"): RequestHead {
  return { method, target, version, fields };
}

function rs(status: number, fields: string[], version: 0 | 1 = 1): ResponseHead {
  return { version, status, reason: "", fields };
}

type Expected = Record<string, unknown> | [status: number, code: string];

function check(actual: unknown, expected: Expected): void {
  if (Array.isArray(expected)) expect(actual).toMatchObject({ kind: "error", status: expected[0], code: expected[1] });
  else expect(actual).toEqual(expected);
}

const TE = "Transfer-Encoding";
const CL = "Content-Length";

// [name, fields, version, expected]
const requestCases: [string, string[], 0 | 1, Expected][] = [
  ["no framing fields: no body (RFC 9112 §6.3 item 7)", ["Host", "a"], 1, { kind: "none" }],
  ["Content-Length", [CL, "42"], 1, { kind: "length", length: 42 }],
  ["Content-Length 0", [CL, "0"], 1, { kind: "length", length: 0 }],
  ["name in any case", ["content-LENGTH", "7"], 1, { kind: "length", length: 7 }],
  ["leading zeros are decimal", [CL, "007"], 1, { kind: "length", length: 7 }],
  ["2^53-1 fits", [CL, "9007199254740991"], 1, { kind: "length", length: 9007199254740991 }],
  ["2^53 overflows", [CL, "9007199254740992"], 1, [400, "content_length_overflow"]],
  ["20 digits overflow", [CL, "18446744073709551616"], 1, [400, "content_length_overflow"]],
  ["identical list values (RFC 9110 §8.6)", [CL, "5, 5"], 1, { kind: "length", length: 5 }],
  ["identical repeated fields", [CL, "5", CL, "5"], 1, { kind: "length", length: 5 }],
  ["identical values, differently written", [CL, "5", CL, "05"], 1, { kind: "length", length: 5 }],
  ["differing list values", [CL, "5, 6"], 1, [400, "conflicting_content_length"]],
  ["differing repeated fields", [CL, "5", CL, "6"], 1, [400, "conflicting_content_length"]],
  ["empty value", [CL, ""], 1, [400, "bad_content_length"]],
  ["plus sign", [CL, "+5"], 1, [400, "bad_content_length"]],
  ["minus sign", [CL, "-5"], 1, [400, "bad_content_length"]],
  ["hex", [CL, "0x10"], 1, [400, "bad_content_length"]],
  ["space inside", [CL, "1 0"], 1, [400, "bad_content_length"]],
  ["decimal point", [CL, "5.0"], 1, [400, "bad_content_length"]],
  ["trailing comma", [CL, "5,"], 1, [400, "bad_content_length"]],
  ["letters", [CL, "five"], 1, [400, "bad_content_length"]],
  ["chunked", [TE, "chunked"], 1, { kind: "chunked" }],
  ["chunked in any case", ["transfer-encoding", "ChUnKeD"], 1, { kind: "chunked" }],
  ["empty list elements are skipped", [TE, " , chunked"], 1, { kind: "chunked" }],
  ["TE in HTTP/1.0 (RFC 9112 §6.1)", [TE, "chunked"], 0, [400, "te_in_http10"]],
  ["TE with CL (smuggling)", [TE, "chunked", CL, "5"], 1, [400, "te_and_cl"]],
  ["CL before TE", [CL, "5", TE, "chunked"], 1, [400, "te_and_cl"]],
  ["empty TE", [TE, ""], 1, [400, "bad_transfer_encoding"]],
  ["TE of commas only", [TE, " , ,"], 1, [400, "bad_transfer_encoding"]],
  ["chunked with a parameter", [TE, "chunked;q=1"], 1, [400, "bad_transfer_encoding"]],
  ["malformed element", [TE, "chun ked"], 1, [400, "bad_transfer_encoding"]],
  ["quoted element", [TE, '"chunked"'], 1, [400, "bad_transfer_encoding"]],
  ["identity alone: chunked not final (RFC 9112 §6.3 item 4)", [TE, "identity"], 1, [400, "chunked_not_final"]],
  ["xchunked", [TE, "xchunked"], 1, [400, "chunked_not_final"]],
  ["chunked, identity", [TE, "chunked, identity"], 1, [400, "chunked_not_final"]],
  ["gzip alone", [TE, "gzip"], 1, [400, "chunked_not_final"]],
  ["chunked twice in one field", [TE, "chunked, chunked"], 1, [400, "chunked_twice"]],
  ["chunked twice in two fields", [TE, "chunked", TE, "chunked"], 1, [400, "chunked_twice"]],
  ["gzip, chunked: not implemented (501)", [TE, "gzip, chunked"], 1, [501, "unsupported_transfer_coding"]],
  ["coding with a parameter before chunked", [TE, 'foo;a="b,c" , chunked'], 1, [501, "unsupported_transfer_coding"]],
  ["codings split over fields", [TE, "gzip", TE, "chunked"], 1, [501, "unsupported_transfer_coding"]],
];

describe("request framing (RFC 9112 §6.3)", () => {
  for (const [name, fields, version, expected] of requestCases) {
    test(name, () => check(requestFraming(rq(fields, version)), expected));
  }
});

// [name, status, fields, request method, version, expected]
const responseCases: [string, number, string[], string, 0 | 1, Expected][] = [
  ["response to HEAD has no body", 200, [CL, "100"], "HEAD", 1, { kind: "none" }],
  ["response to HEAD ignores TE", 200, [TE, "chunked"], "HEAD", 1, { kind: "none" }],
  ["1xx has no body", 100, [], "GET", 1, { kind: "none" }],
  ["103 has no body", 103, [CL, "5"], "GET", 1, { kind: "none" }],
  ["101 is a tunnel", 101, [], "GET", 1, { kind: "tunnel" }],
  ["204 has no body", 204, [CL, "5"], "GET", 1, { kind: "none" }],
  ["304 has no body", 304, [TE, "chunked"], "GET", 1, { kind: "none" }],
  ["2xx to CONNECT is a tunnel", 200, [], "CONNECT", 1, { kind: "tunnel" }],
  ["non-2xx to CONNECT has a body", 407, [CL, "3"], "CONNECT", 1, { kind: "length", length: 3 }],
  ["chunked", 200, [TE, "chunked"], "GET", 1, { kind: "chunked", stripContentLength: false, codings: [] }],
  ["TE wins over CL, CL flagged", 200, [TE, "chunked", CL, "10"], "GET", 1, { kind: "chunked", stripContentLength: true, codings: [] }],
  ["gzip, chunked", 200, [TE, "gzip, chunked"], "GET", 1, { kind: "chunked", stripContentLength: false, codings: ["gzip"] }],
  ["chunked not final: read until close", 200, [TE, "chunked, gzip"], "GET", 1, { kind: "close", stripContentLength: false, codings: ["chunked", "gzip"] }],
  ["gzip alone: read until close", 200, [TE, "gzip", CL, "4"], "GET", 1, { kind: "close", stripContentLength: true, codings: ["gzip"] }],
  ["TE in HTTP/1.0", 200, [TE, "chunked"], "GET", 0, [502, "te_in_http10"]],
  ["malformed TE", 200, [TE, "chunked;"], "GET", 1, [502, "bad_transfer_encoding"]],
  ["empty TE", 200, [TE, ""], "GET", 1, [502, "bad_transfer_encoding"]],
  ["chunked twice", 200, [TE, "chunked", TE, "chunked"], "GET", 1, [502, "chunked_twice"]],
  ["Content-Length", 200, [CL, "12"], "GET", 1, { kind: "length", length: 12 }],
  ["identical Content-Length values", 200, [CL, "12, 12"], "GET", 1, { kind: "length", length: 12 }],
  ["conflicting Content-Length", 200, [CL, "12", CL, "13"], "GET", 1, [502, "conflicting_content_length"]],
  ["invalid Content-Length (RFC 9112 §6.3 item 5)", 200, [CL, "12a"], "GET", 1, [502, "bad_content_length"]],
  ["no framing: until close", 200, [], "GET", 1, { kind: "close", stripContentLength: false, codings: [] }],
  ["HTTP/1.0 without framing: until close", 200, [], "GET", 0, { kind: "close", stripContentLength: false, codings: [] }],
];

describe("response framing (RFC 9112 §6.3)", () => {
  for (const [name, status, fields, method, version, expected] of responseCases) {
    test(name, () => check(responseFraming(rs(status, fields, version), method), expected));
  }
});

describe("connection semantics (RFC 9112 §9.3, RFC 9110 §7.6.1, §7.8)", () => {
  const cases: [string, string[], 0 | 1, { keepAlive: boolean; options?: string[]; upgrade?: string[] }][] = [
    ["HTTP/1.1 persists by default", [], 1, { keepAlive: true, options: [], upgrade: [] }],
    ["HTTP/1.0 closes by default", [], 0, { keepAlive: false }],
    ["HTTP/1.1 with close", ["Connection", "close"], 1, { keepAlive: false, options: ["close"] }],
    ["close in any case, among others", ["Connection", "X-Foo, CLOSE"], 1, { keepAlive: false, options: ["x-foo", "close"] }],
    ["close in a second Connection field", ["Connection", "x-a", "connection", "close"], 1, { keepAlive: false, options: ["x-a", "close"] }],
    ["HTTP/1.0 with keep-alive", ["Connection", "Keep-Alive"], 0, { keepAlive: true, options: ["keep-alive"] }],
    ["HTTP/1.0 with keep-alive and close", ["Connection", "keep-alive, close"], 0, { keepAlive: false }],
    ["Upgrade named in Connection", ["Connection", "Upgrade", "Upgrade", "WebSocket, h2c"], 1, { keepAlive: true, upgrade: ["websocket", "h2c"] }],
    ["Upgrade without the connection option is ignored", ["Upgrade", "websocket"], 1, { keepAlive: true, upgrade: [] }],
    ["Upgrade in HTTP/1.0 is ignored", ["Connection", "upgrade, keep-alive", "Upgrade", "websocket"], 0, { keepAlive: true, upgrade: [] }],
    ["empty list elements skipped", ["Connection", " , ,close ,"], 1, { keepAlive: false, options: ["close"] }],
  ];
  for (const [name, fields, version, expected] of cases) {
    test(name, () => expect(connectionInfo(rq(fields, version, "GET"))).toMatchObject(expected));
  }

  test("responses too", () => {
    expect(connectionInfo(rs(200, ["Connection", "close"])).keepAlive).toBe(false);
    expect(connectionInfo(rs(200, [], 0)).keepAlive).toBe(false);
  });
});

describe("Expect (RFC 9110 §10.1.1)", () => {
  const cases: [string, string[], 0 | 1, string][] = [
    ["none", [], 1, "none"],
    ["100-continue", ["Expect", "100-continue"], 1, "continue"],
    ["100-continue in any case", ["expect", "100-Continue"], 1, "continue"],
    ["another expectation", ["Expect", "something"], 1, "unsupported"],
    ["100-continue with a parameter", ["Expect", "100-continue;a=b"], 1, "unsupported"],
    ["100-continue and another", ["Expect", "100-continue, x"], 1, "unsupported"],
    ["ignored in HTTP/1.0", ["Expect", "100-continue"], 0, "none"],
  ];
  for (const [name, fields, version, expected] of cases) {
    test(name, () => expect(expectation(rq(fields, version))).toBe(expected as "none"));
  }
});

describe("Host and authority (RFC 9112 §3.2)", () => {
  const cases: [string, RequestHead, Expected][] = [
    ["Host value", rq(["Host", "example.com"]), { kind: "ok", authority: "example.com" }],
    ["Host with port", rq(["host", "example.com:8080"]), { kind: "ok", authority: "example.com:8080" }],
    ["IPv4 Host", rq(["Host", "10.0.0.1:80"]), { kind: "ok", authority: "10.0.0.1:80" }],
    ["IPv6 Host", rq(["Host", "[2001:db8::1]:443"]), { kind: "ok", authority: "[2001:db8::1]:443" }],
    ["pct-encoded reg-name", rq(["Host", "ex%41mple.com"]), { kind: "ok", authority: "ex%41mple.com" }],
    ["empty Host (allowed by RFC 9112 §3.2)", rq(["Host", ""]), { kind: "ok", authority: "" }],
    ["HTTP/1.0 without Host", rq([], 0), { kind: "ok", authority: "" }],
    ["HTTP/1.1 without Host", rq([]), [400, "missing_host"]],
    ["two Host fields", rq(["Host", "a", "Host", "a"]), [400, "multiple_host"]],
    ["two Host fields in HTTP/1.0", rq(["Host", "a", "host", "b"], 0), [400, "multiple_host"]],
    ["Host with a path", rq(["Host", "a/b"]), [400, "bad_host"]],
    ["Host with userinfo", rq(["Host", "user@a"]), [400, "bad_host"]],
    ["Host with a space", rq(["Host", "a b"]), [400, "bad_host"]],
    ["Host with a comma-separated list", rq(["Host", "a, b"]), [400, "bad_host"]],
    ["Host with a bad port", rq(["Host", "a:8x"]), [400, "bad_host"]],
    ["Host with a port above 65535", rq(["Host", "a:65536"]), [400, "bad_host"]],
    ["Host with an unclosed IPv6 literal", rq(["Host", "[::1"]), [400, "bad_host"]],
    ["Host with a bad percent", rq(["Host", "a%zz"]), [400, "bad_host"]],
    ["absolute-form wins over a conflicting Host (RFC 9112 §3.2.2)", rq(["Host", "other.test"], 1, "GET", "http://target.test:81/p?q"), { kind: "ok", authority: "target.test:81" }],
    ["absolute-form still needs one valid Host", rq([], 1, "GET", "http://target.test/"), [400, "missing_host"]],
    ["CONNECT's authority is its target", rq(["Host", "x.test:443"], 1, "CONNECT", "x.test:443"), { kind: "ok", authority: "x.test:443" }],
  ];
  for (const [name, head, expected] of cases) test(name, () => check(requestAuthority(head), expected));
});
