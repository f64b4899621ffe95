/**
 * The data plane's request path: route lookup, limits, header preparation,
 * the upstream exchange with timeouts, retries and passive health, and the
 * response (buffered when small and sized, streamed otherwise), with metrics,
 * access log and tracing recorded once per request when it ends.
 *
 * This is the one hot-path file; it is long on purpose and keeps per-request
 * work to what each request needs (no URL objects, no header copies beyond
 * the one pass that builds the upstream headers).
 */
import type { Server } from "bun";
import { type ErrorCode, errorResponse } from "../core/errors.ts";
import type { AccessLog } from "../observability/access-log.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics, RouteMetrics } from "../observability/metrics.ts";
import type { RequestSpan, Tracer } from "../observability/tracing.ts";
import { assign, forcedSide, type Side } from "../migration/canary.ts";
import type { Shadow, ShadowCall } from "../migration/shadow.ts";
import type { Capture, TrafficRecorder } from "../record/recorder.ts";
import { removeDotSegments } from "../routing/router.ts";
import { editRequestHeaders, headerBytes, prepareResponseHeaders, requestIdFrom } from "./headers.ts";
import type { RetryCondition, RouteTable, RuntimeRoute } from "./route-table.ts";
import type { Endpoint, UpstreamPool } from "./upstream-pool.ts";

/** Bodies up to this size (with a Content-Length) are read whole: they can be retried, and small bodies are cheaper buffered. */
const BUFFER_REQUEST_MAX = 64 * 1024;
/**
 * Sized responses up to this many bytes are read whole and sent with their exact Content-Length.
 * Larger ones are streamed; Bun.serve then frames them chunked because it cannot send a stream
 * with a fixed length (oven-sh/bun#10507), so the client sees no Content-Length for those.
 */
const BUFFER_RESPONSE_MAX = 256 * 1024;

/** Bun's HTTP parser rejects larger header sections itself (bare 431); below it the limit is ours. */
export const PARSER_HEADER_CAP = 16 * 1024;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]);
const NO_ROUTE = "(none)";

type AbortReason = "header" | "total" | "idle" | "client" | "shutdown";

class AbortedBy extends Error {
  constructor(readonly reason: AbortReason) {
    super(`aborted: ${reason}`);
  }
}

export interface ProxyOptions {
  readonly metrics: Metrics;
  readonly accessLog: AccessLog;
  readonly logger: Logger;
  readonly tracer: Tracer | undefined;
  /** Client idle timeout in ms (Bun's per-connection idle timer), to lift it for long exchanges. */
  readonly clientIdleMs: number;
}

/** Everything one request carries from start to its log line. */
interface RequestState {
  readonly start: number;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly client: string;
  route: RuntimeRoute | undefined;
  endpoint: Endpoint | undefined;
  status: number;
  bytes: number;
  error: ErrorCode | undefined;
  span: RequestSpan | undefined;
  done: boolean;
  /** The mirrored call, for a request of a shadow-stage route that is being mirrored. */
  shadow: ShadowCall | undefined;
  /** The capture, for a request being recorded (ficus record). */
  record: Capture | undefined;
  /** When the current upstream attempt started (performance.now()). */
  upStart: number;
  /** The side serving the request (routes without a candidate: always legacy). */
  side: Side;
  /** The pool the serving endpoint belongs to. */
  pool: UpstreamPool | undefined;
  /** True while `endpoint.inflight` counts this request (released exactly once). */
  endpointHeld: boolean;
  /** Ends the request's timers and abort links, once set (released on every path, errors included). */
  release: ((keepTotal?: boolean) => void) | undefined;
}

function releaseEndpoint(ex: RequestState): void {
  if (!ex.endpointHeld) return;
  ex.endpointHeld = false;
  (ex.endpoint as Endpoint).inflight--;
}

/** The abort switch of one request: request-wide events abort whichever attempt is current. */
interface AbortHandle {
  current: AbortController;
  abort(why: AbortReason): void;
  /** Set while a body is streamed through our reader: it must also be woken when the exchange is aborted. */
  onAbort?: (why: AbortReason) => void;
}

/** Streams with an idle deadline, checked by one sweeper instead of a timer per chunk. */
interface IdleWatch {
  deadline: number;
  readonly idleMs: number;
  readonly abort: () => void;
}

