/**
 * Per-tool policy (docs/mcp.md, "Policy"): a Rego policy decides each
 * tools/call of an endpoint — allow, deny with a message the agent reads
 * (a tool error, never a protocol error), or allow with arguments merged
 * over the call's (a tenant forced to the caller's) — and which tools each
 * caller is shown in tools/list (a tool the caller may not call is never
 * listed). The policy is compiled once (src/authz's loading, bundle hash and
 * Rego engine), decisions are synchronous, counted
 * (ficus_mcp_policy_total), timed and written to the decision log.
 *
 * A policy error (a Rego error, a budget stop, a decision of the wrong
 * shape) denies unless on_error: allow. Dry run decides, logs and counts,
 * but never denies, rewrites or hides.
 *
 * List decisions are cached per endpoint by (caller, catalog version) in a
 * small LRU: lists are asked for often and a catalog is large.
 */
import type { Identity } from "../../../auth/identity.ts";
import { DecisionLog } from "../../../authz/decision-log.ts";
import { compileAuthz, compileDecisionLog, type CompiledPolicy } from "../../../authz/settings.ts";
import { ConfigError } from "../../../core/errors.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { CatalogTool, Registry } from "../../registry/registry.ts";
import type { CallToolResult } from "../../types.ts";
import { type Caller, type CallGuard, type GuardedCall, type GuardedItem, toolError } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { type Decision, evalFailure, interpret } from "./decision.ts";
import { itemInput, policyInput } from "./input.ts";
import { type EndpointPolicyMetrics, policyMetrics } from "./metrics.ts";
import type { McpPolicyConfig } from "./schema.ts";

export { interpret, type Decision } from "./decision.ts";
export { policyInput } from "./input.ts";

/** Entries of one endpoint's list-decision cache (callers × catalog versions). */
const LIST_CACHE = 256;
/** At most one application log line per endpoint this often about policy errors (each is in the decision log). */
const ERROR_LOG_EVERY_MS = 10_000;
/** Claims that change with every token of the same caller: left out of the list cache's identity fingerprint. */
const VOLATILE_CLAIMS = new Set(["exp", "iat", "nbf", "jti", "auth_time", "at_hash", "c_hash", "sid", "nonce"]);

/** The compiled policy of an endpoint, with what the guard needs of its config. */
export interface EndpointPolicy {
  readonly endpoint: string;
  readonly policy: CompiledPolicy;
  readonly dryRun: boolean;
  readonly failOpen: boolean;
}

/**
 * Compiles an endpoint's `mcp.policy` (files read relative to `baseDir`). Throws a ConfigError naming
 * routes[<endpoint>].mcp.policy for an unreadable file, bad data, or a module that does not parse or compile.
 */
export function compileEndpointPolicy(endpoint: string, p: McpPolicyConfig, baseDir: string): EndpointPolicy {
  const modules = p.module ?? p.modules ?? [];
  let compiled: CompiledPolicy | undefined;
  try {
    const s = compileAuthz(
      [
        {
          name: endpoint,
          authz: {
            scopes: [],
            roles: [],
            claims: [],
            policy: { module: modules, data: p.data, query: p.query, strict: p.strict, budget: p.budget },
            dry_run: p.dry_run,
            on_error: p.on_error,
            allow_headers: [],
            allow_query: [],
          },
        },
      ],
      { baseDir },
    );
    compiled = s.routes.get(endpoint)?.policy;
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.code, e.issues.map((i) => i.replace(`routes[${endpoint}].authz.policy`, `routes[${endpoint}].mcp.policy`)));
    throw e;
  }
  if (compiled === undefined) throw new ConfigError("FICUS_CONFIG_INVALID", [`routes[${endpoint}].mcp.policy: the policy did not compile`]);
  return { endpoint, policy: compiled, dryRun: p.dry_run, failOpen: p.on_error === "allow" };
}

export interface PolicyGuardOptions {
  readonly registry: Pick<Registry, "current">;
  readonly metrics: EndpointPolicyMetrics | undefined;
  readonly log: DecisionLog | undefined;
  readonly logger: Logger | undefined;
}

