/**
 * A worker process under the supervisor: waits for its config over IPC,
 * serves the data plane with SO_REUSEPORT, applies reloads it is sent, answers
 * metrics/route queries, and drains on SIGTERM or a shutdown message.
 *
 * The config arrives validated, as plain data (ipc.ts): a worker never parses
 * or validates one, and its entry (workerMain, called by src/cli/main.ts
 * before the CLI is loaded) keeps commander, zod and yaml out of the process.
 */
import type { LoadedConfig } from "../config/load.ts";
import { FicusError } from "../core/errors.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { Gateway } from "./gateway.ts";
import { guardProcess } from "./guard.ts";
import { type FromWorker, fromWire, type RecordReply, type ToWorker } from "./ipc.ts";

/** A worker process's entry (see src/cli/main.ts). */
export function workerMain(): Promise<void> {
  return runWorker(createLogger("info", { pid: process.pid, worker: Number(process.env.FICUS_WORKER_INDEX ?? 0) }));
}

export async function runWorker(logger: Logger): Promise<void> {
  guardProcess(logger);
  const send = (m: FromWorker) => process.send?.(m);
  let gateway: Gateway | undefined;
  let stopping = false;
  const revokeWaiters = new Map<number, () => void>();
  let revokeSeq = 0;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (gateway) await gateway.shutdown(gateway.config.config.shutdown.drain_timeout);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // The supervisor owns reloads; a SIGHUP sent to the whole group must not kill a worker.
  process.on("SIGHUP", () => {});
  process.on("disconnect", () => void stop());
  process.on("message", async (raw: unknown) => {
    const m = raw as ToWorker;
    switch (m.t) {
      case "config": {
        // Validated by the supervisor: taken as it is.
        const loaded: LoadedConfig = fromWire(m.config);
        logger.setLevel(loaded.config.log.level);
        if (!gateway) {
          try {
            gateway = await Gateway.start({ loaded, logger, reusePort: true });
          } catch (err) {
            send({ t: "fatal", code: err instanceof FicusError ? err.code : "FICUS_INTERNAL", message: (err as Error).message });
            process.exit(1);
          }
          // An MCP session ended here is refused by every worker before the DELETE is answered (at most 1 s).
          gateway.mcpRevocations = (nonce, expires) =>
            new Promise<void>((resolve) => {
              const id = ++revokeSeq;
              const timer = setTimeout(() => {
                revokeWaiters.delete(id);
                resolve();
              }, 1000);
              revokeWaiters.set(id, () => {
                clearTimeout(timer);
                resolve();
              });
              send({ t: "mcp-revoke", id, nonce, expires });
            });
          send({ t: "ready", port: gateway.port });
        } else {
          try {
            gateway.apply(loaded);
          } catch (err) {
            // Building the route table failed: the running one stays.
            send({ t: "applied", ok: false, errors: [(err as Error).message] });
            return;
          }
          send({ t: "applied", ok: true });
        }
        return;
      }
      case "metrics":
        gateway?.refreshGauges();
        send({ t: "reply", id: m.id, data: gateway ? await gateway.metrics.json() : [] });
        return;
      case "routes":
        send({ t: "reply", id: m.id, data: gateway ? gateway.routes() : [] });
        return;
      case "record": {
        let reply: RecordReply;
        try {
          reply = { sessions: gateway ? await gateway.record(m.command) : [] };
        } catch (err) {
          reply = { error: { code: err instanceof FicusError ? err.code : "FICUS_INTERNAL", message: (err as Error).message } };
        }
        send({ t: "reply", id: m.id, data: reply });
        return;
      }
      case "flush":
        await gateway?.resultsWriter?.flush();
        send({ t: "reply", id: m.id, data: true });
        return;
      case "shutdown":
        await stop();
        return;
      case "mcp-revoke":
        gateway?.revokeMcpSession(m.nonce, m.expires);
        send({ t: "reply", id: m.id, data: true });
        return;
      case "mcp-revoked":
        revokeWaiters.get(m.id)?.();
        revokeWaiters.delete(m.id);
        return;
    }
  });
}
