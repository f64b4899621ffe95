/** The MCP front's pieces: sealed sessions, JSON-RPC classification, Origin/Host checks, the event stream body. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { classify } from "../../../src/mcp/front/jsonrpc.ts";
import { checkOrigin, originPolicy } from "../../../src/mcp/front/origin.ts";
import { SessionSeal } from "../../../src/mcp/front/session.ts";
import { SseBody } from "../../../src/mcp/front/sse.ts";
import type { Exchange } from "../../../src/pipeline/exchange.ts";

describe("sealed sessions", () => {
  const key = SessionSeal.newKey();
  const state = { version: "2025-11-25", endpoint: "mcp", subject: "alice", caps: "se" };

  test("a sealed id opens on any seal with the key, and only there", () => {
    const { id } = new SessionSeal(key, 60_000).seal(state);
    expect(id).toMatch(/^[\x21-\x7e]+$/);
    expect(new SessionSeal(key, 60_000).open(id)).toMatchObject(state);
    expect(new SessionSeal(SessionSeal.newKey(), 60_000).open(id)).toBeUndefined();
  });

  test("an expired id is refused", () => {
    const seal = new SessionSeal(key, 1000);
    const { id } = seal.seal(state, 1_000_000);
    expect(seal.open(id, 1_000_500)).toBeDefined();
    expect(seal.open(id, 1_001_000)).toBeUndefined();
  });

  test("an ended session is refused, by every seal sharing the revocations", async () => {
    const revoked = new Map<string, number>();
    const a = new SessionSeal(key, 60_000, revoked);
    const { id, state: s } = a.seal(state);
    await a.revoke(s);
    expect(a.open(id)).toBeUndefined();
    expect(new SessionSeal(key, 60_000, revoked).open(id)).toBeUndefined();
    expect(new SessionSeal(key, 60_000).open(id)).toBeDefined();
  });

  test("property: any change to an id makes it refused", () => {
    const seal = new SessionSeal(key, 60_000);
    const { id } = seal.seal(state);
    fc.assert(
      fc.property(fc.nat({ max: id.length - 1 }), fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), (i, ch) => {
        fc.pre(id[i] !== ch);
        const tampered = id.slice(0, i) + ch + id.slice(i + 1);
        // The last character of base64url may carry padding bits only: a change there can decode to the same bytes.
        const same = Buffer.from(tampered, "base64url").equals(Buffer.from(id, "base64url"));
        expect(seal.open(tampered) === undefined || same).toBe(true);
      }),
    );
    expect(seal.open("")).toBeUndefined();
    expect(seal.open("x".repeat(5000))).toBeUndefined();
  });

  test("a key that is not 32 bytes is refused", () => {
    expect(() => new SessionSeal(Buffer.alloc(16).toString("base64"), 1000)).toThrow(/32 bytes/);
  });
});

describe("JSON-RPC classification", () => {
  test.each([
    [{ jsonrpc: "2.0", id: 1, method: "ping" }, "request"],
    [{ jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "x" } }, "request"],
    [{ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } }, "notification"],
    [{ jsonrpc: "2.0", id: 3, result: {} }, "response"],
    [{ jsonrpc: "2.0", id: 3, error: { code: 1, message: "x" } }, "response"],
    [[], "invalid"],
    [[{ jsonrpc: "2.0", id: 1, method: "ping" }], "invalid"],
    ["text", "invalid"],
    [null, "invalid"],
    [{ id: 1, method: "ping" }, "invalid"],
    [{ jsonrpc: "2.0", id: 1, method: "ping", params: [1] }, "invalid"],
    [{ jsonrpc: "2.0", id: { x: 1 }, method: "ping" }, "invalid"],
    [{ jsonrpc: "2.0", id: Number.NaN, method: "ping" }, "invalid"],
    [{ jsonrpc: "2.0", id: 1 }, "invalid"],
  ] as const)("%j is a %s", (msg, kind) => {
    expect(classify(msg).kind).toBe(kind);
  });
});

describe("Origin and Host (DNS rebinding)", () => {
  const ex = (host: string, origin?: string) => ({ host: host.split(":")[0], hostField: host, fields: origin === undefined ? [] : ["origin", origin] }) as unknown as Exchange;
  const loopback = originPolicy([], [], "127.0.0.1");
  const open = originPolicy([], [], "0.0.0.0");
  const listed = originPolicy(["https://app.example.com"], ["mcp.example.com"], "0.0.0.0");

  test.each([
    ["loopback: a local client without Origin", loopback, ex("127.0.0.1:8080"), true],
    ["loopback: localhost with a local origin", loopback, ex("localhost:8080", "http://localhost:3000"), true],
    ["loopback: a rebound name", loopback, ex("evil.example.com", "http://evil.example.com"), false],
    ["loopback: a foreign origin", loopback, ex("localhost:8080", "https://evil.example.com"), false],
    ["public: no origin", open, ex("mcp.example.com"), true],
    ["public: a browser origin not listed", open, ex("mcp.example.com", "https://app.example.com"), false],
    ["listed: the listed origin and host", listed, ex("mcp.example.com", "https://app.example.com"), true],
    ["listed: another host", listed, ex("other.example.com"), false],
  ] as const)("%s", (_n, policy, exchange, ok) => {
    expect(checkOrigin(exchange, policy) === undefined).toBe(ok);
  });
});

describe("the event stream body", () => {
  test("events queue while paused and flow in order on resume; end comes after the last", () => {
    const sse = new SseBody("s-");
    const got: string[] = [];
    let ended = false;
    sse.message('{"a":1}');
    sse.start({ onData: (c) => (got.push(new TextDecoder().decode(c)), false), onEnd: () => (ended = true), onError: () => {} });
    sse.message('{"a":2}');
    sse.end();
    expect(ended).toBe(false);
    sse.resume();
    sse.resume();
    expect(got.join("")).toBe('id: s-0\nevent: message\ndata: {"a":1}\n\nid: s-1\nevent: message\ndata: {"a":2}\n\n');
    expect(ended).toBe(true);
  });

  test("a client that never reads is cut once its queue is full, and the feeder is told", () => {
    const sse = new SseBody();
    let cancelled = false;
    let error = "";
    sse.onCancel = () => (cancelled = true);
    sse.start({ onData: () => false, onEnd: () => {}, onError: (e) => (error = e.code) });
    const big = "x".repeat(64 * 1024);
    let accepted = 0;
    while (sse.message(`"${big}"`) && accepted < 1000) accepted++;
    expect(accepted).toBeLessThan(200);
    expect(cancelled).toBe(true);
    expect(error).toBe("cancelled");
  });
});
