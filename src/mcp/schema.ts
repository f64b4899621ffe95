/**
 * The configuration of edge-mcp: the top-level `mcp:` block (tool sources,
 * curation, sessions, limits) and the `mcp:` block of a route (an MCP
 * endpoint: which tools it exposes). Zod lives here only; the data plane
 * reads what src/mcp/settings.ts compiles from the validated output.
 */
import { z } from "zod";
import { duration, size } from "../config/fields.ts";
import { auditConfigSchema } from "./governance/audit/schema.ts";
import { cacheConfigSchema, cachePerToolFields, cacheSourceFields } from "./governance/cache/schema.ts";
import { guardrailsConfigSchema, guardrailsPerToolFields } from "./governance/guardrails/schema.ts";
import { migrationSourceFields, migrationSourceIssues } from "./governance/migration/schema.ts";
import { credentialsSourceFields, oauthConfigSchema } from "./governance/oauth/schema.ts";
import { policyRouteFields } from "./governance/policy/schema.ts";
import { quotaPerToolFields, quotaRouteFields } from "./governance/quota/schema.ts";
import { snapshotsConfigSchema } from "./governance/snapshots/schema.ts";
import { k8sConfigFields } from "./k8s/schema.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const jsonObject = z.record(z.string(), z.unknown());
const globs = z.array(z.string().min(1).max(256)).max(1000);

const selectionSchema = z
  .strictObject({
    tags: z.array(z.string()).optional().meta({ description: "Operations carrying any of these tags." }),
    operations: globs.optional().meta({ description: "operationId globs (* and ?)." }),
    paths: globs.optional().meta({ description: "Path globs, e.g. /orders/*." }),
  })
  .meta({ description: "Which OpenAPI operations: any list that matches selects the operation." });

const httpToolSchema = z
  .strictObject({
    name: z.string().regex(TOOL_NAME, "a tool name is 1 to 128 of A-Z a-z 0-9 _ . -").meta({ description: "The tool's name (before the source's prefix)." }),
    title: z.string().max(256).optional(),
    description: z.string().max(8192).optional().meta({ description: "What the tool does, for the agent." }),
    input_schema: jsonObject.default({ type: "object", properties: {} }).meta({ description: "JSON Schema of the arguments (an object schema)." }),
    output_schema: jsonObject.optional().meta({ description: "JSON Schema of the result: when set, the JSON response body is returned as structuredContent." }),
    annotations: jsonObject.optional().meta({ description: "MCP tool annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint)." }),
    call: z
      .strictObject({
        method: z.string().regex(/^[A-Za-z]+$/).transform((m) => m.toUpperCase()).default("GET"),
        path: z.string().startsWith("/").meta({ description: "Path template; each {name} is an argument, encoded as one segment (e.g. /orders/{id})." }),
        query: z.record(z.string(), z.string()).optional().meta({ description: "Query parameter name → argument name." }),
        headers: z.record(z.string(), z.string()).optional().meta({ description: "Header name → argument name." }),
        body: z.union([z.string(), z.array(z.string())]).optional().meta({ description: 'The JSON body: one argument name (its value is the body), a list of argument names (an object of them), or "*" (every argument not used in the path, query or headers).' }),
        fixed_headers: z.record(z.string(), z.string()).optional().meta({ description: "Headers always sent (use ${ENV} for secrets)." }),
      })
      .meta({ description: "The HTTP call a tool call becomes." }),
  })
  .meta({ description: "A declared HTTP tool." });

