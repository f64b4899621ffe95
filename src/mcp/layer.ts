/**
 * The MCP layer: on a route with an `mcp:` block, the request is served by
 * that route's MCP endpoint instead of being forwarded (the layers before it
 * — routing, auth, authz, rate limits, observability — applied as to any
 * request). The service behind it is loaded only when a config serves MCP,
 * and replaced whole by a reload that changes the MCP part; the old one is
 * closed once the calls it holds are done.
 */
import { errorReply, type Exchange, type Reply } from "../pipeline/exchange.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { McpService } from "./service.ts";

export class McpLayer implements Layer {
  readonly name = "mcp";
  service: McpService | undefined;

  request(ex: Exchange): Reply | undefined | Promise<Reply> {
    const route = ex.route;
    if (route === undefined || route.config.mcp === undefined) return undefined;
    if (ex.internal) return errorReply("FICUS_ROUTE_NOT_FOUND", "a tool's HTTP call cannot be sent to an MCP endpoint", ex.id);
    const endpoint = this.service?.endpoint(route.name);
    if (endpoint === undefined) return errorReply("FICUS_ROUTE_NOT_FOUND", `the MCP endpoint of route ${route.name} is not serving yet`, ex.id);
    ex.fromUpstream = false;
    return endpoint.handle(ex);
  }
}

/**
 * Before routing: the well-known documents of the MCP endpoints (OAuth 2.0
 * protected resource metadata, RFC 9728), which live at paths no route
 * names. Passes everything else on.
 */
export class McpWellKnownLayer implements Layer {
  readonly name = "mcp-well-known";

  constructor(private readonly mcp: McpLayer) {}

  request(ex: Exchange): Reply | undefined {
    if (ex.path.charCodeAt(1) !== 46 /* "." */ || !ex.path.startsWith("/.well-known/")) return undefined;
    return this.mcp.service?.wellKnown(ex);
  }
}
