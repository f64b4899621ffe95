/**
 * The data-plane processes under a supervisor (issue 9): a worker is handed the config the supervisor
 * validated, as plain data, and never loads the CLI or a config parser (commander, zod, yaml), nor
 * prom-client before a scrape. Reloads are validated in the supervisor: an invalid one never reaches a worker.
 * What each process loaded is recorded by test/helpers/module-trace.ts, preloaded in every process (the
 * supervisor and the workers it spawns) through BUN_OPTIONS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, ROOT, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let a: Upstream;
let b: Upstream;

beforeAll(async () => {
  [a, b] = await Promise.all([startUpstream("a"), startUpstream("b")]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

/** The environment that makes every process of the gateway write the modules it loaded into `dir`. */
function traced(dir: string): Record<string, string> {
  return { FICUS_MODULE_TRACE: dir, BUN_OPTIONS: `${process.env.BUN_OPTIONS ?? ""} --preload ${join(ROOT, "test/helpers/module-trace.ts")}`.trim() };
}

const has = (modules: readonly string[], pkg: string) => modules.some((m) => m.includes(`/node_modules/${pkg}/`));
const ours = (modules: readonly string[], file: string) => modules.includes(join(ROOT, file));

describe("worker processes", () => {
  test("a worker gets the validated config (${ENV} and flags applied) and loads neither zod, yaml, commander nor prom-client", async () => {
    const dir = tempDir();
    const trace = join(dir, "modules");
    mkdirSync(trace);
    const port = freePort();
    const path = writeConfig(
      dir,
      [
        "listen: 127.0.0.1:1", // replaced by --listen: flags are applied by the supervisor, before validation
        "admin: { listen: 127.0.0.1:0 }",
        "workers: 2",
        "access_log: { enabled: false }",
        "routes:",
        "  - name: api",
        "    match: { prefix: / }",
        "    upstream: ${FICUS_TEST_UPSTREAM}",
        '    request_headers: { add: { x-from-env: "${FICUS_TEST_VALUE}" } }',
        "",
      ].join("\n"),
    );
    const gw = await startFicus(["-c", path, "--listen", `127.0.0.1:${port}`], { env: { ...traced(trace), FICUS_TEST_UPSTREAM: a.url, FICUS_TEST_VALUE: "from the supervisor" } });
    let workerPids: number[] = [];
    try {
      await gw.waitForLog((l) => l.msg === "supervisor started");
      workerPids = gw.logs.filter((l) => l.msg === "listening").map((l) => l.pid as number);
      expect(workerPids.length).toBe(2);
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${gw.url}/echo/${i}`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { upstream: string; headers: Record<string, string> };
        expect(body.upstream).toBe("a");
        expect(body.headers["x-from-env"]).toBe("from the supervisor");
      }
    } finally {
      expect(await gw.stop("SIGTERM")).toBe(0);
    }
    // Each process writes its list when it exits.
    const read = (pid: number) => JSON.parse(readFileSync(join(trace, `${pid}.json`), "utf8")) as string[];
    expect(readdirSync(trace).sort()).toEqual([gw.proc.pid, ...workerPids].map((p) => `${p}.json`).sort());

    // The supervisor validated the YAML file: the trace sees zod and yaml where they are loaded.
    const supervisor = read(gw.proc.pid);
    expect(has(supervisor, "zod")).toBe(true);
    expect(has(supervisor, "yaml")).toBe(true);
    expect(ours(supervisor, "src/config/schema.ts")).toBe(true);
    // …and a supervisor does not load the data plane.
    expect(ours(supervisor, "src/server/gateway.ts")).toBe(false);

    for (const pid of workerPids) {
      const worker = read(pid);
      expect(ours(worker, "src/server/worker.ts")).toBe(true);
      expect(ours(worker, "src/server/gateway.ts")).toBe(true);
      for (const pkg of ["zod", "yaml", "commander", "prom-client", "hono", "@opentelemetry"]) expect({ pkg, loaded: has(worker, pkg) }).toEqual({ pkg, loaded: false });
      for (const file of ["src/config/schema.ts", "src/config/load.ts", "src/config/source.ts", "src/cli/program.ts", "src/compare/index.ts"]) {
        expect({ file, loaded: ours(worker, file) }).toEqual({ file, loaded: false });
      }
    }
  }, 30_000);

  test("reloads are validated by the supervisor: an invalid file is rejected there and never reaches a worker; a valid one reaches every worker", async () => {
    const dir = tempDir();
    const port = freePort();
    const config = (upstream: string) => `listen: 127.0.0.1:${port}\nadmin: { listen: 127.0.0.1:0 }\nworkers: 2\naccess_log: { enabled: false }\nroutes:\n  - name: r\n    upstream: ${upstream}\n`;
    const path = writeConfig(dir, config(a.url));
    const gw = await startFicus(["-c", path]);
    const upstreams = async (n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        // A new connection each time, so the kernel spreads the requests over both workers.
        const res = await fetch(`${gw.url}/echo/${i}`, { headers: { connection: "close" } });
        seen.add(((await res.json()) as { upstream: string }).upstream);
      }
      return [...seen].sort();
    };
    try {
      await gw.waitForLog((l) => l.msg === "supervisor started");
      expect(await upstreams(20)).toEqual(["a"]);

      writeFileSync(path, config("htp:/broken"));
      const res = await fetch(`${gw.admin}/admin/reload`, { method: "POST" });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { ok: boolean; errors: string[] };
      expect(body.ok).toBe(false);
      expect(body.errors.join("\n")).toContain("expected an http(s) URL");
      expect(await upstreams(20)).toEqual(["a"]);
      // A worker that had been sent it would have answered; the supervisor logs a worker's refusal.
      expect(gw.logs.filter((l) => l.msg === "worker rejected config")).toEqual([]);

      writeFileSync(path, config(b.url));
      const ok = await fetch(`${gw.admin}/admin/reload`, { method: "POST" });
      expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
      // Workers apply it as the message arrives: every one serves b within moments.
      let seen: string[] = [];
      for (let i = 0; i < 50; i++) {
        seen = await upstreams(10);
        if (seen.length === 1 && seen[0] === "b") break;
        await Bun.sleep(20);
      }
      expect(seen).toEqual(["b"]);
      expect(await upstreams(20)).toEqual(["b"]);
      const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_config_reloads_total\{result="failure"\} [1-9]/);
      expect(metrics).toMatch(/ficus_config_reloads_total\{result="success"\} [1-9]/);
      expect(gw.logs.filter((l) => l.msg === "worker rejected config")).toEqual([]);
    } finally {
      expect(await gw.stop("SIGTERM")).toBe(0);
    }
  }, 30_000);
});
