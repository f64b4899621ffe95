/**
 * edge-mcp as an OAuth 2.1 resource server, end to end through the real CLI: protected resource
 * metadata at the path-aware well-known URL of each endpoint (virtual ones too), the 401's
 * resource_metadata, the audience bound to the endpoint's resource (a token for another resource
 * is refused), insufficient_scope on a 403, the official v2 SDK client's whole auth flow (401 →
 * metadata → the real oidc-provider's discovery → client credentials with the resource → call),
 * no token passthrough to HTTP tools or federated servers, and the quick mode.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client as ClientV2, ClientCredentialsProvider, discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type Listening, startListening } from "../helpers/mcp.ts";
import { type Ficus, freePort, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { type OAuthIdp, SECRETS, startOAuthIdp } from "../fixtures/mcp/oauth-idp.ts";

const STATIC = "federated-static-token-0123456789";

let idp: OAuthIdp;
let api: Listening;
let fed: Listening;
let gw: Ficus;
let port = 0;
let base = "";

const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
const post = (path: string, token?: string) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(init),
  });

async function connect(token: string, path = "/mcp"): Promise<Client> {
  const client = new Client({ name: "agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

beforeAll(async () => {
  idp = await startOAuthIdp();
  api = await startListening("mcp/orders-api.ts");
  fed = await startListening("mcp/oauth-upstream.ts", ["--static", STATIC]);
  port = freePort();
  base = `http://127.0.0.1:${port}`;
  const config = writeConfig(
    tempDir("ficus-mcp-oauth-"),
    `
mode: edge-mcp
listen: 127.0.0.1:${port}
admin: { listen: 127.0.0.1:0 }
workers: 1
auth_policies:
  agents:
    jwt: { issuer: "${idp.issuer}" }
mcp:
  oauth:
    resource_name: Orders tools
  sources:
    orders:
      openapi: http://127.0.0.1:${api.port}/openapi.json
      upstream: http://127.0.0.1:${api.port}
    fed:
      url: http://127.0.0.1:${fed.port}/mcp
      headers: { authorization: "Bearer ${STATIC}" }
routes:
  - name: mcp
    match: { path: /mcp }
    mcp: {}
    auth: agents
  - name: support
    match: { path: /mcp/support }
    mcp: { tools: ["orders__*"] }
    auth: agents
    authz: { scopes: [tools:write] }
`,
  );
  gw = await startFicus(["-c", config]);
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([api?.stop(), fed?.stop()]);
  idp?.stop();
});

describe("protected resource metadata (RFC 9728)", () => {
  test("served at the path-aware well-known URL of each endpoint, the virtual one included", async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ resource: `${base}/mcp`, authorization_servers: [idp.issuer], bearer_methods_supported: ["header"], resource_name: "Orders tools" });
    const support = (await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp/support`)).json()) as Record<string, unknown>;
    expect(support).toMatchObject({ resource: `${base}/mcp/support`, scopes_supported: ["tools:write"] });
    expect((await fetch(`${base}/.well-known/oauth-protected-resource/nope`)).status).toBe(404);
    expect((await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { method: "POST" })).status).toBe(405);
  });

  test("a 401 names the metadata (resource_metadata), and the v2 SDK finds the metadata from it", async () => {
    const res = await post("/mcp");
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") as string;
    expect(challenge).toBe(`Bearer realm="ficus", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`);
    const params = extractWWWAuthenticateParams(res);
    expect(params.resourceMetadataUrl?.href).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    const meta = await discoverOAuthProtectedResourceMetadata(`${base}/mcp`, { resourceMetadataUrl: params.resourceMetadataUrl });
    expect(meta.resource).toBe(`${base}/mcp`);
    expect(meta.authorization_servers).toEqual([idp.issuer]);
  });
});

describe("audience and scopes", () => {
  test("a token of the provider minted for another resource is refused; one for this endpoint is accepted", async () => {
    const other = await idp.token("agent", "https://other.example/mcp");
    const refused = await post("/mcp", other);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token", error_description="the token is not meant for this audience"');
    expect(refused.headers.get("www-authenticate")).toContain(`resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`);
    // The endpoint at /mcp/support is another resource: a token for /mcp does not open it.
    const forMcp = await idp.token("agent", `${base}/mcp`, "tools:read tools:write");
    expect((await post("/mcp/support", forMcp)).status).toBe(401);
    const client = await connect(forMcp);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("orders__getOrder");
      expect(names).toContain("fed__whoami");
    } finally {
      await client.close();
    }
  });

  test("a 403 for a missing scope says insufficient_scope with the scope needed", async () => {
    const readOnly = await idp.token("agent", `${base}/mcp/support`, "tools:read");
    const res = await post("/mcp/support", readOnly);
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toStartWith('Bearer error="insufficient_scope", scope="tools:write"');
    const full = await idp.token("agent", `${base}/mcp/support`, "tools:read tools:write");
    const client = await connect(full, "/mcp/support");
    await client.close();
  });

  test("the official v2 client's auth flow: 401 → metadata → the provider's discovery → client credentials for the resource → calls", async () => {
    const client = new ClientV2({ name: "agent-v2", version: "1" });
    const transport = new TransportV2(new URL(`${base}/mcp`), { authProvider: new ClientCredentialsProvider({ clientId: "agent", clientSecret: SECRETS.agent, scope: "tools:read", expectedIssuer: idp.issuer }) });
    await client.connect(transport);
    try {
      const r = await client.callTool({ name: "orders__getOrder", arguments: { id: "7" } });
      expect(r.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});

describe("no token passthrough", () => {
  test("the agent's token reaches neither an HTTP tool's upstream nor a federated server", async () => {
    const token = await idp.token("agent", `${base}/mcp`);
    const client = await connect(token);
    try {
      const order = await client.callTool({ name: "orders__getOrder", arguments: { id: "42" } });
      expect(order.isError).toBeFalsy();
      const last = (await (await fetch(`http://127.0.0.1:${api.port}/_last`)).json()) as { path: string; headers: Record<string, string> };
      expect(last.path).toBe("/orders/42");
      expect(JSON.stringify(last.headers)).not.toContain(token);
      expect(last.headers.authorization).toBeUndefined();
      const who = await client.callTool({ name: "fed__whoami", arguments: {} });
      expect(who.isError).toBeFalsy();
      const seen = (await (await fetch(`http://127.0.0.1:${fed.port}/seen`)).json()) as { authorization: string | null }[];
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.authorization === `Bearer ${STATIC}`)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe("quick mode", () => {
  test("--mode edge-mcp --openapi --upstream --issuer --audience: a protected endpoint with its metadata", async () => {
    const qport = freePort();
    const qbase = `http://127.0.0.1:${qport}`;
    const quick = await startFicus(["--mode", "edge-mcp", "--openapi", `http://127.0.0.1:${api.port}/openapi.json`, "--upstream", `http://127.0.0.1:${api.port}`, "--issuer", idp.issuer, "--audience", `${qbase}/mcp`, "--listen", `127.0.0.1:${qport}`, "--admin", "127.0.0.1:0", "--workers", "1"]);
    try {
      const meta = (await (await fetch(`${qbase}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
      expect(meta).toEqual({ resource: `${qbase}/mcp`, authorization_servers: [idp.issuer], bearer_methods_supported: ["header"] });
      const none = await fetch(`${qbase}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify(init) });
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toContain(`resource_metadata="${qbase}/.well-known/oauth-protected-resource/mcp"`);
      const wrong = await idp.token("agent", "https://gw.example/mcp");
      const refused = await fetch(`${qbase}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${wrong}` }, body: JSON.stringify(init) });
      expect(refused.status).toBe(401);
      const good = await idp.token("agent", `${qbase}/mcp`);
      const client = new Client({ name: "agent", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${qbase}/mcp`), { requestInit: { headers: { authorization: `Bearer ${good}` } } }));
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      await client.close();
    } finally {
      await quick.stop();
    }
  }, 20_000);
});
