/**
 * Federated MCP sources against a real upstream MCP server process (test/fixtures/mcp/upstream-server.ts,
 * official v2 server SDK): over Streamable HTTP in both eras (forced legacy, and auto, which
 * negotiates 2026-07-28 with this server) and over stdio. Lists, calls, progress, cancellation
 * reaching the upstream, list_changed, sampling relayed to the right call, crashes, garbage on
 * stdout, timeouts and an unreachable upstream.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { createServer } from "node:net";
import { FicusError } from "../../src/core/errors.ts";
import { McpHttpSource, StdioSource, UpstreamRpcError } from "../../src/mcp/sources/federated/index.ts";
import type { CallContext, CallToolResult, JsonObject, ListKind, Progress } from "../../src/mcp/types.ts";

const FIXTURE = new URL("../fixtures/mcp/upstream-server.ts", import.meta.url).pathname;

interface Upstream {
  proc: Subprocess<"ignore", "pipe", "inherit">;
  url: string;
}

async function startUpstream(...extra: string[]): Promise<Upstream> {
  const proc = Bun.spawn([process.execPath, FIXTURE, "--http", "0", ...extra], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("fixture exited before listening");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const port = Number(/listening (\d+)/.exec(text)?.[1]);
  return { proc, url: `http://127.0.0.1:${port}/mcp` };
}

function context(over: Partial<CallContext> = {}): CallContext {
  return { signal: new AbortController().signal, requestId: "test", ...over };
}

/**
 * The progress a 3-step `slow` call forwarded. The SDK drops the last one when it is read in the
 * same chunk as the response (its response path removes the progress handler before the
 * notification's queued dispatch runs), so the third may be missing; the first two and the order may not.
 */
function expectProgress(seen: number[]): void {
  expect(seen.slice(0, 2)).toEqual([1, 2]);
  expect(seen.length === 2 || seen[2] === 3).toBe(true);
  expect(seen.length).toBeLessThanOrEqual(3);
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => String(c["text"] ?? "")).join("");
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const opened: { close(): Promise<void> }[] = [];
function track<T extends { close(): Promise<void> }>(source: T): T {
  opened.push(source);
  return source;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe.each([
  ["legacy", "legacy", "2025-11-25"],
  ["auto", "modern", "2026-07-28"],
] as const)("McpHttpSource, era %s", (eraChoice, expectedEra, expectedVersion) => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(() => {
    upstream.proc.kill();
  });

  const open = async (extra: { timeout?: number } = {}): Promise<McpHttpSource> => {
    const source = track(new McpHttpSource({ name: "up", url: upstream.url, era: eraChoice, ...extra }));
    await source.start();
    return source;
  };

  test("lists tools, resources and prompts, reports the negotiated era, and calls", async () => {
    const source = await open();
    expect(source.era()).toBe(expectedEra);
    expect(source.status()).toMatchObject({ state: "up" });
    expect(source.status().detail).toContain(expectedVersion);
    const names = source.tools().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "add", "slow", "ask_model"]));
    expect(source.tools().find((t) => t.name === "add")?.outputSchema).toBeDefined();
    expect(source.resources().map((r) => r.uri)).toEqual(["fixture://hello"]);
    expect(source.prompts().map((p) => p.name)).toEqual(["greet"]);

    const echo = await source.call("echo", { text: "hi" }, context({ meta: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } }));
    expect(echo.isError).toBeFalsy();
    expect(textOf(echo)).toBe("hi traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    const add = await source.call("add", { a: 2, b: 3 }, context());
    expect(add.structuredContent).toEqual({ sum: 5 });

    const resource = await source.readResource("fixture://hello", context());
    expect(JSON.stringify(resource)).toContain("hello from the fixture");
    const prompt = await source.getPrompt("greet", { name: "Ada" }, context());
    expect(JSON.stringify(prompt)).toContain("Say hello to Ada");
  });

  test("an upstream JSON-RPC error is relayed as UpstreamRpcError with its code, naming the source", async () => {
    const source = await open();
    const failed = await source.call("no_such_tool", {}, context()).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(UpstreamRpcError);
    expect((failed as UpstreamRpcError).code).toBe(-32602);
    expect((failed as UpstreamRpcError).message).toStartWith("up: ");
    const error = await source.getPrompt("no_such_prompt", {}, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamRpcError);
    expect((error as UpstreamRpcError).code).toBe(-32602);
  });

  test("progress is forwarded", async () => {
    const source = await open();
    const seen: Progress[] = [];
    const result = await source.call("slow", { ms: 60, steps: 3 }, context({ progress: (p) => seen.push(p) }));
    expect(result.isError).toBeFalsy();
    expectProgress(seen.map((p) => p.progress));
    expect(seen[0]).toMatchObject({ total: 3, message: "step 1" });
  });

  test("cancelling the agent's call cancels it at the upstream", async () => {
    const source = await open();
    const before = Number(textOf(await source.call("cancelled_count", {}, context())));
    const abort = new AbortController();
    const pending = source.call("slow", { ms: 5_000, steps: 50 }, context({ signal: abort.signal, progress: () => abort.abort() }));
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("cancelled");
    let after = before;
    const deadline = Date.now() + 3_000;
    while (after === before && Date.now() < deadline) {
      await Bun.sleep(20);
      after = Number(textOf(await source.call("cancelled_count", {}, context())));
    }
    expect(after).toBe(before + 1);
  });

  test("sampling requests are relayed to the ctx.request of the call they belong to", async () => {
    const source = await open();
    const asked: string[] = [];
    const ctxFor = (who: string): CallContext =>
      context({
        request: async (method, params) => {
          asked.push(`${who}:${method}`);
          await Bun.sleep(who === "A" ? 80 : 10);
          expect(JSON.stringify(params)).toContain(`question from ${who}`);
          return { model: "m", role: "assistant", content: { type: "text", text: `answer for ${who}` } };
        },
      });
    const [a, b] = await Promise.all([
      source.call("ask_model", { prompt: "question from A" }, ctxFor("A")),
      source.call("ask_model", { prompt: "question from B" }, ctxFor("B")),
    ]);
    expect(textOf(a)).toBe("model said: answer for A");
    expect(textOf(b)).toBe("model said: answer for B");
    expect(asked.sort()).toEqual(["A:sampling/createMessage", "B:sampling/createMessage"]);
  });

  test("a sampling request with no agent to relay to is answered with an error, not a hang", async () => {
    const source = await open();
    const outcome = await source.call("ask_model", { prompt: "anyone?" }, context()).catch((e: unknown) => e);
    // The upstream gets -32603 for its request; what it answers the call with (a tool error or its own JSON-RPC error) names why.
    const text = outcome instanceof UpstreamRpcError ? outcome.message : textOf(outcome as CallToolResult);
    if (!(outcome instanceof UpstreamRpcError)) expect((outcome as CallToolResult).isError).toBe(true);
    expect(text).toContain("no client to relay to");
  });

  test("list_changed → the list is refetched, then onListChanged", async () => {
    const source = await open();
    const changed: ListKind[] = [];
    source.onListChanged = (kind) => changed.push(kind);
    const name = `added_${eraChoice}`;
    await source.call("add_tool", { name }, context());
    await until(() => changed.includes("tools"));
    expect(source.tools().map((t) => t.name)).toContain(name);
    expect(textOf(await source.call(name, {}, context()))).toBe(`${name} ran`);
  });

  test("a call past the timeout is cancelled upstream and fails with FICUS_MCP_CALL_TIMEOUT", async () => {
    const source = await open({ timeout: 150 });
    const started = Date.now();
    const result = await source.call("slow", { ms: 10_000, steps: 1 }, context());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("FICUS_MCP_CALL_TIMEOUT");
    expect(textOf(result)).toContain("up");
  });
});

