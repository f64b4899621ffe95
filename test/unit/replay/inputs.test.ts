/** Reading recordings: Ficus JSON Lines, HAR 1.2 and GoReplay, streamed, with corrupt parts reported and skipped. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { compileRules } from "../../../src/compare/index.ts";
import { type Answer, judgePair } from "../../../src/migration/judge.ts";
import { ResultsBuffer } from "../../../src/migration/results.ts";
import type { RecordedExchange, InputItem } from "../../../src/replay/exchange.ts";
import { detectFormat, openRecording, parseRawRequest } from "../../../src/replay/inputs/index.ts";
import { tempDir } from "../../helpers/processes.ts";

async function readAll(path: string): Promise<{ exchanges: RecordedExchange[]; corrupt: NonNullable<InputItem["corrupt"]>[] }> {
  const rec = await openRecording(path);
  const exchanges: RecordedExchange[] = [];
  const corrupt: NonNullable<InputItem["corrupt"]>[] = [];
  for await (const item of rec.items) {
    if (item.exchange) exchanges.push(item.exchange);
    else corrupt.push(item.corrupt);
  }
  return { exchanges, corrupt };
}

const dir = tempDir("ficus-inputs-");
const write = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

const line = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1,
    time: new Date(1_700_000_000_000 + i * 10).toISOString(),
    route: "orders",
    request: { method: "get", url: `/orders/${i}?x=1`, headers: [["accept", "application/json"]], body: "" },
    response: { status: 200, headers: [["content-type", "application/json"]], body: Buffer.from(`{"id":${i}}`).toString("base64"), body_encoding: "base64", duration_ms: 1.5 },
    ...extra,
  });

describe("Ficus JSON Lines", () => {
  test("exchanges with their line numbers; corrupt and truncated lines reported and skipped", async () => {
    const p = write("a.jsonl", [line(1), "", "{not json", line(2, { v: 2 }), line(3), line(4).slice(0, 40)].join("\n"));
    const { exchanges, corrupt } = await readAll(p);
    expect(exchanges.map((e) => [e.line, e.request.method, e.request.target, e.route])).toEqual([
      [1, "GET", "/orders/1?x=1", "orders"],
      [5, "GET", "/orders/3?x=1", "orders"],
    ]);
    expect(text(exchanges[0]?.response?.body)).toBe('{"id":1}');
    expect(exchanges[0]?.response?.durationMs).toBe(1.5);
    expect(exchanges[0]?.time).toBe(1_700_000_000_010);
    expect(corrupt.map((c) => [c.line, c.message.split(" ")[0]])).toEqual([
      [3, "not"],
      [4, "v:"],
      [6, "not"],
    ]);
    expect(corrupt.every((c) => c.file === p)).toBe(true);
  });

  test("gzip, recognised by its content", async () => {
    const p = write("b.jsonl.gz", gzipSync([line(1), line(2)].join("\n") + "\n"));
    expect((await readAll(p)).exchanges).toHaveLength(2);
    const unnamed = write("b.data", gzipSync(line(7)));
    expect((await readAll(unnamed)).exchanges[0]?.request.target).toBe("/orders/7?x=1");
  });
});

const har = (entries: unknown[], pretty = true) => JSON.stringify({ log: { version: "1.2", creator: { name: "t", version: "1" }, pages: [{ id: "p", title: '"entries": [' }], entries } }, null, pretty ? 2 : 0);
const entry = (i: number, over: Record<string, unknown> = {}) => ({
  startedDateTime: new Date(1_700_000_000_000 + i).toISOString(),
  time: 12.5,
  request: { method: "POST", url: `http://shop.test:8080/cart/${i}?q={x}`, headers: [{ name: ":authority", value: "shop.test" }, { name: "Content-Type", value: "application/json" }], postData: { mimeType: "application/json", text: `{"n":${i},"s":"}]\\"["}` } },
  response: { status: 201, headers: [{ name: "content-type", value: "application/json" }], content: { size: 8, mimeType: "application/json", text: "eyJvayI6MX0=", encoding: "base64" } },
  ...over,
});

describe("HAR 1.2", () => {
  test("entries with absolute URLs, pseudo-headers dropped, base64 bodies, strings full of brackets", async () => {
    const p = write("a.har", har([entry(1), entry(2)]));
    const { exchanges, corrupt } = await readAll(p);
    expect(corrupt).toEqual([]);
    expect(exchanges).toHaveLength(2);
    const e = exchanges[0] as RecordedExchange;
    expect(e.request).toMatchObject({ method: "POST", target: "/cart/1?q={x}", host: "shop.test:8080" });
    expect(e.request.headers).toEqual([["Content-Type", "application/json"]]);
    expect(text(e.request.body)).toBe('{"n":1,"s":"}]\\"["}');
    expect(e.response?.status).toBe(201);
    expect(text(e.response?.body)).toBe('{"ok":1}');
    expect(e.response?.durationMs).toBe(12.5);
    expect(e.line).toBeGreaterThan(1);
  });

  test("a corrupt entry is reported with its line; a truncated file keeps every whole entry", async () => {
    const full = har([entry(1), { request: { method: "GET" } }, entry(3), entry(4)]);
    const p = write("b.har", full.slice(0, full.lastIndexOf('"startedDateTime"') + 30));
    const { exchanges, corrupt } = await readAll(p);
    expect(exchanges.map((e) => e.request.target)).toEqual(["/cart/1?q={x}", "/cart/3?q={x}"]);
    expect(corrupt.map((c) => c.message)).toEqual(["entry without request.method and request.url", "truncated: the file ends inside log.entries"]);
    const lines = full.split("\n");
    expect(lines[(corrupt[0]?.line as number) - 1]?.trim()).toBe("{");
    expect(full.split("\n")[(corrupt[1]?.line as number) - 1]).toContain("{");
  });

  test("a browser's failed request (status 0) or a left-out body has no response to compare against", async () => {
    const p = write("c.har", har([entry(1, { response: { status: 0, headers: [], content: { size: 0 } } }), entry(2, { response: { status: 200, headers: [], content: { size: 100 } } })]));
    const { exchanges } = await readAll(p);
    expect(exchanges.map((e) => e.response)).toEqual([undefined, undefined]);
  });

  test("any entry text survives the streaming scanner, across chunk boundaries (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.string({ unit: "binary" }), fc.string()), { minLength: 1, maxLength: 4 }), fc.boolean(), async (items, pretty) => {
        const entries = items.map(([body, header], i) => entry(i, { request: { method: "PUT", url: `https://x.test/p/${i}`, headers: [{ name: "x-h", value: header }], postData: { text: body } } }));
        // Padding makes entries straddle the reader's chunks.
        const p = write("prop.har", har([...entries, entry(99, { comment: "y".repeat(70_000) })], pretty));
        const { exchanges, corrupt } = await readAll(p);
        expect(corrupt).toEqual([]);
        expect(exchanges).toHaveLength(items.length + 1);
        items.forEach(([body, header], i) => {
          expect(text(exchanges[i]?.request.body) ?? "").toBe(body);
          expect(exchanges[i]?.request.headers).toEqual([["x-h", header]]);
        });
      }),
      { numRuns: 40 },
    );
  });

  test("not a HAR", async () => {
    const p = write("d.har", JSON.stringify({ log: { pages: [] } }));
    expect((await readAll(p)).corrupt.map((c) => c.message)).toEqual(["not a HAR file: no log.entries array"]);
  });
});

const SEP = "\n🐵🙈🙉\n";

describe("GoReplay", () => {
  test("requests joined to their recorded responses by id; chunked bodies undone; replayed responses ignored", async () => {
    const req1 = "POST /orders?x=1 HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
    const req2 = "GET /orders/2 HTTP/1.1\r\nHost: api.test\r\n\r\n";
    const res1 = 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"id":1}';
    const p = write(
      "a.gor",
      [`1 aaa1 1700000000000000000 0\n${req1}`, `1 bbb2 1700000000100000000 0\n${req2}`, `2 aaa1 1700000000200000000 2500000\n${res1}`, `3 aaa1 1700000000300000000 1\nHTTP/1.1 500 X\r\n\r\n`].join(SEP) + SEP,
    );
    const { exchanges, corrupt } = await readAll(p);
    expect(corrupt).toEqual([]);
    expect(exchanges.map((e) => [e.request.method, e.request.target, e.request.host, e.response?.status, e.line])).toEqual([
      ["POST", "/orders?x=1", "api.test", 201, 1],
      ["GET", "/orders/2", "api.test", undefined, 14],
    ]);
    const first = exchanges[0] as RecordedExchange;
    expect(text(first.request.body)).toBe('{"a":1}');
    expect(first.request.headers.map(([k]) => k)).toEqual(["Host"]);
    expect(first.response?.durationMs).toBe(2.5);
    expect(first.time).toBe(1_700_000_000_000);
  });

  test("a corrupt payload is reported with its line; a truncated last one too", async () => {
    const ok = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    const p = write("b.gor", [`1 a1 1700000000000000000 0\n${ok}`, "garbage line\nnothing", `1 a3 1700000000000000000 0\nPOST /c HTTP/1.1\r\nContent-Length: 10\r\n\r\n{"x`].join(SEP));
    const { exchanges, corrupt } = await readAll(p);
    expect(exchanges.map((e) => e.request.target)).toEqual(["/a"]);
    expect(corrupt.map((c) => [c.line, c.message])).toEqual([
      [7, 'not a GoReplay meta line: "garbage line"'],
      [10, "truncated: the body has 3 of 10 bytes"],
    ]);
  });

  test("raw request parsing", () => {
    expect(() => parseRawRequest(new TextEncoder().encode("HELLO\r\n\r\n"))).toThrow("not an HTTP request line");
    expect(parseRawRequest(new TextEncoder().encode("get /x HTTP/1.0\nA: b\n\nbody")).body).toEqual(new TextEncoder().encode("body"));
  });
});

test("formats are recognised by name, else by content", async () => {
  expect(await detectFormat(write("x.ndjson", line(1)))).toBe("jsonl");
  expect(await detectFormat(write("x.txt", har([entry(1)])))).toBe("har");
  expect(await detectFormat(write("y.txt", `1 ab12 1700000000000000000 0\nGET / HTTP/1.1\r\n\r\n`))).toBe("gor");
  expect(await detectFormat(write("z.txt", line(1)))).toBe("jsonl");
  await expect(detectFormat(write("w.txt", "hello"))).rejects.toThrow("not a recording Ficus can read");
  await expect(openRecording(join(dir, "missing.jsonl"))).rejects.toThrow("no such file");
});

describe("recorded responses against live answers: framing and coding are not differences", () => {
  const BODY = '{"id":7,"items":[1,2,3],"name":"widget"}';

  /** Live answers from a real server, read as the shadow stage and replay read them (fetch, decompress: false). */
  async function liveAnswers(): Promise<Answer[]> {
    const server = Bun.serve({
      port: 0,
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        const headers = { "content-type": "application/json" };
        if (path === "/gzip") return new Response(gzipSync(BODY), { headers: { ...headers, "content-encoding": "gzip" } });
        if (path === "/br-streamed") {
          const bytes = brotliCompressSync(BODY);
          const stream = new ReadableStream({
            start(c) {
              c.enqueue(bytes.subarray(0, 5));
              c.enqueue(bytes.subarray(5));
              c.close();
            },
          });
          return new Response(stream, { headers: { ...headers, "content-encoding": "br" } });
        }
        return new Response(BODY, { headers });
      },
    });
    try {
      const out: Answer[] = [];
      for (const path of ["/plain", "/gzip", "/br-streamed"]) {
        const res = await fetch(new URL(path, server.url), { decompress: false });
        out.push({ status: res.status, headers: [...res.headers], body: new Uint8Array(await res.arrayBuffer()), durationMs: 1 });
      }
      return out;
    } finally {
      server.stop(true);
    }
  }

  function judged(recorded: RecordedExchange["response"], live: Answer): string {
    if (!recorded) throw new Error("no recorded response");
    const j = judgePair(new ResultsBuffer(1), "orders", { ...recorded, durationMs: 1 }, live, compileRules(), new Set(), () => {
      throw new Error("a match keeps no sample");
    });
    return j.outcome === "mismatched" ? `mismatched: ${JSON.stringify(j.differences)}` : j.outcome;
  }

  test("regression: a response GoReplay recorded chunked matches the same answer served live (was a high-severity body mismatch)", async () => {
    const wire = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n${BODY.slice(0, 5)}\r\n${(BODY.length - 5).toString(16)};ext=1\r\n${BODY.slice(5)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    const p = write("chunked.gor", [`1 c1 1700000000000000000 0\nGET /orders/7 HTTP/1.1\r\nHost: h\r\n\r\n`, `2 c1 1700000000100000000 1000000\n${wire}`].join(SEP) + SEP);
    const { exchanges, corrupt } = await readAll(p);
    expect(corrupt).toEqual([]);
    const recorded = exchanges[0]?.response;
    expect(text(recorded?.body)).toBe(BODY);
    for (const live of await liveAnswers()) expect(judged(recorded, live)).toBe("matched");
  });

  test("HAR content already decoded under a Content-Encoding header, or stored coded (base64): the payload either way", async () => {
    const decoded = entry(1, { response: { status: 200, headers: [{ name: "content-type", value: "application/json" }, { name: "content-encoding", value: "gzip" }, { name: "content-length", value: "99" }], content: { size: BODY.length, mimeType: "application/json", text: BODY } } });
    const coded = entry(2, { response: { status: 200, headers: [{ name: "content-type", value: "application/json" }, { name: "content-encoding", value: "br" }], content: { size: BODY.length, mimeType: "application/json", text: brotliCompressSync(BODY).toString("base64"), encoding: "base64" } } });
    const { exchanges } = await readAll(write("coded.har", har([decoded, coded])));
    for (const e of exchanges) {
      expect(text(e.response?.body)).toBe(BODY);
      expect(e.response?.headers).toEqual([["content-type", "application/json"]]);
    }
    const live = await liveAnswers();
    for (const e of exchanges) for (const l of live) expect(judged(e.response, l)).toBe("matched");
  });

  test("Ficus JSON Lines (bodies recorded decoded) against live coded answers", async () => {
    const { exchanges } = await readAll(write("decoded.jsonl", line(7, { response: { status: 200, headers: [["content-type", "application/json"]], body: BODY } })));
    for (const l of await liveAnswers()) expect(judged(exchanges[0]?.response, l)).toBe("matched");
  });
});

