/**
 * One request and its response as every layer sees them, whatever the
 * protocol the client spoke: method, target, header list, peer, TLS, and the
 * body as a stream. The front (src/server/http1-front.ts) makes an Exchange
 * from a parsed request, runs the pipeline, and writes the Reply the pipeline
 * produced. Layers keep what they decide here (the route, the upstream to
 * forward to, the request id) and attach taps to watch the exchange unfold.
 */
import type { BodyError, BodySource, BodyTarget } from "../http1/body.ts";
import type { ErrorCode } from "../core/errors.ts";
import { ERROR_CODES, errorBody } from "../core/errors.ts";
import type { RuntimeRoute } from "../routing/route-table.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import type { RequestSpan } from "../observability/tracing.ts";
import type { Identity, PeerCertificate } from "../auth/identity.ts";

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/**
 * An observer of one exchange, attached by a layer (shadow comparison, traffic recording). Taps never change
 * what flows; chunk views are valid only during the call (copy to keep). Every tap gets exactly one of
 * `complete` (the response went out whole) or `skip`.
 */
export interface Tap {
  /** The request is about to be sent upstream (its fields and target are final). */
  requestStart?(): void;
  /** A piece of the request body as it is forwarded. */
  requestBody?(chunk: Uint8Array): void;
  /** The request body was forwarded whole. */
  requestEnd?(): void;
  /** The response as the upstream sent it (before the route's response header operations). */
  responseHead?(status: number, fields: readonly string[]): void;
  responseBody?(chunk: Uint8Array): void;
  /** The response reached the client whole. */
  complete?(ex: Exchange): void;
  /** The exchange ended without a whole response from the upstream (failed, cut, or answered by the gateway). */
  skip?(reason: "failed" | "streamed"): void;
}

/** What answers a request: a status, the header list (no framing fields) and the body. */
export interface Reply {
  status: number;
  reason?: string | undefined;
  fields: string[];
  /** A body in memory, a stream (its `length` is the Content-Length to send, or -1), or none. */
  body: Uint8Array | BodySource | undefined;
  /** For a HEAD request or a 304, the Content-Length the full body would have (sent without a body). */
  headLength?: number;
  /** A 101 answered by the upstream: both directions of the upstream connection, to join to the client's. */
  tunnel?: { readonly source: BodySource; readonly target: BodyTarget };
  /** Called once when the reply was written whole (true) or cut (false). */
  onSent?: ((whole: boolean) => void) | undefined;
}

export type AbortReason = "client" | "shutdown";

export class Exchange {
  /** performance.now() when the request head was complete. */
  readonly start: number;
  readonly method: string;
  /** The request target as received (origin-form: path and query). */
  readonly target: string;
  /** The path, dot segments removed; routing matches it. */
  path: string;
  /** The query with its "?", or "". */
  readonly query: string;
  /** The request's host, lowercased, without port ("" when none). */
  readonly host: string;
  /** The Host field as the client sent it (for X-Forwarded-Host), or undefined. */
  readonly hostField: string | undefined;
  /** The request header list, hop-by-hop fields and Content-Length removed. Layers may edit it. */
  readonly fields: string[];
  readonly peer: Peer;
  readonly tls: boolean;
  /** "http/1.1", "http/1.0" (later "h2"): for logs and X-Forwarded-Proto decisions, never for framing. */
  readonly protocol: string;
  /** The request body, or undefined when there is none. Layers may wrap it (limits, taps). */
  body: BodySource | undefined;
  /** The protocol asked for with Upgrade (e.g. "websocket"), or undefined. */
  readonly upgrade: string | undefined;

