/**
 * The guards of each MCP endpoint, built from the config (docs/mcp.md,
 * "Governance"). Order matters (guard.ts): the audit line and snapshots see
 * everything, including what the guards after them decided; the policy
 * decides before a quota is spent; a cache hit is answered before the
 * guardrails and the migration (a cached result was guarded when stored);
 * the guardrails redact and cut a result before it is cached; the migration
 * chooses the side that serves, next to the call.
 */
import type { FicusConfig, RouteConfig } from "../../config/schema.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Registry } from "../registry/registry.ts";
import type { CallGuard } from "./guard.ts";

/** What a part needs to build its guard for one endpoint. */
export interface GuardDeps {
  readonly config: FicusConfig;
  /** The route whose `mcp:` block makes the endpoint. */
  readonly route: RouteConfig;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where relative paths (policies, stores) are read from: the config file's folder. */
  readonly configDir: string;
  /** One per service: what a part shares between the endpoints it guards (a store, a file, a connection). */
  readonly shared: Map<string, unknown>;
  /** Registers what to release when the service is closed (a reload replaced it, or the gateway stops). */
  readonly onClose: (fn: () => void | Promise<void>) => void;
}

type Factory = (deps: GuardDeps) => CallGuard | undefined;

/** A part: whether the config uses it (checked without loading it), and its factory, loaded only then. */
interface Part {
  readonly wanted: (deps: GuardDeps) => boolean;
  readonly load: () => Factory;
}

const sources = (d: GuardDeps) => Object.values(d.config.mcp.sources);

/**
 * The guards, outermost first. A part is loaded (Bun's synchronous require) only when the config uses it: an MCP
 * endpoint without a policy never loads the Rego engine, one without migrations never loads the compare engine.
 */
const PARTS: readonly Part[] = [
  { wanted: (d) => d.config.mcp.audit.enabled, load: () => (require("./audit/index.ts") as typeof import("./audit/index.ts")).createAuditGuard },
  { wanted: (d) => d.config.mcp.snapshots.enabled, load: () => (require("./snapshots/index.ts") as typeof import("./snapshots/index.ts")).createSnapshotGuard },
  { wanted: (d) => d.route.mcp?.policy !== undefined, load: () => (require("./policy/index.ts") as typeof import("./policy/index.ts")).createPolicyGuard },
  { wanted: (d) => (d.route.mcp?.quotas?.length ?? 0) > 0 || d.route.mcp?.budget !== undefined, load: () => (require("./quota/index.ts") as typeof import("./quota/index.ts")).createQuotaGuard },
  { wanted: (d) => sources(d).some((s) => Object.values(s.per_tool ?? {}).some((t) => t.cache !== undefined)), load: () => (require("./cache/index.ts") as typeof import("./cache/index.ts")).createCacheGuard },
  { wanted: () => true, load: () => (require("./guardrails/index.ts") as typeof import("./guardrails/index.ts")).createGuardrailsGuard },
  { wanted: (d) => sources(d).some((s) => s.candidate !== undefined), load: () => (require("./migration/index.ts") as typeof import("./migration/index.ts")).createMigrationGuard },
];

export function buildGuards(deps: GuardDeps): CallGuard[] {
  const out: CallGuard[] = [];
  for (const part of PARTS) {
    if (!part.wanted(deps)) continue;
    const g = part.load()(deps);
    if (g !== undefined) out.push(g);
  }
  return out;
}
