/**
 * The signing keys of one token issuer: a JWK Set (RFC 7517) fetched from
 * `jwks_url`, or found by OpenID Connect discovery (`issuer` →
 * `/.well-known/openid-configuration` → `jwks_uri`, OIDC Discovery §4).
 *
 * Fetching is guarded, since a client controls when it happens (a token's
 * `kid`): at most one fetch per `refetchInterval` (however many unknown kids
 * arrive), concurrent askers share the fetch in flight, each fetch has a
 * timeout and a size cap, and a failed fetch keeps the keys already held —
 * a provider that is down or slow costs only new keys. Keys are imported
 * once, per algorithm of their type (RSA → RS*, PS*; EC P-256 → ES256 …;
 * OKP Ed25519 → EdDSA): symmetric keys are never imported, so a public key
 * can never be used as an HMAC secret. Lookups are synchronous.
 */
import { importJWK } from "jose";
import type { Logger } from "../observability/logger.ts";
import type { JwtAlgorithm } from "./schema.ts";

/** Where the keys come from and how they are fetched (compiled from the policy's `jwt`). */
export interface KeySourceSettings {
  /** Identifies the source and its fetch settings: policies with the same id share one store. */
  readonly id: string;
  readonly issuer: string | undefined;
  readonly jwksUrl: string | undefined;
  readonly timeout: number;
  readonly refetchInterval: number;
  readonly refreshInterval: number;
  readonly maxSize: number;
}