export class Proxy {
  table: RouteTable;
  /** The mirror, once a route has a candidate (loaded on demand by the gateway). */
  shadow: Shadow | undefined;
  /** Traffic recording, once `ficus record start` has been used. */
  recorder: TrafficRecorder | undefined;
  private readonly opts: ProxyOptions;
  private inflight = 0;
  private draining = false;
  private readonly idleWatches = new Set<IdleWatch>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly controllers = new Set<AbortHandle>();
  private drainWaiters: (() => void)[] = [];
  /** Metrics of requests no route matched. */
  private readonly unmatched: RouteMetrics;

  constructor(table: RouteTable, opts: ProxyOptions) {
    this.table = table;
    this.opts = opts;
    this.sweeper = setInterval(() => this.sweepIdle(), 250);
    this.sweeper.unref?.();
    opts.metrics.setInFlightSource(() => this.inflight);
    this.unmatched = opts.metrics.forRoute(NO_ROUTE);
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Swaps in a new route table; requests already running keep theirs. */
  swap(table: RouteTable): void {
    this.table = table;
  }

  private sweepIdle(): void {
    if (this.idleWatches.size === 0) return;
    const now = performance.now();
    for (const w of this.idleWatches) {
      if (now > w.deadline) {
        this.idleWatches.delete(w);
        w.abort();
      }
    }
  }

  /** Stops taking new requests and resolves when in-flight ones finish (or the deadline passes, aborting the rest). */
  async drain(deadlineMs: number): Promise<boolean> {
    this.draining = true;
    if (this.inflight === 0) return true;
    const finished = new Promise<boolean>((resolve) => this.drainWaiters.push(() => resolve(true)));
    const timedOut = Bun.sleep(deadlineMs).then(() => false);
    const ok = await Promise.race([finished, timedOut]);
    if (!ok) for (const c of this.controllers) c.abort("shutdown");
    return ok;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Bun.serve fetch handler. Whatever goes wrong inside, the request is answered
   * (500 FICUS_INTERNAL with its id) and everything it holds is released: the
   * in-flight count, the endpoint's outstanding count, timers, abort links.
   */
  handle = (req: Request, server: Server<unknown>): Promise<Response | undefined> => {
    const holder: { ex: RequestState | undefined } = { ex: undefined };
    return this.serve(req, server, holder).catch((err: unknown) => this.internalError(holder.ex, err));
  };

  private internalError(ex: RequestState | undefined, err: unknown): Response {
    const message = err instanceof Error ? err.message : String(err);
    this.opts.logger.error("request failed inside the gateway", { code: "FICUS_INTERNAL", request_id: ex?.requestId ?? "", route: ex?.route?.name, error: message });
    if (ex === undefined) return errorResponse("FICUS_INTERNAL", "the gateway failed to handle the request", "");
    releaseEndpoint(ex);
    ex.release?.();
    if (ex.done) return errorResponse("FICUS_INTERNAL", "the gateway failed to handle the request", ex.requestId);
    return this.reject(ex, "FICUS_INTERNAL", "the gateway failed to handle the request; the log line with this request_id has the detail");
  }

  private async serve(req: Request, server: Server<unknown>, holder: { ex: RequestState | undefined }): Promise<Response | undefined> {
    const start = performance.now();
    const table = this.table;
    const url = req.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const target = pathStart < 0 ? "/" : url.slice(pathStart);
    const q = target.indexOf("?");
    let path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? "" : target.slice(q);
    const headers = req.headers;
    const method = req.method;
    const requestId = requestIdFrom(headers.get("x-request-id"));
    const client = server.requestIP(req)?.address ?? "";
    const ex: RequestState = {
      start,
      requestId,
      method,
      path,
      client,
      route: undefined,
      endpoint: undefined,
      status: 0,
      bytes: 0,
      error: undefined,
      span: undefined,
      done: false,
      shadow: undefined,
      record: undefined,
      upStart: 0,
      side: "legacy",
      pool: undefined,
      endpointHeld: false,
      release: undefined,
    };
    this.inflight++;
    holder.ex = ex;

    if (target.length > table.limits.maxUrl) {
      return this.reject(ex, "FICUS_URI_TOO_LONG", `request target is ${target.length} bytes; the limit is ${table.limits.maxUrl}`);
    }
    if (path.includes("/.") || path.toLowerCase().includes("/%2e")) path = removeDotSegments(path);

    const hostHeader = headers.get("host");
    let host = hostHeader === null ? "" : hostHeader.toLowerCase();
    const colon = host.lastIndexOf(":");
    if (colon > 0 && host.indexOf("]", colon) < 0) host = host.slice(0, colon);

    const matched = table.router.match({ host, path, method, header: (n) => headers.get(n) });
    const route = matched?.value ?? table.defaultRoute;
    if (route === undefined) {
      return this.reject(ex, "FICUS_ROUTE_NOT_FOUND", `no route for ${method} ${path}${host ? ` on host ${host}` : ""}`);
    }
    ex.route = route;
    if (this.opts.tracer) ex.span = this.opts.tracer.startRequest(headers.get("traceparent"), headers.get("tracestate"), method, path, route.name);

    // Long exchanges must not be cut by the client connection's idle timer; our own timers bound them.
    const t = route.timeouts;
    if (t.header > this.opts.clientIdleMs || t.total > this.opts.clientIdleMs) server.timeout(req, 0);

    const isUpgrade = headers.get("upgrade")?.toLowerCase() === "websocket";
    if (isUpgrade) return this.upgrade(ex, req, server, route, path, matched?.params ?? {}, query);

    // --- request body ---
    const cl = headers.get("content-length");
    const contentLength = cl === null ? -1 : Number(cl);
    if (route.maxBody > 0 && contentLength > route.maxBody) {
      return this.reject(ex, "FICUS_BODY_TOO_LARGE", `request body is ${contentLength} bytes; the route allows ${route.maxBody}`, { connection: "close" });
    }
    const idempotent = IDEMPOTENT.has(method);
    const hasBody = contentLength !== 0 && (contentLength > 0 || headers.get("transfer-encoding") !== null);
    // Which side serves: fixed by the stage, sticky-assigned in canary, or forced for testing.
    const stage = route.live.stage;
    let side: Side = stage === "candidate" ? "candidate" : "legacy";
    if (stage === "canary") side = assign(route.canary, route.canaryState, headers, client);
    if (route.allowForce) side = forcedSide(headers.get("x-ficus-force")) ?? side;
    ex.side = side;
    const compares = stage === "shadow" || stage === "canary" || (stage === "candidate" && route.shadow.config.after_cutover > 0);
    const shadow = this.shadow;
    const mirror = compares && shadow !== undefined && shadow.decide(route, method, contentLength, hasBody && contentLength < 0) === "go";
    // Recording (ficus record): a sampled share of what legacy serves, captured whole.
    const record = this.recorder?.active && side === "legacy" ? this.recorder.capture(route.name, method, headers, contentLength, hasBody && contentLength < 0) : undefined;
    ex.record = record;
    let body: ArrayBuffer | ReadableStream<Uint8Array> | LimitedBody | undefined;
    if (hasBody) {
      if (mirror || record || (idempotent && route.retries.attempts > 0 && contentLength > 0 && contentLength <= BUFFER_REQUEST_MAX)) {
        // Read whole: a mirrored request sends the body twice, and a retry may resend a small one.
        try {
          body = await req.arrayBuffer();
        } catch {
          return this.clientGone(ex);
        }
        if (record) record.requestBody = new Uint8Array(body);
        headers.delete("content-length");
      } else {
        const stream = req.body ?? undefined;
        body = stream && route.maxBody > 0 && contentLength < 0 ? new LimitedBody(stream, route.maxBody) : stream;
      }
    }

    // --- headers ---
    if (table.limits.maxHeader < PARSER_HEADER_CAP) {
      const size = headerBytes(headers);
      if (size > table.limits.maxHeader) {
        return this.reject(ex, "FICUS_HEADERS_TOO_LARGE", `request headers are ${size} bytes; the limit is ${table.limits.maxHeader}`, { connection: "close" });
      }
    }
    editRequestHeaders(headers, { requestId, clientIp: client, proto: "http", originalHost: hostHeader, ops: route.requestOps });
    // Bun's fetch adds "Accept-Encoding: gzip, deflate, br, zstd" when none is given; an absent field means
    // "any coding" but the client may not decode one, so ask for identity explicitly (RFC 9110 §12.5.3).
    if (!headers.has("accept-encoding")) headers.set("accept-encoding", "identity");
    const upHeaders = headers;

    const upstreamPath = (route.rewrite ? route.rewrite(path, matched?.params ?? {}) : path) + query;
    if (record) record.target = upstreamPath;
    const retryable = idempotent && (body === undefined || body instanceof ArrayBuffer);
    const pool = route.candidatePool && side === "candidate" ? route.candidatePool : route.legacyPool;
    ex.pool = pool;
    const now = Date.now();
    route.budget.deposit(now);

    // One controller per attempt; request-wide events (client abort, total timeout, shutdown) abort the current one.
    const ctl: AbortHandle = {
      current: new AbortController(),
      abort: (why) => {
        if (ctl.current.signal.aborted) return;
        ctl.current.abort(new AbortedBy(why));
        ctl.onAbort?.(why);
      },
    };
    this.controllers.add(ctl);
    ex.release = (keepTotal?: boolean) => cleanup(keepTotal);
    const onClientAbort = () => ctl.abort("client");
    req.signal.addEventListener("abort", onClientAbort, { once: true });
    let totalTimer: ReturnType<typeof setTimeout> | undefined;
    if (t.total > 0) totalTimer = setTimeout(() => ctl.abort("total"), t.total);
    /** Ends the request's timers and links; `keepTotal` leaves the total deadline armed for a body still streaming natively. */
    const cleanup = (keepTotal = false) => {
      if (totalTimer && !keepTotal) clearTimeout(totalTimer);
      req.signal.removeEventListener("abort", onClientAbort);
      this.controllers.delete(ctl);
    };
    // Bun's own socket idle timer backs up our timers for bodies it streams natively (seconds granularity).
    const socketIdle = Math.max(t.header, t.idle) + 1000;

    let excluded: Endpoint | undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) ctl.current = new AbortController();
      const signal = ctl.current.signal;
      const ep = pool.pick(Date.now(), excluded);
      ex.endpoint = ep;
      ep.inflight++;
      ex.endpointHeld = true;
      const upStart = performance.now();
      ex.upStart = upStart;
      const headerTimer = setTimeout(() => ctl.abort("header"), t.header);
      upHeaders.set("host", route.preserveHost && hostHeader !== null ? hostHeader : ep.host);
      const upSpan = ex.span?.startUpstream(ep.id, attempt);
      if (upSpan) upHeaders.set("traceparent", upSpan.traceparent);
      let res: Response;
      try {
        const sent = fetch(ep.base + upstreamPath, {
          method,
          headers: upHeaders,
          body: body instanceof LimitedBody ? body.stream : body,
          redirect: "manual",
          decompress: false,
          signal,
          timeout: socketIdle,
          duplex: "half",
        });
        // The mirror starts once legacy's request is on its way, so it never delays it.
        if (mirror && attempt === 0) ex.shadow = (shadow as Shadow).start(route, method, upstreamPath, upHeaders, body as ArrayBuffer | undefined, side);
        res = await sent;
      } catch (err) {
        clearTimeout(headerTimer);
        releaseEndpoint(ex);
        const reason = abortReason(signal);
        if (reason === "client") {
          upSpan?.end(0, "client aborted");
          cleanup();
          return this.clientGone(ex);
        }
        if (body instanceof LimitedBody && body.exceeded) {
          upSpan?.end(0, "FICUS_BODY_TOO_LARGE");
          cleanup();
          return this.reject(ex, "FICUS_BODY_TOO_LARGE", `request body exceeds the route's limit of ${route.maxBody} bytes`, { connection: "close" });
        }
        const code = reason !== undefined ? "FICUS_UPSTREAM_TIMEOUT" : classifyFetchError(err);
        const cond: RetryCondition = code === "FICUS_UPSTREAM_UNREACHABLE" ? "connect-failure" : code === "FICUS_UPSTREAM_TIMEOUT" ? "504" : "reset";
        upSpan?.end(0, code);
        this.opts.metrics.upstreamErrors.inc({ route: route.name, code });
        pool.failure(ep, Date.now());
        if (reason !== "total" && reason !== "shutdown" && this.mayRetry(route, retryable, attempt, cond)) {
          excluded = ep;
          await backoff(route.retries.backoff);
          continue;
        }
        cleanup();
        const msg =
          code === "FICUS_UPSTREAM_TIMEOUT"
            ? reason === "header"
              ? `upstream ${ep.id} sent no response headers within ${t.header} ms`
              : reason === "shutdown"
                ? "the gateway shut down before the upstream answered"
                : `upstream exchange exceeded the route's total timeout of ${t.total} ms`
            : `upstream ${ep.id}: ${(err as Error).message.split(".")[0]}`;
        return this.reject(ex, code, msg);
      }
      clearTimeout(headerTimer);
      route.metrics.upstream.observe((performance.now() - upStart) / 1000);
      const status = res.status;
      upSpan?.end(status, undefined);
      if (status === 502 || status === 503 || status === 504) {
        pool.failure(ep, Date.now());
        if (this.mayRetry(route, retryable, attempt, String(status) as RetryCondition)) {
          releaseEndpoint(ex);
          excluded = ep;
          await res.body?.cancel().catch(() => {});
          await backoff(route.retries.backoff);
          continue;
        }
      } else pool.success(ep);
      return await this.respond(ex, req, server, res, route, ctl, cleanup);
    }
  }

