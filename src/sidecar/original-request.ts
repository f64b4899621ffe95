/**
 * The request a front asks about, read from its check request. A front does
 * not forward the client's request: it sends a subrequest of its own and
 * names the original in headers, each front in its own way:
 *
 * - nginx `auth_request`: X-Original-Method and X-Original-URI, set by the
 *   `proxy_set_header` lines of examples/sidecar/nginx.conf; the Host as
 *   `proxy_set_header Host $host` sets it.
 * - Caddy `forward_auth` and Traefik `forwardAuth`: X-Forwarded-Method,
 *   X-Forwarded-Uri, X-Forwarded-Host (else Host), X-Forwarded-Proto.
 * - Envoy `ext_authz` (HTTP service): the check request's own method, Host
 *   and path, the configured path_prefix removed.
 *
 * The client's address comes from X-Forwarded-For, and the scheme from
 * X-Forwarded-Proto, only on connections from a trusted front: anyone else
 * could write them. The translation is a new engine request, so the
 * Exchange is built from it exactly as in proxy mode (the same path
 * normalization, the same host parsing) and every layer sees the original.
 */
import { isToken } from "../core/http-grammar.ts";
import type { ServerRequest } from "../http1/server.ts";
import { getField, nameEquals } from "../pipeline/fields.ts";
import type { Peer } from "../pipeline/exchange.ts";
import { clientFromForwardedFor } from "./addresses.ts";
import type { SidecarSettings } from "./settings.ts";

/** Which contract a check request followed: a configured front, or what auto found ("forwarded": Caddy or Traefik). */
export type FrontKind = "nginx" | "caddy" | "traefik" | "forwarded" | "envoy";

/**
 * The peer of a translated request: the client's address, and what the sidecar layers need to know of the
 * check (its front, or why it cannot be decided). The front keeps the peer object as the Exchange's peer.
 */
export class SidecarPeer implements Peer {
  constructor(
    readonly address: string,
    readonly port: number,
    readonly front: FrontKind,
    /** Why the check request cannot be decided (FICUS_SIDECAR_BAD_REQUEST), or undefined. */
    readonly problem: string | undefined,
  ) {}
}

const NGINX = { method: "x-original-method", uri: "x-original-uri" } as const;
const FORWARDED = { method: "x-forwarded-method", uri: "x-forwarded-uri" } as const;
/** Authority characters: reg-name, IPv4, [IPv6], port (RFC 3986 §3.2.2), and "_" as some fronts allow. */
const AUTHORITY = /^[A-Za-z0-9._~\-:[\]]{1,255}$/;

/** Origin-form: "/" then visible ASCII only (RFC 9112 §3.2.1). */
function originFormProblem(uri: string): string | undefined {
  if (uri.charCodeAt(0) !== 47 /* / */) return "is not a path (origin-form, starting with /)";
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return "holds a space, a control or a non-ASCII character";
  }
  return undefined;
}

/** The value of a field the front sets, when it appears exactly once (twice means something else wrote one too). */
function single(fields: readonly string[], lower: string): string | undefined | null {
  let value: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (!nameEquals(fields[i] as string, lower)) continue;
    if (value !== undefined) return null;
    value = fields[i + 1] as string;
  }
  return value;
}

/** The check request as it came (its peer carrying the problem): the entry layer answers it. */
function rejected(req: ServerRequest, front: FrontKind, problem: string): ServerRequest {
  return translated(req, req.method, req.target, req.authority, req.fields, new SidecarPeer(req.peer.address, req.peer.port, front, problem), req.tls);
}

/**
 * An engine request (the engine's own is a class with getters: never spread). Never the peer certificate: in
 * sidecar mode the TLS peer is the front, not the client, so an mTLS identity from it would be the front's.
 */