describe("McpHttpSource, upstream failures", () => {
  test("legacy era: a related sampling request is routed by its stream; an unrelated one goes to the only call in flight", async () => {
    const upstream = await startUpstream();
    try {
      const source = track(new McpHttpSource({ name: "up", url: upstream.url, era: "legacy" }));
      await source.start();
      const result = await source.call(
        "ask_model",
        { prompt: "q", related: false },
        context({ request: async () => ({ model: "m", role: "assistant", content: { type: "text", text: "solo" } }) }),
      );
      expect(textOf(result)).toBe("model said: solo");
    } finally {
      upstream.proc.kill();
    }
  });

  for (const era of ["legacy", "auto"] as const) {
    test(`${era}: the upstream crashing mid-call → a tool error, then status down, calls fail fast, the last lists kept`, async () => {
      const upstream = await startUpstream();
      const source = track(new McpHttpSource({ name: "crashy", url: upstream.url, era }));
      await source.start();
      const result = await source.call("crash", {}, context());
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe("upstream crashy closed the connection during the call");
      await until(() => source.status().state === "down");
      const started = Date.now();
      const fast = await source.call("echo", { text: "x" }, context());
      expect(Date.now() - started).toBeLessThan(100);
      expect(fast.isError).toBe(true);
      expect(textOf(fast)).toContain("crashy");
      expect(source.tools().map((t) => t.name)).toContain("echo");
      upstream.proc.kill();
    });
  }

  test("an unreachable URL: start rejects naming the source, status is down, calls fail fast", async () => {
    const port = await deadPort();
    const source = track(new McpHttpSource({ name: "nowhere", url: `http://127.0.0.1:${port}/mcp` }));
    const error = await source.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FicusError);
    expect((error as FicusError).code).toBe("FICUS_MCP_UPSTREAM");
    expect((error as FicusError).message).toContain("nowhere");
    expect(source.status().state).toBe("down");
    expect(source.status().detail).toContain("cannot connect");
    const started = Date.now();
    const result = await source.call("echo", { text: "x" }, context());
    expect(Date.now() - started).toBeLessThan(100);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("nowhere");
    expect(source.tools()).toEqual([]);
  });

  test("an upstream that hangs → FICUS_MCP_CALL_TIMEOUT", async () => {
    const upstream = await startUpstream("--hang");
    try {
      const source = track(new McpHttpSource({ name: "stuck", url: upstream.url, era: "legacy", timeout: 200 }));
      await source.start();
      const result = await source.call("echo", { text: "x" }, context());
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain("FICUS_MCP_CALL_TIMEOUT");
    } finally {
      upstream.proc.kill();
    }
  });
});

