import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ChunkedDecoder } from "../../../src/http1/chunked.ts";
import { type HeadProgress, type HeadResult, parseRequestHead, parseResponseHead } from "../../../src/http1/head.ts";
import { DEFAULT_HEAD_LIMITS, headLimits } from "../../../src/http1/limits.ts";
import { chunkedStream, cuts, requestStream, responseStream } from "./generators.ts";
import { bytes, text } from "./pipeline.ts";

type Parse = typeof parseRequestHead | typeof parseResponseHead;

/** The result without the progress object (incomplete results differ only in it). */
function comparable(r: HeadResult<unknown>): unknown {
  return r.kind === "incomplete" ? { kind: "incomplete" } : r;
}

/**
 * Parses `input` as it would arrive in pieces ending at `points`: the
 * accumulated bytes are copied into a fresh buffer each time (as a
 * connection's accumulator may move them), and the progress is passed back.
 */
function parseInPieces(parse: Parse, input: Uint8Array, points: number[], limits = DEFAULT_HEAD_LIMITS): HeadResult<unknown> {
  let progress: HeadProgress | undefined;
  for (const end of [...points, input.length]) {
    const buf = new Uint8Array(end + 7);
    buf.set(input.subarray(0, end), 3);
    const r = parse(buf, 3, 3 + end, limits, progress);
    if (r.kind !== "incomplete") {
      // Offsets are relative to the buffer: shift back to the input's.
      return r.kind === "ok" ? { ...r, next: r.next - 3 } : r;
    }
    progress = r.progress;
  }
  return { kind: "incomplete" } as HeadResult<unknown>;
}

const splits = fc.array(fc.nat(), { maxLength: 12 });
const smallLimits = headLimits({ maxRequestLine: 40, maxHeaderLine: 30, maxHead: 120, maxHeaders: 4 });

describe("split equivalence: heads fed in any pieces parse as when fed at once", () => {
  for (const [name, parse, stream] of [
    ["requests", parseRequestHead, requestStream],
    ["responses", parseResponseHead, responseStream],
  ] as const) {
    test(name, () => {
      fc.assert(
        fc.property(stream, splits, fc.boolean(), (s, raw, small) => {
          const input = bytes(s);
          const limits = small ? smallLimits : DEFAULT_HEAD_LIMITS;
          const whole = comparable(parse(input, 0, input.length, limits));
          const pieces = comparable(parseInPieces(parse, input, cuts(input.length, raw), limits));
          expect(pieces).toEqual(whole);
        }),
        { numRuns: 1500, seed: 9 },
      );
    });

    test(`${name}: one byte at a time`, () => {
      fc.assert(
        fc.property(stream, (s) => {
          const input = bytes(s);
          const every = Array.from({ length: input.length }, (_, i) => i);
          expect(comparable(parseInPieces(parse, input, every))).toEqual(comparable(parse(input, 0, input.length)));
        }),
        { numRuns: 300, seed: 10 },
      );
    });
  }
});

interface Decoded {
  data: string;
  done: boolean;
  consumed: number;
  trailers: string[] | undefined;
  error: string | undefined;
}

function decodeInPieces(input: Uint8Array, points: number[]): Decoded {
  const d = new ChunkedDecoder();
  const out: Decoded = { data: "", done: false, consumed: 0, trailers: undefined, error: undefined };
  let from = 0;
  for (const end of [...points, input.length]) {
    if (end < from) continue;
    // Each piece in its own buffer, as socket reads arrive.
    const piece = input.slice(from, end);
    const r = d.push(piece, 0, piece.length);
    for (const c of r.chunks) out.data += text(c);
    out.consumed += r.consumed;
    if (r.error) {
      out.error = r.error.code;
      out.consumed = -1; // not meaningful after an error
      return out;
    }
    if (r.done) {
      out.done = true;
      out.trailers = r.trailers;
      return out;
    }
    from = end;
  }
  return out;
}

describe("split equivalence: chunked bodies decode the same in any pieces", () => {
  test("random splits", () => {
    fc.assert(
      fc.property(chunkedStream, splits, (s, raw) => {
        const input = bytes(`${s}NEXT`);
        expect(decodeInPieces(input, cuts(input.length, raw))).toEqual(decodeInPieces(input, []));
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  test("one byte at a time", () => {
    fc.assert(
      fc.property(chunkedStream, (s) => {
        const input = bytes(s);
        const every = Array.from({ length: input.length }, (_, i) => i);
        expect(decodeInPieces(input, every)).toEqual(decodeInPieces(input, []));
      }),
      { numRuns: 500, seed: 12 },
    );
  });
});
