/**
 * Compiles the validated `auth_policies:` and routes' `auth:` into what the
 * authentication layer reads: per route name, a policy with its methods in
 * order, token sources, JWT settings (claim paths split, audiences listed),
 * API key digests, mTLS grants, identity headers and challenges — plus the
 * names of every identity header, which the layer strips from all requests.
 *
 * What zod cannot check is checked here, with clear errors: a named policy
 * that does not exist, an API key's environment variable that is not set or
 * too short, a key file that cannot be read or is not valid. Runs where the
 * data plane runs (no zod here: types only from schema.ts), at start and at
 * each reload. Keys are hashed at once; the key text is not kept.
 */
import { ConfigError } from "../core/errors.ts";
import { readFileSync } from "node:fs";
import { type ApiKeyEntry, type ApiKeySettings, apiKeyIdentity, sha256 } from "./api-keys.ts";
import type { ClaimMapping } from "./claims.ts";
import type { IdentityHeader, TokenSource } from "./credentials.ts";
import type { Challenges } from "./failure.ts";
import type { JwtSettings } from "./jwt.ts";
import type { MtlsGrant, MtlsSettings } from "./mtls.ts";
import type { AuthPolicyConfig, RouteAuthConfig } from "./schema.ts";
import { type ProtectedResource, protectedResources, type ResourcesInput } from "../mcp/governance/oauth/resources.ts";

export type AuthMethod = "jwt" | "api_key" | "mtls";

export interface PolicySettings {
  /** The auth_policies name, or "route <name>" for an inline policy (for logs). */
  readonly name: string;
  readonly mode: "required" | "optional";
  readonly methods: readonly AuthMethod[];
  readonly jwt: JwtSettings | undefined;
  readonly tokenFrom: readonly TokenSource[];
  readonly apiKey: ApiKeySettings | undefined;
  readonly mtls: MtlsSettings | undefined;
  readonly headers: readonly IdentityHeader[];
  readonly challenges: Challenges;
}

export interface AuthSettings {
  /** The policy of each route that has one. */
  readonly routes: ReadonlyMap<string, PolicySettings>;
  /** Lowercase names of every identity header of every policy: removed from all requests. */
  readonly strip: readonly string[];
}

/** The parts of the validated config that authentication reads. */
export interface AuthConfigInput {
  readonly auth_policies?: Readonly<Record<string, AuthPolicyConfig>> | undefined;
  readonly routes: readonly { readonly name: string; readonly auth?: RouteAuthConfig | undefined; readonly match?: ResourcesInput["routes"][number]["match"]; readonly mcp?: unknown }[];
  /** With `mcp.oauth` (and the listen address its default URLs come from): MCP endpoints as OAuth protected resources. */
  readonly listen?: ResourcesInput["listen"] | undefined;
  readonly tls?: unknown;
  readonly mcp?: ResourcesInput["mcp"];
}

export interface CompileOptions {
  /** Where API keys' environment variables are read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads an API key file (default readFileSync as UTF-8). */
  readonly readFile?: (path: string) => string;
}

/** Shortest API key accepted: shorter ones can be guessed. */
export const MIN_API_KEY_LENGTH = 16;

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Keys are objects compared by their JSON: field order is the schema's, so equal configs give equal ids. */
const idOf = (v: unknown): string => JSON.stringify(v);

function compileJwt(j: NonNullable<AuthPolicyConfig["jwt"]>): { settings: JwtSettings; from: TokenSource[] } {
  const audience = j.audience === undefined ? undefined : typeof j.audience === "string" ? [j.audience] : [...j.audience];
  const split = (p: string) => p.split(".");
  const claims: ClaimMapping = {
    subject: split(j.identity.subject),
    scopes: j.identity.scopes.map(split),
    roles: j.identity.roles.map(split),
    clientRoles: j.identity.client_roles ?? audience ?? [],
  };
  const keys = {
    issuer: j.issuer,
    jwksUrl: j.jwks_url,
    timeout: j.keys.timeout,
    refetchInterval: j.keys.refetch_interval,
    refreshInterval: j.keys.refresh_interval,
    maxSize: j.keys.max_size,
  };
  const settings: JwtSettings = {
    id: idOf(j),
    keys: { id: idOf(keys), ...keys },
    issuer: j.issuer,
    audience,
    algorithms: j.algorithms,
    leeway: j.leeway,
    maxTokenSize: j.max_token_size,
    cache: { maxEntries: j.cache.max_entries, maxTtl: j.cache.max_ttl },
    claims,
  };
  const from: TokenSource[] = j.token_from.map((s): TokenSource => {
    if (s.header !== undefined) {
      const name = s.header.toLowerCase();
      return { kind: "header", name, scheme: (s.scheme ?? (name === "authorization" ? "Bearer" : "")).toLowerCase() };
    }
    if (s.cookie !== undefined) return { kind: "cookie", name: s.cookie };
    return { kind: "query", name: s.query as string };
  });
  return { settings, from };
}

