/** Per-tool policy: decisions (allow, deny, message, rewrite, error, dry run), the input document, list filtering and its cache. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Identity } from "../../../../src/auth/identity.ts";
import { type Caller, type GuardedCall, guarded } from "../../../../src/mcp/governance/guard.ts";
import { compileEndpointPolicy, PolicyGuard } from "../../../../src/mcp/governance/policy/index.ts";
import { mcpPolicySchema } from "../../../../src/mcp/governance/policy/schema.ts";
import { definitionHash } from "../../../../src/mcp/pinning/hash.ts";
import type { CatalogTool } from "../../../../src/mcp/registry/registry.ts";
import type { CallToolResult, JsonObject, ToolDefinition } from "../../../../src/mcp/types.ts";
import { tempDir } from "../../../helpers/processes.ts";

const POLICY = `package mcp
import rego.v1

default decision := false

decision := true if input.tool.name == "open"

decision := {"allow": false, "message": "ask an admin for delete"} if input.tool.name == "delete"

decision := {"allow": true, "arguments": {"tenant_id": input.identity.claims.tenant}} if input.tool.name == "orders"

decision := true if {
  input.tool.name == "admin"
  "admin" in input.identity.roles
}

decision := 42 if input.tool.name == "badshape"

decision := x if {
  input.tool.name == "conflict"
  some x in [true, false]
}

decision := true if {
  input.tool.name == "readonly"
  input.tool.annotations.readOnlyHint == true
  input.tool.source == "shop"
  input.tool.upstream_name == "ro_upstream"
}

decision := true if {
  input.tool.name == "listonly"
  input.action == "list"
}

decision := true if {
  input.tool.name == "small"
  input.action == "list"
}

decision := true if {
  input.tool.name == "small"
  input.arguments.n < 10
}

decision := true if {
  input.tool.name == "pinned"
  input.tool.hash == data.pinned_hash
}

decision := true if {
  input.tool.name == "loop"
  count([x | some x in numbers.range(1, 1000000)]) > 0
}
`;

function tool(name: string, extra: Partial<ToolDefinition> = {}, upstreamName = name): CatalogTool {
  const definition: ToolDefinition = { name, inputSchema: { type: "object" }, ...extra };
  return { name, upstreamName, definition, fixed: undefined, entry: { source: { name: "shop" } as CatalogTool["entry"]["source"], curation: {} as CatalogTool["entry"]["curation"], timeout: 0 } };
}

const alice: Identity = { method: "jwt", subject: "alice", issuer: "https://idp", scopes: ["tools"], roles: ["user"], claims: { sub: "alice", tenant: "t-alice", exp: 1 } };
const admin: Identity = { method: "api_key", subject: "root", issuer: "", scopes: [], roles: ["admin"], claims: {} };

function caller(identity: Identity | undefined): Caller {
  return { identity, subject: identity?.subject ?? "", address: "127.0.0.1", endpoint: "mcp", era: "modern" };
}

function call(t: CatalogTool, args: JsonObject, identity: Identity | undefined = alice): GuardedCall {
  return { caller: caller(identity), tool: t, args, requestId: "req-1", traceId: undefined, started: 0, retry: false, notes: {} };
}

const pinnedTool = tool("pinned", { description: "v1" });

function guard(opts: { dry_run?: boolean; on_error?: "deny" | "allow"; version?: { v: number } } = {}): PolicyGuard {
  const dir = tempDir("ficus-policy-");
  writeFileSync(join(dir, "tools.rego"), POLICY);
  writeFileSync(join(dir, "data.json"), JSON.stringify({ pinned_hash: definitionHash(pinnedTool.definition) }));
  const cfg = mcpPolicySchema.parse({ module: "tools.rego", data: "data.json", dry_run: opts.dry_run ?? false, on_error: opts.on_error ?? "deny", budget: { steps: 10_000 } });
  const version = opts.version ?? { v: 1 };
  return new PolicyGuard(compileEndpointPolicy("mcp", cfg, dir), { registry: { get current() { return { version: version.v } as never; } }, metrics: undefined, log: undefined, logger: undefined });
}

const text = (r: CallToolResult | undefined): string => (r?.content ?? []).map((c) => String(c.text ?? "")).join("");

describe("call decisions", () => {
  const g = guard();
  const cases: { name: string; t: CatalogTool; args?: JsonObject; who?: Identity; denied?: string; decision: string; args_after?: JsonObject }[] = [
    { name: "true allows", t: tool("open"), decision: "allow" },
    { name: "default false denies, naming the tool", t: tool("closed"), denied: "the policy denies calling closed", decision: "deny" },
    { name: "an object denial carries its message", t: tool("delete"), denied: "ask an admin for delete", decision: "deny" },
    { name: "a rewrite is merged over the arguments", t: tool("orders"), args: { item: "pen", tenant_id: "t-evil" }, decision: "allow", args_after: { item: "pen", tenant_id: "t-alice" } },
    { name: "roles are in input.identity", t: tool("admin"), who: admin, decision: "allow" },
    { name: "a caller without the role is denied", t: tool("admin"), denied: "the policy denies calling admin", decision: "deny" },
    { name: "a decision of the wrong shape is an error and denies", t: tool("badshape"), denied: "the policy of this endpoint failed; calling badshape is denied", decision: "error" },
    { name: "a conflict is an error and denies", t: tool("conflict"), denied: "the policy of this endpoint failed; calling conflict is denied", decision: "error" },
    { name: "a budget stop is an error and denies", t: tool("loop"), denied: "the policy of this endpoint failed; calling loop is denied", decision: "error" },
    { name: "annotations, source and upstream name are in input.tool", t: tool("readonly", { annotations: { readOnlyHint: true } }, "ro_upstream"), decision: "allow" },
    { name: "arguments are in input.arguments", t: tool("small"), args: { n: 3 }, decision: "allow" },
    { name: "arguments decide", t: tool("small"), args: { n: 30 }, denied: "the policy denies calling small", decision: "deny" },
    { name: "a list-only rule does not allow a call", t: tool("listonly"), denied: "the policy denies calling listonly", decision: "deny" },
    { name: "the definition hash is in input.tool", t: pinnedTool, decision: "allow" },
    { name: "a changed definition has another hash", t: tool("pinned", { description: "v2" }), denied: "the policy denies calling pinned", decision: "deny" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const k = call(c.t, c.args ?? {}, c.who ?? alice);
      const r = g.before(k);
      expect(k.notes.decision).toBe(c.decision);
      if (c.denied !== undefined) {
        expect(r?.isError).toBe(true);
        expect(text(r)).toBe(c.denied);
      } else expect(r).toBeUndefined();
      if (c.args_after !== undefined) expect(k.args).toEqual(c.args_after);
    });
  }

  test("a denial never reaches the source, and a rewrite is what the source gets", async () => {
    let sent: JsonObject | undefined;
    const run = async (a: JsonObject): Promise<CallToolResult> => {
      sent = a;
      return { content: [{ type: "text", text: "ok" }] };
    };
    const denied = await guarded([g], call(tool("delete"), {}), run);
    expect(denied.isError).toBe(true);
    expect(sent).toBeUndefined();
    await guarded([g], call(tool("orders"), { tenant_id: "x" }), run);
    expect(sent).toEqual({ tenant_id: "t-alice" });
  });

  test("arguments Rego cannot hold are a policy error, not a crash", () => {
    const k = call(tool("small"), { n: Number.NaN } as JsonObject);
    expect(g.before(k)?.isError).toBe(true);
    expect(k.notes.decision).toBe("error");
  });
});

describe("dry run and on_error", () => {
  test("dry run never denies nor rewrites, and notes what it would have done", () => {
    const g = guard({ dry_run: true });
    const denied = call(tool("delete"), {});
    expect(g.before(denied)).toBeUndefined();
    expect(denied.notes.decision).toBe("dry-run-deny");
    const rewritten = call(tool("orders"), { tenant_id: "t-evil" });
    expect(g.before(rewritten)).toBeUndefined();
    expect(rewritten.args).toEqual({ tenant_id: "t-evil" });
    const failed = call(tool("badshape"), {});
    expect(g.before(failed)).toBeUndefined();
    expect(failed.notes.decision).toBe("error");
    expect(g.listTools(caller(alice), [tool("delete"), tool("open")]).map((t) => t.name)).toEqual(["delete", "open"]);
  });

  test("on_error: allow lets a failing policy's call through; a denial still denies", () => {
    const g = guard({ on_error: "allow" });
    const failed = call(tool("badshape"), {});
    expect(g.before(failed)).toBeUndefined();
    expect(failed.notes.decision).toBe("error");
    expect(g.before(call(tool("closed"), {}))?.isError).toBe(true);
    expect(g.listTools(caller(alice), [tool("badshape"), tool("closed")]).map((t) => t.name)).toEqual(["badshape"]);
  });
});

describe("list filtering", () => {
  const tools = [tool("open"), tool("closed"), tool("delete"), tool("admin"), tool("listonly"), tool("small"), tool("badshape")];

  test("a caller is shown only what the policy allows with action list", () => {
    const g = guard();
    expect(g.listTools(caller(alice), tools).map((t) => t.name)).toEqual(["open", "listonly", "small"]);
    expect(g.listTools(caller(admin), tools).map((t) => t.name)).toEqual(["open", "admin", "listonly", "small"]);
    expect(g.listTools(caller(undefined), tools).map((t) => t.name)).toEqual(["open", "listonly", "small"]);
  });

  test("cached per caller and catalog version: the same array until the catalog or the caller's grants change", () => {
    const version = { v: 1 };
    const g = guard({ version });
    const first = g.listTools(caller(alice), tools);
    // Another token of the same caller (a new exp) shares the entry.
    expect(g.listTools(caller({ ...alice, claims: { ...alice.claims, exp: 2 } }), tools)).toBe(first);
    // New roles: decided again.
    const promoted = g.listTools(caller({ ...alice, roles: ["admin"] }), tools);
    expect(promoted).not.toBe(first);
    expect(promoted.map((t) => t.name)).toContain("admin");
    version.v = 2;
    const again = g.listTools(caller(alice), tools);
    expect(again).not.toBe(first);
    expect(again.map((t) => t.name)).toEqual(first.map((t) => t.name));
  });
});

describe("config", () => {
  test("module or modules, exactly one; query defaults to data.mcp.decision", () => {
    expect(mcpPolicySchema.parse({ module: "a.rego" }).query).toBe("data.mcp.decision");
    expect(mcpPolicySchema.safeParse({}).success).toBe(false);
    expect(mcpPolicySchema.safeParse({ module: "a.rego", modules: ["b.rego"] }).success).toBe(false);
    expect(mcpPolicySchema.safeParse({ modules: ["a.rego", "b.rego"] }).success).toBe(true);
  });

  test("a policy that does not compile names the endpoint's mcp.policy", () => {
    const dir = tempDir("ficus-policy-");
    writeFileSync(join(dir, "bad.rego"), "package mcp\ndecision := {\n");
    expect(() => compileEndpointPolicy("agents", mcpPolicySchema.parse({ module: "bad.rego" }), dir)).toThrow(/routes\[agents\]\.mcp\.policy/);
    expect(() => compileEndpointPolicy("agents", mcpPolicySchema.parse({ module: "missing.rego" }), dir)).toThrow(/no such file/);
  });
});
