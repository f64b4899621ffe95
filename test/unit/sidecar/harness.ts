/**
 * A sidecar data plane assembled as the gateway will (request-id, sidecar
 * entry, limits, routing, observability, the enforcement layers given, the
 * answer) over Ficus's own HTTP/1.1 engine on 127.0.0.1:0, and small
 * enforcement layers standing in for src/auth, src/authz and src/ratelimit:
 * they answer the way the real ones do (status, code, WWW-Authenticate,
 * Retry-After), so the fronts are tested against the real contract.
 */
import { parseConfig } from "../../../src/config/load.ts";
import { listen, type Http1Server } from "../../../src/http1/server.ts";
import { TimerWheel } from "../../../src/http1/timers.ts";
import { AccessLog } from "../../../src/observability/access-log.ts";
import { ObservabilityLayer } from "../../../src/observability/layer.ts";
import { createLogger, type Logger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { errorReply, type Exchange, type Reply } from "../../../src/pipeline/exchange.ts";
import { deleteField, getField } from "../../../src/pipeline/fields.ts";
import type { Layer } from "../../../src/pipeline/layer.ts";
import { LimitsLayer } from "../../../src/pipeline/layers/limits.ts";
import { requestIdLayer } from "../../../src/pipeline/layers/request-id.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import { RoutingLayer } from "../../../src/routing/layer.ts";
import { buildRouteTable } from "../../../src/routing/route-table.ts";
import { Http1Front } from "../../../src/server/http1-front.ts";
import { engineErrorResponse } from "../../../src/server/engine-errors.ts";
import { Sidecar } from "../../../src/sidecar/front.ts";
import { sidecarSchema } from "../../../src/sidecar/schema.ts";
import { compileSidecar } from "../../../src/sidecar/settings.ts";

export interface SidecarServer {
  readonly port: number;
  readonly url: string;
  readonly sidecar: Sidecar;
  readonly metrics: Metrics;
  /** Every exchange that ended, as the layers saw it (method, path, host, peer). */
  readonly seen: { method: string; path: string; query: string; host: string; peer: string; tls: boolean; status: number; route: string | undefined }[];
  stop(): Promise<void>;
}

/** The routes every sidecar test uses: public (no auth), orders (auth), admin (auth + scope admin), limited (auth + 2 requests). */
export const ROUTES_YAML = `
routes:
  - name: public
    match: { prefix: /public }
    upstream: http://127.0.0.1:9
  - name: admin
    match: { prefix: /admin }
    upstream: http://127.0.0.1:9
  - name: limited
    match: { prefix: /limited }
    upstream: http://127.0.0.1:9
  - name: orders
    match: { prefix: /orders }
    upstream: http://127.0.0.1:9
  - name: by-host
    match: { host: api.example.com, prefix: /only }
    upstream: http://127.0.0.1:9
`;

export async function startSidecar(opts: { sidecar?: unknown; layers?: Layer[]; logger?: Logger; routesYaml?: string } = {}): Promise<SidecarServer> {
  const loaded = parseConfig(`listen: 127.0.0.1:0\n${opts.routesYaml ?? ROUTES_YAML}`, "sidecar-test.yaml", {});
  const metrics = new Metrics();
  const logger = opts.logger ?? createLogger("error");
  const table = buildRouteTable(loaded.config, metrics);
  const sidecar = new Sidecar(compileSidecar(sidecarSchema.parse(opts.sidecar ?? {}), ["X-Ficus-Subject", "X-Ficus-Scopes"]), metrics);
  const seen: SidecarServer["seen"] = [];
  const witness: Layer = {
    name: "witness",
    done: (ex) => {
      seen.push({ method: ex.method, path: ex.path, query: ex.query, host: ex.host, peer: ex.peer.address, tls: ex.tls, status: ex.status, route: ex.route?.name });
    },
  };
  const pipeline = new Pipeline(
    [
      requestIdLayer,
      sidecar.entry,
      new LimitsLayer(table.limits),
      new RoutingLayer(table),
      new ObservabilityLayer(metrics, new AccessLog({ enabled: false, sample: 1, output: "stdout" }), undefined),
      witness,
      ...(opts.layers ?? testEnforcement()),
      sidecar.answer,
    ],
    logger,
  );
  const front = new Http1Front(pipeline, logger);
  const wheel = new TimerWheel();
  const server: Http1Server = listen({ hostname: "127.0.0.1", port: 0, wheel, handler: sidecar.handler(front.handle), errorResponse: engineErrorResponse });
  return {
    port: server.port,
    url: `http://127.0.0.1:${server.port}`,
    sidecar,
    metrics,
    seen,
    async stop() {
      await server.close(1000);
      wheel.clear();
    },
  };
}

const ENCODER = new TextEncoder();

/**
 * Test stand-ins for the enforcement layers (never product code):
 * - auth: every route but "public" needs "Authorization: Bearer <subject>[:<scope>,<scope>]" → identity,
 *   X-Ficus-Subject and X-Ficus-Scopes set upstream (incoming copies removed first); else 401 + WWW-Authenticate;
 * - authz: route "admin" needs scope admin → else 403 FICUS_AUTHZ_DENIED;
 * - rate limit: route "limited" admits 2 requests, then 429 FICUS_RATE_LIMITED with Retry-After.
 */
export function testEnforcement(limit = 2): Layer[] {
  const auth: Layer = {
    name: "test-auth",
    request(ex: Exchange): Reply | undefined {
      deleteField(ex.fields, "x-ficus-subject");
      deleteField(ex.fields, "x-ficus-scopes");
      if (ex.route?.name === "public") return undefined;
      const h = getField(ex.fields, "authorization");
      const m = h === undefined ? null : /^Bearer ([a-z0-9.-]+)(?::([a-z:,]*))?$/i.exec(h);
      if (m === null) {
        ex.error = h === undefined ? "FICUS_AUTH_MISSING" : "FICUS_AUTH_INVALID";
        const challenge = h === undefined ? 'Bearer realm="ficus"' : 'Bearer realm="ficus", error="invalid_token", error_description="malformed token"';
        return errorReply(ex.error, h === undefined ? "a bearer token is required" : "the token is malformed", ex.id, ["www-authenticate", challenge]);
      }
      const scopes = m[2] ? m[2].split(",") : [];
      ex.identity = { method: "jwt", subject: m[1] as string, issuer: "test", scopes, roles: [], claims: { sub: m[1] } };
      ex.fields.push("X-Ficus-Subject", m[1] as string, "X-Ficus-Scopes", scopes.join(" "));
      return undefined;
    },
  };
  const authz: Layer = {
    name: "test-authz",
    request(ex: Exchange): Reply | undefined {
      if (ex.route?.name !== "admin") return undefined;
      if (ex.identity?.scopes.includes("admin")) {
        ex.decision = "allow";
        return undefined;
      }
      ex.decision = "deny";
      ex.error = "FICUS_AUTHZ_DENIED";
      return errorReply("FICUS_AUTHZ_DENIED", "scope admin is required", ex.id);
    },
  };
  let admitted = 0;
  const rate: Layer = {
    name: "test-ratelimit",
    request(ex: Exchange): Reply | undefined {
      if (ex.route?.name !== "limited") return undefined;
      if (++admitted <= limit) return undefined;
      ex.error = "FICUS_RATE_LIMITED";
      return errorReply("FICUS_RATE_LIMITED", "the route's limit of 2 requests is reached", ex.id, ["retry-after", "7", "ratelimit-policy", '"route";q=2;w=60', "ratelimit", '"route";r=0;t=7']);
    },
  };
  return [auth, authz, rate];
}

/** A small real upstream (Bun.serve): answers 200 with the request it got as JSON (method, url, headers). */
export function startEchoUpstream(): { url: string; port: number; stop(): void } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        headers[k] = v;
      });
      const u = new URL(req.url);
      return new Response(ENCODER.encode(JSON.stringify({ method: req.method, path: u.pathname + u.search, headers })), { headers: { "content-type": "application/json" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, port: server.port as number, stop: () => server.stop(true) };
}