/** A key file's entries: [{ id, sha256 | key, scopes?, roles? }] (or { keys: [...] }). */
function readKeyFile(path: string, where: string, readFile: (path: string) => string): { id: string; digest: Uint8Array; scopes: string[]; roles: string[] }[] {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError("FICUS_CONFIG_READ", [`${where}.file: cannot read the API key file ${path}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}.file: ${path} is not valid JSON`]);
  }
  const list = Array.isArray(doc) ? doc : doc !== null && typeof doc === "object" ? (doc as Record<string, unknown>).keys : undefined;
  if (!Array.isArray(list)) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}.file: ${path} must hold an array of keys (or { "keys": [...] })`]);
  const strings = (v: unknown, field: string, i: number): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "")) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}.file: ${path}: entry ${i}: ${field} must be an array of non-empty strings`]);
    return v as string[];
  };
  return list.map((e: unknown, i) => {
    const bad = (msg: string) => new ConfigError("FICUS_CONFIG_INVALID", [`${where}.file: ${path}: entry ${i}: ${msg}`]);
    if (e === null || typeof e !== "object" || Array.isArray(e)) throw bad("expected an object");
    const o = e as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!["id", "sha256", "key", "scopes", "roles"].includes(k)) throw bad(`unknown field ${JSON.stringify(k)} (expected id, sha256 or key, scopes, roles)`);
    if (typeof o.id !== "string" || !KEY_ID.test(o.id)) throw bad("id must be letters, digits, '_', '.', '-'");
    let digest: Uint8Array;
    if (typeof o.sha256 === "string" && o.key === undefined) {
      if (!HEX64.test(o.sha256)) throw bad("sha256 must be 64 hex digits");
      digest = hexBytes(o.sha256);
    } else if (typeof o.key === "string" && o.sha256 === undefined) {
      if (o.key.length < MIN_API_KEY_LENGTH) throw bad(`the key is shorter than ${MIN_API_KEY_LENGTH} characters`);
      digest = sha256(o.key);
    } else throw bad("give exactly one of sha256 or key (a string)");
    return { id: o.id, digest, scopes: strings(o.scopes, "scopes", i), roles: strings(o.roles, "roles", i) };
  });
}

