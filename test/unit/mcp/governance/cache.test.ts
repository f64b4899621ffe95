/**
 * The tool-result cache: the key (RFC 8785 order, schema defaults, key
 * fields and JSON pointers, never _meta), what is never cached (errors,
 * input_required, protocol errors, other guards' answers, untrusted or
 * non-read-only tools, callers with nothing to scope on), scopes kept
 * apart, TTL, the LRU bounds, a changed definition and a list change
 * missing, and the config's validation.
 */
import { expect, test } from "bun:test";
import type { Identity } from "../../../../src/auth/identity.ts";
import type { FicusConfig, RouteConfig } from "../../../../src/config/schema.ts";
import { CACHE_META, canonicalArguments, compileKeyFields, createCacheGuard, MemoryStore, schemaDefaults } from "../../../../src/mcp/governance/cache/index.ts";
import { type CallGuard, type GuardedCall, guarded, toolError } from "../../../../src/mcp/governance/guard.ts";
import { Curation } from "../../../../src/mcp/registry/curation.ts";
import { Registry } from "../../../../src/mcp/registry/registry.ts";
import { mcpConfigSchema, routeMcpSchema } from "../../../../src/mcp/schema.ts";
import type { CallToolResult, JsonObject, ListKind, SourceKind, ToolDefinition, ToolSource } from "../../../../src/mcp/types.ts";
import { createLogger, type LogSink } from "../../../../src/observability/logger.ts";
import { Metrics } from "../../../../src/observability/metrics.ts";

class ListSource implements ToolSource {
  onListChanged: ((what: ListKind) => void) | undefined;
  constructor(
    readonly name: string,
    public list: ToolDefinition[],
    readonly kind: SourceKind = "mcp",
  ) {}
  async start(): Promise<void> {}
  tools(): readonly ToolDefinition[] {
    return this.list;
  }
  async call(): Promise<CallToolResult> {
    return { content: [] };
  }
  status() {
    return { state: "up" as const };
  }
  async close(): Promise<void> {}
  /** Replaces the list, as a federated source does on list_changed. */
  change(list: ToolDefinition[]): void {
    this.list = list;
    this.onListChanged?.("tools");
  }
}

const weather: ToolDefinition = {
  name: "weather",
  inputSchema: { type: "object", properties: { city: { type: "string" }, units: { type: "string", default: "metric" }, filter: { type: "object" } } },
  annotations: { readOnlyHint: true },
};
const plain: ToolDefinition = { name: "plain", inputSchema: { type: "object", properties: { q: { type: "string" } } } };

interface Setup {
  guard: CallGuard;
  registry: Registry;
  source: ListSource;
  metrics: Metrics;
  warnings: string[];
  close(): Promise<void>;
  tool(name: string): GuardedCall["tool"];
}

function setup(mcp: Record<string, unknown>, opts: { kind?: SourceKind; routeAuth?: boolean; tools?: ToolDefinition[] } = {}): Setup {
  const parsed = mcpConfigSchema.parse(mcp);
  const source = new ListSource("wx", opts.tools ?? [weather, plain], opts.kind ?? "mcp");
  const registry = new Registry([{ source, curation: new Curation({ prefix: "" }), timeout: 0 }], createLogger("error", {}));
  const warnings: string[] = [];
  const sink: LogSink = (line) => {
    if (line.includes('"warn"')) warnings.push(line);
  };
  const metrics = new Metrics();
  const closers: (() => void | Promise<void>)[] = [];
  const route = { name: "mcp", mcp: routeMcpSchema.parse({}), ...(opts.routeAuth ? { auth: "keys" } : {}) } as unknown as RouteConfig;
  const guard = createCacheGuard({
    config: { mcp: parsed } as unknown as FicusConfig,
    route,
    registry,
    logger: createLogger("warn", {}, sink),
    metrics,
    configDir: "/tmp",
    shared: new Map(),
    onClose: (fn) => closers.push(fn),
  });
  if (guard === undefined) throw new Error("no cache guard");
  return {
    guard,
    registry,
    source,
    metrics,
    warnings,
    async close() {
      for (const fn of closers) await fn();
    },
    tool: (name) => registry.current.toolsByName.get(name) as GuardedCall["tool"],
  };
}

function identity(subject: string, claims: Record<string, unknown> = {}, method: Identity["method"] = "jwt", issuer = "https://idp"): Identity {
  return { method, subject, issuer, scopes: [], roles: [], claims };
}