  private mayRetry(route: RuntimeRoute, retryable: boolean, attempt: number, cond: RetryCondition): boolean {
    if (!retryable || attempt >= route.retries.attempts || !route.retries.on.has(cond)) return false;
    if (!route.budget.withdraw()) {
      this.opts.metrics.retries.inc({ route: route.name, outcome: "budget_exhausted" });
      return false;
    }
    this.opts.metrics.retries.inc({ route: route.name, outcome: "attempted" });
    return true;
  }

  /**
   * Sends the upstream response on:
   *  - sized up to BUFFER_RESPONSE_MAX: read whole, sent with its Content-Length, accounted exactly;
   *  - sized above it: handed to Bun natively, accounted when the headers go out (bytes = Content-Length);
   *  - unsized (chunked, SSE, close-delimited): forwarded chunk by chunk as it arrives, through a reader
   *    that counts bytes, enforces the idle timeout and accounts the exchange when the body ends.
   */
  private async respond(ex: RequestState, req: Request, server: Server<unknown>, res: Response, route: RuntimeRoute, ctl: AbortHandle, cleanup: (keepTotal?: boolean) => void): Promise<Response> {
    const ep = ex.endpoint as Endpoint;
    const status = res.status;
    // The comparison sees legacy's headers as legacy sent them, before the route's response ops.
    const legacyHeaders = ex.shadow || ex.record ? new Headers(res.headers) : undefined;
    let headers: Headers;
    try {
      headers = prepareResponseHeaders(res.headers, ex.requestId, route.responseOps);
    } catch (err) {
      void res.body?.cancel().catch(() => {});
      throw err;
    }
    if (route.servedByHeader) {
      headers.set("x-ficus-served-by", ex.side);
      this.opts.metrics.served.inc({ route: route.name, side: ex.side });
    }
    // While draining, keep serving but move clients off this process.
    if (this.draining) headers.set("connection", "close");
    ex.status = status;
    const upstreamBody = res.body;
    const cl = headers.get("content-length");
    const len = cl === null ? -1 : Number(cl);
    if (upstreamBody === null || ex.method === "HEAD" || status === 204 || status === 304) {
      releaseEndpoint(ex);
      cleanup();
      ex.shadow?.complete({ status, headers: legacyHeaders as Headers, body: new ArrayBuffer(0), durationMs: performance.now() - ex.upStart });
      ex.record?.complete(status, legacyHeaders as Headers, new ArrayBuffer(0));
      this.finish(ex);
      return new Response(null, { status, statusText: res.statusText, headers });
    }
    if (len >= 0 && len <= BUFFER_RESPONSE_MAX) {
      const watch = this.watchIdle(route.timeouts.idle, ctl);
      let buf: ArrayBuffer;
      try {
        buf = await res.arrayBuffer();
      } catch (err) {
        this.idleWatches.delete(watch);
        releaseEndpoint(ex);
        cleanup();
        const reason = abortReason(ctl.current.signal);
        if (reason === "client") return this.clientGone(ex);
        const code: ErrorCode = reason ? "FICUS_UPSTREAM_TIMEOUT" : "FICUS_UPSTREAM_RESET";
        this.opts.metrics.upstreamErrors.inc({ route: route.name, code });
        (ex.pool as UpstreamPool).failure(ep, Date.now());
        // No byte has reached the client yet, so it still gets a clean error.
        return this.reject(ex, code, reason ? `upstream ${ep.id} stalled sending the body (${reason} timeout)` : `upstream ${ep.id} closed the connection mid-body`);
      }
      this.idleWatches.delete(watch);
      ex.bytes = buf.byteLength;
      releaseEndpoint(ex);
      cleanup();
      ex.shadow?.complete({ status, headers: legacyHeaders as Headers, body: buf, durationMs: performance.now() - ex.upStart });
      ex.record?.complete(status, legacyHeaders as Headers, buf);
      this.finish(ex);
      return new Response(buf, { status, statusText: res.statusText, headers });
    }
    if (len > BUFFER_RESPONSE_MAX) {
      // Large sized body: handed to Bun natively, which also cancels the upstream body if the client
      // disconnects (covered by the "client abort mid-download" test). Accounted when the headers go out;
      // a total deadline stays armed and, when it fires, aborts the transfer (harmless once it has ended).
      ex.bytes = len;
      releaseEndpoint(ex);
      cleanup(true);
      ex.shadow?.skip("legacy_streamed");
      ex.record?.skip("streamed");
      this.finish(ex);
      return new Response(upstreamBody, { status, statusText: res.statusText, headers });
    }
    if (headers.get("content-type")?.startsWith("text/event-stream")) server.timeout(req, 0);
    ex.shadow?.skip("legacy_streamed");
    ex.record?.skip("streamed");
    const reader = upstreamBody.getReader();
    // Why the body was cut, when we cut it: a pending read is woken by cancelling the reader, and the
    // client stream is then errored (never closed), so a truncated body cannot look complete.
    let cut: AbortReason | undefined;
    const stop = (why: AbortReason) => {
      cut ??= why;
      ctl.abort(why);
      reader.cancel().catch(() => {});
    };
    const watch: IdleWatch = { deadline: performance.now() + route.timeouts.idle, idleMs: route.timeouts.idle, abort: () => stop("idle") };
    this.idleWatches.add(watch);
    ctl.onAbort = (why) => {
      if (why !== "client") stop(why);
    };
    const end = (error?: ErrorCode) => {
      if (ex.done) return;
      this.idleWatches.delete(watch);
      releaseEndpoint(ex);
      cleanup();
      if (error) {
        ex.error = error;
        this.opts.metrics.upstreamErrors.inc({ route: route.name, code: error });
      }
      this.finish(ex);
    };
    const fail = (c: ReadableStreamDefaultController<Uint8Array>, err: unknown) => {
      const reason = cut ?? abortReason(ctl.current.signal);
      end(reason === "client" ? undefined : reason ? "FICUS_UPSTREAM_TIMEOUT" : "FICUS_UPSTREAM_RESET");
      if (reason !== "client") (ex.pool as UpstreamPool).failure(ep, Date.now());
      c.error(err);
    };
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (c) => {
          try {
            const { done, value } = await reader.read();
            if (cut) return fail(c, new Error(`upstream body cut: ${cut} timeout`));
            if (done) {
              c.close();
              end();
              return;
            }
            watch.deadline = performance.now() + watch.idleMs;
            ex.bytes += value.byteLength;
            c.enqueue(value);
          } catch (err) {
            // The upstream reset mid-body: the client sees a truncated body, as with any proxy.
            fail(c, err);
          }
        },
        cancel: (reason) => {
          // The client went away: abort the upstream exchange.
          ctl.abort("client");
          reader.cancel(reason).catch(() => {});
          if (!ex.done) ex.status = 499;
          end();
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status, statusText: res.statusText, headers });
  }

  private watchIdle(idleMs: number, ctl: AbortHandle): IdleWatch {
    const w: IdleWatch = { deadline: performance.now() + idleMs, idleMs, abort: () => ctl.abort("idle") };
    this.idleWatches.add(w);
    return w;
  }

  private upgrade(
    ex: RequestState,
    req: Request,
    server: Server<unknown>,
    route: RuntimeRoute,
    path: string,
    params: Record<string, string>,
    query: string,
  ): Response | undefined {
    const pool = route.live.stage === "candidate" && route.candidatePool ? route.candidatePool : route.legacyPool;
    const ep = pool.pick(Date.now());
    ex.endpoint = ep;
    const upstreamPath = (route.rewrite ? route.rewrite(path, params) : path) + query;
    const protocols = req.headers.get("sec-websocket-protocol");
    const forward: Record<string, string> = { "x-request-id": ex.requestId, "x-forwarded-for": ex.client };
    for (const name of ["authorization", "cookie", "origin", "user-agent"]) {
      const v = req.headers.get(name);
      if (v !== null) forward[name] = v;
    }
    const data: WebSocketData = {
      url: ep.wsBase + upstreamPath,
      headers: forward,
      protocols: protocols ? protocols.split(",").map((p) => p.trim()) : [],
      requestId: ex.requestId,
      upstream: undefined,
      pending: [],
    };
    const upgradeHeaders = protocols ? { "sec-websocket-protocol": data.protocols[0] as string } : undefined;
    if (server.upgrade(req, { data, headers: { "x-request-id": ex.requestId, ...upgradeHeaders } })) {
      ex.status = 101;
      this.finish(ex);
      return undefined;
    }
    return this.reject(ex, "FICUS_BAD_REQUEST", "invalid WebSocket upgrade request");
  }

  private reject(ex: RequestState, code: ErrorCode, message: string, extra?: Record<string, string>): Response {
    ex.shadow?.skip("legacy_failed");
    const res = errorResponse(code, message, ex.requestId, extra);
    ex.status = res.status;
    ex.error = code;
    this.finish(ex);
    return res;
  }

  private clientGone(ex: RequestState): Response {
    ex.shadow?.skip("legacy_failed");
    ex.status = 499;
    this.finish(ex);
    return new Response(null, { status: 499 });
  }

  /** Records metrics, the access log line and the span; exactly once per request. */
  private finish(ex: RequestState): void {
    if (ex.done) return;
    ex.done = true;
    // A recorded request that ended without a whole response (errors, client gone): counted, not written.
    ex.record?.skip("failed");
    const seconds = (performance.now() - ex.start) / 1000;
    const route = ex.route;
    const rm = route ? route.metrics : this.unmatched;
    rm.count(KNOWN_METHODS.has(ex.method) ? ex.method : "OTHER", ex.status);
    rm.duration.observe(seconds);
    ex.span?.end(ex.status, ex.error);
    const log = this.opts.accessLog;
    if (log.wants(ex.status)) {
      log.write(ex.requestId, route?.name ?? NO_ROUTE, ex.method, ex.path, ex.status, seconds * 1000, ex.endpoint?.id ?? "", ex.bytes, ex.client, ex.error);
    }
    this.inflight--;
    if (this.draining && this.inflight === 0) {
      for (const w of this.drainWaiters) w();
      this.drainWaiters = [];
    }
  }
}

