/**
 * DNS-rebinding protection for MCP endpoints, as the Streamable HTTP
 * transport asks of servers: a browser page on another origin must not be
 * able to drive a gateway on the user's machine. A request whose Origin is
 * not allowed is refused with 403; a gateway listening on loopback also
 * refuses Host values other than the loopback names (a rebound DNS name).
 */
import type { Exchange } from "../../pipeline/exchange.ts";
import { getField } from "../../pipeline/fields.ts";

export interface OriginPolicy {
  /** Exact origins allowed, or "*" for any. */
  readonly origins: ReadonlySet<string>;
  /** Hosts allowed (hostname, or hostname:port), lowercased; empty = any. */
  readonly hosts: ReadonlySet<string>;
}

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]", "::1"];

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname.startsWith("127.") || hostname === "::1" || hostname === "[::1]";
}

/** The policy from the config and the listen address (loopback listeners get the loopback defaults). */
export function originPolicy(allowedOrigins: readonly string[], allowedHosts: readonly string[], listenHost: string): OriginPolicy {
  const loopback = isLoopback(listenHost);
  const hosts = new Set(allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(allowedOrigins);
  if (loopback && hosts.size === 0) for (const h of LOOPBACK_HOSTS) hosts.add(h);
  if (loopback && origins.size === 0) for (const h of ["localhost", "127.0.0.1", "[::1]"]) origins.add(`loopback:${h}`);
  return { origins, hosts };
}

/** Why the request is refused, or undefined when it may proceed. */
export function checkOrigin(ex: Exchange, policy: OriginPolicy): string | undefined {
  if (policy.hosts.size > 0) {
    const field = ex.hostField?.toLowerCase() ?? "";
    if (!policy.hosts.has(field) && !policy.hosts.has(ex.host)) return `Host ${JSON.stringify(ex.hostField ?? "")} is not allowed on this MCP endpoint (mcp.allowed_hosts)`;
  }
  const origin = getField(ex.fields, "origin");
  if (origin === undefined) return undefined;
  if (policy.origins.has("*") || policy.origins.has(origin)) return undefined;
  // Loopback defaults: any port of a loopback origin over http(s).
  const m = /^https?:\/\/(\[[^\]]+\]|[^:/]+)(?::\d+)?$/.exec(origin.toLowerCase());
  if (m !== null && policy.origins.has(`loopback:${m[1]}`)) return undefined;
  return `Origin ${JSON.stringify(origin)} is not allowed on this MCP endpoint (mcp.allowed_origins)`;
}
