/**
 * MCP server migration (src/mcp/governance/migration): the config fields and their checks, the
 * route configs the commands and controller take (`mcp:<source>`), the compared document of a
 * result, the control state applied from the store, and the guard through `guarded()` at each
 * stage with in-process sources: who serves, what is mirrored (read-only tools only), what the
 * results buffer records, and that a mirror never delays or fails the agent's call.
 */
import { describe, expect, test } from "bun:test";
import { compareMessages } from "../../../../src/compare/index.ts";
import { configSchema, type FicusConfig } from "../../../../src/config/schema.ts";
import { bucketOf, inCanary } from "../../../../src/migration/canary.ts";
import { configKey, configState, transition, planOf } from "../../../../src/migration/control.ts";
import { decide } from "../../../../src/migration/gates.ts";
import { newHistogram, ResultsBuffer } from "../../../../src/migration/results.ts";
import type { ControlRow } from "../../../../src/migration/store.ts";
import { guarded, type GuardedCall } from "../../../../src/mcp/governance/guard.ts";
import { answerOf, comparedDocument, mirrorable } from "../../../../src/mcp/governance/migration/answer.ts";
import { applyControl, type SourceMigration, sourceMigration } from "../../../../src/mcp/governance/migration/host.ts";
import { MigrationGuard } from "../../../../src/mcp/governance/migration/index.ts";
import { hasMcpMigrations, mcpMigrationRoutes } from "../../../../src/mcp/governance/migration/routes.ts";
import { mcpSourceSchema } from "../../../../src/mcp/schema.ts";
import type { CatalogTool } from "../../../../src/mcp/registry/registry.ts";
import type { CallContext, CallToolResult, JsonObject, ToolDefinition, ToolSource } from "../../../../src/mcp/types.ts";
import { Metrics } from "../../../../src/observability/metrics.ts";
import { createLogger } from "../../../../src/observability/logger.ts";

function config(source: Record<string, unknown>): FicusConfig {
  return configSchema.parse({
    mcp: { sources: { shop: { url: "http://127.0.0.1:9/mcp", candidate: { url: "http://127.0.0.1:9/new" }, ...source } } },
    routes: [{ name: "mcp", match: { path: "/mcp" }, mcp: {} }],
  });
}

