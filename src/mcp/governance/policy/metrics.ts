/**
 * The metrics of tool policies, registered once per Metrics (a registry
 * takes each name once; a reload keeps them): ficus_mcp_policy_total
 * {endpoint,tool,result} and ficus_mcp_policy_eval_seconds{endpoint}.
 * Decisions are counted as plain numbers per (endpoint, tool) and moved
 * into the counter when /metrics is scraped.
 */
import { Counter, Histogram, type HistogramChild, type Metrics } from "../../../observability/metrics.ts";

export type PolicyMetricResult = "allow" | "deny" | "error" | "dry_run_deny";
const RESULTS: readonly PolicyMetricResult[] = ["allow", "deny", "error", "dry_run_deny"];
const SLOT: Readonly<Record<PolicyMetricResult, number>> = { allow: 0, deny: 1, error: 2, dry_run_deny: 3 };

const EVAL_BUCKETS = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

/** One endpoint's counts by tool, and its bound histogram child. */
export class EndpointPolicyMetrics {
  readonly byTool = new Map<string, number[]>();
  readonly eval: HistogramChild;
  constructor(
    readonly endpoint: string,
    histogram: Histogram<"endpoint">,
  ) {
    this.eval = histogram.labels(endpoint);
  }

  count(tool: string, result: PolicyMetricResult): void {
    let c = this.byTool.get(tool);
    if (c === undefined) {
      c = [0, 0, 0, 0];
      this.byTool.set(tool, c);
    }
    (c[SLOT[result]] as number)++;
  }
}

export class PolicyMetrics {
  readonly total: Counter<"endpoint" | "tool" | "result">;
  readonly evalSeconds: Histogram<"endpoint">;
  private readonly endpoints = new Map<string, EndpointPolicyMetrics>();

  constructor(metrics: Metrics) {
    this.total = new Counter(metrics.registry, {
      name: "ficus_mcp_policy_total",
      help: "Tool policy decisions on calls, by endpoint, tool and result: allow, deny, error (the policy failed; on_error decided), dry_run_deny (would have denied; dry_run).",
      labelNames: ["endpoint", "tool", "result"] as const,
    });
    this.evalSeconds = new Histogram(metrics.registry, {
      name: "ficus_mcp_policy_eval_seconds",
      help: "Time to decide one tool call with the endpoint's Rego policy (building its input included), by endpoint.",
      labelNames: ["endpoint"] as const,
      buckets: EVAL_BUCKETS,
    });
    this.total.collect = () => {
      for (const m of this.endpoints.values()) {
        for (const [tool, c] of m.byTool) {
          for (let i = 0; i < 4; i++) {
            const n = c[i] as number;
            if (n === 0) continue;
            this.total.inc({ endpoint: m.endpoint, tool, result: RESULTS[i] as PolicyMetricResult }, n);
            c[i] = 0;
          }
        }
      }
    };
  }

  forEndpoint(endpoint: string): EndpointPolicyMetrics {
    let m = this.endpoints.get(endpoint);
    if (m === undefined) {
      m = new EndpointPolicyMetrics(endpoint, this.evalSeconds);
      this.endpoints.set(endpoint, m);
    }
    return m;
  }
}

const PER_METRICS = new WeakMap<Metrics, PolicyMetrics>();

export function policyMetrics(metrics: Metrics): PolicyMetrics {
  let m = PER_METRICS.get(metrics);
  if (m === undefined) {
    m = new PolicyMetrics(metrics);
    PER_METRICS.set(metrics, m);
  }
  return m;
}
