/** `ficus validate -c FILE`: prints OK or every problem, one per line. */
import { loadConfigFile } from "../../config/load.ts";
import { preflight } from "../../server/preflight.ts";
import { reportError, safeText } from "../output.ts";

export function validateCommand(path: string): number {
  try {
    const loaded = loadConfigFile(path);
    // The files it names too: certificates, keys, policies (what a gateway would refuse at start).
    preflight(loaded);
    const { config } = loaded;
    process.stdout.write(`${safeText(path)}: OK (${config.routes.length} route${config.routes.length === 1 ? "" : "s"})\n`);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}