describe("config", () => {
  test("defaults: legacy stage, canary by principal at 1%, steps 1/10/50/100, shadow of every read-only call", () => {
    const s = config({}).mcp.sources.shop;
    expect(s?.stage).toBe("legacy");
    expect(s?.canary.sticky).toBe("principal");
    expect(s?.canary.percent).toBe(1);
    expect(s?.canary.steps).toEqual([1, 10, 50, 100]);
    expect(s?.shadow.sample).toBe(1);
    expect(s?.compare.ignore).toEqual([]);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["a stage past legacy without a candidate", { url: "http://h/mcp", stage: "shadow" }, /stage shadow needs a candidate/],
    ["a candidate with both url and command", { url: "http://h/mcp", candidate: { url: "http://h/new", command: ["x"] } }, /exactly one of url or command/],
    ["a candidate with neither", { url: "http://h/mcp", candidate: {} }, /exactly one of url or command/],
    ["a candidate on declared HTTP tools", { tools: [{ name: "t", call: { path: "/t" } }], candidate: { url: "http://h/new" } }, /candidate is for a federated MCP server/],
    ["steps that do not increase", { url: "http://h/mcp", candidate: { url: "http://h/new" }, canary: { steps: [10, 5] } }, /steps must increase/],
    ["an unknown sticky", { url: "http://h/mcp", candidate: { url: "http://h/new" }, canary: { sticky: "cookie" } }, /sticky/],
    ["headers on a command candidate", { url: "http://h/mcp", candidate: { command: ["x"], headers: { a: "b" } } }, /headers are for a candidate at url/],
  ];
  for (const [what, source, message] of bad) {
    test(`refused: ${what}`, () => {
      const r = mcpSourceSchema.safeParse(source);
      expect(r.success).toBe(false);
      expect(JSON.stringify(r.error?.issues)).toMatch(message);
    });
  }
});

describe("route configs of migrating sources", () => {
  test("mcp:<source>, its stage, plan and gates, keyed like a route (a changed stage or step in ficus.yaml wins over the store)", () => {
    const c = config({ stage: "canary", canary: { percent: 10, steps: [10, 50, 100], rollback_to: "legacy", gates: { mismatch_rate: 0.05 } } });
    expect(hasMcpMigrations(c)).toBe(true);
    const [rc] = mcpMigrationRoutes(c);
    expect(rc?.name).toBe("mcp:shop");
    expect(rc?.candidate).toBe("http://127.0.0.1:9/new");
    if (rc === undefined) throw new Error("no route");
    expect(configState(rc)).toEqual({ stage: "canary", percent: 10, paused: false });
    expect(planOf(rc)).toEqual({ steps: [10, 50, 100], rollbackTo: "legacy" });
    expect(transition(configState(rc), "promote", planOf(rc)).to).toEqual({ stage: "canary", percent: 50, paused: false });
    expect(rc.canary.gates.mismatch_rate).toBe(0.05);
    // The controller's decision runs on these settings as on a route's.
    const stats = { compared: 100, mismatched: 10, mismatchedBySeverity: { low: 0, medium: 0, high: 10 }, candidateFailures: 0, candidate5xx: 0, legacy5xx: 0, legacy: newHistogram(), candidate: newHistogram() };
    expect(decide(stats, 0, 1, rc.canary.step, rc.canary.gates).action).toBe("rollback"); // 10% of mismatches > the 5% budget
    expect(configKey(rc)).not.toBe(configKey(mcpMigrationRoutes(config({ stage: "shadow" }))[0] ?? rc));
    // Built once per config object.
    expect(mcpMigrationRoutes(c)[0]).toBe(rc);
  });

  test("no candidate: no migration", () => {
    const c = configSchema.parse({ mcp: { sources: { a: { url: "http://h/mcp" } } }, routes: [{ name: "mcp", match: { path: "/mcp" }, mcp: {} }] });
    expect(hasMcpMigrations(c)).toBe(false);
    expect(mcpMigrationRoutes(c)).toEqual([]);
  });
});

describe("the compared document", () => {
  test("structuredContent and content, JSON text embedded as written (every digit kept), other text as a string, _meta left out, isError as 500", () => {
    const r: CallToolResult = { content: [{ type: "text", text: '{"n": 12345678901234567890.5}' }, { type: "text", text: "plain" }, { type: "image", data: "AA==", mimeType: "image/png" }], structuredContent: { a: 1 }, _meta: { trace: "x" } };
    expect(comparedDocument(r)).toBe('{"structuredContent":{"a":1},"content":[{"type":"text","text":{"n": 12345678901234567890.5}},{"type":"text","text":"plain"},{"type":"image","data":"AA==","mimeType":"image/png"}]}');
    expect(JSON.parse(comparedDocument(r)).content[0].text.n).toBeGreaterThan(1e19);
    expect(answerOf(r, 1).status).toBe(200);
    expect(answerOf({ ...r, isError: true }, 1).status).toBe(500);
    expect(comparedDocument({ content: [{ type: "text", text: "[not json" }] })).toBe('{"content":[{"type":"text","text":"[not json"}]}');
  });

  test("reformatted or reordered JSON text and a different _meta are no difference; a value is", () => {
    const a = answerOf({ content: [{ type: "text", text: '{"a":1,"b":[1,2]}' }], _meta: { s: "legacy" } }, 1);
    const b = answerOf({ content: [{ type: "text", text: '{ "b": [1, 2], "a": 1 }' }], _meta: { s: "candidate" } }, 1);
    const c = answerOf({ content: [{ type: "text", text: '{"a":2,"b":[1,2]}' }] }, 1);
    expect(compareMessages(a, b).equal).toBe(true);
    const v = compareMessages(a, c);
    expect(v.differences.map((d) => d.path)).toEqual(["$.content[0].text.a"]);
  });

  const annotations: [JsonObject | undefined, boolean][] = [
    [undefined, false],
    [{}, false],
    [{ readOnlyHint: true }, true],
    [{ readOnlyHint: true, destructiveHint: true }, false],
    [{ readOnlyHint: true, destructiveHint: false }, true],
    [{ readOnlyHint: "true" }, false],
    [{ destructiveHint: false }, false],
  ];
  for (const [a, ok] of annotations) test(`mirrorable(${JSON.stringify(a)}) = ${ok}`, () => expect(mirrorable(a)).toBe(ok));
});

/** An in-process MCP source: answers from `answer`, records each call. */
class Source implements ToolSource {
  readonly kind = "mcp" as const;
  readonly calls: { tool: string; args: JsonObject }[] = [];
  delay = 0;
  fail: string | undefined;
  constructor(
    readonly name: string,
    private readonly answer: (tool: string, args: JsonObject) => CallToolResult,
  ) {}
  async start(): Promise<void> {}
  tools(): readonly ToolDefinition[] {
    return [];
  }
  async call(tool: string, args: JsonObject, ctx: CallContext): Promise<CallToolResult> {
    this.calls.push({ tool, args });
    if (this.delay > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delay);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
      });
    }
    if (this.fail !== undefined) throw new Error(this.fail);
    return this.answer(tool, args);
  }
  status() {
    return { state: "up" as const };
  }
  async close(): Promise<void> {}
}

