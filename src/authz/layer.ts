/**
 * The authorization layer: after authentication (which sets ex.identity),
 * decides whether the route's request may go on. A route's `authz` is
 * checked in order — required scopes (all), roles (any), claim conditions
 * (all), then its Rego policy — and every one must allow.
 *
 * - allow: the request continues; headers the policy's decision names are
 *   set on the upstream request.
 * - deny: 403 FICUS_AUTHZ_DENIED (or the policy's 4xx), with the rule that
 *   denied or the policy's message in the JSON error body.
 * - error (the policy raised, ran past its budget, or decided something of
 *   the wrong shape): 500 FICUS_AUTHZ_ERROR — fail closed — unless the route
 *   says on_error: allow.
 * - dry-run: the decision is evaluated, counted and logged, never enforced.
 *
 * Every decision is counted (ficus_authz_decisions_total), timed when a
 * policy ran (ficus_policy_eval_seconds), written to the decision log
 * (sampled), and kept in ex.decision for the access log. Policies are
 * synchronous: the layer never returns a promise.
 */
import { ANONYMOUS, type Identity } from "../auth/identity.ts";
import { fieldNameProblem, fieldValueProblem } from "../core/http-grammar.ts";
import type { Logger } from "../observability/logger.ts";
import { errorReply, type Exchange, type Reply } from "../pipeline/exchange.ts";
import { setField } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import { RegoError, toJSON, type Value } from "../policy/rego/index.ts";
import type { DecisionLog } from "./decision-log.ts";
import { buildInput } from "./input.ts";
import type { AuthzMetrics, DecisionResult, RouteAuthzMetrics } from "./metrics.ts";
import type { AuthzSettings, ClaimValue, RouteAuthz } from "./settings.ts";
import { kindOf } from "../core/describe.ts";

/** Fields a decision may not set: they frame the message or belong to one connection (RFC 9110 §7.6.1). */
const FRAMING_FIELDS = new Set(["connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer", "content-length", "host"]);
const MAX_MESSAGE = 1024;
const MAX_DECISION_HEADERS = 64;
/** One application log line per route at most this often about policy errors (every one is in the decision log). */
const ERROR_LOG_EVERY_MS = 10_000;

export interface AuthzLayerOptions {
  readonly metrics: AuthzMetrics;
  readonly log: DecisionLog;
  readonly logger: Logger;
}

/** What the checks decided, before it is enforced. */
interface Outcome {
  result: DecisionResult;
  status: number;
  /** For the client (the JSON error body). */
  message: string;
  /** For the decision log: the rule, the policy's message, or the error. */
  reason: string | undefined;
  headers: readonly (readonly [string, string])[] | undefined;
  /** RFC 6750 §3.1 insufficient_scope challenge, when a JWT lacked a scope. */
  challenge: string | undefined;
}

interface Entry {
  readonly authz: RouteAuthz;
  readonly metrics: RouteAuthzMetrics;
  lastErrorLog: number;
}

export class AuthzLayer implements Layer {
  readonly name = "authz";
  private entries = new Map<string, Entry>();
  private readonly metrics: AuthzMetrics;
  private readonly log: DecisionLog;
  private readonly logger: Logger;

  constructor(settings: AuthzSettings, options: AuthzLayerOptions) {
    this.metrics = options.metrics;
    this.log = options.log;
    this.logger = options.logger;
    this.replace(settings);
  }

  /** Swaps in the settings of a new configuration (reload); counts carry over per route name. */
  replace(settings: AuthzSettings): void {
    const entries = new Map<string, Entry>();
    for (const [name, authz] of settings.routes) entries.set(name, { authz, metrics: this.metrics.forRoute(name), lastErrorLog: 0 });
    this.entries = entries;
  }

  request(ex: Exchange): Reply | undefined {
    const route = ex.route;
    if (route === undefined) return undefined;
    const entry = this.entries.get(route.name);
    if (entry === undefined) return undefined;
    const a = entry.authz;
    const identity = ex.identity ?? ANONYMOUS;
    const start = performance.now();
    let out = checkRules(a, identity);
    let evaluated = false;
    if (out === undefined) {
      const p = a.policy;
      if (p === undefined) out = ALLOW;
      else {
        evaluated = true;
        try {
          const v = p.query.evaluateValue({ input: buildInput(ex, a, p.needs, identity), strict: p.strict, budget: p.budget });
          out = interpret(v);
        } catch (e) {
          out = policyFailure(e);
        }
      }
    }
    const elapsedMs = performance.now() - start;
    const durationUs = elapsedMs * 1000;
    const m = entry.metrics;
    m.count(out.result, a.dryRun);
    if (evaluated) m.eval.observe(elapsedMs / 1000);
    if (out.result === "error") this.logError(entry, out, ex);
    if (this.log.wants(out.result)) {
      this.log.write({
        requestId: ex.id,
        route: a.route,
        subject: identity.subject,
        identityMethod: identity.method,
        method: ex.method,
        path: ex.path,
        policy: a.policy?.ref,
        bundle: a.policy?.bundle,
        result: out.result,
        dryRun: a.dryRun,
        status: out.status,
        reason: out.reason,
        durationUs,
      });
    }

    if (out.result === "allow") {
      ex.decision = "allow";
      if (out.headers !== undefined && !a.dryRun) for (const [name, value] of out.headers) setField(ex.fields, name, value);
      return undefined;
    }
    if (a.dryRun) {
      ex.decision = out.result === "deny" ? "dry-run-deny" : "error";
      return undefined;
    }
    if (out.result === "error") {
      ex.decision = "error";
      if (a.failOpen) return undefined;
      ex.error = "FICUS_AUTHZ_ERROR";
      return errorReply("FICUS_AUTHZ_ERROR", "the authorization policy failed; the request is denied", ex.id);
    }
    ex.decision = "deny";
    ex.error = "FICUS_AUTHZ_DENIED";
    const reply = errorReply("FICUS_AUTHZ_DENIED", out.message, ex.id, out.challenge === undefined ? undefined : ["www-authenticate", out.challenge]);
    reply.status = out.status;
    return reply;
  }

