/**
 * edge-mcp in one data-plane process: the sources the `mcp:` block declares
 * (declared HTTP tools, OpenAPI documents, federated servers over Streamable
 * HTTP or stdio), the registry merging them, and one endpoint per route with
 * an `mcp:` block. Built from a validated config; a reload that changes the
 * MCP part builds a new service beside the old one, starts it, swaps, and
 * closes the old one once its calls are done (see McpLayer).
 */
import { FicusError } from "../core/errors.ts";
import type { FicusConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { UpstreamClients } from "../upstream/clients.ts";
import { McpEndpoint } from "./front/endpoint.ts";
import { buildGuards } from "./governance/index.ts";
import { createOAuthResource, type OAuthResource, upstreamCredentials } from "./governance/oauth/index.ts";
import type { Exchange, Reply } from "../pipeline/exchange.ts";
import { originPolicy } from "./front/origin.ts";
import { SessionSeal } from "./front/session.ts";
import { McpMetrics } from "./metrics.ts";
import type { PinGuard } from "./pinning/guard.ts";
import { createPinGuard } from "./pinning/index.ts";
import { Curation } from "./registry/curation.ts";
import { EndpointView, type RegisteredSource, Registry } from "./registry/registry.ts";
import type { McpSourceConfig } from "./schema.ts";
import { HttpToolsSource } from "./sources/http-source.ts";
import { type HttpInvoker, PipelineInvoker, UpstreamInvoker } from "./sources/http-invoke.ts";
import type { HttpToolSpec } from "./sources/http/spec.ts";
import type { ToolSource } from "./types.ts";

/** The env variable carrying the session key a gateway made for itself (its workers inherit it). */
export const AUTO_SESSION_KEY_ENV = "FICUS_MCP_SESSION_KEY_AUTO";

export interface McpServiceDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly pipeline: () => Pipeline;
  readonly clients: UpstreamClients;
  /** Where relative paths (OpenAPI files, stdio cwd) are read from: the config file's folder. */
  readonly configDir: string;
  /** Ended 2025-era sessions, kept across the services a reload builds. */
  readonly revoked?: Map<string, number>;
}

/** The part of the config the service is built from: a reload that leaves it alone keeps the service (and its connections). */
export function mcpFingerprint(c: FicusConfig): string {
  return JSON.stringify([c.mode, c.mcp, c.listen.hostname, c.routes.filter((r) => r.mcp !== undefined).map((r) => [r.name, r.mcp])]);
}

function sessionKey(c: FicusConfig): string {
  const configured = c.mcp.session.key;
  if (configured !== undefined) return configured;
  let auto = process.env[AUTO_SESSION_KEY_ENV];
  if (auto === undefined) {
    auto = SessionSeal.newKey();
    process.env[AUTO_SESSION_KEY_ENV] = auto;
  }
  return auto;
}

function declaredSpecs(s: McpSourceConfig): HttpToolSpec[] {
  return (s.tools ?? []).map((t) => {
    const spec: HttpToolSpec = {
      name: t.name,
      inputSchema: t.input_schema,
      call: {
        method: t.call.method,
        path: t.call.path,
        ...(t.call.query ? { query: t.call.query } : {}),
        ...(t.call.headers ? { headers: t.call.headers } : {}),
        ...(t.call.body !== undefined ? { body: t.call.body } : {}),
        ...(t.call.fixed_headers ? { fixed_headers: t.call.fixed_headers } : {}),
      },
    };
    if (t.title !== undefined) spec.title = t.title;
    if (t.description !== undefined) spec.description = t.description;
    if (t.output_schema !== undefined) spec.outputSchema = t.output_schema;
    if (t.annotations !== undefined) spec.annotations = t.annotations;
    return spec;
  });
}

export class McpService {
  readonly registry: Registry;
  private readonly endpoints = new Map<string, McpEndpoint>();
  readonly seal: SessionSeal;
  private readonly mcpMetrics: McpMetrics;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private readonly oauth: OAuthResource | undefined;
  private readonly closers: (() => void | Promise<void>)[] = [];
  /** Tool pinning (src/mcp/pinning/); undefined when mcp.pinning.mode is off. */
  private readonly pins: PinGuard | undefined;

