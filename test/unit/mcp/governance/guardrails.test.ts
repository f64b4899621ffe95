/**
 * The guardrails guard: its config (patterns and pointers checked at load, per-tool overrides), deny patterns and
 * inputSchema checks before the upstream (tables), redaction and the size cap after it (the marker, structuredContent
 * kept or dropped, the error mode), what is counted and what is logged.
 */
import { describe, expect, test } from "bun:test";
import { guarded, type GuardedCall } from "../../../../src/mcp/governance/guard.ts";
import { GuardrailsGuard, META_GUARDRAIL } from "../../../../src/mcp/governance/guardrails/index.ts";
import { guardrailsConfigSchema, guardrailsPerToolFields, type GuardrailsPerTool } from "../../../../src/mcp/governance/guardrails/schema.ts";
import { cutUtf8, marker, measure, truncate } from "../../../../src/mcp/governance/guardrails/size.ts";
import { createLogger } from "../../../../src/observability/logger.ts";
import { Metrics } from "../../../../src/observability/metrics.ts";
import type { CatalogTool } from "../../../../src/mcp/registry/registry.ts";
import type { CallToolResult, JsonObject } from "../../../../src/mcp/types.ts";
import { z } from "zod";

const ORDER_SCHEMA = {
  type: "object",
  properties: {
    sku: { type: "string", pattern: "^[A-Z]{3}-[0-9]{3}$" },
    qty: { type: "integer", minimum: 1 },
    mode: { enum: ["fast", "cheap"] },
    address: { type: "object", properties: { city: { type: "string" }, zip: { type: "string" } }, required: ["city"] },
    tags: { type: "array", items: { type: "string" } },
  },
  required: ["sku", "qty"],
  additionalProperties: false,
};

function tool(name: string, extra: { schema?: JsonObject; outputSchema?: JsonObject; fixed?: JsonObject; source?: string; upstream?: string } = {}): CatalogTool {
  const definition = { name, inputSchema: extra.schema ?? ORDER_SCHEMA, ...(extra.outputSchema ? { outputSchema: extra.outputSchema } : {}) };
  return { name, upstreamName: extra.upstream ?? name, definition, fixed: extra.fixed, entry: { source: { name: extra.source ?? "orders" } } } as unknown as CatalogTool;
}

interface Setup {
  guard: GuardrailsGuard;
  metrics: Metrics;
  logs: Record<string, unknown>[];
  count(labels: Record<string, string>): number;
}

function setup(config: unknown = {}, perTool: Record<string, GuardrailsPerTool> = {}): Setup {
  const metrics = new Metrics({ defaultMetrics: false });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger("info", {}, (line) => logs.push(JSON.parse(line)));
  const guard = new GuardrailsGuard({ config: guardrailsConfigSchema.parse(config), perTool: (s, t) => perTool[`${s}/${t}`], logger, metrics, endpoint: "mcp" });
  const count = (labels: Record<string, string>) => {
    const m = metrics.registry.json().find((x) => x.name === "ficus_mcp_guardrail_total");
    let n = 0;
    for (const v of m?.values ?? []) if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) n += v.value;
    return n;
  };
  return { guard, metrics, logs, count };
}

function call(t: CatalogTool, args: JsonObject): GuardedCall {
  return { caller: { identity: undefined, subject: "alice", address: "127.0.0.1", endpoint: "mcp", era: "modern" }, tool: t, args, requestId: "r1", traceId: undefined, started: 0, retry: false, notes: {} };
}

/** Runs one call through the guard; `upstream` counts the calls that reached it. */
async function run(s: Setup, t: CatalogTool, args: JsonObject, result: CallToolResult = { content: [{ type: "text", text: "ok" }] }) {
  let upstream = 0;
  const c = call(t, args);
  const out = await guarded([s.guard], c, async () => {
    upstream++;
    return result;
  });
  return { out, upstream, notes: c.notes };
}

