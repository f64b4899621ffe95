/**
 * Which MCP endpoints are OAuth protected resources, and what each one is:
 * its resource identifier (the URL clients use, RFC 9728 §1.2), the
 * path-aware well-known URL of its metadata (RFC 9728 §3.1: the well-known
 * segment inserted between the host and the endpoint's path), the issuers
 * that mint its tokens and the scopes it names. Computed once from the
 * validated config, read by the metadata documents (index.ts) and by the
 * authentication settings (the audience a token must carry and the
 * resource_metadata of a 401).
 */
import type { OAuthConfig } from "./schema.ts";

export const WELL_KNOWN_PREFIX = "/.well-known/oauth-protected-resource";

/** One MCP endpoint as a protected resource. */
export interface ProtectedResource {
  /** The route with the `mcp:` block. */
  readonly route: string;
  /** The endpoint's path (the route's match.path). */
  readonly path: string;
  /** The resource identifier: the public base URL followed by the path. */
  readonly resource: string;
  /** The path of its metadata on this gateway. */
  readonly metadataPath: string;
  /** The metadata's absolute URL (the resource_metadata of a challenge). */
  readonly metadataUrl: string;
  readonly authorizationServers: readonly string[];
  readonly scopes: readonly string[];
  /** The audience tokens must carry when the route's JWT policy sets none; undefined when the policy's own applies. */
  readonly boundAudience: string | undefined;
  /** The route authenticates with JWT. */
  readonly jwt: boolean;
}

/** The JWT block of a policy, as much as this file reads. */
interface JwtLike {
  readonly issuer?: string | undefined;
  readonly audience?: string | readonly string[] | undefined;
}
interface PolicyLike {
  readonly jwt?: JwtLike | undefined;
}

/** The parts of the validated config read here (FicusConfig fits). */
export interface ResourcesInput {
  readonly listen: { readonly hostname: string; readonly port: number };
  readonly tls?: unknown;
  readonly mcp?: { readonly oauth?: OAuthConfig | undefined } | undefined;
  readonly auth_policies?: Readonly<Record<string, PolicyLike>> | undefined;
  readonly routes: readonly {
    readonly name: string;
    readonly match?: { readonly path?: string | undefined; readonly [other: string]: unknown } | undefined;
    readonly mcp?: unknown;
    readonly auth?: string | PolicyLike | undefined;
    readonly authz?: { readonly scopes?: readonly string[] | undefined } | undefined;
  }[];
}

/** A path usable as a resource: exact (no ":name" segment or "*"). */
const EXACT_PATH = /^\/(?:[^/:*?#\s][^/*?#\s]*(?:\/[^/:*?#\s][^/*?#\s]*)*\/?)?$/;

function policyOf(input: ResourcesInput, auth: string | PolicyLike | undefined): PolicyLike | undefined {
  if (auth === undefined) return undefined;
  return typeof auth === "string" ? input.auth_policies?.[auth] : auth;
}

function audiences(j: JwtLike | undefined): readonly string[] {
  const a = j?.audience;
  return a === undefined ? [] : typeof a === "string" ? [a] : a;
}

/** The base URL from the listen address: what a client on this host would use. */
function listenBase(input: ResourcesInput): string {
  const { hostname, port } = input.listen;
  const host = hostname === "0.0.0.0" || hostname === "::" || hostname === "" ? "localhost" : hostname.includes(":") ? `[${hostname}]` : hostname;
  const https = input.tls !== undefined;
  const dflt = https ? 443 : 80;
  return `${https ? "https" : "http"}://${host}${port === dflt ? "" : `:${port}`}`;
}

/** The audience of the policy that names this endpoint (an http(s) URL whose path is the endpoint's), if any. */
function audienceNaming(j: JwtLike | undefined, path: string): string | undefined {
  for (const a of audiences(j)) {
    let u: URL;
    try {
      u = new URL(a);
    } catch {
      continue;
    }
    if ((u.protocol === "http:" || u.protocol === "https:") && u.search === "" && u.hash === "" && (u.pathname === path || (path === "/" && u.pathname === ""))) return a;
  }
  return undefined;
}

/** RFC 9728 §3.1: the well-known segment goes between the host and the path; a path of "/" adds nothing. */
export function metadataPathOf(path: string): string {
  return path === "/" ? WELL_KNOWN_PREFIX : WELL_KNOWN_PREFIX + path;
}

/** Whether the config makes MCP endpoints protected resources (mcp.oauth.enabled, auto: an MCP route has a JWT policy). */
export function oauthActive(input: ResourcesInput): boolean {
  const o = input.mcp?.oauth;
  if (o === undefined || o.enabled === false) return false;
  if (o.enabled === true) return true;
  return input.routes.some((r) => r.mcp !== undefined && policyOf(input, r.auth)?.jwt !== undefined);
}

/** The protected resources of a config, by route name; empty when OAuth is off. */
export function protectedResources(input: ResourcesInput): Map<string, ProtectedResource> {
  const out = new Map<string, ProtectedResource>();
  const o = input.mcp?.oauth;
  if (o === undefined || !oauthActive(input)) return out;
  const issuers = new Set<string>();
  for (const r of input.routes) {
    if (r.mcp === undefined) continue;
    const iss = policyOf(input, r.auth)?.jwt?.issuer;
    if (iss !== undefined) issuers.add(iss);
  }
  const publicBase = o.public_url?.replace(/\/+$/, "");
  for (const r of input.routes) {
    const path = r.match?.path;
    if (r.mcp === undefined || path === undefined || !EXACT_PATH.test(path)) continue;
    const jwt = policyOf(input, r.auth)?.jwt;
    const named = publicBase === undefined ? audienceNaming(jwt, path) : undefined;
    const base = publicBase ?? listenBase(input);
    const resource = named ?? (path === "/" ? `${base}/` : base + path);
    const metadataPath = metadataPathOf(path);
    const origin = new URL(resource);
    // Behind a proxy that adds a base path, the metadata is still at the host's root (RFC 9728 §3.1), with the full path after it.
    const metadataUrl = `${origin.origin}${metadataPathOf(origin.pathname === "" ? "/" : origin.pathname)}`;
    out.set(r.name, {
      route: r.name,
      path,
      resource,
      metadataPath,
      metadataUrl,
      authorizationServers: o.authorization_servers ?? (jwt?.issuer !== undefined ? [jwt.issuer] : [...issuers]),
      scopes: o.scopes_supported ?? r.authz?.scopes ?? [],
      boundAudience: jwt !== undefined && audiences(jwt).length === 0 && o.bind_audience ? resource : undefined,
      jwt: jwt !== undefined,
    });
  }
  return out;
}

/** Route name → the metadata URL of its endpoint: for the authorization layer's insufficient_scope challenge. */
export function resourceMetadataUrls(input: ResourcesInput): Map<string, string> {
  const out = new Map<string, string>();
  for (const [route, r] of protectedResources(input)) out.set(route, r.metadataUrl);
  return out;
}
