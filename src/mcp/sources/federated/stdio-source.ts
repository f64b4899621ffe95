/**
 * A federated MCP server Ficus runs as a child process and speaks to over stdio (source kind
 * "stdio"). Ficus supervises it: when it exits, calls in flight fail with a tool error and it is
 * started again with back-off (100 ms doubling, capped by `restart.max_backoff_ms`, 30 s by
 * default; back to 100 ms after a minute up). Its stderr lines go to `onLog`, cut to a bounded
 * length. Lines on stdout that are not JSON are skipped by the SDK's reader; JSON that is not a
 * JSON-RPC message reaches the transport's error callback, is counted and logged, and the
 * connection carries on. `close()` sends SIGTERM, then SIGKILL after 2 s, and stops restarting.
 */
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { Transport } from "@modelcontextprotocol/client";
import type { Readable } from "node:stream";
import { FicusError } from "../../../core/errors.ts";
import { McpClientSource, type EraChoice } from "./client-source.ts";
import { describe } from "./errors.ts";

export interface StdioSourceOptions {
  name: string;
  /** The program and its arguments. */
  command: string[];
  /** Added to the SDK's default inherited environment (HOME, PATH, …). */
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  /** Per-call timeout in ms (default 60 000). */
  timeout?: number | undefined;
  restart?: { max_backoff_ms?: number | undefined } | undefined;
  era?: EraChoice | undefined;
  /** Receives the child's stderr lines and the source's own lifecycle lines. */
  onLog?: ((line: string) => void) | undefined;
}

/** Longest stderr line passed on; the rest is cut. */
export const MAX_LOG_LINE = 2_000;
const KILL_AFTER_MS = 2_000;

export class StdioSource extends McpClientSource {
  readonly kind = "stdio" as const;
  private readonly command: readonly string[];
  private readonly env: Record<string, string> | undefined;
  private readonly cwd: string | undefined;
  private transport: StdioClientTransport | undefined;
  private invalidMessages = 0;

  constructor(options: StdioSourceOptions) {
    super({ ...options, maxBackoffMs: options.restart?.max_backoff_ms });
    if (!Array.isArray(options.command) || options.command.length === 0 || options.command.some((part) => typeof part !== "string") || options.command[0] === "") {
      throw new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${options.name}: command must be a non-empty list of strings`);
    }
    this.command = [...options.command];
    this.env = options.env;
    this.cwd = options.cwd;
  }

  /** How many stdout messages were not JSON-RPC (skipped). */
  invalidMessageCount(): number {
    return this.invalidMessages;
  }

  /** The running child's pid, when one runs. */
  pid(): number | undefined {
    return this.transport?.pid ?? undefined;
  }

  protected openTransport(): Transport {
    const [command, ...args] = this.command as [string, ...string[]];
    const transport = new StdioClientTransport({
      command,
      args,
      stderr: "pipe",
      ...(this.env !== undefined ? { env: this.env } : {}),
      ...(this.cwd !== undefined ? { cwd: this.cwd } : {}),
    });
    const stderr = transport.stderr as Readable | null;
    if (stderr !== null) forwardLines(stderr, (line) => this.onLog?.(line));
    this.transport = transport;
    return transport;
  }

  protected where(): string {
    const pid = this.pid();
    return pid === undefined ? this.command.join(" ") : `pid ${pid}`;
  }

  protected override connectError(error: unknown): FicusError {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT" || code === "EACCES") {
      return new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${this.name}: cannot run ${this.command[0]}: ${describe(error)}`, { cause: error });
    }
    return super.connectError(error);
  }

  /** stdio loss shows as the process exiting; errors on the pipe are bad lines, counted and skipped. */
  protected override transportErrorSuggestsLoss(error: Error): boolean {
    if (error.name === "ZodError" || error.name === "SyntaxError" || /invalid|parse|expected/i.test(error.message)) {
      this.invalidMessages++;
      this.onLog?.(`upstream ${this.name}: skipped a stdout line that is not a JSON-RPC message (${this.invalidMessages} so far)`);
      return false;
    }
    return false;
  }

  protected override async shutdown(connection: Parameters<McpClientSource["shutdown"]>[0]): Promise<void> {
    const pid = this.transport?.pid ?? undefined;
    if (pid !== undefined) {
      signal(pid, "SIGTERM");
      const exited = await Promise.race([connection.closed.then(() => true), Bun.sleep(KILL_AFTER_MS).then(() => false)]);
      if (!exited) signal(pid, "SIGKILL");
    }
    await super.shutdown(connection);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Splits a stream into lines, each cut to MAX_LOG_LINE characters. */
function forwardLines(stream: Readable, emit: (line: string) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let index = pending.indexOf("\n");
    while (index !== -1) {
      emit(cut(pending.slice(0, index).replace(/\r$/, "")));
      pending = pending.slice(index + 1);
      index = pending.indexOf("\n");
    }
    if (pending.length > MAX_LOG_LINE * 4) {
      emit(cut(pending));
      pending = "";
    }
  });
  stream.on("end", () => {
    if (pending !== "") emit(cut(pending));
  });
}

function cut(line: string): string {
  return line.length <= MAX_LOG_LINE ? line : `${line.slice(0, MAX_LOG_LINE)}… (${line.length - MAX_LOG_LINE} more characters)`;
}