function compileApiKeys(a: NonNullable<AuthPolicyConfig["api_key"]>, where: string, o: CompileOptions): ApiKeySettings {
  const env = o.env ?? process.env;
  const raw: { id: string; digest: Uint8Array; scopes: readonly string[]; roles: readonly string[] }[] = [];
  a.keys.forEach((k, i) => {
    let digest: Uint8Array;
    if (k.env !== undefined) {
      const value = env[k.env];
      if (value === undefined || value === "") throw new ConfigError("FICUS_CONFIG_ENV_MISSING", [`${where}.keys[${i}].env: the environment variable ${k.env} (API key ${k.id}) is not set`]);
      if (value.length < MIN_API_KEY_LENGTH) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}.keys[${i}].env: the key in ${k.env} (API key ${k.id}) is shorter than ${MIN_API_KEY_LENGTH} characters`]);
      digest = sha256(value);
    } else digest = hexBytes(k.sha256 as string);
    raw.push({ id: k.id, digest, scopes: k.scopes, roles: k.roles });
  });
  if (a.file !== undefined) raw.push(...readKeyFile(a.file, where, o.readFile ?? ((p) => readFileSync(p, "utf8"))));
  const ids = new Set<string>();
  const digests = new Set<string>();
  const entries: ApiKeyEntry[] = raw.map((k) => {
    if (ids.has(k.id)) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}: API key id ${JSON.stringify(k.id)} is given twice`]);
    ids.add(k.id);
    const hex = Buffer.from(k.digest).toString("hex");
    if (digests.has(hex)) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}: API key ${JSON.stringify(k.id)} has the same key as another entry`]);
    digests.add(hex);
    return { digest: k.digest, identity: apiKeyIdentity(k.id, k.scopes, k.roles) };
  });
  return { header: a.header.toLowerCase(), scheme: a.authorization_scheme.toLowerCase(), schemeName: a.authorization_scheme, entries };
}

function compileHeaders(h: AuthPolicyConfig["identity_headers"]): IdentityHeader[] {
  if (h === undefined) return [];
  const out: IdentityHeader[] = [];
  for (const from of ["subject", "issuer", "method", "scopes", "roles"] as const) {
    const name = h[from];
    if (name !== undefined) out.push({ name, lower: name.toLowerCase(), from, path: [] });
  }
  for (const [name, path] of Object.entries(h.claims)) out.push({ name, lower: name.toLowerCase(), from: "claim", path: path.split(".") });
  return out;
}

function compilePolicy(p: AuthPolicyConfig, name: string, where: string, o: CompileOptions): PolicySettings {
  const methods: AuthMethod[] = p.methods !== undefined ? [...p.methods] : (["jwt", "api_key", "mtls"] as const).filter((m) => p[m] !== undefined);
  const jwt = p.jwt !== undefined && methods.includes("jwt") ? compileJwt(p.jwt) : undefined;
  const apiKey = p.api_key !== undefined && methods.includes("api_key") ? compileApiKeys(p.api_key, `${where}.api_key`, o) : undefined;
  const m = p.mtls ?? { subjects: {}, only_listed: false };
  const mtls: MtlsSettings | undefined = methods.includes("mtls")
    ? { subjects: new Map<string, MtlsGrant>(Object.entries(m.subjects).map(([k, g]) => [k, { scopes: g.scopes, roles: g.roles }])), onlyListed: m.only_listed }
    : undefined;
  return {
    name,
    mode: p.mode,
    methods,
    jwt: jwt?.settings,
    tokenFrom: jwt?.from ?? [],
    apiKey,
    mtls,
    headers: compileHeaders(p.identity_headers),
    challenges: { realm: p.realm, bearer: jwt !== undefined, apiKey: apiKey !== undefined, apiKeyScheme: apiKey?.schemeName ?? "" },
  };
}

/**
 * A route's policy on an MCP endpoint that is an OAuth protected resource: its Bearer challenge names the
 * metadata, and a JWT policy without an audience accepts only tokens for the endpoint's resource URL.
 */
function asProtectedResource(p: PolicySettings, r: ProtectedResource): PolicySettings {
  let jwt = p.jwt;
  if (jwt !== undefined && jwt.audience === undefined && r.boundAudience !== undefined) jwt = { ...jwt, id: idOf([jwt.id, r.boundAudience]), audience: [r.boundAudience] };
  return { ...p, jwt, challenges: { ...p.challenges, resourceMetadata: r.metadataUrl } };
}

/** Compiles the validated authentication config; throws a ConfigError for what the schema cannot check. */
export function compileAuthSettings(config: AuthConfigInput, options: CompileOptions = {}): AuthSettings {
  const policies = config.auth_policies ?? {};
  const named = new Map<string, PolicySettings>();
  const routes = new Map<string, PolicySettings>();
  const strip = new Set<string>();
  const note = (p: PolicySettings) => {
    for (const h of p.headers) strip.add(h.lower);
  };
  for (const [name, p] of Object.entries(policies)) {
    const compiled = compilePolicy(p, name, `auth_policies.${name}`, options);
    named.set(name, compiled);
    note(compiled);
  }
  config.routes.forEach((r, i) => {
    if (r.auth === undefined) return;
    if (typeof r.auth === "string") {
      const p = named.get(r.auth);
      if (p === undefined) {
        const known = [...named.keys()];
        throw new ConfigError("FICUS_CONFIG_INVALID", [`routes[${i}].auth: no auth policy named ${JSON.stringify(r.auth)}; known: ${known.length > 0 ? known.join(", ") : "(none: add auth_policies)"}`]);
      }
      routes.set(r.name, p);
    } else {
      const p = compilePolicy(r.auth, `route ${r.name}`, `routes[${i}].auth`, options);
      routes.set(r.name, p);
      note(p);
    }
  });
  if (config.listen !== undefined && config.mcp?.oauth !== undefined) {
    for (const [route, res] of protectedResources(config as ResourcesInput)) {
      const p = routes.get(route);
      if (p !== undefined) routes.set(route, asProtectedResource(p, res));
    }
  }
  return { routes, strip: [...strip] };
}
