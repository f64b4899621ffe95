/**
 * Upstream credentials of a source (`sources.<s>.credentials`): what Ficus
 * sends as Authorization to the upstream, in place of the agent's token,
 * which never leaves the gateway (MCP authorization: no token passthrough).
 *
 * - bearer_env: a static secret read from the environment at load.
 * - client_credentials (RFC 6749 §4.4): a token of Ficus's own client,
 *   cached, renewed in the background before it expires, forgotten when the
 *   upstream answers 401 (the source then retries once with a new one).
 * - token_exchange (RFC 8693 §2): the caller's token (CallContext.subjectToken)
 *   exchanged at the authorization server for a token of the upstream's
 *   audience; cached per caller token until shortly before the new token
 *   expires. Requests made for no caller (a federated server's connection
 *   and list refreshes) use a client-credentials token of the same client,
 *   or none.
 *
 * The steady state is synchronous: a cached value is returned as a string,
 * with no promise. Token requests for one key are shared (one in flight).
 */
import { ConfigError, FicusError } from "../../../core/errors.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { UpstreamAuth } from "../../sources/http-invoke.ts";
import type { CallContext } from "../../types.ts";
import type { ClientCredentialsConfig, CredentialsConfig, TokenExchangeConfig } from "./schema.ts";

export type UpstreamCredentials = UpstreamAuth;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface CredentialsOptions {
  /** Where secrets are read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** ms since the epoch (tests move it). Default Date.now. */
  readonly clock?: () => number;
  /** How token requests are sent (default the global fetch). */
  readonly fetch?: FetchLike;
  readonly logger?: Logger;
}

/** A token and when it stops being used. */
interface Held {
  readonly value: string;
  /** ms: renew from here on (in the background while it still serves). */
  readonly renewAt: number;
  /** ms: no longer sent after this. */
  readonly expiresAt: number;
}

const GRANT_CLIENT_CREDENTIALS = "client_credentials";
const GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
/** A token without expires_in is kept this long (RFC 6749 §5.1 leaves it to the server; the upstream's 401 renews it earlier). */
const DEFAULT_LIFETIME_MS = 300_000;
const MAX_TOKEN_RESPONSE = 64 * 1024;
/** Printable ASCII without space: what a bearer token may be sent as (RFC 6750 §2.1 b64token, loosely). */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

function secretFrom(env: Readonly<Record<string, string | undefined>>, name: string, where: string): string {
  const v = env[name];
  if (v === undefined || v === "") throw new ConfigError("FICUS_CONFIG_ENV_MISSING", [`${where}: the environment variable ${name} is not set`]);
  return v;
}

/** Renew at 80% of the lifetime, and at least 30 s before the end (when the lifetime allows). */
function held(value: string, lifetimeMs: number, now: number): Held {
  const expiresAt = now + lifetimeMs;
  const margin = Math.max(lifetimeMs * 0.2, Math.min(30_000, lifetimeMs * 0.5));
  return { value, renewAt: expiresAt - margin, expiresAt };
}

/** One client at one token endpoint: sends token requests (RFC 6749 §4.4.2, RFC 8693 §2.1) and reads their answers. */
class TokenClient {
  private readonly basic: string | undefined;

  constructor(
    private readonly source: string,
    private readonly c: ClientCredentialsConfig | TokenExchangeConfig,
    private readonly secret: string,
    private readonly fetcher: FetchLike,
  ) {
    // RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
    this.basic = c.auth_method === "client_secret_basic" ? `Basic ${btoa(`${formEncode(c.client_id)}:${formEncode(secret)}`)}` : undefined;
  }

