/**
 * Per-tool policy end to end: the real CLI with API keys on the MCP route and
 * a Rego policy; official SDK clients. A tool the caller may not call is not
 * listed and its call is a tool error; an argument rewrite reaches the
 * upstream (orders-api's /_last); the decision log and the metric count it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { type Listening, startListening } from "../helpers/mcp.ts";

const KEYS = { alice: "alice-key-0123456789", root: "root-key-0123456789" };
let api: Listening;
let gw: Ficus;

const POLICY = `package mcp
import rego.v1

default decision := false

decision := true if input.tool.name == "get_order"

decision := true if {
  input.tool.name == "delete_order"
  "admin" in input.identity.roles
}

over_limit if input.arguments.qty > 100

decision := {"allow": false, "message": "orders over 100 need an approval"} if {
  input.tool.name == "place_order"
  over_limit
}

decision := {"allow": true, "arguments": {"tenant_id": concat("", ["t-", input.identity.subject])}} if {
  input.tool.name == "place_order"
  not over_limit
}
`;

beforeAll(async () => {
  api = await startListening("mcp/orders-api.ts");
  const dir = tempDir("ficus-mcp-policy-");
  writeFileSync(join(dir, "tools.rego"), POLICY);
  const config = writeConfig(
    dir,
    `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
auth_policies:
  keys:
    api_key: { keys: [{ id: alice, env: KEY_ALICE, roles: [user] }, { id: root, env: KEY_ROOT, roles: [admin] }] }
mcp:
  sources:
    shop:
      prefix: ""
      upstream: http://127.0.0.1:${api.port}
      tools:
        - name: get_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          call: { method: GET, path: "/orders/{id}" }
        - name: place_order
          input_schema: { type: object, properties: { item: { type: string }, qty: { type: integer }, tenant_id: { type: string } }, required: [item] }
          call: { method: POST, path: /orders, body: "*" }
        - name: delete_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          call: { method: DELETE, path: "/orders/{id}" }
routes:
  - name: mcp
    match: { path: /mcp }
    auth: keys
    mcp:
      policy: { module: tools.rego }
`,
  );
  gw = await startFicus(["-c", config], { env: { KEY_ALICE: KEYS.alice, KEY_ROOT: KEYS.root } });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await api?.stop();
});

async function legacy(key: string): Promise<ClientV1> {
  const c = new ClientV1({ name: "v1-test", version: "1.0.0" });
  await c.connect(new TransportV1(new URL(`${gw.url}/mcp`), { requestInit: { headers: { "x-api-key": key } } }));
  return c;
}

function text(r: unknown): string {
  return ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("");
}

test("a tool the caller may not call is not listed, and calling it is a tool error (not a protocol error)", async () => {
  const alice = await legacy(KEYS.alice);
  expect((await alice.listTools()).tools.map((t) => t.name).sort()).toEqual(["get_order", "place_order"]);
  const r = await alice.callTool({ name: "delete_order", arguments: { id: "1" } });
  expect(r.isError).toBe(true);
  expect(text(r)).toBe("the policy denies calling delete_order");
  const root = await legacy(KEYS.root);
  expect((await root.listTools()).tools.map((t) => t.name)).toContain("delete_order");
  await Promise.all([alice.close(), root.close()]);
});

test("an argument rewrite reaches the upstream: the tenant is forced to the caller's", async () => {
  const alice = await legacy(KEYS.alice);
  const r = await alice.callTool({ name: "place_order", arguments: { item: "pen", qty: 2, tenant_id: "t-someone-else" } });
  expect(r.isError).toBeFalsy();
  const last = (await (await fetch(`http://127.0.0.1:${api.port}/_last`)).json()) as { path: string; body: string };
  expect(last.path).toBe("/orders");
  expect(JSON.parse(last.body)).toEqual({ item: "pen", qty: 2, tenant_id: "t-alice" });
  await alice.close();
});

test("a denial's message is the policy's, for a 2026-07-28 client too; the upstream is never called", async () => {
  await fetch(`http://127.0.0.1:${api.port}/orders/marker`);
  const c = new Client({ name: "v2-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { "x-api-key": KEYS.alice } } }));
  const r = await c.callTool({ name: "place_order", arguments: { item: "pen", qty: 500 } });
  expect(r.isError).toBe(true);
  expect(text(r)).toBe("orders over 100 need an approval");
  const last = (await (await fetch(`http://127.0.0.1:${api.port}/_last`)).json()) as { path: string };
  expect(last.path).toBe("/orders/marker");
  await c.close();
});

test("decisions are in the decision log and counted", async () => {
  await gw.waitForLog(() => gw.access.some((l) => l.log === "decision" && l.path === "delete_order" && l.method === "tools/call"), 5000).catch(() => undefined);
  const line = gw.access.find((l) => l.log === "decision" && l.path === "delete_order" && l.method === "tools/call");
  expect(line).toMatchObject({ route: "mcp", subject: "alice", identity: "api_key", policy: "data.mcp.decision", result: "deny", dry_run: false });
  const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
  expect(metrics).toContain('ficus_mcp_policy_total{endpoint="mcp",tool="delete_order",result="deny"} 1');
  expect(metrics).toMatch(/ficus_mcp_policy_total\{endpoint="mcp",tool="place_order",result="allow"\} [1-9]/);
});
