/**
 * Real fronts for the sidecar tests and the benchmark: nginx and Caddy run
 * with the example configurations of examples/sidecar/, only the addresses
 * substituted (Ficus 127.0.0.1:9000, the application 127.0.0.1:8080, the
 * front's own 127.0.0.1:8000 / :8001).
 */
import type { Subprocess } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const EXAMPLES = resolve(import.meta.dir, "../../../examples/sidecar");
export const NGINX = "/usr/sbin/nginx";
export const CADDY = "/usr/bin/caddy";

export interface RealFront {
  readonly port: number;
  readonly url: string;
  /** The front's own log (errors), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

async function waitForPort(port: number, proc: { exitCode: number | null }, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the front exited (${proc.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((done) => {
      Bun.connect({ hostname: "127.0.0.1", port, socket: { open: (s) => (s.end(), done(true)), data() {}, error: () => done(false), connectError: () => done(false) } }).catch(() => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the front did not listen on ${port} within 10 s: ${log()}`);
    await Bun.sleep(25);
  }
}

function substitute(text: string, ficusPort: number, appPort: number, frontPort: number, frontDefault: number): string {
  return text.replaceAll("127.0.0.1:9000", `127.0.0.1:${ficusPort}`).replaceAll("127.0.0.1:8080", `127.0.0.1:${appPort}`).replaceAll(`127.0.0.1:${frontDefault}`, `127.0.0.1:${frontPort}`);
}

/** nginx with examples/sidecar/nginx.conf (temp paths and pid in a temporary folder, so it runs unprivileged too). */
export async function startNginx(ficusPort: number, appPort: number, opts: { workers?: number; withoutAuthRequest?: boolean; extraServer?: string } = {}): Promise<RealFront> {
  const dir = mkdtempSync(join(tmpdir(), "ficus-nginx-"));
  const port = freePort();
  let conf = substitute(readFileSync(join(EXAMPLES, "nginx.conf"), "utf8"), ficusPort, appPort, port, 8000);
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${join(dir, t)};`).join("\n");
  conf = conf.replace(/^http \{$/m, `http {\n${temps}`);
  // The baseline of the benchmark: the same nginx, no decision asked.
  if (opts.withoutAuthRequest) conf = conf.replace(/^\s*auth_request \/_ficus;$/m, "");
  if (opts.extraServer !== undefined) conf = conf.replace(/^http \{$/m, `http {\n${opts.extraServer}`);
  if (opts.workers !== undefined) conf = conf.replace(/^worker_processes \d+;$/m, `worker_processes ${opts.workers};`);
  writeFileSync(join(dir, "nginx.conf"), conf);
  const errorLog = join(dir, "error.log");
  const proc = Bun.spawn([NGINX, "-p", dir, "-c", join(dir, "nginx.conf"), "-g", `daemon off; pid ${join(dir, "nginx.pid")}; error_log ${errorLog} info;`], { stdout: "ignore", stderr: "pipe" });
  const log = () => {
    try {
      return readFileSync(errorLog, "utf8");
    } catch {
      return "(no error log)";
    }
  };
  return running(port, proc, dir, log);
}

/** A front once it accepts connections on `port`; stopping it removes its folder. */
async function running(port: number, proc: Subprocess, dir: string, log: () => string): Promise<RealFront> {
  await waitForPort(port, proc, log);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Caddy with examples/sidecar/Caddyfile. */
export async function startCaddy(ficusPort: number, appPort: number): Promise<RealFront> {
  const dir = mkdtempSync(join(tmpdir(), "ficus-caddy-"));
  const port = freePort();
  const file = substitute(readFileSync(join(EXAMPLES, "Caddyfile"), "utf8"), ficusPort, appPort, port, 8001).replace("http://:8001 {", `http://:${port} {`);
  writeFileSync(join(dir, "Caddyfile"), file);
  const proc = Bun.spawn([CADDY, "run", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  let output = "";
  void (async () => {
    for await (const chunk of proc.stderr) output += new TextDecoder().decode(chunk);
  })();
  const log = () => output.slice(-4000);
  return running(port, proc, dir, log);
}
