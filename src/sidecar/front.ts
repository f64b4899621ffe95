/**
 * The sidecar mode's front and its two layers. Ficus answers another
 * gateway's "allow or deny?" for each request with the same layers as in
 * proxy mode; only the two ends differ:
 *
 * - `handler(next)` wraps the engine handler of the HTTP/1.1 front: each
 *   check request becomes the original request it asks about
 *   (original-request.ts) before the Exchange is made, so request-id,
 *   limits, routing, observability and the enforcement layers all see the
 *   original method, path, host and client.
 * - `entry` (right after request-id) refuses a check request that names no
 *   request (400 FICUS_SIDECAR_BAD_REQUEST), removes incoming copies of the
 *   answer headers so a client cannot spoof them, and, for nginx, marks
 *   every denial with X-Ficus-Status and X-Ficus-Code: nginx's auth_request
 *   passes only 2xx, 401 and 403 on, and its error_page needs them to turn
 *   the 500 it makes of a 429 back into a 429 (examples/sidecar/nginx.conf).
 * - `answer` (last, in place of migration/record/upstream-request/forward):
 *   every enforcement layer let the request through, so 200 with an empty
 *   body and every answer header (the identity headers, the policy's
 *   headers) with the value the layers set, empty when none did, for the
 *   front to copy upstream.
 *
 * Denials are the layers' own replies (401/403/429/503 with their JSON
 * bodies, WWW-Authenticate, Retry-After): Caddy, Traefik and Envoy pass them
 * to the client as they are.
 */
import type { ServerRequest, ServerResponse } from "../http1/server.ts";
import { errorReply, type Exchange, type Reply } from "../pipeline/exchange.ts";
import { deleteField, nameEquals } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import { Counter, type Metrics } from "../observability/metrics.ts";
import { NO_ROUTE } from "../observability/layer.ts";
import { originalRequest, SidecarPeer } from "./original-request.ts";
import type { SidecarSettings } from "./settings.ts";

export type EngineHandler = (req: ServerRequest, res: ServerResponse) => void;

function result(status: number): "allow" | "deny" | "error" {
  if (status >= 200 && status < 300) return "allow";
  if (status === 401 || status === 403 || status === 429) return "deny";
  return status >= 400 && status < 500 && status !== 400 ? "deny" : "error";
}

export class Sidecar {
  /** Swapped whole on reload. */
  settings: SidecarSettings;
  readonly entry: Layer;
  readonly answer: Layer;
  private readonly checks: Counter<"route" | "front" | "result">;

  constructor(settings: SidecarSettings, metrics: Metrics) {
    this.settings = settings;
    this.checks = new Counter(metrics.registry, {
      name: "ficus_sidecar_checks_total",
      help: "Sidecar check requests answered, by route, front (nginx, caddy, traefik, envoy, or forwarded when auto found Caddy or Traefik) and result (allow, deny, error).",
      labelNames: ["route", "front", "result"] as const,
    });
    this.entry = {
      name: "sidecar-entry",
      request: (ex) => this.enter(ex),
      response: (ex, reply) => this.mark(ex, reply),
      done: (ex) => this.count(ex),
    };
    this.answer = { name: "sidecar-answer", request: (ex) => this.allow(ex) };
  }

  /** The engine handler for sidecar mode: check requests translated, then handed to `next` (Http1Front's handle). */
  handler(next: EngineHandler): EngineHandler {
    return (req, res) => next(originalRequest(req, this.settings), res);
  }

  private enter(ex: Exchange): Reply | undefined {
    const peer = ex.peer;
    if (!(peer instanceof SidecarPeer)) {
      // The layers run without the front that translates: deciding on the check request itself would be wrong.
      ex.error = "FICUS_INTERNAL";
      return errorReply("FICUS_INTERNAL", "the sidecar layers run without the sidecar front (Sidecar.handler)", ex.id);
    }
    if (peer.problem !== undefined) {
      ex.error = "FICUS_SIDECAR_BAD_REQUEST";
      return errorReply("FICUS_SIDECAR_BAD_REQUEST", `cannot tell which request to decide on: ${peer.problem}`, ex.id);
    }
    const names = this.settings.answerHeaders;
    for (let i = 0; i < names.length; i++) deleteField(ex.fields, names[i] as string);
    return undefined;
  }

  private mark(ex: Exchange, reply: Reply): void {
    const peer = ex.peer;
    if (!(peer instanceof SidecarPeer) || peer.front !== "nginx") return;
    if (reply.status >= 200 && reply.status < 300) return;
    reply.fields.push("x-ficus-status", String(reply.status));
    if (ex.error !== undefined) reply.fields.push("x-ficus-code", ex.error);
  }

  private allow(ex: Exchange): Reply {
    const names = this.settings.answerHeaders;
    const fields: string[] = [];
    const src = ex.fields;
    for (let j = 0; j < names.length; j++) {
      const lower = names[j] as string;
      let found = false;
      for (let i = 0; i < src.length; i += 2) {
        if (nameEquals(src[i] as string, lower)) {
          fields.push(lower, src[i + 1] as string);
          found = true;
        }
      }
      // Present though empty: a front that copies the header (Caddy's copy_headers, Envoy's allowed_upstream_headers,
      // Traefik's authResponseHeaders) then overwrites a client's copy instead of keeping it or copying a placeholder.
      if (!found) fields.push(lower, "");
    }
    return { status: 200, fields, body: undefined };
  }

  private count(ex: Exchange): void {
    const peer = ex.peer;
    const front = peer instanceof SidecarPeer ? peer.front : "none";
    this.checks.inc({ route: ex.route?.name ?? NO_ROUTE, front, result: result(ex.status) });
  }
}
