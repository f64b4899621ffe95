/**
 * The guardrails guard (docs/mcp.md, "Guardrails"): before the upstream, a
 * call's arguments are checked against the deny patterns and then the tool's
 * inputSchema, and a call that fails either is answered with a tool error
 * (the upstream never sees it); after it, secrets in the result are redacted
 * and the result is capped in size (cut with a marker, or a tool error).
 * Everything it does is counted in `ficus_mcp_guardrail_total{tool,rule,action}`
 * and each denial is logged with the rule, never the argument values.
 *
 * What one tool needs (its schema check, rules, redactor and cap) is worked
 * out on its first call and kept per catalog entry, so a call reads fields;
 * a catalog rebuilt (a list change, a reload) starts afresh.
 */
import { Counter, type Metrics } from "../../../observability/metrics.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { CatalogTool } from "../../registry/registry.ts";
import type { CallToolResult, JsonObject } from "../../types.ts";
import { type CallEnd, type CallGuard, type GuardedCall, toolError } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { type SchemaCheck, validatorFor } from "../json-schema.ts";
import { compileDenyRules, type DenyRule } from "./deny.ts";
import { Redactor } from "./redact.ts";
import type { GuardrailsConfig, GuardrailsPerTool } from "./schema.ts";
import { measure, truncate } from "./size.ts";

export { BUILT_IN } from "./redact.ts";
export { compileDenyRules, DenyRule } from "./deny.ts";
export { Redactor } from "./redact.ts";

/** `_meta` key of a guardrail's tool error: the rule that stopped the call or the result. */
export const META_GUARDRAIL = "io.ficus/guardrail";

/**
 * Text beyond max_result_bytes plus this many characters is cut before redaction (it could never be passed on: a
 * character is at least one byte); the margin lets a secret that straddles the cut still be recognised whole.
 */
const REDACT_MARGIN = 64 * 1024;

type GuardrailCounter = Counter<"tool" | "rule" | "action">;
const counters = new WeakMap<Metrics, GuardrailCounter>();

/** The counter, registered once per Metrics (a reload builds guards again on the same one). */
export function guardrailCounter(metrics: Metrics): GuardrailCounter {
  let c = counters.get(metrics);
  if (c === undefined) {
    c = new Counter(metrics.registry, {
      name: "ficus_mcp_guardrail_total",
      help: "What the MCP guardrails did, by tool (the name agents see), rule (schema, deny_arguments:<name or index>, redact, size) and action (denied, redacted, truncated, error). Redactions count each secret replaced.",
      labelNames: ["tool", "rule", "action"] as const,
    });
    counters.set(metrics, c);
  }
  return c;
}

/** What one tool's calls go through, worked out once per catalog entry. */
interface ToolRules {
  /** The inputSchema's check; undefined: not checked (off, or a schema that cannot be compiled). */
  readonly check: SchemaCheck | undefined;
  /** Names of the arguments fixed by the gateway: left out of the checks (they are the operator's, not the agent's). */
  readonly fixed: readonly string[] | undefined;
  readonly deny: readonly DenyRule[];
  readonly redactor: Redactor | undefined;
  readonly maxBytes: number;
  readonly onOversize: "truncate" | "error";
  /** The tool declares an outputSchema: its structuredContent is kept first when cutting. */
  readonly structuredFirst: boolean;
}

export interface GuardrailsOptions {
  readonly config: GuardrailsConfig;
  /** A tool's per_tool settings: by source name and the source's own tool name. */
  readonly perTool: (source: string, tool: string) => GuardrailsPerTool | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The endpoint (route), for log lines. */
  readonly endpoint: string;
}

export class GuardrailsGuard implements CallGuard {
  readonly name = "guardrails";
  private readonly rules = new WeakMap<CatalogTool, ToolRules>();
  private readonly denyRules: readonly DenyRule[];
  private readonly redactor: Redactor | undefined;
  private readonly counter: GuardrailCounter;

