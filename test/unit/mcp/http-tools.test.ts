// Declared HTTP tools (src/mcp/sources/http/compile.ts): spec checks, the request a call makes
// (path templates, query, headers, body modes) and the result an HTTP answer becomes.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FicusError } from "../../../src/core/errors.ts";
import { compileHttpTool, ERROR_BODY_MAX, type HttpAnswer, type HttpToolSpec } from "../../../src/mcp/sources/http/index.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function spec(call: Partial<HttpToolSpec["call"]>, props: string[] = ["id", "q", "h", "a", "b", "payload"], extra: Partial<HttpToolSpec> = {}): HttpToolSpec {
  const properties = Object.fromEntries(props.map((p) => [p, {}])); // own keys, "__proto__" included
  return { name: "t", inputSchema: { type: "object", properties }, call: { method: "GET", path: "/", ...call }, ...extra };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof FicusError ? e.code : `not a FicusError: ${String(e)}`;
  }
  return undefined;
}

function answer(status: number, body: string | Uint8Array, contentType?: string): HttpAnswer {
  return { status, headers: contentType === undefined ? [] : [["Content-Type", contentType]], body: typeof body === "string" ? enc.encode(body) : body };
}

describe("compile: spec problems are FICUS_MCP_SOURCE_INVALID naming the tool and field", () => {
  test.each<[string, HttpToolSpec, string]>([
    ["template names an argument the schema lacks", spec({ path: "/orders/{nope}" }), "{nope}"],
    ["query names an argument the schema lacks", spec({ query: { x: "nope" } }), "call.query.x"],
    ["header names an argument the schema lacks", spec({ headers: { "x-a": "nope" } }), "call.headers.x-a"],
    ["body names an argument the schema lacks", spec({ body: "nope" }), "call.body"],
    ["body list names an argument the schema lacks", spec({ body: ["a", "nope"] }), "call.body"],
    ["unbalanced brace", spec({ path: "/orders/{id" }), "without"],
    ["empty braces", spec({ path: "/orders/{}" }), "empty"],
    ["path without leading slash", spec({ path: "orders" }), "start with"],
    ["query in the path", spec({ path: "/orders?x=1" }), "call.query"],
    ["method that is not a token", spec({ method: "GE T" }), "call.method"],
    ["header name that is not a token", spec({ headers: { "x a": "h" } }), "call.headers"],
    ["reserved header", spec({ fixed_headers: { "Content-Length": "3" } }), "gateway sets"],
    ["fixed header with a line break", spec({ fixed_headers: { "x-a": "1\r\nx-b: 2" } }), "line break"],
    ["header in both fixed and argument headers", spec({ fixed_headers: { "X-A": "1" }, headers: { "x-a": "h" } }), "also in"],
    ["invalid tool name", spec({}, [], { name: "bad name" }), "name must"],
    ["inputSchema not an object schema", { name: "t", inputSchema: { type: "string" }, call: { method: "GET", path: "/" } }, "inputSchema"],
    ["outputSchema not an object", spec({}, [], { outputSchema: [] as never }), "outputSchema"],
  ])("%s", (_what, s, fragment) => {
    let err: unknown;
    try {
      compileHttpTool(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FicusError);
    expect((err as FicusError).code).toBe("FICUS_MCP_SOURCE_INVALID");
    expect((err as FicusError).message).toContain(`tool "${s.name}"`);
    expect((err as FicusError).message).toContain(fragment);
  });

  test("the definition carries the spec's fields; a non-object output schema is wrapped as {result}", () => {
    const plain = compileHttpTool(spec({}, ["id"], { title: "T", description: "D", annotations: { readOnlyHint: true }, outputSchema: { type: "object" } })).definition;
    expect(plain).toEqual({ name: "t", title: "T", description: "D", inputSchema: { type: "object", properties: { id: {} } }, outputSchema: { type: "object" }, annotations: { readOnlyHint: true } });
    const wrapped = compileHttpTool(spec({}, ["id"], { outputSchema: { type: "array", items: { type: "string" } } })).definition.outputSchema;
    expect(wrapped).toMatchObject({ type: "object", properties: { result: { type: "array", items: { type: "string" } } }, required: ["result"] });
    expect(String(wrapped?.description)).toContain("result");
  });
});

describe("request: path templates", () => {
  const tool = compileHttpTool(spec({ path: "/orders/{id}/items" }));
  test.each<[unknown, string]>([
    ["42", "/orders/42/items"],
    [42, "/orders/42/items"],
    [true, "/orders/true/items"],
    ["a/b", "/orders/a%2Fb/items"],
    ["a b", "/orders/a%20b/items"],
    ["café", "/orders/caf%C3%A9/items"],
    ["日本", "/orders/%E6%97%A5%E6%9C%AC/items"],
    ["😀", "/orders/%F0%9F%98%80/items"],
    ["a?b#c", "/orders/a%3Fb%23c/items"],
    ["100%", "/orders/100%25/items"],
    [".", "/orders/%2E/items"],
    ["..", "/orders/%2E%2E/items"],
    ["...", "/orders/.../items"],
    [["a", "b c", 3], "/orders/a,b%20c,3/items"],
  ])("%p → %p", (id, target) => {
    expect(tool.request({ id }).target).toBe(target);
  });

  test.each<[string, Record<string, unknown>]>([
    ["missing", {}],
    ["null", { id: null }],
    ["empty", { id: "" }],
    ["object", { id: { a: 1 } }],
    ["array of objects", { id: [{}] }],
    ["NaN-like number", { id: Number.POSITIVE_INFINITY }],
    ["lone surrogate", { id: "a\ud800" }],
  ])("%s → FICUS_MCP_INVALID_ARGUMENTS", (_what, args) => {
    expect(codeOf(() => tool.request(args))).toBe("FICUS_MCP_INVALID_ARGUMENTS");
  });

  test("the message names the argument", () => {
    expect(() => tool.request({})).toThrow('"id"');
  });

  test("literal parts that need encoding are encoded once, at compile", () => {
    const t = compileHttpTool(spec({ path: "/a b/ü/{id}" }));
    expect(t.request({ id: "x" }).target).toBe("/a%20b/%C3%BC/x");
  });

  test("any string round-trips through a path segment and never adds a segment (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 50, unit: "binary" }), (s) => {
        // a lone surrogate (JSON can carry one) has no UTF-8 form: the agent's error, not a crash
        if (!s.isWellFormed()) {
          expect(codeOf(() => tool.request({ id: s }))).toBe("FICUS_MCP_INVALID_ARGUMENTS");
          return;
        }
        const target = tool.request({ id: s }).target;
        const seg = target.slice("/orders/".length, target.length - "/items".length);
        expect(seg.includes("/")).toBe(false);
        expect(decodeURIComponent(seg)).toBe(s);
      }),
    );
  });
});

