/**
 * The audit log: the fields of a line for each way a call ends, the
 * arguments' digest (stable across key order, RFC 8785), redacted values,
 * the buffered writer (lines reach the file by the 100 ms flush and on
 * close), and reading a file back with filters.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redactor } from "../../../../src/migration/redact.ts";
import { AuditGuard, AuditWriter, argsDigest, auditLine, filterAuditLines, parseAuditFilter } from "../../../../src/mcp/governance/audit/index.ts";
import { type CallEnd, type GuardedCall, guarded, toolError } from "../../../../src/mcp/governance/guard.ts";
import type { CallToolResult } from "../../../../src/mcp/types.ts";

function call(over: Partial<GuardedCall> = {}, subject = "alice"): GuardedCall {
  const tool = { name: "orders__get", upstreamName: "get", definition: { name: "orders__get", inputSchema: { type: "object" } }, fixed: undefined, entry: { source: { name: "orders" } } } as unknown as GuardedCall["tool"];
  return {
    caller: { identity: undefined, subject, address: "127.0.0.1", endpoint: "mcp", era: "modern" },
    tool,
    args: { id: "7", password: "hunter2" },
    requestId: "req-1",
    traceId: "0af7651916cd43dd8448eb211c80319c",
    started: performance.now() - 12.5,
    retry: false,
    notes: {},
    ...over,
  };
}
const ok: CallToolResult = { content: [{ type: "text", text: "fine" }] };

test("a line has every field, in order, for a call that succeeded", () => {
  const c = call();
  c.notes.decision = "allow:reader";
  c.notes.cache = "miss";
  c.notes.quota = { remaining: 9 };
  const line = auditLine(c, { kind: "result", result: ok }, "digest", undefined, Date.parse("2026-01-02T03:04:05.678Z"), performance.now());
  const o = JSON.parse(line) as Record<string, unknown>;
  expect(Object.keys(o)).toEqual(["time", "request_id", "trace_id", "principal", "endpoint", "tool", "source", "decision", "cache", "quota", "duration_ms", "result", "args_digest"]);
  expect(o).toMatchObject({ time: "2026-01-02T03:04:05.678Z", request_id: "req-1", trace_id: "0af7651916cd43dd8448eb211c80319c", principal: "alice", endpoint: "mcp", tool: "orders__get", source: "orders", decision: "allow:reader", cache: "miss", quota: { remaining: 9 }, result: "ok" });
  expect(o.duration_ms as number).toBeGreaterThanOrEqual(12.5);
  expect(o.duration_ms as number).toBeLessThan(1000);
  expect(line).not.toContain("hunter2");
});

test("result says how the call ended; decision defaults to allow; anonymous is an empty principal", () => {
  const ends: [CallEnd, string][] = [
    [{ kind: "result", result: ok }, "ok"],
    [{ kind: "result", result: toolError("boom") }, "tool_error"],
    [{ kind: "error", code: -32602, message: "bad" }, "error"],
    [{ kind: "answered", result: toolError("no"), by: "policy" }, "answered:policy"],
    [{ kind: "answered", result: ok, by: "cache" }, "answered:cache"],
  ];
  for (const [end, want] of ends) {
    const o = JSON.parse(auditLine(call({ traceId: undefined }, ""), end, "none", undefined, Date.now(), performance.now())) as Record<string, unknown>;
    expect(o.result).toBe(want);
    expect(o.decision).toBe("allow");
    expect(o.principal).toBe("");
    expect(o.trace_id).toBeNull();
    expect(o.cache).toBeNull();
    expect("args_digest" in o || "args" in o).toBe(false);
  }
});

test("the digest is the SHA-256 of the canonical JSON: equal whatever the key order, different for other values", () => {
  const a = argsDigest({ b: [1, { y: 2, x: 1 }], a: "é", n: 1e2 });
  const b = argsDigest({ n: 100, a: "é", b: [1, { x: 1, y: 2 }] });
  expect(a).toBe(b);
  expect(a).toMatch(/^[0-9a-f]{64}$/);
  expect(argsDigest({ n: 101, a: "é", b: [1, { x: 1, y: 2 }] })).not.toBe(a);
  // Known value: sha256 of {"a":1}.
  expect(argsDigest({ a: 1 })).toBe(new Bun.CryptoHasher("sha256").update('{"a":1}').digest("hex"));
  const line = JSON.parse(auditLine(call({ args: { y: 1, x: 2 } }), { kind: "result", result: ok }, "digest", undefined, Date.now(), performance.now())) as { args_digest: string };
  expect(line.args_digest).toBe(argsDigest({ x: 2, y: 1 }));
});

test("values: the arguments are written with secret-looking keys redacted", () => {
  const c = call({ args: { id: "7", password: "hunter2", nested: { api_key: "k-123", note: "hi" } } });
  const o = JSON.parse(auditLine(c, { kind: "result", result: ok }, "values", new Redactor(), Date.now(), performance.now())) as { args: Record<string, unknown> };
  expect(o.args).toEqual({ id: "7", password: "[redacted]", nested: { api_key: "[redacted]", note: "hi" } });
  expect(JSON.stringify(o)).not.toContain("hunter2");
  expect(JSON.stringify(o)).not.toContain("k-123");
});

test("the guard writes one line per call through the chain, seeing what guards inside it decided", async () => {
  const lines: string[] = [];
  const audit = new AuditGuard({ write: (l) => lines.push(l) }, "digest", undefined);
  const policy = { name: "policy", before: (c: GuardedCall) => ((c.notes.decision = "deny"), toolError("denied")) };
  await guarded([audit, policy], call(), async () => ok);
  await guarded([audit], call(), async () => ok);
  await expect(guarded([audit], call(), async () => Promise.reject(Object.assign(new Error("gone"), { code: -32000 })))).rejects.toThrow("gone");
  expect(lines.map((l) => (JSON.parse(l) as { result: string; decision: string }).result)).toEqual(["answered:policy", "ok", "error"]);
  expect((JSON.parse(lines[0] as string) as { decision: string }).decision).toBe("deny");
});

test("the writer appends whole lines: by the 100 ms flush, on close, and to a new file after rotation", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ficus-audit-"));
  const path = join(dir, "audit.log");
  const w = new AuditWriter(path);
  w.write('{"n":1}');
  w.write('{"n":2}');
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline && readFileSync(path, "utf8") === "") await Bun.sleep(20);
  expect(readFileSync(path, "utf8")).toBe('{"n":1}\n{"n":2}\n');
  // Rotated away: noticed within a second, new lines go to a new file at the path.
  renameSync(path, `${path}.1`);
  await Bun.sleep(1100);
  w.write('{"n":3}');
  w.close();
  await Bun.sleep(50);
  expect(readFileSync(`${path}.1`, "utf8")).toBe('{"n":1}\n{"n":2}\n');
  expect(readFileSync(path, "utf8")).toBe('{"n":3}\n');
});

test("reading back: filters by tool, principal, result (answered: any guard) and age; other lines skipped", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const mk = (min: number, tool: string, principal: string, result: string) => JSON.stringify({ time: new Date(now - min * 60_000).toISOString(), request_id: `r${min}`, trace_id: null, principal, endpoint: "mcp", tool, source: "s", decision: "allow", cache: null, quota: null, duration_ms: 1, result });
  const text = [mk(30, "a", "alice", "ok"), "not json", '{"msg":"a log line"}', mk(5, "b", "bob", "answered:quota"), mk(1, "a", "bob", "tool_error"), ""].join("\n");
  const ids = (f: Parameters<typeof parseAuditFilter>[0]) => filterAuditLines(text, parseAuditFilter(f, now)).map((l) => l.request_id);
  expect(ids({})).toEqual(["r30", "r5", "r1"]);
  expect(ids({ tool: "a" })).toEqual(["r30", "r1"]);
  expect(ids({ principal: "bob" })).toEqual(["r5", "r1"]);
  expect(ids({ since: "10m" })).toEqual(["r5", "r1"]);
  expect(ids({ result: "answered" })).toEqual(["r5"]);
  expect(ids({ result: "tool_error", tool: "a" })).toEqual(["r1"]);
  expect(ids({ since: "2026-01-01T11:58:00Z" })).toEqual(["r1"]);
  expect(() => parseAuditFilter({ since: "yesterday" })).toThrow(/--since/);
});
