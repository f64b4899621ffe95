/**
 * The authentication layer: decides who is calling, for the routes with an
 * `auth:` policy, and keeps the answer in `ex.identity` for the layers after
 * it (authorization, rate limits, the access log). Runs after routing.
 *
 * On every request, whatever the route: incoming copies of every configured
 * identity header are removed, so a client cannot pose as someone through
 * them. Then, on a route with a policy, its methods are tried in order; the
 * first whose credential is present decides (a refused credential is a 401,
 * never a fall-through to the next method). With no credential: 401
 * FICUS_AUTH_MISSING in required mode, the anonymous identity in optional
 * mode. A verified identity sets the policy's identity headers upstream.
 *
 * No promise for a token in the verified cache, an API key, a certificate,
 * or any refusal that needs no signature check (see JwtVerifier.check).
 *
 * Reload: `replace(settings)` swaps the policies in place and keeps the key
 * stores (fetched keys) and verifiers (verified-token caches) whose settings
 * did not change.
 */
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Exchange, Reply } from "../pipeline/exchange.ts";
import { deleteField } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import { findApiKey } from "./api-keys.ts";
import { apiKey, bearerToken, identityHeaderValue } from "./credentials.ts";
import { AuthFailure, failureReply } from "./failure.ts";
import { ANONYMOUS, type Identity, type PeerCertificate } from "./identity.ts";
import { type FetchLike, KeyStore } from "./jwks.ts";
import { JwtVerifier } from "./jwt.ts";
import { authMetrics, type AuthMetrics, type RouteCounters, routeCounters } from "./metrics.ts";
import { mtlsIdentity } from "./mtls.ts";
import type { AuthSettings, PolicySettings } from "./settings.ts";

export interface AuthLayerOptions {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** ms since the epoch (tests move it). Default Date.now. */
  readonly clock?: () => number;
  /** How keys are fetched (default the global fetch). */
  readonly fetch?: FetchLike;
}

interface RouteAuth {
  readonly route: string;
  readonly policy: PolicySettings;
  readonly verifier: JwtVerifier | undefined;
  readonly count: RouteCounters;
}

const MISSING = new AuthFailure("missing", "no credential", undefined);
const UNKNOWN_API_KEY = new AuthFailure("invalid", "the API key is not known", "api_key");
const CERT_UNLISTED = new AuthFailure("invalid", "the client certificate is not accepted on this route", "mtls");
const CERT_EXPIRED = new AuthFailure("expired", "the client certificate expired", "mtls");
const INTERNAL = new AuthFailure("invalid", "the credential could not be verified", undefined);

export class AuthLayer implements Layer {
  readonly name = "auth";
  private readonly metrics: AuthMetrics;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly fetcher: FetchLike | undefined;
  private routes = new Map<string, RouteAuth>();
  private strip: readonly string[] = [];
  private stores = new Map<string, KeyStore>();
  private verifiers = new Map<string, JwtVerifier>();
  /** Identities of client certificates, per certificate object (one per connection) and policy. */
  private certIdentities = new WeakMap<PeerCertificate, Map<PolicySettings, Identity>>();

  constructor(settings: AuthSettings, options: AuthLayerOptions) {
    this.metrics = authMetrics(options.metrics);
    this.logger = options.logger;
    this.clock = options.clock ?? Date.now;
    this.fetcher = options.fetch;
    this.replace(settings);
  }

  /** Applies new settings (a reload); unchanged key sources and JWT settings keep their keys and caches. */
  replace(settings: AuthSettings): void {
    const stores = new Map<string, KeyStore>();
    const verifiers = new Map<string, JwtVerifier>();
    const routes = new Map<string, RouteAuth>();
    for (const [route, policy] of settings.routes) {
      let verifier: JwtVerifier | undefined;
      const jwt = policy.jwt;
      if (jwt !== undefined) {
        verifier = verifiers.get(jwt.id) ?? this.verifiers.get(jwt.id);
        if (verifier === undefined) {
          let store = stores.get(jwt.keys.id) ?? this.stores.get(jwt.keys.id);
          store ??= new KeyStore(jwt.keys, this.logger.child({ component: "auth" }), this.clock, this.fetcher);
          stores.set(jwt.keys.id, store);
          verifier = new JwtVerifier(jwt, store, this.clock);
        }
        verifiers.set(jwt.id, verifier);
        stores.set(jwt.keys.id, verifier.store);
      }
      routes.set(route, { route, policy, verifier, count: routeCounters(this.metrics, route) });
    }
    this.stores = stores;
    this.verifiers = verifiers;
    this.routes = routes;
    this.strip = settings.strip;
    this.certIdentities = new WeakMap();
  }