function call(s: Setup, args: JsonObject, who: Identity | undefined, tool = "weather"): GuardedCall {
  return {
    caller: { identity: who, subject: who?.subject ?? "", address: "127.0.0.1", endpoint: "mcp", era: "modern" },
    tool: s.tool(tool),
    args,
    requestId: crypto.randomUUID(),
    traceId: undefined,
    started: performance.now(),
    retry: false, notes: {},
  };
}

/** Runs a call through the cache guard; the tool answers with a fresh counter each time it really runs. */
function runner() {
  let n = 0;
  const run = async (c: GuardedCall, g: CallGuard, answer?: (n: number) => CallToolResult) =>
    guarded([g], c, async () => {
      n++;
      return answer ? answer(n) : { content: [{ type: "text", text: `run ${n}` }] };
    });
  return { run, runs: () => n };
}

const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;
const cfg = (tool: Record<string, unknown>, source: Record<string, unknown> = {}, cache: Record<string, unknown> = {}) => ({
  cache,
  sources: { wx: { url: "http://127.0.0.1:1/mcp", trust_annotations: true, ...source, per_tool: { weather: { cache: { ttl: "1m", ...tool } }, plain: { cache: { ttl: "1m", ...tool } } } } },
});
const alice = identity("alice");
const bob = identity("bob");

test("canonical arguments: key order does not matter, defaults are applied, numbers as RFC 8785 writes them", () => {
  const d = schemaDefaults(weather.inputSchema);
  expect(d).toEqual([["units", "metric"]]);
  const a = canonicalArguments({ city: "Paris", filter: { b: 1, a: [1e2, "x"] } }, d, undefined);
  const b = canonicalArguments({ filter: { a: [100, "x"], b: 1 }, units: "metric", city: "Paris" }, d, undefined);
  expect(a).toBe(b);
  expect(a).toBe('{"city":"Paris","filter":{"a":[100,"x"],"b":1},"units":"metric"}');
  expect(canonicalArguments({ city: "Paris", units: "imperial" }, d, undefined)).not.toBe(canonicalArguments({ city: "Paris" }, d, undefined));
  // The arguments are never changed in place.
  const args = { city: "Oslo" };
  canonicalArguments(args, d, undefined);
  expect(args).toEqual({ city: "Oslo" });
});

test("key fields: only the named arguments and JSON pointers make the key; an absent field differs from null", () => {
  const fields = compileKeyFields(["city", "/filter/date", "/a~1b/~0c", "/list/1"]);
  const k = (args: JsonObject) => canonicalArguments(args, [], fields);
  expect(k({ city: "Paris", filter: { date: "2026-01-01", page: 1 }, noise: 1 })).toBe(k({ noise: 2, filter: { page: 9, date: "2026-01-01" }, city: "Paris" }));
  expect(k({ city: "Paris", filter: { date: "2026-01-02" } })).not.toBe(k({ city: "Paris", filter: { date: "2026-01-01" } }));
  expect(k({ "a/b": { "~c": 5 } })).toBe('{"/a~1b/~0c":5}');
  expect(k({ list: ["a", "b"] })).toBe('{"/list/1":"b"}');
  expect(k({ list: { "1": "member" } })).toBe('{"/list/1":"member"}');
  expect(k({ city: null })).not.toBe(k({}));
  expect(k({})).toBe("{}");
});

test("a hit answers without running the tool, marked in _meta and notes; _meta of the request is not in the key", async () => {
  const s = setup(cfg({}));
  const { run, runs } = runner();
  const first = call(s, { city: "Paris" }, alice);
  expect(text(await run(first, s.guard))).toBe("run 1");
  expect(first.notes.cache).toBe("miss");
  const second = call(s, { units: "metric", city: "Paris" }, alice); // the default, spelled out: the same question
  const r = await run(second, s.guard);
  expect(text(r)).toBe("run 1");
  expect(second.notes.cache).toBe("hit");
  const meta = r._meta?.[CACHE_META] as { hit: boolean; age_ms: number };
  expect(meta.hit).toBe(true);
  expect(meta.age_ms).toBeGreaterThanOrEqual(0);
  expect(runs()).toBe(1);
  // The stored result is not changed by a hit's marking.
  const third = await run(call(s, { city: "Paris" }, alice), s.guard);
  expect(Object.keys(third._meta ?? {})).toEqual([CACHE_META]);
  const counts = s.metrics.registry.json().find((m) => m.name === "ficus_mcp_cache_total")?.values ?? [];
  const count = (result: string) => counts.find((v) => v.labels.result === result && v.labels.tool === "weather")?.value;
  expect([count("miss"), count("stored"), count("hit")]).toEqual([1, 1, 2]);
  await s.close();
});

