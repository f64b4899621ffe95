/**
 * One MCP endpoint (a route with an `mcp:` block), serving clients of both
 * protocol eras on one URL and choosing per request:
 *
 * - 2025-era clients (initialize, then Mcp-Session-Id): sessions are sealed
 *   ids (session.ts), so any replica serves them; GET opens the session's
 *   stream of list changes, DELETE ends the session.
 * - 2026-07-28 clients: no handshake and no session; each request carries
 *   its version and capabilities in `_meta`, and the Mcp-Method / Mcp-Name
 *   headers must match the body.
 *
 * The endpoint relays; it implements no tool. A call goes to the source that
 * owns the tool (registry.ts) with a CallContext that carries the client's
 * cancellation, progress and, when the client can take them, requests from
 * the upstream (sampling, elicitation, roots) back to the client. A reply is
 * JSON unless something must reach the client before the result, in which
 * case it becomes an event stream at that moment.
 */
import { FicusError } from "../../core/errors.ts";
import { MemoryBody, readBody } from "../../http1/body.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Exchange, Reply } from "../../pipeline/exchange.ts";
import { getField } from "../../pipeline/fields.ts";
import type { CatalogTool, EndpointView } from "../registry/registry.ts";
import { withFixed } from "../registry/curation.ts";
import { type CallContext, type CallToolResult, isJsonObject, type JsonObject, type ToolDefinition } from "../types.ts";
import {
  classify,
  errorJson,
  HEADER_MISMATCH,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  LEGACY_VERSIONS,
  META_CLIENT_CAPABILITIES,
  META_LOG_LEVEL,
  META_PROTOCOL_VERSION,
  META_SUBSCRIPTION_ID,
  META_SERVER_INFO,
  METHOD_NOT_FOUND,
  MODERN_VERSIONS,
  notificationJson,
  PARSE_ERROR,
  requestJson,
  resultJson,
  RESOURCE_NOT_FOUND,
  RpcError,
  type RpcId,
  type RpcRequest,
  UNSUPPORTED_VERSION,
} from "./jsonrpc.ts";
import { checkOrigin, type OriginPolicy } from "./origin.ts";
import type { SessionSeal, SessionState } from "./session.ts";
import { SseBody } from "./sse.ts";
import { type ResumableStream, StreamStore } from "./resumable.ts";
import type { McpMetrics } from "../metrics.ts";
import { type CallGuard, type GuardedCall, type GuardedItem, guarded } from "../governance/guard.ts";
import { VERSION as ficusVersion } from "../../core/version.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const JSON_FIELDS = ["content-type", "application/json", "cache-control", "no-store"];
const SSE_FIELDS = ["content-type", "text/event-stream", "cache-control", "no-cache, no-transform", "x-accel-buffering", "no"];
const KEEPALIVE_MS = 15_000;
const CLOSE_BRACE = new Uint8Array([0x7d]);

export interface EndpointSettings {
  readonly route: string;
  readonly name: string;
  readonly maxRequestBody: number;
  readonly maxResponseBody: number;
  readonly pageSize: number;
  readonly origin: OriginPolicy;
}

/** Who the call is for, and what their connection can carry. */
interface Caller {
  readonly era: "legacy" | "modern";
  readonly version: string;
  readonly session: SessionState | undefined;
  /** Client capabilities: s = sampling, e = elicitation, r = roots. */
  readonly caps: string;
  readonly acceptsSse: boolean;
  readonly ex: Exchange;
  /** 2026-07-28: the log level the request asked for; without one, no notifications/message is sent. */
  readonly logLevel?: string | undefined;
}

/** An open subscriptions/listen stream. */
interface Listener {
  readonly sse: SseBody;
  readonly sid: RpcId;
  readonly honored: Record<string, unknown>;
  readonly done: () => void;
}

/** The requests of the 2026-07-28 registry; anything else is 404 / -32601. */
const MODERN_METHODS = new Set(["tools/call", "tools/list", "prompts/get", "prompts/list", "resources/list", "resources/templates/list", "resources/read", "completion/complete", "server/discover", "subscriptions/listen"]);
/** Requests relayed to a source: answered on a resumable stream for 2025-11-25 sessions. */
const RESUMABLE_METHODS = new Set(["tools/call", "prompts/get", "resources/read", "completion/complete"]);
/** Results that carry cache hints in 2026-07-28. */
const CACHED_RESULTS = new Set(["tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read", "server/discover"]);

function isModernVersion(v: string): boolean {
  return v >= "2026-07-28";
}

/** The first problem of a 2026-07-28 request envelope, or undefined. */
function envelopeFault(meta: Record<string, unknown>, isRequest: boolean): { key: string; problem: string } | undefined {
  if (typeof meta[META_PROTOCOL_VERSION] !== "string") return { key: META_PROTOCOL_VERSION, problem: "must be a string" };
  if (!isRequest) return undefined;
  const caps = meta[META_CLIENT_CAPABILITIES];
  if (caps === undefined) return { key: META_CLIENT_CAPABILITIES, problem: "is required" };
  if (!isJsonObject(caps)) return { key: META_CLIENT_CAPABILITIES, problem: "must be an object" };
  const info = meta["io.modelcontextprotocol/clientInfo"];
  if (info !== undefined && !(isJsonObject(info) && typeof info.name === "string" && typeof info.version === "string")) return { key: "io.modelcontextprotocol/clientInfo", problem: "must be an object with name and version" };
  const level = meta[META_LOG_LEVEL];
  if (level !== undefined && !["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"].includes(level as string)) return { key: META_LOG_LEVEL, problem: "must be a log level" };
  return undefined;
}

/** A header value as SEP-2243 encodes it: `=?base64?…?=` is decoded (undefined when invalid); anything else is literal. */
function decodeHeaderValue(raw: string): string | undefined {
  if (!(raw.startsWith("=?base64?") && raw.endsWith("?="))) return raw;
  const b64 = raw.slice(9, -2);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  return Buffer.from(b64, "base64").toString("utf8");
}

/**
 * SEP-2243: a tool argument whose schema names an `x-mcp-header` must also travel in the
 * `Mcp-Param-<Name>` header with the same value (so intermediaries can route on it). The
 * problem with the request's headers, or undefined.
 */
