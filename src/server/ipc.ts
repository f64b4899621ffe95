/**
 * Messages between the supervisor and its worker processes (JSON over Bun's IPC channel), and the form a
 * validated config takes to cross it. The supervisor validates (zod, YAML, ${ENV}, command-line overrides);
 * a worker receives the result as plain data and never parses or validates a config itself, so it loads
 * neither zod nor yaml (test/integration/worker-modules.test.ts).
 */
import type { LoadedConfig } from "../config/load.ts";
import type { FicusConfig } from "../config/schema.ts";
import type { RecordCommand, SessionStatus } from "../record/recorder.ts";
import type { RouteInfo } from "./gateway.ts";

/** The argument that makes the ficus binary (or src/cli/main.ts) a worker process: the supervisor spawns it with this. */
export const WORKER_ARG = "__worker";

/** The argument that makes it a one-shot OpenAPI converter (src/mcp/sources/http/openapi-child.ts). */
export const OPENAPI_ARG = "__openapi";

/** The command that re-runs this program: the compiled binary itself, or bun + the entry script. */
export function selfCommand(): string[] {
  const main = Bun.main;
  return main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/") ? [process.execPath] : [process.execPath, main];
}

/** Whether this process was started from Ficus's own entry (the binary or src/cli/main.ts), so selfCommand() runs Ficus. */
export function runningFicusEntry(): boolean {
  const main = Bun.main;
  return main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/") || main.endsWith("/src/cli/main.ts");
}

/** A worker's answer to a record command. */
export type RecordReply = { readonly sessions: SessionStatus[] } | { readonly error: { readonly code: string; readonly message: string } };

/**
 * A validated config as JSON data. Everything in FicusConfig is JSON already (durations and sizes are
 * numbers, addresses are {hostname, port}, patterns are their source strings, compiled by the code that runs
 * them); only secretPaths, a Set, travels as a list. Keys whose value is undefined are dropped on the way,
 * which reads the same.
 */
export interface WireConfig {
  readonly config: FicusConfig;
  readonly secretPaths: readonly string[];
  readonly source: string;
}

export type ToWorker =
  | { readonly t: "config"; readonly config: WireConfig; readonly reload: boolean }
  | { readonly t: "metrics"; readonly id: number }
  | { readonly t: "routes"; readonly id: number }
  | { readonly t: "flush"; readonly id: number }
  | { readonly t: "record"; readonly id: number; readonly command: RecordCommand }
  | { readonly t: "shutdown" }
  /** An MCP session ended on another worker: refuse its id here too (then reply). */
  | { readonly t: "mcp-revoke"; readonly id: number; readonly nonce: string; readonly expires: number }
  /** Every worker has heard of the session this worker ended (its DELETE may be answered). */
  | { readonly t: "mcp-revoked"; readonly id: number };

export type FromWorker =
  | { readonly t: "ready"; readonly port: number }
  | { readonly t: "applied"; readonly ok: boolean; readonly errors?: readonly string[] }
  | { readonly t: "reply"; readonly id: number; readonly data: unknown }
  | { readonly t: "fatal"; readonly code: string; readonly message: string }
  /** An MCP session ended here (DELETE): tell the other workers, then answer with mcp-revoked. */
  | { readonly t: "mcp-revoke"; readonly id: number; readonly nonce: string; readonly expires: number };

export type { RouteInfo };

/** The supervisor's side: a validated config as the message carries it. */
export function toWire(loaded: LoadedConfig): WireConfig {
  return { config: loaded.config, secretPaths: [...loaded.secretPaths], source: loaded.source };
}

/** The worker's side: the config as the loader would have returned it (frozen, secretPaths a Set). */
export function fromWire(wire: WireConfig): LoadedConfig {
  return { config: freeze(wire.config), secretPaths: new Set(wire.secretPaths), source: wire.source };
}

function freeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}
