/**
 * The supervisor of N worker processes sharing the data-plane port through
 * SO_REUSEPORT. It owns the config (validates once, then sends the validated
 * object to every worker, on start and on reload: workers never parse or
 * validate), serves the admin API (merging the workers' metrics), restarts a
 * worker that dies, and on SIGTERM lets every worker drain before exiting 0.
 */
import type { Subprocess } from "bun";
import { redactConfig, type LoadedConfig } from "../config/load.ts";
import type { RecordCommand } from "../record/recorder.ts";
import type { RecordReply } from "./ipc.ts";
import type { ConfigSource } from "../config/source.ts";
import { FicusError } from "../core/errors.ts";
import type { Logger } from "../observability/logger.ts";
import { aggregateMetrics, Metrics } from "../observability/metrics.ts";
import type { ResultsWriter } from "../migration/results-writer.ts";
import { type FromWorker, type RouteInfo, selfCommand, type ToWorker, toWire, WORKER_ARG } from "./ipc.ts";
import type { ReloadResult } from "../admin/server.ts";
import { onSignals, recordEvent, reloadResult, tryReload } from "./lifecycle.ts";
import { configDir } from "./enforcement.ts";
import { preflight } from "./preflight.ts";
import { hasMcpMigrations } from "../mcp/governance/migration/has.ts";

interface WorkerSlot {
  readonly index: number;
  proc: Subprocess | undefined;
  ready: boolean;
  restarts: number;
}

export { selfCommand };

