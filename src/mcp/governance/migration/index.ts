/**
 * Governance part "migration": moving a federated MCP server to a rewritten
 * one (its `candidate`) as routes move — shadow, canary, promote, rollback —
 * under the migration name `mcp:<source>` (docs/mcp.md, "Migration").
 *
 * Per tool call of a migrating source, by the stage in force:
 * - legacy: the source serves; nothing else happens.
 * - shadow: the source serves; a read-only tool's call (annotated readOnlyHint
 *   and not destructiveHint — never a destructive or unannotated one) also goes
 *   to the candidate, started beside legacy's call with its own timeout and a
 *   per-source concurrency cap (past it the copy is dropped and counted), never
 *   delaying or failing the agent's call. The two results are compared off the
 *   call's path (answer.ts) and recorded like a route's pairs; a sampled share
 *   also goes to legacy twice (A/A) to learn noise.
 * - canary: a sticky share of callers (by principal, else address) is served
 *   by the candidate (`before` answers with its result; notes.side =
 *   "candidate"), the others by legacy; read-only calls are mirrored to the
 *   side that did not serve and compared.
 * - candidate: the candidate serves.
 *
 * The guard is the last of the chain (index.ts): what it answers passed the
 * policy, quota, cache and guardrails like the source's own result.
 */
import type { CallContext, CallToolResult, JsonObject } from "../../types.ts";
import type { CallEnd, CallGuard, GuardedCall } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { bucketOf, inCanary, type Side } from "../../../migration/canary.ts";
import { judgeAA, judgePair } from "../../../migration/judge.ts";
import type { Metrics } from "../../../observability/metrics.ts";
import type { Logger } from "../../../observability/logger.ts";
import { answerOf, mirrorable } from "./answer.ts";
import type { ResultsBuffer } from "../../../migration/results.ts";
import { MigrationHost, type SourceMigration } from "./host.ts";

/** What the guard reads: the migrating sources by name and where results go (a MigrationHost, shared by a service's endpoints). */
export interface MigrationState {
  readonly bySource: ReadonlyMap<string, SourceMigration>;
  readonly results: ResultsBuffer;
}

type Outcome = { readonly ok: true; readonly result: CallToolResult; readonly durationMs: number } | { readonly ok: false; readonly timeout: boolean; readonly error: string };

/** A mirror in flight for a call legacy serves: the candidate's (and an A/A second legacy) call. */
interface Pending {
  readonly m: SourceMigration;
  readonly t0: number;
  readonly mirror: Promise<Outcome>;
  readonly aa: Promise<Outcome> | undefined;
}

const encoder = new TextEncoder();

/** Calls one side with its own time limit (a mirror, or the candidate serving): failures are outcomes, never thrown. */
async function callSide(source: { call(tool: string, args: JsonObject, ctx: CallContext): Promise<CallToolResult> }, tool: string, args: JsonObject, timeoutMs: number, requestId: string): Promise<Outcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  const t0 = performance.now();
  try {
    const result = await source.call(tool, args, { signal, requestId });
    return { ok: true, result, durationMs: performance.now() - t0 };
  } catch (err) {
    return { ok: false, timeout: signal.aborted, error: err instanceof Error ? err.message : String(err) };
  }
}

export class MigrationGuard implements CallGuard {
  readonly name = "migration";
  private readonly pending = new WeakMap<GuardedCall, Pending>();

