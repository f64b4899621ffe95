/**
 * The metrics of tool-definition pinning: changes first seen per tool, and
 * how many wait for approval. Registered once per Metrics instance (a service
 * rebuilt on reload counts on); the gauge reads the shared pin store when
 * scraped, so every process reports the same number (merged with max).
 */
import { Counter, Gauge, type Metrics } from "../../observability/metrics.ts";

export class PinMetrics {
  readonly changes: Counter<"source" | "tool">;
  readonly pending: Gauge;

  private constructor(metrics: Metrics) {
    const r = metrics.registry;
    this.changes = new Counter(r, {
      name: "ficus_mcp_tool_definition_changes_total",
      help: "Upstream tool definitions that changed from their approved pin (or new tools held for approval), counted once per change by the process that saw it first, by source and the source's tool name.",
      labelNames: ["source", "tool"] as const,
    });
    this.pending = new Gauge(r, {
      name: "ficus_mcp_tools_pending_approval",
      help: "Tool definition changes waiting for an operator's approval (ficus mcp pins).",
      aggregator: "max",
    });
  }

  private static readonly byMetrics = new WeakMap<Metrics, PinMetrics>();

  static of(metrics: Metrics): PinMetrics {
    let m = PinMetrics.byMetrics.get(metrics);
    if (m === undefined) {
      m = new PinMetrics(metrics);
      PinMetrics.byMetrics.set(metrics, m);
    }
    return m;
  }

  /** The gauge reads `count` at each scrape (the last guard attached wins: the live service's). */
  readPendingFrom(count: (() => number) | undefined): void {
    this.pending.collect = count === undefined ? undefined : () => {
      try {
        this.pending.set(count());
      } catch {
        // The store cannot be read right now: the last value stays.
      }
    };
  }
}
