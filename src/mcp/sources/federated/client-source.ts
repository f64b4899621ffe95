/**
 * The client side shared by the federated sources (Streamable HTTP and stdio): one official v2
 * SDK `Client` per source, shared by every agent's calls. It connects (the SDK negotiates the
 * era), keeps the upstream's tools, resources, resource templates and prompts, refetches a list
 * when the upstream says it changed (2025 list_changed notifications, or the 2026-07-28
 * `subscriptions/listen` stream the SDK opens for `listChanged`), reconnects with back-off when
 * the connection is lost, and makes calls: cancellation, progress, `_meta`, timeouts, and the
 * upstream's server→client requests relayed to the right call (call-scope.ts).
 *
 * Subclasses supply the transport for each connection attempt.
 */
import { Client, ProtocolError, SdkError, SdkErrorCode, type Transport, type VersionNegotiationOptions } from "@modelcontextprotocol/client";
import { FicusError } from "../../../core/errors.ts";
import type {
  CallContext,
  CallToolResult,
  JsonObject,
  ListKind,
  Progress,
  PromptDefinition,
  ResourceDefinition,
  ResourceTemplateDefinition,
  SourceKind,
  ToolDefinition,
  ToolSource,
} from "../../types.ts";
import { Backoff } from "./backoff.ts";
import { CallScope, StreamLostError, type InflightCall } from "./call-scope.ts";
import { UpstreamRpcError, describe, toolError } from "./errors.ts";

/** Which protocol era to speak: let the SDK probe (`auto`), or force one. */
export type EraChoice = "auto" | "legacy" | "modern";

/** The 2026-07-28 revision a `modern` choice pins. */
const MODERN_REVISION = "2026-07-28";
const DEFAULT_TIMEOUT_MS = 60_000;
/** Connect, list and health-check requests: an upstream slower than this is treated as down. */
const CONTROL_TIMEOUT_MS = 10_000;
const HEALTH_TIMEOUT_MS = 3_000;
/** list_changed notifications closer together than this are fetched once. */
const LIST_CHANGED_DEBOUNCE_MS = 20;
const CLIENT_INFO = { name: "ficus-edge-mcp", version: "0.1.0" } as const;
/** Server→client requests relayed to the agent. */
const RELAYED_REQUESTS = ["sampling/createMessage", "elicitation/create", "roots/list"] as const;

export interface ClientSourceOptions {
  name: string;
  timeout?: number | undefined;
  era?: EraChoice | undefined;
  maxBackoffMs?: number | undefined;
  onLog?: ((line: string) => void) | undefined;
}

interface Lists {
  tools: readonly ToolDefinition[];
  resources: readonly ResourceDefinition[];
  resourceTemplates: readonly ResourceTemplateDefinition[];
  prompts: readonly PromptDefinition[];
}

const EMPTY_LISTS: Lists = { tools: [], resources: [], resourceTemplates: [], prompts: [] };

/** One live connection: its client and a generation number, so late events of an old one are ignored. */
interface Connection {
  readonly client: Client;
  readonly generation: number;
  readonly closed: Promise<void>;
}

export abstract class McpClientSource implements ToolSource {
  abstract readonly kind: SourceKind;
  readonly name: string;
  onListChanged?: ((what: ListKind) => void) | undefined;
  protected readonly onLog: ((line: string) => void) | undefined;
  protected readonly calls = new CallScope();
  private readonly timeoutMs: number;
  private readonly eraChoice: EraChoice;
  private readonly backoff: Backoff;
  private lists: Lists = EMPTY_LISTS;
  private connection: Connection | undefined;
  private generation = 0;
  private state: "starting" | "up" | "down" = "starting";
  private why: string | undefined;
  private negotiated: { era: "legacy" | "modern"; version: string } | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private checking = false;
  private closing = false;