export interface WebSocketData {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly protocols: string[];
  readonly requestId: string;
  upstream: WebSocket | undefined;
  pending: (string | ArrayBufferLike | ArrayBufferView)[];
}

function abortReason(signal: AbortSignal): AbortReason | undefined {
  if (!signal.aborted) return undefined;
  const r = signal.reason;
  return r instanceof AbortedBy ? r.reason : "client";
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ConnectionRefused", "FailedToOpenSocket", "ECONNABORTED", "ETIMEDOUT"]);

/** Maps a fetch failure to a code: could not connect, or the connection broke before a response. */
export function classifyFetchError(err: unknown): ErrorCode {
  const code = (err as { code?: string }).code;
  if (code !== undefined && UNREACHABLE.has(code)) return "FICUS_UPSTREAM_UNREACHABLE";
  return "FICUS_UPSTREAM_RESET";
}

function backoff(ms: number): Promise<void> | undefined {
  if (ms <= 0) return undefined;
  return Bun.sleep(ms * (0.5 + Math.random()));
}

/** A chunked request body that errors once more than `max` bytes have passed, remembering why. */
class LimitedBody {
  readonly stream: ReadableStream<Uint8Array>;
  exceeded = false;
  constructor(source: ReadableStream<Uint8Array>, max: number) {
    let seen = 0;
    this.stream = source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, c) => {
          seen += chunk.byteLength;
          if (seen > max) {
            this.exceeded = true;
            c.error(new Error(`request body exceeds ${max} bytes`));
          } else c.enqueue(chunk);
        },
      }),
    );
  }
}
