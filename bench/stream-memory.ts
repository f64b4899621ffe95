/**
 * Peak memory of the gateway while 1 GiB goes up and 1 GiB comes down through it
 * (run: bun bench/stream-memory.ts). Uses the test fixture upstream and the real CLI.
 */
import { readFileSync } from "node:fs";
import { startFicus, startUpstream, tempDir, writeConfig } from "../test/helpers/processes.ts";

const GiB = 1024 ** 3;
const mib = (pid: number, field: string) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1]) / 1024;

const up = await startUpstream("mem");
const cfg = writeConfig(tempDir(), `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nroutes:\n  - name: sized\n    match: { prefix: /sized }\n    upstream: http://127.0.0.1:${up.raw}\n  - name: rest\n    upstream: ${up.url}\n`);
const gw = await startFicus(["-c", cfg]);
const idle = mib(gw.proc.pid, "VmRSS");

const chunk = new Uint8Array(1024 * 1024).fill(1);
let sent = 0;
let t0 = performance.now();
const res = await fetch(`${gw.url}/upload`, {
  method: "POST",
  duplex: "half",
  body: new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= GiB) return c.close();
      sent += chunk.byteLength;
      c.enqueue(chunk);
    },
  }),
} as RequestInit);
const uploaded = Number(await res.text());
const upSecs = (performance.now() - t0) / 1000;

t0 = performance.now();
let received = 0;
for await (const c of (await fetch(`${gw.url}/sized?n=${GiB}`)).body as ReadableStream<Uint8Array>) received += c.byteLength;
const downSecs = (performance.now() - t0) / 1000;

console.log(`upload   ${uploaded} bytes in ${upSecs.toFixed(2)} s (${(uploaded / upSecs / 1e6).toFixed(0)} MB/s)`);
console.log(`download ${received} bytes in ${downSecs.toFixed(2)} s (${(received / downSecs / 1e6).toFixed(0)} MB/s)`);
console.log(`gateway RSS idle ${idle.toFixed(0)} MiB, peak (VmHWM) ${mib(gw.proc.pid, "VmHWM").toFixed(0)} MiB, after ${mib(gw.proc.pid, "VmRSS").toFixed(0)} MiB`);
await gw.stop();
await up.stop();
process.exit(0);