interface ListEntry {
  readonly version: number;
  readonly fingerprint: string;
  readonly tools: readonly CatalogTool[];
  /** The input list it was filtered from (the same array per catalog version and endpoint). */
  readonly from: readonly CatalogTool[];
}

const fingerprints = new WeakMap<Identity, string>();

/** What of an identity a list decision may depend on, without what changes with every token. */
function fingerprint(id: Identity | undefined): string {
  if (id === undefined) return "";
  let f = fingerprints.get(id);
  if (f === undefined) {
    const claims: Record<string, unknown> = {};
    for (const k of Object.keys(id.claims).sort()) if (!VOLATILE_CLAIMS.has(k)) claims[k] = id.claims[k];
    f = JSON.stringify([id.method, id.issuer, id.subject, id.scopes, id.roles, claims]);
    fingerprints.set(id, f);
  }
  return f;
}

export class PolicyGuard implements CallGuard {
  readonly name = "policy";
  private readonly lists = new Map<string, ListEntry>();
  private lastErrorLog = 0;

  constructor(
    readonly settings: EndpointPolicy,
    private readonly opts: PolicyGuardOptions,
  ) {}

  /** Decides one call or list entry (not enforced): the outcome, counted as it is. */
  decide(action: "call" | "list", tool: CatalogTool, call: GuardedCall | undefined, caller: Caller): Decision {
    const p = this.settings.policy;
    const start = performance.now();
    let d: Decision;
    try {
      const v = p.query.evaluateValue({ input: policyInput(action, this.settings.endpoint, tool, call?.args, caller.identity), strict: p.strict, budget: p.budget });
      d = interpret(v, tool.name);
    } catch (e) {
      d = evalFailure(e);
    }
    const elapsed = performance.now() - start;
    if (action === "call") {
      const m = this.opts.metrics;
      if (m !== undefined) {
        m.eval.observe(elapsed / 1000);
        m.count(tool.name, d.result === "deny" && this.settings.dryRun ? "dry_run_deny" : d.result);
      }
    }
    if (d.result === "error") this.logError(d, call?.requestId ?? "", tool.name);
    const log = this.opts.log;
    // Every call decision (sampled allows); of list decisions only denials and errors (a list decides each tool).
    if (log !== undefined && (action === "call" || d.result !== "allow") && log.wants(d.result)) this.logDecision(call?.requestId ?? "", caller, action === "call" ? "tools/call" : "tools/list", tool.name, d, elapsed * 1000);
    return d;
  }

  before(call: GuardedCall): CallToolResult | undefined {
    const d = this.decide("call", call.tool, call, call.caller);
    if (d.result === "allow") {
      call.notes.decision = "allow";
      if (d.rewrite !== undefined && !this.settings.dryRun) call.args = { ...call.args, ...d.rewrite };
      return undefined;
    }
    if (this.settings.dryRun) {
      call.notes.decision = d.result === "deny" ? "dry-run-deny" : "error";
      return undefined;
    }
    if (d.result === "error") {
      call.notes.decision = "error";
      if (this.settings.failOpen) return undefined;
      return toolError(`the policy of this endpoint failed; calling ${call.tool.name} is denied`);
    }
    call.notes.decision = "deny";
    return toolError(d.message);
  }

  /** One line of the decision log (shared with the routes' authorization). */
  private logDecision(requestId: string, caller: Caller, method: string, path: string, d: Decision, durationUs: number): void {
    const p = this.settings.policy;
    this.opts.log?.write({
      requestId,
      route: this.settings.endpoint,
      subject: caller.subject,
      identityMethod: caller.identity?.method ?? "anonymous",
      method,
      path,
      policy: p.ref,
      bundle: p.bundle,
      result: d.result,
      dryRun: this.settings.dryRun,
      status: 403,
      reason: d.reason,
      durationUs,
    });
  }

