/** `ficus start`: run the gateway from a config file or zero-config flags. */
import { availableParallelism } from "node:os";
import { httpUrl } from "../../config/schema.ts";
import { ConfigSource, type Overrides } from "../../config/source.ts";
import { FicusError } from "../../core/errors.ts";
import { createLogger, type LogLevel } from "../../observability/logger.ts";
import { runSingleProcess } from "../../server/single.ts";
import { runSupervisor } from "../../server/supervisor.ts";

export interface StartOptions {
  config?: string;
  legacy?: string;
  upstream?: string;
  listen?: string;
  admin?: string;
  workers?: string;
  logLevel?: string;
}

/** The zero-config document: every path to one upstream, route name "default". */
export function zeroConfig(url: string): Record<string, unknown> {
  return { routes: [{ name: "default", match: { prefix: "/" }, upstream: url }] };
}

export function sourceFromOptions(o: StartOptions): ConfigSource {
  const legacy = o.legacy ?? o.upstream;
  let workers: number | undefined;
  if (o.workers !== undefined) {
    workers = Number(o.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new FicusError("FICUS_USAGE", `--workers: expected an integer from 1 to 256, got ${JSON.stringify(o.workers)}`);
  }
  const overrides: Overrides = { listen: o.listen, admin: o.admin, workers, logLevel: o.logLevel };
  if (o.config !== undefined) {
    if (legacy !== undefined) throw new FicusError("FICUS_USAGE", "give either -c/--config or --legacy/--upstream, not both");
    return ConfigSource.file(o.config, overrides);
  }
  if (legacy === undefined) throw new FicusError("FICUS_USAGE", "nothing to serve: give -c ficus.yaml, or --legacy URL to proxy every path to URL");
  const check = httpUrl.safeParse(legacy);
  if (!check.success) throw new FicusError("FICUS_USAGE", `--legacy: ${check.error.issues[0]?.message}`);
  return ConfigSource.inline(zeroConfig(legacy), overrides);
}

export async function startCommand(o: StartOptions): Promise<void> {
  const source = sourceFromOptions(o);
  const loaded = source.load();
  const logger = createLogger((o.logLevel as LogLevel | undefined) ?? loaded.config.log.level, { pid: process.pid });
  const workers = loaded.config.workers === 0 ? availableParallelism() : loaded.config.workers;
  if (workers <= 1) await runSingleProcess(source, logger);
  else await runSupervisor(source, workers, logger);
}
