/**
 * Sidecar decision latency through a real nginx (examples/sidecar/nginx.conf):
 * the same nginx and application with and without `auth_request`, Ficus in
 * sidecar mode deciding each request (the enforcement layers given below),
 * measured with wrk. Reports p50/p99 and requests/s of both and the latency
 * a decision adds. The issue's target: p50 ≤ 0.3 ms added.
 *
 *   bun bench/sidecar.ts [SECONDS=5] [CONNECTIONS=1]
 *
 * One nginx worker; the application is a static nginx location. With the
 * test stand-in layers of test/unit/sidecar/harness.ts (a bearer-token
 * check, a scope rule) until the real auth/authz layers are wired here.
 */
import { startSidecar, testEnforcement } from "../test/unit/sidecar/harness.ts";
import { freePort, startNginx } from "../test/unit/sidecar/fronts.ts";

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 1);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

async function wrk(url: string, headers: string[]): Promise<Run> {
  const args = ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...headers.flatMap((h) => ["-H", h]), url];
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  if (process.env.BENCH_DEBUG) console.error(out);
  await p.exited;
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? "";
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? "";
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50: ms(p50), p99: ms(p99), non2xx };
}

const appPort = freePort();
const app = `    server { listen 127.0.0.1:${appPort}; access_log off; location / { default_type application/json; return 200 '{"id":42,"name":"widget"}'; } }`;
const sc = await startSidecar({ sidecar: { front: "nginx" }, layers: testEnforcement(Number.MAX_SAFE_INTEGER) });
const plain = await startNginx(sc.port, appPort, { withoutAuthRequest: true, extraServer: app });
// The application lives in the baseline nginx (one listener); the guarded nginx proxies to it too.
const guarded = await startNginx(sc.port, appPort);
const headers = ["Host: api.example.com", "Authorization: Bearer alice:admin,orders:write"];
try {
  // Warm up both paths (JIT, keep-alive pools).
  await wrk(`${guarded.url}/admin/x`, headers);
  const base = await wrk(`${plain.url}/admin/x`, headers);
  const dec = await wrk(`${guarded.url}/admin/x`, headers);
  const row = (name: string, r: Run) => `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms${r.non2xx ? `   non-2xx ${r.non2xx}` : ""}`;
  console.log(`wrk ${seconds}s, ${connections} connection(s), one nginx worker, GET /admin/x with a bearer token (auth + scope rule)`);
  console.log(row("nginx, no auth_request", base));
  console.log(row("nginx + Ficus sidecar", dec));
  console.log(`added by the decision: p50 ${(dec.p50 - base.p50).toFixed(3)} ms, p99 ${(dec.p99 - base.p99).toFixed(3)} ms (target: p50 ≤ 0.3 ms)`);
} finally {
  await guarded.stop();
  await plain.stop();
  await sc.stop();
}
