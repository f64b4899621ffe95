/**
 * The configuration of authentication: a route's `auth:` (a policy inline,
 * or the name of one in the top-level `auth_policies:`). Zod lives here
 * only: the data plane reads what settings.ts compiles from the validated
 * output, and never loads this file.
 *
 * A policy says which credentials a route accepts (a JWT, an API key, a
 * client certificate, tried in the order of `methods`), whether one is
 * required, and which identity headers go upstream.
 */
import { z } from "zod";
import { fieldNameProblem } from "../core/http-grammar.ts";
import { duration, size } from "../config/fields.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;


/** The signature algorithms a policy may allow: asymmetric only, so a public key can never serve as an HMAC secret. */
export const JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const headerName = z.string().superRefine((name, ctx) => {
  const problem = fieldNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}` });
});

/** An http(s) URL, checked once here so the data plane never parses one per request. */
const httpUrl = z.string().superRefine((s, ctx) => {
  let ok = false;
  try {
    const u = new URL(s);
    ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && u.username === "" && u.password === "" && u.hash === "";
  } catch {
    ok = false;
  }
  if (!ok) ctx.addIssue({ code: "custom", message: `expected an http(s) URL without credentials or fragment, got ${JSON.stringify(s)}` });
});

/** A claim of a JWT payload: a name, or a dotted path into nested objects (realm_access.roles). */
const claimPath = z
  .string()
  .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, 'expected a claim name or a dotted path such as "realm_access.roles"')
  .meta({ description: 'A claim name, or a dotted path into nested objects ("realm_access.roles").' });

/** Text inside a quoted-string of WWW-Authenticate: RFC 6750 §3 allows %x20-21 / %x23-5B / %x5D-7E. */
const challengeText = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const tokenSource = z
  .strictObject({
    header: headerName.optional().meta({ description: "A request header carrying the token (Authorization by default)." }),
    scheme: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an authentication scheme token such as Bearer")
      .optional()
      .meta({ description: "With header: the scheme before the token, matched case-insensitively (RFC 9110 §11.1). Default Bearer for Authorization, none (the whole value) for another header." }),
    cookie: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "expected a cookie name (a token)")
      .optional()
      .meta({ description: "A cookie carrying the token." }),
    query: z
      .string()
      .regex(/^[A-Za-z0-9_.~-]+$/, "expected a query parameter name of letters, digits, '_', '.', '~', '-'")
      .optional()
      .meta({ description: "A query parameter carrying the token. Off by default: URLs end up in logs, browser history and Referer headers." }),
  })
  .superRefine((s, ctx) => {
    const given = [s.header, s.cookie, s.query].filter((x) => x !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of header, cookie or query" });
    if (s.scheme !== undefined && s.header === undefined) ctx.addIssue({ code: "custom", message: "scheme goes with header", path: ["scheme"] });
  })
  .meta({ description: "Where a token is taken from: { header, scheme? }, { cookie } or { query }." });

const jwtSchema = z
  .strictObject({
    issuer: httpUrl
      .optional()
      .meta({
        description:
          "The issuer tokens must carry as iss (compared exactly). Without jwks_url, the keys are found by OpenID Connect discovery: <issuer>/.well-known/openid-configuration, whose issuer must match, gives jwks_uri.",
      }),
    jwks_url: httpUrl.optional().meta({ description: "The JWK Set of the signing keys. Without it, issuer is required and discovery finds it." }),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .meta({ description: "Accepted aud values (one must be in the token). Leave it out only when every token of the issuer is meant for this gateway: any audience is then accepted." }),
    algorithms: z
      .array(z.enum(JWT_ALGORITHMS))
      .min(1)
      .default([...JWT_ALGORITHMS])
      .meta({ description: `Accepted signature algorithms; a key is only used with the algorithms of its type. Asymmetric only: none and HS* are never accepted. Default all of ${JWT_ALGORITHMS.join(", ")}.` }),
    leeway: duration("30s", "Clock skew tolerated when checking exp and nbf.", { min: 0, max: 300_000 }),
    token_from: z
      .array(tokenSource)
      .min(1)
      .max(4)
      .default([{ header: "authorization" }])
      .meta({ description: "Where the token is looked for, in order; the first one present is used. Default [{ header: authorization }] (Authorization: Bearer …)." }),
    max_token_size: size("8KiB", "Longest token accepted; a longer one is refused (FICUS_AUTH_INVALID) before any parsing.", { min: 256, max: 16 * KIB }),
    keys: z
      .strictObject({
        timeout: duration("3s", "Longest a discovery or JWKS fetch may take.", { min: 100, max: 60_000 }),
        refetch_interval: duration("10s", "Least time between two fetches of the keys (per key source, across the routes sharing it). A token with an unknown kid triggers a refetch only when this long has passed since the last one.", {
          min: 100,
          max: 3_600_000,
        }),
        refresh_interval: duration("10m", "Age after which the key set is refreshed in the background (the cached keys keep serving meanwhile, and when the provider is down).", { min: 1000, max: 86_400_000 }),
        max_size: size("256KiB", "Largest discovery document or JWK Set accepted.", { min: KIB, max: 4 * MIB }),
      })
      .prefault({})
      .meta({ description: "Fetching the signing keys." }),
    cache: z
      .strictObject({
        max_entries: z.number().int().min(0).max(1_000_000).default(10_000).meta({ description: "Verified tokens remembered (by SHA-256 of the token) until their expiry; the oldest goes first. 0 disables the cache. Default 10000." }),
        max_ttl: duration("5m", "Longest a verified token is remembered, whatever its exp: a key removed from the JWK Set stops being accepted at the latest this long after.", { min: 0, max: 86_400_000 }),
      })
      .prefault({})
      .meta({ description: "The cache of verified tokens: the steady state costs a hash lookup." }),
    identity: z
      .strictObject({
        subject: claimPath.default("sub").meta({ description: "The claim giving the identity's subject; a token without it is refused. Default sub." }),
        scopes: z.array(claimPath).default(["scope", "scp"]).meta({ description: "Claims giving scopes: a space-delimited string (scope, RFC 8693) or an array of strings (scp). Default [scope, scp]." }),
        roles: z.array(claimPath).default(["realm_access.roles", "roles"]).meta({ description: "Claims giving roles (arrays of strings, or one string). Default [realm_access.roles, roles] (Keycloak's realm roles, and a plain roles claim)." }),
        client_roles: z
          .array(z.string().min(1))
          .optional()
          .meta({ description: "Clients whose Keycloak client roles (resource_access.<client>.roles) are added to the roles. Default: the audience values." }),
      })
      .prefault({})
      .meta({ description: "How claims map to the identity later layers read." }),
  })
  .superRefine((j, ctx) => {
    if (j.issuer === undefined && j.jwks_url === undefined) ctx.addIssue({ code: "custom", message: "give issuer (OpenID Connect discovery) or jwks_url (or both)", path: ["issuer"] });
  })
  .meta({ description: "JSON Web Tokens (RFC 7519), verified with keys from a JWK Set." });

const grants = {
  scopes: z.array(z.string().min(1)).default([]).meta({ description: "Scopes granted." }),
  roles: z.array(z.string().min(1)).default([]).meta({ description: "Roles granted." }),
};

const apiKeyEntry = z
  .strictObject({
    id: z.string().regex(NAME, "expected an id of letters, digits, '_', '.', '-'").meta({ description: "The key's id: the identity's subject (logs, rate-limit keys). Never the key itself." }),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name")
      .optional()
      .meta({ description: "The environment variable holding the key (read at load; only its SHA-256 is kept)." }),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "expected the key's SHA-256 as 64 hex digits")
      .optional()
      .meta({ description: "The key's SHA-256 as hex, for a config that must not hold the key (`printf %s KEY | sha256sum`)." }),
    ...grants,
  })
  .superRefine((k, ctx) => {
    if ((k.env === undefined) === (k.sha256 === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of env or sha256" });
  })
  .meta({ description: "One API key and the identity it stands for." });

const apiKeySchema = z
  .strictObject({
    header: headerName.default("X-API-Key").meta({ description: "The header carrying the key. Default X-API-Key." }),
    authorization_scheme: z
      .string()
      .regex(/^(?:[A-Za-z0-9!#$%&'*+.^_`|~-]+)?$/, "expected an authentication scheme token, or empty")
      .default("ApiKey")
      .meta({ description: 'Also accept "Authorization: <scheme> <key>"; empty turns it off. Default ApiKey.' }),
    keys: z.array(apiKeyEntry).max(10_000).default([]).meta({ description: "Keys given in the config (by environment variable or hash)." }),
    file: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          'A JSON file of more keys, read at load and at each reload: [{ "id": "...", "sha256": "<hex>" | "key": "<key>", "scopes": [...], "roles": [...] }]. Only hashes are kept in memory.',
      }),
  })
  .superRefine((a, ctx) => {
    if (a.keys.length === 0 && a.file === undefined) ctx.addIssue({ code: "custom", message: "give keys or a file", path: ["keys"] });
    const seen = new Set<string>();
    a.keys.forEach((k, i) => {
      if (seen.has(k.id)) ctx.addIssue({ code: "custom", message: `duplicate key id ${JSON.stringify(k.id)}`, path: ["keys", i, "id"] });
      seen.add(k.id);
    });
  })
  .meta({ description: "API keys: stored hashed (SHA-256), compared in constant time, each with its own identity (method api_key)." });

