/**
 * Which MCP endpoints are OAuth protected resources and what each one is (resources.ts), the
 * metadata documents and their replies (index.ts), and what the authentication settings make of
 * them (the resource_metadata of a challenge, the audience bound to the resource).
 */
import { describe, expect, test } from "bun:test";
import { challengeFields, AuthFailure } from "../../../../src/auth/failure.ts";
import { authPoliciesSchema, routeAuthSchema } from "../../../../src/auth/schema.ts";
import { compileAuthSettings } from "../../../../src/auth/settings.ts";
import { compileAuthz } from "../../../../src/authz/settings.ts";
import { authzRouteSchema } from "../../../../src/authz/schema.ts";
import type { FicusConfig } from "../../../../src/config/schema.ts";
import { createOAuthResource } from "../../../../src/mcp/governance/oauth/index.ts";
import { oauthActive, protectedResources, resourceMetadataUrls, type ResourcesInput } from "../../../../src/mcp/governance/oauth/resources.ts";
import { oauthConfigSchema } from "../../../../src/mcp/governance/oauth/schema.ts";
import { createLogger } from "../../../../src/observability/logger.ts";
import type { Exchange } from "../../../../src/pipeline/exchange.ts";

const ISSUER = "https://idp.example";
const policies = authPoliciesSchema.parse({ agents: { jwt: { issuer: ISSUER } }, fixed: { jwt: { issuer: "https://other-idp.example", audience: "https://gw.example.com/ai/mcp" } } });

function input(oauth: Record<string, unknown> = {}, routes?: ResourcesInput["routes"], listen = { hostname: "0.0.0.0", port: 8080 }, tls?: unknown): ResourcesInput {
  return {
    listen,
    tls,
    mcp: { oauth: oauthConfigSchema.parse(oauth) },
    auth_policies: policies,
    routes: routes ?? [
      { name: "mcp", match: { path: "/mcp" }, mcp: {}, auth: "agents" },
      { name: "support", match: { path: "/mcp/support" }, mcp: {}, auth: "agents", authz: { scopes: ["tools:write"] } },
      { name: "open", match: { path: "/open" }, mcp: {} },
      { name: "templated", match: { path: "/t/:id" }, mcp: {}, auth: "agents" },
      { name: "api", match: { prefix: "/api" }, auth: "agents" },
    ],
  };
}