export const mcpSourceSchema = z
  .strictObject({
    tools: z.array(httpToolSchema).max(10_000).optional().meta({ description: "Declared HTTP tools (this source is then of kind http)." }),
    openapi: z.string().min(1).optional().meta({ description: "An OpenAPI 3.0/3.1 document, a file (relative to the config file) or an http(s) URL: each operation becomes a tool." }),
    include: selectionSchema.optional(),
    exclude: selectionSchema.optional(),
    upstream: z.string().regex(/^https?:\/\/[^/]/).optional().meta({ description: "Where the HTTP calls of declared or OpenAPI tools go. Without it, they go through the gateway's own routes (so migrations, auth, rate limits and metrics apply) and must match one." }),
    url: z.string().regex(/^https?:\/\/[^/]/).optional().meta({ description: "A federated MCP server over Streamable HTTP (either protocol era)." }),
    headers: z.record(z.string(), z.string()).optional().meta({ description: "Headers sent to the federated server (use ${ENV} for secrets)." }),
    command: z.array(z.string().min(1)).min(1).optional().meta({ description: "A federated MCP server over stdio: the command and its arguments. Ficus spawns, supervises and restarts it." }),
    env: z.record(z.string(), z.string()).optional().meta({ description: "Environment of the stdio command (added to a minimal one: PATH and HOME)." }),
    cwd: z.string().optional().meta({ description: "Working folder of the stdio command." }),
    prefix: z.string().regex(/^[A-Za-z0-9_.-]{0,64}$/).optional().meta({ description: 'Put before each tool name as "<prefix>__<name>". Default: the source\'s name when there is more than one source, none otherwise; "" for none.' }),
    allow: globs.optional().meta({ description: "Only tools whose (source) name matches one of these globs." }),
    deny: globs.optional().meta({ description: "Never tools whose (source) name matches one of these globs." }),
    rename: z.record(z.string(), z.string().regex(TOOL_NAME)).optional().meta({ description: "Source tool name → the name agents see (no prefix is added to a renamed tool)." }),
    descriptions: z.record(z.string(), z.string().max(8192)).optional().meta({ description: "Source tool name → a description replacing the source's." }),
    fixed_arguments: z.record(z.string(), jsonObject).optional().meta({ description: "Source tool name → argument values always sent: removed from the schema the agent sees and injected on every call (what the agent sends for them is ignored)." }),
    timeout: duration("0s", "Longest a call to this source's tools may take; past it the call is cancelled upstream and the agent gets a tool error. 0 means mcp.call_timeout."),
    per_tool: z
      .record(z.string(), z.strictObject({ ...cachePerToolFields, ...guardrailsPerToolFields, ...quotaPerToolFields }))
      .optional()
      .meta({ description: "Source tool name → governance settings of that tool (cache, guardrails, cost)." }),
    ...credentialsSourceFields,
    ...migrationSourceFields,
    ...cacheSourceFields,
  })
  .superRefine((s, ctx) => {
    const kinds = [s.tools !== undefined && "tools", s.openapi !== undefined && "openapi", s.url !== undefined && "url", s.command !== undefined && "command"].filter(Boolean);
    if (kinds.length !== 1) ctx.addIssue({ code: "custom", message: `give exactly one of tools, openapi, url or command${kinds.length ? ` (got ${kinds.join(" and ")})` : ""}` });
    if ((s.include || s.exclude) && s.openapi === undefined) ctx.addIssue({ code: "custom", message: "include and exclude select OpenAPI operations; use allow/deny for other sources", path: ["include"] });
    if (s.upstream !== undefined && s.tools === undefined && s.openapi === undefined) ctx.addIssue({ code: "custom", message: "upstream is for declared or OpenAPI tools (a federated server is reached at url or command)", path: ["upstream"] });
    if ((s.env || s.cwd) && s.command === undefined) ctx.addIssue({ code: "custom", message: "env and cwd are for a stdio command", path: ["env"] });
    if (s.headers && s.url === undefined) ctx.addIssue({ code: "custom", message: "headers are for a federated server at url (declared tools set call.fixed_headers)", path: ["headers"] });
    for (const issue of migrationSourceIssues(s)) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    if ((s as { credentials?: unknown }).credentials !== undefined && s.command !== undefined) ctx.addIssue({ code: "custom", message: "a stdio source makes no HTTP requests to carry credentials: give the server its secrets with env", path: ["credentials"] });
  })
  .meta({ description: "A tool source: declared HTTP tools, an OpenAPI document, a federated MCP server (url or command), with its curation." });

