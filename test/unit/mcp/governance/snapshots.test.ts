/**
 * Error snapshots: which ends are failures and of what kind, signatures that
 * group the same failure (ids, numbers, quoted values differ) and part
 * different ones, what a snapshot holds (redacted arguments, cut results,
 * the definition's hash, the source's address), the SQLite store's grouping
 * and sweeping, and a store that cannot be written never failing a call
 * (logged once, and once when it recovers).
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redactor } from "../../../../src/migration/redact.ts";
import { type CallEnd, type GuardedCall, guarded, toolError } from "../../../../src/mcp/governance/guard.ts";
import { definitionHash } from "../../../../src/mcp/pinning/hash.ts";
import {
  buildSnapshot,
  classify,
  isTruncated,
  messageShape,
  type PendingSnapshot,
  signatureOf,
  SnapshotGuard,
  SnapshotRecorder,
  type SnapshotSink,
  SnapshotStore,
  targetsOf,
} from "../../../../src/mcp/governance/snapshots/index.ts";
import type { Logger } from "../../../../src/observability/logger.ts";
import type { CallToolResult, ToolDefinition } from "../../../../src/mcp/types.ts";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "ficus-snap-"));
}

const ADD: ToolDefinition = { name: "up__add", inputSchema: { type: "object" }, outputSchema: { type: "object", properties: { sum: { type: "number" } }, required: ["sum"] } };

function call(args: Record<string, unknown> = { a: 1 }, definition: ToolDefinition = ADD): GuardedCall {
  const tool = { name: definition.name, upstreamName: definition.name.replace(/^up__/, ""), definition, fixed: undefined, entry: { source: { name: "up" } } } as unknown as GuardedCall["tool"];
  return { caller: { identity: undefined, subject: "alice", address: "127.0.0.1", endpoint: "mcp", era: "legacy" }, tool, args, requestId: "req-9", traceId: undefined, started: performance.now(), retry: false, notes: {} };
}
const text = (t: string, isError = false): CallToolResult => ({ content: [{ type: "text", text: t }], ...(isError ? { isError } : {}) });

test("kinds: JSON-RPC error, tool error, timeout, upstream down, schema violation, denials; successes and cache hits are not failures", () => {
  const c = call();
  const kinds = (end: CallEnd) => classify(c, end)?.kind;
  expect(kinds({ kind: "error", code: -32602, message: "no such tool" })).toBe("rpc_error");
  expect(kinds({ kind: "result", result: text("fail was asked to fail", true) })).toBe("tool_error");
  expect(kinds({ kind: "result", result: text("up__add: the call took longer than 200 ms (FICUS_MCP_CALL_TIMEOUT); it was cancelled at the upstream", true) })).toBe("timeout");
  expect(kinds({ kind: "result", result: text("up__add: upstream up is down: connection refused", true) })).toBe("upstream_down");
  expect(kinds({ kind: "result", result: text("up__add: upstream up (http://127.0.0.1:1/mcp): cannot connect: refused", true) })).toBe("upstream_down");
  expect(kinds({ kind: "result", result: text("up__add: upstream up: tools/call failed: socket closed", true) })).toBe("upstream_down");
  // The same words from the tool itself (no "<tool>: " prefix of the endpoint) are the tool's own error.
  expect(kinds({ kind: "result", result: text("upstream up is down", true) })).toBe("tool_error");
  expect(kinds({ kind: "result", result: { content: [], structuredContent: { sum: "two" } } })).toBe("schema_violation");
  expect(classify(c, { kind: "result", result: { content: [], structuredContent: { sum: "two" } } })?.message).toContain("/sum must be number");
  expect(kinds({ kind: "result", result: { content: [], structuredContent: { sum: 2 } } })).toBeUndefined();
  expect(kinds({ kind: "result", result: text("fine") })).toBeUndefined();
  expect(kinds({ kind: "answered", result: toolError("denied by policy"), by: "policy" })).toBe("denied:policy");
  expect(kinds({ kind: "answered", result: toolError("over quota"), by: "quota" })).toBe("denied:quota");
  expect(kinds({ kind: "answered", result: toolError("blocked"), by: "guardrails" })).toBe("denied:guardrails");
  expect(kinds({ kind: "answered", result: text("cached"), by: "cache" })).toBeUndefined();
});

test("signatures group one failure whatever its ids, numbers and quoted values, and part different tools, kinds and messages", () => {
  const a = signatureOf("t", "tool_error", 'order 1234 not found for "alice" (request 3f2a9c1b7e55, trace 123e4567-e89b-12d3-a456-426614174000)');
  const b = signatureOf("t", "tool_error", 'order 98 not found for "bob" (request 00ffaa11bb22, trace 00000000-0000-0000-0000-000000000001)');
  expect(a).toBe(b);
  expect(a).toMatch(/^[0-9a-f]{16}$/);
  expect(signatureOf("t", "tool_error", "order 1 cannot be paid")).not.toBe(a);
  expect(signatureOf("u", "tool_error", 'order 1234 not found for "alice" (request 3f2a9c1b7e55, trace 123e4567-e89b-12d3-a456-426614174000)')).not.toBe(a);
  expect(signatureOf("t", "timeout", 'order 1234 not found for "alice" (request 3f2a9c1b7e55, trace 123e4567-e89b-12d3-a456-426614174000)')).not.toBe(a);
  expect(messageShape("took 1500 ms at 'x' id deadbeef42")).toBe("took <n> ms at <str> id <hex>");
  // A word of hex letters only is a word, not an id.
  expect(messageShape("a deadbeefcafe")).toBe("a deadbeefcafe");
});

test("a snapshot: arguments redacted, the result cut at max_bytes, the definition's pin hash, the source's address", () => {
  const c = call({ a: 1, token: "s3cret", nested: { password: "p" } });
  const big = text("x".repeat(5000), true);
  const p: PendingSnapshot = { call: c, end: { kind: "result", result: big }, failure: { kind: "tool_error", message: "x".repeat(100) }, time: Date.parse("2026-03-01T00:00:00Z"), durationMs: 12.3456 };
  const targets = targetsOf({ up: { url: "http://127.0.0.1:9/mcp" }, local: { command: ["bun", "server.ts"] } }, "/etc/ficus");
  const s = buildSnapshot(p, targets, new Redactor(), 1024);
  expect(s.arguments).toEqual({ a: 1, token: "[redacted]", nested: { password: "[redacted]" } });
  expect(isTruncated(s.result)).toBe(true);
  expect((s.result as { text: string }).text.length).toBe(1024);
  expect(s.definition_hash).toBe(definitionHash(ADD));
  expect(s.target).toEqual({ kind: "mcp", url: "http://127.0.0.1:9/mcp" });
  expect(targets.get("local")).toEqual({ kind: "stdio", command: ["bun", "server.ts"], cwd: "/etc/ficus" });
  expect(s).toMatchObject({ time: "2026-03-01T00:00:00.000Z", endpoint: "mcp", tool: "up__add", source: "up", upstream_tool: "add", kind: "tool_error", principal: "alice", request_id: "req-9", trace_id: null, duration_ms: 12.346 });
  expect(s.id).toMatch(/^[0-9a-z]{9}-[0-9a-f]{8}$/);
  expect(s.id.slice(0, 9) < buildSnapshot({ ...p, time: p.time + 1 }, targets, new Redactor(), 1024).id.slice(0, 9)).toBe(true);
  const err = buildSnapshot({ ...p, end: { kind: "error", code: -32602, message: "bad" } }, targets, new Redactor(), 1024);
  expect(err.error).toEqual({ code: -32602, message: "bad" });
  expect(err.result).toBeUndefined();
});

test("the store groups by signature (count, first and last seen, the latest as example), filters by tool, and sweeps by age and count", () => {
  const store = new SnapshotStore(join(tmp(), "s.db"));
  const targets = targetsOf({}, "/");
  const mk = (tool: string, message: string, time: number) =>
    buildSnapshot({ call: call({}, { ...ADD, name: tool }), end: { kind: "result", result: text(message, true) }, failure: { kind: "tool_error", message }, time, durationMs: 1 }, targets, new Redactor(), 4096);
  const now = Date.now();
  const rows = [mk("up__a", "order 1 missing", now - 3000), mk("up__a", "order 2 missing", now - 2000), mk("up__a", "order 3 missing", now - 1000), mk("up__b", "down", now - 500)];
  store.insert(rows);
  const groups = store.groups();
  expect(groups.map((g) => [g.tool, g.count])).toEqual([["up__b", 1], ["up__a", 3]]);
  const a = groups[1];
  expect(a?.example_id).toBe(rows[2]?.id as string);
  expect(a?.message).toBe("order 3 missing");
  expect(a?.first_seen).toBe(new Date(now - 3000).toISOString());
  expect(a?.last_seen).toBe(new Date(now - 1000).toISOString());
  expect(store.groups({ tool: "up__b" }).map((g) => g.tool)).toEqual(["up__b"]);
  expect(store.groups({ limit: 1 }).length).toBe(1);
  expect(store.get(rows[0]?.id as string)?.message).toBe("order 1 missing");
  expect(store.get("nope")).toBeUndefined();
  // Retention: older than 2.5 s goes; max: the newest 2 stay.
  expect(store.sweep(2500, 10, now)).toBe(1);
  expect(store.sweep(60_000, 2, now)).toBe(1);
  expect(store.count()).toBe(2);
  expect(store.get(rows[3]?.id as string)).toBeDefined();
  store.close();
});

function logs(): Logger & { lines: [string, string][] } {
  const lines: [string, string][] = [];
  const l = {
    lines,
    debug: (m: string) => lines.push(["debug", m]),
    info: (m: string) => lines.push(["info", m]),
    warn: (m: string) => lines.push(["warn", m]),
    error: (m: string) => lines.push(["error", m]),
    setLevel: () => {},
    child: () => l,
  };
  return l as Logger & { lines: [string, string][] };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}

test("a store that cannot be written never fails a call: logged once, retried, logged once when it recovers", async () => {
  // A file where the store's folder should be: nothing can be created under it (even as root).
  const folder = join(tmp(), "blocked");
  writeFileSync(folder, "not a folder");
  const path = join(folder, "sub", "s.db");
  const log = logs();
  let stored = 0;
  const recorder = new SnapshotRecorder({ open: () => new SnapshotStore(path, 50), where: path, retentionMs: 60_000, max: 100, maxBytes: 4096, targets: new Map(), redactor: new Redactor(), logger: log, onStored: () => stored++, flushDelayMs: 1 });
  const guard = new SnapshotGuard(recorder);
  for (let i = 0; i < 3; i++) {
    const r = await guarded([guard], call(), async () => text(`boom ${i}`, true));
    expect(r).toEqual(text(`boom ${i}`, true));
  }
  await until(() => log.lines.some(([lvl]) => lvl === "error"));
  await Bun.sleep(30);
  expect(log.lines.filter(([lvl]) => lvl === "error").length).toBe(1);
  expect(stored).toBe(0);
  expect(recorder.waiting).toBe(3);
  // The obstacle goes: the next retry writes what waited, and says so once.
  rmSync(folder);
  mkdirSync(folder);
  await until(() => stored === 3, 4000);
  expect(log.lines.filter(([, m]) => m === "MCP error snapshots are written again").length).toBe(1);
  recorder.close();
  const store = new SnapshotStore(path);
  expect(store.groups()[0]?.count).toBe(3);
  store.close();
});

test("a full queue drops (counted, logged once) without failing calls; close writes what waits", async () => {
  const log = logs();
  const written: number[] = [];
  let fail = true;
  const sink: SnapshotSink = {
    insert: (rows) => {
      if (fail) throw new Error("SQLITE_FULL: database or disk is full");
      written.push(rows.length);
    },
    sweep: () => 0,
    close: () => {},
  };
  let dropped = 0;
  const recorder = new SnapshotRecorder({ open: () => sink, where: "mem", retentionMs: 60_000, max: 100, maxBytes: 4096, targets: new Map(), redactor: new Redactor(), logger: log, onDropped: (n) => (dropped += n), queueMax: 5, flushDelayMs: 1 });
  const guard = new SnapshotGuard(recorder);
  for (let i = 0; i < 20; i++) await guarded([guard], call(), async () => text("boom", true));
  await Bun.sleep(20);
  expect(recorder.waiting).toBe(5);
  expect(dropped).toBe(15);
  expect(log.lines.filter(([, m]) => m.startsWith("MCP error snapshots are dropped")).length).toBe(1);
  expect(log.lines.filter(([lvl]) => lvl === "error").length).toBe(1);
  fail = false;
  recorder.close();
  expect(written.reduce((a, b) => a + b, 0)).toBe(5);
});
