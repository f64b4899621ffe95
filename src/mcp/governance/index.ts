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
import { createAuditGuard } from "./audit/index.ts";
import { createSnapshotGuard } from "./snapshots/index.ts";
import { createPolicyGuard } from "./policy/index.ts";
import { createQuotaGuard } from "./quota/index.ts";
import { createCacheGuard } from "./cache/index.ts";
import { createGuardrailsGuard } from "./guardrails/index.ts";
import { createMigrationGuard } from "./migration/index.ts";

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

/** The guards, outermost first. */
const PARTS: readonly Factory[] = [createAuditGuard, createSnapshotGuard, createPolicyGuard, createQuotaGuard, createCacheGuard, createGuardrailsGuard, createMigrationGuard];

export function buildGuards(deps: GuardDeps): CallGuard[] {
  const out: CallGuard[] = [];
  for (const make of PARTS) {
    const g = make(deps);
    if (g !== undefined) out.push(g);
  }
  return out;
}