  /** Fetches every key set once (at start, so the first requests need not wait); resolves when all are settled. */
  async warm(): Promise<void> {
    await Promise.all([...this.stores.values()].map((s) => (s.loaded ? undefined : s.refresh())));
  }

  /** The key stores in use (for tests and the admin API). */
  keyStores(): readonly KeyStore[] {
    return [...this.stores.values()];
  }

  request(ex: Exchange): Reply | undefined | Promise<Reply | undefined> {
    const strip = this.strip;
    for (let i = 0; i < strip.length; i++) deleteField(ex.fields, strip[i] as string);
    const route = ex.route;
    if (route === undefined) return undefined;
    const ra = this.routes.get(route.name);
    if (ra === undefined) return undefined;
    const { policy } = ra;
    const methods = policy.methods;
    for (let i = 0; i < methods.length; i++) {
      const m = methods[i];
      if (m === "jwt") {
        const token = bearerToken(ex, policy.tokenFrom);
        if (token === undefined) continue;
        let r: Identity | AuthFailure | Promise<Identity | AuthFailure>;
        try {
          r = (ra.verifier as JwtVerifier).check(token);
        } catch (err) {
          this.logger.error("authentication failed unexpectedly", { route: route.name, error: err });
          r = INTERNAL;
        }
        if (r instanceof Promise) {
          return r.then(
            (o) => this.finish(ex, ra, o),
            (err: unknown) => {
              this.logger.error("authentication failed unexpectedly", { route: route.name, error: err });
              return this.finish(ex, ra, INTERNAL);
            },
          );
        }
        return this.finish(ex, ra, r);
      }
      if (m === "api_key") {
        const s = policy.apiKey;
        const key = s === undefined ? undefined : apiKey(ex, s);
        if (key === undefined || s === undefined) continue;
        return this.finish(ex, ra, findApiKey(s.entries, key) ?? UNKNOWN_API_KEY);
      }
      const cert = ex.peerCertificate;
      if (cert === undefined || policy.mtls === undefined) continue;
      return this.finish(ex, ra, this.certIdentity(policy, cert));
    }
    if (policy.mode === "optional") {
      ex.identity = ANONYMOUS;
      ra.count.anonymous.inc();
      return undefined;
    }
    return this.finish(ex, ra, MISSING);
  }

  private certIdentity(policy: PolicySettings, cert: PeerCertificate): Identity | AuthFailure {
    let perPolicy = this.certIdentities.get(cert);
    const known = perPolicy?.get(policy);
    if (known !== undefined && (known.expiresAt ?? Infinity) > this.clock()) return known;
    const r = mtlsIdentity(policy.mtls as NonNullable<PolicySettings["mtls"]>, cert, this.clock());
    if (r === "unlisted") return CERT_UNLISTED;
    if (r === "expired") return CERT_EXPIRED;
    if (perPolicy === undefined) {
      perPolicy = new Map();
      this.certIdentities.set(cert, perPolicy);
    }
    perPolicy.set(policy, r);
    return r;
  }

  private finish(ex: Exchange, ra: RouteAuth, o: Identity | AuthFailure): Reply | undefined {
    if (o instanceof AuthFailure) {
      ra.count[o.result].inc();
      if (o.result !== "missing") this.logger.debug("credential refused", { route: ra.route, policy: ra.policy.name, request_id: ex.id, result: o.result, method: o.method, reason: o.description });
      return failureReply(ex, ra.policy.challenges, o);
    }
    ex.identity = o;
    ra.count.ok.inc();
    const headers = ra.policy.headers;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i] as PolicySettings["headers"][number];
      const v = identityHeaderValue(h, o);
      if (v !== undefined) ex.fields.push(h.name, v);
    }
    return undefined;
  }
}
