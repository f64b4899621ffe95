/**
 * edge-mcp as an OAuth 2.1 resource server (MCP authorization; RFC 9728):
 * the protected resource metadata of each MCP endpoint, served at its
 * path-aware well-known URL before routing (McpWellKnownLayer). The
 * documents are serialized once, when the service is built; a request costs
 * a map lookup. The audience check and the resource_metadata of a 401 are
 * the authentication layer's (src/auth/settings.ts reads resources.ts).
 *
 * Also the entry point of upstream credentials (credentials.ts): what a
 * source sends as Authorization instead of the agent's token.
 */
import type { FicusConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { Exchange, Reply } from "../../../pipeline/exchange.ts";
import { metadataPathOf, type ProtectedResource, protectedResources } from "./resources.ts";

export { upstreamCredentials, type UpstreamCredentials } from "./credentials.ts";
export { type ProtectedResource, protectedResources } from "./resources.ts";

export interface OAuthResource {
  /** Answers a request for a well-known document this resource serves (RFC 9728 protected resource metadata), or undefined. */
  wellKnown(ex: Exchange): Reply | undefined;
  close?(): void;
}

/** The metadata document of one endpoint (RFC 9728 §2). */
export function metadataDocument(r: ProtectedResource, name: string | undefined, documentation: string | undefined): Record<string, unknown> {
  const doc: Record<string, unknown> = { resource: r.resource };
  if (r.authorizationServers.length > 0) doc.authorization_servers = r.authorizationServers;
  if (r.scopes.length > 0) doc.scopes_supported = r.scopes;
  doc.bearer_methods_supported = ["header"];
  if (name !== undefined) doc.resource_name = name;
  if (documentation !== undefined) doc.resource_documentation = documentation;
  return doc;
}

/** A served document: the bytes and the fields of its 200, made once. */
interface Served {
  readonly body: Uint8Array;
  readonly fields: readonly string[];
}

const ALLOW_FIELDS = ["allow", "GET, HEAD, OPTIONS"];

class MetadataServer implements OAuthResource {
  constructor(private readonly docs: ReadonlyMap<string, Served>) {}

  wellKnown(ex: Exchange): Reply | undefined {
    const served = this.docs.get(ex.path);
    if (served === undefined) return undefined;
    const m = ex.method;
    if (m === "GET") return { status: 200, fields: [...served.fields], body: served.body };
    if (m === "HEAD") return { status: 200, fields: [...served.fields], body: undefined, headLength: served.body.byteLength };
    // Browser-based clients read the metadata across origins (a CORS preflight).
    if (m === "OPTIONS") return { status: 204, fields: ["access-control-allow-origin", "*", "access-control-allow-methods", "GET, HEAD, OPTIONS", "access-control-max-age", "86400", ...ALLOW_FIELDS], body: undefined };
    return { status: 405, fields: [...ALLOW_FIELDS], body: undefined };
  }
}

/** The metadata server of a config's MCP endpoints, or undefined when none is a protected resource. */
export function createOAuthResource(config: FicusConfig, logger: Logger): OAuthResource | undefined {
  const resources = protectedResources(config);
  if (resources.size === 0) return undefined;
  const o = config.mcp.oauth;
  const docs = new Map<string, Served>();
  const enc = new TextEncoder();
  for (const r of resources.values()) {
    if (r.authorizationServers.length === 0) {
      logger.warn("an MCP endpoint's protected resource metadata names no authorization server: set mcp.oauth.authorization_servers (or an issuer in its JWT policy) so clients know where to get tokens", { route: r.route });
    }
    const body = enc.encode(JSON.stringify(metadataDocument(r, o.resource_name, o.resource_documentation)));
    const served: Served = {
      body,
      fields: ["content-type", "application/json", "cache-control", "public, max-age=300", "access-control-allow-origin", "*"],
    };
    docs.set(r.metadataPath, served);
    // Behind a proxy that adds a base path, a client asks for the well-known URL of the full public path.
    const publicPath = metadataPathOf(new URL(r.resource).pathname || "/");
    if (!docs.has(publicPath)) docs.set(publicPath, served);
  }
  if ([...resources.values()].some((r) => new URL(r.resource).port === "0")) {
    logger.warn("mcp.oauth: the listen port is 0, so the resource URLs of the MCP endpoints cannot name the real port; set mcp.oauth.public_url");
  }
  return new MetadataServer(docs);
}
