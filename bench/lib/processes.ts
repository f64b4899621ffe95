/**
 * The processes of the MCP benchmarks: a command started (pinned to one core when taskset exists), its output
 * kept line by line, and a wait for the line that says it is ready. Every process started here is killed when the
 * benchmark exits.
 */
import type { Subprocess } from "bun";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const children: Subprocess[] = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

export function which(cmd: string): boolean {
  return Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
}
/** Whether processes are pinned to cores (taskset is present). */
export const PIN = which("taskset");

export interface Started {
  proc: Subprocess;
  /** The match of the ready pattern. */
  match: RegExpExecArray;
  /** Every line the process wrote (stdout and stderr), growing as it runs. */
  lines: string[];
}

/** Starts `cmd` (on `core` when taskset exists) and waits, up to 60 s, for an output line matching `ready`. */
export async function start(cmd: string[], core: number | undefined, ready: RegExp): Promise<Started> {
  const proc = Bun.spawn(PIN && core !== undefined ? ["taskset", "-c", String(core), ...cmd] : cmd, { stdout: "pipe", stderr: "pipe" });
  children.push(proc);
  const lines: string[] = [];
  for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[]) {
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of stream) {
        buf += dec.decode(chunk, { stream: true });
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      }
    })();
  }
  let checked = 0;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await Bun.sleep(25)) {
    for (; checked < lines.length; checked++) {
      const m = ready.exec(lines[checked] as string);
      if (m) return { proc, match: m, lines };
    }
    if (proc.exitCode !== null) throw new Error(`${cmd.join(" ")} exited before it was ready:\n${lines.join("\n")}`);
  }
  throw new Error(`${cmd.join(" ")} was not ready in 60 s:\n${lines.join("\n")}`);
}

/** Starts `ficus start -c config` and waits for its data-plane listener. */
export async function startFicus(config: string, core: number | undefined): Promise<Started & { port: number }> {
  const started = await start([process.execPath, join(ROOT, "src/cli/main.ts"), "start", "-c", config], core, /"msg":"listening".*"address":"[^"]*:(\d+)"/);
  return { ...started, port: Number(started.match[1]) };
}
