/** How the CLI reports failures: `ficus: CODE: message` on stderr, and an exit code. */
import { ConfigError, FicusError } from "../core/errors.ts";

export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`ficus: ${err.code}: the configuration is invalid:\n${err.issues.map((i) => `  ${i}`).join("\n")}\n`);
    return 1;
  }
  if (err instanceof FicusError) {
    process.stderr.write(`ficus: ${err.code}: ${err.message}\n`);
    return err.code === "FICUS_USAGE" ? 2 : 1;
  }
  process.stderr.write(`ficus: FICUS_INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
