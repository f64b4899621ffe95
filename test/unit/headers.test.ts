/** Header lists as the pipeline carries them, and what the upstream request gets (RFC 9110 §7.6.1). */
import { describe, expect, test } from "bun:test";
import { requestIdFrom } from "../../src/pipeline/layers/request-id.ts";
import { appendToField, deleteField, endToEnd, fieldsBytes, getField, getFieldList, nameEquals, setField } from "../../src/pipeline/fields.ts";
import { applyOps } from "../../src/proxy/forward-layer.ts";

describe("field lists", () => {
  test("names compare case-insensitively; values keep order and repeats", () => {
    const f = ["Accept", "a", "X-Multi", "1", "x-multi", "2"];
    expect(nameEquals("X-Multi", "x-multi")).toBe(true);
    expect(nameEquals("X-Mult", "x-multi")).toBe(false);
    expect(getField(f, "accept")).toBe("a");
    expect(getFieldList(f, "x-multi")).toBe("1, 2");
    expect(getField(f, "absent")).toBeUndefined();
  });

  test("set replaces the first occurrence in place and drops the others; absent names are appended", () => {
    const f = ["A", "1", "B", "2", "a", "3"];
    setField(f, "a", "x");
    expect(f).toEqual(["A", "x", "B", "2"]);
    setField(f, "c", "3");
    expect(f).toEqual(["A", "x", "B", "2", "c", "3"]);
  });

  test("delete removes every occurrence; append joins a list", () => {
    const f = ["X-Forwarded-For", "1.1.1.1", "k", "v", "x-forwarded-for", "2.2.2.2"];
    appendToField(f, "x-forwarded-for", "10.0.0.9");
    expect(getField(f, "x-forwarded-for")).toBe("1.1.1.1, 2.2.2.2, 10.0.0.9");
    expect(deleteField(f, "x-forwarded-for")).toBe(1);
    expect(f).toEqual(["k", "v"]);
  });

  test("hop-by-hop fields, those named in Connection, and Content-Length are removed", () => {
    const f = ["Connection", "close, X-Custom-Hop, Upgrade", "X-Custom-Hop", "1", "Keep-Alive", "timeout=5", "TE", "trailers", "Upgrade", "websocket", "Proxy-Connection", "keep-alive", "Trailer", "x", "Transfer-Encoding", "chunked", "Content-Length", "5", "X-End-To-End", "yes"];
    expect(endToEnd(f, false).fields).toEqual(["X-End-To-End", "yes"]);
  });

  test("route operations: remove, then set", () => {
    const f = ["X-Drop", "1", "X-Team", "old"];
    applyOps(f, { add: [["x-team", "payments"]], remove: ["x-drop"] });
    expect(f).toEqual(["X-Team", "payments"]);
  });

  test("header section size counts names, values and separators", () => {
    expect(fieldsBytes(["ab", "cd"])).toBe(2 + 2 + 4);
  });
});

describe("request ids", () => {
  const cases: [string | null, boolean][] = [["abc-123", true], ["a.b:c_d", true], ["has space", false], ["x".repeat(129), false], ["", false], [null, false], ['quote"', false]];
  for (const [input, kept] of cases) {
    test(`${JSON.stringify(input)} is ${kept ? "kept" : "replaced"}`, () => {
      const id = requestIdFrom(input);
      if (kept) expect(id).toBe(input as string);
      else expect(id).toMatch(/^[0-9a-f-]{36}$/);
    });
  }
});

describe("end-to-end copy", () => {
  test("one pass: hop-by-hop, Connection-named and Content-Length left out; Host taken when asked", () => {
    const src = ["Host", "a.test", "Connection", "X-Hop, keep-alive", "X-Hop", "1", "Content-Length", "3", "TE", "trailers", "Accept", "*/*", "host", "b.test", "Upgrade", "h2c"];
    expect(endToEnd(src, true)).toEqual({ fields: ["Accept", "*/*"], host: "a.test" });
    expect(endToEnd(src, false).fields).toEqual(["Host", "a.test", "Accept", "*/*", "host", "b.test"]);
    expect(src.length).toBe(16);
  });
});
