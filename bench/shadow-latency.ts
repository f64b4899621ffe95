/**
 * Does shadowing slow the legacy path? (run: bun bench/shadow-latency.ts [SECONDS] [RATE])
 * Legacy answers in 2 ms, the candidate in 20 ms (10× slower). The same gateway
 * config is measured with the route at stage legacy and at stage shadow, at a
 * fixed request rate (hey), alternating, and the client-side p50/p99 compared.
 * Needs hey (apt-get install hey; shared/bench/peers.sh installs it).
 */
import { join } from "node:path";
import { startFicus, startUpstream, tempDir, writeConfig } from "../test/helpers/processes.ts";

const seconds = Number(process.argv[2] ?? 8);
const rate = Number(process.argv[3] ?? 400);
const workers = 8;

const [legacy, candidate] = await Promise.all([startUpstream("legacy", 0, { DELAY_MS: "2" }), startUpstream("candidate", 0, { DELAY_MS: "20" })]);
const dir = tempDir("ficus-shadow-bench-");

async function measure(stage: "legacy" | "shadow"): Promise<{ p50: number; p99: number; rps: number }> {
  const cfg = writeConfig(
    dir,
    `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\naccess_log: { enabled: false }\nstore: { path: ${join(dir, `${stage}.db`)}${process.env.FLUSH ? `, flush_interval: ${process.env.FLUSH}` : ""} }\nroutes:\n  - name: r\n    legacy: ${legacy.url}\n    candidate: ${candidate.url}\n    stage: ${stage}\n    shadow: { max_concurrency: 1024 }\n`,
    `${stage}.yaml`,
  );
  const gw = await startFicus(["-c", cfg]);
  try {
    const hey = Bun.spawnSync(["hey", "-z", `${seconds}s`, "-c", String(workers), "-q", String(Math.round(rate / workers)), `${gw.url}/echo/item`], { stdout: "pipe" });
    const out = hey.stdout.toString();
    const at = (p: string) => Number(new RegExp(`${p}% in ([\\d.]+) secs`).exec(out)?.[1] ?? Number.NaN) * 1000;
    return { p50: at("50"), p99: at("99"), rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0) };
  } finally {
    await gw.stop();
  }
}

const rows: { stage: string; p50: number; p99: number; rps: number }[] = [];
for (let round = 0; round < 2; round++) {
  for (const stage of ["legacy", "shadow"] as const) rows.push({ stage, ...(await measure(stage)) });
}
const med = (stage: string, k: "p50" | "p99") => {
  const v = rows.filter((r) => r.stage === stage).map((r) => r[k]).sort((a, b) => a - b);
  return (v[0] as number) / 2 + (v[v.length - 1] as number) / 2;
};
for (const r of rows) console.log(`${r.stage.padEnd(7)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${r.rps.toFixed(0)} req/s`);
const d50 = med("shadow", "p50") / med("legacy", "p50") - 1;
const d99 = med("shadow", "p99") / med("legacy", "p99") - 1;
console.log(`summary: rate=${rate}/s legacy 2 ms, candidate 20 ms; shadow vs off: p50 ${(d50 * 100).toFixed(1)}%  p99 ${(d99 * 100).toFixed(1)}%`);
await Promise.all([legacy.stop(), candidate.stop()]);
process.exit(0);
