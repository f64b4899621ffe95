/**
 * The forward layer: the last layer of the pipeline. It sends the exchange to
 * an endpoint of `ex.upstream` over a pooled keep-alive connection and
 * answers with the upstream's response, streamed. Around that: the
 * X-Forwarded-* fields and the route's header operations, the header, idle
 * and total timeouts, retries within the route's budget, passive health, and
 * the taps other layers attached (they see the request body as it is sent and
 * the response as the upstream sent it).
 *
 * Whose fault a failure is decides what happens: a client that stalls, sends
 * a malformed or oversized body, or goes away gets 408/400/413/499 and never
 * counts against the endpoint; only an upstream that refuses, resets, stalls
 * or answers nonsense counts toward ejection.
 */
import { type BodyError, type BodySink, type BodySource, readBody } from "../http1/body.ts";
import type { ClientError, ClientExchange, ClientResponse } from "../http1/client.ts";
import type { TimerWheel } from "../http1/timers.ts";
import type { ErrorCode } from "../core/errors.ts";
import { errorReply, type Exchange, type Reply, type Tap } from "../pipeline/exchange.ts";
import { deleteField, endToEnd, getField, setField } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { HeaderOps, RetryCondition, RuntimeRoute } from "../routing/route-table.ts";
import type { Endpoint, UpstreamPool } from "../upstream/pool.ts";

/** Bodies up to this size (with a Content-Length) are read whole when the request may be retried. */
const BUFFER_FOR_RETRY_MAX = 64 * 1024;
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** What the forward layer holds for one exchange until it ends. */
interface Held {
  endpoint: Endpoint | undefined;
  exchange: ClientExchange | undefined;
  /** The total-timeout timer, when the route has one. */
  total: { cancel(): void } | undefined;
  /** Set when the total timeout fired. */
  totalFired: boolean;
}


export interface ForwardOptions {
  readonly metrics: Metrics;
  readonly wheel: TimerWheel;
}

export class ForwardLayer implements Layer {
  readonly name = "forward";

  constructor(private readonly opts: ForwardOptions) {}

  request(ex: Exchange): Promise<Reply> | Reply {
    const route = ex.route as RuntimeRoute;
    const pool = ex.upstream as UpstreamPool;
    const target = ex.upstreamTarget;
    const h: Held = { endpoint: undefined, exchange: undefined, total: undefined, totalFired: false };
    ex.forwardState = h;
    route.budget.deposit(Date.now());
    const t = route.timeouts;
    if (t.total > 0) {
      h.total = this.opts.wheel.arm(t.total, () => {
        h.totalFired = true;
        h.exchange?.abort("total timeout");
      });
    }

    const body = ex.body;
    if (body !== undefined && route.maxBody > 0 && body.length > route.maxBody) {
      return errorReply("FICUS_BODY_TOO_LARGE", `request body is ${body.length} bytes; the route allows ${route.maxBody}`, ex.id);
    }
    const retryable = IDEMPOTENT.has(ex.method) && route.retries.attempts > 0;
    if (body !== undefined && retryable && body.length >= 0 && body.length <= BUFFER_FOR_RETRY_MAX) {
      // Read whole: a retry may send it again.
      return readBody(tapped(ex, body, route.maxBody)).then(
        (bytes) => this.send(ex, route, pool, target, bytes, true),
        (err: BodyError) => this.clientBodyFailed(ex, err),
      );
    }
    const source = body === undefined ? undefined : tapped(ex, body, route.maxBody);
    return this.send(ex, route, pool, target, source, retryable && body === undefined);
  }

