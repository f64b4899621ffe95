/**
 * Kubernetes-style tool definitions end to end: the real CLI with
 * mcp.tool_directories (a plain folder and a ConfigMap-style mount with
 * kubelet's `..data` symlink), official SDK clients listing and calling the
 * tools; a document added, a `..data` swap, and a bad document (refused,
 * the running config kept) while it serves.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Listening, startListening } from "../helpers/mcp.ts";
import { type Ficus, runCli, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";

let api: Listening;
let gw: Ficus;
let dir: string;

const doc = (kind: string, name: string, spec: string) => `apiVersion: gostoa.dev/v1alpha1\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: shop\nspec:\n${spec}`;
const tool = (name: string, path: string) => doc("Tool", name.replaceAll("_", "-"), `  toolSet: orders\n  name: ${name}\n  annotations: { readOnlyHint: true }\n  call: { path: "${path}" }\n`);

/** Writes a ConfigMap's files as kubelet does: a timestamped folder, `..data` pointing at it, one symlink per key. */
function configMap(mount: string, version: string, files: Record<string, string>): void {
  const data = `..${version}`;
  mkdirSync(join(mount, data), { recursive: true });
  for (const [k, v] of Object.entries(files)) writeFileSync(join(mount, data, k), v);
  symlinkSync(data, join(mount, "..data_tmp"));
  // The atomic swap: rename(2) replaces the old ..data link in one step.
  renameSync(join(mount, "..data_tmp"), join(mount, "..data"));
  for (const k of Object.keys(files)) {
    try {
      symlinkSync(join("..data", k), join(mount, k));
    } catch {
      // The key's link exists from the previous version: it follows ..data.
    }
  }
}

async function toolNames(): Promise<string[]> {
  const c = new ClientV1({ name: "k8s-test", version: "1.0.0" });
  await c.connect(new TransportV1(new URL(`${gw.url}/mcp`)));
  const names = (await c.listTools()).tools.map((t) => t.name).sort();
  await c.close();
  return names;
}

const reloads = () => gw.logs.filter((l) => l.msg === "config reloaded").length;

beforeAll(async () => {
  api = await startListening("mcp/orders-api.ts");
  dir = tempDir("ficus-mcp-k8s-");
  mkdirSync(join(dir, "tools"));
  writeFileSync(
    join(dir, "tools", "orders.yaml"),
    doc("ToolSet", "orders", `  upstream: http://127.0.0.1:${api.port}\n  tools:\n    - name: get_order\n      input_schema: { type: object, properties: { id: { type: string } }, required: [id] }\n      call: { path: "/orders/{id}" }\n`),
  );
  configMap(join(dir, "cm"), "2026_01_01_00_00_00.000000001", { "place.yaml": doc("Tool", "place-order", '  toolSet: orders\n  call: { method: POST, path: /orders, body: "*" }\n  input_schema: { type: object, properties: { item: { type: string } } }\n') });
  const config = writeConfig(dir, "mode: edge-mcp\nlisten: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nreload: { settle: 50ms }\nmcp:\n  tool_directories: [tools, cm]\n");
  gw = await startFicus(["-c", config]);
}, 20_000);

afterAll(async () => {
  await gw?.stop();
  await api?.stop();
});

describe("tool definitions from folders", () => {
  test("the ToolSet's tool and the Tool from the ConfigMap are listed and called", async () => {
    expect(await toolNames()).toEqual(["get_order", "place-order"]);
    const c = new ClientV1({ name: "k8s-test", version: "1.0.0" });
    await c.connect(new TransportV1(new URL(`${gw.url}/mcp`)));
    const r = await c.callTool({ name: "get_order", arguments: { id: "42" } });
    expect(JSON.parse((r.content as { text: string }[])[0]?.text ?? "")).toEqual({ id: "42", item: "book", qty: 1 });
    await c.close();
  });

  test("a document added to the folder reloads the gateway and its tool is listed", async () => {
    const before = reloads();
    writeFileSync(join(dir, "tools", "last.yaml"), tool("last_request", "/_last"));
    await gw.waitForLog(() => reloads() > before);
    expect(await toolNames()).toEqual(["get_order", "last_request", "place-order"]);
  });

  test("a ConfigMap update (kubelet's ..data symlink swap) reloads and lists the new tool", async () => {
    const before = reloads();
    const old = join(dir, "cm", "..2026_01_01_00_00_00.000000001");
    configMap(join(dir, "cm"), "2026_01_01_00_05_00.000000002", {
      "place.yaml": doc("Tool", "place-order", '  toolSet: orders\n  call: { method: POST, path: /orders, body: "*" }\n'),
      "slow.yaml": tool("slow", "/slow"),
    });
    rmSync(old, { recursive: true });
    await gw.waitForLog(() => reloads() > before);
    expect(await toolNames()).toEqual(["get_order", "last_request", "place-order", "slow"]);
  });

  test("a bad document is refused with its file, line and document named; the running config is kept", async () => {
    const rejectedBefore = gw.logs.filter((l) => l.msg === "config rejected; keeping the current config").length;
    writeFileSync(join(dir, "tools", "bad.yaml"), `${tool("fine", "/fine")}---\n${doc("ToolSett", "x", "  url: http://127.0.0.1:9/mcp\n")}`);
    const rejected = await gw.waitForLog((l) => l.msg === "config rejected; keeping the current config" && gw.logs.filter((x) => x.msg === l.msg).length > rejectedBefore);
    expect(rejected.errors).toEqual(['kind: expected one of "ToolSet", "Tool", got string "ToolSett" (tools/bad.yaml:13, document 2)']);
    expect(await toolNames()).toEqual(["get_order", "last_request", "place-order", "slow"]);
    // Fixed, it is applied (the first document's tool with it).
    const before = reloads();
    writeFileSync(join(dir, "tools", "bad.yaml"), tool("fine", "/fine"));
    await gw.waitForLog(() => reloads() > before);
    expect(await toolNames()).toContain("fine");
  });

  test("a ToolSet clashing with a config source is refused by `ficus validate`, naming both", async () => {
    const other = tempDir("ficus-mcp-k8s-clash-");
    mkdirSync(join(other, "defs"));
    writeFileSync(join(other, "defs", "orders.yaml"), doc("ToolSet", "orders", "  url: http://127.0.0.1:9/mcp\n"));
    const config = writeConfig(other, "mode: edge-mcp\nmcp:\n  tool_directories: [defs]\n  sources:\n    orders: { url: 'http://127.0.0.1:9/other' }\n");
    const r = await runCli(["validate", "-c", config]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('which mcp.sources of ficus.yaml declares too; a source is declared in one place (defs/orders.yaml:4, document 1)');
  });
});
