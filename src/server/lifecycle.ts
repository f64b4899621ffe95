/**
 * What every Ficus process does the same way: reload on SIGHUP and on file
 * change, drain on SIGTERM/SIGINT, and report config problems without dying.
 */
import { ConfigError, FicusError } from "../core/errors.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ConfigSource } from "../config/source.ts";
import type { MigrationEvent } from "../migration/store.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";

export interface ReloadOutcome {
  readonly ok: boolean;
  readonly loaded?: LoadedConfig;
  readonly errors?: readonly string[];
}

/** Reads and validates the source; never throws. */
export function tryLoad(source: ConfigSource, logger: Logger): ReloadOutcome {
  try {
    return { ok: true, loaded: source.load() };
  } catch (err) {
    const errors = err instanceof ConfigError ? [...err.issues] : [err instanceof Error ? err.message : String(err)];
    const code = err instanceof FicusError ? err.code : "FICUS_CONFIG_INVALID";
    logger.error("config rejected; keeping the current config", { code, source: source.label, errors });
    return { ok: false, errors };
  }
}

/** Wires SIGHUP and file changes to `reload`, SIGTERM/SIGINT to `stop` (once). Returns an unsubscribe function. */
export function onSignals(source: ConfigSource, reload: () => void, stop: (signal: string) => void): () => void {
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
  const unwatch = source.watch(reload);
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