  /** Asks for a token; resolves with it and its lifetime in ms, or rejects with a FicusError naming the source. */
  async request(params: URLSearchParams): Promise<{ token: string; lifetime: number }> {
    if (this.basic === undefined) {
      params.set("client_id", this.c.client_id);
      params.set("client_secret", this.secret);
    }
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if (this.basic !== undefined) headers.authorization = this.basic;
    const grant = params.get("grant_type") === GRANT_TOKEN_EXCHANGE ? "token exchange" : "client credentials";
    let res: Response;
    try {
      res = await this.fetcher(this.c.token_url, { method: "POST", headers, body: params.toString(), signal: AbortSignal.timeout(this.c.timeout), redirect: "error" });
    } catch (err) {
      throw new FicusError("FICUS_MCP_UPSTREAM", `source ${this.source}: the ${grant} token request to ${this.c.token_url} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = await res.text();
    if (text.length > MAX_TOKEN_RESPONSE) throw new FicusError("FICUS_MCP_UPSTREAM", `source ${this.source}: the token endpoint's answer is larger than ${MAX_TOKEN_RESPONSE} bytes`);
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    if (res.status !== 200) {
      // RFC 6749 §5.2: error and error_description; neither is a secret.
      const code = typeof body.error === "string" ? body.error.slice(0, 64) : "no error code";
      const desc = typeof body.error_description === "string" ? `: ${body.error_description.slice(0, 200)}` : "";
      throw new FicusError("FICUS_MCP_UPSTREAM", `source ${this.source}: the ${grant} token request was refused (${res.status} ${code}${desc})`);
    }
    const token = body.access_token;
    if (typeof token !== "string" || !TOKEN_TEXT.test(token)) throw new FicusError("FICUS_MCP_UPSTREAM", `source ${this.source}: the token endpoint's answer has no usable access_token`);
    const type = body.token_type;
    if (typeof type === "string" && type.toLowerCase() !== "bearer" && type.toLowerCase() !== "n_a") {
      throw new FicusError("FICUS_MCP_UPSTREAM", `source ${this.source}: the token endpoint issued a ${type.slice(0, 32)} token; only Bearer tokens can be sent`);
    }
    const exp = body.expires_in;
    const lifetime = typeof exp === "number" && Number.isFinite(exp) && exp > 0 ? exp * 1000 : DEFAULT_LIFETIME_MS;
    return { token, lifetime };
  }
}

function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, "+");
}

/** A static token from the environment. */
class StaticBearer implements UpstreamAuth {
  readonly kind = "bearer_env";
  private readonly value: string;

  constructor(token: string) {
    this.value = `Bearer ${token}`;
  }

  authorization(): string {
    return this.value;
  }

  refused(): boolean {
    return false;
  }
}

