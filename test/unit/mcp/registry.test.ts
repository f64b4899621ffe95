/** The registry: sources merged under public names, curation, clashes, endpoint views, prompts and resources. */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../../src/observability/logger.ts";
import { Curation, withFixed, withoutArguments } from "../../../src/mcp/registry/curation.ts";
import { EndpointView, type RegisteredSource, Registry } from "../../../src/mcp/registry/registry.ts";
import type { CallToolResult, ListKind, PromptDefinition, ResourceDefinition, ToolDefinition, ToolSource } from "../../../src/mcp/types.ts";

const logger = createLogger("error", {});

class FakeSource implements ToolSource {
  onListChanged: ((what: ListKind) => void) | undefined;
  constructor(
    readonly name: string,
    public list: ToolDefinition[],
    readonly promptList: PromptDefinition[] = [],
    readonly resourceList: ResourceDefinition[] = [],
    readonly kind: "mcp" | "http" = "mcp",
  ) {}
  async start(): Promise<void> {}
  tools(): readonly ToolDefinition[] {
    return this.list;
  }
  prompts(): readonly PromptDefinition[] {
    return this.promptList;
  }
  resources(): readonly ResourceDefinition[] {
    return this.resourceList;
  }
  async call(): Promise<CallToolResult> {
    return { content: [] };
  }
  status() {
    return { state: "up" as const };
  }
  async close(): Promise<void> {}
}

const tool = (name: string, props: Record<string, unknown> = {}, required: string[] = []): ToolDefinition => ({ name, description: `does ${name}`, inputSchema: { type: "object", properties: props, required } });

function entry(source: ToolSource, cur: ConstructorParameters<typeof Curation>[0]): RegisteredSource {
  return { source, curation: new Curation(cur), timeout: 1000 };
}

describe("curation", () => {
  test.each([
    ["no prefix", { prefix: "" }, ["a", "b_c"], ["a", "b_c"]],
    ["a prefix", { prefix: "gh" }, ["a", "b_c"], ["gh__a", "gh__b_c"]],
    ["allow globs", { prefix: "", allow: ["a*"] }, ["a", "ab", "b"], ["a", "ab"]],
    ["deny globs", { prefix: "", deny: ["*_delete", "drop?"] }, ["x_delete", "drop1", "drop12", "keep"], ["drop12", "keep"]],
    ["allow then deny", { prefix: "", allow: ["get_*"], deny: ["get_secret"] }, ["get_a", "get_secret", "put_a"], ["get_a"]],
    ["rename (no prefix on a renamed tool)", { prefix: "gh", rename: { search_code: "code_search" } }, ["search_code", "x"], ["code_search", "gh__x"]],
  ] as const)("%s", (_n, cfg, names, want) => {
    const c = new Curation(cfg);
    expect(c.apply(names.map((n) => tool(n))).map((t) => t.name)).toEqual([...want]);
  });

  test("a description override replaces the source's; the source's own name is kept for calls", () => {
    const [t] = new Curation({ prefix: "s", descriptions: { a: "Use for X only" } }).apply([tool("a")]);
    expect(t?.definition.description).toBe("Use for X only");
    expect(t?.upstreamName).toBe("a");
    expect(t?.name).toBe("s__a");
  });

  test("fixed arguments are hidden from the schema and injected over what the agent sent", () => {
    const [t] = new Curation({ prefix: "", fixed_arguments: { a: { tenant: "acme" } } }).apply([tool("a", { q: { type: "string" }, tenant: { type: "string" } }, ["q", "tenant"])]);
    expect(Object.keys(t?.definition.inputSchema.properties as object)).toEqual(["q"]);
    expect(t?.definition.inputSchema.required).toEqual(["q"]);
    expect(withFixed({ q: "x", tenant: "evil" }, t?.fixed)).toEqual({ q: "x", tenant: "acme" });
    expect(withoutArguments({ type: "object" }, ["x"])).toEqual({ type: "object" });
  });
});

describe("the registry", () => {
  test("merges sources; the first source keeps a clashing public name", () => {
    const a = new FakeSource("a", [tool("x"), tool("y")]);
    const b = new FakeSource("b", [tool("x"), tool("z")]);
    const r = new Registry([entry(a, { prefix: "" }), entry(b, { prefix: "" })], logger);
    const c = r.current;
    expect(c.tools.map((t) => `${t.entry.source.name}:${t.name}`)).toEqual(["a:x", "a:y", "b:z"]);
    expect(c.toolsByName.get("x")?.entry.source.name).toBe("a");
  });

  test("a source's list change rebuilds the catalog and tells subscribers", () => {
    const a = new FakeSource("a", [tool("x")]);
    const r = new Registry([entry(a, { prefix: "a" })], logger);
    const heard: string[] = [];
    r.subscribe((k) => heard.push(k));
    const v = r.current.version;
    a.list = [tool("x"), tool("new")];
    a.onListChanged?.("tools");
    expect(heard).toEqual(["tools"]);
    expect(r.current.version).toBeGreaterThan(v);
    expect(r.current.tools.map((t) => t.name)).toEqual(["a__x", "a__new"]);
  });

  test("prompts take the prefix; resources keep their URIs (the first source listing one serves it)", () => {
    const a = new FakeSource("a", [], [{ name: "greet" }], [{ uri: "file:///x", name: "x" }]);
    const b = new FakeSource("b", [], [{ name: "greet" }], [{ uri: "file:///x", name: "x2" }, { uri: "file:///y", name: "y" }]);
    const r = new Registry([entry(a, { prefix: "a" }), entry(b, { prefix: "b" })], logger);
    expect(r.current.prompts.map((p) => p.name)).toEqual(["a__greet", "b__greet"]);
    expect(r.current.promptsByName.get("b__greet")?.upstreamName).toBe("greet");
    expect(r.current.resources.map((x) => `${x.entry.source.name}:${x.definition.uri}`)).toEqual(["a:file:///x", "b:file:///y"]);
  });
});

describe("endpoint views", () => {
  const a = new FakeSource("a", [tool("get_order"), tool("delete_order")]);
  const b = new FakeSource("b", [tool("search")]);
  const r = new Registry([entry(a, { prefix: "a" }), entry(b, { prefix: "b" })], logger);

  test.each([
    ["everything", { tools: ["*"], max_tools: 100 }, ["a__get_order", "a__delete_order", "b__search"]],
    ["globs over public names", { tools: ["a__get_*", "b__*"], max_tools: 100 }, ["a__get_order", "b__search"]],
    ["a subset of sources", { sources: ["b"], tools: ["*"], max_tools: 100 }, ["b__search"]],
    ["a cap on the count", { tools: ["*"], max_tools: 2 }, ["a__get_order", "a__delete_order"]],
  ] as const)("%s", (_n, cfg, want) => {
    const v = new EndpointView(r, { ...cfg, tools: [...cfg.tools], sources: "sources" in cfg ? [...cfg.sources] : undefined });
    expect(v.toolDefinitions().map((t) => t.name)).toEqual([...want]);
    for (const name of ["a__get_order", "a__delete_order", "b__search"]) expect(v.tool(name) !== undefined).toBe((want as readonly string[]).includes(name));
  });

  test("a capped view says so once per catalog version", () => {
    const v = new EndpointView(r, { tools: ["*"], max_tools: 1 });
    const capped: number[] = [];
    v.onCapped = (listed, total) => capped.push(listed, total);
    v.toolDefinitions();
    v.toolDefinitions();
    expect(capped).toEqual([1, 3]);
  });
});
