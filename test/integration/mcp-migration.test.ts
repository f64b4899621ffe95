/**
 * Migrating an MCP server end to end, through the real CLI: a source served by
 * a legacy MCP server (test/fixtures/mcp/rewrite-server.ts --role legacy) with
 * its rewrite as candidate (the same tools; get_order's total has a bug).
 * Shadow finds the bug (the report shows mismatches on get_order alone), never
 * sends a destructive or unannotated tool to the candidate, and the agent is
 * always served by legacy; `ficus promote mcp:shop` puts a sticky half of the
 * principals (API keys) on the candidate; `ficus rollback mcp:shop` returns
 * every caller to legacy within a second.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { bucketOf, inCanary } from "../../src/migration/canary.ts";
import { type Listening, modern, startListening } from "../helpers/mcp.ts";
import { type Ficus, runCli, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";

const PRINCIPALS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
const keyOf = (p: string) => `key-${p}-0123456789`;
const sha = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

let legacy: Listening;
let candidate: Listening;
let gw: Ficus;
let dir: string;
let seq = 0;

interface Result {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

async function call(principal: string, name: string, args: Record<string, unknown> = {}): Promise<Result> {
  const r = await modern(`${gw.url}/mcp`, ++seq, "tools/call", { name, arguments: args }, { "x-api-key": keyOf(principal) });
  const result = r.messages[0]?.result as Result | undefined;
  if (result === undefined) throw new Error(`no result for ${name}: ${JSON.stringify(r.messages)}`);
  return result;
}

const servedBy = (r: Result) => r._meta?.["fixture/server"];

async function calls(side: Listening): Promise<Record<string, number>> {
  return (await (await fetch(`http://127.0.0.1:${side.port}/calls`)).json()) as Record<string, number>;
}

interface Report {
  route: string;
  stage: string;
  percent: number;
  paused: boolean;
  total: number;
  shadowed: number;
  compared: number;
  matched: number;
  mismatched: number;
  skipped: Record<string, number>;
  signatures: { count: number; status: [number, number]; paths: string[] }[];
}

async function report(): Promise<Report | undefined> {
  const r = await runCli(["report", "--json", "--admin", gw.admin]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { routes: Report[] }).routes.find((x) => x.route === "mcp:shop");
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 4000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: never; last ${JSON.stringify(last)}`);
    await Bun.sleep(50);
    last = await get();
  }
  return last;
}

beforeAll(async () => {
  [legacy, candidate] = await Promise.all([startListening("mcp/rewrite-server.ts", ["--role", "legacy", "--http", "0"]), startListening("mcp/rewrite-server.ts", ["--role", "candidate", "--http", "0"])]);
  dir = tempDir("ficus-mcp-migration-");
  const keys = PRINCIPALS.map((p) => `{ id: ${p}, sha256: ${sha(keyOf(p))} }`).join(", ");
  const path = writeConfig(
    dir,
    `
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
log: { level: info }
store: { path: ${dir}/results.db, flush_interval: 50ms }
auth_policies:
  agents:
    api_key: { keys: [${keys}] }
mcp:
  sources:
    shop:
      url: http://127.0.0.1:${legacy.port}/mcp
      candidate: { url: "http://127.0.0.1:${candidate.port}/mcp" }
      stage: shadow
      canary: { percent: 50, steps: [50, 100], auto: false }
      shadow: { aa: 0 }
routes:
  - name: mcp
    match: { path: /mcp }
    auth: agents
    mcp: {}
`,
  );
  gw = await startFicus(["-c", path]);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([legacy?.stop(), candidate?.stop()]);
});

test("shadow: legacy serves, read-only calls are compared, the bug is found on get_order alone, destructive and unannotated tools never reach the candidate", async () => {
  // The candidate connects in the background: wait until a mirrored call reaches it.
  await until("the candidate takes mirrored calls", async () => (await call("alice", "greet", { name: "warmup" }), (await calls(candidate)).greet ?? 0), (n) => n > 0);
  // What the warm-up left in the report (a call mirrored before the candidate was up counts as a candidate error).
  const base = await until("the warm-up is reported", report, (x) => x !== undefined && x.compared >= 1);
  if (base === undefined) throw new Error("no report for mcp:shop");
  const served: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const order = await call("alice", "get_order", { id: `o${i}` });
    expect(order.structuredContent?.total).toBe(42.5); // the agent gets legacy's (right) answer
    served.push(servedBy(order));
    served.push(servedBy(await call("bob", "greet", { name: `n${i}` })));
    served.push(servedBy(await call("carol", "list_products")));
  }
  served.push(servedBy(await call("alice", "delete_order", { id: "o1" })), servedBy(await call("alice", "delete_order", { id: "o2" })), servedBy(await call("alice", "stamp")));
  expect(new Set(served)).toEqual(new Set(["legacy"]));

  const r = await until("the report counts every compared call", report, (x) => x !== undefined && x.compared >= base.compared + 9 && (x.skipped.unsafe_method ?? 0) >= 3);
  if (r === undefined) throw new Error("no report for mcp:shop");
  expect(r.stage).toBe("shadow");
  expect(r.total - base.total).toBe(12);
  expect(r.shadowed - base.shadowed).toBe(9);
  expect(r.skipped.unsafe_method).toBe(3);
  expect(r.compared - base.compared).toBe(9);
  expect(r.mismatched).toBe(3);
  expect(r.matched - base.matched).toBe(6);
  // One signature: the total, in structuredContent and in the JSON text (list_products' reordered keys are no difference).
  expect(r.signatures.length).toBe(1);
  expect(r.signatures[0]?.count).toBe(3);
  expect(r.signatures[0]?.status).toEqual([200, 200]);
  expect(r.signatures[0]?.paths.sort()).toEqual(["$.content[*].text.total", "$.structuredContent.total"]);

  const seen = await calls(candidate);
  expect(seen.delete_order).toBeUndefined();
  expect(seen.stamp).toBeUndefined();
  expect(seen.get_order).toBe(3);
  expect((await calls(legacy)).delete_order).toBe(2);
}, 10_000);

test("canary: a sticky half of the principals is served by the candidate; rollback returns everyone to legacy within a second", async () => {
  const promoted = await runCli(["promote", "mcp:shop", "--admin", gw.admin]);
  expect(promoted.code).toBe(0);
  const expected = new Map(PRINCIPALS.map((p) => [p, inCanary(bucketOf(p, ""), 50) ? "candidate" : "legacy"]));
  // Both sides have principals (the hash of these names splits them).
  expect(new Set(expected.values())).toEqual(new Set(["legacy", "candidate"]));
  await until("the canary is in force", async () => servedBy(await call(PRINCIPALS.find((p) => expected.get(p) === "candidate") as string, "greet", { name: "x" })), (s) => s === "candidate", 2000);
  for (let round = 0; round < 3; round++) {
    for (const p of PRINCIPALS) expect([p, servedBy(await call(p, "greet", { name: p }))]).toEqual([p, expected.get(p)]);
  }
  const rep = await report();
  expect([rep?.stage, rep?.percent]).toEqual(["canary", 50]);

  const rolledBack = await runCli(["rollback", "mcp:shop", "--admin", gw.admin]);
  expect(rolledBack.code).toBe(0);
  const t0 = Date.now();
  const everyone = async () => new Set(await Promise.all(PRINCIPALS.map(async (p) => servedBy(await call(p, "greet", { name: p })))));
  await until("every caller is back on legacy", everyone, (s) => s.size === 1 && s.has("legacy"), 1000);
  expect(Date.now() - t0).toBeLessThan(1000);
  const after = await report();
  expect([after?.stage, after?.paused]).toEqual(["shadow", true]);
}, 10_000);