  private logError(entry: Entry, out: Outcome, ex: Exchange): void {
    const now = performance.now();
    if (now - entry.lastErrorLog < ERROR_LOG_EVERY_MS && entry.lastErrorLog !== 0) return;
    entry.lastErrorLog = now;
    this.logger.warn("authorization policy failed", {
      route: entry.authz.route,
      request_id: ex.id,
      error: out.reason,
      on_error: entry.authz.dryRun ? "dry-run" : entry.authz.failOpen ? "allow" : "deny",
    });
  }
}

const ALLOW: Outcome = Object.freeze({ result: "allow", status: 200, message: "", reason: undefined, headers: undefined, challenge: undefined }) as Outcome;

function deny(message: string, reason: string = message, status = 403, challenge?: string): Outcome {
  return { result: "deny", status, message, reason, headers: undefined, challenge };
}

function failure(reason: string): Outcome {
  return { result: "error", status: 500, message: "", reason, headers: undefined, challenge: undefined };
}

/** The simple rules: every scope, one of the roles, every claim condition. */
export function checkRules(a: RouteAuthz, id: Identity): Outcome | undefined {
  for (const scope of a.scopes) {
    if (!id.scopes.includes(scope)) {
      return deny(`missing scope ${JSON.stringify(scope)}`, undefined, 403, id.method === "jwt" ? a.scopeChallenge : undefined);
    }
  }
  if (a.roles.length > 0) {
    let any = false;
    for (const role of a.roles) {
      if (id.roles.includes(role)) {
        any = true;
        break;
      }
    }
    if (!any) return deny(`needs one of the roles ${a.roles.join(", ")}`);
  }
  for (const c of a.claims) {
    if (!claimMatches(claimAt(id.claims, c.path), c.values)) return deny(`claim ${c.label} does not allow this request`);
  }
  return undefined;
}

function claimAt(claims: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const k of path) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A scalar claim must be one of the values; a list claim must hold one of them. */
function claimMatches(v: unknown, values: readonly ClaimValue[]): boolean {
  if (Array.isArray(v)) return v.some((x) => values.includes(x as ClaimValue));
  return (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && values.includes(v);
}

/** A decision: true, false, undefined, or {allow, status, message, headers}; any other shape is an error. */
export function interpret(v: Value | undefined): Outcome {
  if (v === true) return ALLOW;
  if (v === false || v === undefined) return deny("denied by policy", "policy decision: false");
  // Sets become arrays and numbers plain numbers: only an object decision stays an object.
  const d = toJSON(v) as Record<string, unknown>;
  if (d === null || typeof d !== "object" || Array.isArray(d)) return failure(`the decision is ${kindOf(d)}; expected a boolean or an object {allow, status, message, headers}`);
  for (const k of Object.keys(d)) if (k !== "allow" && k !== "status" && k !== "message" && k !== "headers") return failure(`the decision has an unknown key ${JSON.stringify(k)}; expected allow, status, message, headers`);
  const allow = d.allow;
  if (allow !== undefined && typeof allow !== "boolean") return failure(`the decision's allow is ${kindOf(allow)}; expected a boolean`);
  // The status is the denial's: an allow ignores it.
  const status = d.status ?? 403;
  if (allow !== true && (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 499)) {
    return failure(`the decision's status is ${JSON.stringify(status)}; expected a 4xx status`);
  }
  if (d.message !== undefined && typeof d.message !== "string") return failure(`the decision's message is ${kindOf(d.message)}; expected a string`);
  let message = d.message as string | undefined;
  if (message !== undefined && message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  let headers: [string, string][] | undefined;
  if (d.headers !== undefined) {
    const h = d.headers;
    if (typeof h !== "object" || h === null || Array.isArray(h)) return failure(`the decision's headers is ${kindOf(h)}; expected an object of header names to strings`);
    const entries = Object.entries(h as Record<string, unknown>);
    if (entries.length > MAX_DECISION_HEADERS) return failure(`the decision names ${entries.length} headers; at most ${MAX_DECISION_HEADERS}`);
    headers = [];
    for (const [name, value] of entries) {
      const problem = fieldNameProblem(name);
      if (problem !== undefined) return failure(`the decision's header name ${JSON.stringify(name)} ${problem}`);
      const lower = name.toLowerCase();
      if (FRAMING_FIELDS.has(lower)) return failure(`the decision may not set ${JSON.stringify(name)}: it frames the message or belongs to one connection`);
      if (typeof value !== "string") return failure(`the decision's header ${JSON.stringify(name)} is ${kindOf(value)}; expected a string`);
      const vp = fieldValueProblem(value);
      if (vp !== undefined) return failure(`the decision's header ${JSON.stringify(name)} ${vp}`);
      headers.push([lower, value]);
    }
  }
  if (allow !== true) return deny(message ?? "denied by policy", message ?? "policy decision: allow is not true", status as number);
  return headers === undefined || headers.length === 0 ? ALLOW : { result: "allow", status: 200, message: "", reason: undefined, headers, challenge: undefined };
}


function policyFailure(e: unknown): Outcome {
  if (e instanceof RegoError) return failure(`${e.code}: ${e.message}`);
  return failure(`FICUS_INTERNAL: ${e instanceof Error ? e.message : String(e)}`);
}