describe("request: query", () => {
  const tool = compileHttpTool(spec({ path: "/s", query: { q: "q", "filter[tag]": "a", limit: "b" } }));
  test.each<[Record<string, unknown>, string]>([
    [{}, "/s"],
    [{ q: "x" }, "/s?q=x"],
    [{ q: "a b&c=d" }, "/s?q=a%20b%26c%3Dd"],
    [{ q: "ü" }, "/s?q=%C3%BC"],
    [{ q: null, b: 5 }, "/s?limit=5"],
    [{ q: false }, "/s?q=false"],
    [{ q: ["x", "y", "z"] }, "/s?q=x&q=y&q=z"],
    [{ q: [] }, "/s"],
    [{ q: ["x", null, 2] }, "/s?q=x&q=2"],
    [{ a: "cats", q: "1", b: 2 }, "/s?q=1&filter%5Btag%5D=cats&limit=2"],
    [{ q: "" }, "/s?q="],
  ])("%p → %p", (args, target) => {
    expect(tool.request(args).target).toBe(target);
  });

  test.each<[Record<string, unknown>]>([[{ q: { a: 1 } }], [{ q: [[1]] }], [{ q: [{ a: 1 }] }], [{ q: "\udfff" }]])("%p → FICUS_MCP_INVALID_ARGUMENTS", (args) => {
    expect(codeOf(() => tool.request(args))).toBe("FICUS_MCP_INVALID_ARGUMENTS");
  });
});

describe("request: headers", () => {
  const tool = compileHttpTool(spec({ headers: { "X-Tenant": "h", "X-Tags": "a" }, fixed_headers: { "X-Api-Version": "2" } }));
  test("fixed headers, argument headers (lower-cased names), Accept; absent arguments omitted", () => {
    expect(tool.request({ h: "acme", a: ["x", "y"] }).headers).toEqual([
      ["x-api-version", "2"],
      ["accept", "application/json"],
      ["x-tenant", "acme"],
      ["x-tags", "x, y"],
    ]);
    expect(tool.request({}).headers).toEqual([
      ["x-api-version", "2"],
      ["accept", "application/json"],
    ]);
  });

  test.each<[unknown]>([["a\r\nx-evil: 1"], ["a\nb"], ["nul\u0000"], ["日本"], [{ a: 1 }], [" padded "]])("header value %p → FICUS_MCP_INVALID_ARGUMENTS", (h) => {
    expect(codeOf(() => tool.request({ h }))).toBe("FICUS_MCP_INVALID_ARGUMENTS");
  });

  test("a fixed Accept or Content-Type replaces the default", () => {
    const t = compileHttpTool(spec({ method: "POST", body: "payload", fixed_headers: { Accept: "text/csv", "Content-Type": "application/vnd.x+json" } }));
    expect(t.request({ payload: 1 }).headers).toEqual([
      ["accept", "text/csv"],
      ["content-type", "application/vnd.x+json"],
    ]);
  });

  test("requests do not share header arrays", () => {
    const a = tool.request({ h: "1" });
    a.headers.push(["x", "y"]);
    expect(tool.request({}).headers.length).toBe(2);
  });
});

