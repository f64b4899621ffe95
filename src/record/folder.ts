/**
 * Where a recording may go: checked when `ficus record start` is asked, so a
 * folder that cannot be created or written is a clear 400 for the operator,
 * not an error inside every worker.
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";

/** Why recordings cannot be written into `dir` (created if missing), or undefined when they can. */
export function recordingFolderProblem(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "EEXIST" || code === "ENOTDIR" ? `${dir} is not a folder` : `cannot create ${dir} (${code ?? (err as Error).message})`;
  }
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a folder`;
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `cannot write into ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return undefined;
}