const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe("config", () => {
  test("defaults", () => {
    const c = guardrailsConfigSchema.parse({});
    expect(c).toEqual({ validate_arguments: true, max_result_bytes: 1024 * 1024, on_oversize: "truncate", redact: { defaults: true, patterns: [], replacement: "[redacted]" }, deny_arguments: [] });
  });

  test.each([
    [{ redact: { patterns: ["(a)\\1"] } }, ["redact", "patterns", 0], "backreferences are not supported"],
    [{ redact: { patterns: ["(?=x)"] } }, ["redact", "patterns", 0], "lookahead"],
    [{ deny_arguments: [{ pattern: "([a-z" }] }, ["deny_arguments", 0, "pattern"], "RE2"],
    [{ deny_arguments: [{ pattern: "x", fields: ["/a/~2"] }] }, ["deny_arguments", 0, "fields", 0], "JSON pointer"],
    [{ deny_arguments: [{ pattern: "x", name: "has space" }] }, ["deny_arguments", 0, "name"], "rule name"],
    [{ max_result_bytes: "10B" }, ["max_result_bytes"], "must be"],
    [{ on_oversize: "drop" }, ["on_oversize"], ""],
    [{ redact: { extra: 1 } }, ["redact"], ""],
  ])("a bad value is an error naming its field: %j", (input, path, words) => {
    const r = guardrailsConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    const issue = r.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path)) ?? r.error?.issues[0];
    expect(issue?.path).toEqual(path);
    expect(issue?.message ?? "").toContain(words);
  });

  test("per-tool fields: optional overrides", () => {
    const schema = z.strictObject(guardrailsPerToolFields);
    expect(schema.parse({})).toEqual({ validate_arguments: undefined, max_result_bytes: undefined, on_oversize: undefined, redact: undefined } as never);
    expect(schema.parse({ max_result_bytes: "64KiB", on_oversize: "error", redact: false, validate_arguments: false })).toEqual({ max_result_bytes: 65536, on_oversize: "error", redact: false, validate_arguments: false });
    expect(schema.safeParse({ max_result_bytes: "12" }).success).toBe(false);
  });
});