describe("request: body modes", () => {
  const cases: [string, Partial<HttpToolSpec["call"]>, Record<string, unknown>, unknown][] = [
    ["no body declared", {}, { a: 1 }, undefined],
    ["one argument is the body", { body: "payload" }, { payload: [1, { x: "y" }], a: 2 }, [1, { x: "y" }]],
    ["one argument absent: no body", { body: "payload" }, { a: 2 }, undefined],
    ["one argument null is the JSON null", { body: "payload" }, { payload: null }, null],
    ["a list of arguments forms an object of those present", { body: ["a", "b"] }, { a: 1, payload: 3 }, { a: 1 }],
    ["an empty list selection is an empty object", { body: ["a", "b"] }, {}, {}],
    ["* takes every argument not used elsewhere", { path: "/o/{id}", query: { q: "q" }, headers: { "x-h": "h" }, body: "*" }, { id: "7", q: "s", h: "v", a: 1, extra: true }, { a: 1, extra: true }],
  ];
  test.each(cases)("%s", (_what, call, args, body) => {
    const r = compileHttpTool(spec({ method: "post", ...call })).request(args);
    expect(r.method).toBe("POST");
    if (body === undefined) {
      expect(r.body).toBeUndefined();
      expect(r.headers.some(([k]) => k === "content-type")).toBe(false);
    } else {
      expect(JSON.parse(dec.decode(r.body))).toEqual(body);
      expect(r.headers).toContainEqual(["content-type", "application/json"]);
    }
  });

  test("an argument named __proto__ is sent as a body key, in list and * modes", () => {
    const args = JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as Record<string, unknown>;
    for (const body of [["__proto__", "a"], "*"] as const) {
      const r = compileHttpTool(spec({ method: "POST", body: body as string | string[] }, ["__proto__", "a"])).request(args);
      expect(dec.decode(r.body)).toBe('{"__proto__":{"x":1},"a":2}');
    }
  });

  test("unicode in the body is UTF-8", () => {
    const r = compileHttpTool(spec({ method: "POST", body: ["a"] })).request({ a: "日本 😀" });
    expect(dec.decode(r.body)).toBe('{"a":"日本 😀"}');
  });
});