/** Ficus's own token (client-credentials grant), one per source. */
class ClientCredentialsToken implements UpstreamAuth {
  readonly kind = "client_credentials";
  private current: Held | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly client: TokenClient,
    private readonly c: ClientCredentialsConfig | TokenExchangeConfig,
    private readonly clock: () => number,
    private readonly logger: Logger | undefined,
    private readonly source: string,
    /** The audience parameter (client_credentials only; a token exchange's audience is for the exchanged token). */
    private readonly audience: string | undefined,
  ) {}

  authorization(): string | Promise<string> {
    const h = this.current;
    const now = this.clock();
    if (h !== undefined && now < h.expiresAt) {
      if (now >= h.renewAt && this.pending === undefined) {
        this.fetch().catch((err: unknown) => this.logger?.warn("an upstream token could not be renewed; the current one serves until it expires", { source: this.source, error: err instanceof Error ? err.message : String(err) }));
      }
      return h.value;
    }
    return this.pending ?? this.fetch();
  }

  refused(value: string): boolean {
    if (this.current?.value === value) this.current = undefined;
    return true;
  }

  private fetch(): Promise<string> {
    const p = (async () => {
      const params = new URLSearchParams({ grant_type: GRANT_CLIENT_CREDENTIALS });
      if (this.c.scope !== undefined) params.set("scope", this.c.scope);
      if (this.c.resource !== undefined) params.set("resource", this.c.resource);
      if (this.audience !== undefined) params.set("audience", this.audience);
      const started = this.clock();
      const { token, lifetime } = await this.client.request(params);
      const h = held(`Bearer ${token}`, lifetime, started);
      this.current = h;
      return h.value;
    })();
    this.pending = p;
    const clear = () => {
      if (this.pending === p) this.pending = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}

/** Exchanged tokens, one per caller token (RFC 8693). */
class ExchangedTokens implements UpstreamAuth {
  readonly kind = "token_exchange";
  private readonly cache = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly client: TokenClient,
    private readonly c: TokenExchangeConfig,
    private readonly clock: () => number,
    private readonly source: string,
    /** For requests made for no caller; undefined: none is sent. */
    private readonly outside: ClientCredentialsToken | undefined,
  ) {}

  authorization(ctx: CallContext | undefined): string | undefined | Promise<string | undefined> {
    if (ctx === undefined) return this.outside?.authorization();
    const subject = ctx.subjectToken;
    if (subject === undefined) {
      throw new FicusError("FICUS_MCP_UPSTREAM", `source ${this.source} acts on behalf of the caller (token_exchange), and this call carries no bearer token: authenticate the MCP route with JWT`);
    }
    const h = this.cache.get(subject);
    if (h !== undefined) {
      if (this.clock() < h.renewAt) return h.value;
      this.cache.delete(subject);
    }
    return this.pending.get(subject) ?? this.exchange(subject);
  }

  refused(value: string, ctx: CallContext | undefined): boolean {
    if (ctx === undefined) return this.outside?.refused(value) ?? false;
    const subject = ctx.subjectToken;
    if (subject !== undefined && this.cache.get(subject)?.value === value) this.cache.delete(subject);
    return true;
  }

  private exchange(subject: string): Promise<string> {
    const c = this.c;
    const p = (async () => {
      const params = new URLSearchParams({ grant_type: GRANT_TOKEN_EXCHANGE, subject_token: subject, subject_token_type: c.subject_token_type, requested_token_type: c.requested_token_type, audience: c.audience });
      if (c.resource !== undefined) params.set("resource", c.resource);
      if (c.scope !== undefined) params.set("scope", c.scope);
      const started = this.clock();
      const { token, lifetime } = await this.client.request(params);
      const h = held(`Bearer ${token}`, lifetime, started);
      if (c.cache_size > 0) {
        if (this.cache.size >= c.cache_size) {
          // The oldest entry goes first; expired ones are dropped when met.
          const first = this.cache.keys().next();
          if (!first.done) this.cache.delete(first.value);
        }
        this.cache.set(subject, h);
      }
      return h.value;
    })();
    this.pending.set(subject, p);
    const clear = () => {
      if (this.pending.get(subject) === p) this.pending.delete(subject);
    };
    p.then(clear, clear);
    return p;
  }
}

/** The parts of a source's config read here. */
export interface CredentialsSource {
  readonly credentials?: CredentialsConfig | undefined;
  readonly command?: readonly string[] | undefined;
}

/**
 * The upstream credentials of a source, or undefined when it has none. Throws a ConfigError when a secret's
 * environment variable is not set, or the source cannot carry an Authorization (stdio).
 */
export function upstreamCredentials(name: string, source: CredentialsSource, options: CredentialsOptions = {}): UpstreamCredentials | undefined {
  const c = source.credentials;
  if (c === undefined) return undefined;
  const where = `mcp.sources.${name}.credentials`;
  if (source.command !== undefined) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}: a stdio source has no HTTP requests to carry credentials; give the server its secrets with env`]);
  const env = options.env ?? process.env;
  const clock = options.clock ?? Date.now;
  const fetcher: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  if (c.bearer_env !== undefined) {
    const token = secretFrom(env, c.bearer_env, `${where}.bearer_env`);
    if (!TOKEN_TEXT.test(token)) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}.bearer_env: the token in ${c.bearer_env} has characters a header cannot carry (spaces or control characters)`]);
    return new StaticBearer(token);
  }
  if (c.client_credentials !== undefined) {
    const cc = c.client_credentials;
    const client = new TokenClient(name, cc, secretFrom(env, cc.client_secret_env, `${where}.client_credentials.client_secret_env`), fetcher);
    return new ClientCredentialsToken(client, cc, clock, options.logger, name, cc.audience);
  }
  const te = c.token_exchange as TokenExchangeConfig;
  const client = new TokenClient(name, te, secretFrom(env, te.client_secret_env, `${where}.token_exchange.client_secret_env`), fetcher);
  const outside = te.outside_calls === "client_credentials" ? new ClientCredentialsToken(client, te, clock, options.logger, name, undefined) : undefined;
  return new ExchangedTokens(client, te, clock, name, outside);
}
