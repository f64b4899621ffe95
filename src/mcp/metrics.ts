/**
 * The edge-mcp metrics: per tool, calls by outcome and their duration; MCP
 * sessions opened and ended; the state of each source; tools whose pinned
 * definition changed. Registered once per Metrics instance, so a service
 * rebuilt on reload counts on.
 */
import { Counter, Gauge, Histogram, type Metrics } from "../observability/metrics.ts";
import type { CatalogTool } from "./registry/registry.ts";

const CALL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class McpMetrics {
  readonly calls: Counter<"tool" | "source" | "result">;
  readonly duration: Histogram<"tool">;
  readonly sessions: Counter<"event">;
  readonly sourceUp: Gauge<"source" | "kind">;
  readonly tools: Gauge<"endpoint">;

  private constructor(metrics: Metrics) {
    const r = metrics.registry;
    this.calls = new Counter(r, { name: "ficus_mcp_calls_total", help: "MCP tool calls by tool (the name agents see), source and result: ok, tool_error (the tool answered with isError, or could not run: timeout, upstream down), error (a protocol error).", labelNames: ["tool", "source", "result"] as const });
    this.duration = new Histogram(r, { name: "ficus_mcp_call_duration_seconds", help: "Time from receiving an MCP tool call to having its result, by tool.", labelNames: ["tool"] as const, buckets: CALL_BUCKETS });
    this.sessions = new Counter(r, { name: "ficus_mcp_sessions_total", help: "2025-era MCP sessions opened (initialize) and ended (DELETE) by this process.", labelNames: ["event"] as const });
    this.sourceUp = new Gauge(r, { name: "ficus_mcp_source_up", help: "1 when an MCP tool source is up (started, connected), 0 when it is down or starting.", labelNames: ["source", "kind"] as const, aggregator: "max" });
    this.tools = new Gauge(r, { name: "ficus_mcp_tools", help: "Tools listed by each MCP endpoint (route).", labelNames: ["endpoint"] as const, aggregator: "max" });
  }

  private static readonly byMetrics = new WeakMap<Metrics, McpMetrics>();

  static of(metrics: Metrics): McpMetrics {
    let m = McpMetrics.byMetrics.get(metrics);
    if (m === undefined) {
      m = new McpMetrics(metrics);
      McpMetrics.byMetrics.set(metrics, m);
    }
    return m;
  }

  observeCall(tool: CatalogTool, result: string, seconds: number): void {
    this.calls.inc({ tool: tool.name, source: tool.entry.source.name, result });
    this.duration.observe({ tool: tool.name }, seconds);
  }
}
