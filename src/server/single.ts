/**
 * One process serving everything: data plane, admin API, reload, drain.
 * Used for `--workers 1` (the benchmark setting) and by tests.
 */
import type { Server } from "bun";
import { type LoadedConfig, redactConfig } from "../config/load.ts";
import type { ConfigSource } from "../config/source.ts";
import type { Logger } from "../observability/logger.ts";
import { FicusError } from "../core/errors.ts";
import { configDir } from "./enforcement.ts";
import { guardProcess } from "./guard.ts";
import { Gateway } from "./gateway.ts";
import type { ReloadResult } from "../admin/server.ts";
import { onSignals, recordEvent, reloadResult, tryReload } from "./lifecycle.ts";

export interface RunningProcess {
  readonly gateway: Gateway;
  readonly admin: Server<undefined>;
  reload(force?: boolean): ReloadResult;
  stop(): Promise<boolean>;
}

/** `loaded`: the source's config when the caller has just validated it (ficus start), so it is not parsed twice. */
export async function runSingleProcess(
  source: ConfigSource,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
  loaded: LoadedConfig = source.load(),
): Promise<RunningProcess> {
  logger.setLevel(loaded.config.log.level);
  guardProcess(logger);
  const gateway = await Gateway.start({ loaded, logger, reusePort: false });
  const reload = (force = false): ReloadResult => {
    const r = tryReload(source, logger, gateway.config, force);
    if (r.ok && r.loaded) {
      try {
        gateway.apply(r.loaded);
      } catch (err) {
        // A TLS file named by the new config does not load (FICUS_TLS_*): the running config stays whole.
        const code = err instanceof FicusError ? err.code : "FICUS_INTERNAL";
        logger.error("config reload failed; keeping the current config", { code, error: (err as Error).message });
        gateway.metrics.configReloads.inc({ result: "failure" });
        return { ok: false, code, errors: [(err as Error).message] };
      }
      gateway.metrics.configReloads.inc({ result: "success" });
    } else gateway.metrics.configReloads.inc({ result: r.code === "FICUS_RELOAD_REFUSED" ? "refused" : "failure" });
    return reloadResult(r);
  };
  const c = loaded.config;
  // Loaded after the data plane listens: the first request does not wait for this code.
  const [{ startAdminServer }, { startController }] = await Promise.all([import("../admin/server.ts"), import("../migration/controller.ts")]);
  let admin: Server<undefined> | undefined;
  let stopController = () => {};
  let stopped: Promise<boolean> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      unsubscribe();
      stopController();
      const deadline = gateway.config.config.shutdown.drain_timeout;
      logger.info("draining", { in_flight: gateway.inFlight, deadline_ms: deadline });
      const clean = await gateway.shutdown(deadline);
      admin?.stop(true);
      logger.info("stopped", { clean });
      return clean;
    })();
    return stopped;
  };
  // Watch the file and take signals before announcing the admin API, so no edit made after it is up is missed.
  const unsubscribe = onSignals(
    source,
    () => reload(),
    () => {
      void stop().then(() => process.exit(0));
    },
    () => gateway.config.config.reload.settle,
  );
  try {
    admin = await startAdminServer(
      {
        ready: () => gateway.isReady && (gateway.storeUp || !gateway.config.config.store.affects_readiness),
        metrics: () => {
          gateway.refreshGauges();
          return gateway.metrics.text();
        },
        config: () => redactConfig(gateway.config),
        routes: async () => gateway.routes(),
        reload: async (force) => reload(force),
        migrations: async () => {
          const writer = await gateway.migration();
          await writer.flush();
          return { config: gateway.config.config, store: writer.open() };
        },
        recorded: (events) => {
          for (const e of events) recordEvent(e, gateway.metrics, logger);
          void gateway.pollControl();
        },
        record: (cmd) => gateway.record(cmd),
        // edge-mcp tool pinning: the pin store the workers share, through the admin's own connection.
        mcpPins: () => (require("../mcp/pinning/index.ts") as typeof import("../mcp/pinning/index.ts")).adminPinsFor(gateway.config.config, configDir(gateway.config)),
        // edge-mcp error snapshots: the file the workers write, read through the admin's own connection.
        mcpSnapshots: () => (require("../mcp/governance/snapshots/index.ts") as typeof import("../mcp/governance/snapshots/index.ts")).adminSnapshotsFor(gateway.config.config, configDir(gateway.config)),
        mcpBudgets: (principal) => (require("../mcp/governance/quota/admin.ts") as typeof import("../mcp/governance/quota/admin.ts")).budgetsAdminHandler(gateway.config.config, configDir(gateway.config), principal),
      },
      { hostname: c.admin.listen.hostname, port: c.admin.listen.port, tokenEnv: c.admin.token_env, env, logger },
    );
  } catch (err) {
    unsubscribe();
    await gateway.shutdown(0);
    throw err;
  }
  // Automatic promotion and rollback on the gates (routes with a candidate and canary.auto).
  stopController = startController(
    async () => {
      const writer = gateway.resultsWriter;
      if (!writer) return undefined;
      await writer.flush();
      return { config: gateway.config.config, store: writer.open() };
    },
    (e) => {
      recordEvent(e, gateway.metrics, logger);
      void gateway.pollControl();
    },
    logger,
    gateway.metrics,
  );
  return { gateway, admin: admin as Server<undefined>, reload, stop };
}
