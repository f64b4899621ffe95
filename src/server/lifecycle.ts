/**
 * What every Ficus process does the same way: reload on SIGHUP and on file
 * change, drain on SIGTERM/SIGINT, and report config problems without dying.
 */
import { ConfigError, type ErrorCode, FicusError } from "../core/errors.ts";
import type { LoadedConfig } from "../config/load.ts";
import { diffRoutes, reloadRefusal, type RouteChanges } from "../config/reload-plan.ts";
import type { ConfigSource } from "../config/source.ts";
import type { MigrationEvent } from "../migration/store.ts";
import type { ReloadResult } from "../admin/server.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";

export interface ReloadOutcome {
  readonly ok: boolean;
  /** What was validated: exactly what is applied and sent to workers (the file may change again meanwhile). */
  readonly loaded?: LoadedConfig;
  readonly errors?: readonly string[];
  readonly code?: ErrorCode;
  readonly changes?: RouteChanges;
}

/** Reads and validates the source; never throws. */
export function tryLoad(source: ConfigSource, logger: Logger, check?: (loaded: LoadedConfig) => void): ReloadOutcome {
  try {
    const loaded = source.load();
    check?.(loaded);
    return { ok: true, loaded };
  } catch (err) {
    const errors = err instanceof ConfigError ? [...err.issues] : [err instanceof Error ? err.message : String(err)];
    const code = err instanceof FicusError ? err.code : "FICUS_CONFIG_INVALID";
    logger.error("config rejected; keeping the current config", { code, source: source.label, errors });
    return { ok: false, errors, code };
  }
}

/**
 * A reload: read and validate once, then check what it changes against the
 * running config. Refuses (unless `force`) a config that removes every route
 * or more than reload.max_removed_routes of them; logs the routes it adds,
 * removes and changes. Never throws.
 */
export function tryReload(source: ConfigSource, logger: Logger, current: LoadedConfig, force = false, check?: (loaded: LoadedConfig) => void): ReloadOutcome {
  const r = tryLoad(source, logger, check);
  if (!r.ok || !r.loaded) return r;
  const changes = diffRoutes(current.config, r.loaded.config);
  const refusal = reloadRefusal(current.config, r.loaded.config, changes);
  if (refusal !== undefined && !force) {
    logger.error("config reload refused; keeping the current config", { code: "FICUS_RELOAD_REFUSED", source: source.label, reason: refusal, removed: capped(changes.removed) });
    return { ok: false, errors: [refusal], code: "FICUS_RELOAD_REFUSED", changes };
  }
  logger.info("config reloaded", {
    source: source.label,
    routes: r.loaded.config.routes.length,
    added: capped(changes.added),
    removed: capped(changes.removed),
    changed: capped(changes.changed),
    ...(refusal !== undefined ? { forced: true } : {}),
  });
  return { ...r, changes };
}

/** Route names for a log line: all of them up to 100, then the first 100 and a count (a log line stays readable). */
function capped(names: readonly string[]): readonly string[] {
  return names.length <= 100 ? names : [...names.slice(0, 100), `(and ${names.length - 100} more)`];
}

/** The admin API's answer to a reload. */
export function reloadResult(r: ReloadOutcome): ReloadResult {
  if (r.ok) return { ok: true, changes: r.changes };
  return { ok: false, code: r.code, errors: r.errors ?? [], ...(r.changes ? { changes: r.changes } : {}) };
}

/** Wires SIGHUP and file changes to `reload`, SIGTERM/SIGINT to `stop` (once). Returns an unsubscribe function. */
export function onSignals(source: ConfigSource, reload: () => void, stop: (signal: string) => void, settleMs?: () => number): () => void {
  let stopping = false;
  const onStop = (sig: string) => () => {
    if (stopping) return;
    stopping = true;
    stop(sig);
  };
  const term = onStop("SIGTERM");
  const int = onStop("SIGINT");
  process.on("SIGHUP", reload);
  process.on("SIGTERM", term);
  process.on("SIGINT", int);
  const unwatch = source.watch(reload, settleMs);
  return () => {
    process.off("SIGHUP", reload);
    process.off("SIGTERM", term);
    process.off("SIGINT", int);
    unwatch();
  };
}

/** Logs a migration command's event and counts a transition it made. */
export function recordEvent(e: MigrationEvent, metrics: Metrics, logger: Logger): void {
  logger.info(e.changed ? "migration transition" : "migration command changed nothing", {
    route: e.route,
    actor: e.actor,
    action: e.action,
    from: e.from,
    to: e.to,
    message: e.message,
    event: e.id,
  });
  if (e.changed) metrics.transitions.inc({ route: e.route, action: e.action, actor: e.actor });
}
