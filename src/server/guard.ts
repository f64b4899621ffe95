/**
 * The last net of a data-plane process: an error that escaped every handler
 * (an unhandled promise rejection, an uncaught exception in a callback) is
 * logged with FICUS_INTERNAL and the process keeps serving. Bun's default is
 * to exit, which would cut every request in flight on every connection for
 * one request's bug; the request paths have their own nets (500 with the
 * request id), so what reaches this one is logged loudly to be fixed.
 */
import type { Logger } from "../observability/logger.ts";

export function guardProcess(logger: Logger): void {
  const log = (kind: string) => (err: unknown) => {
    logger.error("an error escaped every handler; the process keeps serving", {
      code: "FICUS_INTERNAL",
      kind,
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack?.split("\n").slice(0, 6).join("\n") : undefined,
    });
  };
  process.on("unhandledRejection", log("unhandled rejection"));
  process.on("uncaughtException", log("uncaught exception"));
}