const mtlsSchema = z
  .strictObject({
    subjects: z
      .record(z.string().min(1), z.strictObject(grants))
      .default({})
      .meta({ description: 'Grants by certificate: keyed by common name, SAN ("URI:spiffe://acme/orders", "DNS:orders.internal") or subject DN.' }),
    only_listed: z.boolean().default(false).meta({ description: "Accept only the certificates listed in subjects (others: FICUS_AUTH_INVALID). Default false: any certificate the listener verified." }),
  })
  .meta({ description: "The client certificate of an mTLS connection (verified by the listener's client CA) as the identity (method mtls)." });

/** Fields an identity header must never be: they frame the message, belong to one connection, or carry credentials. */
const RESERVED_HEADERS = new Set(["connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer", "content-length", "host", "authorization", "cookie", "x-api-key"]);

const identityHeadersSchema = z
  .strictObject({
    subject: headerName.optional().meta({ description: "Header set to the identity's subject (e.g. X-Ficus-Subject)." }),
    issuer: headerName.optional().meta({ description: "Header set to the issuer." }),
    method: headerName.optional().meta({ description: "Header set to the method: jwt, api_key or mtls." }),
    scopes: headerName.optional().meta({ description: "Header set to the scopes, space-separated (e.g. X-Ficus-Scopes)." }),
    roles: headerName.optional().meta({ description: "Header set to the roles, comma-separated." }),
    claims: z
      .record(z.string(), claimPath)
      .default({})
      .meta({ description: "Header name → claim: the claim's value (a string as is, anything else as JSON)." }),
  })
  .superRefine((h, ctx) => {
    const names = new Map<string, string>();
    const check = (name: string, path: (string | number)[]) => {
      const problem = fieldNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}`, path });
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) ctx.addIssue({ code: "custom", message: `${JSON.stringify(name)} cannot be an identity header (it frames the message or carries a credential)`, path });
      const prev = names.get(lower);
      if (prev !== undefined) ctx.addIssue({ code: "custom", message: `header ${JSON.stringify(name)} is already used for ${prev}`, path });
      names.set(lower, path.join("."));
    };
    for (const k of ["subject", "issuer", "method", "scopes", "roles"] as const) if (h[k] !== undefined) check(h[k], [k]);
    for (const name of Object.keys(h.claims)) check(name, ["claims", name]);
  })
  .meta({
    description:
      "Headers sent upstream from the verified identity (values outside printable ASCII are percent-encoded). Incoming copies of every header named here, in any policy, are always removed from requests, authenticated or not, so a client cannot spoof them.",
  });

export const AUTH_METHODS = ["jwt", "api_key", "mtls"] as const;

export const authPolicySchema = z
  .strictObject({
    mode: z
      .enum(["required", "optional"])
      .default("required")
      .meta({ description: "required: a request without a credential gets 401 FICUS_AUTH_MISSING. optional: it goes on as anonymous. A credential that is sent and refused is a 401 in both modes. Default required." }),
    methods: z
      .array(z.enum(AUTH_METHODS))
      .min(1)
      .optional()
      .meta({ description: "The methods tried, in order; the first whose credential is present decides. Default: the methods configured below, in the order jwt, api_key, mtls." }),
    realm: z
      .string()
      .min(1)
      .max(128)
      .regex(challengeText, "expected printable ASCII without '\"' or '\\'")
      .default("ficus")
      .meta({ description: "The realm of the WWW-Authenticate challenges. Default ficus." }),
    jwt: jwtSchema.optional(),
    api_key: apiKeySchema.optional(),
    mtls: mtlsSchema.optional(),
    identity_headers: identityHeadersSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const methods = p.methods ?? [];
    methods.forEach((m, i) => {
      if (methods.indexOf(m) !== i) ctx.addIssue({ code: "custom", message: `${m} is listed twice`, path: ["methods", i] });
      if (m !== "mtls" && p[m] === undefined) ctx.addIssue({ code: "custom", message: `method ${m} needs its ${m} block`, path: ["methods", i] });
    });
    if (p.methods === undefined && p.jwt === undefined && p.api_key === undefined && p.mtls === undefined) {
      ctx.addIssue({ code: "custom", message: "give at least one of jwt, api_key or mtls (or methods: [mtls])", path: ["methods"] });
    }
  })
  .meta({ description: "An authentication policy: the credentials a route accepts and what happens without one." });

/** A route's `auth:` the name of an entry of `auth_policies`, or a policy inline. */
export const routeAuthSchema = z
  .union([z.string().regex(NAME, "expected the name of an entry of auth_policies"), authPolicySchema])
  .meta({ description: "Authentication for the route: the name of an entry of auth_policies, or a policy inline." });

/** The top-level `auth_policies:`. */
export const authPoliciesSchema = z
  .record(z.string().regex(NAME, "expected a name of letters, digits, '_', '.', '-'"), authPolicySchema)
  .default({})
  .meta({ description: "Named authentication policies that routes refer to with auth: NAME." });

export type AuthPolicyConfig = z.output<typeof authPolicySchema>;
export type RouteAuthConfig = z.output<typeof routeAuthSchema>;

/**
 * Problems of route references to auth_policies (for the config's superRefine): each is a message and the
 * index of the route. Zod cannot see across the two keys.
 */
export function authReferenceIssues(policies: Readonly<Record<string, unknown>>, routes: readonly { readonly auth?: unknown }[]): { route: number; message: string }[] {
  const out: { route: number; message: string }[] = [];
  routes.forEach((r, i) => {
    if (typeof r.auth === "string" && !Object.hasOwn(policies, r.auth)) {
      const known = Object.keys(policies);
      out.push({ route: i, message: `no auth policy named ${JSON.stringify(r.auth)}; known: ${known.length > 0 ? known.join(", ") : "(none: add auth_policies)"}` });
    }
  });
  return out;
}
