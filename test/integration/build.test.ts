/** `npm run build`: the single executable runs the same as the sources, workers included. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { freePort, ROOT, startUpstream, tempDir } from "../helpers/processes.ts";

test("the compiled binary serves, with two workers", async () => {
  const out = join(tempDir(), "ficus");
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", join(ROOT, "src/cli/main.ts"), "--outfile", out], { stdout: "pipe", stderr: "pipe" });
  expect(build.exitCode).toBe(0);
  const help = Bun.spawnSync([out, "--help"], { stdout: "pipe" });
  expect(help.stdout.toString()).toContain("validate");
  const up = await startUpstream("bin");
  const port = freePort();
  const admin = freePort();
  const gw = Bun.spawn([out, "start", "--legacy", up.url, "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${admin}`, "--workers", "2"], { stdout: "ignore", stderr: "pipe" });
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${admin}/readyz`).then((r) => r.ok, () => false);
      if (!ready) await Bun.sleep(50);
    }
    expect(ready).toBe(true);
    const res = await fetch(`http://127.0.0.1:${port}/echo/compiled`);
    expect(((await res.json()) as { upstream: string }).upstream).toBe("bin");
  } finally {
    gw.kill("SIGTERM");
    expect(await gw.exited).toBe(0);
    await up.stop();
  }
}, 30_000);
