/**
 * Replaying a snapshot (`ficus mcp replay`): the failed call made again with
 * the official SDK client (v2, era negotiated), against a given MCP
 * endpoint (a fixed upstream, a gateway) or where the snapshot's source was
 * (its URL, or its stdio command spawned). The arguments are the snapshot's,
 * as stored: redacted values stay "[redacted]". A call fails again when it
 * is a JSON-RPC error, a tool error, or (for a schema_violation) its
 * structuredContent still breaks the outputSchema the snapshot recorded.
 */
import { Client, StreamableHTTPClientTransport, type Transport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { FicusError } from "../../../core/errors.ts";
import { validatorFor } from "../json-schema.ts";
import { resultText } from "./classify.ts";
import { isTruncated, type Snapshot } from "./snapshot.ts";

export interface ReplayOptions {
  /** An MCP endpoint URL; without it, the snapshot's source. */
  readonly against?: string | undefined;
  /** The tool name to call; default: the upstream name, or the public one when the endpoint lists only that. */
  readonly toolName?: string | undefined;
  /** Longest the call may take, ms. */
  readonly timeoutMs: number;
}

export interface ReplayOutcome {
  readonly id: string;
  /** Where it was replayed: the URL, or the stdio command. */
  readonly against: string;
  readonly tool: string;
  readonly fails: boolean;
  /** Why it still fails (the error's or tool error's text, the schema problem). */
  readonly message?: string;
  readonly result?: unknown;
  readonly error?: { readonly code?: number; readonly message: string };
  readonly duration_ms: number;
}

function transportFor(s: Snapshot, against: string | undefined): { transport: Transport; where: string } {
  if (against !== undefined) return { transport: new StreamableHTTPClientTransport(new URL(against)), where: against };
  const t = s.target;
  if (t?.url !== undefined) return { transport: new StreamableHTTPClientTransport(new URL(t.url)), where: t.url };
  if (t?.command !== undefined && t.command.length > 0) {
    const [command, ...args] = t.command as [string, ...string[]];
    return { transport: new StdioClientTransport({ command, args, stderr: "ignore", ...(t.cwd !== undefined ? { cwd: t.cwd } : {}) }), where: t.command.join(" ") };
  }
  throw new FicusError(
    "FICUS_USAGE",
    `snapshot ${s.id}'s source ${s.source} is ${t === undefined ? "no longer known" : `of kind ${t.kind} (HTTP calls${t.upstream !== undefined ? ` to ${t.upstream}` : " through the gateway's routes"})`}: give --against an MCP endpoint (e.g. the gateway's) to replay it`,
  );
}

/** Which name to call: --tool-name, else the upstream name when listed, else the public name when listed, else the upstream name. */
async function toolNameAt(client: Client, s: Snapshot, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  if (s.upstream_tool === s.tool) return s.tool;
  try {
    const names = new Set((await client.listTools()).tools.map((t) => t.name));
    if (!names.has(s.upstream_tool) && names.has(s.tool)) return s.tool;
  } catch {
    // No list: call by the upstream name and let the call say what is wrong.
  }
  return s.upstream_tool;
}

export async function replaySnapshot(s: Snapshot, o: ReplayOptions): Promise<ReplayOutcome> {
  if (isTruncated(s.arguments)) throw new FicusError("FICUS_USAGE", `snapshot ${s.id}'s arguments were cut at mcp.snapshots.max_bytes (${s.arguments.bytes} bytes): they cannot be replayed`);
  const { transport, where } = transportFor(s, o.against);
  const client = new Client({ name: "ficus-replay", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  try {
    await client.connect(transport);
  } catch (err) {
    await client.close().catch(() => {});
    throw new FicusError("FICUS_MCP_UPSTREAM", `cannot connect to ${where}: ${(err as Error).message}`, { cause: err });
  }
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 1000) / 1000;
  try {
    const tool = await toolNameAt(client, s, o.toolName);
    const base = { id: s.id, against: where, tool };
    let result: Record<string, unknown>;
    try {
      result = (await client.callTool({ name: tool, arguments: (s.arguments ?? {}) as Record<string, unknown> }, { timeout: o.timeoutMs })) as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const message = err instanceof Error ? err.message : String(err);
      return { ...base, fails: true, message, error: { ...(typeof code === "number" ? { code } : {}), message }, duration_ms: ms() };
    }
    const duration_ms = ms();
    if (result.isError === true) return { ...base, fails: true, message: resultText(result as { content: Record<string, unknown>[] }), result, duration_ms };
    const schema = (s.definition as { outputSchema?: Record<string, unknown> } | undefined)?.outputSchema;
    if (s.kind === "schema_violation" && schema !== undefined && result.structuredContent !== undefined) {
      const problem = validatorFor(schema)?.(result.structuredContent);
      if (problem !== undefined) return { ...base, fails: true, message: `structuredContent does not fit the outputSchema: ${problem}`, result, duration_ms };
    }
    return { ...base, fails: false, result, duration_ms };
  } finally {
    await client.close().catch(() => {});
  }
}
