/**
 * Kubernetes-style tool documents (src/mcp/k8s/): ToolSet and Tool documents
 * read from mcp.tool_directories join mcp.sources at load; every problem
 * names its file, line and document; clashes are errors; the config source
 * watches the folders (a ConfigMap's `..data` symlink swap included).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig, redactConfig } from "../../../../src/config/load.ts";
import { ConfigSource } from "../../../../src/config/source.ts";
import { ConfigError } from "../../../../src/core/errors.ts";
import { parseFile } from "../../../../src/mcp/k8s/documents.ts";
import { tempDir } from "../../../helpers/processes.ts";

const HEAD = "mode: edge-mcp\nlisten: 127.0.0.1:0\n";

function setup(files: Record<string, string>, config = `${HEAD}mcp:\n  tool_directories: [tools]\n`): string {
  const dir = tempDir("ficus-k8s-");
  mkdirSync(join(dir, "tools"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "tools", name), text);
  const path = join(dir, "ficus.yaml");
  writeFileSync(path, config);
  return path;
}

function load(path: string, env: Record<string, string> = {}) {
  return parseConfig(readFileSync(path, "utf8"), path, env);
}

function problems(path: string, env: Record<string, string> = {}): { code: string; issues: readonly string[] } {
  try {
    load(path, env);
  } catch (err) {
    if (err instanceof ConfigError) return { code: err.code, issues: err.issues };
    throw err;
  }
  throw new Error("the config loaded; expected problems");
}

const TOOLSET = `apiVersion: gostoa.dev/v1alpha1
kind: ToolSet
metadata:
  name: orders
  namespace: shop
  labels: { team: orders }
spec:
  upstream: http://127.0.0.1:9
  tools:
    - name: get_order
      input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
      call: { path: "/orders/{id}" }
`;

const TOOL = `apiVersion: gostoa.dev/v1alpha1
kind: Tool
metadata:
  name: cancel-order
spec:
  toolSet: orders
  name: cancel_order
  annotations: { destructiveHint: true }
  call: { method: delete, path: "/orders/{id}" }
  input_schema: { type: object, properties: { id: { type: string } } }
`;

describe("documents join mcp.sources", () => {
  test("a ToolSet and a Tool in one file (two documents): the source has both tools, and the documents are recorded", () => {
    const loaded = load(setup({ "orders.yaml": `${TOOLSET}---\n${TOOL}` }));
    const src = loaded.config.mcp.sources.orders;
    expect(src?.upstream).toBe("http://127.0.0.1:9");
    expect(src?.tools?.map((t) => t.name)).toEqual(["get_order", "cancel_order"]);
    // Validated by the same schema as the config: defaults applied, the method upper-cased.
    expect(src?.tools?.[1]?.call.method).toBe("DELETE");
    expect(src?.tools?.[0]?.call.method).toBe("GET");
    expect(loaded.toolDocuments).toEqual([
      { kind: "ToolSet", name: "orders", namespace: "shop", source: "orders", file: "tools/orders.yaml", document: 1 },
      { kind: "Tool", name: "cancel-order", source: "orders", file: "tools/orders.yaml", document: 2 },
    ]);
    expect(loaded.toolFolders?.[0]?.endsWith("/tools")).toBe(true);
  });

  test("a Tool joins a source declared in the config, and its name defaults to metadata.name", () => {
    const config = `${HEAD}mcp:\n  tool_directories: [tools]\n  sources:\n    shop:\n      tools:\n        - { name: ping, call: { path: /ping } }\nroutes:\n  - { name: ping, match: { path: /ping }, upstream: "http://127.0.0.1:9" }\n`;
    const doc = "apiVersion: gostoa.dev/v1alpha1\nkind: Tool\nmetadata: { name: pong }\nspec: { toolSet: shop, call: { path: /pong } }\n";
    const loaded = load(setup({ "pong.yml": doc }, config));
    expect(loaded.config.mcp.sources.shop?.tools?.map((t) => t.name)).toEqual(["ping", "pong"]);
  });

  test("a ToolSet of only Tool documents, a route naming it, files read in name order, hidden and non-YAML files skipped", () => {
    const config = `${HEAD}mcp:\n  tool_directories: [tools]\nroutes:\n  - { name: mcp, match: { path: /mcp }, mcp: { sources: [empty] } }\n`;
    const path = setup({
      "b.yaml": "apiVersion: gostoa.dev/v1alpha1\nkind: Tool\nmetadata: { name: two }\nspec: { toolSet: empty, call: { path: /two } }\n",
      "a.yaml": "apiVersion: gostoa.dev/v1alpha1\nkind: ToolSet\nmetadata: { name: empty }\nspec: { upstream: 'http://127.0.0.1:9' }\n---\n# a document of comments declares nothing\n---\napiVersion: gostoa.dev/v1alpha1\nkind: Tool\nmetadata: { name: one }\nspec: { toolSet: empty, call: { path: /one } }\n",
      ".hidden.yaml": "not: [valid",
      "README.md": "not YAML",
    }, config);
    const loaded = load(path);
    expect(loaded.config.mcp.sources.empty?.tools?.map((t) => t.name)).toEqual(["one", "two"]);
    expect(loaded.config.routes[0]?.mcp?.sources).toEqual(["empty"]);
  });

  test("${ENV} in a document is interpolated, its path redacted in the effective config", () => {
    const doc = TOOLSET.replace('call: { path: "/orders/{id}" }', 'call: { path: "/orders/{id}", fixed_headers: { Authorization: "Bearer ${ORDERS_TOKEN}" } }');
    const loaded = load(setup({ "orders.yaml": doc }), { ORDERS_TOKEN: "s3cr3t-token" });
    expect(loaded.config.mcp.sources.orders?.tools?.[0]?.call.fixed_headers?.Authorization).toBe("Bearer s3cr3t-token");
    expect(loaded.secretPaths.has("mcp.sources.orders.tools[0].call.fixed_headers.Authorization")).toBe(true);
    expect(JSON.stringify(redactConfig(loaded))).not.toContain("s3cr3t-token");
  });

  test("a relative openapi file of a ToolSet is relative to the document's folder", () => {
    const doc = "apiVersion: gostoa.dev/v1alpha1\nkind: ToolSet\nmetadata: { name: api }\nspec: { openapi: api.json, upstream: 'http://127.0.0.1:9' }\n";
    const path = setup({ "api.yaml": doc });
    expect(load(path).config.mcp.sources.api?.openapi).toBe(join(path, "../tools/api.json"));
  });

  test("without tool_directories nothing is read and nothing is recorded", () => {
    const loaded = parseConfig(`${HEAD}mcp: {}\n`, "/nowhere/ficus.yaml", {});
    expect(loaded.toolDocuments).toBeUndefined();
    expect(loaded.config.mcp.tool_directories).toEqual([]);
  });
});

describe("problems name the file, the line and the document", () => {
  test.each([
    ["another kind", "apiVersion: gostoa.dev/v1alpha1\nkind: ConfigMap\nmetadata: { name: x }\n", 'kind: expected one of "ToolSet", "Tool", got string "ConfigMap" (tools/x.yaml:7, document 2)'],
    ["another apiVersion", "apiVersion: v1\nkind: ToolSet\nmetadata: { name: x }\nspec: {}\n", 'apiVersion: expected "gostoa.dev/v1alpha1", got string "v1" (tools/x.yaml:6, document 2)'],
    ["a bad call path", TOOLSET.replace('"/orders/{id}"', "orders"), 'spec.tools[0].call.path: expected a string starting with "/", got string "orders" (tools/x.yaml:17, document 2)'],
    ["an unknown key, with a hint", TOOLSET.replace("  upstream:", "  upstrem:"), 'spec.upstrem: unknown key "upstrem"; did you mean "upstream"? (tools/x.yaml:13, document 2)'],
    ["a Tool's unknown key, at its line", TOOL.replace("  annotations:", "  anotations:"), 'spec.anotations: unknown key "anotations"; did you mean "annotations"? (tools/x.yaml:13, document 2)'],
    ["a Tool without toolSet", TOOL.replace("  toolSet: orders\n", ""), "spec.toolSet: is required (the name of the ToolSet, or of a source in mcp.sources, this tool joins) (tools/x.yaml:11, document 2)"],
    ["a ToolSet named against the source-name rule", TOOLSET.replace("name: orders", "name: orders.v2"), 'metadata.name: a source name is 1 to 32 of A-Z a-z 0-9 _ - (it becomes a tool-name prefix), got string "orders.v2" (tools/x.yaml:9, document 2)'],
    ["a namespace that is not a label", TOOLSET.replace("namespace: shop", "namespace: Shop_1"), "metadata.namespace: a namespace is an RFC 1123 label: 1 to 63 of a-z 0-9 -, starting and ending alphanumeric, got string \"Shop_1\" (tools/x.yaml:10, document 2)"],
    ["a missing environment variable", TOOLSET.replace("http://127.0.0.1:9", "${NOPE_UPSTREAM}"), "spec.upstream: environment variable NOPE_UPSTREAM is not set (tools/x.yaml:13, document 2)"],
  ])("%s", (_what, second, expected) => {
    // The first document is valid: the index and line are those of the second.
    const first = "apiVersion: gostoa.dev/v1alpha1\nkind: ToolSet\nmetadata: { name: first }\nspec: { url: 'http://127.0.0.1:9/mcp' }\n";
    const r = problems(setup({ "x.yaml": `${first}---\n${second}` }));
    expect(r.code).toBe("FICUS_CONFIG_INVALID");
    expect(r.issues).toContain(expected);
  });

  test("YAML that does not parse is FICUS_CONFIG_PARSE, naming the file and line; every file's problems are listed", () => {
    const r = problems(setup({ "a.yaml": "apiVersion: gostoa.dev/v1alpha1\nkind: [ToolSet\n", "b.yaml": TOOLSET.replace("name: orders", "name: orders.v2") }));
    expect(r.code).toBe("FICUS_CONFIG_PARSE");
    expect(r.issues.some((m) => /\(tools\/a\.yaml:\d+, document 1\)$/.test(m))).toBe(true);
    expect(r.issues.some((m) => m.startsWith("metadata.name:") && m.endsWith("(tools/b.yaml:4, document 1)"))).toBe(true);
  });

  test("a folder that does not exist names the config field", () => {
    const path = setup({}, `${HEAD}mcp:\n  tool_directories: [tools, missing]\n`);
    const r = problems(path);
    expect(r.issues).toEqual([`mcp.tool_directories[1]: cannot read ${join(path, "../missing")}: no such folder (ficus.yaml)`]);
  });

  test("a ToolSet named like a config source is a clash, not an override", () => {
    const config = `${HEAD}mcp:\n  tool_directories: [tools]\n  sources:\n    orders: { url: "http://127.0.0.1:9/mcp" }\n`;
    const r = problems(setup({ "orders.yaml": TOOLSET }, config));
    expect(r.issues).toEqual([
      'metadata.name: ToolSet "orders" in namespace shop declares source "orders", which mcp.sources of ficus.yaml declares too; a source is declared in one place (tools/orders.yaml:4, document 1)',
    ]);
  });

  test("two ToolSets of one name, in two files: both places named", () => {
    const r = problems(setup({ "a.yaml": TOOLSET, "b.yaml": `# again\n${TOOLSET}` }));
    expect(r.issues).toEqual([
      'metadata.name: ToolSet "orders" in namespace shop declares source "orders", which ToolSet "orders" in namespace shop declares too (tools/a.yaml:4, document 1); a source is declared in one place (tools/b.yaml:5, document 1)',
    ]);
  });

  test("a Tool joining an unknown source, a source not of declared tools, or taking a tool name twice", () => {
    const config = `${HEAD}mcp:\n  tool_directories: [tools]\n  sources:\n    fed: { url: "http://127.0.0.1:9/mcp" }\n`;
    const r = problems(
      setup(
        {
          "orders.yaml": TOOLSET,
          "tools.yaml": [TOOL.replace("toolSet: orders", "toolSet: nowhere"), TOOL.replace("toolSet: orders", "toolSet: fed"), TOOL.replace("cancel_order", "get_order")].join("---\n"),
        },
        config,
      ),
    );
    expect(r.issues).toEqual([
      'spec.toolSet: no ToolSet or source named "nowhere"; known: fed, orders (tools/tools.yaml:6, document 1)',
      'spec.toolSet: source "fed" is a federated MCP server; a Tool joins a source of declared tools (tools:) (tools/tools.yaml:17, document 2)',
      'spec.name: tool "get_order" of source "orders" is declared twice: here and in the ToolSet (tools/orders.yaml:10, document 1) (tools/tools.yaml:29, document 3)',
    ]);
  });

  test("a secret from ${ENV} is not quoted in a message", () => {
    const doc = TOOLSET.replace("http://127.0.0.1:9", "${UP}");
    const r = problems(setup({ "x.yaml": doc }), { UP: "ftp://user:hunter22@x" });
    expect(r.issues.join("\n")).not.toContain("hunter22");
    expect(r.issues[0]).toStartWith("spec.upstream:");
  });

  test("parseFile alone: an empty file declares nothing", () => {
    expect(parseFile("", "x.yaml", "/tmp", {})).toEqual({ documents: [], problems: [], parseProblem: false });
    expect(parseFile("---\n# nothing\n", "x.yaml", "/tmp", {}).documents).toEqual([]);
  });
});

describe("the config source watches the folders", () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
  });

  async function until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error("timed out");
      await Bun.sleep(20);
    }
  }

  test("a document added to a folder is a change; a non-YAML file is not", async () => {
    const path = setup({ "orders.yaml": TOOLSET });
    const source = ConfigSource.file(path);
    source.load();
    let changes = 0;
    stops.push(source.watch(() => changes++, () => 50, 100));
    writeFileSync(join(path, "../tools/notes.txt"), "not a document");
    await Bun.sleep(400);
    expect(changes).toBe(0);
    writeFileSync(join(path, "../tools/cancel.yaml"), TOOL);
    await until(() => changes === 1);
    expect(source.load().config.mcp.sources.orders?.tools?.length).toBe(2);
  });

  test("a ConfigMap-style ..data symlink swap (as kubelet does it) is a change", async () => {
    const dir = tempDir("ficus-k8s-cm-");
    const mount = join(dir, "tools");
    mkdirSync(join(mount, "..2026_01_01_00_00_00.000000001"), { recursive: true });
    writeFileSync(join(mount, "..2026_01_01_00_00_00.000000001", "orders.yaml"), TOOLSET);
    symlinkSync("..2026_01_01_00_00_00.000000001", join(mount, "..data"));
    symlinkSync("..data/orders.yaml", join(mount, "orders.yaml"));
    const path = join(dir, "ficus.yaml");
    writeFileSync(path, `${HEAD}mcp:\n  tool_directories: [tools]\n`);
    const source = ConfigSource.file(path);
    expect(source.load().config.mcp.sources.orders?.tools?.length).toBe(1);
    let changes = 0;
    stops.push(source.watch(() => changes++, () => 50, 100));
    // kubelet: write the new timestamped folder, point ..data_tmp at it, rename it over ..data, remove the old folder.
    const next = "..2026_01_01_00_01_00.000000002";
    mkdirSync(join(mount, next));
    writeFileSync(join(mount, next, "orders.yaml"), `${TOOLSET}---\n${TOOL}`);
    symlinkSync(next, join(mount, "..data_tmp"));
    renameSync(join(mount, "..data_tmp"), join(mount, "..data"));
    rmSync(join(mount, "..2026_01_01_00_00_00.000000001"), { recursive: true });
    await until(() => changes === 1);
    expect(source.load().config.mcp.sources.orders?.tools?.map((t) => t.name)).toEqual(["get_order", "cancel_order"]);
  });
});