describe("arguments against the tool's inputSchema", () => {
  const t = tool("place_order");
  const cases: [string, JsonObject, string | undefined][] = [
    ["fits", { sku: "ABC-123", qty: 2 }, undefined],
    ["wrong type", { sku: "ABC-123", qty: "two" }, "/qty must be integer"],
    ["not an integer", { sku: "ABC-123", qty: 1.5 }, "/qty must be integer"],
    ["below minimum", { sku: "ABC-123", qty: 0 }, "/qty must be >= 1"],
    ["missing required", { sku: "ABC-123" }, "must have required property 'qty'"],
    ["not in enum", { sku: "ABC-123", qty: 1, mode: "slow" }, "/mode must be equal to one of the allowed values"],
    ["pattern", { sku: "abc", qty: 1 }, '/sku must match pattern "^[A-Z]{3}-[0-9]{3}$"'],
    ["nested required", { sku: "ABC-123", qty: 1, address: { zip: "1000" } }, "/address must have required property 'city'"],
    ["nested type", { sku: "ABC-123", qty: 1, address: { city: 5 } }, "/address/city must be string"],
    ["array items", { sku: "ABC-123", qty: 1, tags: ["a", 2] }, "/tags/1 must be string"],
    ["extra property", { sku: "ABC-123", qty: 1, admin: true }, "must NOT have additional properties"],
  ];
  for (const [what, args, problem] of cases) {
    test(what, async () => {
      const s = setup();
      const { out, upstream, notes } = await run(s, t, args);
      if (problem === undefined) {
        expect(upstream).toBe(1);
        expect(out.isError).toBeUndefined();
        return;
      }
      expect(upstream).toBe(0);
      expect(out.isError).toBe(true);
      expect(textOf(out)).toStartWith("arguments do not fit the tool's input schema: ");
      expect(textOf(out)).toContain(problem);
      expect(out._meta?.[META_GUARDRAIL]).toBe("schema");
      expect(notes.guardrail).toBe("schema");
      expect(s.count({ tool: "place_order", rule: "schema", action: "denied" })).toBe(1);
      // One log line per denial, naming the rule and never the argument values.
      expect(s.logs).toHaveLength(1);
      expect(s.logs[0]).toMatchObject({ msg: "an MCP tool call was denied by a guardrail", tool: "place_order", rule: "schema", endpoint: "mcp" });
      expect(JSON.stringify(s.logs[0])).not.toContain(JSON.stringify(args).slice(1, 12));
    });
  }

  test("fixed arguments (the operator's) are left out of the check against the schema the agent sees", async () => {
    const s = setup();
    const agentSchema = { type: "object", properties: { qty: { type: "integer" } }, required: ["qty"], additionalProperties: false };
    const t2 = tool("fixed_tenant", { schema: agentSchema, fixed: { tenant: "acme" } });
    expect((await run(s, t2, { qty: 1, tenant: "acme" })).upstream).toBe(1);
    expect((await run(s, t2, { qty: "x", tenant: "acme" })).upstream).toBe(0);
  });

  test("validate_arguments: false, globally or per tool, lets any arguments through", async () => {
    expect((await run(setup({ validate_arguments: false }), t, { qty: "x" })).upstream).toBe(1);
    expect((await run(setup({}, { "orders/place_order": { validate_arguments: false } }), t, { qty: "x" })).upstream).toBe(1);
    expect((await run(setup({}, { "orders/other": { validate_arguments: false } }), t, { qty: "x" })).upstream).toBe(0);
  });

  test("a schema Ajv cannot compile is not enforced, and logged once", async () => {
    const s = setup();
    const bad = tool("odd", { schema: { type: "object", properties: { a: { $ref: "#/nowhere" } } } });
    expect((await run(s, bad, { a: 1 })).upstream).toBe(1);
    expect((await run(s, bad, { a: 2 })).upstream).toBe(1);
    expect(s.logs.filter((l) => l.msg === "a tool's inputSchema cannot be compiled: its arguments are not checked")).toHaveLength(1);
  });
});