describe("protected resources", () => {
  test("auto: on when an MCP route has a JWT policy; every exact MCP path is a resource; templates and non-MCP routes are not", () => {
    const r = protectedResources(input());
    expect([...r.keys()]).toEqual(["mcp", "support", "open"]);
    expect(r.get("mcp")).toMatchObject({ resource: "http://localhost:8080/mcp", metadataPath: "/.well-known/oauth-protected-resource/mcp", metadataUrl: "http://localhost:8080/.well-known/oauth-protected-resource/mcp", authorizationServers: [ISSUER], boundAudience: "http://localhost:8080/mcp", jwt: true });
    expect(r.get("support")?.scopes).toEqual(["tools:write"]);
    expect(r.get("open")).toMatchObject({ jwt: false, boundAudience: undefined, authorizationServers: [ISSUER] });
    expect(oauthActive(input({}, [{ name: "open", match: { path: "/open" }, mcp: {} }]))).toBe(false);
    expect(oauthActive(input({ enabled: true }, [{ name: "open", match: { path: "/open" }, mcp: {} }]))).toBe(true);
    expect(protectedResources(input({ enabled: false })).size).toBe(0);
  });

  test("behind a proxy: public_url with a base path; the metadata URL keeps the host's root (RFC 9728 §3.1)", () => {
    const r = protectedResources(input({ public_url: "https://gw.example.com/ai/", authorization_servers: ["https://login.example"], scopes_supported: ["a", "b"] })).get("mcp");
    expect(r).toMatchObject({ resource: "https://gw.example.com/ai/mcp", metadataPath: "/.well-known/oauth-protected-resource/mcp", metadataUrl: "https://gw.example.com/.well-known/oauth-protected-resource/ai/mcp", authorizationServers: ["https://login.example"], scopes: ["a", "b"] });
  });

  test("the route's audience names the resource when it ends with the endpoint's path; tls and ports shape the default", () => {
    const named = protectedResources(input({}, [{ name: "mcp", match: { path: "/ai/mcp" }, mcp: {}, auth: "fixed" }])).get("mcp");
    expect(named).toMatchObject({ resource: "https://gw.example.com/ai/mcp", boundAudience: undefined });
    const tls = protectedResources(input({}, undefined, { hostname: "gw.internal", port: 443 }, {})).get("mcp");
    expect(tls?.resource).toBe("https://gw.internal/mcp");
    const v6 = protectedResources(input({}, undefined, { hostname: "::1", port: 9000 })).get("mcp");
    expect(v6?.resource).toBe("http://[::1]:9000/mcp");
    const root = protectedResources(input({}, [{ name: "root", match: { path: "/" }, mcp: {}, auth: "agents" }])).get("root");
    expect(root).toMatchObject({ resource: "http://localhost:8080/", metadataPath: "/.well-known/oauth-protected-resource" });
    expect(protectedResources(input({ bind_audience: false })).get("mcp")?.boundAudience).toBeUndefined();
  });

  test("config errors: a URL with a query, a fragment or credentials; a scope with a space", () => {
    for (const bad of [{ public_url: "https://gw.example?x=1" }, { public_url: "https://u:p@gw.example" }, { authorization_servers: ["ftp://x"] }, { scopes_supported: ["a b"] }, { resource_documentation: "https://d#x" }, { unknown: 1 }]) {
      expect(oauthConfigSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe("metadata replies", () => {
  const config = (extra: Record<string, unknown> = {}) => ({ ...input({ resource_name: "Tools", resource_documentation: "https://docs.example/tools", ...extra }), mcp: { oauth: oauthConfigSchema.parse({ resource_name: "Tools", resource_documentation: "https://docs.example/tools", ...extra }) } }) as unknown as FicusConfig;
  const ex = (method: string, path: string) => ({ method, path }) as Exchange;
  const logger = createLogger("error", {}, () => undefined);

  test("GET, HEAD, OPTIONS, other methods, other paths", () => {
    const server = createOAuthResource(config(), logger);
    const get = server?.wellKnown(ex("GET", "/.well-known/oauth-protected-resource/mcp/support"));
    expect(get?.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(get?.body as Uint8Array))).toEqual({
      resource: "http://localhost:8080/mcp/support",
      authorization_servers: [ISSUER],
      scopes_supported: ["tools:write"],
      bearer_methods_supported: ["header"],
      resource_name: "Tools",
      resource_documentation: "https://docs.example/tools",
    });
    const head = server?.wellKnown(ex("HEAD", "/.well-known/oauth-protected-resource/mcp"));
    expect(head?.body).toBeUndefined();
    expect(head?.headLength).toBeGreaterThan(10);
    expect(server?.wellKnown(ex("OPTIONS", "/.well-known/oauth-protected-resource/mcp"))?.status).toBe(204);
    expect(server?.wellKnown(ex("DELETE", "/.well-known/oauth-protected-resource/mcp"))?.status).toBe(405);
    expect(server?.wellKnown(ex("GET", "/.well-known/oauth-protected-resource/t/1"))).toBeUndefined();
    expect(server?.wellKnown(ex("GET", "/.well-known/openid-configuration"))).toBeUndefined();
    expect(createOAuthResource(config({ enabled: false }), logger)).toBeUndefined();
  });

  test("behind a proxy with a base path, both the gateway's path and the public one answer", () => {
    const server = createOAuthResource(config({ public_url: "https://gw.example.com/ai" }), logger);
    expect(server?.wellKnown(ex("GET", "/.well-known/oauth-protected-resource/mcp"))?.status).toBe(200);
    expect(server?.wellKnown(ex("GET", "/.well-known/oauth-protected-resource/ai/mcp"))?.status).toBe(200);
  });
});

describe("authentication and authorization settings", () => {
  const routes = [
    { name: "mcp", match: { path: "/mcp" }, mcp: {}, auth: routeAuthSchema.parse("agents") },
    { name: "pinned", match: { path: "/pinned" }, mcp: {}, auth: routeAuthSchema.parse("fixed") },
    { name: "api", match: { prefix: "/api" }, auth: routeAuthSchema.parse("agents") },
  ];
  const base = { auth_policies: policies, routes, listen: { hostname: "127.0.0.1", port: 9000 } };

  test("an MCP route's policy: challenge with resource_metadata, audience bound to the resource; other routes keep the shared policy", () => {
    const s = compileAuthSettings({ ...base, mcp: { oauth: oauthConfigSchema.parse({}) } });
    const mcp = s.routes.get("mcp");
    expect(mcp?.jwt?.audience).toEqual(["http://127.0.0.1:9000/mcp"]);
    expect(mcp?.challenges.resourceMetadata).toBe("http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp");
    expect(s.routes.get("pinned")?.jwt?.audience).toEqual(["https://gw.example.com/ai/mcp"]);
    const api = s.routes.get("api");
    expect(api?.jwt?.audience).toBeUndefined();
    expect(api?.challenges.resourceMetadata).toBeUndefined();
    expect(mcp?.jwt?.id).not.toBe(api?.jwt?.id);
    expect(challengeFields(mcp?.challenges as NonNullable<typeof mcp>["challenges"], new AuthFailure("missing", "no credential", undefined))).toEqual([
      "www-authenticate",
      'Bearer realm="ficus", resource_metadata="http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp"',
    ]);
  });

  test("without mcp.oauth in the input, or with bind_audience false, nothing changes but what is asked", () => {
    expect(compileAuthSettings({ auth_policies: policies, routes }).routes.get("mcp")?.challenges.resourceMetadata).toBeUndefined();
    const s = compileAuthSettings({ ...base, mcp: { oauth: oauthConfigSchema.parse({ bind_audience: false }) } });
    expect(s.routes.get("mcp")?.jwt?.audience).toBeUndefined();
    expect(s.routes.get("mcp")?.challenges.resourceMetadata).toBeDefined();
  });

  test("authz: the insufficient_scope challenge names the metadata when given", () => {
    const authz = authzRouteSchema.parse({ scopes: ["tools:write", "tools:read"] });
    const urls = resourceMetadataUrls({ ...base, mcp: { oauth: oauthConfigSchema.parse({}) } });
    const s = compileAuthz([{ name: "mcp", authz }], { resourceMetadata: urls });
    expect(s.routes.get("mcp")?.scopeChallenge).toBe('Bearer error="insufficient_scope", scope="tools:write tools:read", resource_metadata="http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp"');
    expect(compileAuthz([{ name: "mcp", authz }]).routes.get("mcp")?.scopeChallenge).toBe('Bearer error="insufficient_scope", scope="tools:write tools:read"');
  });
});
