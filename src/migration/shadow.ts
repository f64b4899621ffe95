/**
 * The shadow stage: mirror a request to the candidate while legacy serves it,
 * then compare the two answers off the client's path.
 *
 * The client always gets legacy's response, unchanged and never delayed: the
 * candidate call starts alongside the legacy call, has its own timeout and a
 * per-route concurrency cap (past it the copy is dropped and counted, never
 * queued), and the comparison runs after the client has its answer. Sampling
 * is deterministic: every k-th request for a fraction 1/k (an accumulator, so
 * any fraction is exact over time). Unsafe methods are mirrored only when the
 * route allows it.
 */
import type { UpstreamPool } from "../upstream/pool.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { MigrationRoute } from "./routes.ts";
import { lowerPairs } from "../pipeline/fields.ts";
import type { Side } from "./canary.ts";
import { readBody } from "../http1/body.ts";
import type { ClientExchange } from "../http1/client.ts";
import { TimerWheel } from "../http1/timers.ts";
import { type Answer, judgeAA, judgePair } from "./judge.ts";
import type { ResultsBuffer, SkipReason } from "./results.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** What the serving side produced, for comparison. */
export interface ServedAnswer {
  readonly status: number;
  /** [lowercase name, value] pairs, in the order received (as the mirror's answer is read). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  readonly durationMs: number;
}

interface CandidateAnswer {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: Uint8Array;
  readonly durationMs: number;
}

type CandidateOutcome = { readonly ok: true; readonly answer: CandidateAnswer } | { readonly ok: false; readonly timeout: boolean; readonly error: string };

export type ShadowDecision = "go" | "sampled_out" | SkipReason;

/** One mirrored request: the call to the other side in flight, waiting for the served answer. */
export class ShadowCall {
  private settled = false;

  constructor(
    private readonly shadow: Shadow,
    readonly route: MigrationRoute,
    /** Who served the client; the mirror went to the other side. */
    readonly servedBy: Side,
    readonly method: string,
    readonly path: string,
    /** The mirrored request's fields, flat (name, value, …), as sent. */
    readonly requestFields: readonly string[],
    readonly requestBody: ArrayBuffer | undefined,
    private readonly candidate: Promise<CandidateOutcome>,
    private readonly mirror: MirrorCancel,
    /** A second legacy call (A/A), for a share of mirrored safe requests. */
    private readonly aa: Promise<CandidateOutcome> | undefined,
  ) {}

  /** The served side answered in full: compare once the mirror has (never awaited by the client's response). */
  complete(served: ServedAnswer): void {
    if (this.settled) return;
    this.settled = true;
    // The comparison runs in a macrotask of its own, after I/O already waiting (other clients' answers).
    void Promise.all([this.candidate, this.aa]).then(([outcome, aa]) => setImmediate(() => this.shadow.conclude(this, served, outcome, aa)));
  }

  /** The served answer cannot be compared (failed, or streamed past the buffer): stop the mirror and count why. */
  skip(reason: SkipReason): void {
    if (this.settled) return;
    this.settled = true;
    this.mirror.cancel(false);
    void this.candidate.then(() => this.shadow.release(this.route));
    this.shadow.results.count(this.route.name, `skipped.${reason}`);
    this.shadow.metrics.shadowSkipped.inc({ route: this.route.name, reason });
  }
}

/** Ends a mirror's calls at once: its time limit passed, or the served answer cannot be compared. */
class MirrorCancel {
  cancelled = false;
  timedOut = false;
  readonly exchanges: ClientExchange[] = [];

  cancel(timeout: boolean): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.timedOut = timeout;
    for (const cx of this.exchanges) cx.abort(timeout ? "candidate timeout" : "mirror cancelled");
  }
}

export class Shadow {
  constructor(
    readonly results: ResultsBuffer,
    readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly wheel: TimerWheel = new TimerWheel(),
  ) {}

  /** Whether to mirror this request (counts the request, and the reason when not). */
  decide(route: MigrationRoute, method: string, contentLength: number, unsizedBody: boolean): ShadowDecision {
    const s = route.shadow;
    const name = route.name;
    this.results.count(name, "total");
    // After cutover the candidate serves everything; legacy still answers a sample for comparison.
    s.acc += route.live.stage === "candidate" ? s.config.after_cutover : s.config.sample;
    if (s.acc < 1) return "sampled_out";
    s.acc -= 1;
    let reason: SkipReason | undefined;
    if (!SAFE.has(method) && !s.config.allow_unsafe) reason = "unsafe_method";
    else if (unsizedBody || contentLength > s.config.max_body) reason = "body_too_large";
    else if (s.inflight >= s.config.max_concurrency) reason = "concurrency_limit";
    if (reason) {
      this.results.count(name, `skipped.${reason}`);
      this.metrics.shadowSkipped.inc({ route: name, reason });
      return reason;
    }
    return "go";
  }