test("never cached: a retry carrying the agent's answers, and a call during which the upstream asked the agent something", async () => {
  const s = setup(cfg({}));
  const { run, runs } = runner();
  const retry = { ...call(s, { city: "Oslo" }, alice), retry: true };
  await run(retry, s.guard);
  expect(retry.notes.cache).toBe("skipped");
  const asked = call(s, { city: "Oslo" }, alice);
  await guarded([s.guard], asked, async () => {
    asked.notes.asked = true; // the endpoint sets it when it relays a sampling or elicitation request to the agent
    return { content: [{ type: "text", text: "depends on the answer" }] };
  });
  const again = call(s, { city: "Oslo" }, alice);
  expect(text(await run(again, s.guard))).toBe("run 2");
  expect(again.notes.cache).toBe("miss");
  expect(runs()).toBe(2);
  await s.close();
});

test("one principal never gets another's entry; the same subject from another issuer or method is another principal", async () => {
  const s = setup(cfg({}));
  const { run } = runner();
  expect(text(await run(call(s, { city: "Paris" }, alice), s.guard))).toBe("run 1");
  expect(text(await run(call(s, { city: "Paris" }, bob), s.guard))).toBe("run 2");
  expect(text(await run(call(s, { city: "Paris" }, identity("alice", {}, "jwt", "https://other-idp")), s.guard))).toBe("run 3");
  expect(text(await run(call(s, { city: "Paris" }, identity("alice", {}, "api_key", "")), s.guard))).toBe("run 4");
  expect(text(await run(call(s, { city: "Paris" }, alice), s.guard))).toBe("run 1");
  expect(text(await run(call(s, { city: "Paris" }, bob), s.guard))).toBe("run 2");
  await s.close();
});

test("scope tenant shares within a tenant only; a caller without the claim is not cached; scope global shares with all", async () => {
  const t = setup(cfg({ scope: "tenant", tenant_claim: "org" }));
  const { run } = runner();
  expect(text(await run(call(t, { city: "Rome" }, identity("a1", { org: "acme" })), t.guard))).toBe("run 1");
  expect(text(await run(call(t, { city: "Rome" }, identity("a2", { org: "acme" })), t.guard))).toBe("run 1");
  expect(text(await run(call(t, { city: "Rome" }, identity("g1", { org: "globex" })), t.guard))).toBe("run 2");
  const none = call(t, { city: "Rome" }, identity("n1"));
  expect(text(await run(none, t.guard))).toBe("run 3");
  expect(none.notes.cache).toBe("skipped");
  expect(text(await run(call(t, { city: "Rome" }, identity("n1")), t.guard))).toBe("run 4");
  await t.close();
  const g = setup(cfg({ scope: "global" }));
  const r2 = runner();
  expect(text(await r2.run(call(g, { city: "Rome" }, alice), g.guard))).toBe("run 1");
  expect(text(await r2.run(call(g, { city: "Rome" }, bob), g.guard))).toBe("run 1");
  expect(text(await r2.run(call(g, { city: "Rome" }, undefined), g.guard))).toBe("run 1");
  await g.close();
});

test("anonymous callers share one entry only on an endpoint without authentication", async () => {
  const open = setup(cfg({}));
  const a = runner();
  expect(text(await a.run(call(open, { city: "Oslo" }, undefined), open.guard))).toBe("run 1");
  expect(text(await a.run(call(open, { city: "Oslo" }, undefined), open.guard))).toBe("run 1");
  await open.close();
  const authed = setup(cfg({}), { routeAuth: true });
  const b = runner();
  const anon = identity("", {}, "anonymous", "");
  expect(text(await b.run(call(authed, { city: "Oslo" }, anon), authed.guard))).toBe("run 1");
  expect(text(await b.run(call(authed, { city: "Oslo" }, anon), authed.guard))).toBe("run 2");
  expect(text(await b.run(call(authed, { city: "Oslo" }, undefined), authed.guard))).toBe("run 3");
  await authed.close();
});

