/**
 * Migrating MCP sources as the route migrations see them: each federated
 * source with a `candidate` is a migration named `mcp:<source>`, described by
 * a route config (stage, canary plan and gates, shadow noise, compare rules)
 * built from the source's fields. The commands (`ficus promote|rollback`),
 * the controller (gates, automatic promotion and rollback) and the report
 * take these beside the routes with a candidate, so a source migrates through
 * the same store, state machine and audit trail as a route. The data plane
 * (this folder's guard) keys its runtime state on the same config key.
 */
import { type FicusConfig, type RouteConfig, routeSchema } from "../../../config/schema.ts";
import type { McpSourceConfig } from "../../schema.ts";

export const MCP_MIGRATION_PREFIX = "mcp:";

/** The migration name of a source: `mcp:<source>`. */
export function migrationName(source: string): string {
  return `${MCP_MIGRATION_PREFIX}${source}`;
}

/** What the candidate is, for listings: its URL, or `stdio:` and its command. */
export function candidateLabel(s: McpSourceConfig): string {
  const c = s.candidate;
  if (c === undefined) return "";
  return c.url ?? `stdio:${(c.command ?? []).join(" ")}`;
}

/** True when some MCP source has a candidate (the gateway then loads the migration machinery). */
export { hasMcpMigrations } from "./has.ts";

const built = new WeakMap<FicusConfig, RouteConfig[]>();
let base: RouteConfig | undefined;

/**
 * The route configs of the migrating sources (`mcp:<source>`), in the order declared. Never part of
 * `config.routes` (nothing is routed by them): only what the migration commands, controller and report read.
 */
export function mcpMigrationRoutes(config: FicusConfig): RouteConfig[] {
  const have = built.get(config);
  if (have !== undefined) return have;
  // Every other field of a route at its default (parsed once): retries, timeouts, … are never read for these.
  base ??= routeSchema.parse({ name: "mcp-migration" });
  const out: RouteConfig[] = [];
  for (const [name, s] of Object.entries(config.mcp.sources)) {
    if (s.candidate === undefined) continue;
    out.push(sourceRoute(base, name, s));
  }
  built.set(config, out);
  return out;
}

/** The route config of one migrating source. */
export function sourceRoute(base: RouteConfig, name: string, s: McpSourceConfig): RouteConfig {
  const c = s.canary;
  return {
    ...base,
    name: migrationName(name),
    stage: s.stage,
    candidate: candidateLabel(s),
    served_by_header: false,
    canary: {
      percent: c.percent,
      sticky: { header: undefined, cookie: undefined, fallback: "ip", salt: c.salt },
      allow_force: false,
      steps: c.steps,
      rollback_to: c.rollback_to,
      auto: c.auto,
      step: c.step,
      gates: c.gates,
    },
    compare: s.compare,
    shadow: { ...base.shadow, sample: s.shadow.sample, aa: s.shadow.aa, max_concurrency: s.shadow.max_concurrency, timeout: s.shadow.timeout, noise: s.shadow.noise, redact: s.shadow.redact, allow_unsafe: false },
  };
}
