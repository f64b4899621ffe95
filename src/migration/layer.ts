/**
 * The migration layer: for a route with a candidate, decides which side
 * serves the request (the stage in force, the canary's sticky assignment, or
 * X-Ficus-Force), points the exchange at that side's upstream, and — in the
 * stages that compare — attaches a tap that mirrors the request to the other
 * side and compares the two answers once the client has its own. The proxy
 * knows none of this: it forwards to `ex.upstream` and feeds the taps.
 */
import { CopyingTap } from "../pipeline/copying-tap.ts";
import type { Exchange, Reply } from "../pipeline/exchange.ts";
import { getField, lowerPairs } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { Metrics } from "../observability/metrics.ts";
import { assign, forcedSide, type Side } from "./canary.ts";
import type { MigrationRoute, MigrationRoutes } from "./routes.ts";
import type { Shadow, ShadowCall } from "./shadow.ts";

/** Legacy answers up to this size are kept for comparison; larger ones are skipped as streamed. */
const COMPARE_BODY_MAX = 256 * 1024;

export class MigrationLayer implements Layer {
  readonly name = "migration";
  /** The migrated routes of the current route table (swapped with it). */
  routes: MigrationRoutes = new Map();
  /** The mirror, once a route has a candidate (the migration code is loaded on demand). */
  shadow: Shadow | undefined;

  constructor(private readonly metrics: Metrics) {}

  request(ex: Exchange): undefined {
    if (this.routes.size === 0) return undefined;
    const route = ex.route;
    const mr = route === undefined ? undefined : this.routes.get(route.name);
    if (mr === undefined) return undefined;
    const stage = mr.live.stage;
    let side: Side = stage === "candidate" ? "candidate" : "legacy";
    if (stage === "canary") side = assign(mr.canary, mr.canaryState, ex.fields, ex.peer.address);
    if (mr.allowForce) side = forcedSide(getField(ex.fields, "x-ficus-force") ?? null) ?? side;
    ex.side = side;
    ex.upstream = side === "candidate" ? mr.candidatePool : mr.legacyPool;
    const compares = stage === "shadow" || stage === "canary" || (stage === "candidate" && mr.shadow.config.after_cutover > 0);
    const shadow = this.shadow;
    if (!compares || shadow === undefined) return undefined;
    const body = ex.body;
    if (shadow.decide(mr, ex.method, body === undefined ? 0 : body.length, body !== undefined && body.length < 0) !== "go") return undefined;
    const tap = new ShadowTap(shadow, mr, ex, side);
    ex.tap(tap);
    return undefined;
  }

  response(ex: Exchange, reply: Reply): void {
    if (!ex.fromUpstream || this.routes.size === 0 || ex.route === undefined) return;
    const mr = this.routes.get(ex.route.name);
    if (mr === undefined || !mr.servedByHeader) return;
    reply.fields.push("x-ficus-served-by", ex.side);
    this.metrics.served.inc({ route: mr.name, side: ex.side });
  }
}

/** Copies what one side is sent and answers, and hands the pair to the Shadow. */
class ShadowTap extends CopyingTap {
  private call: ShadowCall | undefined;
  private readonly t0 = performance.now();
  private ended = false;

  constructor(
    private readonly shadow: Shadow,
    private readonly mr: MigrationRoute,
    private readonly ex: Exchange,
    private readonly side: Side,
  ) {
    super(COMPARE_BODY_MAX);
  }

  startMirror(): void {
    if (this.call !== undefined || this.ended) return;
    const ex = this.ex;
    const body = this.sawRequestBody ? (this.request.bytes().buffer as ArrayBuffer) : undefined;
    this.call = this.shadow.start(this.mr, ex.method, ex.upstreamTarget, ex.fields, body, this.side);
  }

  /** A request without a body is mirrored once legacy's request is on its way; one with a body once it was forwarded whole. */
  requestStart(): void {
    if (this.ex.body === undefined) this.startMirror();
  }

  requestEnd(): void {
    this.startMirror();
  }

  complete(): void {
    if (this.ended) return;
    if (this.call === undefined) this.startMirror();
    this.ended = true;
    const call = this.call as ShadowCall;
    if (this.response.tooLarge) return call.skip("legacy_streamed");
    call.complete({ status: this.status, headers: lowerPairs(this.fields), body: this.response.bytes(), durationMs: performance.now() - this.t0 });
  }

  skip(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.call !== undefined) this.call.skip("legacy_failed");
    else this.shadow.skipUnstarted(this.mr, "legacy_failed");
  }
}