describe("result", () => {
  const plain = compileHttpTool(spec({}));
  const structured = compileHttpTool(spec({}, [], { outputSchema: { type: "object", properties: { id: { type: "number" } } } }));
  const wrapped = compileHttpTool(spec({}, [], { outputSchema: { type: "array" } }));

  test("2xx JSON → text (the body as sent)", () => {
    expect(plain.result(answer(200, '{"id":1}', "application/json"))).toEqual({ content: [{ type: "text", text: '{"id":1}' }] });
  });

  test("2xx text → text", () => {
    expect(plain.result(answer(201, "créé", "text/plain; charset=utf-8"))).toEqual({ content: [{ type: "text", text: "créé" }] });
  });

  test("2xx JSON with an object output schema → structuredContent too", () => {
    expect(structured.result(answer(200, '{"id":1}', "application/json; charset=utf-8"))).toEqual({ content: [{ type: "text", text: '{"id":1}' }], structuredContent: { id: 1 } });
    expect(structured.result(answer(200, '{"id":1}'))).toMatchObject({ structuredContent: { id: 1 } }); // no Content-Type: parsed if it is JSON
  });

  test("2xx JSON with a wrapped output schema → {result: body}; an empty body is null", () => {
    expect(wrapped.result(answer(200, "[1,2]", "application/json"))).toEqual({ content: [{ type: "text", text: "[1,2]" }], structuredContent: { result: [1, 2] } });
    expect(wrapped.result(answer(204, ""))).toEqual({ content: [{ type: "text", text: "null" }], structuredContent: { result: null } });
  });

  test.each<[string, HttpAnswer, string]>([
    ["an array", answer(200, "[1]", "application/json"), "JSON array"],
    ["not JSON", answer(200, "hello", "text/plain"), "not JSON"],
    ["an empty body", answer(204, ""), "empty body"],
  ])("2xx %s where the output schema promises an object → isError saying so", (_what, a, fragment) => {
    const r = structured.result(a);
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(String(r.content[0]?.text)).toContain(fragment);
  });

  test.each<[number, string, string]>([
    [404, '{"error":"no such order"}', 'HTTP 404:\n{"error":"no such order"}'],
    [500, "", "HTTP 500 with an empty body."],
    [302, "moved", "HTTP 302:\nmoved"],
    [429, "slow down", "HTTP 429:\nslow down"],
  ])("HTTP %p → isError naming the status and the body", (status, body, text) => {
    const r = structured.result(answer(status, body, "application/json"));
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(String(r.content[0]?.text)).toContain(text);
  });

  test("a non-2xx body is cut to 4 KiB, never inside a UTF-8 character", () => {
    const body = "é".repeat(5000); // 10,000 bytes
    const text = String(plain.result(answer(502, body, "text/plain")).content[0]?.text);
    const shown = text.slice(text.indexOf(":\n") + 2, text.indexOf("\n…"));
    expect(enc.encode(shown).length).toBeLessThanOrEqual(ERROR_BODY_MAX);
    expect(enc.encode(shown).length).toBeGreaterThan(ERROR_BODY_MAX - 2);
    expect(shown).toBe("é".repeat(shown.length));
    expect(text).toContain("10000 bytes");
  });

  test("a 2xx text longer than maxTextBytes is cut with a note", () => {
    const t = compileHttpTool(spec({}), { maxTextBytes: 10 });
    expect(t.result(answer(200, "0123456789abcdef", "text/plain")).content[0]?.text).toBe("0123456789\n… (cut: the body is 16 bytes)");
  });

  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff]);
  const b64 = Buffer.from(png).toString("base64");
  test.each<[string, HttpAnswer, Record<string, unknown>]>([
    ["image/* → image", answer(200, png, "image/png"), { type: "image", data: b64, mimeType: "image/png" }],
    ["audio/* → audio", answer(200, png, "audio/ogg"), { type: "audio", data: b64, mimeType: "audio/ogg" }],
    ["octet-stream → resource blob", answer(200, png, "application/octet-stream"), { type: "resource", resource: { uri: "ficus://response", mimeType: "application/octet-stream", blob: b64 } }],
    ["octet-stream that happens to be UTF-8 → still a blob", answer(200, "abc", "application/octet-stream"), { type: "resource", resource: { uri: "ficus://response", mimeType: "application/octet-stream", blob: "YWJj" } }],
    ["invalid UTF-8 without Content-Type → blob", answer(200, png), { type: "resource", resource: { uri: "ficus://response", mimeType: "application/octet-stream", blob: b64 } }],
    ["invalid UTF-8 labelled text → blob", answer(200, png, "text/plain"), { type: "resource", resource: { uri: "ficus://response", mimeType: "text/plain", blob: b64 } }],
  ])("%s", (_what, a, block) => {
    expect(plain.result(a)).toEqual({ content: [block] });
  });

  test("a binary error body is described, not dumped", () => {
    const r = plain.result(answer(500, png, "image/png"));
    expect(r).toEqual({ content: [{ type: "text", text: "The upstream answered HTTP 500 with 10 bytes of image/png." }], isError: true });
  });

  test("never throws, whatever the answer (property)", () => {
    const tools = [plain, structured, wrapped];
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 1000 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(undefined, "application/json", "image/png", "text/plain", "", ";;", "application/octet-stream"),
        fc.integer({ min: 0, max: 2 }),
        (status, body, ct, which) => {
          const r = (tools[which] ?? plain).result(answer(status, body, ct));
          expect(Array.isArray(r.content)).toBe(true);
          expect(r.content.length).toBe(1);
        },
      ),
    );
  });
});

test("request() is cheap: 100k calls of a 2-segment, 2-query, 1-header tool", () => {
  const t = compileHttpTool(spec({ path: "/orders/{id}/items/{a}", query: { q: "q", limit: "b" }, headers: { "x-h": "h" } }));
  const args = { id: "o-1", a: "i/2", q: ["x", "y"], b: 10, h: "v" };
  const start = performance.now();
  for (let i = 0; i < 100_000; i++) t.request(args);
  const ms = performance.now() - start;
  console.log(`request(): ${((ms * 1000) / 100_000).toFixed(2)} µs per call`);
  expect(t.request(args).target).toBe("/orders/o-1/items/i%2F2?q=x&q=y&limit=10");
  expect(ms).toBeLessThan(5000);
});