/** One key of the set, imported for each algorithm its type allows. */
export interface KeyEntry {
  /** The kid, or for a key without one a digest of its material; unique within a set. */
  readonly id: string;
  readonly kid: string | undefined;
  readonly byAlg: ReadonlyMap<string, CryptoKey>;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** The most keys taken from one set (a JWK Set of hundreds is an attack or a mistake). */
const MAX_KEYS = 100;

const RSA_ALGS: readonly JwtAlgorithm[] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const EC_ALGS: Readonly<Record<string, JwtAlgorithm>> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
const OKP_ALGS: Readonly<Record<string, readonly JwtAlgorithm[]>> = { Ed25519: ["EdDSA", "Ed25519"] };

/** The algorithms a JWK may verify, by its type and curve (and its own `alg`, when it names one). */
export function algorithmsOf(jwk: Record<string, unknown>): readonly JwtAlgorithm[] {
  let algs: readonly JwtAlgorithm[];
  if (jwk.kty === "RSA") algs = RSA_ALGS;
  else if (jwk.kty === "EC") algs = typeof jwk.crv === "string" && EC_ALGS[jwk.crv] !== undefined ? [EC_ALGS[jwk.crv] as JwtAlgorithm] : [];
  else if (jwk.kty === "OKP") algs = (typeof jwk.crv === "string" && OKP_ALGS[jwk.crv]) || [];
  else algs = []; // "oct" (HMAC secrets) and anything else: never
  if (jwk.alg !== undefined) algs = algs.filter((a) => a === jwk.alg);
  return algs;
}

/** The public members of a JWK (a private key published by mistake is used for its public half only). */
function publicPart(jwk: Record<string, unknown>): Record<string, unknown> {
  if (jwk.kty === "RSA") return { kty: "RSA", n: jwk.n, e: jwk.e };
  if (jwk.kty === "EC") return { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

async function importKey(jwk: Record<string, unknown>): Promise<KeyEntry | undefined> {
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) return undefined;
  if (jwk.kid !== undefined && typeof jwk.kid !== "string") return undefined;
  const byAlg = new Map<string, CryptoKey>();
  const pub = publicPart(jwk);
  for (const alg of algorithmsOf(jwk)) {
    try {
      const key = await importJWK(pub, alg);
      if (key instanceof CryptoKey) byAlg.set(alg, key);
    } catch {
      // a malformed key, or one this algorithm cannot use: skipped
    }
  }
  if (byAlg.size === 0) return undefined;
  const kid = jwk.kid as string | undefined;
  // A key without a kid is known by its material, so a rotated one counts as a new key.
  const id = kid ?? `#${Bun.CryptoHasher.hash("sha256", JSON.stringify(pub), "base64").slice(0, 22)}`;
  return { id, kid, byAlg };
}

/** Reads a response body up to `max` bytes; more is an error. */
async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "-1");
  if (declared > max) throw new Error(`the response is ${declared} bytes; the limit is ${max}`);
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      void reader.cancel().catch(() => undefined);
      throw new Error(`the response exceeds ${max} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class KeyStore {
  /** Bumped whenever the key set changes: cached tokens re-check their key then. */
  generation = 0;
  private entries: KeyEntry[] | undefined;
  private byKid = new Map<string, KeyEntry>();
  private ids = new Set<string>();
  private loadedAt = -Infinity;
  private lastAttempt = -Infinity;
  private inflight: Promise<void> | undefined;
  private discovered: string | undefined;
  private failing = false;
  /** Fetches made (discovery and JWK Set), for tests and logs. */
  fetches = 0;

  constructor(
    readonly source: KeySourceSettings,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    private readonly fetcher: FetchLike = fetch,
  ) {}

  /** Whether a key set was ever loaded. */
  get loaded(): boolean {
    return this.entries !== undefined;
  }

  get size(): number {
    return this.entries?.length ?? 0;
  }

  /** Ms until a fetch is allowed again (0: now). */
  retryAfter(): number {
    return Math.max(0, this.lastAttempt + this.source.refetchInterval - this.clock());
  }

  hasId(id: string): boolean {
    return this.ids.has(id);
  }

  /** The key for `kid` usable with `alg`, or undefined. Without a kid: every key usable with alg (maybe none). */
  find(kid: string | undefined, alg: string): KeyEntry | readonly KeyEntry[] | undefined {
    if (this.entries === undefined) return undefined;
    if (kid !== undefined) {
      const e = this.byKid.get(kid);
      return e !== undefined && e.byAlg.has(alg) ? e : undefined;
    }
    return this.entries.filter((e) => e.byAlg.has(alg));
  }

  /** Refreshes in the background when the set is older than refreshInterval (the current keys keep serving). */
  refreshIfStale(): void {
    if (this.entries !== undefined && this.inflight === undefined && this.clock() - this.loadedAt >= this.source.refreshInterval) void this.refresh();
  }

  /**
   * Fetches the key set, unless a fetch is in flight (its promise is returned: callers share it) or the last
   * one started less than refetchInterval ago (undefined: the caller decides with what it has). Never rejects.
   */
  refresh(): Promise<void> | undefined {
    if (this.inflight !== undefined) return this.inflight;
    const now = this.clock();
    if (now - this.lastAttempt < this.source.refetchInterval) return undefined;
    this.lastAttempt = now;
    const p = this.load().then(
      (n) => {
        if (this.failing || n.first) this.logger.info("signing keys loaded", { ...this.where(), keys: n.count });
        this.failing = false;
      },
      (err: unknown) => {
        if (!this.failing) this.logger.warn("signing keys could not be fetched; keeping the cached ones", { ...this.where(), error: errorText(err), cached_keys: this.size });
        this.failing = true;
        this.discovered = undefined;
      },
    );
    this.inflight = p.finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private where(): Record<string, string> {
    const w: Record<string, string> = {};
    if (this.source.issuer !== undefined) w.issuer = this.source.issuer;
    const url = this.source.jwksUrl ?? this.discovered;
    if (url !== undefined) w.jwks_url = url;
    return w;
  }

  private async getJson(url: string): Promise<unknown> {
    this.fetches++;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`no answer within ${this.source.timeout} ms`)), this.source.timeout);
    try {
      const res = await this.fetcher(url, { signal: ac.signal, headers: { accept: "application/json" }, redirect: "follow" });
      if (res.status !== 200) {
        void res.body?.cancel().catch(() => undefined);
        throw new Error(`${url} answered ${res.status}`);
      }
      const text = await readCapped(res, this.source.maxSize);
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${url} did not answer JSON`);
      }
    } catch (err) {
      if (ac.signal.aborted) throw new Error(`${url}: no answer within ${this.source.timeout} ms`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async jwksUrl(): Promise<string> {
    if (this.source.jwksUrl !== undefined) return this.source.jwksUrl;
    if (this.discovered !== undefined) return this.discovered;
    const issuer = this.source.issuer as string;
    // OIDC Discovery §4: the issuer without its trailing slash, then /.well-known/openid-configuration.
    const doc = await this.getJson(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
    if (doc === null || typeof doc !== "object") throw new Error("the discovery document is not a JSON object");
    const d = doc as Record<string, unknown>;
    // §4.3: the issuer in the document must be identical to the one the configuration names.
    if (d.issuer !== issuer) throw new Error(`the discovery document names issuer ${JSON.stringify(d.issuer)}, not ${JSON.stringify(issuer)}`);
    const uri = d.jwks_uri;
    if (typeof uri !== "string" || !/^https?:\/\/[^/?#]/.test(uri)) throw new Error("the discovery document has no http(s) jwks_uri");
    this.discovered = uri;
    return uri;
  }

  private async load(): Promise<{ count: number; first: boolean }> {
    const url = await this.jwksUrl();
    const set = await this.getJson(url);
    const keys = set !== null && typeof set === "object" ? (set as Record<string, unknown>).keys : undefined;
    if (!Array.isArray(keys)) throw new Error(`${url} is not a JWK Set (no keys array)`);
    const entries: KeyEntry[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < keys.length && entries.length < MAX_KEYS; i++) {
      const jwk = keys[i];
      if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) continue;
      const e = await importKey(jwk as Record<string, unknown>);
      if (e === undefined || seen.has(e.id)) continue; // a repeated kid: the first one wins
      seen.add(e.id);
      entries.push(e);
    }
    if (entries.length === 0) throw new Error(`${url} has no usable signing key`);
    const first = this.entries === undefined;
    const changed = first || entries.length !== this.entries?.length || entries.some((e) => !this.ids.has(e.id));
    this.entries = entries;
    this.byKid = new Map(entries.filter((e) => e.kid !== undefined).map((e) => [e.kid as string, e]));
    this.ids = seen;
    this.loadedAt = this.clock();
    if (changed) this.generation++;
    return { count: entries.length, first };
  }
}