describe("deny_arguments", () => {
  const rules = {
    deny_arguments: [
      { name: "sql", pattern: "(?i)\\b(drop|truncate)\\s+table\\b", message: "no DDL through tools" },
      { pattern: "\\.\\./", fields: ["path", "/options/include/0"] },
      { name: "prod", pattern: "^prod-", fields: ["/target"], tools: ["deploy_*"] },
    ],
  };
  const q = tool("query", { schema: { type: "object" } });
  const d = tool("deploy_app", { schema: { type: "object" } });
  const cases: [string, CatalogTool, JsonObject, string | undefined][] = [
    ["clean", q, { sql: "select 1", path: "a/b" }, undefined],
    ["any string at any depth", q, { batch: [{ stmt: { text: "DROP   TABLE users" } }] }, "deny_arguments:sql"],
    ["case-insensitive inline flag", q, { sql: "drop table x" }, "deny_arguments:sql"],
    ["word boundary respected", q, { sql: "backdrop tablet" }, undefined],
    ["named field", q, { path: "../../etc/passwd" }, "deny_arguments:1"],
    ["json pointer into an array", q, { options: { include: ["../secret"] } }, "deny_arguments:1"],
    ["field not named is not checked", q, { other: "../x", options: { include: ["ok", "../x"] } }, undefined],
    ["tool glob: applies", d, { target: "prod-eu" }, "deny_arguments:prod"],
    ["tool glob: other tools are not checked", q, { target: "prod-eu" }, undefined],
    ["numbers are not strings", q, { sql: 5 }, undefined],
  ];
  for (const [what, t, args, rule] of cases) {
    test(what, async () => {
      const s = setup(rules);
      const { out, upstream, notes } = await run(s, t, args);
      if (rule === undefined) {
        expect(upstream).toBe(1);
        return;
      }
      expect(upstream).toBe(0);
      expect(out.isError).toBe(true);
      expect(notes.guardrail).toBe(rule);
      expect(s.count({ tool: t.name, rule, action: "denied" })).toBe(1);
      expect(s.logs[0]).toMatchObject({ rule, tool: t.name });
      if (rule === "deny_arguments:sql") expect(textOf(out)).toBe("no DDL through tools");
      else expect(textOf(out)).toContain(rule);
    });
  }

  test("deny rules run before the schema check (the rule is what the agent reads)", async () => {
    const s = setup({ deny_arguments: [{ pattern: "evil" }] });
    const { out } = await run(s, tool("place_order"), { sku: "evil", qty: "x" });
    expect(out._meta?.[META_GUARDRAIL]).toBe("deny_arguments:0");
  });

  test("a hostile pattern over large arguments stays linear", async () => {
    const s = setup({ validate_arguments: false, deny_arguments: [{ pattern: "(a|aa)+$" }, { pattern: "(x+x+)+y" }] });
    const t0 = performance.now();
    const { upstream } = await run(s, q, { a: `${"a".repeat(20_000)}!`, b: "x".repeat(20_000) });
    expect(upstream).toBe(1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("results: redaction", () => {
  const t = tool("lookup", { schema: { type: "object" } });
  const KEY = "AKIAZ7Q2EXAMPLE4KEY9";

  test("text, embedded resources and structuredContent are redacted and counted; notes carry the count", async () => {
    const s = setup();
    const result: CallToolResult = {
      content: [
        { type: "text", text: `id ${KEY}` },
        { type: "resource", resource: { uri: "file:///a", text: `password=hunter2` } },
        { type: "image", data: "aGVsbG8=", mimeType: "image/png" },
      ],
      structuredContent: { creds: { key: KEY, password: "x" } },
    };
    const { out, notes } = await run(s, t, {}, result);
    expect(out.content[0]).toEqual({ type: "text", text: "id [redacted]" });
    expect(out.content[1]).toEqual({ type: "resource", resource: { uri: "file:///a", text: "password=[redacted]" } });
    expect(out.content[2]).toBe(result.content[2] as JsonObject);
    expect(out.structuredContent).toEqual({ creds: { key: "[redacted]", password: "[redacted]" } });
    expect(notes.redactions).toBe(4);
    expect(s.count({ tool: "lookup", rule: "redact", action: "redacted" })).toBe(4);
    expect((result.content[0] as { text: string }).text).toBe(`id ${KEY}`); // the source's object is not changed
  });

  test("a clean result is passed on as the same object", async () => {
    const s = setup();
    const result: CallToolResult = { content: [{ type: "text", text: "fine" }] };
    expect((await run(s, t, {}, result)).out).toBe(result);
    expect(s.count({})).toBe(0);
  });

  test("tool errors are redacted too", async () => {
    const { out } = await run(setup(), t, {}, { content: [{ type: "text", text: `failed with ${KEY}` }], isError: true });
    expect(textOf(out)).toBe("failed with [redacted]");
  });

  test("redact: false per tool opts out; defaults: false keeps only the operator's patterns", async () => {
    const r: CallToolResult = { content: [{ type: "text", text: `${KEY} EMP-123456` }] };
    expect(textOf((await run(setup({}, { "orders/lookup": { redact: false } }), t, {}, r)).out)).toBe(`${KEY} EMP-123456`);
    expect(textOf((await run(setup({ redact: { defaults: false, patterns: ["EMP-[0-9]{6}"], replacement: "***" } }), t, {}, r)).out)).toBe(`${KEY} ***`);
  });
});

describe("results: size cap", () => {
  const t = tool("dump", { schema: { type: "object" } });
  const big = (n: number) => "x".repeat(n);

  test("truncate: text cut with the marker, within the cap", async () => {
    const s = setup({ max_result_bytes: "2KiB" });
    const { out, notes } = await run(s, t, {}, { content: [{ type: "text", text: big(5000) }] });
    const text = textOf(out);
    expect(text).toEndWith(`\n[… truncated by Ficus: ${5000 - 2048} bytes over max_result_bytes]`);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
    expect(text.startsWith("xxxx")).toBe(true);
    expect(notes.truncated).toBe(5000 - 2048);
    expect(s.count({ tool: "dump", rule: "size", action: "truncated" })).toBe(1);
  });

  test("a result within the cap is untouched", async () => {
    const r: CallToolResult = { content: [{ type: "text", text: big(2000) }] };
    expect((await run(setup({ max_result_bytes: "2KiB" }), t, {}, r)).out).toBe(r);
  });

  test("bytes, not characters: multi-byte text is cut on a character boundary", () => {
    const s = "é".repeat(10) + "😀".repeat(10);
    expect(cutUtf8(s, 21)).toBe("é".repeat(10));
    expect(cutUtf8(s, 23)).toBe("é".repeat(10));
    expect(cutUtf8(s, 24)).toBe(`${"é".repeat(10)}😀`);
    const r: CallToolResult = { content: [{ type: "text", text: "é".repeat(600) }] };
    expect(measure(r, 1024)?.total).toBe(1200);
  });

  test("structuredContent that no longer fits is dropped, and said", async () => {
    const s = setup({ max_result_bytes: "1KiB" });
    const { out } = await run(s, t, {}, { content: [{ type: "text", text: big(700) }], structuredContent: { rows: big(700) } });
    expect(out.structuredContent).toBeUndefined();
    // Nothing was cut: the marker is a text item of its own, after the content kept.
    expect(out.content).toEqual([{ type: "text", text: big(700) }, { type: "text", text: marker(700 + 711 - 1024, 0, true) }]);
    expect(out.isError).toBeUndefined();
  });

  test("a tool with an outputSchema keeps its structuredContent first, and text is cut around it", async () => {
    const s = setup({ max_result_bytes: "1KiB" });
    const t2 = tool("report", { schema: { type: "object" }, outputSchema: { type: "object" } });
    const sc = { rows: big(500) };
    const { out } = await run(s, t2, {}, { content: [{ type: "text", text: big(3000) }], structuredContent: sc });
    expect(out.structuredContent).toBe(sc);
    expect(textOf(out)).toContain("[… truncated by Ficus:");
    expect(JSON.stringify(out).length).toBeLessThan(1024 + 200);
  });

  test("a tool with an outputSchema whose structuredContent cannot fit becomes a tool error", async () => {
    const s = setup({ max_result_bytes: "1KiB" });
    const t2 = tool("report", { schema: { type: "object" }, outputSchema: { type: "object" } });
    const { out } = await run(s, t2, {}, { content: [{ type: "text", text: "see structured" }], structuredContent: { rows: big(3000) } });
    expect(out.isError).toBe(true);
    expect(out.structuredContent).toBeUndefined();
    expect(out.content).toEqual([{ type: "text", text: "see structured" }, { type: "text", text: marker(14 + 3011 - 1024, 0, true) }]);
    expect(s.count({ rule: "size", action: "error" })).toBe(1);
  });

  test("items that do not fit are dropped and counted in the marker; later text still fits", () => {
    const r: CallToolResult = { content: [{ type: "image", data: big(4000), mimeType: "image/png" }, { type: "text", text: "caption" }] };
    const m = measure(r, 1024);
    expect(m?.total).toBe(4007);
    const { result } = truncate(r, m as NonNullable<typeof m>, 1024, false);
    expect(result.content).toEqual([{ type: "text", text: "caption" }, { type: "text", text: marker(4007 - 1024, 1, false) }]);
  });

  test("on_oversize: error replaces the result with a tool error naming the sizes (per tool too)", async () => {
    const s = setup({}, { "orders/dump": { max_result_bytes: 1024, on_oversize: "error" } });
    const { out, notes } = await run(s, t, {}, { content: [{ type: "text", text: big(2000) }] });
    expect(out.isError).toBe(true);
    expect(textOf(out)).toBe("the result of dump is 2000 bytes, over max_result_bytes (1024); it was not passed on");
    expect(out._meta?.[META_GUARDRAIL]).toBe("size");
    expect(notes.guardrail).toBe("size");
    expect(s.count({ tool: "dump", rule: "size", action: "error" })).toBe(1);
  });

  test("redaction runs before the cut: a secret straddling the cut is never half passed on", async () => {
    const s = setup({ max_result_bytes: "1KiB" });
    const pem = `-----BEGIN PRIVATE KEY-----\n${"A".repeat(3000)}\n-----END PRIVATE KEY-----`;
    const { out } = await run(s, t, {}, { content: [{ type: "text", text: `${big(800)}${pem}` }] });
    expect(JSON.stringify(out)).not.toContain("AAAA");
    expect(out.content).toEqual([{ type: "text", text: `${big(800)}[redacted]` }, { type: "text", text: marker(800 + pem.length - 1024, 0, false) }]);
    // Cut in the middle of a key block: what is left of the key is still redacted (a key block runs to the end of a cut text).
    const cut = await run(setup({ max_result_bytes: "1KiB" }), t, {}, { content: [{ type: "text", text: `${big(100)}${pem}`.slice(0, 2000) }] });
    expect(JSON.stringify(cut.out)).not.toContain("AAAA");
  });

  test("a huge text is cut before redaction (bounded work), and the marker states the bytes as received", async () => {
    const s = setup({ max_result_bytes: "1KiB" });
    const n = 8 * 1024 * 1024;
    const t0 = performance.now();
    const { out } = await run(s, t, {}, { content: [{ type: "text", text: `password=${"p".repeat(n)}` }] });
    expect(performance.now() - t0).toBeLessThan(1000);
    // What is left after redaction fits, but text was dropped before it: the marker still says so.
    expect(out.content).toEqual([{ type: "text", text: "password=[redacted]" }, { type: "text", text: marker(n + 9 - 1024, 0, false) }]);
  });

  test("results without content (a 2026-07-28 input_required) pass", async () => {
    const r = { resultType: "input_required", inputRequests: {} } as unknown as CallToolResult;
    expect((await run(setup(), t, {}, r)).out).toBe(r);
  });
});

describe("never throws", () => {
  test("odd content items (null, unknown types, a resource link) are measured and passed on", async () => {
    const s = setup({ max_result_bytes: "1KiB" });
    const r = { content: [null, { type: "resource_link", uri: "file:///x", name: "x" }, { type: "text", text: "x".repeat(2000) }] } as unknown as CallToolResult;
    const { out } = await run(s, tool("odd", { schema: { type: "object" } }), {}, r);
    expect(out.content[0]).toBeNull();
    expect((out.content[2] as { text: string }).text).toContain("[… truncated by Ficus:");
  });

  test("should a check fail, the call is refused with a tool error and logged", async () => {
    const s = setup({ deny_arguments: [{ pattern: "x" }] });
    const hostile: JsonObject = {};
    Object.defineProperty(hostile, "sql", { enumerable: true, get() { throw new Error("boom"); } });
    const { out, upstream } = await run(s, tool("q", { schema: { type: "object" } }), hostile);
    expect(upstream).toBe(0);
    expect(out._meta?.[META_GUARDRAIL]).toBe("failed");
    expect(s.logs.some((l) => l.msg === "the MCP guardrails failed; the call is refused" && l.error === "boom")).toBe(true);
  });
});