function translated(req: ServerRequest, method: string, target: string, authority: string, fields: readonly string[], peer: SidecarPeer, tls: boolean): ServerRequest {
  return {
    method,
    target,
    version: req.version,
    fields,
    authority,
    absoluteForm: target.charCodeAt(0) !== 47 && target !== "*" && method !== "CONNECT",
    peer,
    peerCertificate: undefined,
    tls,
    expectContinue: req.expectContinue,
    upgrade: undefined,
    body: req.body,
    receivedAt: req.receivedAt,
  };
}

/**
 * The original request of a check request, as an engine request: method, target, authority, peer, scheme
 * and fields rewritten, the front's own headers removed. When the check request does not name a request,
 * the result keeps the check request and its peer carries the problem (the entry layer answers 400).
 */
export function originalRequest(req: ServerRequest, s: SidecarSettings): ServerRequest {
  const fields = req.fields;
  let front: FrontKind;
  if (s.front === "auto") {
    const nginx = getField(fields, NGINX.uri) !== undefined;
    const forwarded = getField(fields, FORWARDED.uri) !== undefined;
    if (nginx && forwarded) return rejected(req, "nginx", "both X-Original-URI (nginx) and X-Forwarded-Uri (Caddy, Traefik) are present, so either could be the client's: set sidecar.front");
    if (!nginx && !forwarded) return rejected(req, "nginx", "no X-Original-URI (nginx) or X-Forwarded-Uri (Caddy, Traefik) names the request to decide on (for Envoy, set sidecar.front: envoy)");
    front = nginx ? "nginx" : "forwarded";
  } else front = s.front;

  let method = req.method;
  let target = req.target;
  let authority = req.authority;
  let consumed: readonly string[] = [];
  if (front === "envoy") {
    const prefix = s.pathPrefix;
    if (prefix !== "") {
      const rest = target.startsWith(prefix) ? target.slice(prefix.length) : "";
      if (rest.charCodeAt(0) !== 47 /* / */) return rejected(req, front, `the path does not start with sidecar.envoy_path_prefix ${JSON.stringify(prefix)} followed by /`);
      target = rest;
    }
  } else {
    const names = front === "nginx" ? NGINX : FORWARDED;
    const m = single(fields, names.method);
    const u = single(fields, names.uri);
    const label = front === "nginx" ? "X-Original" : "X-Forwarded";
    if (m === null || u === null) return rejected(req, front, `${m === null ? `${label}-Method` : `${label}-URI`} appears more than once`);
    if (m === undefined || u === undefined) return rejected(req, front, `${m === undefined ? `${label}-Method` : `${label}-URI`} is missing (the front's configuration must set it: docs/sidecar.md)`);
    if (!isToken(m) || m.length > 32) return rejected(req, front, `${label}-Method is not an HTTP method`);
    const problem = originFormProblem(u);
    if (problem !== undefined) return rejected(req, front, `${label}-URI ${problem}`);
    method = m;
    target = u;
    consumed = [names.method, names.uri];
    if (front !== "nginx") {
      const h = single(fields, "x-forwarded-host");
      if (h === null) return rejected(req, front, "X-Forwarded-Host appears more than once");
      if (h !== undefined) {
        if (!AUTHORITY.test(h)) return rejected(req, front, "X-Forwarded-Host is not a host");
        authority = h;
        consumed = [names.method, names.uri, "x-forwarded-host"];
      }
    }
  }

  // The client and the scheme: from the front's headers only when the connection is a trusted front's.
  let address = req.peer.address;
  let port = req.peer.port;
  let tls = req.tls;
  if (s.trusted.has(address)) {
    const xff = getField(fields, "x-forwarded-for");
    const client = xff === undefined ? undefined : clientFromForwardedFor(xff, s.trusted);
    if (client !== undefined) {
      address = client;
      port = 0;
    }
    const proto = getField(fields, "x-forwarded-proto");
    if (proto !== undefined) tls = proto.trim().toLowerCase() === "https";
  }

  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (consumed.length > 0 && consumed.some((c) => nameEquals(name, c))) continue;
    out.push(name, nameEquals(name, "host") ? authority : (fields[i + 1] as string));
  }
  return translated(req, method, target, authority, out, new SidecarPeer(address, port, front, undefined), tls);
}
