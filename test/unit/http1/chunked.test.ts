import { describe, expect, test } from "bun:test";
import { ChunkedDecoder, type ChunkedResult } from "../../../src/http1/chunked.ts";
import { chunkedLimits } from "../../../src/http1/limits.ts";
import { bytes, text } from "./pipeline.ts";

interface Outcome {
  data: string;
  done: boolean;
  trailers?: string[];
  error?: string;
  consumed?: number;
}

/** Decodes `input` pushed in pieces of `step` bytes (0: all at once). */
function decode(input: string, step = 0, d = new ChunkedDecoder()): Outcome {
  const b = bytes(input);
  let data = "";
  let consumed = 0;
  let last: ChunkedResult | undefined;
  const n = step === 0 ? b.length : step;
  for (let i = 0; i < b.length; i += n) {
    last = d.push(b, i, Math.min(b.length, i + n));
    for (const c of last.chunks) data += text(c);
    consumed += last.consumed;
    if (last.error) return { data, done: false, error: last.error.code };
    if (last.done) break;
  }
  const out: Outcome = { data, done: last?.done ?? false, consumed };
  if (last?.trailers) out.trailers = last.trailers;
  return out;
}

// [name, body, expected data or [error code], trailers]
const cases: [string, string, string | [string], string[]?][] = [
  ["one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", []],
  ["several chunks", "3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n", "abcd", []],
  ["uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", []],
  ["lowercase hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789", []],
  ["leading zeros", "0005\r\nhello\r\n0000\r\n\r\n", "hello", []],
  ["16 hex digits (the most allowed)", "0000000000000005\r\nhello\r\n0\r\n\r\n", "hello", []],
  ["data holding CRLF and NUL", "6\r\na\r\n\0\r\n\r\n0\r\n\r\n", "a\r\n\0\r\n", []],
  ["empty body", "0\r\n\r\n", "", []],
  ["extension", "5;name\r\nhello\r\n0\r\n\r\n", "hello", []],
  ["extension with token value", "5;name=value\r\nhello\r\n0\r\n\r\n", "hello", []],
  ["extension with quoted value and escapes", '5;n="a \\"b\\" ;c"\r\nhello\r\n0\r\n\r\n', "hello", []],
  ["several extensions", "5;a;b=1;c=\"x\"\r\nhello\r\n0;last\r\n\r\n", "hello", []],
  ["BWS before ';' (RFC 9112 §7.1.1)", "5 ;ext\r\nhello\r\n0\r\n\r\n", "hello", []],
  ["BWS around '=' and after ';'", "5 ; a = b \t; c\r\nhello\r\n0\r\n\r\n", "hello", []],
  ["trailers", "5\r\nhello\r\n0\r\nX-Sum: 42\r\nY:  b  \r\n\r\n", "hello", ["X-Sum", "42", "Y", "b"]],
  // sizes
  ["empty size line", "\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["plus sign", "+5\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["minus sign", "-5\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["leading space", " 5\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["leading tab", "\t5\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["non-hex digit", "5g\r\nhello\r\n0\r\n\r\n", ["bad_chunk_size"]],
  ["trailing space without extension", "5 \r\nhello\r\n0\r\n\r\n", ["bad_chunk_extension"]],
  ["17 hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", ["chunk_size_overflow"]],
  ["2^53 overflows", "20000000000000\r\n", ["chunk_size_overflow"]],
  ["2^64 + 5 overflows (64-bit wrap-around attack)", "10000000000000005\r\nhello\r\n0\r\n\r\n", ["chunk_size_overflow"]],
  ["2^53-1 is accepted as a size", "1fffffffffffff\r\nab", "ab"],
  // line endings
  ["LF after size", "5\nhello\r\n0\r\n\r\n", ["bad_chunk_line_ending"]],
  ["CR without LF after size", "5\rhello\r\n0\r\n\r\n", ["bad_chunk_line_ending"]],
  ["LF after data", "5\r\nhello\n0\r\n\r\n", ["bad_chunk_terminator"]],
  ["no CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", ["bad_chunk_terminator"]],
  ["data longer than its size", "3\r\nhello\r\n0\r\n\r\n", ["bad_chunk_terminator"]],
  ["LF-only last chunk", "0\n\n", ["bad_chunk_line_ending"]],
  ["LF-only final line", "0\r\n\n", ["bad_trailer"]],
  ["CR then something else as final line", "0\r\n\rX", ["bad_trailer"]],
  // extensions
  ["empty extension name", "5;\r\nhello\r\n0\r\n\r\n", ["bad_chunk_extension"]],
  ["extension with '=' and no value", "5;a=\r\nhello\r\n0\r\n\r\n", ["bad_chunk_extension"]],
  ["extension value with a space inside", "5;a=b c\r\nhello\r\n0\r\n\r\n", ["bad_chunk_extension"]],
  ["LF inside an extension", "5;a\nb\r\nhello\r\n0\r\n\r\n", ["bad_chunk_line_ending"]],
  ["CR LF inside a quoted extension", '5;a="x\r\ny"\r\nhello\r\n0\r\n\r\n', ["bad_chunk_extension"]],
  ["unterminated quoted value", '5;a="x\r\nhello\r\n0\r\n\r\n', ["bad_chunk_extension"]],
  ["NUL in an extension", "5;a\0\r\nhello\r\n0\r\n\r\n", ["bad_chunk_extension"]],
  ["trailing whitespace after an extension", "5;a=b \r\nhello\r\n0\r\n\r\n", ["bad_chunk_extension"]],
  // trailers
  ["obs-fold in trailers", "0\r\nX: a\r\n b\r\n\r\n", ["bad_trailer"]],
  ["space before colon in a trailer", "0\r\nX : a\r\n\r\n", ["bad_trailer"]],
  ["NUL in a trailer value", "0\r\nX: a\0\r\n\r\n", ["bad_trailer"]],
  ["bare LF in trailers", "0\r\nX: a\n\r\n", ["bad_trailer"]],
];

describe("chunked decoding (RFC 9112 §7.1)", () => {
  for (const [name, body, expected, trailers] of cases) {
    test(name, () => {
      const all = decode(body);
      if (Array.isArray(expected)) {
        expect(all.error).toBe(expected[0]);
      } else {
        expect(all.error).toBeUndefined();
        expect(all.data).toBe(expected);
        if (trailers !== undefined) {
          expect(all.done).toBe(true);
          expect(all.trailers).toEqual(trailers);
          expect(all.consumed).toBe(body.length);
        }
      }
      // One byte at a time: the same data, the same end, the same error.
      const bytewise = decode(body, 1);
      expect(bytewise.error).toEqual(all.error);
      expect(bytewise.data).toBe(all.data);
      expect(bytewise.done).toBe(all.done);
      expect(bytewise.trailers).toEqual(all.trailers);
      if (!all.error) expect(bytewise.consumed).toBe(all.consumed);
    });
  }

  test("chunks are views of the input, not copies", () => {
    const b = bytes("5\r\nhello\r\n0\r\n\r\n");
    const r = new ChunkedDecoder().push(b, 0, b.length);
    expect(r.chunks.length).toBe(1);
    expect(r.chunks[0]!.buffer).toBe(b.buffer);
    expect(r.chunks[0]!.byteOffset).toBe(3);
  });

  test("bytes after the body are left for the next message", () => {
    const b = bytes("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n");
    const r = new ChunkedDecoder().push(b, 0, b.length);
    expect(r.done).toBe(true);
    expect(r.consumed).toBe(13);
    const t = bytes("0\r\nA: b\r\n\r\nNEXT");
    const r2 = new ChunkedDecoder().push(t, 0, t.length);
    expect(r2.consumed).toBe(t.length - 4);
    expect(r2.trailers).toEqual(["A", "b"]);
  });

  test("bytes after the body are left alone when the trailers arrive byte by byte", () => {
    const d = new ChunkedDecoder();
    const t = bytes("0\r\nA: b\r\n\r\nNEXT");
    let consumed = 0;
    for (let i = 0; i < t.length; i++) {
      const r = d.push(t, i, t.length); // everything available from i on
      consumed += r.consumed;
      if (r.done) break;
      expect(r.consumed).toBeLessThanOrEqual(t.length - i);
    }
    expect(consumed).toBe(t.length - 4);
  });

  test("a failed decoder stays failed; a done one stays done; reset starts over", () => {
    const d = new ChunkedDecoder();
    const bad = bytes("x");
    expect(d.push(bad, 0, 1).error?.code).toBe("bad_chunk_size");
    const good = bytes("0\r\n\r\n");
    expect(d.push(good, 0, good.length).error?.code).toBe("bad_chunk_size");
    d.reset();
    expect(d.push(good, 0, good.length)).toMatchObject({ done: true, consumed: 5 });
    expect(d.push(good, 0, good.length)).toMatchObject({ done: true, consumed: 0 });
    d.reset();
    expect(decode("2\r\nok\r\n0\r\n\r\n", 0, d).data).toBe("ok");
  });

  test("a large chunk split across pushes is delivered in pieces", () => {
    const d = new ChunkedDecoder();
    const head = bytes("10\r\n");
    expect(d.push(head, 0, head.length).chunks).toEqual([]);
    const part = bytes("0123456789abcdef\r\n0\r\n\r\n");
    const r1 = d.push(part, 0, 10);
    expect(r1.chunks.map(text)).toEqual(["0123456789"]);
    const r2 = d.push(part, 10, part.length);
    expect(r2.chunks.map(text)).toEqual(["abcdef"]);
    expect(r2.done).toBe(true);
  });
});

describe("chunked limits", () => {
  const limits = chunkedLimits({ maxExtension: 10, maxExtensionTotal: 25, maxTrailerLine: 12, maxTrailerSection: 40, maxTrailers: 2 });

  test("extensions of one chunk: at the limit passes, over fails", () => {
    expect(decode("1;aaaaaaaaa\r\nx\r\n0\r\n\r\n", 0, new ChunkedDecoder(limits)).error).toBeUndefined();
    expect(decode("1;aaaaaaaaaa\r\nx\r\n0\r\n\r\n", 0, new ChunkedDecoder(limits)).error).toBe("chunk_extension_too_long");
  });

  test("extensions over the whole body are bounded (many tiny chunks)", () => {
    const body = `${"1;aaaaaaa\r\nx\r\n".repeat(3)}0;aaaaaaa\r\n\r\n`;
    expect(decode(body, 0, new ChunkedDecoder(limits)).error).toBe("chunk_extensions_too_large");
    expect(decode(body, 1, new ChunkedDecoder(limits)).error).toBe("chunk_extensions_too_large");
  });

  test("trailer line, count and section size", () => {
    const d = () => new ChunkedDecoder(limits);
    expect(decode("0\r\nA: 12345678\r\n\r\n", 0, d()).trailers).toEqual(["A", "12345678"]);
    expect(decode("0\r\nA: 123456789\r\n\r\n", 0, d()).trailers).toEqual(["A", "123456789"]);
    expect(decode("0\r\nA: 1234567890\r\n\r\n", 0, d()).error).toBe("trailer_line_too_long");
    expect(decode("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0, d()).error).toBe("too_many_trailers");
    const section = `0\r\n${"A: 12345\r\n".repeat(2)}`;
    expect(decode(`${section}\r\n`, 0, d()).done).toBe(true);
    // The section (fields and final CRLF) at 40 bytes passes, at 41 fails, whole or byte by byte.
    const sized = chunkedLimits({ maxTrailerSection: 40 });
    const at40 = "0\r\nA: 12345678\r\nB: 12345678\r\nC: 1234567\r\n\r\n";
    const at41 = "0\r\nA: 12345678\r\nB: 12345678\r\nC: 12345678\r\n\r\n";
    for (const step of [0, 1]) {
      expect(decode(at40, step, new ChunkedDecoder(sized)).done).toBe(true);
      expect(decode(at41, step, new ChunkedDecoder(sized)).error).toBe("trailers_too_large");
    }
  });

  test("limits are validated", () => {
    expect(() => chunkedLimits({ maxExtension: 0 })).toThrow(/maxExtension/);
    expect(() => chunkedLimits({ maxTrailerSection: 70000 })).toThrow(/maxTrailerSection/);
  });
});
