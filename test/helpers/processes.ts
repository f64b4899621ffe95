/**
 * Starting real processes for tests: the fixture upstream and the ficus CLI,
 * each on port 0 (or a port picked free), with their output captured and a
 * stop() that always cleans up.
 */
import type { Subprocess } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = process.execPath;
export const CLI = join(ROOT, "src/cli/main.ts");

const running = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let i = buf.indexOf("\n");
    while (i >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
      i = buf.indexOf("\n");
    }
  }
  if (buf) yield buf;
}

export interface Upstream {
  readonly port: number;
  readonly raw: number;
  readonly url: string;
  readonly proc: Subprocess;
  stop(): Promise<void>;
}

/** Another fixture service (test/fixtures/NAME.ts) that prints {"port":N} first. */
export function startService(fixture: string, name: string, env: Record<string, string> = {}): Promise<Upstream> {
  return startUpstream(name, 0, env, fixture);
}

export async function startUpstream(name = "up", port = 0, env: Record<string, string> = {}, fixture = "upstream"): Promise<Upstream> {
  const proc = Bun.spawn([BUN, join(ROOT, `test/fixtures/${fixture}.ts`), name], { stdout: "pipe", stderr: "inherit", env: { ...process.env, PORT: String(port), ...env } });
  running.add(proc);
  const it = lines(proc.stdout as ReadableStream<Uint8Array>);
  const first = await it.next();
  const info = JSON.parse(first.value as string) as { port: number; raw: number };
  return {
    ...info,
    url: `http://127.0.0.1:${info.port}`,
    proc,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
      running.delete(proc);
    },
  };
}

export interface Ficus {
  readonly port: number;
  readonly adminPort: number;
  readonly url: string;
  readonly admin: string;
  readonly proc: Subprocess;
  /** Access-log lines (stdout) and app-log lines (stderr) seen so far, parsed. */
  readonly access: Record<string, unknown>[];
  readonly logs: Record<string, unknown>[];
  waitForLog(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

function collect(stream: ReadableStream<Uint8Array>, into: Record<string, unknown>[], raw: string[]): void {
  void (async () => {
    for await (const l of lines(stream)) {
      raw.push(l);
      try {
        into.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        into.push({ text: l });
      }
    }
  })();
}

/** Starts `ficus start ARGS` and waits until both listeners are up. */
export async function startFicus(args: string[], opts: { env?: Record<string, string>; expectFailure?: boolean } = {}): Promise<Ficus> {
  const proc = Bun.spawn([BUN, CLI, "start", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...opts.env } });
  running.add(proc);
  const access: Record<string, unknown>[] = [];
  const logs: Record<string, unknown>[] = [];
  const rawErr: string[] = [];
  collect(proc.stdout as ReadableStream<Uint8Array>, access, []);
  collect(proc.stderr as ReadableStream<Uint8Array>, logs, rawErr);
  const waitForLog = async (pred: (l: Record<string, unknown>) => boolean, ms = 10_000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const hit = logs.find(pred);
      if (hit) return hit;
      if (proc.exitCode !== null) throw new Error(`ficus exited with ${proc.exitCode}:\n${rawErr.join("\n")}`);
      await Bun.sleep(10);
    }
    throw new Error(`timed out waiting for a log line; stderr so far:\n${rawErr.join("\n")}`);
  };
  // A gateway that dies while a test still uses it says why (its last log lines), instead of leaving only ECONNREFUSED.
  let stopping = false;
  void proc.exited.then((code) => {
    if (!stopping && !opts.expectFailure && code !== 0) process.stderr.write(`\nficus exited unexpectedly with ${code}; its last stderr lines:\n${rawErr.slice(-30).join("\n")}\n`);
  });
  const portOf = (l: Record<string, unknown>) => Number(String(l.address).split(":").pop());
  const main = await waitForLog((l) => l.msg === "listening" || l.msg === "supervisor started");
  const adm = await waitForLog((l) => l.msg === "admin listening");
  const port = main.msg === "listening" ? portOf(main) : Number(String(main.listen).split(":").pop());
  const adminPort = portOf(adm);
  return {
    port,
    adminPort,
    url: `http://127.0.0.1:${port}`,
    admin: `http://127.0.0.1:${adminPort}`,
    proc,
    access,
    logs,
    waitForLog,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      stopping = true;
      if (proc.exitCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await proc.exited;
      clearTimeout(timer);
      running.delete(proc);
      return code;
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([BUN, CLI, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export function tempDir(prefix = "ficus-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfig(dir: string, text: string, name = "ficus.yaml"): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A port that was free a moment ago (for multi-worker tests, which cannot use port 0). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

/** Sends raw bytes; returns what came back and whether the server closed the connection before `ms` (then the client closes). */
export async function rawExchange(port: number, payload: string | Uint8Array, ms = 2000): Promise<{ text: string; closedByServer: boolean }> {
  let text = "";
  return new Promise((resolveDone) => {
    let sock: { end(): void } | undefined;
    const timer = setTimeout(() => {
      sock?.end();
      resolveDone({ text, closedByServer: false });
    }, ms);
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(payload);
        },
        data(_s, d) {
          text += d.toString("latin1");
        },
        close() {
          clearTimeout(timer);
          resolveDone({ text, closedByServer: true });
        },
        error() {
          clearTimeout(timer);
          resolveDone({ text, closedByServer: true });
        },
      },
    });
  });
}

/** Sends raw bytes and returns everything the server answers until it closes, or until ms pass (then the client closes). */
export async function rawRequest(port: number, payload: string | Uint8Array, ms = 2000): Promise<string> {
  return (await rawExchange(port, payload, ms)).text;
}
