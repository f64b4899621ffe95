import { describe, expect, test } from "bun:test";
import { ChunkedDecoder } from "../../../src/http1/chunked.ts";
import { parseRequestHead, parseResponseHead } from "../../../src/http1/head.ts";
import { chunk, chunkHeader, LAST_CHUNK, lastChunk, requestHead, requestHeadBytes, responseHead, STATUS_REASONS, wireBytes } from "../../../src/http1/serialize.ts";
import { bytes, text } from "./pipeline.ts";

describe("writing heads", () => {
  test("request head: exact bytes, ASCII as a string", () => {
    const w = requestHead("GET", "/a?b", ["Host", "x.test", "Accept", "*/*"]);
    expect(w).toBe("GET /a?b HTTP/1.1\r\nHost: x.test\r\nAccept: */*\r\n\r\n");
    expect(requestHead("GET", "/", [], 0)).toBe("GET / HTTP/1.0\r\n\r\n");
  });

  test("response head: the registered reason by default, or the one given", () => {
    expect(responseHead(404, undefined, ["Content-Length", "0"])).toBe("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    expect(responseHead(200, "Fine", [])).toBe("HTTP/1.1 200 Fine\r\n\r\n");
    expect(responseHead(299, undefined, [])).toBe("HTTP/1.1 299 \r\n\r\n");
    expect(responseHead(200, undefined, [], 0)).toBe("HTTP/1.0 200 OK\r\n\r\n");
    expect(STATUS_REASONS[431]).toBe("Request Header Fields Too Large");
    expect(STATUS_REASONS[413]).toBe("Content Too Large");
  });

  test("a value with obs-text comes back as latin-1 bytes (Bun would write a string as UTF-8)", () => {
    const w = requestHead("GET", "/", ["X", "caf\xe9"]);
    expect(w).toBeInstanceOf(Uint8Array);
    expect(text(w as Uint8Array)).toBe("GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n");
    expect((w as Uint8Array).length).toBe(27);
    const r = responseHead(200, "D\xe9j\xe0", []);
    expect(text(wireBytes(r))).toBe("HTTP/1.1 200 D\xe9j\xe0\r\n\r\n");
  });

  test("what is written parses back to the same head", () => {
    const fields = ["Host", "x.test", "X-Empty", "", "X-Tab", "a\tb", "X-High", "\xff\x80"];
    const req = wireBytes(requestHead("PATCH", "/p?q=1", fields));
    const r = parseRequestHead(req, 0, req.length);
    expect(r).toMatchObject({ kind: "ok", head: { method: "PATCH", target: "/p?q=1", version: 1, fields }, next: req.length });
    const res = wireBytes(responseHead(503, undefined, fields));
    const s = parseResponseHead(res, 0, res.length);
    expect(s).toMatchObject({ kind: "ok", head: { status: 503, reason: "Service Unavailable", fields }, next: res.length });
  });

  const refused: [string, () => unknown][] = [
    ["CR LF in a value (response splitting)", () => responseHead(200, undefined, ["X", "a\r\nSet-Cookie: evil=1"])],
    ["LF in a value", () => requestHead("GET", "/", ["X", "a\nb"])],
    ["NUL in a value", () => requestHead("GET", "/", ["X", "a\0"])],
    ["leading space in a value", () => requestHead("GET", "/", ["X", " a"])],
    ["trailing tab in a value", () => requestHead("GET", "/", ["X", "a\t"])],
    ["character above U+00FF in a value", () => requestHead("GET", "/", ["X", "\u20ac"])],
    ["space in a name", () => requestHead("GET", "/", ["X Y", "a"])],
    ["colon in a name", () => requestHead("GET", "/", ["X:", "a"])],
    ["empty name", () => requestHead("GET", "/", ["", "a"])],
    ["odd field list", () => requestHead("GET", "/", ["X"])],
    ["space in the method", () => requestHead("G T", "/", [])],
    ["empty target", () => requestHead("GET", "", [])],
    ["space in the target", () => requestHead("GET", "/a b", [])],
    ["CR LF in the target (request splitting)", () => requestHead("GET", "/\r\nHost: evil", [])],
    ["CR LF in the reason", () => responseHead(200, "OK\r\nX: y", [])],
    ["status 99", () => responseHead(99, undefined, [])],
    ["status 600", () => responseHead(600, undefined, [])],
    ["status 200.5", () => responseHead(200.5, undefined, [])],
    ["CR in a trailer", () => lastChunk(["X", "a\rb"])],
  ];
  for (const [name, f] of refused) test(`refuses ${name}`, () => expect(f).toThrow(TypeError));
});

describe("writing chunks", () => {
  test("chunk framing and the last chunk, decoded back", () => {
    const data = bytes("x".repeat(300));
    const parts = [chunk(bytes("hello")), chunk(data), chunk(new Uint8Array(0)), wireBytes(lastChunk(["X-Sum", "1"]))];
    expect(text(parts[0]!)).toBe("5\r\nhello\r\n");
    expect(text(parts[1]!).slice(0, 5)).toBe("12c\r\n");
    expect(parts[2]!.length).toBe(0);
    expect(text(parts[3]!)).toBe("0\r\nX-Sum: 1\r\n\r\n");
    const all = bytes(parts.map(text).join(""));
    const r = new ChunkedDecoder().push(all, 0, all.length);
    expect(r.done).toBe(true);
    expect(r.trailers).toEqual(["X-Sum", "1"]);
    expect(r.chunks.map(text).join("")).toBe(`hello${"x".repeat(300)}`);
  });

  test("chunk header, last chunk constants", () => {
    expect(chunkHeader(255)).toBe("ff\r\n");
    expect(() => chunkHeader(0)).toThrow(TypeError);
    expect(LAST_CHUNK).toBe("0\r\n\r\n");
    expect(lastChunk()).toBe("0\r\n\r\n");
  });
});

describe("requestHeadBytes", () => {
  test("the same bytes as requestHead, with the caller's extra lines before the empty line", () => {
    const cases: [string, string, string[]][] = [
      ["GET", "/", ["host", "a"]],
      ["POST", "/x?y=1", ["Host", "a.test:8080", "X-Many", "1", "x-many", "2", "empty", ""]],
      ["get", "*", []],
      ["PURGE", "/caf%C3%A9", ["x-latin", "caf\u00e9"]],
    ];
    for (const [method, target, fields] of cases) {
      expect(requestHeadBytes(method, target, fields)).toEqual(wireBytes(requestHead(method, target, fields)));
    }
    const withFraming = requestHeadBytes("PUT", "/u", ["host", "a"], "content-length: 5\r\n");
    expect(new TextDecoder("latin1").decode(withFraming)).toBe("PUT /u HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\n");
    const parsed = parseRequestHead(withFraming, 0, withFraming.length);
    expect(parsed.kind).toBe("ok");
  });

  test("refuses what could split a message, like requestHead", () => {
    const bad: [string, string, string[]][] = [
      ["GE T", "/", []],
      ["GET", "/a b", []],
      ["GET", "", []],
      ["GET", "/", ["x y", "1"]],
      ["GET", "/", ["x", "a\r\nEvil: 1"]],
      ["GET", "/", ["x", " lead"]],
      ["GET", "/", ["x", "\u2603"]],
      ["GET", "/", ["odd"]],
    ];
    for (const [method, target, fields] of bad) expect(() => requestHeadBytes(method, target, fields)).toThrow(TypeError);
  });
});