test("never cached: tool errors, input_required, protocol errors, another guard's answer, results over max_entry_bytes", async () => {
  const s = setup(cfg({}, {}, { max_entry_bytes: 200 }));
  const { run, runs } = runner();
  await run(call(s, { city: "E" }, alice), s.guard, (n) => toolError(`failed ${n}`));
  expect(text(await run(call(s, { city: "E" }, alice), s.guard))).toBe("run 2");
  await run(call(s, { city: "I" }, alice), s.guard, () => ({ content: [], resultType: "input_required", inputRequests: {} }));
  expect(text(await run(call(s, { city: "I" }, alice), s.guard))).toBe("run 4");
  const big = (n: number): CallToolResult => ({ content: [{ type: "text", text: `${n}`.padEnd(300, "x") }] });
  await run(call(s, { city: "B" }, alice), s.guard, big);
  expect(text(await run(call(s, { city: "B" }, alice), s.guard))).toBe("run 6");
  // A protocol error.
  await expect(guarded([s.guard], call(s, { city: "X" }, alice), async () => Promise.reject(Object.assign(new Error("upstream said no"), { code: -32603 })))).rejects.toThrow("upstream said no");
  expect(text(await run(call(s, { city: "X" }, alice), s.guard))).toBe("run 7");
  // A guard after the cache answers (a guardrail's denial): not stored.
  const deny: CallGuard = { name: "guardrails", before: () => toolError("blocked") };
  await guarded([s.guard, deny], call(s, { city: "D" }, alice), async () => ({ content: [] }));
  expect(text(await run(call(s, { city: "D" }, alice), s.guard))).toBe("run 8");
  expect(runs()).toBe(8);
  await s.close();
});

test("read-only: a federated readOnlyHint counts only with trust_annotations; read_only opts in or out; declared tools are trusted", async () => {
  const untrusted = setup(cfg({}, { trust_annotations: false }));
  const a = runner();
  const c1 = call(untrusted, { city: "P" }, alice);
  await a.run(c1, untrusted.guard);
  expect(c1.notes.cache).toBe("skipped");
  expect(text(await a.run(call(untrusted, { city: "P" }, alice), untrusted.guard))).toBe("run 2");
  expect(untrusted.warnings.join("\n")).toContain("trust_annotations");
  expect(untrusted.warnings.length).toBe(1); // once per tool
  await untrusted.close();
  // No readOnlyHint: not cached even from a trusted source, unless the operator opts in.
  const noHint = setup(cfg({}));
  const b = runner();
  await b.run(call(noHint, { q: "x" }, alice, "plain"), noHint.guard);
  expect(text(await b.run(call(noHint, { q: "x" }, alice, "plain"), noHint.guard))).toBe("run 2");
  await noHint.close();
  const optIn = setup(cfg({ read_only: true }, { trust_annotations: false }));
  const c = runner();
  await c.run(call(optIn, { q: "x" }, alice, "plain"), optIn.guard);
  expect(text(await c.run(call(optIn, { q: "x" }, alice, "plain"), optIn.guard))).toBe("run 1");
  await optIn.close();
  const optOut = setup(cfg({ read_only: false }));
  const d = runner();
  await d.run(call(optOut, { city: "P" }, alice), optOut.guard);
  expect(text(await d.run(call(optOut, { city: "P" }, alice), optOut.guard))).toBe("run 2");
  await optOut.close();
  const declared = setup({ sources: { wx: { tools: [{ name: "weather", annotations: { readOnlyHint: true }, call: { path: "/w" } }], upstream: "http://127.0.0.1:1", per_tool: { weather: { cache: { ttl: "1m" } } } } } }, { kind: "http" });
  const e = runner();
  await e.run(call(declared, { city: "P" }, alice), declared.guard);
  expect(text(await e.run(call(declared, { city: "P" }, alice), declared.guard))).toBe("run 1");
  await declared.close();
});

test("TTL: an entry expires", async () => {
  const s = setup(cfg({ ttl: "30ms" }));
  const { run } = runner();
  await run(call(s, { city: "T" }, alice), s.guard);
  expect(text(await run(call(s, { city: "T" }, alice), s.guard))).toBe("run 1");
  await Bun.sleep(45);
  expect(text(await run(call(s, { city: "T" }, alice), s.guard))).toBe("run 2");
  await s.close();
});

