/**
 * Helpers for edge-mcp tests: fixture processes that print `listening <port>`,
 * and raw MCP messages over HTTP for the cases an SDK client would never send.
 */
import type { Subprocess } from "bun";
import { join } from "node:path";
import { BUN, ROOT } from "./processes.ts";

export interface Listening {
  readonly port: number;
  readonly proc: Subprocess;
  stop(): Promise<void>;
}

/** Starts `bun FILE ARGS` (a fixture under test/fixtures) and waits for its `listening <port>` line. */
export async function startListening(fixture: string, args: string[] = []): Promise<Listening> {
  const proc = Bun.spawn([BUN, join(ROOT, "test/fixtures", fixture), ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let seen = "";
  while (!/listening \d+/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${fixture} exited before listening: ${seen}`);
    seen += dec.decode(value, { stream: true });
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  const port = Number(/listening (\d+)/.exec(seen)?.[1]);
  return {
    port,
    proc,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

export const MODERN = "2026-07-28";

/** The 2026-07-28 envelope of a request. */
export function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "test", version: "1" }, ...extra };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The JSON-RPC messages of the answer (one for JSON, each event's data for SSE). */
  readonly messages: Record<string, unknown>[];
}

/** POSTs one message as given (headers and body exactly as the test says). */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const ctype = res.headers.get("content-type") ?? "";
  let messages: Record<string, unknown>[] = [];
  if (ctype.startsWith("text/event-stream")) messages = text.split("\n").filter((l) => l.startsWith("data: ") && l.length > 6).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
  else if (text !== "") {
    try {
      messages = [JSON.parse(text) as Record<string, unknown>];
    } catch {
      messages = [];
    }
  }
  return { status: res.status, headers: res.headers, text, messages };
}

/** A 2026-07-28 request with the headers the spec requires. */
export function modern(url: string, id: number | string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const name = method === "tools/call" || method === "prompts/get" ? params.name : method === "resources/read" ? params.uri : undefined;
  return post(
    url,
    { jsonrpc: "2.0", id, method, params: { ...params, _meta: envelope(params._meta as Record<string, unknown> | undefined) } },
    { "mcp-protocol-version": MODERN, "mcp-method": method, ...(typeof name === "string" ? { "mcp-name": name } : {}), ...headers },
  );
}
