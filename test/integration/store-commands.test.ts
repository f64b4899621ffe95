/**
 * The kill switch never lies (found by adversarial testing): when the results
 * store cannot be used and several workers serve, each process keeps results
 * in its own memory, so a command could only reach the process that took it.
 * Commands then answer 503 FICUS_STORE_UNAVAILABLE instead of reporting a
 * change no worker obeys.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let legacy: Upstream;
let candidate: Upstream;

beforeAll(async () => {
  [legacy, candidate] = await Promise.all([startUpstream("legacy"), startUpstream("candidate")]);
});
afterAll(async () => {
  await Promise.all([legacy?.stop(), candidate?.stop()]);
});

describe("commands with an unusable store", () => {
  test("with two workers, rollback --all and promote answer FICUS_STORE_UNAVAILABLE (regression: reported success, nobody obeyed)", async () => {
    const cfg = writeConfig(
      tempDir(),
      `listen: 127.0.0.1:${freePort()}\nadmin: { listen: 127.0.0.1:0 }\nworkers: 2\naccess_log: { enabled: false }\nstore: { path: /proc/ficus-nope/results.db }\nroutes:\n  - name: orders\n    legacy: ${legacy.url}\n    candidate: ${candidate.url}\n    stage: canary\n    canary: { percent: 100, steps: [100], auto: false }\n`,
    );
    const gw = await startFicus(["-c", cfg]);
    try {
      const all = await runCli(["rollback", "--all", "--admin", gw.admin, "--reason", "test"]);
      expect(all.code).toBe(2);
      expect(all.stderr).toContain("FICUS_STORE_UNAVAILABLE");
      const one = await fetch(`${gw.admin}/admin/migrations/orders/rollback`, { method: "POST" });
      expect(one.status).toBe(503);
      expect(((await one.json()) as { error: { code: string; message: string } }).error.message).toContain("no command would reach the 2 workers");
      // Nothing changed: the candidate still serves.
      const res = await fetch(`${gw.url}/echo`);
      await res.arrayBuffer();
      expect(res.headers.get("x-ficus-served-by")).toBe("candidate");
    } finally {
      await gw.stop();
    }
  });

  test("with one process, commands act on its memory and are obeyed at once (nothing else serves)", async () => {
    const cfg = writeConfig(
      tempDir(),
      `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\naccess_log: { enabled: false }\nstore: { path: /proc/ficus-nope/results.db }\nroutes:\n  - name: orders\n    legacy: ${legacy.url}\n    candidate: ${candidate.url}\n    stage: canary\n    canary: { percent: 100, steps: [100], auto: false }\n`,
    );
    const gw = await startFicus(["-c", cfg]);
    try {
      const all = await runCli(["rollback", "--all", "--admin", gw.admin, "--reason", "test"]);
      expect(all.code).toBe(0);
      const res = await fetch(`${gw.url}/echo`);
      await res.arrayBuffer();
      expect(res.headers.get("x-ficus-served-by")).toBe("legacy");
    } finally {
      await gw.stop();
    }
  });
});