const orderOf = (side: string) => (tool: string, args: JsonObject): CallToolResult => {
  const total = tool === "get_order" && side === "candidate" ? 4250 : 42.5;
  return { content: [{ type: "text", text: JSON.stringify({ id: args.id, total }) }], structuredContent: { id: args.id, total }, _meta: { side } };
};

interface Rig {
  guard: MigrationGuard;
  m: SourceMigration;
  results: ResultsBuffer;
  legacy: Source;
  candidate: Source;
  metrics: Metrics;
  run(tool: string, opts?: { subject?: string; address?: string; annotations?: JsonObject | undefined; args?: JsonObject }): Promise<{ result: CallToolResult; call: GuardedCall }>;
}

function rig(source: Record<string, unknown>): Rig {
  const c = config(source);
  const rc = mcpMigrationRoutes(c)[0];
  const s = c.mcp.sources.shop;
  if (rc === undefined || s === undefined) throw new Error("no migration");
  const legacy = new Source("shop", orderOf("legacy"));
  const candidate = new Source("shop.candidate", orderOf("candidate"));
  const m = sourceMigration(c, rc, s, candidate);
  const results = new ResultsBuffer(2);
  const metrics = new Metrics();
  const guard = new MigrationGuard({ bySource: new Map([["shop", m]]), results }, metrics, createLogger("error", {}, () => {}));
  return {
    guard,
    m,
    results,
    legacy,
    candidate,
    metrics,
    async run(tool, opts = {}) {
      const annotations = "annotations" in opts ? opts.annotations : { readOnlyHint: true };
      const t: CatalogTool = { name: tool, upstreamName: tool, definition: { name: tool, inputSchema: { type: "object" }, ...(annotations ? { annotations } : {}) }, fixed: undefined, entry: { source: legacy, curation: {} as CatalogTool["entry"]["curation"], timeout: 0 } };
      const call: GuardedCall = { caller: { identity: undefined, subject: opts.subject ?? "", address: opts.address ?? "10.0.0.1", endpoint: "mcp", era: "modern" }, tool: t, args: opts.args ?? { id: "o1" }, requestId: "r1", traceId: undefined, started: 0, retry: false, notes: {} };
      const result = await guarded([guard], call, (a) => legacy.call(tool, a, { signal: new AbortController().signal, requestId: "r1" }));
      return { result, call };
    },
  };
}

/** The counters recorded so far for mcp:shop (drains the buffer). */
function counters(results: ResultsBuffer): Record<string, number> {
  return Object.fromEntries(results.drain().get("mcp:shop")?.counters ?? []);
}

/** Lets mirrors end and comparisons (run in a macrotask of their own) record. */
const settle = () => Bun.sleep(20);

