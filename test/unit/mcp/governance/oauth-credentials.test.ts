/**
 * Upstream credentials (src/mcp/governance/oauth/credentials.ts) against the real OpenID Provider
 * (oidc-provider, client credentials and the RFC 8693 token-exchange grant registered on it) and an
 * upstream process that checks every Authorization it gets (test/fixtures/mcp/oauth-upstream.ts):
 * through the real sources (a federated Streamable HTTP server, HTTP tools on Ficus's HTTP client).
 * The agent's token is never what the upstream sees.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigError } from "../../../../src/core/errors.ts";
import { ConnectionPool } from "../../../../src/http1/client.ts";
import { upstreamCredentials } from "../../../../src/mcp/governance/oauth/credentials.ts";
import { credentialsSchema } from "../../../../src/mcp/governance/oauth/schema.ts";
import { McpHttpSource } from "../../../../src/mcp/sources/federated/http-source.ts";
import { UpstreamInvoker } from "../../../../src/mcp/sources/http-invoke.ts";
import { HttpToolsSource } from "../../../../src/mcp/sources/http-source.ts";
import type { CallContext, CallToolResult } from "../../../../src/mcp/types.ts";
import { type Listening, startListening } from "../../../helpers/mcp.ts";
import { type OAuthIdp, SECRETS, startOAuthIdp, TOKEN_EXCHANGE } from "../../../fixtures/mcp/oauth-idp.ts";

const UPSTREAM_AUD = "https://upstream.example/";
const GATEWAY_RESOURCE = "http://gateway.test/mcp";
const STATIC = "static-upstream-token-0123456789";
const env = { FICUS_SECRET: SECRETS.ficus, OTHER_SECRET: SECRETS.other, STATIC_TOKEN: STATIC };

let idp: OAuthIdp;
let upstream: Listening;
let base = "";
const closers: (() => Promise<void> | void)[] = [];

interface Seen {
  path: string;
  rpc?: string;
  authorization: string | null;
  accepted: boolean;
  sub?: string;
  aud?: unknown;
}
const seen = async (): Promise<Seen[]> => (await fetch(`${base}/seen`)).json() as Promise<Seen[]>;
const ctx = (subjectToken?: string): CallContext => ({ signal: new AbortController().signal, requestId: "r1", subjectToken });
const textOf = (r: CallToolResult) => String((r.content[0] as { text?: unknown }).text);

beforeAll(async () => {
  idp = await startOAuthIdp();
  upstream = await startListening("mcp/oauth-upstream.ts", ["--issuer", idp.issuer, "--audience", UPSTREAM_AUD, "--static", STATIC]);
  base = `http://127.0.0.1:${upstream.port}`;
});

afterAll(async () => {
  for (const c of closers.splice(0)) await c();
  await upstream?.stop();
  idp?.stop();
});

function creds(c: unknown) {
  return upstreamCredentials("up", { credentials: credentialsSchema.parse(c) }, { env });
}

async function mcpSource(c: unknown): Promise<McpHttpSource> {
  const source = new McpHttpSource({ name: "up", url: `${base}/mcp`, credentials: creds(c), headers: { authorization: "Bearer from-headers-never-sent" } });
  closers.push(() => source.close());
  await source.start();
  return source;
}

function httpSource(c: unknown): HttpToolsSource {
  const pool = new ConnectionPool({ host: "127.0.0.1", port: upstream.port });
  closers.push(() => pool.close());
  const source = new HttpToolsSource({
    name: "api",
    kind: "http",
    load: async () => [{ name: "whoami", inputSchema: { type: "object", properties: { auth: { type: "string" } } }, call: { method: "GET", path: "/api/whoami", headers: { authorization: "auth" } } }],
    invoker: new UpstreamInvoker(new URL(base), () => pool, 5000),
    maxResponseBody: 1 << 20,
    credentials: creds(c),
  });
  return source;
}

describe("client credentials (the provider's own grant)", () => {
  test("a federated server: connecting, listing and calls carry Ficus's token; one token request serves them all", async () => {
    const agent = await idp.token("agent", GATEWAY_RESOURCE);
    const before = idp.grants.client_credentials ?? 0;
    const source = await mcpSource({ client_credentials: { token_url: idp.tokenUrl, client_id: "ficus", client_secret_env: "FICUS_SECRET", scope: "upstream:read", resource: UPSTREAM_AUD } });
    expect(source.tools().map((t) => t.name)).toEqual(["whoami"]);
    for (let i = 0; i < 3; i++) {
      const r = await source.call("whoami", {}, ctx(agent));
      expect(r.isError).toBeFalsy();
      expect(JSON.parse(textOf(r))).toEqual({ sub: "ficus", aud: UPSTREAM_AUD });
    }
    expect((idp.grants.client_credentials ?? 0) - before).toBe(1);
    const all = await seen();
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((s) => s.authorization !== `Bearer ${agent}` && s.authorization !== "Bearer from-headers-never-sent")).toBe(true);
    expect(all.filter((s) => s.path === "/mcp").every((s) => s.accepted && s.sub === "ficus")).toBe(true);
  });

  test("the upstream refuses the token (401): a new one is fetched and the call is sent once more", async () => {
    const source = await mcpSource({ client_credentials: { token_url: idp.tokenUrl, client_id: "ficus", client_secret_env: "FICUS_SECRET", resource: UPSTREAM_AUD } });
    const before = idp.grants.client_credentials ?? 0;
    await fetch(`${base}/revoke`, { method: "POST" });
    const r = await source.call("whoami", {}, ctx());
    expect(r.isError).toBeFalsy();
    expect(JSON.parse(textOf(r)).sub).toBe("ficus");
    expect((idp.grants.client_credentials ?? 0) - before).toBe(1);
    const calls = (await seen()).filter((s) => s.rpc === "tools/call");
    expect(calls.at(-2)?.accepted).toBe(false);
    expect(calls.at(-1)?.accepted).toBe(true);
  });

  test("HTTP tools: the call carries Ficus's token, not the agent's nor an argument's Authorization", async () => {
    const source = httpSource({ client_credentials: { token_url: idp.tokenUrl, client_id: "ficus", client_secret_env: "FICUS_SECRET", auth_method: "client_secret_post", resource: UPSTREAM_AUD } });
    await source.start();
    const agent = await idp.token("agent", GATEWAY_RESOURCE);
    const r = await source.call("whoami", { auth: `Bearer ${agent}` }, ctx(agent));
    expect(r.isError).toBeFalsy();
    expect(JSON.parse(textOf(r))).toEqual({ sub: "ficus", aud: UPSTREAM_AUD });
    const last = (await seen()).at(-1) as Seen;
    expect(last.path).toBe("/api/whoami");
    expect(last.authorization).not.toBe(`Bearer ${agent}`);
  });

  test("a wrong client secret: the call fails naming the refusal (the endpoint answers it as a tool error)", async () => {
    const source = httpSource({ client_credentials: { token_url: idp.tokenUrl, client_id: "ficus", client_secret_env: "OTHER_SECRET", resource: UPSTREAM_AUD } });
    await source.start();
    await expect(source.call("whoami", {}, ctx())).rejects.toThrow(/client credentials token request was refused \(401 invalid_client/);
  });
});

describe("token exchange (RFC 8693, registered on the provider)", () => {
  const config = () => ({ token_exchange: { token_url: idp.tokenUrl, client_id: "ficus", client_secret_env: "FICUS_SECRET", audience: UPSTREAM_AUD, resource: UPSTREAM_AUD } });

  test("a federated server: each caller's token is exchanged for one of the upstream's audience, on the caller's behalf; cached per caller", async () => {
    const source = await mcpSource(config());
    const before = idp.grants[TOKEN_EXCHANGE] ?? 0;
    const alice = await idp.token("agent", GATEWAY_RESOURCE, "tools:read");
    const bob = await idp.token("other", GATEWAY_RESOURCE);
    const a1 = JSON.parse(textOf(await source.call("whoami", {}, ctx(alice))));
    const b1 = JSON.parse(textOf(await source.call("whoami", {}, ctx(bob))));
    const a2 = JSON.parse(textOf(await source.call("whoami", {}, ctx(alice))));
    expect(a1).toEqual({ sub: "agent", aud: UPSTREAM_AUD });
    expect(b1).toEqual({ sub: "other", aud: UPSTREAM_AUD });
    expect(a2).toEqual(a1);
    expect((idp.grants[TOKEN_EXCHANGE] ?? 0) - before).toBe(2);
    const all = await seen();
    expect(all.some((s) => s.authorization === `Bearer ${alice}` || s.authorization === `Bearer ${bob}`)).toBe(false);
    // The connection and list requests were made for no caller: Ficus's own client-credentials token.
    expect(all.filter((s) => s.rpc === "tools/list").at(-1)?.sub).toBe("ficus");
  });

  test("concurrent calls of one caller share one exchange", async () => {
    const source = httpSource(config());
    await source.start();
    const before = idp.grants[TOKEN_EXCHANGE] ?? 0;
    const carol = await idp.token("agent", GATEWAY_RESOURCE, "tools:write");
    const results = await Promise.all([1, 2, 3, 4].map(() => source.call("whoami", {}, ctx(carol))));
    for (const r of results) expect(JSON.parse(textOf(r))).toEqual({ sub: "agent", aud: UPSTREAM_AUD });
    expect((idp.grants[TOKEN_EXCHANGE] ?? 0) - before).toBe(1);
  });

  test("a call with no caller token cannot be made on anyone's behalf", async () => {
    const source = httpSource(config());
    await source.start();
    await expect(source.call("whoami", {}, ctx(undefined))).rejects.toThrow(/carries no bearer token/);
  });

  test("the provider refuses to exchange a token it did not issue", async () => {
    const source = httpSource(config());
    await source.start();
    await expect(source.call("whoami", {}, ctx("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"))).rejects.toThrow(/400 invalid_grant/);
  });
});

describe("renewal", () => {
  test("a client-credentials token is renewed in the background at 80% of its life, and fetched anew once expired", async () => {
    idp.setTtl(100);
    let now = 1_000_000;
    const c = upstreamCredentials("up", { credentials: credentialsSchema.parse({ client_credentials: { token_url: idp.tokenUrl, client_id: "ficus", client_secret_env: "FICUS_SECRET", resource: UPSTREAM_AUD } }) }, { env, clock: () => now });
    try {
      const before = idp.grants.client_credentials ?? 0;
      const first = await c?.authorization(undefined);
      expect(typeof first).toBe("string");
      now += 50_000;
      expect(c?.authorization(undefined)).toBe(first as string); // cached: no promise
      now += 35_000; // past 80%: the current one still serves, a new one is fetched meanwhile
      expect(c?.authorization(undefined)).toBe(first as string);
      for (let i = 0; i < 100 && (idp.grants.client_credentials ?? 0) - before < 2; i++) await Bun.sleep(5);
      const renewed = c?.authorization(undefined);
      expect(typeof renewed).toBe("string");
      expect(renewed).not.toBe(first);
      now += 200_000; // both expired
      const third = await c?.authorization(undefined);
      expect(third).not.toBe(renewed);
      expect((idp.grants.client_credentials ?? 0) - before).toBe(3);
    } finally {
      idp.setTtl(300);
    }
  });
});

describe("static secret, and config errors", () => {
  test("bearer_env: sent as it is", async () => {
    const source = httpSource({ bearer_env: "STATIC_TOKEN" });
    await source.start();
    const r = await source.call("whoami", {}, ctx("agent-token-never-sent"));
    expect(JSON.parse(textOf(r)).sub).toBe("static");
    expect((await seen()).at(-1)?.authorization).toBe(`Bearer ${STATIC}`);
  });

  test("a secret's variable that is not set, and a stdio source, are config errors", () => {
    expect(() => upstreamCredentials("up", { credentials: credentialsSchema.parse({ bearer_env: "NOPE_NOT_SET" }) }, { env: {} })).toThrow(ConfigError);
    expect(() => upstreamCredentials("up", { credentials: credentialsSchema.parse({ bearer_env: "STATIC_TOKEN" }), command: ["x"] }, { env })).toThrow(/stdio/);
    expect(credentialsSchema.safeParse({}).success).toBe(false);
    expect(credentialsSchema.safeParse({ bearer_env: "A", client_credentials: { token_url: "http://x/t", client_id: "c", client_secret_env: "S" } }).success).toBe(false);
  });
});
