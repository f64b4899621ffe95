/**
 * The tool policy also decides on prompts and resources: what a caller may not use is left out of
 * prompts/list, resources/list and resources/templates/list, and getting or reading it is refused.
 * Real CLI, API keys, a federated official-SDK server with a prompt and a resource.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { type Listening, startListening } from "../helpers/mcp.ts";

const KEYS = { alice: "alice-key-0123456789", root: "root-key-0123456789" };
let upstream: Listening;
let gw: Ficus;

beforeAll(async () => {
  upstream = await startListening("mcp/upstream-server.ts", ["--http", "0"]);
  const dir = tempDir("ficus-mcp-policy-items-");
  writeFileSync(
    join(dir, "mcp.rego"),
    `package mcp
import rego.v1

default decision := true

# Prompts and resources are for admins; tools for everyone.
decision := {"allow": false, "message": "prompts are for admins"} if {
  input.prompt
  not "admin" in input.identity.roles
}

decision := {"allow": false, "message": "resources are for admins"} if {
  input.resource
  not "admin" in input.identity.roles
}
`,
  );
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
  pinning: { mode: off }
  sources:
    up: { url: "http://127.0.0.1:${upstream.port}/mcp" }
routes:
  - name: mcp
    match: { path: /mcp }
    auth: keys
    mcp:
      policy: { module: mcp.rego }
`,
  );
  gw = await startFicus(["-c", config], { env: { KEY_ALICE: KEYS.alice, KEY_ROOT: KEYS.root } });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

async function client(key: string): Promise<ClientV1> {
  const c = new ClientV1({ name: "items", version: "1" });
  await c.connect(new TransportV1(new URL(`${gw.url}/mcp`), { requestInit: { headers: { "x-api-key": key } } }));
  return c;
}

test("a caller the policy refuses sees no prompt or resource, and cannot get or read one", async () => {
  const alice = await client(KEYS.alice);
  expect((await alice.listPrompts()).prompts).toEqual([]);
  expect((await alice.listResources()).resources).toEqual([]);
  await expect(alice.getPrompt({ name: "greet", arguments: { name: "x" } })).rejects.toThrow(/prompts are for admins/);
  await expect(alice.readResource({ uri: "fixture://hello" })).rejects.toThrow(/resources are for admins/);
  // Tools are not affected.
  expect((await alice.listTools()).tools.map((t) => t.name)).toContain("echo");
  await alice.close();
});

test("a caller the policy allows sees and uses them", async () => {
  const root = await client(KEYS.root);
  expect((await root.listPrompts()).prompts.map((p) => p.name)).toContain("greet");
  expect((await root.listResources()).resources.map((r) => r.uri)).toContain("fixture://hello");
  const got = await root.getPrompt({ name: "greet", arguments: { name: "Ada" } });
  expect(JSON.stringify(got.messages)).toContain("Ada");
  const read = await root.readResource({ uri: "fixture://hello" });
  expect(read.contents.length).toBeGreaterThan(0);
  await root.close();
});
