/**
 * Tool-definition pinning (rug-pull defence) for edge-mcp: what the service
 * and the admin API use. `createPinGuard` builds the data plane's guard (its
 * own connection to the pin store, metrics and a log line per change);
 * `adminPinsFor` the admin side's (another connection, kept per file, so an
 * approval made there is seen by every process's `changed()`).
 */
import { isAbsolute, resolve } from "node:path";
import type { Logger } from "../../observability/logger.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { PinGuard, type PinPolicy } from "./guard.ts";
import { PinMetrics } from "./metrics.ts";
import { DEFAULT_PIN_STORE, PinStore } from "./store.ts";

export { canonicalJson, definitionDiff, definitionHash, type FieldChange, type PinnedDefinition } from "./hash.ts";
export { CHANGED_PREFIX, NEW_PREFIX, PIN_META_KEY, PinGuard, type PendingChange, type PinChangeEvent, type PinGuardOptions, type PinPolicy, type PinSelection } from "./guard.ts";
export { PinMetrics } from "./metrics.ts";
export { DEFAULT_PIN_STORE, PinStore } from "./store.ts";

/** The `mcp.pinning` block of the config. */
export interface PinningConfig extends PinPolicy {
  /** SQLite file of the pins, relative to the config file's folder. */
  readonly store: string;
}

export function pinStorePath(p: Pick<PinningConfig, "store">, configDir: string): string {
  const file = p.store || DEFAULT_PIN_STORE;
  return isAbsolute(file) ? file : resolve(configDir, file);
}

/**
 * The data plane's guard, or undefined when pinning is off. Each change first seen here is counted
 * (ficus_mcp_tool_definition_changes_total) and logged; the pending gauge reads the store when scraped.
 * The caller closes it with the service.
 */
export function createPinGuard(c: McpPinningSubject, deps: { readonly configDir: string; readonly metrics: Metrics; readonly logger: Logger }): PinGuard | undefined {
  const p = c.pinning;
  const m = PinMetrics.of(deps.metrics);
  if (p.mode === "off") {
    m.readPendingFrom(undefined);
    return undefined;
  }
  const path = pinStorePath(p, deps.configDir);
  const guard = new PinGuard(new PinStore(path), { mode: p.mode, trust_new: p.trust_new }, (e) => {
    m.changes.inc({ source: e.source, tool: e.tool });
    deps.logger.warn(
      e.kind === "changed"
        ? "an MCP tool's definition changed upstream; it waits for approval (ficus mcp pins, ficus mcp approve)"
        : "a new MCP tool waits for approval (ficus mcp pins, ficus mcp approve)",
      { source: e.source, tool: e.tool, mode: p.mode, store: path },
    );
  }, {
    onError: (source, err) => deps.logger.error("the MCP pin store cannot be read; the source lists only tools already checked", { source, store: path, error: (err as Error).message }),
    upstreamOf: (source) => upstreamOf(c.sources[source]),
  });
  m.readPendingFrom(() => guard.pendingCount());
  return guard;
}

/** What createPinGuard reads of the `mcp:` block. */
export interface McpPinningSubject {
  readonly pinning: PinningConfig;
  readonly sources: Readonly<Record<string, { readonly url?: string | undefined; readonly command?: readonly string[] | undefined; readonly openapi?: string | undefined } | undefined>>;
}

/** Where a source's tools come from, as pins remember it. */
function upstreamOf(s: McpPinningSubject["sources"][string]): string | undefined {
  if (s === undefined) return undefined;
  if (s.url !== undefined) return s.url;
  if (s.command !== undefined) return JSON.stringify(s.command);
  return s.openapi;
}

const adminStores = new Map<string, PinStore>();

/**
 * The admin API's pins for a config: undefined when it serves no MCP route or pinning is off. One connection
 * per file for the process's life; the guard is made per request, so it follows the config's sources.
 */
export function adminPinsFor(c: { readonly mcp: McpPinningSubject; readonly routes: readonly { readonly mcp?: unknown }[] }, configDir: string): PinGuard | undefined {
  const p = c.mcp.pinning;
  if (p.mode === "off" || !c.routes.some((r) => r.mcp !== undefined)) return undefined;
  const path = pinStorePath(p, configDir);
  let store = adminStores.get(path);
  if (store === undefined) {
    store = new PinStore(path);
    adminStores.set(path, store);
  }
  return new PinGuard(store, { mode: p.mode, trust_new: p.trust_new }, undefined, { upstreamOf: (source) => upstreamOf(c.mcp.sources[source]) });
}
