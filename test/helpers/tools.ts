/**
 * Tests that need a system tool (promtool, Chromium, …) skip with a printed
 * reason when it is absent — so `npm ci && npm test` passes on a fresh
 * machine — except under CI (CI is set), where .ci/run installs the tools and
 * a missing one must fail loudly.
 */
import { existsSync } from "node:fs";

/** True when `tool` (a command on PATH, or an absolute path) is there; otherwise prints why its tests are skipped. */
export function hasTool(tool: string, purpose: string): boolean {
  const found = tool.startsWith("/") ? existsSync(tool) : Bun.which(tool) !== null;
  if (found || process.env.CI) return true;
  console.warn(`skipped: ${purpose} needs ${tool}, which is not installed (apt-get install it, or run bash .ci/run; under CI=1 this fails instead)`);
  return false;
}

/** True when something accepts TCP connections on 127.0.0.1:`port`; otherwise prints why the tests are skipped (unless CI). */
export async function hasService(name: string, port: number, purpose: string): Promise<boolean> {
  const up = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 1000);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          clearTimeout(timer);
          s.end();
          resolve(true);
        },
        data() {},
        error() {
          clearTimeout(timer);
          resolve(false);
        },
        connectError() {
          clearTimeout(timer);
          resolve(false);
        },
      },
    }).catch(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (up || process.env.CI) return true;
  console.warn(`skipped: ${purpose} needs ${name} on 127.0.0.1:${port}, which is not running (bash .ci/run starts it; under CI=1 this fails instead)`);
  return false;
}