  /** The request id (X-Request-Id), set by the request-id layer. */
  id = "";
  /** The verified client certificate of an mTLS connection (set by the front), or undefined. */
  peerCertificate: PeerCertificate | undefined;
  /** Who is calling, once the authentication layer decided (undefined before it, or on routes without auth). */
  identity: Identity | undefined;
  /** Made by the gateway itself (an MCP tool's HTTP call through the routes), not received on a socket. */
  internal = false;
  /** On an MCP endpoint: the MCP method and the tool called, for the access log and metrics. */
  mcp: { method: string; tool: string | undefined } | undefined;
  /** The authorization decision, for the access log: "allow", "deny", "dry-run-deny", "error". */
  decision: string | undefined;
  route: RuntimeRoute | undefined;
  params: Record<string, string> | undefined;
  /** The path and query sent upstream (the route's rewrite applied), set by the upstream-request layer. */
  upstreamTarget = "";
  /** The upstream the forward layer sends to: the route's, unless a layer (migration) chose another. */
  upstream: UpstreamPool | undefined;
  /** Which side serves, for routes being migrated ("legacy" otherwise). */
  side: "legacy" | "candidate" = "legacy";
  /** The endpoint that served (its id), for the log. */
  endpoint = "";
  status = 0;
  /** Response body bytes sent. */
  bytes = 0;
  error: ErrorCode | undefined;
  /** Why the request body failed, when the client's side cut it (timeout, closed, malformed, too large). */
  bodyError: BodyError | undefined;
  taps: Tap[] | undefined;
  /** The request's span, when tracing is on (the forward layer starts one child per upstream attempt). */
  span: RequestSpan | undefined;
  /** The reply came from the upstream (not from the gateway): taps may compare or record it. */
  fromUpstream = false;
  /** Set once the exchange ended (response sent or cut); layers' `done` ran. */
  done = false;
  /** The upstream request in flight, aborted with the exchange (set and cleared by the forward layer: no listener per request). */
  upstreamCall: { abort(reason?: string): void } | undefined;
  /** What the forward layer holds for this exchange until it ends (opaque to everyone else). */
  forwardState: object | undefined;
  /** Why the exchange was aborted from outside (client gone, shutdown), once it was. */
  aborted: AbortReason | undefined;
  private abortListeners: ((why: AbortReason) => void)[] | undefined;

  constructor(
    start: number,
    method: string,
    target: string,
    path: string,
    query: string,
    host: string,
    hostField: string | undefined,
    fields: string[],
    peer: Peer,
    tls: boolean,
    protocol: string,
    body: BodySource | undefined,
    upgrade: string | undefined,
  ) {
    this.start = start;
    this.method = method;
    this.target = target;
    this.path = path;
    this.query = query;
    this.host = host;
    this.hostField = hostField;
    this.fields = fields;
    this.peer = peer;
    this.tls = tls;
    this.protocol = protocol;
    this.body = body;
    this.upgrade = upgrade;
  }

  tap(t: Tap): void {
    (this.taps ??= []).push(t);
  }

  /** Registers what to do when the exchange is aborted (client gone, shutdown). Returns a function that unregisters it. */
  onAbort(fn: (why: AbortReason) => void): () => void {
    (this.abortListeners ??= []).push(fn);
    return () => {
      const l = this.abortListeners;
      if (!l) return;
      const i = l.indexOf(fn);
      if (i >= 0) l.splice(i, 1);
    };
  }

  abort(why: AbortReason): void {
    if (this.aborted !== undefined || this.done) return;
    this.aborted = why;
    this.upstreamCall?.abort(why === "client" ? "the client went away" : "the gateway is shutting down");
    const l = this.abortListeners;
    this.abortListeners = undefined;
    if (l) for (const fn of l) fn(why);
  }
}

/** The reply went out (whole or cut): tells the reply and every tap, once. Whoever writes a reply calls it before Pipeline.end. */
export function replySent(ex: Exchange, reply: Reply, whole: boolean): void {
  reply.onSent?.(whole);
  const taps = ex.taps;
  if (taps === undefined) return;
  const ok = whole && ex.fromUpstream && ex.error === undefined;
  for (const tap of taps) {
    if (ok) tap.complete?.(ex);
    else tap.skip?.("failed");
  }
}

const ERROR_FIELDS_BASE = ["content-type", "application/json", "cache-control", "no-store"];
const ENCODER = new TextEncoder();

/** The JSON error reply every client-facing rejection uses (same body as errorResponse). */
export function errorReply(code: ErrorCode, message: string, requestId: string, extra?: readonly string[]): Reply {
  const fields = [...ERROR_FIELDS_BASE, "x-request-id", requestId];
  if (extra) fields.push(...extra);
  return { status: ERROR_CODES[code].status, fields, body: ENCODER.encode(errorBody(code, message, requestId)) };
}