  /** Prompts and resources: the same policy, with input.prompt or input.resource (not cached: such lists are short). */
  allowsItem(caller: Caller, action: "list" | "get" | "read", item: GuardedItem): string | undefined {
    const p = this.settings.policy;
    let d: Decision;
    try {
      d = interpret(p.query.evaluateValue({ input: itemInput(action, this.settings.endpoint, item, caller.identity), strict: p.strict, budget: p.budget }), item.name);
    } catch (e) {
      d = evalFailure(e);
    }
    if (d.result === "error") this.logError(d, "", item.name);
    const log = this.opts.log;
    if (log !== undefined && (action !== "list" || d.result !== "allow") && log.wants(d.result)) {
      this.logDecision("", caller, item.kind === "prompt" ? `prompts/${action}` : `resources/${action}`, item.kind === "prompt" ? item.name : item.uri, d, 0);
    }
    if (d.result === "allow" || this.settings.dryRun || (d.result === "error" && this.settings.failOpen)) return undefined;
    return d.result === "error" ? `the policy of this endpoint failed; ${item.kind === "prompt" ? item.name : item.uri} is denied` : d.message;
  }

  /** The tools this caller may call: each decided with action "list"; cached per caller and catalog version. */
  listTools(caller: Caller, tools: readonly CatalogTool[]): readonly CatalogTool[] {
    if (this.settings.dryRun) {
      // Decided (so denials are logged) only once per caller and version; nothing is hidden.
      this.filter(caller, tools);
      return tools;
    }
    return this.filter(caller, tools);
  }

  private filter(caller: Caller, tools: readonly CatalogTool[]): readonly CatalogTool[] {
    const version = this.opts.registry.current.version;
    const key = `${caller.identity?.method ?? "anonymous"}\u0000${caller.identity?.issuer ?? ""}\u0000${caller.subject}`;
    const fp = fingerprint(caller.identity);
    const hit = this.lists.get(key);
    if (hit !== undefined && hit.version === version && hit.fingerprint === fp && hit.from === tools) {
      // Most recently used last: a Map keeps insertion order.
      this.lists.delete(key);
      this.lists.set(key, hit);
      return hit.tools;
    }
    const out: CatalogTool[] = [];
    const failOpen = this.settings.failOpen;
    for (const t of tools) {
      const d = this.decide("list", t, undefined, caller);
      if (d.result === "allow" || (d.result === "error" && failOpen)) out.push(t);
    }
    this.lists.delete(key);
    if (this.lists.size >= LIST_CACHE) this.lists.delete(this.lists.keys().next().value as string);
    this.lists.set(key, { version, fingerprint: fp, tools: out, from: tools });
    return out;
  }

  private logError(d: Decision, requestId: string, tool: string): void {
    const logger = this.opts.logger;
    if (logger === undefined) return;
    const now = performance.now();
    if (this.lastErrorLog !== 0 && now - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    logger.warn("MCP tool policy failed", { endpoint: this.settings.endpoint, tool, request_id: requestId, error: d.reason, on_error: this.settings.dryRun ? "dry-run" : this.settings.failOpen ? "allow" : "deny" });
  }
}

/** One decision log per service (the endpoints' policies share it), from the top-level decision_log. */
function sharedDecisionLog(deps: GuardDeps): DecisionLog | undefined {
  const settings = compileDecisionLog(deps.config.decision_log);
  if (!settings.enabled) return undefined;
  const k = "policy:decision-log";
  let log = deps.shared.get(k) as DecisionLog | undefined;
  if (log === undefined) {
    log = new DecisionLog(settings);
    deps.shared.set(k, log);
    const l = log;
    deps.onClose(() => l.close());
  }
  return log;
}

export function createPolicyGuard(deps: GuardDeps): CallGuard | undefined {
  const p = deps.route.mcp?.policy;
  if (p === undefined) return undefined;
  const settings = compileEndpointPolicy(deps.route.name, p, deps.configDir);
  return new PolicyGuard(settings, {
    registry: deps.registry,
    metrics: policyMetrics(deps.metrics).forEndpoint(deps.route.name),
    log: sharedDecisionLog(deps),
    logger: deps.logger,
  });
}