  /**
   * Starts the mirror call to the side that is not serving: the candidate (and, for an A/A share of safe
   * requests, legacy a second time) when legacy serves; legacy when the candidate serves (canary).
   */
  start(route: MigrationRoute, method: string, pathAndQuery: string, headers: readonly string[], body: ArrayBuffer | undefined, servedBy: Side = "legacy"): ShadowCall {
    route.shadow.inflight++;
    this.results.count(route.name, "shadowed");
    const mirror = new MirrorCancel();
    // The candidate's time limit is a slot in the data plane's timing wheel, not a timer per call.
    const timer = this.wheel.arm(route.shadow.config.timeout, () => mirror.cancel(true));
    const pool = servedBy === "legacy" ? (route.candidatePool as UpstreamPool) : route.legacyPool;
    const { headers: h, outcome: candidate } = this.call(pool, method, pathAndQuery, headers, body, mirror, servedBy === "legacy");
    let aa: Promise<CandidateOutcome> | undefined;
    const s = route.shadow;
    if (servedBy === "legacy" && SAFE.has(method) && s.config.aa > 0) {
      s.aaAcc += s.config.aa;
      if (s.aaAcc >= 1) {
        s.aaAcc -= 1;
        aa = this.call(route.legacyPool, method, pathAndQuery, headers, body, mirror, false).outcome;
      }
    }
    void Promise.all([candidate, aa]).finally(() => timer.cancel());
    return new ShadowCall(this, route, servedBy, method, pathAndQuery, h, body, candidate, mirror, aa);
  }

  /**
   * One mirror call to an endpoint of `pool` over the same keep-alive connections legacy uses, reading the whole
   * answer; passive health only for the candidate. The request carries exactly legacy's fields (plus
   * X-Ficus-Shadow), so the two sides see the same request.
   */
  private call(pool: UpstreamPool, method: string, pathAndQuery: string, fields: readonly string[], body: ArrayBuffer | undefined, mirror: MirrorCancel, health: boolean) {
    const ep = pool.pick(Date.now());
    const sent = ["host", ep.host, ...fields, "x-ficus-shadow", "1"];
    const t0 = performance.now();
    const outcome: Promise<CandidateOutcome> = (async () => {
      const client = ep.client;
      if (client === undefined) return { ok: false as const, timeout: false, error: `endpoint ${ep.id} has no connection pool` };
      if (mirror.cancelled) return { ok: false as const, timeout: mirror.timedOut, error: "cancelled" };
      const cx = client.request({ method, target: ep.basePath + pathAndQuery, fields: sent, body: body === undefined ? undefined : new Uint8Array(body) });
      mirror.exchanges.push(cx);
      try {
        const res = await cx.response;
        const bytes = res.body === undefined ? new Uint8Array(0) : await readBody(res.body);
        if (health) pool.success(ep);
        return { ok: true as const, answer: { status: res.status, headers: lowerPairs(res.fields), body: bytes, durationMs: performance.now() - t0 } };
      } catch (err) {
        const timeout = mirror.timedOut;
        if (health && (!mirror.cancelled || timeout)) pool.failure(ep, Date.now());
        const e = err as { message?: string; reason?: string };
        return { ok: false as const, timeout, error: timeout ? "candidate timeout" : (e.message ?? e.reason ?? String(err)) };
      }
    })();
    return { headers: sent, outcome };
  }

  /** A request chosen for mirroring whose mirror never started (legacy failed before the body was read). */
  skipUnstarted(route: MigrationRoute, reason: SkipReason): void {
    this.results.count(route.name, `skipped.${reason}`);
    this.metrics.shadowSkipped.inc({ route: route.name, reason });
  }

  release(route: MigrationRoute): void {
    route.shadow.inflight--;
  }

  /** Compares and records; runs after the client was answered. */
  conclude(call: ShadowCall, served: ServedAnswer, outcome: CandidateOutcome, aa: CandidateOutcome | undefined): void {
    const route = call.route;
    this.release(route);
    const name = route.name;
    if (!outcome.ok && call.servedBy === "candidate") {
      // The mirror to legacy failed: nothing to compare the candidate's answer with.
      this.results.count(name, "skipped.legacy_failed");
      this.metrics.shadowSkipped.inc({ route: name, reason: "legacy_failed" });
      return;
    }
    const servedAnswer: Answer = served;
    // Orient the pair: "legacy" is always legacy's answer, whichever side served the client.
    const legacy = call.servedBy === "legacy" || !outcome.ok ? servedAnswer : outcome.answer;
    try {
      if (aa?.ok) judgeAA(this.results, name, legacy, aa.answer, route.compareRules);
      if (!outcome.ok) {
        const kind = outcome.timeout ? "candidate_timeout" : "candidate_error";
        this.results.count(name, kind);
        this.metrics.shadowCandidateErrors.inc({ route: name, kind: outcome.timeout ? "timeout" : "error" });
        return;
      }
      const candidate = call.servedBy === "legacy" ? outcome.answer : servedAnswer;
      this.metrics.shadowCandidateDuration.observe({ route: name }, candidate.durationMs / 1000);
      this.metrics.shadowCompared.inc({ route: name });
      const redactor = route.shadow.redactor;
      const request = { method: call.method, target: call.path, headers: pairs(call.requestFields), body: call.requestBody };
      const j = judgePair(this.results, name, legacy, candidate, route.compareRules, route.shadow.noise, (differences) =>
        redactor.sample(new Date().toISOString(), request, legacy, candidate, differences),
      );
      if (j.outcome === "incomplete") this.metrics.shadowSkipped.inc({ route: name, reason: "compare_budget" });
      else if (j.outcome === "noise_only") this.metrics.shadowNoise.inc({ route: name });
      else if (j.outcome === "mismatched") this.metrics.shadowMismatched.inc({ route: name, severity: j.severity });
    } catch (err) {
      this.logger.error("shadow comparison failed", { route: name, error: err });
    }
  }
}

/** A flat field list as [name, value] pairs. */
function pairs(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < fields.length; i += 2) out.push([fields[i] as string, fields[i + 1] as string]);
  return out;
}