  protected constructor(options: ClientSourceOptions) {
    if (typeof options.name !== "string" || options.name === "") throw new FicusError("FICUS_MCP_SOURCE_INVALID", "a federated MCP source needs a non-empty name");
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout <= 0) throw new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${options.name}: timeout must be a positive number of milliseconds, got ${String(options.timeout)}`);
    const era = options.era ?? "auto";
    if (era !== "auto" && era !== "legacy" && era !== "modern") throw new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${options.name}: era must be auto, legacy or modern, got ${String(era)}`);
    this.name = options.name;
    this.timeoutMs = timeout;
    this.eraChoice = era;
    this.backoff = new Backoff(options.maxBackoffMs);
    this.onLog = options.onLog;
  }

  /** A fresh transport for one connection attempt. */
  protected abstract openTransport(): Transport;

  /** Where the upstream is, for status lines ("http://…", "pid 123"). */
  protected abstract where(): string;

  /** Turns a failure to connect into the FicusError start() rejects with. */
  protected connectError(error: unknown): FicusError {
    return new FicusError("FICUS_MCP_UPSTREAM", `upstream ${this.name} (${this.where()}): cannot connect: ${describe(error)}`, { cause: error });
  }

  /** Whether a transport error (not tied to a call) may mean the upstream is gone, so its health is checked. */
  protected transportErrorSuggestsLoss(_error: Error): boolean {
    return true;
  }

  async start(): Promise<void> {
    if (this.closing) throw new FicusError("FICUS_MCP_UPSTREAM", `upstream ${this.name} is closed`);
    try {
      await this.calls.outside(() => this.connect());
    } catch (error) {
      this.markDown(`cannot connect: ${describe(error)}`);
      this.scheduleReconnect();
      throw this.connectError(error);
    }
  }

  /** The negotiated era once connected: `modern` (2026-07-28, server/discover) or `legacy` (2025 initialize). */
  era(): "legacy" | "modern" | undefined {
    return this.negotiated?.era;
  }

  tools(): readonly ToolDefinition[] {
    return this.lists.tools;
  }
  resources(): readonly ResourceDefinition[] {
    return this.lists.resources;
  }
  resourceTemplates(): readonly ResourceTemplateDefinition[] {
    return this.lists.resourceTemplates;
  }
  prompts(): readonly PromptDefinition[] {
    return this.lists.prompts;
  }

  status(): { state: "up" | "starting" | "down"; detail?: string } {
    if (this.state === "up" && this.negotiated !== undefined) {
      return { state: "up", detail: `${this.negotiated.era} era, protocol ${this.negotiated.version}, ${this.where()}` };
    }
    return this.why === undefined ? { state: this.state } : { state: this.state, detail: this.why };
  }

  async call(tool: string, args: JsonObject, ctx: CallContext): Promise<CallToolResult> {
    const connection = this.connection;
    if (connection === undefined || this.state !== "up") return toolError(`upstream ${this.name} is down: ${this.why ?? "not connected"}`, "FICUS_MCP_UPSTREAM");
    if (ctx.signal.aborted) return toolError(`the call to ${tool} on upstream ${this.name} was cancelled`);
    const call = this.calls.open(ctx);
    const abort = new AbortController();
    const onCancel = (): void => abort.abort(new Error("cancelled by the agent"));
    ctx.signal.addEventListener("abort", onCancel, { once: true });
    const timer = setTimeout(() => {
      call.timedOut = true;
      abort.abort(new Error("call timeout"));
    }, this.timeoutMs);
    // Progress reaches the agent from the transport (see connect); the SDK's callback only makes it ask for progress.
    const progress = ctx.progress === undefined ? undefined : (_p: Progress): void => {};
    try {
      const pending = this.calls.run(call, () =>
        connection.client.callTool(
          { name: tool, arguments: args, ...retryFields(ctx), ...(ctx.meta !== undefined ? { _meta: ctx.meta } : {}) },
          {
            signal: abort.signal,
            ...(ctx.passInputRequired === true ? { allowInputRequired: true } : {}),
            timeout: this.timeoutMs + 1_000,
            ...(progress !== undefined
              ? { onprogress: (p) => progress({ progress: p.progress }) }
              : {}),
          },
        ),
      );
      return (await Promise.race([pending, call.lost])) as CallToolResult;
    } catch (error) {
      return this.callFailed(tool, call, error, connection);
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onCancel);
      this.calls.close(call);
    }
  }

  readResource(uri: string, ctx: CallContext): Promise<JsonObject> {
    return this.passThrough("resources/read", ctx, (client, options) =>
      client.readResource({ uri, ...retryFields(ctx), ...(ctx.meta !== undefined ? { _meta: ctx.meta } : {}) }, { ...options, ...inputRequiredOption(ctx), cacheMode: "bypass" }),
    );
  }

  getPrompt(name: string, args: Record<string, string>, ctx: CallContext): Promise<JsonObject> {
    return this.passThrough("prompts/get", ctx, (client, options) =>
      client.getPrompt({ name, arguments: args, ...retryFields(ctx), ...(ctx.meta !== undefined ? { _meta: ctx.meta } : {}) }, { ...options, ...inputRequiredOption(ctx) }),
    );
  }

  complete(params: JsonObject, ctx: CallContext): Promise<JsonObject> {
    return this.passThrough("completion/complete", ctx, (client, options) =>
      client.complete({ ...(params as Parameters<Client["complete"]>[0]), ...(ctx.meta !== undefined ? { _meta: ctx.meta } : {}) }, options),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    this.generation++;
    this.markDown("closed");
    if (connection !== undefined) await this.shutdown(connection);
  }

  /** Ends one connection; the stdio source kills its process first. */
  protected async shutdown(connection: Connection): Promise<void> {
    await connection.client.close().catch(() => {});
  }

  // --- connection lifecycle ---

  private negotiation(): VersionNegotiationOptions {
    if (this.eraChoice === "legacy") return { mode: "legacy" };
    if (this.eraChoice === "modern") return { mode: { pin: MODERN_REVISION } };
    return { mode: "auto", probe: { timeoutMs: CONTROL_TIMEOUT_MS } };
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const debounce = { autoRefresh: false, debounceMs: LIST_CHANGED_DEBOUNCE_MS } as const;
    const client = new Client(CLIENT_INFO, {
      capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: false } },
      versionNegotiation: this.negotiation(),
      listChanged: {
        tools: { ...debounce, onChanged: () => this.listChanged(generation, "tools") },
        resources: { ...debounce, onChanged: () => this.listChanged(generation, "resources") },
        prompts: { ...debounce, onChanged: () => this.listChanged(generation, "prompts") },
      },
    });
    for (const method of RELAYED_REQUESTS) {
      client.setRequestHandler(method, async (request) => (await this.relay(method, request.params as JsonObject | undefined)) as never);
    }
    client.setNotificationHandler("notifications/message", (notification) => {
      const owner = this.calls.owner((ctx) => ctx.notify !== undefined);
      owner?.ctx.notify?.("notifications/message", notification.params as JsonObject);
    });
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    client.onclose = () => {
      resolveClosed();
      this.lost(generation, "the connection closed");
    };
    client.onerror = (error) => this.transportError(generation, error);

    const transport = this.openTransport();
    // Progress is taken off the wire here, in stream order, before the SDK's dispatch: the SDK drops a
    // progress notification that arrives in the same read as its call's response (it removes the
    // handler first). Tokens are learned from the requests as they are sent, inside the call's scope.
    const progressCalls = new Map<string, InflightCall>();
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      const token = (message as { params?: { _meta?: { progressToken?: unknown } } }).params?._meta?.progressToken;
      const call = token === undefined ? undefined : this.calls.current();
      if (call !== undefined && call.ctx.progress !== undefined) {
        const key = String(token);
        progressCalls.set(key, call);
        call.onDone(() => progressCalls.delete(key));
      }
      return send(message, options);
    };
    const onmessage = (message: unknown): void => {
      if (typeof message !== "object" || message === null) return;
      if ("method" in message) {
        const m = message as { method: unknown; params?: { progressToken?: unknown; progress?: unknown; total?: unknown; message?: unknown } };
        if (m.method === "notifications/progress" && m.params !== undefined) {
          const call = progressCalls.get(String(m.params.progressToken));
          if (call !== undefined && !call.done && typeof m.params.progress === "number") {
            const p: Progress = { progress: m.params.progress };
            if (typeof m.params.total === "number") p.total = m.params.total;
            if (typeof m.params.message === "string") p.message = m.params.message;
            // Not inside the transport's read: the agent's handler may cancel the call, which must not cut the read under way.
            queueMicrotask(() => {
              if (!call.done) call.ctx.progress?.(p);
            });
          }
        }
        return;
      }
      if ("id" in message) {
        const id = (message as { id: unknown }).id;
        if (typeof id === "string" || typeof id === "number") this.calls.sawResponse(id);
      }
    };
    transport.onmessage = onmessage;
    try {
      await client.connect(transport, { timeout: CONTROL_TIMEOUT_MS });
      const lists = await this.fetchLists(client);
      if (generation !== this.generation || this.closing) throw new Error("superseded");
      const before = this.lists;
      this.lists = lists;
      this.connection = { client, generation, closed };
      const era = client.getProtocolEra() ?? "legacy";
      this.negotiated = { era, version: client.getNegotiatedProtocolVersion() ?? "unknown" };
      this.state = "up";
      this.why = undefined;
      this.backoff.connected();
      if (before !== EMPTY_LISTS) this.announceDifferences(before, lists);
    } catch (error) {
      client.onclose = undefined;
      await this.shutdown({ client, generation, closed }).catch(() => {});
      throw error;
    }
  }

  private async fetchLists(client: Client): Promise<Lists> {
    const options = { timeout: CONTROL_TIMEOUT_MS, cacheMode: "refresh" } as const;
    const [tools, resources, resourceTemplates, prompts] = await Promise.all([
      client.listTools(undefined, options),
      client.listResources(undefined, options),
      client.listResourceTemplates(undefined, options),
      client.listPrompts(undefined, options),
    ]);
    return {
      tools: tools.tools as ToolDefinition[],
      resources: resources.resources as ResourceDefinition[],
      resourceTemplates: resourceTemplates.resourceTemplates as ResourceTemplateDefinition[],
      prompts: prompts.prompts as PromptDefinition[],
    };
  }

  /** After a reconnect, tells the registry which lists differ from what it had. */
  private announceDifferences(before: Lists, after: Lists): void {
    if (JSON.stringify(before.tools) !== JSON.stringify(after.tools)) this.onListChanged?.("tools");
    if (JSON.stringify(before.resources) !== JSON.stringify(after.resources) || JSON.stringify(before.resourceTemplates) !== JSON.stringify(after.resourceTemplates)) {
      this.onListChanged?.("resources");
    }
    if (JSON.stringify(before.prompts) !== JSON.stringify(after.prompts)) this.onListChanged?.("prompts");
  }

  private listChanged(generation: number, kind: ListKind): void {
    const connection = this.connection;
    if (connection === undefined || connection.generation !== generation) return;
    void this.calls.outside(async () => {
      const client = connection.client;
      const options = { timeout: CONTROL_TIMEOUT_MS, cacheMode: "refresh" } as const;
      try {
        if (kind === "tools") {
          const tools = (await client.listTools(undefined, options)).tools as ToolDefinition[];
          if (this.connection !== connection) return;
          this.lists = { ...this.lists, tools };
        } else if (kind === "prompts") {
          const prompts = (await client.listPrompts(undefined, options)).prompts as PromptDefinition[];
          if (this.connection !== connection) return;
          this.lists = { ...this.lists, prompts };
        } else {
          const [resources, templates] = await Promise.all([client.listResources(undefined, options), client.listResourceTemplates(undefined, options)]);
          if (this.connection !== connection) return;
          this.lists = {
            ...this.lists,
            resources: resources.resources as ResourceDefinition[],
            resourceTemplates: templates.resourceTemplates as ResourceTemplateDefinition[],
          };
        }
      } catch (error) {
        this.onLog?.(`upstream ${this.name}: refetching ${kind} after list_changed failed, keeping the last list: ${describe(error)}`);
        return;
      }
      this.onListChanged?.(kind);
    });
  }

  private markDown(why: string): void {
    this.state = "down";
    this.why = why;
  }

  /** The connection of `generation` is gone: down, and reconnect with back-off. */
  private lost(generation: number, why: string): void {
    if (this.connection === undefined || this.connection.generation !== generation || this.closing) return;
    const connection = this.connection;
    this.connection = undefined;
    this.markDown(why);
    this.onLog?.(`upstream ${this.name}: ${why}`);
    void this.calls.outside(() => this.shutdown(connection));
    this.scheduleReconnect();
  }

  private transportError(generation: number, error: Error): void {
    if (this.connection?.generation !== generation || this.closing) return;
    if (error.name === "AbortError") return;
    this.onLog?.(`upstream ${this.name}: ${describe(error)}`);
    if (this.transportErrorSuggestsLoss(error)) this.checkHealth();
  }

  /** Asks the upstream something cheap; no answer means the connection is lost. */
  protected checkHealth(): void {
    const connection = this.connection;
    if (connection === undefined || this.checking) return;
    this.checking = true;
    void this.calls.outside(async () => {
      try {
        // ping is not a 2026-07-28 method: there, listing the tools (one page) proves the upstream answers.
        if (this.negotiated?.era === "modern") await connection.client.listTools(undefined, { timeout: HEALTH_TIMEOUT_MS, cacheMode: "refresh" });
        else await connection.client.ping({ timeout: HEALTH_TIMEOUT_MS });
      } catch (error) {
        // Any JSON-RPC answer, even an error, is an answer.
        if (error instanceof ProtocolError) return;
        this.lost(connection.generation, `no answer to ping: ${describe(error)}`);
      } finally {
        this.checking = false;
      }
    });
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer !== undefined) return;
    const delay = this.backoff.delay();
    this.onLog?.(`upstream ${this.name}: reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.calls.outside(async () => {
        try {
          await this.connect();
          this.onLog?.(`upstream ${this.name}: connected again (${this.status().detail ?? ""})`);
        } catch (error) {
          if (this.closing) return;
          this.markDown(`cannot connect: ${describe(error)}`);
          this.scheduleReconnect();
        }
      });
    }, delay);
  }

  // --- calls ---

  private callFailed(tool: string, call: InflightCall, error: unknown, connection: Connection): CallToolResult {
    if (call.timedOut) {
      return toolError(`FICUS_MCP_CALL_TIMEOUT: upstream ${this.name} did not answer ${tool} within ${this.timeoutMs} ms; the call was cancelled`, "FICUS_MCP_CALL_TIMEOUT");
    }
    if (call.ctx.signal.aborted) return toolError(`the call to ${tool} on upstream ${this.name} was cancelled`);
    // A JSON-RPC error from the upstream is relayed as that error (its code says what went wrong: invalid params, a missing capability).
    if (error instanceof ProtocolError) throw new UpstreamRpcError(error.code, `${this.name}: ${error.message}`, error.data);
    if (error instanceof StreamLostError || connectionDropped(error)) {
      if (error instanceof StreamLostError) this.checkHealthOf(connection);
      return toolError(`upstream ${this.name} closed the connection during the call`, "FICUS_MCP_UPSTREAM");
    }
    this.checkHealthOf(connection);
    return toolError(`upstream ${this.name} failed during ${tool}: ${describe(error)}`, "FICUS_MCP_UPSTREAM");
  }

  private checkHealthOf(connection: Connection): void {
    if (this.connection === connection) this.checkHealth();
  }

  /** A server→client request during a call, relayed to the agent of the call it belongs to. */
  private async relay(method: string, params: JsonObject | undefined): Promise<JsonObject> {
    const owner = this.calls.owner((ctx) => ctx.request !== undefined);
    const request = owner?.ctx.request;
    if (request === undefined) throw new ProtocolError(-32603, "no client to relay to");
    try {
      return await request(method, params);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const data = (error as { data?: unknown }).data;
      throw new ProtocolError(Number.isSafeInteger(code) ? (code as number) : -32603, describe(error), data);
    }
  }

  private async passThrough(
    method: string,
    ctx: CallContext,
    send: (client: Client, options: { signal: AbortSignal; timeout: number }) => Promise<unknown>,
  ): Promise<JsonObject> {
    const connection = this.connection;
    if (connection === undefined || this.state !== "up") {
      throw new FicusError("FICUS_MCP_UPSTREAM", `upstream ${this.name} is down: ${this.why ?? "not connected"}`);
    }
    const call = this.calls.open(ctx);
    try {
      const pending = this.calls.run(call, () => send(connection.client, { signal: ctx.signal, timeout: this.timeoutMs }));
      return (await Promise.race([pending, call.lost])) as JsonObject;
    } catch (error) {
      if (error instanceof ProtocolError) throw new UpstreamRpcError(error.code, error.message, error.data);
      if (!ctx.signal.aborted) this.checkHealthOf(connection);
      const what = error instanceof StreamLostError ? "closed the connection during the request" : describe(error);
      throw new FicusError("FICUS_MCP_UPSTREAM", `upstream ${this.name}: ${method} failed: ${what}`, { cause: error });
    } finally {
      this.calls.close(call);
    }
  }
}

/** The top-level params of a 2026-07-28 retry, sent on as the agent gave them. */
function retryFields(ctx: CallContext): Record<string, unknown> {
  const r = ctx.retry;
  if (r === undefined) return {};
  const out: Record<string, unknown> = {};
  if (r.inputResponses !== undefined) out.inputResponses = r.inputResponses;
  if (r.requestState !== undefined) out.requestState = r.requestState;
  return out;
}

/** A 2026-07-28 agent fulfils input_required itself: the SDK returns it instead of answering it. */
function inputRequiredOption(ctx: CallContext): { allowInputRequired?: true } {
  return ctx.passInputRequired === true ? { allowInputRequired: true } : {};
}

/**
 * Whether a call failed because the connection went away under it: the SDK's stdio/close
 * rejection, or (Streamable HTTP) the request's socket reset before the response head.
 */
function connectionDropped(error: unknown): boolean {
  if (error instanceof SdkError) return error.code === SdkErrorCode.ConnectionClosed;
  const code = (error as { code?: unknown }).code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET";
}
