/** The data-plane process's last net: errors that escape every handler are logged and the process keeps serving. */
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../../..");

test("an unhandled rejection and an uncaught exception are logged with FICUS_INTERNAL; the process lives on", async () => {
  const script = `
    import { guardProcess } from ${JSON.stringify(join(ROOT, "src/server/guard.ts"))};
    import { createLogger } from ${JSON.stringify(join(ROOT, "src/observability/logger.ts"))};
    guardProcess(createLogger("info", {}, (l) => process.stderr.write(l)));
    Promise.reject(new Error("stray rejection"));
    setTimeout(() => { throw new Error("stray throw"); }, 10);
    setTimeout(() => { console.log("still serving"); }, 100);
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  expect(out).toContain("still serving");
  const lines = err.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => [l.code, l.kind, l.error])).toEqual([
    ["FICUS_INTERNAL", "unhandled rejection", "stray rejection"],
    ["FICUS_INTERNAL", "uncaught exception", "stray throw"],
  ]);
});
