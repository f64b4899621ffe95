/**
 * The input document a route's Rego policy decides on (docs/security.md):
 *
 *   method, path, host, params, headers, query, identity, claims, peer, tls, route
 *
 * Only the sections the policy reads are built (settings.ts finds them in
 * the modules). What is the same across requests is converted to Rego values
 * once: an identity and its claims once per Identity object (the
 * authentication layer caches verified tokens, so a steady client costs a
 * WeakMap lookup), a client certificate once per certificate. Header names
 * that look secret (Authorization, Cookie, API keys, tokens, sessions: the
 * rules of src/core/secret-names.ts) are left out unless the route's
 * allow_headers lists them, and so are secret-looking query parameters.
 */
import type { Identity, PeerCertificate } from "../auth/identity.ts";
import type { Exchange } from "../pipeline/exchange.ts";
import { fromJSON, type Value } from "../policy/rego/index.ts";
import type { InputNeeds, RouteAuthz } from "./settings.ts";

const identityValues = new WeakMap<Identity, Value>();
const claimValues = new WeakMap<Identity, Value>();
const certValues = new WeakMap<PeerCertificate, Value>();
const TLS_OFF = fromJSON({ enabled: false });
const TLS_ON = fromJSON({ enabled: true });
const EMPTY = fromJSON({});

/** input.identity: who is calling, without the claims (input.claims has them). */
export function identityValue(id: Identity): Value {
  let v = identityValues.get(id);
  if (v === undefined) {
    v = fromJSON({ subject: id.subject, method: id.method, issuer: id.issuer, scopes: id.scopes, roles: id.roles });
    identityValues.set(id, v);
  }
  return v;
}

function claimsValue(id: Identity): Value {
  let v = claimValues.get(id);
  if (v === undefined) {
    v = fromJSON(id.claims);
    claimValues.set(id, v);
  }
  return v;
}

function tlsValue(ex: Exchange): Value {
  if (!ex.tls) return TLS_OFF;
  const cert = ex.peerCertificate;
  if (cert === undefined) return TLS_ON;
  let v = certValues.get(cert);
  if (v === undefined) {
    v = fromJSON({
      enabled: true,
      peer_certificate: { subject: cert.subject, common_name: cert.commonName, sans: cert.sans, issuer: cert.issuer, fingerprint256: cert.fingerprint256, valid_to: cert.validTo },
    });
    certValues.set(cert, v);
  }
  return v;
}

/** Received header names → lower case; names come from traffic, so the cache is bounded. */
const lowerNames = new Map<string, string>();

function lowerName(name: string): string {
  let l = lowerNames.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (lowerNames.size < 4096) lowerNames.set(name, l);
  }
  return l;
}

/** input.headers: lower-cased names, repeated fields joined with ", " (Cookie with "; "), secret ones left out. */
export function headersObject(fields: readonly string[], r: RouteAuthz): Record<string, string> {
  // No prototype: "__proto__" is a valid field name and query name.
  const out = Object.create(null) as Record<string, string>;
  for (let i = 0; i < fields.length; i += 2) {
    const name = lowerName(fields[i] as string);
    if (r.secretHeader.matches(name)) continue;
    const value = fields[i + 1] as string;
    const prev = out[name] as string | undefined;
    out[name] = prev === undefined ? value : `${prev}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return out;
}

function decode(s: string): string {
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s;
  const plus = s.replaceAll("+", " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** input.query: name → every value, in order (application/x-www-form-urlencoded decoding), secret names left out. */
export function queryObject(query: string, r: RouteAuthz): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  if (query.length <= 1) return out;
  let start = query.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    if (end > start) {
      const eq = query.indexOf("=", start);
      const hasValue = eq >= 0 && eq < end;
      const name = decode(query.slice(start, hasValue ? eq : end));
      if (!r.secretQuery.matches(name)) {
        const value = hasValue ? decode(query.slice(eq + 1, end)) : "";
        const list = out[name] as string[] | undefined;
        if (list === undefined) out[name] = [value];
        else list.push(value);
      }
    }
    start = end + 1;
  }
  return out;
}

/** The input document for one request, with the sections `needs` names (a plain object whose parts may be Rego values). */
export function buildInput(ex: Exchange, r: RouteAuthz, needs: InputNeeds, identity: Identity): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (needs.method) input.method = ex.method;
  if (needs.path) input.path = ex.path;
  if (needs.host) input.host = ex.host;
  if (needs.params) input.params = ex.params ?? EMPTY;
  if (needs.headers) input.headers = headersObject(ex.fields, r);
  if (needs.query) input.query = queryObject(ex.query, r);
  if (needs.identity) input.identity = identityValue(identity);
  if (needs.claims) input.claims = claimsValue(identity);
  if (needs.peer) input.peer = { address: ex.peer.address, port: ex.peer.port };
  if (needs.tls) input.tls = tlsValue(ex);
  if (needs.route) input.route = r.route;
  return input;
}
