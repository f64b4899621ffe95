/** Comparing whole responses: status, headers, encodings, charsets, binary bodies, curl -i input. */
import { describe, expect, test } from "bun:test";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { compareMessages, compileRulesInput, type HttpMessage, parseRawHttp } from "../../../src/compare/index.ts";

const enc = new TextEncoder();
const msg = (status: number, headers: [string, string][], body: string | Uint8Array): HttpMessage => ({ status, headers, body: typeof body === "string" ? enc.encode(body) : body });
const JSON_CT: [string, string] = ["Content-Type", "application/json"];

describe("status and headers", () => {
  test("a different status is a high-severity difference", () => {
    const v = compareMessages(msg(200, [JSON_CT], "{}"), msg(500, [JSON_CT], "{}"));
    expect(v.differences).toEqual([{ path: "status", kind: "status", severity: "high", legacy: 200, candidate: 500 }]);
  });

  test("default-ignored headers are not compared; others are, case-insensitively", () => {
    const a = msg(200, [JSON_CT, ["Date", "Mon"], ["Server", "gunicorn"], ["X-Request-Id", "1"], ["Content-Length", "2"], ["Cache-Control", "no-store"]], "{}");
    const b = msg(200, [["content-type", "application/json"], ["date", "Tue"], ["server", "axum"], ["x-request-id", "2"], ["content-length", "3"], ["cache-control", "max-age=60"], ["x-new", "1"]], "{}");
    const v = compareMessages(a, b);
    expect(v.differences.map((d) => [d.path, d.kind, d.severity])).toEqual([
      ["headers.cache-control", "header", "low"],
      ["headers.x-new", "header", "low"],
    ]);
  });

  test("headers.ignore adds to the defaults; headers.only restricts", () => {
    const a = msg(200, [["x-a", "1"], ["x-b", "1"]], "");
    const b = msg(200, [["x-a", "2"], ["x-b", "2"]], "");
    expect(compareMessages(a, b, compileRulesInput({ headers: { ignore: ["X-A"] } })).differences.map((d) => d.path)).toEqual(["headers.x-b"]);
    expect(compareMessages(a, b, compileRulesInput({ headers: { only: ["x-a"] } })).differences.map((d) => d.path)).toEqual(["headers.x-a"]);
  });
});

describe("bodies are decoded before comparing", () => {
  const body = JSON.stringify({ id: 1, name: "widget", price: 10 });
  const cases: [string, string, Uint8Array][] = [
    ["gzip", "gzip", gzipSync(body)],
    ["deflate (zlib)", "deflate", deflateSync(body)],
    ["deflate (raw)", "deflate", deflateRawSync(body)],
    ["brotli", "br", brotliCompressSync(body)],
    ["two codings", "gzip, br", brotliCompressSync(gzipSync(body))],
  ];
  for (const [name, coding, bytes] of cases) {
    test(`${name} equals the identity body`, () => {
      const v = compareMessages(msg(200, [JSON_CT], body), msg(200, [JSON_CT, ["Content-Encoding", coding]], bytes), compileRulesInput({ headers: { ignore: ["content-encoding"] } }));
      expect(v.differences).toEqual([]);
    });
  }

  test("a corrupt encoded body is compared as bytes, not an error", () => {
    const v = compareMessages(msg(200, [JSON_CT], body), msg(200, [JSON_CT, ["Content-Encoding", "gzip"]], enc.encode("not gzip")), compileRulesInput({ headers: { ignore: ["content-encoding"] } }));
    expect(v.equal).toBe(false);
    expect(v.differences[0]?.path).toBe("body");
  });

  test("charsets: latin-1 and UTF-8 spellings of the same text are equal", () => {
    const latin1 = new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0x63, 0x61, 0x66, 0xe9, 0x22, 0x7d]); // {"n":"café"} in ISO-8859-1
    const v = compareMessages(msg(200, [["Content-Type", "application/json; charset=iso-8859-1"]], latin1), msg(200, [["Content-Type", "application/json; charset=utf-8"]], '{"n":"café"}'), compileRulesInput({ headers: { ignore: ["content-type"] } }));
    expect(v.differences).toEqual([]);
  });

  test("binary bodies compare by SHA-256", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    expect(compareMessages(msg(200, [["Content-Type", "image/png"]], png), msg(200, [["Content-Type", "image/png"]], png)).equal).toBe(true);
    const v = compareMessages(msg(200, [["Content-Type", "image/png"]], png), msg(200, [["Content-Type", "image/png"]], new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9])));
    expect(v.differences[0]).toMatchObject({ path: "body", kind: "value" });
    expect(String(v.differences[0]?.legacy)).toMatch(/^sha256:[0-9a-f]{64} \(7 bytes\)$/);
  });

  test("invalid UTF-8 in a text body is compared as bytes", () => {
    const bad = new Uint8Array([0x61, 0xff, 0x62]);
    expect(compareMessages(msg(200, [["Content-Type", "text/plain"]], bad), msg(200, [["Content-Type", "text/plain"]], bad)).equal).toBe(true);
  });
});

describe("curl -i output", () => {
  test("status, headers and body are parsed; CRLF and LF both work", () => {
    for (const nl of ["\r\n", "\n"]) {
      const raw = enc.encode(`HTTP/1.1 201 Created${nl}Content-Type: application/json${nl}X-A:  b ${nl}${nl}{"ok":true}`);
      const m = parseRawHttp(raw);
      expect(m.status).toBe(201);
      expect(m.headers).toEqual([["Content-Type", "application/json"], ["X-A", "b"]]);
      expect(new TextDecoder().decode(m.body)).toBe('{"ok":true}');
    }
  });

  test("interim responses (100 Continue, proxy CONNECT) are skipped", () => {
    const raw = enc.encode("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\nHTTP/2 404\r\ncontent-type: application/json\r\n\r\n{}");
    const m = parseRawHttp(raw);
    expect(m.status).toBe(404);
    expect(m.headers).toEqual([["content-type", "application/json"]]);
  });

  test("a response with no body", () => {
    const m = parseRawHttp(enc.encode("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"));
    expect(m.status).toBe(204);
    expect(m.body.length).toBe(0);
  });
});
