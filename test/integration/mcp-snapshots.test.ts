/**
 * Error snapshots and the audit log end to end: a gateway (the real CLI)
 * federating the upstream-server fixture with a short timeout. The `fail`
 * tool and a `slow` call past the timeout leave snapshots (tool_error,
 * timeout); successes leave none. `ficus mcp errors` lists them grouped,
 * `ficus mcp replay` runs them again: the timeout against a second upstream
 * process (no gateway timeout there) now succeeds (exit 0), through the
 * gateway it still fails (exit 1, called by its public name), and `fail` at
 * the snapshot's own source still fails. Every call has its audit line,
 * and `ficus mcp audit` filters them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Listening, modern, startListening } from "../helpers/mcp.ts";
import { type Ficus, freePort, runCli, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";

let upstream: Listening;
let fixed: Listening;
let gw: Ficus;
let dir: string;

beforeAll(async () => {
  [upstream, fixed] = await Promise.all([startListening("mcp/upstream-server.ts", ["--http", "0"]), startListening("mcp/upstream-server.ts", ["--http", "0"])]);
  dir = tempDir("ficus-snapshots-");
  const config = writeConfig(
    dir,
    `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
log: { level: info }
mcp:
  sources:
    up:
      url: http://127.0.0.1:${upstream.port}/mcp
      prefix: up
      timeout: 300ms
  pinning: { mode: "off" }
  audit: { enabled: true, output: audit.log }
  snapshots: { path: snaps/mcp.db }
routes:
  - name: mcp
    match: { path: /mcp }
    mcp: {}
`,
  );
  gw = await startFicus(["-c", config]);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([upstream?.stop(), fixed?.stop()]);
});

interface Group {
  tool: string;
  kind: string;
  count: number;
  example_id: string;
  message: string;
  first_seen: string;
  last_seen: string;
}

async function groups(query = ""): Promise<Group[]> {
  const r = await fetch(`${gw.admin}/admin/mcp/errors${query}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { groups: Group[] }).groups;
}

async function callTool(id: number, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await modern(`${gw.url}/mcp`, id, "tools/call", { name, arguments: args });
  return r.messages[0] as Record<string, unknown>;
}

test("failed calls leave snapshots that `ficus mcp errors` lists and `ficus mcp replay` runs again; every call is audited", async () => {
  const echo = await callTool(1, "up__echo", { text: "hi" });
  expect(JSON.stringify(echo.result)).toContain("hi");
  expect((await callTool(2, "up__add", { a: 1, b: 2 })).result).toMatchObject({ structuredContent: { sum: 3 } });
  for (let i = 0; i < 2; i++) expect((await callTool(3 + i, "up__fail", { password: "hunter2", n: i })).result).toMatchObject({ isError: true });
  const slow = await callTool(5, "up__slow", { ms: 800, steps: 1 });
  expect(JSON.stringify(slow.result)).toContain("FICUS_MCP_CALL_TIMEOUT");

  // Written off the call path: a moment later.
  let list: Group[] = [];
  for (let i = 0; i < 100 && list.length < 2; i++) {
    list = await groups();
    if (list.length < 2) await Bun.sleep(20);
  }
  expect(list.map((g) => [g.tool, g.kind, g.count])).toEqual([
    ["up__slow", "timeout", 1],
    ["up__fail", "tool_error", 2],
  ]);
  expect((await groups("?tool=up__fail")).map((g) => g.tool)).toEqual(["up__fail"]);
  const failId = (list[1] as Group).example_id;
  const slowId = (list[0] as Group).example_id;

  const snap = (await (await fetch(`${gw.admin}/admin/mcp/errors/${failId}`)).json()) as Record<string, unknown>;
  expect(snap).toMatchObject({ id: failId, endpoint: "mcp", tool: "up__fail", source: "up", upstream_tool: "fail", kind: "tool_error", principal: "", target: { kind: "mcp", url: `http://127.0.0.1:${upstream.port}/mcp` } });
  expect(snap.arguments).toEqual({ password: "[redacted]", n: 1 });
  expect(snap.definition_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(snap)).not.toContain("hunter2");
  const missing = await fetch(`${gw.admin}/admin/mcp/errors/000000000-00000000`);
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("FICUS_MCP_SNAPSHOT_UNKNOWN");

  // The CLI: the table, and JSON.
  const table = await runCli(["mcp", "errors", "--admin", gw.admin]);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/LAST SEEN\s+COUNT\s+TOOL\s+KIND\s+EXAMPLE\s+MESSAGE/);
  expect(table.stdout).toContain(`2      up__fail  tool_error  ${failId}`);
  expect(table.stdout).toContain(slowId);
  const json = JSON.parse((await runCli(["mcp", "errors", "--json", "--tool", "up__slow", "--admin", gw.admin])).stdout) as { groups: Group[] };
  expect(json.groups.map((g) => g.example_id)).toEqual([slowId]);

  // Replay: the timeout against a fixed upstream (no 300 ms limit there) succeeds, by the tool's upstream name.
  const fixedUrl = `http://127.0.0.1:${fixed.port}/mcp`;
  const ok = await runCli(["mcp", "replay", slowId, "--against", fixedUrl, "--admin", gw.admin]);
  expect(ok.stderr).toBe("");
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(`replayed against ${fixedUrl} as slow`);
  expect(ok.stdout).toContain("now succeeds");
  expect(ok.stdout).toContain("slept 800 ms in 1 steps");
  // Through the gateway it still times out: called by its public name, the only one the gateway lists.
  const still = JSON.parse((await runCli(["mcp", "replay", slowId, "--against", `${gw.url}/mcp`, "--json", "--admin", gw.admin])).stdout) as { fails: boolean; tool: string; message: string };
  expect(still).toMatchObject({ fails: true, tool: "up__slow" });
  expect(still.message).toContain("FICUS_MCP_CALL_TIMEOUT");
  // Without --against: the snapshot's source, where `fail` still fails (exit 1).
  const again = await runCli(["mcp", "replay", failId, "--admin", gw.admin]);
  expect(again.code).toBe(1);
  expect(again.stdout).toContain(`replayed against http://127.0.0.1:${upstream.port}/mcp as fail`);
  expect(again.stdout).toContain("still fails: ");
  // Errors: an unknown id, an id that is not one.
  expect((await runCli(["mcp", "replay", "000000000-00000000", "--admin", gw.admin])).code).toBe(2);
  expect((await runCli(["mcp", "replay", "../x", "--admin", gw.admin])).code).toBe(2);

  // The replay through the gateway timed out there again: a second timeout snapshot.
  const metrics = (await (await fetch(`${gw.admin}/metrics`)).text()).split("\n").filter((l) => l.startsWith("ficus_mcp_snapshots"));
  expect(metrics).toEqual(['ficus_mcp_snapshots_total{kind="tool_error"} 2', 'ficus_mcp_snapshots_total{kind="timeout"} 2', "ficus_mcp_snapshots_dropped_total 0"]);

  // The audit log: one line per call (the replay through the gateway is a sixth), flushed within 100 ms.
  const file = join(dir, "audit.log");
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 100 && lines.length < 6; i++) {
    await Bun.sleep(20);
    try {
      lines = readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      lines = [];
    }
  }
  expect(lines.map((l) => [l.tool, l.result])).toEqual([
    ["up__echo", "ok"],
    ["up__add", "ok"],
    ["up__fail", "tool_error"],
    ["up__fail", "tool_error"],
    ["up__slow", "tool_error"],
    ["up__slow", "tool_error"],
  ]);
  expect(lines[2]).toMatchObject({ endpoint: "mcp", source: "up", principal: "", decision: "allow" });
  expect(lines[2]?.args_digest).toMatch(/^[0-9a-f]{64}$/);
  expect(lines[2]?.args_digest).not.toBe(lines[3]?.args_digest);
  expect(readFileSync(file, "utf8")).not.toContain("hunter2");

  const audit = await runCli(["mcp", "audit", "--file", file, "--tool", "up__fail", "--result", "tool_error", "--since", "10m", "--json"]);
  expect(audit.code).toBe(0);
  expect(audit.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { tool: string }).tool)).toEqual(["up__fail", "up__fail"]);
  const auditTable = await runCli(["mcp", "audit", "-c", join(dir, "ficus.yaml"), "--result", "ok"]);
  expect(auditTable.code).toBe(0);
  expect(auditTable.stdout).toMatch(/TIME\s+PRINCIPAL\s+ENDPOINT\s+TOOL/);
  expect(auditTable.stdout).toContain("2 calls");
  expect((await runCli(["mcp", "audit"])).code).toBe(2);
}, 20_000);

test("two workers write to one snapshot file, and the supervisor's admin API reads it", async () => {
  const d = tempDir("ficus-snapshots-workers-");
  const config = writeConfig(
    d,
    `
mode: edge-mcp
listen: 127.0.0.1:${freePort()}
admin: { listen: 127.0.0.1:0 }
workers: 2
log: { level: info }
mcp:
  sources:
    up: { url: "http://127.0.0.1:${upstream.port}/mcp" }
  pinning: { mode: "off" }
routes:
  - name: mcp
    match: { path: /mcp }
    mcp: {}
`,
  );
  const sup = await startFicus(["-c", config]);
  try {
    // New connections each: the kernel spreads them over both workers (SO_REUSEPORT).
    await Promise.all(Array.from({ length: 12 }, (_, i) => modern(`${sup.url}/mcp`, i, "tools/call", { name: "fail", arguments: { i } })));
    let count = 0;
    for (let i = 0; i < 100 && count < 12; i++) {
      const r = (await (await fetch(`${sup.admin}/admin/mcp/errors`)).json()) as { groups: Group[] };
      count = r.groups[0]?.count ?? 0;
      if (count < 12) await Bun.sleep(20);
    }
    expect(count).toBe(12);
  } finally {
    await sup.stop();
  }
}, 20_000);