function paramHeaderProblem(schema: Record<string, unknown>, args: Record<string, unknown>, fields: readonly string[]): string | undefined {
  const props = schema.properties;
  if (!isJsonObject(props)) return undefined;
  for (const [name, p] of Object.entries(props)) {
    if (!isJsonObject(p) || typeof p["x-mcp-header"] !== "string") continue;
    const value = args[name];
    if (value === undefined || value === null) continue;
    const header = `Mcp-Param-${p["x-mcp-header"]}`;
    const raw = getField(fields, header.toLowerCase())?.trim();
    if (raw === undefined) return `the ${header} header is required: argument ${name} is set`;
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return `the ${header} header's base64 value is invalid`;
    const same = typeof value === "number" ? Number(decoded) === value && decoded.trim() !== "" : typeof value === "boolean" ? decoded === String(value) : decoded === String(value);
    if (!same) return `the ${header} header does not match argument ${name}`;
  }
  return undefined;
}

/** A result as 2026-07-28 wants it: resultType, cache hints where the method has them, the server in _meta; no fields that era deleted. */
function modernResult(method: string, result: Record<string, unknown>, name: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...result };
  if (typeof out.resultType !== "string") out.resultType = "complete";
  if (out.resultType === "complete" && CACHED_RESULTS.has(method)) {
    if (!(Number.isInteger(out.ttlMs) && (out.ttlMs as number) >= 0)) out.ttlMs = 0;
    if (out.cacheScope !== "public" && out.cacheScope !== "private") out.cacheScope = "private";
  }
  if (method === "tools/list" && Array.isArray(out.tools)) out.tools = (out.tools as Record<string, unknown>[]).map((t) => (t.execution === undefined ? t : (({ execution: _e, ...rest }) => rest)(t)));
  const meta = isJsonObject(out._meta) ? out._meta : {};
  out._meta = { ...meta, [META_SERVER_INFO]: meta[META_SERVER_INFO] ?? { name, version: ficusVersion } };
  return out;
}

/** A result for a 2025-era client: without the 2026-07-28 envelope fields an upstream of that era may have set. */
function legacyResult(result: Record<string, unknown>): Record<string, unknown> {
  const meta = result._meta;
  const modernMeta = isJsonObject(meta) && META_SERVER_INFO in meta;
  if (result.resultType === undefined && result.ttlMs === undefined && result.cacheScope === undefined && !modernMeta) return result;
  const { resultType: _r, ttlMs: _t, cacheScope: _c, ...rest } = result;
  if (modernMeta) {
    const { [META_SERVER_INFO]: _s, ...others } = meta as Record<string, unknown>;
    if (Object.keys(others).length > 0) rest._meta = others;
    else delete rest._meta;
  }
  return rest;
}

/** A result already serialized (a cached list): sent as it is, its bytes shared by every answer. */
class Serialized {
  readonly bytes: Uint8Array;
  constructor(json: string) {
    this.bytes = ENCODER.encode(json);
  }
}

/** Requests sent to clients (sampling, elicitation, roots) waiting for the client's answer, across this process. */
const pendingClientRequests = new Map<string, { resolve: (v: JsonObject) => void; reject: (e: Error) => void; session: string }>();
let clientRequestSeq = 0;
/** Calls in flight by session and request id, for notifications/cancelled. */
const inflight = new Map<string, AbortController>();

/** A reply that is JSON unless an event must go out before the result; then an event stream from that moment. */
class Responder {
  readonly reply: Promise<Reply>;
  private resolve!: (r: Reply) => void;
  private sse: SseBody | undefined;
  private settled = false;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  onGone: (() => void) | undefined;

  constructor(
    private readonly acceptsSse: boolean,
    private readonly extra: readonly string[],
    /** A resumable stream (2025-11-25 sessions): the answer is its event stream from the start, and outlives the connection. */
    readonly stream?: ResumableStream,
  ) {
    this.reply = new Promise((r) => (this.resolve = r));
    if (stream !== undefined) {
      const sse = new SseBody();
      stream.open(sse);
      this.settled = true;
      this.resolve({ status: 200, fields: [...SSE_FIELDS, ...this.extra], body: sse });
    }
  }

  /** Sends an event before the result; false when the connection cannot carry one (a JSON-only client). */
  event(json: string): boolean {
    if (this.stream !== undefined) {
      this.stream.message(json);
      return true;
    }
    if (this.settled && this.sse === undefined) return false;
    if (this.sse === undefined) {
      if (!this.acceptsSse) return false;
      const sse = new SseBody();
      sse.onCancel = () => {
        if (this.keepalive) clearInterval(this.keepalive);
        this.onGone?.();
      };
      this.sse = sse;
      this.settled = true;
      this.keepalive = setInterval(() => sse.comment("keep-alive"), KEEPALIVE_MS);
      this.resolve({ status: 200, fields: [...SSE_FIELDS, ...this.extra], body: sse });
    }
    return this.sse.message(json);
  }