describe("StdioSource", () => {
  const command = [process.execPath, FIXTURE, "--stdio"];

  test("lists and calls; stderr and bad stdout lines do not break it; close kills the child", async () => {
    const logs: string[] = [];
    const source = track(new StdioSource({ name: "local", command, era: "legacy", onLog: (line) => logs.push(line) }));
    await source.start();
    expect(source.status().state).toBe("up");
    expect(source.era()).toBe("legacy");
    expect(source.tools().map((t) => t.name)).toContain("garbage");
    const garbage = await source.call("garbage", {}, context());
    expect(textOf(garbage)).toBe("after garbage");
    expect(textOf(await source.call("echo", { text: "still here" }, context()))).toBe("still here");
    expect(source.invalidMessageCount()).toBeGreaterThanOrEqual(1);
    const pid = source.pid();
    expect(pid).toBeNumber();
    await source.close();
    expect(() => process.kill(pid as number, 0)).toThrow();
  });

  test("modern era (auto): sampling reaches the call; list_changed refetches", async () => {
    const source = track(new StdioSource({ name: "local", command }));
    await source.start();
    expect(source.era()).toBe("modern");
    const sampled = await source.call(
      "ask_model",
      { prompt: "q" },
      context({ request: async () => ({ model: "m", role: "assistant", content: { type: "text", text: "over stdio" } }) }),
    );
    expect(textOf(sampled)).toBe("model said: over stdio");
    const changed: ListKind[] = [];
    source.onListChanged = (kind) => changed.push(kind);
    await source.call("add_tool", { name: "late" }, context());
    await until(() => changed.includes("tools"));
    expect(source.tools().map((t) => t.name)).toContain("late");
  });

  test("legacy era: progress and a log message during the call reach ctx.progress and ctx.notify", async () => {
    const source = track(new StdioSource({ name: "local", command, era: "legacy" }));
    await source.start();
    const seen: number[] = [];
    await source.call("slow", { ms: 30, steps: 3 }, context({ progress: (p) => seen.push(p.progress) }));
    expectProgress(seen);
    const notes: [string, JsonObject | undefined][] = [];
    await source.call("log", { message: "working" }, context({ notify: (method, params) => notes.push([method, params]) }));
    await until(() => notes.length > 0);
    expect(notes[0]?.[0]).toBe("notifications/message");
    expect(notes[0]?.[1]).toMatchObject({ level: "info", data: "working" });
  });

  test("a crash mid-call → a tool error; the process is restarted and the next call works", async () => {
    const logs: string[] = [];
    const source = track(new StdioSource({ name: "local", command, era: "legacy", onLog: (line) => logs.push(line) }));
    await source.start();
    const firstPid = source.pid();
    const result = await source.call("crash", {}, context());
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe("upstream local closed the connection during the call");
    await until(() => source.status().state === "up" && source.pid() !== firstPid);
    expect(textOf(await source.call("echo", { text: "back" }, context()))).toBe("back");
    expect(logs.some((line) => line.includes("reconnecting in 100 ms"))).toBe(true);
  });

  test("cancellation reaches the upstream over stdio", async () => {
    const source = track(new StdioSource({ name: "local", command, era: "legacy" }));
    await source.start();
    const abort = new AbortController();
    const result = await source.call("slow", { ms: 5_000, steps: 50 }, context({ signal: abort.signal, progress: () => abort.abort() }));
    expect(textOf(result)).toContain("cancelled");
    let count = 0;
    const deadline = Date.now() + 3_000;
    while (count === 0 && Date.now() < deadline) {
      await Bun.sleep(20);
      count = Number(textOf(await source.call("cancelled_count", {}, context())));
    }
    expect(count).toBe(1);
  });

  test("a command that cannot run: start rejects with FICUS_MCP_SOURCE_INVALID", async () => {
    const source = track(new StdioSource({ name: "missing", command: ["/nonexistent/ficus-mcp-server"] }));
    const error = await source.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FicusError);
    expect((error as FicusError).message).toContain("missing");
    expect(source.status().state).toBe("down");
  });
});