/** `validated`: the source's config when the caller has just validated it (ficus start), so it is not parsed twice. */
export async function runSupervisor(source: ConfigSource, workers: number, logger: Logger, validated: LoadedConfig = source.load()): Promise<void> {
  let loaded = validated;
  logger.setLevel(loaded.config.log.level);
  const metrics = new Metrics();
  // The supervisor only reads results (workers write them); loaded on first use.
  let resultsLoading: Promise<ResultsWriter> | undefined;
  const results = () => {
    resultsLoading ??= import("../migration/results-writer.ts").then(({ ResultsWriter }) => new ResultsWriter(loaded.config.store, metrics, logger));
    return resultsLoading;
  };
  const slots: WorkerSlot[] = Array.from({ length: workers }, (_, index) => ({ index, proc: undefined, ready: false, restarts: 0 }));
  const pending = new Map<number, (data: unknown) => void>();
  let nextId = 1;
  let stopping = false;
  let fatal: FromWorker | undefined;

  const send = (slot: WorkerSlot, m: ToWorker) => {
    try {
      slot.proc?.send(m);
    } catch {
      // The worker is gone; its exit handler restarts it.
    }
  };

  const spawn = (slot: WorkerSlot) => {
    slot.ready = false;
    slot.proc = Bun.spawn([...selfCommand(), WORKER_ARG], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, FICUS_WORKER_INDEX: String(slot.index) },
      serialization: "json",
      ipc(message) {
        const m = message as FromWorker;
        if (m.t === "ready") {
          slot.ready = true;
          logger.debug("worker ready", { worker: slot.index, pid: slot.proc?.pid });
        } else if (m.t === "reply") {
          pending.get(m.id)?.(m.data);
          pending.delete(m.id);
        } else if (m.t === "fatal") {
          fatal = m;
          logger.error("worker failed to start", { worker: slot.index, code: m.code, error: m.message });
        } else if (m.t === "mcp-revoke") {
          // An ended MCP session is refused by every worker before its DELETE is answered.
          const others = slots.filter((o) => o !== slot && o.ready);
          void Promise.all(others.map((o) => askRevoke(o, m.nonce, m.expires))).then(() => send(slot, { t: "mcp-revoked", id: m.id }));
        } else if (m.t === "applied" && !m.ok) {
          logger.error("worker rejected config", { worker: slot.index, errors: m.errors });
        }
      },
      onExit(_proc, code, signal) {
        slot.ready = false;
        if (stopping || fatal) return;
        slot.restarts++;
        const delay = Math.min(1000 * slot.restarts, 10_000);
        logger.error("worker exited; restarting", { worker: slot.index, code, signal, restart_in_ms: delay });
        setTimeout(() => {
          if (!stopping) spawn(slot);
        }, delay);
      },
    });
    // The config validated last (a restarted worker gets the current one).
    send(slot, { t: "config", config: toWire(loaded), reload: false });
  };

  // Create the shared results store once, before the workers open it.
  if (loaded.config.routes.some((r) => r.candidate !== undefined) || hasMcpMigrations(loaded.config)) (await results()).open();
  for (const s of slots) spawn(s);
  // Wait for every worker to listen (or one to fail) before declaring the group started.
  const started = Date.now();
  while (!fatal && slots.some((s) => !s.ready) && Date.now() - started < 15_000) await Bun.sleep(10);
  if (fatal && fatal.t === "fatal") {
    stopping = true;
    for (const s of slots) s.proc?.kill("SIGTERM");
    throw new FicusError(fatal.code as "FICUS_LISTEN_FAILED", fatal.message);
  }

  const ask = <T>(slot: WorkerSlot, kind: "metrics" | "routes" | "flush" | "record", command?: RecordCommand): Promise<T | undefined> => {
    if (!slot.ready) return Promise.resolve(undefined);
    const id = nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(undefined);
      }, 2000);
      pending.set(id, (data) => {
        clearTimeout(timer);
        resolve(data as T);
      });
      send(slot, kind === "record" ? { t: kind, id, command: command as RecordCommand } : { t: kind, id });
    });
  };

  const askRevoke = (slot: WorkerSlot, nonce: string, expires: number): Promise<void> =>
    new Promise((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve();
      }, 1000);
      pending.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      send(slot, { t: "mcp-revoke", id, nonce, expires });
    });

  const reload = (force = false): ReloadResult => {
    // Validated here, before any worker hears of it: an invalid or refused config never leaves the supervisor.
    const r = tryReload(source, logger, loaded, force, preflight);
    if (!r.ok || !r.loaded) {
      metrics.configReloads.inc({ result: r.code === "FICUS_RELOAD_REFUSED" ? "refused" : "failure" });
      return reloadResult(r);
    }
    loaded = r.loaded;
    if (loaded.config.routes.some((x) => x.candidate !== undefined) || hasMcpMigrations(loaded.config)) void results().then((rec) => (controllerStore = rec));
    // Workers get the very config that was validated, not a second read of a file that may have changed since.
    const config = toWire(loaded);
    for (const s of slots) send(s, { t: "config", config, reload: true });
    metrics.configReloads.inc({ result: "success" });
    return reloadResult(r);
  };

  const c = loaded.config;
  const [{ startAdminServer }, { startController }] = await Promise.all([import("../admin/server.ts"), import("../migration/controller.ts")]);
  let controllerStore: Awaited<ReturnType<typeof results>> | undefined;
  const stopController = startController(
    async () => (controllerStore ? { config: loaded.config, store: controllerStore.open() } : undefined),
    (e) => recordEvent(e, metrics, logger),
    logger,
    metrics,
  );
  if (loaded.config.routes.some((r) => r.candidate !== undefined) || hasMcpMigrations(loaded.config)) controllerStore = await results();
  // Readiness can follow the store (store.affects_readiness): the supervisor reads it as its workers do.
  let storeUp = true;
  let probing = false;
  const probe = setInterval(async () => {
    if (probing || !controllerStore || !loaded.config.store.affects_readiness) return;
    probing = true;
    storeUp = await controllerStore
      .open()
      .controlRows()
      .then(
        () => true,
        () => false,
      );
    probing = false;
  }, 500);
  probe.unref?.();
  // Watch the file and take signals before announcing the admin API, so no edit made after it is up is missed.
  let admin: { stop(force: boolean): void } | undefined;
  const unsubscribe = onSignals(source, () => reload(), async (sig) => {
    stopping = true;
    stopController();
    clearInterval(probe);
    logger.info("stopping workers", { signal: sig });
    const exits = slots.map((s) => s.proc?.exited);
    for (const s of slots) s.proc?.kill("SIGTERM");
    const deadline = loaded.config.shutdown.drain_timeout + 5000;
    await Promise.race([Promise.all(exits), Bun.sleep(deadline)]);
    for (const s of slots) if (s.proc && s.proc.exitCode === null) s.proc.kill("SIGKILL");
    admin?.stop(true);
    process.exit(0);
  }, () => loaded.config.reload.settle);
  try {
    admin = await startAdminServer(
    {
      ready: () => !stopping && slots.every((s) => s.ready) && (storeUp || !loaded.config.store.affects_readiness),
      metrics: async () => {
        const parts = await Promise.all(slots.map((s) => ask<Awaited<ReturnType<Metrics["json"]>>>(s, "metrics")));
        return aggregateMetrics([await metrics.json(), ...parts.filter((p) => p !== undefined)]);
      },
      config: () => redactConfig(loaded),
      routes: async () => {
        // Health state is per worker; an endpoint counts as ejected when any worker has ejected it.
        const all = (await Promise.all(slots.map((s) => ask<RouteInfo[]>(s, "routes")))).filter((r) => r !== undefined);
        const first = all[0] ?? [];
        return first.map((route, i) => ({
          ...route,
          endpoints: route.endpoints.map((e, j) => ({
            ...e,
            ejected: all.some((w) => w[i]?.endpoints[j]?.ejected === true),
            inflight: all.reduce((n, w) => n + (w[i]?.endpoints[j]?.inflight ?? 0), 0),
          })),
        }));
      },
      reload: async (force) => reload(force),
      migrations: async () => {
        // Workers write their results to the shared store; ask them to flush first so the view is current.
        await Promise.all(slots.map((s) => ask<boolean>(s, "flush")));
        const rec = await results();
        const store = rec.open();
        // The supervisor's store is its own memory: workers would never see a command applied to it.
        const commandsUnavailable = rec.private
          ? `the results store ${loaded.config.store.path} cannot be used (see the log), so each process keeps its results in its own memory and no command would reach the ${slots.length} workers; fix the file or its folder (ficus_store_up is 0) and retry`
          : undefined;
        return { config: loaded.config, store, commandsUnavailable };
      },
      // Workers poll the shared store every 200 ms; the supervisor only logs and counts.
      recorded: (events) => {
        for (const e of events) recordEvent(e, metrics, logger);
      },
      record: async (cmd) => {
        // Each worker records its share of the maximum into its own files.
        const live = slots.filter((s) => s.ready).length || 1;
        const share: RecordCommand = cmd.action === "start" ? { ...cmd, start: { ...cmd.start, max: Math.ceil(cmd.start.max / live) } } : cmd;
        const replies = await Promise.all(slots.map((s) => ask<RecordReply>(s, "record", share)));
        const failed = replies.find((r) => r && "error" in r);
        if (failed && "error" in failed) throw new FicusError(failed.error.code as "FICUS_ROUTE_UNKNOWN", failed.error.message);
        const { mergeStatuses } = await import("../record/recorder.ts");
        return mergeStatuses(replies.flatMap((r) => (r && "sessions" in r ? [r.sessions] : [])));
      },
      // edge-mcp tool pinning: the pin store the workers share; they see an approval within a second.
      mcpPins: () => (require("../mcp/pinning/index.ts") as typeof import("../mcp/pinning/index.ts")).adminPinsFor(loaded.config, configDir(loaded)),
      // edge-mcp error snapshots: the file the workers write, read through the admin's own connection.
      mcpSnapshots: () => (require("../mcp/governance/snapshots/index.ts") as typeof import("../mcp/governance/snapshots/index.ts")).adminSnapshotsFor(loaded.config, configDir(loaded)),
      mcpBudgets: (principal) => (require("../mcp/governance/quota/admin.ts") as typeof import("../mcp/governance/quota/admin.ts")).budgetsAdminHandler(loaded.config, configDir(loaded), principal),
    },
    { hostname: c.admin.listen.hostname, port: c.admin.listen.port, tokenEnv: c.admin.token_env, env: process.env, logger },
    );
  } catch (err) {
    // Nothing may keep running when the gateway cannot start.
    stopping = true;
    unsubscribe();
    stopController();
    clearInterval(probe);
    for (const sl of slots) sl.proc?.kill("SIGTERM");
    // An unref'd deadline: a pending Bun.sleep would keep the process alive after the workers are gone.
    await Promise.race([Promise.all(slots.map((sl) => sl.proc?.exited)), new Promise((r) => setTimeout(r, 5000).unref())]);
    throw err;
  }
  logger.info("supervisor started", { workers, listen: `${c.listen.hostname}:${c.listen.port}`, pids: slots.map((s) => s.proc?.pid) });
}