  private async send(ex: Exchange, route: RuntimeRoute, pool: UpstreamPool, target: string, body: Uint8Array | BodySource | undefined, retryable: boolean): Promise<Reply> {
    const h = ex.forwardState as Held;
    const t = route.timeouts;
    let excluded: Endpoint | undefined;
    for (let attempt = 0; ; attempt++) {
      if (ex.aborted !== undefined) return this.gone(ex);
      const ep = pool.pick(Date.now(), excluded);
      ex.endpoint = ep.id;
      h.endpoint = ep;
      ep.inflight++;
      const fields = route.preserveHost && ex.hostField !== undefined ? ["host", ex.hostField, ...ex.fields] : ["host", ep.host, ...ex.fields];
      // An upgrade is hop-by-hop: asked for again on the upstream connection (RFC 9110 §7.8).
      if (ex.upgrade !== undefined) fields.push("connection", "upgrade", "upgrade", ex.upgrade);
      const upSpan = ex.span?.startUpstream(ep.id, attempt);
      if (upSpan) setField(fields, "traceparent", upSpan.traceparent);
      const upStart = performance.now();
      const client = ep.client;
      if (client === undefined) throw new Error(`endpoint ${ep.id} has no connection pool`);
      const cx = client.request({
        method: ex.method,
        target: ep.basePath + target,
        fields,
        body,
        headerTimeout: t.header,
        bodyTimeout: t.idle,
        upgrade: ex.upgrade !== undefined,
      });
      h.exchange = cx;
      if (attempt === 0 && ex.taps) for (const tap of ex.taps) tap.requestStart?.();
      ex.upstreamCall = cx;
      let res: ClientResponse;
      try {
        res = await cx.response;
      } catch (e) {
        ex.upstreamCall = undefined;
        release(h);
        const err = e as ClientError;
        if (ex.aborted !== undefined || ex.bodyError !== undefined) upSpan?.end(0, "client");
        if (ex.aborted !== undefined) return this.gone(ex);
        if (ex.bodyError !== undefined) return this.clientBodyFailed(ex, ex.bodyError);
        const { code, cond, message } = this.classify(err, h, route, ep);
        upSpan?.end(0, code);
        this.opts.metrics.upstreamErrors.inc({ route: route.name, code });
        pool.failure(ep, Date.now());
        if (!h.totalFired && this.mayRetry(route, retryable, attempt, cond)) {
          excluded = ep;
          await backoff(route.retries.backoff);
          continue;
        }
        ex.error = code;
        return errorReply(code, message, ex.id);
      }
      ex.upstreamCall = undefined;
      route.metrics.upstream.observe((performance.now() - upStart) / 1000);
      const status = res.status;
      upSpan?.end(status, undefined);
      if (status === 502 || status === 503 || status === 504) {
        pool.failure(ep, Date.now());
        if (this.mayRetry(route, retryable, attempt, String(status) as RetryCondition)) {
          res.body?.cancel();
          release(h);
          excluded = ep;
          await backoff(route.retries.backoff);
          continue;
        }
      } else pool.success(ep);
      return this.reply(ex, route, pool, ep, h, res);
    }
  }

  /** The reply to the client from the upstream's response: its fields less hop-by-hop ones, the body streamed. */
  private reply(ex: Exchange, route: RuntimeRoute, pool: UpstreamPool, ep: Endpoint, h: Held, res: ClientResponse): Reply {
    const taps = ex.taps;
    if (taps) for (const tap of taps) tap.responseHead?.(res.status, res.fields);
    const declared = ex.method === "HEAD" || res.status === 304 ? getField(res.fields, "content-length") : undefined;
    const { fields } = endToEnd(res.fields, false);
    if (route.responseOps) applyOps(fields, route.responseOps);
    ex.fromUpstream = true;
    if (res.tunnel) {
      // The protocol switched to is named again on the client's connection (the engine writes Connection: upgrade).
      const upgrade = getField(res.fields, "upgrade");
      if (upgrade !== undefined) fields.push("upgrade", upgrade);
      return { status: res.status, reason: res.reason, fields, body: undefined, tunnel: res.tunnel, onSent: () => release(h) };
    }
    const reply: Reply = { status: res.status, reason: res.reason, fields, body: undefined };
    const source = res.body;
    if (source === undefined) {
      release(h);
      // HEAD and 304 keep the length the full body would have.
      if ((ex.method === "HEAD" || res.status === 304) && declared !== undefined && /^\d+$/.test(declared)) reply.headLength = Number(declared);
      else if (res.status >= 200 && res.status !== 204 && res.status !== 304 && ex.method !== "HEAD") reply.body = EMPTY;
      return reply;
    }
    reply.body = new ForwardedResponseBody(source, ex, h, route, pool, ep, this.opts.metrics);
    return reply;
  }

  private classify(err: ClientError, h: Held, route: RuntimeRoute, ep: Endpoint): { code: ErrorCode; cond: RetryCondition; message: string } {
    if (h.totalFired) return { code: "FICUS_UPSTREAM_TIMEOUT", cond: "504", message: `upstream exchange exceeded the route's total timeout of ${route.timeouts.total} ms` };
    switch (err.code) {
      case "connect_refused":
      case "connect_failed":
        return { code: "FICUS_UPSTREAM_UNREACHABLE", cond: "connect-failure", message: `upstream ${ep.id}: ${err.message}` };
      case "connect_timeout":
        return { code: "FICUS_UPSTREAM_UNREACHABLE", cond: "connect-failure", message: `upstream ${ep.id}: no connection within the connect timeout` };
      case "header_timeout":
        return { code: "FICUS_UPSTREAM_TIMEOUT", cond: "504", message: `upstream ${ep.id} sent no response headers within ${route.timeouts.header} ms` };
      case "bad_response":
        return { code: "FICUS_UPSTREAM_BAD_RESPONSE", cond: "reset", message: `upstream ${ep.id} sent an invalid response (${err.detail ?? "malformed"})` };
      default:
        return { code: "FICUS_UPSTREAM_RESET", cond: "reset", message: `upstream ${ep.id} closed the connection before a response` };
    }
  }