  constructor(
    readonly config: FicusConfig,
    private readonly deps: McpServiceDeps,
  ) {
    const c = config.mcp;
    this.mcpMetrics = McpMetrics.of(deps.metrics);
    this.seal = new SessionSeal(sessionKey(config), c.session.ttl, deps.revoked);
    const names = Object.keys(c.sources);
    const entries: RegisteredSource[] = names.map((name) => {
      const s = c.sources[name] as McpSourceConfig;
      const prefix = s.prefix ?? (names.length > 1 ? name : "");
      return {
        source: this.makeSource(name, s),
        curation: new Curation({ prefix, allow: s.allow, deny: s.deny, rename: s.rename, descriptions: s.descriptions, fixed_arguments: s.fixed_arguments }),
        timeout: s.timeout > 0 ? s.timeout : c.call_timeout,
        pinned: s.url !== undefined || s.command !== undefined || (s.openapi !== undefined && /^https?:\/\//i.test(s.openapi)),
      };
    });
    this.pins = createPinGuard(c, { configDir: deps.configDir, metrics: deps.metrics, logger: deps.logger });
    this.registry = new Registry(entries, deps.logger, this.pins);
    const origin = originPolicy(c.allowed_origins, c.allowed_hosts, config.listen.hostname);
    this.oauth = createOAuthResource(config, deps.logger);
    const shared = new Map<string, unknown>();
    for (const r of config.routes) {
      if (r.mcp === undefined) continue;
      const guards = buildGuards({ config, route: r, registry: this.registry, logger: deps.logger, metrics: deps.metrics, configDir: deps.configDir, shared, onClose: (fn) => this.closers.push(fn) });
      const view = new EndpointView(this.registry, r.mcp);
      view.onCapped = (listed, total) => deps.logger.warn("an MCP endpoint lists fewer tools than its sources offer (max_tools)", { route: r.name, listed, total });
      this.endpoints.set(
        r.name,
        new McpEndpoint(
          view,
          { route: r.name, name: r.mcp.name, maxRequestBody: c.max_request_body, maxResponseBody: c.max_response_body, pageSize: c.list_page_size, origin },
          this.seal,
          this.registry,
          deps.logger,
          this.mcpMetrics,
          c.call_timeout,
          guards,
        ),
      );
    }
  }

  private makeSource(name: string, s: McpSourceConfig): ToolSource {
    const { logger } = this.deps;
    const timeout = s.timeout > 0 ? s.timeout : this.config.mcp.call_timeout;
    // The source's own credentials for its upstream (never the agent's token): static, client credentials, token exchange.
    const credentials = upstreamCredentials(name, s, { logger });
    const maxResponseBody = this.config.mcp.max_response_body;
    if (s.tools !== undefined || s.openapi !== undefined) {
      const invoker: HttpInvoker =
        s.upstream !== undefined
          ? (() => {
              const url = new URL(s.upstream);
              return new UpstreamInvoker(url, () => this.deps.clients.for(url), timeout);
            })()
          : new PipelineInvoker(this.deps.pipeline, this.config.listen.hostname);
      const onSkipped = (tool: string, why: string) => logger.warn("an MCP tool was left out", { source: name, tool, reason: why });
      if (s.tools !== undefined) {
        const specs = declaredSpecs(s);
        return new HttpToolsSource({ name, kind: "http", load: async () => specs, invoker, maxResponseBody, onSkipped, credentials });
      }
      const location = s.openapi as string;
      return new HttpToolsSource({
        name,
        kind: "openapi",
        credentials,
        invoker,
        maxResponseBody,
        onSkipped,
        load: async () => {
          const { convertOpenApi } = await import("./sources/http/openapi-child.ts");
          const doc = await convertOpenApi(location, { ...(s.include ? { include: s.include } : {}), ...(s.exclude ? { exclude: s.exclude } : {}) }, this.deps.configDir);
          for (const sk of doc.skipped) onSkipped(sk.operation, sk.reason);
          return doc.tools;
        },
      });
    }
    const federated = require("./sources/federated/index.ts") as typeof import("./sources/federated/index.ts");
    const onLog = (line: string) => logger.info("MCP server stderr", { source: name, line });
    if (s.url !== undefined) return new federated.McpHttpSource({ name, url: s.url, headers: s.headers, timeout, onLog, credentials });
    if (s.command !== undefined) return new federated.StdioSource({ name, command: s.command, env: s.env, cwd: s.cwd ?? this.deps.configDir, timeout, onLog });
    throw new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${name}: no tools, openapi, url or command`);
  }

  /** Starts every source (failures are logged; the others are served). */
  async start(): Promise<void> {
    await this.registry.start();
    // Reading documents and compiling thousands of tools leaves much garbage: give it back now, not at the first busy moment.
    Bun.gc(true);
    this.refreshStatus();
    this.statusTimer = setInterval(() => this.refreshStatus(), 5000);
    this.statusTimer.unref?.();
  }

  private refreshStatus(): void {
    for (const e of this.registry.entries) this.mcpMetrics.sourceUp.set({ source: e.source.name, kind: e.source.kind }, e.source.status().state === "up" ? 1 : 0);
    for (const [route, ep] of this.endpoints) this.mcpMetrics.tools.set({ endpoint: route }, ep.toolCount());
  }

  endpoint(route: string): McpEndpoint | undefined {
    return this.endpoints.get(route);
  }

  /** For the admin API: each source's state and tool count. */
  sources(): { name: string; kind: string; state: string; detail?: string; tools: number }[] {
    return this.registry.entries.map((e) => ({ name: e.source.name, kind: e.source.kind, ...e.source.status(), tools: e.source.tools().length }));
  }

  /** A well-known document of the MCP endpoints (OAuth protected resource metadata), or undefined. */
  wellKnown(ex: Exchange): Reply | undefined {
    return this.oauth?.wellKnown(ex);
  }

  async close(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    for (const ep of this.endpoints.values()) ep.close();
    this.oauth?.close?.();
    for (const fn of this.closers.splice(0)) await fn();
    await this.registry.close();
    this.pins?.close();
  }
}
