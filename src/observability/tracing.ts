/**
 * OpenTelemetry tracing over OTLP/HTTP, off unless `tracing.otlp_endpoint` is
 * set (the API and the SDK are imported only then, keeping cold start small).
 * One span per request (SERVER) and one per upstream attempt (CLIENT); the W3C
 * `traceparent` of the client is the parent, and the upstream receives the
 * attempt span's context. With tracing off, `traceparent`/`tracestate` pass
 * through unchanged.
 */
import type { Span, Tracer as OtelTracer } from "@opentelemetry/api";

export interface UpstreamSpan {
  /** The traceparent header value to send upstream for this attempt. */
  readonly traceparent: string;
  end(status: number, error: string | undefined): void;
}

/** What the enforcement layers decided, as span attributes (never a credential). */
export interface SpanEnforcement {
  /** The caller's subject and how it was identified (jwt, api_key, mtls, anonymous). */
  readonly subject?: string | undefined;
  readonly authMethod?: string | undefined;
  /** The authorization decision (allow, deny, dry-run-deny, error). */
  readonly decision?: string | undefined;
  /** On an MCP endpoint: the JSON-RPC method and the tool called (OpenTelemetry's MCP conventions: mcp.method.name, gen_ai.tool.name). */
  readonly mcpMethod?: string | undefined;
  readonly mcpTool?: string | undefined;
}

export interface RequestSpan {
  startUpstream(endpoint: string, attempt: number): UpstreamSpan;
  end(status: number, error: string | undefined, enforcement?: SpanEnforcement): void;
}

export interface Tracer {
  startRequest(traceparent: string | null, tracestate: string | null, method: string, path: string, route: string): RequestSpan;
  shutdown(): Promise<void>;
}

export interface TracingSettings {
  readonly otlp_endpoint?: string | undefined;
  readonly service_name: string;
  readonly sample: number;
  readonly headers: Readonly<Record<string, string>>;
}

const getter = {
  keys: (c: Record<string, string>) => Object.keys(c),
  get: (c: Record<string, string>, k: string) => c[k],
};

function traceparentOf(span: Span): string {
  const sc = span.spanContext();
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 1).toString(16).padStart(2, "0")}`;
}

/** Builds the tracer, or returns undefined when tracing is off. */
export async function createTracer(settings: TracingSettings): Promise<Tracer | undefined> {
  if (!settings.otlp_endpoint) return undefined;
  const [
    { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace },
    { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { W3CTraceContextPropagator },
  ] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/core"),
  ]);
  const exporter = new OTLPTraceExporter({ url: settings.otlp_endpoint, headers: { ...settings.headers } });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.service_name }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sample) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  const w3c = new W3CTraceContextPropagator();
  const tracer: OtelTracer = provider.getTracer("ficus");
  return {
    startRequest(traceparent, tracestate, method, path, route) {
      let parent = ROOT_CONTEXT;
      if (traceparent !== null) {
        const carrier: Record<string, string> = { traceparent };
        if (tracestate !== null) carrier.tracestate = tracestate;
        parent = w3c.extract(ROOT_CONTEXT, carrier, getter);
      }
      const span = tracer.startSpan(
        `${method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": path, "ficus.route": route } },
        parent,
      );
      const ctx = trace.setSpan(parent, span);
      return {
        startUpstream(endpoint, attempt) {
          const child = tracer.startSpan(
            `upstream ${route}`,
            { kind: SpanKind.CLIENT, attributes: { "server.address": endpoint, "ficus.attempt": attempt, "http.request.method": method } },
            ctx,
          );
          return {
            traceparent: traceparentOf(child),
            end(status, error) {
              if (status > 0) child.setAttribute("http.response.status_code", status);
              if (error !== undefined || status >= 500) child.setStatus({ code: SpanStatusCode.ERROR, message: error });
              child.end();
            },
          };
        },
        end(status, error, enforcement) {
          if (status > 0) span.setAttribute("http.response.status_code", status);
          if (error !== undefined) span.setAttribute("error.type", error);
          if (enforcement?.subject) span.setAttribute("enduser.id", enforcement.subject);
          if (enforcement?.authMethod) span.setAttribute("ficus.auth.method", enforcement.authMethod);
          if (enforcement?.decision) span.setAttribute("ficus.authz.decision", enforcement.decision);
          if (enforcement?.mcpMethod) span.setAttribute("mcp.method.name", enforcement.mcpMethod);
          if (enforcement?.mcpTool) span.setAttribute("gen_ai.tool.name", enforcement.mcpTool);
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
          span.end();
        },
      };
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