  constructor(
    private readonly host: MigrationState,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  before(call: GuardedCall): Promise<CallToolResult> | undefined {
    const m = this.host.bySource.get(call.tool.entry.source.name);
    if (m === undefined) return undefined;
    const stage = m.live.stage;
    if (stage === "legacy") return undefined;
    let side: Side = stage === "candidate" ? "candidate" : "legacy";
    if (stage === "canary") side = this.assign(m, call);
    call.notes.side = side;
    this.metrics.served.inc({ route: m.name, side });
    const mirror = (stage === "shadow" || stage === "canary") && this.decide(m, call.tool.definition.annotations);
    if (side === "legacy") {
      if (mirror) this.startMirror(m, call);
      return undefined;
    }
    return this.serveByCandidate(m, call, mirror);
  }

  after(call: GuardedCall, end: CallEnd): undefined {
    const p = this.pending.get(call);
    if (p === undefined) return undefined;
    this.pending.delete(call);
    if (end.kind !== "result") {
      // Legacy failed (a JSON-RPC error): nothing to compare the candidate's answer with.
      void p.mirror.then(() => this.release(p.m));
      this.skip(p.m, "legacy_failed");
      return undefined;
    }
    const served: Outcome = { ok: true, result: end.result, durationMs: performance.now() - p.t0 };
    const tool = call.tool.upstreamName;
    const args = call.args;
    void Promise.all([p.mirror, p.aa]).then(([mirror, aa]) => setImmediate(() => this.conclude(p.m, tool, args, "legacy", served, mirror, aa)));
    return undefined;
  }

  close(): void {}

  /** Canary: the caller's stable bucket against the percentage in force. */
  private assign(m: SourceMigration, call: GuardedCall): Side {
    const percent = m.canary.percent;
    if (percent <= 0) return "legacy";
    if (percent >= 100) return "candidate";
    const key = m.byAddress || call.caller.subject === "" ? call.caller.address : call.caller.subject;
    return inCanary(bucketOf(key, m.canary.salt), percent) ? "candidate" : "legacy";
  }

  /** Whether to mirror this call (counts it, and the reason when not). */
  private decide(m: SourceMigration, annotations: JsonObject | undefined): boolean {
    const s = m.shadow;
    const results = this.host.results;
    results.count(m.name, "total");
    s.acc += s.sample;
    if (s.acc < 1) return false;
    s.acc -= 1;
    if (!mirrorable(annotations)) {
      this.skip(m, "unsafe_method");
      return false;
    }
    if (s.inflight >= s.maxConcurrency) {
      this.skip(m, "concurrency_limit");
      return false;
    }
    s.inflight++;
    results.count(m.name, "shadowed");
    return true;
  }

  private skip(m: SourceMigration, reason: "unsafe_method" | "concurrency_limit" | "legacy_failed"): void {
    this.host.results.count(m.name, `skipped.${reason}`);
    this.metrics.shadowSkipped.inc({ route: m.name, reason });
  }

  private release(m: SourceMigration): void {
    m.shadow.inflight--;
  }

  /** Legacy serves: the candidate's copy starts now, beside legacy's call (and, for an A/A share, legacy's second one). */
  private startMirror(m: SourceMigration, call: GuardedCall): void {
    const s = m.shadow;
    const tool = call.tool.upstreamName;
    const mirror = callSide(m.candidate, tool, call.args, s.timeout, call.requestId);
    let aa: Promise<Outcome> | undefined;
    if (s.aa > 0) {
      s.aaAcc += s.aa;
      if (s.aaAcc >= 1) {
        s.aaAcc -= 1;
        aa = callSide(call.tool.entry.source, tool, call.args, s.timeout, call.requestId);
      }
    }
    this.pending.set(call, { m, t0: performance.now(), mirror, aa });
  }

  /** The candidate serves this call; legacy gets the mirror when the tool may be mirrored. */
  private async serveByCandidate(m: SourceMigration, call: GuardedCall, mirror: boolean): Promise<CallToolResult> {
    const tool = call.tool.upstreamName;
    const args = call.args;
    const legacy = mirror ? callSide(call.tool.entry.source, tool, args, m.shadow.timeout, call.requestId) : undefined;
    const served = await callSide(m.candidate, tool, args, m.callTimeout, call.requestId);
    if (legacy !== undefined) void legacy.then((l) => setImmediate(() => this.conclude(m, tool, args, "candidate", served, l, undefined)));
    if (served.ok) return served.result;
    // A tool that could not run is a tool error the agent can read and act on (as the endpoint says for a source).
    const why = served.timeout ? `the call took longer than ${m.callTimeout} ms (FICUS_MCP_CALL_TIMEOUT)` : served.error;
    return { content: [{ type: "text", text: `${call.tool.name}: ${why}` }], isError: true };
  }

  /** Compares and records a pair, after the agent has its answer. `servedBy` says which side `served` is. */
  private conclude(m: SourceMigration, tool: string, args: JsonObject, servedBy: Side, served: Outcome, other: Outcome, aa: Outcome | undefined): void {
    this.release(m);
    const name = m.name;
    const results = this.host.results;
    try {
      const legacyOutcome = servedBy === "legacy" ? served : other;
      const candidateOutcome = servedBy === "legacy" ? other : served;
      if (!legacyOutcome.ok) {
        results.count(name, "skipped.legacy_failed");
        this.metrics.shadowSkipped.inc({ route: name, reason: "legacy_failed" });
        return;
      }
      const legacy = answerOf(legacyOutcome.result, legacyOutcome.durationMs);
      if (aa?.ok) judgeAA(results, name, legacy, answerOf(aa.result, aa.durationMs), m.compareRules);
      if (!candidateOutcome.ok) {
        results.count(name, candidateOutcome.timeout ? "candidate_timeout" : "candidate_error");
        this.metrics.shadowCandidateErrors.inc({ route: name, kind: candidateOutcome.timeout ? "timeout" : "error" });
        return;
      }
      const candidate = answerOf(candidateOutcome.result, candidateOutcome.durationMs);
      this.metrics.shadowCandidateDuration.observe({ route: name }, candidate.durationMs / 1000);
      this.metrics.shadowCompared.inc({ route: name });
      const j = judgePair(results, name, legacy, candidate, m.compareRules, m.shadow.noise, (differences) =>
        m.redactor.sample(new Date().toISOString(), { method: "tools/call", target: `/${tool}`, headers: [["content-type", "application/json"]], body: encoder.encode(JSON.stringify(args)) }, legacy, candidate, differences),
      );
      if (j.outcome === "incomplete") this.metrics.shadowSkipped.inc({ route: name, reason: "compare_budget" });
      else if (j.outcome === "noise_only") this.metrics.shadowNoise.inc({ route: name });
      else if (j.outcome === "mismatched") this.metrics.shadowMismatched.inc({ route: name, severity: j.severity });
    } catch (err) {
      this.logger.error("MCP shadow comparison failed", { migration: name, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

export function createMigrationGuard(deps: GuardDeps): CallGuard | undefined {
  const sources = deps.config.mcp.sources;
  const served = deps.route.mcp?.sources ?? Object.keys(sources);
  if (!served.some((s) => sources[s]?.candidate !== undefined)) return undefined;
  return new MigrationGuard(MigrationHost.of(deps), deps.metrics, deps.logger);
}
