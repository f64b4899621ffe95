/**
 * The observability layer: a span per request (when tracing is on) and, once
 * the exchange has ended, the request's metrics and its access-log line —
 * exactly once per request, whatever answered it.
 */
import type { Exchange } from "../pipeline/exchange.ts";
import { getField } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { AccessLog } from "./access-log.ts";
import type { Metrics, RouteMetrics } from "./metrics.ts";
import type { Tracer } from "./tracing.ts";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]);
export const NO_ROUTE = "(none)";

export class ObservabilityLayer implements Layer {
  readonly name = "observability";
  /** Metrics of requests no route matched. */
  private readonly unmatched: RouteMetrics;

  constructor(
    metrics: Metrics,
    private readonly accessLog: AccessLog,
    private tracer: Tracer | undefined,
  ) {
    this.unmatched = metrics.forRoute(NO_ROUTE);
  }

  setTracer(tracer: Tracer | undefined): void {
    this.tracer = tracer;
  }

  request(ex: Exchange): undefined {
    const tracer = this.tracer;
    if (tracer !== undefined && ex.route !== undefined) {
      ex.span = tracer.startRequest(getField(ex.fields, "traceparent") ?? null, getField(ex.fields, "tracestate") ?? null, ex.method, ex.path, ex.route.name);
    }
    return undefined;
  }

  done(ex: Exchange): void {
    const seconds = (performance.now() - ex.start) / 1000;
    const route = ex.route;
    const rm = route ? route.metrics : this.unmatched;
    rm.count(KNOWN_METHODS.has(ex.method) ? ex.method : "OTHER", ex.status);
    rm.duration.observe(seconds);
    const span = ex.span;
    if (span !== undefined) {
      const id = ex.identity;
      const mcp = ex.mcp;
      span.end(ex.status, ex.error, id === undefined && ex.decision === undefined && mcp === undefined ? undefined : { subject: id?.subject, authMethod: id?.method, decision: ex.decision, mcpMethod: mcp?.method, mcpTool: mcp?.tool });
    }
    const log = this.accessLog;
    if (log.wants(ex.status)) {
      log.write(ex.id, route?.name ?? NO_ROUTE, ex.method, ex.path, ex.status, seconds * 1000, ex.endpoint, ex.bytes, ex.peer.address, ex.error, ex.identity?.subject, ex.decision, ex.mcp);
    }
  }
}