test("a changed definition misses (its hash is in the key), and a list change drops the source's entries", async () => {
  const s = setup(cfg({}));
  const { run } = runner();
  await run(call(s, { city: "L" }, alice), s.guard);
  expect(text(await run(call(s, { city: "L" }, alice), s.guard))).toBe("run 1");
  // Same definition, new list (e.g. a tool added): dropped.
  s.source.change([weather, plain, { name: "extra", inputSchema: { type: "object" } }]);
  expect(text(await run(call(s, { city: "L" }, alice), s.guard))).toBe("run 2");
  expect(text(await run(call(s, { city: "L" }, alice), s.guard))).toBe("run 2");
  // A pin approval poll rebuilds without any source changing: kept.
  s.registry.rebuild();
  expect(text(await run(call(s, { city: "L" }, alice), s.guard))).toBe("run 2");
  // A changed description: a new hash, a miss.
  s.source.list = [{ ...weather, description: "now different" }, plain];
  s.registry.rebuild();
  expect(text(await run(call(s, { city: "L" }, alice), s.guard))).toBe("run 3");
  await s.close();
});

test("memory LRU: bounded by entries and by bytes, least recently used first", () => {
  const m = new MemoryStore({ maxEntries: 3, maxBytes: 10_000 });
  const r = (t: string): CallToolResult => ({ content: [{ type: "text", text: t }] });
  for (const k of ["a", "b", "c"]) m.set(k, "s", r(k), "", 100, 60_000, 0);
  expect(m.get("a", "s", 1)?.result).toEqual(r("a")); // a is now the most recent
  m.set("d", "s", r("d"), "", 100, 60_000, 1);
  expect(m.size).toBe(3);
  expect(m.get("b", "s", 2)).toBeUndefined();
  expect(m.get("a", "s", 2)).toBeDefined();
  const bytes = new MemoryStore({ maxEntries: 100, maxBytes: 1000 });
  for (let i = 0; i < 10; i++) bytes.set(`k${i}`, "s", r(String(i)), "", 296, 60_000, 0); // 300 each with the key
  expect(bytes.size).toBe(3);
  expect(bytes.bytes).toBeLessThanOrEqual(1000);
  expect(bytes.get("k9", "s", 1)).toBeDefined();
  expect(bytes.get("k6", "s", 1)).toBeUndefined();
  expect(bytes.evictions).toBe(7);
  // Expired entries are misses and give their bytes back; a source's entries can be dropped.
  expect(bytes.get("k9", "s", 60_001)).toBeUndefined();
  bytes.set("x", "other", r("x"), "", 10, 60_000, 0);
  bytes.dropSource("s");
  expect(bytes.size).toBe(1);
  expect(bytes.bytes).toBe(12);
});

test("config: ttl is required to enable, durations and key fields are checked, no cache config means no guard", () => {
  expect(() => mcpConfigSchema.parse({ sources: { wx: { url: "http://x/mcp", per_tool: { weather: { cache: {} } } } } })).toThrow();
  expect(() => mcpConfigSchema.parse({ sources: { wx: { url: "http://x/mcp", per_tool: { weather: { cache: { ttl: "soon" } } } } } })).toThrow("duration");
  expect(() => mcpConfigSchema.parse({ sources: { wx: { url: "http://x/mcp", per_tool: { weather: { cache: { ttl: "1m", key: ["/bad~2"] } } } } } })).toThrow("JSON pointer");
  expect(() => mcpConfigSchema.parse({ cache: { backend: "redis", redis_url: "http://nope" } })).toThrow();
  const parsed = mcpConfigSchema.parse({ sources: { wx: { url: "http://x/mcp", per_tool: { weather: { cache: { ttl: "1m" } } } } } });
  expect(parsed.cache).toMatchObject({ backend: "memory", redis_url: "redis://127.0.0.1:6379", max_entries: 10_000, max_bytes: 64 * 1024 * 1024, max_entry_bytes: 1024 * 1024, key_prefix: "ficus:mcp:cache:", redis_timeout: 50 });
  expect(parsed.sources.wx?.per_tool?.weather?.cache).toMatchObject({ ttl: 60_000, scope: "principal", tenant_claim: "tenant_id" });
  const registry = new Registry([], createLogger("error", {}));
  const deps = { config: { mcp: mcpConfigSchema.parse({ sources: { wx: { url: "http://x/mcp" } } }) } as unknown as FicusConfig, route: { name: "mcp", mcp: routeMcpSchema.parse({}) } as unknown as RouteConfig, registry, logger: createLogger("error", {}), metrics: new Metrics(), configDir: "/tmp", shared: new Map(), onClose: () => {} };
  expect(createCacheGuard(deps)).toBeUndefined();
});
