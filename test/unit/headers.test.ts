import { describe, expect, test } from "bun:test";
import { connectionTokens, editRequestHeaders, headerBytes, prepareResponseHeaders, requestIdFrom } from "../../src/proxy/headers.ts";

const ctx = { requestId: "rid-1", clientIp: "10.0.0.9", proto: "http", originalHost: "shop.test", ops: undefined };

describe("request headers (RFC 9110 §7.6.1)", () => {
  test("hop-by-hop fields and those named in Connection are removed", () => {
    const h = new Headers({ connection: "close, X-Custom-Hop", "x-custom-hop": "1", "keep-alive": "timeout=5", te: "trailers", upgrade: "h2c", "proxy-connection": "keep-alive", trailer: "x", "transfer-encoding": "chunked", "x-end-to-end": "yes" });
    editRequestHeaders(h, ctx);
    for (const name of ["connection", "x-custom-hop", "keep-alive", "te", "upgrade", "proxy-connection", "trailer", "transfer-encoding"]) expect(h.has(name)).toBe(false);
    expect(h.get("x-end-to-end")).toBe("yes");
  });

  test("forwarded fields are appended, request id set, route ops applied", () => {
    const h = new Headers({ "x-forwarded-for": "1.1.1.1, 2.2.2.2", "x-forwarded-host": "edge.test", "x-request-id": "client-id", "x-drop": "1" });
    editRequestHeaders(h, { ...ctx, ops: { add: [["x-team", "payments"]], remove: ["x-drop"] } });
    expect(h.get("x-forwarded-for")).toBe("1.1.1.1, 2.2.2.2, 10.0.0.9");
    expect(h.get("x-forwarded-proto")).toBe("http");
    expect(h.get("x-forwarded-host")).toBe("edge.test, shop.test");
    expect(h.get("x-request-id")).toBe("rid-1");
    expect(h.get("x-team")).toBe("payments");
    expect(h.has("x-drop")).toBe(false);
  });

  test("connection tokens ignore close and keep-alive", () => {
    expect(connectionTokens("close")).toBeUndefined();
    expect(connectionTokens("Keep-Alive, Foo ,bar")).toEqual(["foo", "bar"]);
    expect(connectionTokens(null)).toBeUndefined();
  });

  test("header section size counts names, values and separators", () => {
    expect(headerBytes(new Headers({ ab: "cd" }))).toBe(2 + 2 + 4);
  });
});

describe("response headers", () => {
  test("hop-by-hop removed, request id added unless present, ops applied", () => {
    const h = prepareResponseHeaders(new Headers({ connection: "x-a", "x-a": "1", "keep-alive": "t", "content-type": "text/plain" }), "rid", { add: [["x-served-by", "ficus"]], remove: ["server"] });
    expect([...h.keys()].sort()).toEqual(["content-type", "x-request-id", "x-served-by"]);
    const kept = prepareResponseHeaders(new Headers({ "x-request-id": "upstream-id" }), "rid", undefined);
    expect(kept.get("x-request-id")).toBe("upstream-id");
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