describe("the guard", () => {
  test("legacy stage: the source serves, nothing is mirrored or counted", async () => {
    const r = rig({ stage: "legacy" });
    const { result, call } = await r.run("get_order");
    expect(result._meta).toEqual({ side: "legacy" });
    expect(call.notes.side).toBeUndefined();
    await settle();
    expect(r.candidate.calls).toEqual([]);
    expect(r.results.empty).toBe(true);
  });

  test("shadow: legacy serves; read-only calls go to the candidate with the same arguments and are compared; a mismatch is recorded under its paths", async () => {
    const r = rig({ stage: "shadow", shadow: { aa: 0 } });
    const { result, call } = await r.run("get_order", { args: { id: "o7" } });
    expect(result.structuredContent).toEqual({ id: "o7", total: 42.5 });
    expect(call.notes.side).toBe("legacy");
    await r.run("greet");
    await settle();
    expect(r.candidate.calls).toEqual([{ tool: "get_order", args: { id: "o7" } }, { tool: "greet", args: { id: "o1" } }]);
    const d = r.results.drain().get("mcp:shop");
    expect(Object.fromEntries(d?.counters ?? [])).toMatchObject({ total: 2, shadowed: 2, compared: 2, matched: 1, mismatched: 1 });
    const [sig] = [...(d?.signatures.values() ?? [])];
    expect(sig?.paths).toEqual(["$.content[*].text.total", "$.structuredContent.total"]);
    expect(sig?.samples[0]?.request.body).toContain("o7");
    expect(r.m.shadow.inflight).toBe(0);
  });

  test("shadow: destructive and unannotated tools never reach the candidate (skipped as unsafe)", async () => {
    const r = rig({ stage: "shadow" });
    await r.run("delete_order", { annotations: { readOnlyHint: false, destructiveHint: true } });
    await r.run("wipe", { annotations: { readOnlyHint: true, destructiveHint: true } });
    await r.run("stamp", { annotations: undefined });
    await settle();
    expect(r.candidate.calls).toEqual([]);
    expect(counters(r.results)).toEqual({ total: 3, "skipped.unsafe_method": 3 });
  });

  test("shadow never delays the agent: a slow candidate is still compared later; past its timeout it is a candidate timeout", async () => {
    const r = rig({ stage: "shadow", shadow: { timeout: "150ms", aa: 0 } });
    r.candidate.delay = 80;
    let t0 = performance.now();
    await r.run("greet");
    expect(performance.now() - t0).toBeLessThan(50);
    await Bun.sleep(120);
    expect(counters(r.results)).toMatchObject({ compared: 1, matched: 1 });
    r.candidate.delay = 1000;
    t0 = performance.now();
    await r.run("greet");
    expect(performance.now() - t0).toBeLessThan(50);
    await Bun.sleep(250);
    expect(counters(r.results)).toMatchObject({ shadowed: 1, candidate_timeout: 1 });
    expect(r.m.shadow.inflight).toBe(0);
  });

  test("shadow: past max_concurrency the copy is dropped and counted; a failing candidate is a candidate error", async () => {
    const r = rig({ stage: "shadow", shadow: { max_concurrency: 1, aa: 0 } });
    r.candidate.delay = 50;
    await Promise.all([r.run("greet"), r.run("greet")]);
    await Bun.sleep(80);
    expect(counters(r.results)).toMatchObject({ total: 2, shadowed: 1, "skipped.concurrency_limit": 1, compared: 1 });
    r.candidate.delay = 0;
    r.candidate.fail = "boom";
    await r.run("greet");
    await settle();
    expect(counters(r.results)).toMatchObject({ shadowed: 1, candidate_error: 1 });
  });

  test("shadow: sample 0.5 mirrors every other call; aa 1 sends each mirrored call to legacy twice (A/A)", async () => {
    const r = rig({ stage: "shadow", shadow: { sample: 0.5, aa: 1 } });
    for (let i = 0; i < 4; i++) await r.run("greet");
    await settle();
    expect(r.candidate.calls.length).toBe(2);
    expect(r.legacy.calls.length).toBe(6);
    expect(counters(r.results)).toMatchObject({ total: 4, shadowed: 2, compared: 2, aa_compared: 2 });
  });

  test("canary: sticky by principal (address when anonymous, or with sticky: address); the candidate answers and legacy is mirrored, the pair oriented legacy → candidate", async () => {
    const r = rig({ stage: "canary", canary: { percent: 50 }, shadow: { aa: 0 } });
    const principals = ["alice", "bob", "carol", "dave", "erin", "frank"];
    for (const p of principals) {
      const want = inCanary(bucketOf(p, ""), 50) ? "candidate" : "legacy";
      for (let i = 0; i < 2; i++) {
        const { result, call } = await r.run("get_order", { subject: p });
        expect([p, result._meta?.side, call.notes.side]).toEqual([p, want, want]);
      }
    }
    const anon = inCanary(bucketOf("10.1.1.1", ""), 50) ? "candidate" : "legacy";
    expect((await r.run("greet", { address: "10.1.1.1" })).result._meta?.side).toBe(anon);
    await settle();
    const d = r.results.drain().get("mcp:shop");
    expect(Object.fromEntries(d?.counters ?? [])).toMatchObject({ total: 13, shadowed: 13, compared: 13, mismatched: 12 });
    // Whichever side served, legacy's total is on the left.
    for (const s of d?.signatures.values() ?? []) for (const sample of s.samples) expect(JSON.parse(sample.legacy.body).structuredContent.total).toBe(42.5);

    const byAddress = rig({ stage: "canary", canary: { percent: 50, sticky: "address" } });
    const want = inCanary(bucketOf("10.2.2.2", ""), 50) ? "candidate" : "legacy";
    for (const p of principals) expect((await byAddress.run("greet", { subject: p, address: "10.2.2.2" })).result._meta?.side).toBe(want);
  });

  test("candidate stage: the candidate serves every call, nothing is mirrored; a candidate failure is a tool error naming the tool", async () => {
    const r = rig({ stage: "candidate" });
    const { result, call } = await r.run("get_order", { subject: "alice" });
    expect(result._meta?.side).toBe("candidate");
    expect(call.notes.side).toBe("candidate");
    expect(r.legacy.calls).toEqual([]);
    r.candidate.fail = "connection refused";
    const failed = await r.run("get_order");
    expect(failed.result.isError).toBe(true);
    expect(failed.result.content[0]?.text).toBe("get_order: connection refused");
    await settle();
    expect(r.results.empty).toBe(true);
  });

  test("a legacy call that fails as a JSON-RPC error is not compared (skipped: legacy_failed)", async () => {
    const r = rig({ stage: "shadow" });
    r.legacy.fail = "upstream error";
    await expect(r.run("greet")).rejects.toThrow("upstream error");
    await settle();
    expect(counters(r.results)).toMatchObject({ shadowed: 1, "skipped.legacy_failed": 1 });
    expect(r.m.shadow.inflight).toBe(0);
  });
});

describe("control state from the store", () => {
  test("a row applies while ficus.yaml is unchanged (its key); otherwise the file's state", () => {
    const r = rig({ stage: "shadow", canary: { steps: [50, 100] } });
    const row = (over: Partial<ControlRow>): ControlRow => ({ route: "mcp:shop", stage: "canary", percent: 50, paused: false, config_key: r.m.configKey, version: 1, ...over });
    expect(applyControl(r.m, [row({})])).toBe(true);
    expect([r.m.live.stage, r.m.canary.percent]).toEqual(["canary", 50]);
    expect(applyControl(r.m, [row({})])).toBe(false);
    expect(applyControl(r.m, [row({ stage: "shadow", percent: 0, paused: true })])).toBe(true);
    expect([r.m.live.stage, r.m.canary.percent, r.m.live.paused]).toEqual(["shadow", 0, true]);
    // A stale row (ficus.yaml changed since) or another route's: the file says shadow.
    applyControl(r.m, [row({ config_key: "old" }), row({ route: "other" })]);
    expect([r.m.live.stage, r.m.live.paused]).toEqual(["shadow", false]);
  });
});