  /** The result of a cached answer: its bytes between this request's envelope, without copying them. */
  finishSerialized(id: RpcId, result: Serialized): void {
    if (this.stream !== undefined || this.sse !== undefined || this.settled) return this.finish(resultJson(id, DECODER.decode(result.bytes)));
    this.settled = true;
    const head = ENCODER.encode(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`);
    this.resolve({ status: 200, fields: [...JSON_FIELDS, ...this.extra], body: new MemoryBody([head, result.bytes, CLOSE_BRACE]) });
  }

  finish(json: string, status = 200): void {
    if (this.stream !== undefined) {
      this.stream.message(json);
      this.stream.end();
      return;
    }
    if (this.sse !== undefined) {
      if (this.keepalive) clearInterval(this.keepalive);
      this.sse.message(json);
      this.sse.end();
      return;
    }
    if (this.settled) return;
    this.settled = true;
    this.resolve({ status, fields: [...JSON_FIELDS, ...this.extra], body: ENCODER.encode(json) });
  }
}

function httpReply(status: number, json: string | undefined, extra: readonly string[] = []): Reply {
  return json === undefined ? { status, fields: [...extra], body: undefined } : { status, fields: [...JSON_FIELDS, ...extra], body: ENCODER.encode(json) };
}


/** Media types of an Accept field (lowercased, parameters dropped). */
function accepts(accept: string | undefined, type: string): boolean {
  if (accept === undefined) return false;
  for (const part of accept.split(",")) {
    const t = part.split(";")[0]!.trim().toLowerCase();
    if (t === type || t === "*/*" || (t.endsWith("/*") && type.startsWith(t.slice(0, -1)))) return true;
  }
  return false;
}

/** Opaque list cursors: the offset and the catalog version they were made for. */
function cursorFor(offset: number, version: number): string {
  return Buffer.from(`${version}:${offset}`).toString("base64url");
}

function offsetOf(cursor: unknown, version: number): number {
  if (cursor === undefined) return 0;
  if (typeof cursor !== "string") throw new RpcError(INVALID_PARAMS, "cursor must be a string");
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (m === null) throw new RpcError(INVALID_PARAMS, "invalid cursor");
  // A list that changed since the cursor was made restarts from the top (the client also hears list_changed).
  return Number(m[1]) === version ? Number(m[2]) : 0;
}

export class McpEndpoint {
  /** GET streams of 2025-era sessions open on this endpoint in this process: list changes are sent on them. */
  private readonly streams = new Set<SseBody>();
  /** Whether a guard filters lists per caller (then lists are not cached across callers). */
  private readonly listFilters: boolean;
  /** Whether a guard decides on prompts and resources. */
  private readonly itemFilters: boolean;
  /** Resumable streams of calls from 2025-11-25 sessions (resumable.ts). */
  private readonly resumables = new StreamStore();
  /** tools/list answers already serialized, per era, for the catalog version they were made from. */
  private readonly listCache: Partial<Record<"legacy" | "modern", { version: number; result: Serialized }>> = {};
  /** subscriptions/listen streams of 2026-07-28 clients open on this endpoint in this process. */
  private readonly listeners = new Set<Listener>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly view: EndpointView,
    private readonly settings: EndpointSettings,
    private readonly seal: SessionSeal,
    registry: { subscribe(fn: (kind: "tools" | "resources" | "prompts") => void): () => void },
    private readonly logger: Logger,
    private readonly metrics: McpMetrics,
    private readonly callTimeout: number,
    /** Governance of tool calls (src/mcp/governance/): policy, quotas, cache, guardrails, snapshots, audit. */
    private readonly guards: readonly CallGuard[] = [],
  ) {
    this.listFilters = guards.some((g) => g.listTools !== undefined);
    this.itemFilters = guards.some((g) => g.allowsItem !== undefined);
    this.unsubscribe = registry.subscribe((kind) => {
      const json = notificationJson(`notifications/${kind}/list_changed`, {});
      for (const s of this.streams) s.message(json);
      const flag = `${kind}ListChanged`;
      for (const l of this.listeners) if (l.honored[flag] === true) l.sse.message(notificationJson(`notifications/${kind}/list_changed`, { _meta: { [META_SUBSCRIPTION_ID]: l.sid } }));
    });
  }

  toolCount(): number {
    return this.view.toolDefinitions().length;
  }

  close(): void {
    for (const g of this.guards) void g.close?.();
    this.unsubscribe();
    for (const s of this.streams) s.end();
    this.streams.clear();
    for (const l of this.listeners) {
      l.done();
      l.sse.end();
    }
    this.listeners.clear();
  }

  /** Serves one HTTP request to the endpoint. Never throws: every failure is a JSON-RPC error or an HTTP status. */
  async handle(ex: Exchange): Promise<Reply> {
    const origin = checkOrigin(ex, this.settings.origin);
    if (origin !== undefined) return httpReply(403, errorJson(null, INVALID_REQUEST, origin));
    switch (ex.method) {
      case "POST":
        return this.post(ex);
      case "GET":
        return this.get(ex);
      case "DELETE":
        return this.delete(ex);
      default:
        return httpReply(405, errorJson(null, INVALID_REQUEST, `method ${ex.method} is not allowed: MCP uses POST (and GET, DELETE for sessions)`), ["allow", "GET, POST, DELETE"]);
    }
  }

  private sessionOf(ex: Exchange): { state?: SessionState; reply?: Reply } {
    const id = getField(ex.fields, "mcp-session-id");
    if (id === undefined) return {};
    const state = this.seal.open(id);
    if (state === undefined || state.endpoint !== this.settings.route) return { reply: httpReply(404, errorJson(null, -32001, "session not found: it ended or expired; start a new one with initialize")) };
    if (state.subject !== (ex.identity?.subject ?? "")) return { reply: httpReply(404, errorJson(null, -32001, "session not found for this caller")) };
    return { state };
  }

  private get(ex: Exchange): Reply {
    if (!accepts(getField(ex.fields, "accept"), "text/event-stream")) return httpReply(406, errorJson(null, INVALID_REQUEST, "a GET stream needs Accept: text/event-stream"));
    const { state, reply } = this.sessionOf(ex);
    if (reply !== undefined) return reply;
    if (state === undefined) return httpReply(405, errorJson(null, INVALID_REQUEST, "GET opens the stream of a 2025-era session: send Mcp-Session-Id (stateless clients use subscriptions/listen)"), ["allow", "POST, DELETE"]);
    const last = getField(ex.fields, "last-event-id")?.trim();
    if (last !== undefined && last !== "") {
      // A reconnection to the stream of a call: the events missed, then the rest (resumable.ts).
      const found = this.resumables.find(last, state.nonce);
      const resumed = new SseBody();
      if (found === undefined || !found.stream.attach(resumed, found.after)) {
        return httpReply(400, errorJson(null, -32000, "Bad Request: Last-Event-ID names no stream this gateway process keeps (it ended a while ago, or it is on another replica): send the request again"));
      }
      ex.onAbort(() => resumed.cancel());
      return { status: 200, fields: [...SSE_FIELDS], body: resumed };
    }
    const sse = new SseBody(`${state.nonce}-g-`);
    const keepalive = setInterval(() => sse.comment("keep-alive"), KEEPALIVE_MS);
    sse.onCancel = () => {
      clearInterval(keepalive);
      this.streams.delete(sse);
    };
    ex.onAbort(() => sse.cancel());
    this.streams.add(sse);
    // A comment first, so the client sees the stream open at once.
    sse.comment("stream open");
    return { status: 200, fields: [...SSE_FIELDS], body: sse, onSent: () => sse.onCancel?.() };
  }

  private async delete(ex: Exchange): Promise<Reply> {
    const { state, reply } = this.sessionOf(ex);
    if (reply !== undefined) return reply;
    if (state === undefined) return httpReply(400, errorJson(null, INVALID_REQUEST, "DELETE ends a session: send Mcp-Session-Id"));
    await this.seal.revoke(state);
    this.metrics.sessions.inc({ event: "ended" });
    return httpReply(200, undefined);
  }

  private async post(ex: Exchange): Promise<Reply> {
    const ctype = getField(ex.fields, "content-type");
    if (ctype === undefined || !/^application\/json\s*(;|$)/i.test(ctype)) return httpReply(415, errorJson(null, -32000, "Unsupported Media Type: Content-Type must be application/json"));
    const accept = getField(ex.fields, "accept");
    let raw: Uint8Array;
    try {
      if (ex.body === undefined) raw = new Uint8Array(0);
      else if (ex.body.length > this.settings.maxRequestBody) return httpReply(413, errorJson(null, -32000, `Payload Too Large: the message is larger than mcp.max_request_body (${this.settings.maxRequestBody} bytes)`));
      else raw = await readBody(ex.body, this.settings.maxRequestBody);
    } catch {
      return httpReply(413, errorJson(null, -32000, `Payload Too Large: the message is larger than mcp.max_request_body (${this.settings.maxRequestBody} bytes), or it was cut`));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(DECODER.decode(raw));
    } catch {
      return httpReply(400, errorJson(null, PARSE_ERROR, "Parse error: the body is not valid JSON"));
    }
    const msg = classify(parsed);
    if (msg.kind === "invalid") return httpReply(400, errorJson(msg.id, INVALID_REQUEST, `Invalid Request: ${msg.reason}`));
    ex.mcp = { method: msg.kind === "request" ? msg.message.method : msg.kind === "notification" ? msg.method : "response", tool: undefined };

    // The body decides the era: a protocol version in _meta claims 2026-07-28; the header only cross-checks it.
    const params = msg.kind === "request" ? msg.message.params : msg.kind === "notification" ? msg.params : undefined;
    const meta = isJsonObject(params?._meta) ? (params._meta as Record<string, unknown>) : undefined;
    const claim = meta !== undefined && META_PROTOCOL_VERSION in meta;
    const headerVersion = getField(ex.fields, "mcp-protocol-version")?.trim();
    const headerModern = headerVersion !== undefined && isModernVersion(headerVersion);
    const id = msg.kind === "request" ? msg.message.id : null;
    if (msg.kind === "request" && msg.message.method === "initialize" && !(claim && typeof meta[META_PROTOCOL_VERSION] === "string" && isModernVersion(meta[META_PROTOCOL_VERSION] as string))) {
      if (headerModern) return httpReply(400, errorJson(id, HEADER_MISMATCH, `Bad Request: initialize is a 2025-era request, but MCP-Protocol-Version names ${headerVersion}`));
      return this.legacy(ex, msg, accept);
    }
    if (claim) return this.modern(ex, msg, meta, headerVersion);
    if (headerModern && msg.kind === "request") {
      const missing = meta === undefined ? ["_meta"] : [META_PROTOCOL_VERSION, ...(isJsonObject(meta[META_CLIENT_CAPABILITIES]) ? [] : [META_CLIENT_CAPABILITIES])];
      return httpReply(400, errorJson(id, INVALID_PARAMS, `Invalid params: the MCP-Protocol-Version header names protocol revision ${headerVersion}, but the request is missing the required per-request envelope key(s): ${missing.join(", ")}`, { envelope: { missing } }));
    }
    if (headerModern && msg.kind === "notification") return httpReply(202, undefined);
    return this.legacy(ex, msg, accept);
  }

  // ----- 2025 era -----

  private async legacy(ex: Exchange, msg: Exclude<ReturnType<typeof classify>, { kind: "invalid" }>, accept: string | undefined): Promise<Reply> {
    const acceptsSse = accepts(accept, "text/event-stream");
    if (!accepts(accept, "application/json") || !acceptsSse) {
      return httpReply(406, errorJson(null, -32000, "Not Acceptable: the client must accept both application/json and text/event-stream"));
    }
    if (msg.kind === "request" && msg.message.method === "initialize") {
      if (getField(ex.fields, "mcp-session-id") !== undefined) return httpReply(400, errorJson(msg.message.id, INVALID_REQUEST, "initialize opens a new session: send it without Mcp-Session-Id"));
      return this.initialize(ex, msg.message);
    }
    const { state, reply } = this.sessionOf(ex);
    if (reply !== undefined) return reply;
    if (state === undefined) {
      const id = msg.kind === "request" ? msg.message.id : null;
      return httpReply(400, errorJson(id, -32000, "Bad Request: Mcp-Session-Id header is required (send initialize first, or, for a stateless client, the protocol version in _meta)"));
    }
    const hv = getField(ex.fields, "mcp-protocol-version")?.trim();
    if (hv !== undefined && !(LEGACY_VERSIONS as readonly string[]).includes(hv)) {
      return httpReply(400, errorJson(null, -32000, `Bad Request: Unsupported protocol version: ${hv} (supported versions: ${LEGACY_VERSIONS.join(", ")})`));
    }
    const caller: Caller = { era: "legacy", version: state.version, session: state, caps: state.caps, acceptsSse, ex };
    if (msg.kind === "notification") {
      this.notification(caller, msg.method, msg.params);
      return httpReply(202, undefined);
    }
    if (msg.kind === "response") {
      this.clientAnswered(state.nonce, msg.id, msg.result, msg.error);
      return httpReply(202, undefined);
    }
    return this.request(caller, msg.message, []);
  }

  private initialize(ex: Exchange, req: RpcRequest): Reply {
    const p = req.params ?? {};
    const asked = typeof p.protocolVersion === "string" ? p.protocolVersion : "";
    const version = (LEGACY_VERSIONS as readonly string[]).includes(asked) ? asked : LEGACY_VERSIONS[0];
    const caps = isJsonObject(p.capabilities) ? capsOf(p.capabilities) : "";
    const { id } = this.seal.seal({ version, endpoint: this.settings.route, subject: ex.identity?.subject ?? "", caps });
    this.metrics.sessions.inc({ event: "opened" });
    const result = { protocolVersion: version, capabilities: this.capabilities(), serverInfo: { name: this.settings.name, version: ficusVersion } };
    return httpReply(200, resultJson(req.id, JSON.stringify(result)), ["mcp-session-id", id]);
  }

  private capabilities(era: "legacy" | "modern" = "legacy"): Record<string, unknown> {
    const c: Record<string, unknown> = { tools: { listChanged: true } };
    if (era === "legacy") c.logging = {};
    // Per-URI updates are not relayed: 2026-07-28 clients are not offered resource subscriptions.
    if (this.view.has("resources")) c.resources = era === "legacy" ? { listChanged: true, subscribe: true } : { listChanged: true };
    if (this.view.has("prompts")) c.prompts = { listChanged: true };
    if (this.view.completers().length > 0) c.completions = {};
    return c;
  }

  private notification(caller: Caller, method: string, params: Record<string, unknown> | undefined): void {
    if (method === "notifications/cancelled") {
      const rid = params?.requestId;
      if (typeof rid === "string" || typeof rid === "number") inflight.get(`${caller.session?.nonce ?? ""}:${String(rid)}`)?.abort(new FicusError("FICUS_MCP_CALL_TIMEOUT", typeof params?.reason === "string" ? params.reason : "cancelled by the client"));
    }
    // notifications/initialized, roots/list_changed and others need no answer from a relay.
  }

  private clientAnswered(session: string, id: RpcId, result: unknown, error: unknown): void {
    const key = String(id);
    const p = pendingClientRequests.get(key);
    if (p === undefined || p.session !== session) return;
    pendingClientRequests.delete(key);
    if (error !== undefined) {
      const e = isJsonObject(error) ? error : {};
      p.reject(Object.assign(new Error(typeof e.message === "string" ? e.message : "the client refused the request"), { code: typeof e.code === "number" ? e.code : INTERNAL_ERROR, data: e.data }));
    } else p.resolve(isJsonObject(result) ? (result as JsonObject) : {});
  }

  // ----- 2026-07-28 -----

  private async modern(ex: Exchange, msg: Exclude<ReturnType<typeof classify>, { kind: "invalid" }>, meta: Record<string, unknown>, headerVersion: string | undefined): Promise<Reply> {
    const id = msg.kind === "request" ? msg.message.id : null;
    const method = msg.kind === "request" ? msg.message.method : msg.kind === "notification" ? msg.method : "";
    if (msg.kind === "response") return httpReply(400, errorJson(null, INVALID_REQUEST, "Invalid Request: a 2026-07-28 server sends no requests, so there is nothing to answer"));
    const version = meta[META_PROTOCOL_VERSION];
    const fault = envelopeFault(meta, msg.kind === "request");
    if (fault !== undefined) return httpReply(400, errorJson(id, INVALID_PARAMS, `Invalid _meta envelope for protocol revision 2026-07-28: ${fault.key}: ${fault.problem}`, { envelope: fault }));
    const v = version as string;
    if (headerVersion !== undefined && headerVersion !== v) return httpReply(400, errorJson(id, HEADER_MISMATCH, `Bad Request: the request headers and body disagree: the body envelope names protocol version ${v} but the MCP-Protocol-Version header names ${headerVersion}`, { mismatch: { header: headerVersion, body: v } }));
    const hm = getField(ex.fields, "mcp-method")?.trim();
    if (hm !== undefined && hm !== method) return httpReply(400, errorJson(id, HEADER_MISMATCH, `Bad Request: the request headers and body disagree: Mcp-Method names ${hm} but the body's method is ${method}`, { mismatch: { header: hm, body: method } }));
    if (!(MODERN_VERSIONS as readonly string[]).includes(v)) return httpReply(400, errorJson(id, UNSUPPORTED_VERSION, `Unsupported protocol version: ${v}`, { supported: [...MODERN_VERSIONS], requested: v }));
    if (msg.kind === "notification") {
      const caller: Caller = { era: "modern", version: v, session: undefined, caps: "", acceptsSse: false, ex };
      this.notification(caller, msg.method, msg.params);
      return httpReply(202, undefined);
    }
    if (headerVersion === undefined) return httpReply(400, errorJson(id, HEADER_MISMATCH, "Bad Request: the MCP-Protocol-Version header is required", { mismatch: { header: "(missing)", body: v } }));
    if (hm === undefined) return httpReply(400, errorJson(id, HEADER_MISMATCH, "Bad Request: the Mcp-Method header is required", { mismatch: { header: "(missing)", body: method } }));
    const params = msg.message.params;
    const named = method === "tools/call" || method === "prompts/get" ? params?.name : method === "resources/read" ? params?.uri : undefined;
    if (named !== undefined) {
      const raw = getField(ex.fields, "mcp-name")?.trim();
      const hn = raw === undefined ? undefined : decodeHeaderValue(raw);
      if (hn === undefined || hn !== named) {
        const why = raw === undefined ? "the Mcp-Name header is required for this method" : hn === undefined ? "the Mcp-Name header's base64 value is invalid" : `Mcp-Name names ${hn} but the body names ${String(named)}`;
        return httpReply(400, errorJson(id, HEADER_MISMATCH, `Bad Request: ${why}`, { mismatch: { header: raw ?? "(missing)", body: named } }));
      }
    }
    if (!MODERN_METHODS.has(method)) return httpReply(404, errorJson(id, METHOD_NOT_FOUND, "Method not found"));
    if (method === "tools/call" && typeof named === "string") {
      const tool = this.view.tool(named);
      const problem = tool === undefined ? undefined : paramHeaderProblem(tool.definition.inputSchema, isJsonObject(params?.arguments) ? params.arguments : {}, ex.fields);
      if (problem !== undefined) return httpReply(400, errorJson(id, HEADER_MISMATCH, `Bad Request: ${problem}`));
    }
    const caps = capsOf(meta[META_CLIENT_CAPABILITIES] as Record<string, unknown>);
    const caller: Caller = { era: "modern", version: v, session: undefined, caps, acceptsSse: accepts(getField(ex.fields, "accept"), "text/event-stream"), ex, logLevel: typeof meta[META_LOG_LEVEL] === "string" ? (meta[META_LOG_LEVEL] as string) : undefined };
    if (method === "subscriptions/listen") return this.listen(caller, msg.message);
    return this.request(caller, msg.message, []);
  }

  /** subscriptions/listen: an event stream of list changes, acknowledged first, each notification stamped with the subscription id. */
  private listen(caller: Caller, req: RpcRequest): Reply | Promise<Reply> {
    const filter = req.params?.notifications;
    if (!isJsonObject(filter)) return httpReply(200, errorJson(req.id, INVALID_PARAMS, "Invalid params: 'notifications' is required and must be a valid SubscriptionFilter"));
    const caps = this.capabilities("modern");
    const honored: Record<string, unknown> = {};
    if (filter.toolsListChanged === true) honored.toolsListChanged = true;
    if (filter.promptsListChanged === true && caps.prompts !== undefined) honored.promptsListChanged = true;
    if (filter.resourcesListChanged === true && caps.resources !== undefined) honored.resourcesListChanged = true;
    const sid = req.id;
    const sse = new SseBody();
    sse.message(notificationJson("notifications/subscriptions/acknowledged", { notifications: honored, _meta: { [META_SUBSCRIPTION_ID]: sid } }));
    const done = () => sse.message(resultJson(sid, JSON.stringify({ resultType: "complete", _meta: { [META_SUBSCRIPTION_ID]: sid, [META_SERVER_INFO]: { name: this.settings.name, version: ficusVersion } } })));
    if (Object.keys(honored).length === 0) {
      done();
      sse.end();
      return { status: 200, fields: [...SSE_FIELDS], body: sse };
    }
    const listener: Listener = { sse, sid, honored, done };
    const keepalive = setInterval(() => sse.comment("keepalive"), KEEPALIVE_MS);
    sse.onCancel = () => {
      clearInterval(keepalive);
      this.listeners.delete(listener);
    };
    caller.ex.onAbort(() => sse.cancel());
    this.listeners.add(listener);
    return { status: 200, fields: [...SSE_FIELDS], body: sse, onSent: () => sse.onCancel?.() };
  }

  private discover(): Record<string, unknown> {
    return { supportedVersions: [...MODERN_VERSIONS], capabilities: this.capabilities("modern") };
  }

  // ----- requests (both eras) -----

  private request(caller: Caller, req: RpcRequest, extra: readonly string[]): Promise<Reply> {
    // A call relayed to a source, from a 2025-11-25 session: a resumable event stream (SEP-1699).
    const resumable = caller.era === "legacy" && caller.session !== undefined && caller.acceptsSse && caller.version >= "2025-11-25" && RESUMABLE_METHODS.has(req.method);
    const responder = new Responder(caller.acceptsSse, extra, resumable ? this.resumables.create((caller.session as SessionState).nonce) : undefined);
    void this.dispatch(caller, req, responder).then(
      (result) => {
        if (result instanceof Serialized) return responder.finishSerialized(req.id, result);
        const r = caller.era === "modern" ? modernResult(req.method, result, this.settings.name) : legacyResult(result);
        responder.finish(resultJson(req.id, JSON.stringify(r)));
      },
      (err: unknown) => {
        if (err instanceof RpcError) responder.finish(errorJson(req.id, err.code, err.message, err.data), err.httpStatus);
        else {
          this.logger.error("an MCP request failed inside the gateway", { code: "FICUS_INTERNAL", request_id: caller.ex.id, method: req.method, error: err instanceof Error ? err.message : String(err) });
          responder.finish(errorJson(req.id, INTERNAL_ERROR, "the gateway failed to handle the request; the log line with this request id has the detail", { request_id: caller.ex.id }));
        }
      },
    );
    return responder.reply;
  }

  private async dispatch(caller: Caller, req: RpcRequest, responder: Responder): Promise<Record<string, unknown> | Serialized> {
    const p = req.params ?? {};
    const view = this.view;
    switch (req.method) {
      case "ping":
        return {};
      case "server/discover":
        return this.discover();
      case "tools/list": {
        const all = this.listFilters ? await this.visibleTools(caller) : view.toolDefinitions();
        const from = offsetOf(p.cursor, view.version);
        // The whole list in one page: serialized once per catalog version and era, then reused.
        if (from === 0 && all.length <= this.settings.pageSize && !this.listFilters) {
          const cached = this.listCache[caller.era];
          if (cached !== undefined && cached.version === view.version) return cached.result;
          const result = new Serialized(JSON.stringify(caller.era === "modern" ? modernResult("tools/list", { tools: all }, this.settings.name) : { tools: all }));
          this.listCache[caller.era] = { version: view.version, result };
          return result;
        }
        const page = from === 0 && all.length <= this.settings.pageSize ? all : all.slice(from, from + this.settings.pageSize);
        const out: Record<string, unknown> = { tools: page };
        if (from + this.settings.pageSize < all.length) out.nextCursor = cursorFor(from + this.settings.pageSize, view.version);
        return out;
      }
      case "tools/call":
        return this.callTool(caller, req, responder);
      case "prompts/list": {
        const all = view
          .prompts()
          .filter((x) => this.itemAllowed(caller, "list", { kind: "prompt", name: x.name, source: x.entry.source.name, upstreamName: x.upstreamName }) === undefined)
          .map((x) => x.definition);
        const from = offsetOf(p.cursor, view.version);
        const out: Record<string, unknown> = { prompts: all.slice(from, from + this.settings.pageSize) };
        if (from + this.settings.pageSize < all.length) out.nextCursor = cursorFor(from + this.settings.pageSize, view.version);
        return out;
      }
      case "prompts/get": {
        const name = p.name;
        if (typeof name !== "string") throw new RpcError(INVALID_PARAMS, "params.name must be a string");
        const prompt = view.prompt(name);
        if (prompt === undefined || prompt.entry.source.getPrompt === undefined) throw new RpcError(INVALID_PARAMS, `unknown prompt ${JSON.stringify(name)}`);
        const refused = this.itemAllowed(caller, "get", { kind: "prompt", name: prompt.name, source: prompt.entry.source.name, upstreamName: prompt.upstreamName });
        if (refused !== undefined) throw new RpcError(INVALID_PARAMS, refused);
        const args = isJsonObject(p.arguments) ? (p.arguments as Record<string, string>) : {};
        return this.relay(caller, req, responder, prompt.entry.timeout, (ctx) => (prompt.entry.source.getPrompt as NonNullable<typeof prompt.entry.source.getPrompt>)(prompt.upstreamName, args, ctx));
      }
      case "resources/list": {
        const all = view
          .resources()
          .filter((x) => this.itemAllowed(caller, "list", { kind: "resource", uri: x.definition.uri, name: x.definition.name, source: x.entry.source.name }) === undefined)
          .map((x) => x.definition);
        const from = offsetOf(p.cursor, view.version);
        const out: Record<string, unknown> = { resources: all.slice(from, from + this.settings.pageSize) };
        if (from + this.settings.pageSize < all.length) out.nextCursor = cursorFor(from + this.settings.pageSize, view.version);
        return out;
      }
      case "resources/templates/list":
        return {
          resourceTemplates: view
            .resourceTemplates()
            .filter((x) => this.itemAllowed(caller, "list", { kind: "resource", uri: x.definition.uriTemplate, name: x.definition.name, source: x.entry.source.name }) === undefined)
            .map((x) => x.definition),
        };
      case "resources/read": {
        const uri = p.uri;
        if (typeof uri !== "string") throw new RpcError(INVALID_PARAMS, "params.uri must be a string");
        const sources = view.resourceSources(uri);
        if (sources.length === 0) throw new RpcError(caller.era === "modern" ? INVALID_PARAMS : RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
        const listed = view.resources().find((r) => r.definition.uri === uri);
        const refused = this.itemAllowed(caller, "read", { kind: "resource", uri, name: listed?.definition.name ?? uri, source: (sources[0] as { source: { name: string } }).source.name });
        if (refused !== undefined) throw new RpcError(INVALID_PARAMS, refused, { uri });
        let last: unknown;
        for (const entry of sources) {
          try {
            return await this.relay(caller, req, responder, entry.timeout, (ctx) => (entry.source.readResource as NonNullable<typeof entry.source.readResource>)(uri, ctx));
          } catch (err) {
            last = err;
          }
        }
        throw last;
      }
      case "resources/subscribe":
      case "resources/unsubscribe":
        // Updates reach 2025-era sessions on their GET stream; the relay acknowledges the subscription.
        if (typeof p.uri !== "string") throw new RpcError(INVALID_PARAMS, "params.uri must be a string");
        return {};
      case "logging/setLevel":
        if (typeof p.level !== "string") throw new RpcError(INVALID_PARAMS, "params.level must be a string");
        return {};
      case "completion/complete": {
        const completers = view.completers();
        const ref = isJsonObject(p.ref) ? p.ref : {};
        // A prompt's completion goes to the source that owns the prompt (under its own name).
        if (ref.type === "ref/prompt" && typeof ref.name === "string") {
          const prompt = view.prompt(ref.name);
          const src = prompt?.entry;
          if (src?.source.complete === undefined || prompt === undefined) return { completion: { values: [], hasMore: false } };
          return this.relay(caller, req, responder, src.timeout, (ctx) => (src.source.complete as NonNullable<typeof src.source.complete>)({ ...p, ref: { ...ref, name: prompt.upstreamName } }, ctx));
        }
        const first = completers[0];
        if (first === undefined) return { completion: { values: [], hasMore: false } };
        return this.relay(caller, req, responder, first.timeout, (ctx) => (first.source.complete as NonNullable<typeof first.source.complete>)(p as JsonObject, ctx));
      }
      default:
        throw new RpcError(METHOD_NOT_FOUND, `method not found: ${req.method}`);
    }
  }

  private async callTool(caller: Caller, req: RpcRequest, responder: Responder): Promise<Record<string, unknown>> {
    const p = req.params ?? {};
    const name = p.name;
    if (typeof name !== "string") throw new RpcError(INVALID_PARAMS, "params.name must be a string");
    const tool = this.view.tool(name);
    if (tool === undefined) throw new RpcError(INVALID_PARAMS, `unknown tool: ${name}`);
    if (p.arguments !== undefined && !isJsonObject(p.arguments)) throw new RpcError(INVALID_PARAMS, "params.arguments must be an object");
    const args = withFixed((p.arguments ?? {}) as JsonObject, tool.fixed);
    const start = performance.now();
    let outcome = "ok";
    if (caller.ex.mcp !== undefined) caller.ex.mcp.tool = tool.name;
    try {
      if (this.guards.length === 0) {
        const result = await this.relay(caller, req, responder, tool.entry.timeout, (ctx) => tool.entry.source.call(tool.upstreamName, args, ctx), tool);
        if ((result as CallToolResult).isError === true) outcome = "tool_error";
        return result;
      }
      const call = this.guardedCall(caller, tool, args, start, p.inputResponses !== undefined || p.requestState !== undefined);
      const send = (a: JsonObject) => this.relay(caller, req, responder, tool.entry.timeout, (ctx) => tool.entry.source.call(tool.upstreamName, a, ctx), tool, call.notes) as Promise<CallToolResult>;
      const result = await guarded(this.guards, call, send);
      if ((result as CallToolResult).isError === true) outcome = "tool_error";
      return result;
    } catch (err) {
      outcome = "error";
      throw err;
    } finally {
      this.metrics.observeCall(tool, outcome, (performance.now() - start) / 1000);
    }
  }

  private guardedCall(caller: Caller, tool: CatalogTool, args: JsonObject, started: number, retry: boolean): GuardedCall {
    const ex = caller.ex;
    const subject = ex.identity?.subject ?? "";
    const tp = getField(ex.fields, "traceparent");
    return {
      caller: { identity: ex.identity, subject, address: ex.peer.address, endpoint: this.settings.route, era: caller.era },
      tool,
      args,
      requestId: ex.id,
      traceId: tp !== undefined && tp.length >= 35 ? tp.slice(3, 35) : undefined,
      started,
      retry,
      notes: {},
    };
  }

  /** Why a caller may not see or use a prompt or a resource (the first guard that says so), or undefined. */
  private itemAllowed(caller: Caller, action: "list" | "get" | "read", item: GuardedItem): string | undefined {
    if (!this.itemFilters) return undefined;
    const who = { identity: caller.ex.identity, subject: caller.ex.identity?.subject ?? "", address: caller.ex.peer.address, endpoint: this.settings.route, era: caller.era };
    for (const g of this.guards) {
      const why = g.allowsItem?.(who, action, item);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  /** The tools a caller may see: the view's, through the guards that filter lists. */
  private async visibleTools(caller: Caller): Promise<readonly ToolDefinition[]> {
    let tools: readonly CatalogTool[] = this.view.tools();
    const who = { identity: caller.ex.identity, subject: caller.ex.identity?.subject ?? "", address: caller.ex.peer.address, endpoint: this.settings.route, era: caller.era };
    for (const g of this.guards) if (g.listTools !== undefined) tools = await g.listTools(who, tools);
    return tools.map((t) => t.definition);
  }

  /**
   * Runs one call at a source with the client's cancellation, the timeout,
   * progress and (when the client can take them) requests back to the client.
   * Source failures become JSON-RPC errors, or tool errors for tools/call.
   */
  private async relay<T>(caller: Caller, req: RpcRequest, responder: Responder, timeout: number, run: (ctx: CallContext) => Promise<T>, tool?: CatalogTool, notes?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ac = new AbortController();
    const key = `${caller.session?.nonce ?? ""}:${String(req.id)}`;
    inflight.set(key, ac);
    const limit = timeout > 0 ? timeout : this.callTimeout;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new FicusError("FICUS_MCP_CALL_TIMEOUT", `the call took longer than ${limit} ms (FICUS_MCP_CALL_TIMEOUT)`));
    }, limit);
    // A client that goes away cancels its call, unless the call's stream is resumable: it may come back for the result.
    const stopAbort = responder.stream !== undefined ? () => {} : caller.ex.onAbort(() => ac.abort(new FicusError("FICUS_MCP_CALL_TIMEOUT", "the client went away")));
    if (responder.stream === undefined) responder.onGone = () => ac.abort(new FicusError("FICUS_MCP_CALL_TIMEOUT", "the client went away"));
    const meta = isJsonObject(req.params?._meta) ? (req.params._meta as Record<string, unknown>) : undefined;
    const token = meta?.progressToken;
    const upstreamMeta: JsonObject = {};
    for (const k of ["traceparent", "tracestate", "baggage"]) if (typeof meta?.[k] === "string") upstreamMeta[k] = meta[k];
    // A 2026-07-28 upstream judges what it may ask by the agent's capabilities, not the gateway's.
    if (caller.era === "modern" && isJsonObject(meta?.[META_CLIENT_CAPABILITIES])) upstreamMeta[META_CLIENT_CAPABILITIES] = meta[META_CLIENT_CAPABILITIES];
    // Log messages: a 2026-07-28 client asks per request; a 2025-era session gets what the upstream sends at debug and above.
    upstreamMeta[META_LOG_LEVEL] = caller.era === "modern" ? caller.logLevel : "debug";
    if (upstreamMeta[META_LOG_LEVEL] === undefined) delete upstreamMeta[META_LOG_LEVEL];
    // With tracing on, the source's call is a child span, and its context travels to the upstream in _meta.
    const span = caller.ex.span?.startUpstream(tool?.entry.source.name ?? req.method, 1);
    if (span !== undefined) upstreamMeta.traceparent = span.traceparent;
    const ctx: CallContext = {
      signal: ac.signal,
      requestId: caller.ex.id,
      meta: Object.keys(upstreamMeta).length > 0 ? upstreamMeta : undefined,
      progress:
        typeof token === "string" || typeof token === "number"
          ? (pr) => {
              responder.event(notificationJson("notifications/progress", { progressToken: token, ...pr }));
            }
          : undefined,
      notify: (method, params) => {
        // 2026-07-28: log messages only for a request that asked for a level.
        if (caller.era === "modern" && method === "notifications/message" && caller.logLevel === undefined) return;
        responder.event(notificationJson(method, params ?? {}));
      },
      request:
        caller.era === "legacy" && caller.session !== undefined && caller.acceptsSse
          ? (method, params) => {
              // The result now depends on the agent's answer (the cache must not keep it).
              if (notes !== undefined) notes.asked = true;
              return this.askClient(caller, responder, method, params, ac.signal);
            }
          : undefined,
      passInputRequired: caller.era === "modern",
      // Read only by a source that exchanges it: not looked up for every call.
      get subjectToken() {
        return bearerOf(caller.ex);
      },
      retry: caller.era === "modern" && (req.params?.inputResponses !== undefined || req.params?.requestState !== undefined) ? { inputResponses: req.params?.inputResponses, requestState: req.params?.requestState } : undefined,
    };
    try {
      const out = (await run(ctx)) as unknown;
      span?.end(200, isJsonObject(out) && out.isError === true ? "tool_error" : undefined);
      // A source that stopped because the call ran out of time says "cancelled": say why.
      if (tool !== undefined && timedOut) return { content: [{ type: "text", text: `${tool.name}: the call took longer than ${limit} ms (FICUS_MCP_CALL_TIMEOUT); it was cancelled at the upstream` }], isError: true, _meta: { "io.ficus/error": "FICUS_MCP_CALL_TIMEOUT" } };
      return isJsonObject(out) ? out : {};
    } catch (err) {
      span?.end(502, err instanceof Error ? err.message : String(err));
      const reason = ac.signal.aborted ? ac.signal.reason : err;
      const message = reason instanceof Error ? reason.message : String(reason);
      const rpcCode = (err as { code?: unknown }).code;
      if (!ac.signal.aborted && err instanceof Error && err.name === "UpstreamRpcError" && typeof rpcCode === "number") {
        // The upstream's own JSON-RPC error, relayed as it is (a missing client capability is HTTP 400 in 2026-07-28).
        throw new RpcError(rpcCode, err.message, (err as { data?: unknown }).data, caller.era === "modern" && rpcCode === -32021 ? 400 : 200);
      }
      if (tool !== undefined) {
        // A tool that could not run is a tool error the agent can read and act on; _meta names Ficus's failure.
        const code = reason instanceof FicusError ? reason.code : "FICUS_MCP_UPSTREAM";
        return { content: [{ type: "text", text: `${tool.name}: ${message}` }], isError: true, _meta: { "io.ficus/error": code } };
      }
      const code = (err as { code?: unknown }).code;
      if (typeof code === "number") throw new RpcError(code, message, (err as { data?: unknown }).data);
      throw new RpcError(INTERNAL_ERROR, message);
    } finally {
      clearTimeout(timer);
      stopAbort();
      inflight.delete(key);
    }
  }

  /** Sends a request to the client on the call's event stream and waits for its answer (a later POST). */
  private askClient(caller: Caller, responder: Responder, method: string, params: JsonObject | undefined, signal: AbortSignal): Promise<JsonObject> {
    const need = method === "sampling/createMessage" ? "s" : method === "elicitation/create" ? "e" : method === "roots/list" ? "r" : "";
    if (need !== "" && !caller.caps.includes(need)) return Promise.reject(Object.assign(new Error(`the client did not declare the capability ${method} needs`), { code: METHOD_NOT_FOUND }));
    const id = `ficus-${process.pid}-${++clientRequestSeq}`;
    return new Promise<JsonObject>((resolve, reject) => {
      const session = caller.session?.nonce ?? "";
      pendingClientRequests.set(id, { resolve, reject, session });
      const gone = () => {
        if (pendingClientRequests.delete(id)) reject(signal.reason instanceof Error ? signal.reason : new Error("cancelled"));
      };
      signal.addEventListener("abort", gone, { once: true });
      if (!responder.event(requestJson(id, method, params ?? {}))) {
        pendingClientRequests.delete(id);
        reject(Object.assign(new Error("the client's connection cannot carry a request"), { code: INTERNAL_ERROR }));
      }
    });
  }
}

/** The caller's bearer token (Authorization: Bearer …), for sources that exchange it; undefined without one. */
function bearerOf(ex: Exchange): string | undefined {
  const h = getField(ex.fields, "authorization");
  if (h === undefined || h.length < 8 || h.slice(0, 7).toLowerCase() !== "bearer ") return undefined;
  return h.slice(7).trim() || undefined;
}

/** Client capabilities a relay needs to know, as letters. */
function capsOf(c: Record<string, unknown>): string {
  return (c.sampling !== undefined ? "s" : "") + (c.elicitation !== undefined ? "e" : "") + (c.roots !== undefined ? "r" : "");
}

export { accepts };

/** For metrics: tools this endpoint lists. */