  constructor(private readonly opts: GuardrailsOptions) {
    this.denyRules = compileDenyRules(opts.config.deny_arguments);
    const r = new Redactor(opts.config.redact);
    this.redactor = r.active ? r : undefined;
    this.counter = guardrailCounter(opts.metrics);
  }

  /** Never throws: should a check itself fail (a bug), the call is refused rather than let through unchecked. */
  before(call: GuardedCall): CallToolResult | undefined {
    try {
      return this.check(call);
    } catch (err) {
      return this.failed(call, "arguments", err);
    }
  }

  /** Never throws: should redaction or the cap itself fail (a bug), the result is withheld rather than passed on unchecked. */
  after(call: GuardedCall, end: CallEnd): CallToolResult | undefined {
    if (end.kind !== "result") return undefined;
    try {
      return this.guardResult(call, end.result);
    } catch (err) {
      return this.failed(call, "result", err);
    }
  }

  private failed(call: GuardedCall, what: string, err: unknown): CallToolResult {
    this.opts.logger.error("the MCP guardrails failed; the call is refused", { endpoint: this.opts.endpoint, tool: call.tool.name, stage: what, error: err instanceof Error ? err.message : String(err), request_id: call.requestId });
    call.notes.guardrail = "failed";
    return toolError(`the guardrails could not check this call's ${what}; it was refused`, { [META_GUARDRAIL]: "failed" });
  }

  private check(call: GuardedCall): CallToolResult | undefined {
    const rules = this.rulesOf(call.tool);
    if (rules.deny.length === 0 && rules.check === undefined) return undefined;
    const args = rules.fixed === undefined ? call.args : without(call.args, rules.fixed);
    for (const d of rules.deny) {
      if (d.matches(args)) return this.deny(call, d.rule, d.message);
    }
    if (rules.check !== undefined) {
      const problem = rules.check(args);
      if (problem !== undefined) return this.deny(call, "schema", `arguments do not fit the tool's input schema: ${problem}`);
    }
    return undefined;
  }

  /** The result redacted and capped, or undefined when it passes as it is. */
  private guardResult(call: GuardedCall, original: CallToolResult): CallToolResult | undefined {
    const rules = this.rulesOf(call.tool);
    let result = original;
    const max = rules.maxBytes;
    const received = measure(result, max);
    // "error": a result over the cap is replaced whole, so there is nothing to redact.
    if (received !== undefined && rules.onOversize === "error") return this.oversize(call, received.total, max);
    // Text that could never be passed on is dropped before redaction; the marker then says so even when what is left fits.
    const cutAt = received === undefined ? Number.POSITIVE_INFINITY : max + REDACT_MARGIN;
    if (rules.redactor !== undefined) result = this.redact(call, rules.redactor, result, cutAt);
    if (rules.onOversize === "truncate") {
      const m = result === original ? received : measure(result, max, received !== undefined);
      if (m !== undefined) {
        const over = (received ?? m).total - max;
        const t = truncate(result, m, max, rules.structuredFirst, over);
        result = t.result;
        call.notes.truncated = over;
        this.counter.inc({ tool: call.tool.name, rule: "size", action: t.failed ? "error" : "truncated" });
      }
    }
    return result === original ? undefined : result;
  }