export const mcpConfigSchema = z
  .strictObject({
    sources: z.record(z.string().regex(SOURCE_NAME, "a source name is 1 to 32 of A-Z a-z 0-9 _ - (it becomes a tool-name prefix)"), mcpSourceSchema).default({}).meta({ description: "The tool sources, by name." }),
    session: z
      .strictObject({
        key: z
          .string()
          .regex(/^[A-Za-z0-9+/_-]{43}=?$/, "expected 32 bytes in base64 (e.g. the output of `openssl rand -base64 32`)")
          .optional()
          .meta({ description: "The key sealing session ids of 2025-era clients (32 bytes, base64; use ${ENV}). Every replica behind one load balancer needs the same key; without it each gateway makes its own at start, which its workers share." }),
        ttl: duration("24h", "A session ends this long after it was opened: its id is then refused with 404 and the client starts a new one, as the spec has it.", { min: 1000 }),
      })
      .prefault({})
      .meta({ description: "Sessions of 2025-era clients: self-contained sealed ids, valid on any replica holding the key." }),
    allowed_origins: z.array(z.string().min(1)).default([]).meta({ description: 'Origins a browser-based client may call from (exact, e.g. "https://app.example.com", or "*"). A request with an Origin not listed is refused with 403 (DNS-rebinding protection). Requests without Origin are not browser requests and pass. Default: none, except the loopback origins when the gateway listens on loopback.' }),
    allowed_hosts: z.array(z.string().min(1)).default([]).meta({ description: "Host header values accepted (hostname or hostname:port). Default: any, except that a gateway listening on loopback accepts only localhost, 127.0.0.1 and [::1] (DNS-rebinding protection)." }),
    max_request_body: size("4MiB", "Largest MCP message accepted (413 above it).", { min: KIB, max: 256 * MIB }),
    max_response_body: size("16MiB", "Largest result relayed from a source; a larger one becomes a tool error.", { min: KIB, max: 1024 * MIB }),
    call_timeout: duration("60s", "Default longest tool call (a source's timeout overrides it).", { min: 1 }),
    list_page_size: z.number().int().min(1).max(100_000).default(1000).meta({ description: "Items per page of tools/list, resources/list and prompts/list. Default 1000." }),
    // --- governance (src/mcp/governance/) ---
    audit: auditConfigSchema.prefault({}),
    snapshots: snapshotsConfigSchema.prefault({}),
    cache: cacheConfigSchema.prefault({}),
    guardrails: guardrailsConfigSchema.prefault({}),
    oauth: oauthConfigSchema.prefault({}),
    ...k8sConfigFields,
    // --- tool-definition pinning (src/mcp/pinning/) ---
    pinning: z
      .strictObject({
        mode: z.enum(["hide", "flag", "off"]).default("hide").meta({ description: 'What agents see of a tool whose upstream definition (title, description, schemas, annotations) differs from the one approved: "hide" leaves it out until approved (`ficus mcp approve`), "flag" lists it with "[UNAPPROVED CHANGE] " (a new tool held by trust_new: false, "[UNAPPROVED TOOL] ") before its description and _meta["io.ficus/pin"] naming both hashes, "off" pins nothing. Default hide.' }),
        trust_new: z.boolean().default(true).meta({ description: "Pin a tool seen for the first time as approved (trust on first use, default), or hold it for approval like a change (false)." }),
        store: z.string().min(1).default(".ficus/mcp-pins.db").meta({ description: "SQLite file of the pins (created with its folder), relative to the config file's folder; shared by the gateway's processes and the admin API. Default .ficus/mcp-pins.db." }),
      })
      .prefault({})
      .meta({ description: "Pinning of the tool definitions of federated servers (url, command) and of OpenAPI documents read over HTTP: a changed definition (a rug pull, a poisoned description) is hidden or flagged until an operator approves it. Tools declared in the config, or read from a file beside it, change with the config and are not pinned." }),
  })
  .meta({ description: "edge-mcp: HTTP APIs and MCP servers as one MCP endpoint for AI agents (docs/mcp.md)." });

export const routeMcpSchema = z
  .strictObject({
    sources: z.array(z.string()).optional().meta({ description: "The sources this endpoint serves. Default: all." }),
    tools: globs.default(["*"]).meta({ description: "Globs over the names agents see: the tools this endpoint exposes (a virtual endpoint). Default all." }),
    max_tools: z.number().int().min(1).max(100_000).default(10_000).meta({ description: "At most this many tools are listed (the rest are left out and a warning logged). Default 10000." }),
    name: z.string().max(128).default("ficus").meta({ description: "serverInfo.name this endpoint announces. Default ficus." }),
    ...policyRouteFields,
    ...quotaRouteFields,
  })
  .meta({ description: "Serve MCP at this route's path instead of forwarding (edge-mcp)." });

export type McpConfig = z.output<typeof mcpConfigSchema>;
export type McpSourceConfig = z.output<typeof mcpSourceSchema>;
export type RouteMcpConfig = z.output<typeof routeMcpSchema>;

/** Problems across the config: routes naming unknown sources. */
export function mcpIssues(c: { mcp: McpConfig; routes: readonly { mcp?: RouteMcpConfig | undefined }[] }): { message: string; path: (string | number)[] }[] {
  const out: { message: string; path: (string | number)[] }[] = [];
  const known = Object.keys(c.mcp.sources);
  c.routes.forEach((r, i) => {
    r.mcp?.sources?.forEach((s, j) => {
      if (!known.includes(s)) out.push({ message: `unknown MCP source ${JSON.stringify(s)}; known: ${known.join(", ") || "(none)"}`, path: ["routes", i, "mcp", "sources", j] });
    });
  });
  return out;
}
