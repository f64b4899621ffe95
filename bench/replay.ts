/**
 * Replay throughput and memory (run: bun bench/replay.ts [EXCHANGES] [BIG_MB]).
 *
 * 1. Throughput: EXCHANGES GET requests (default 50,000) from a Ficus JSONL
 *    file replayed against two fast local services (separate processes), with
 *    comparison on (JSON bodies, 5% A/A), at --concurrency 64. Issue 5 target:
 *    ≥ 5,000 exchanges/s on this 2-core machine.
 * 2. Memory: a recording of BIG_MB (default 1024) — 64 KiB recorded response
 *    bodies — replayed with --target against a service answering the same
 *    body; peak RSS of the ficus process from /usr/bin/time -v. The file is
 *    streamed, so peak RSS must not follow its size.
 */
import { createWriteStream, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BUN, CLI, startService, tempDir } from "../test/helpers/processes.ts";

const exchanges = Number(process.argv[2] ?? 50_000);
const bigMb = Number(process.argv[3] ?? 1024);
const dir = tempDir("ficus-replay-bench-");

async function writeLines(path: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i++) if (!out.write(`${line(i)}\n`)) await new Promise((r) => out.once("drain", r));
  await new Promise<void>((r) => out.end(r));
}

function run(args: string[]): { seconds: number; rssMb: number; stdout: string } {
  const t0 = performance.now();
  const timeFile = join(dir, "time.txt");
  const p = Bun.spawnSync(["/usr/bin/time", "-o", timeFile, "-v", BUN, CLI, "replay", ...args], { stdout: "pipe", stderr: "pipe" });
  const seconds = (performance.now() - t0) / 1000;
  const stats = readFileSync(timeFile, "utf8");
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stats)?.[1] ?? 0) / 1024;
  if (p.exitCode !== 0) throw new Error(`replay exited ${p.exitCode}: ${p.stderr.toString().slice(0, 3000)}`);
  return { seconds, rssMb: Math.round(rss), stdout: p.stdout.toString().trim() };
}

const [legacy, candidate] = await Promise.all([startService("replay-service", "legacy"), startService("replay-service", "twin")]);
try {
  const small = join(dir, "small.jsonl");
  await writeLines(small, exchanges, (i) => JSON.stringify({ v: 1, time: new Date(1_700_000_000_000 + i).toISOString(), request: { method: "GET", url: `/items/${i % 1000}`, headers: [["accept", "application/json"]] } }));
  const rules = join(dir, "rules.yaml");
  await Bun.write(rules, 'ignore: ["$.nonce"]\n');
  console.log(`== throughput: ${exchanges} exchanges, two services, comparison on, --aa 0.05, --concurrency 64`);
  for (let round = 0; round < 3; round++) {
    const r = run([small, "--legacy", legacy.url, "--candidate", candidate.url, "--rules", rules, "--aa", "0.05", "--concurrency", "64", "--out", join(dir, "out")]);
    console.log(`round ${round + 1}: ${r.stdout.split("\n")[0]}  (wall ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb} MB)`);
  }
} finally {
  await Promise.all([legacy.stop(), candidate.stop()]);
}

// Memory: a recording far larger than memory would allow if it were loaded, replayed against one target.
const target = await startService("replay-service", "target");
try {
  const big = (await (await fetch(`${target.url}/big/0`)).text()).replace(/\n$/, "");
  const lineOf = (i: number) =>
    JSON.stringify({ v: 1, time: new Date(1_700_000_000_000 + i).toISOString(), request: { method: "GET", url: `/big/${i}`, headers: [] }, response: { status: 200, headers: [["content-type", "application/json"]], body: big, duration_ms: 1 } });
  const n = Math.ceil((bigMb * 1024 * 1024) / (lineOf(0).length + 1));
  const bigFile = join(dir, "big.jsonl");
  await writeLines(bigFile, n, lineOf);
  const size = Bun.file(bigFile).size;
  console.log(`== memory: ${(size / 1024 / 1024).toFixed(0)} MB recording, ${n} exchanges of ${(big.length / 1024).toFixed(0)} KiB, --target, --concurrency 64`);
  const r = run([bigFile, "--target", target.url, "--concurrency", "64", "--out", join(dir, "out-big")]);
  console.log(`${r.stdout.split("\n")[0]}  (wall ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb} MB)`);
} finally {
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}