  /** The result with its secrets redacted (the same object when there were none); text past `cutAt` characters is dropped first. */
  private redact(call: GuardedCall, r: Redactor, result: CallToolResult, cutAt: number): CallToolResult {
    r.count = 0;
    let content: JsonObject[] | undefined;
    const items = Array.isArray(result.content) ? result.content : [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as JsonObject;
      let next: JsonObject = item;
      if (item !== null && typeof item === "object") {
        if (item.type === "text" && typeof item.text === "string") {
          const t = r.text(item.text.length > cutAt ? item.text.slice(0, cutAt) : item.text);
          if (t !== item.text) next = { ...item, text: t };
        } else if (item.type === "resource" && item.resource !== null && typeof item.resource === "object") {
          const res = item.resource as JsonObject;
          if (typeof res.text === "string") {
            const t = r.text(res.text.length > cutAt ? res.text.slice(0, cutAt) : res.text);
            if (t !== res.text) next = { ...item, resource: { ...res, text: t } };
          }
        }
      }
      if (next !== item) {
        content ??= items.slice();
        content[i] = next;
      }
    }
    const sc = result.structuredContent === undefined ? undefined : (r.value(result.structuredContent) as JsonObject);
    const n = r.count;
    r.count = 0;
    if (content === undefined && sc === result.structuredContent) return result;
    if (n > 0) {
      call.notes.redactions = n;
      this.counter.inc({ tool: call.tool.name, rule: "redact", action: "redacted" }, n);
    }
    const out: CallToolResult = { ...result, content: content ?? items };
    if (sc !== undefined) out.structuredContent = sc;
    return out;
  }

  private oversize(call: GuardedCall, total: number, max: number): CallToolResult {
    call.notes.guardrail = "size";
    this.counter.inc({ tool: call.tool.name, rule: "size", action: "error" });
    return toolError(`the result of ${call.tool.name} is ${total} bytes, over max_result_bytes (${max}); it was not passed on`, { [META_GUARDRAIL]: "size" });
  }

  private deny(call: GuardedCall, rule: string, message: string): CallToolResult {
    call.notes.guardrail = rule;
    this.counter.inc({ tool: call.tool.name, rule, action: "denied" });
    this.opts.logger.info("an MCP tool call was denied by a guardrail", { endpoint: this.opts.endpoint, tool: call.tool.name, rule, subject: call.caller.subject || undefined, request_id: call.requestId });
    return toolError(message, { [META_GUARDRAIL]: rule });
  }

  private rulesOf(tool: CatalogTool): ToolRules {
    let r = this.rules.get(tool);
    if (r === undefined) {
      r = this.compile(tool);
      this.rules.set(tool, r);
    }
    return r;
  }

  private compile(tool: CatalogTool): ToolRules {
    const c = this.opts.config;
    const own = this.opts.perTool(tool.entry.source.name, tool.upstreamName);
    let check: SchemaCheck | undefined;
    const schema = tool.definition.inputSchema;
    if ((own?.validate_arguments ?? c.validate_arguments) && schema !== null && typeof schema === "object" && !Array.isArray(schema)) {
      check = validatorFor(schema, (message) => this.opts.logger.warn("a tool's inputSchema cannot be compiled: its arguments are not checked", { endpoint: this.opts.endpoint, tool: tool.name, error: message }));
    }
    const fixed = tool.fixed === undefined ? undefined : Object.keys(tool.fixed);
    return {
      check,
      fixed: fixed !== undefined && fixed.length > 0 ? fixed : undefined,
      deny: this.denyRules.filter((d) => d.appliesTo(tool.name)),
      redactor: own?.redact === false ? undefined : this.redactor,
      maxBytes: own?.max_result_bytes ?? c.max_result_bytes,
      onOversize: own?.on_oversize ?? c.on_oversize,
      structuredFirst: tool.definition.outputSchema !== undefined,
    };
  }
}

/** The arguments without some names (a copy only when one is there). */
function without(args: JsonObject, names: readonly string[]): JsonObject {
  let out: JsonObject | undefined;
  for (const n of names) {
    if (!Object.hasOwn(args, n)) continue;
    out ??= { ...args };
    delete out[n];
  }
  return out ?? args;
}

/** The guardrails of one endpoint: always on (their defaults check arguments, redact secrets and cap results at 1 MiB). */
export function createGuardrailsGuard(deps: GuardDeps): CallGuard | undefined {
  const sources = deps.config.mcp.sources;
  return new GuardrailsGuard({
    config: deps.config.mcp.guardrails,
    perTool: (source, tool) => sources[source]?.per_tool?.[tool] as GuardrailsPerTool | undefined,
    logger: deps.logger,
    metrics: deps.metrics,
    endpoint: deps.route.name,
  });
}