  /** The client's side failed while its body was being read or sent: never the upstream's fault. */
  private clientBodyFailed(ex: Exchange, err: BodyError): Reply {
    ex.bodyError = err;
    if (ex.aborted !== undefined || err.code === "closed") return this.gone(ex);
    if (err.code === "too_large") {
      const max = (ex.route as RuntimeRoute).maxBody;
      ex.error = "FICUS_BODY_TOO_LARGE";
      return errorReply("FICUS_BODY_TOO_LARGE", `request body exceeds the route's limit of ${max} bytes`, ex.id);
    }
    if (err.code === "timeout") {
      ex.error = "FICUS_CLIENT_TIMEOUT";
      return errorReply("FICUS_CLIENT_TIMEOUT", "the client stopped sending the request body", ex.id);
    }
    ex.error = "FICUS_BAD_REQUEST";
    return errorReply("FICUS_BAD_REQUEST", `malformed request body: ${err.reason}`, ex.id);
  }

  private gone(ex: Exchange): Reply {
    ex.status = 499;
    return { status: 499, fields: [], body: undefined };
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

  done(ex: Exchange): void {
    const h = ex.forwardState as Held | undefined;
    if (h === undefined) return;
    h.total?.cancel();
    release(h);
    if (ex.status !== 101 && h.exchange !== undefined && ex.aborted !== undefined) h.exchange.abort("exchange ended");
  }
}

const EMPTY = new Uint8Array(0);

function release(h: Held): void {
  const ep = h.endpoint;
  if (ep === undefined) return;
  h.endpoint = undefined;
  ep.inflight--;
}

export function applyOps(fields: string[], ops: HeaderOps): void {
  for (const name of ops.remove) deleteField(fields, name);
  for (const [name, value] of ops.add) setField(fields, name, value);
}

function backoff(ms: number): Promise<void> | undefined {
  if (ms <= 0) return undefined;
  return Bun.sleep(ms * (0.5 + Math.random()));
}

/** A body passed on from another source: its length, pause, resume and cancel are the source's. */
abstract class RelayedBody implements BodySource {
  constructor(protected readonly source: BodySource) {}
  get length(): number {
    return this.source.length;
  }
  abstract start(sink: BodySink): void;
  pause(): void {
    this.source.pause();
  }
  resume(): void {
    this.source.resume();
  }
  cancel(): void {
    this.source.cancel();
  }
}

/**
 * The request body as forwarded: counts it against the route's max_body (when its length is not known up front),
 * shows each piece to the taps, and remembers on the exchange when the client's side failed (so the failure is the
 * client's, not the upstream's).
 */
function tapped(ex: Exchange, source: BodySource, maxBody: number): BodySource {
  const taps = ex.taps?.filter((t) => t.requestBody !== undefined || t.requestEnd !== undefined);
  return new ForwardedRequestBody(source, ex, taps !== undefined && taps.length > 0 ? taps : undefined, source.length < 0 ? maxBody : 0);
}

class ForwardedRequestBody extends RelayedBody {
  private seen = 0;
  constructor(
    source: BodySource,
    private readonly ex: Exchange,
    private readonly taps: Tap[] | undefined,
    private readonly max: number,
  ) {
    super(source);
  }
  start(sink: BodySink): void {
    this.source.start({
      onData: (chunk) => {
        this.seen += chunk.byteLength;
        if (this.max > 0 && this.seen > this.max) {
          this.source.cancel();
          const err = { code: "too_large", reason: `the request body exceeds ${this.max} bytes` };
          this.ex.bodyError = err;
          sink.onError(err);
          return false;
        }
        if (this.taps) for (const t of this.taps) t.requestBody?.(chunk);
        return sink.onData(chunk);
      },
      onEnd: (trailers) => {
        if (this.taps) for (const t of this.taps) t.requestEnd?.();
        sink.onEnd(trailers);
      },
      onError: (err) => {
        this.ex.bodyError ??= err;
        sink.onError(err);
      },
    });
  }
}

/**
 * The upstream's response body on its way to the client: counts bytes, shows pieces to the taps, and on a cut
 * (reset, idle timeout) records the upstream's failure — unless the client went away first.
 */
class ForwardedResponseBody extends RelayedBody {
  constructor(
    source: BodySource,
    private readonly ex: Exchange,
    private readonly h: Held,
    private readonly route: RuntimeRoute,
    private readonly pool: UpstreamPool,
    private readonly ep: Endpoint,
    private readonly metrics: Metrics,
  ) {
    super(source);
  }
  start(sink: BodySink): void {
    const ex = this.ex;
    const taps = ex.taps;
    this.source.start({
      onData: (chunk) => {
        ex.bytes += chunk.byteLength;
        if (taps) for (const t of taps) t.responseBody?.(chunk);
        return sink.onData(chunk);
      },
      onEnd: (trailers) => {
        release(this.h);
        sink.onEnd(trailers);
      },
      onError: (err) => {
        release(this.h);
        if (ex.aborted === undefined && (err.code !== "cancelled" || this.h.totalFired)) {
          const code: ErrorCode = err.code === "timeout" || this.h.totalFired ? "FICUS_UPSTREAM_TIMEOUT" : "FICUS_UPSTREAM_RESET";
          ex.error = code;
          this.metrics.upstreamErrors.inc({ route: this.route.name, code });
          this.pool.failure(this.ep, Date.now());
        }
        sink.onError(err);
      },
    });
  }
  override cancel(): void {
    release(this.h);
    this.source.cancel();
  }
}
