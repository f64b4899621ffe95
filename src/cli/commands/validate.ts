/** `ficus validate -c FILE`: prints OK or every problem, one per line. */
import { loadConfigFile } from "../../config/load.ts";
import { reportError, safeText } from "../output.ts";

export function validateCommand(path: string): number {
  try {
    const { config } = loadConfigFile(path);
    process.stdout.write(`${safeText(path)}: OK (${config.routes.length} route${config.routes.length === 1 ? "" : "s"})\n`);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}
