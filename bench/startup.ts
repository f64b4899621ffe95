/**
 * Cold start of the gateway (issue 9): `bun bench/startup.ts [--runs N] [--workers N] [--modules]`.
 *
 * Each run writes a small config (one route to a local upstream served by this script, access log off),
 * spawns `bin/ficus start -c <config>` and polls the data port until the first 200; it reports the time from
 * spawn to that answer, then the RSS of every process of the gateway (the CLI/supervisor and its workers)
 * once it has been idle for a second, and again after 2,000 requests (16 at a time). Medians over the runs.
 *
 * --workers N sets `workers:` in the config (default: leave it out, so one per CPU as in production).
 * --modules adds a run with test/helpers/module-trace.ts preloaded in every process (BUN_OPTIONS) and lists
 * what each process had loaded when the first 200 arrived, and at exit (not timed: the hook slows loading).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt("--runs") ?? 10);
const workers = opt("--workers");
const traceModules = args.includes("--modules");

const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

/** The process and its descendants (the supervisor's workers), from /proc. */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

interface Run {
  firstOkMs: number;
  /** RSS (MiB) by role: "main" (the CLI process: single process or supervisor), "worker" (each worker). */
  idle: { main: number; workers: number[] };
  loaded: { main: number; workers: number[] };
  traceDir?: string;
  pids: number[];
}

async function once(trace: boolean): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "ficus-startup-"));
  const port = freePort();
  const config = join(dir, "ficus.yaml");
  writeFileSync(
    config,
    [
      `listen: 127.0.0.1:${port}`,
      `admin: { listen: 127.0.0.1:${freePort()} }`,
      ...(workers !== undefined ? [`workers: ${workers}`] : []),
      "access_log: { enabled: false }",
      `store: { path: ${join(dir, "results.db")} }`,
      "routes:",
      "  - name: api",
      "    match: { prefix: / }",
      `    upstream: http://127.0.0.1:${upstream.port}`,
      "",
    ].join("\n"),
  );
  const env: Record<string, string | undefined> = { ...process.env };
  let traceDir: string | undefined;
  if (trace) {
    traceDir = join(dir, "modules");
    mkdirSync(traceDir);
    env.FICUS_MODULE_TRACE = traceDir;
    env.BUN_OPTIONS = `${env.BUN_OPTIONS ?? ""} --preload ${join(ROOT, "test/helpers/module-trace.ts")}`.trim();
  }
  const t0 = performance.now();
  const proc = Bun.spawn([join(ROOT, "bin/ficus"), "start", "-c", config], { stdout: "ignore", stderr: "pipe", env });
  let firstOkMs = Number.NaN;
  const url = `http://127.0.0.1:${port}/`;
  while (performance.now() - t0 < 15_000) {
    const ok = await fetch(url).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status === 200;
      },
      () => false,
    );
    if (ok) {
      firstOkMs = performance.now() - t0;
      break;
    }
    if (proc.exitCode !== null) throw new Error(`ficus exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    await Bun.sleep(2);
  }
  if (Number.isNaN(firstOkMs)) throw new Error("no 200 within 15 s");
  const pids = tree(proc.pid);
  if (trace) for (const pid of pids) process.kill(pid, "SIGUSR2");
  await Bun.sleep(1000);
  const split = (ps: number[]) => ({ main: rssMiB(ps[0] as number), workers: ps.slice(1).map(rssMiB) });
  const idle = split(tree(proc.pid));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < 2000) await (await fetch(url)).arrayBuffer();
    }),
  );
  await Bun.sleep(200);
  const loaded = split(tree(proc.pid));
  proc.kill("SIGTERM");
  await proc.exited;
  if (!trace) rmSync(dir, { recursive: true, force: true });
  return { firstOkMs, idle, loaded, traceDir, pids };
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const f = (n: number) => n.toFixed(1);

// One warm-up run (file system cache, Bun's transpiler cache), not counted.
await once(false);
const results: Run[] = [];
for (let i = 0; i < runs; i++) results.push(await once(false));
const firsts = results.map((r) => r.firstOkMs);
console.log(`bin/ficus start, workers: ${workers ?? "(default: one per CPU)"}, ${runs} runs`);
console.log(`  spawn -> first 200: median ${f(median(firsts))} ms (min ${f(Math.min(...firsts))}, max ${f(Math.max(...firsts))})`);
const nWorkers = results[0]?.idle.workers.length ?? 0;
console.log(`  RSS idle (1 s after the first 200): ${nWorkers ? "supervisor" : "process"} ${f(median(results.map((r) => r.idle.main)))} MiB${nWorkers ? `, worker ${f(median(results.flatMap((r) => r.idle.workers)))} MiB (x${nWorkers})` : ""}`);
console.log(`  RSS after 2,000 requests:           ${nWorkers ? "supervisor" : "process"} ${f(median(results.map((r) => r.loaded.main)))} MiB${nWorkers ? `, worker ${f(median(results.flatMap((r) => r.loaded.workers)))} MiB (x${nWorkers})` : ""}`);

if (traceModules) {
  const r = await once(true);
  const dir = r.traceDir as string;
  const WATCH = ["zod", "yaml", "commander", "prom-client", "@opentelemetry", "re2js", "hono", "diff", "hdr-histogram-js", "cli-progress", "tdigest", "bintrees"];
  const describe = (file: string) => {
    const mods = JSON.parse(readFileSync(join(dir, file), "utf8")) as string[];
    const ours = mods.filter((m) => m.startsWith(join(ROOT, "src/")));
    const pkgs = WATCH.filter((p) => mods.some((m) => m.includes(`/node_modules/${p}/`)));
    return `${mods.length} modules (${ours.length} from src/); packages: ${pkgs.join(", ") || "none of the watched"}`;
  };
  console.log(`modules (preload trace; ${dir}):`);
  r.pids.forEach((pid, i) => {
    const role = i === 0 ? (r.pids.length > 1 ? "supervisor" : "process") : `worker ${i - 1}`;
    for (const [when, file] of [["at the first 200", `${pid}.usr2.json`], ["at exit", `${pid}.json`]] as const) {
      try {
        console.log(`  ${role} ${when}: ${describe(file)}`);
      } catch {
        console.log(`  ${role} ${when}: (no trace written)`);
      }
    }
  });
}
upstream.stop(true);
