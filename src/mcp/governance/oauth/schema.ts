/**
 * The configuration of edge-mcp as an OAuth 2.1 resource server
 * (`mcp.oauth`: the protected resource metadata of RFC 9728 and the audience
 * its endpoints accept) and of the credentials Ficus sends to a source's
 * upstream (`sources.<s>.credentials`: a static secret, a client-credentials
 * token, or a token exchanged for the caller's, RFC 8693). The agent's own
 * token is never sent upstream. Zod lives here only; resources.ts and
 * credentials.ts read the validated output.
 */
import { z } from "zod";

/** An http(s) URL without credentials, query or fragment: checked once here, parsed never per request. */
const url = (what: string) =>
  z
    .string()
    .superRefine((s, ctx) => {
      let ok = false;
      try {
        const u = new URL(s);
        ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && u.username === "" && u.password === "" && u.search === "" && u.hash === "" && !s.includes("?") && !s.includes("#");
      } catch {
        ok = false;
      }
      if (!ok) ctx.addIssue({ code: "custom", message: `expected an http(s) URL without credentials, query or fragment, got ${JSON.stringify(s)}` });
    })
    .meta({ description: what });

const envName = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name")
    .meta({ description: what });

/** A scope token (RFC 6749 §3.3): printable ASCII without space, '"' or '\'. */
const scopeToken = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "expected a scope token (printable ASCII without spaces, '\"' or '\\')");

/** A space-separated scope list as sent in a token request. */
const scopeList = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/, "expected scope tokens separated by single spaces");

export const oauthConfigSchema = z
  .strictObject({
    enabled: z
      .union([z.boolean(), z.literal("auto")])
      .default("auto")
      .meta({
        description:
          "auto: act as a resource server for MCP endpoints when one of them authenticates with JWT (the metadata is served for every MCP endpoint, and a 401 points to it). true: always. false: never (no metadata, no resource_metadata in challenges, no audience binding). Default auto.",
      }),
    public_url: url(
      "How clients reach the gateway (scheme, host, port, and a base path when a proxy adds one), e.g. https://gw.example.com. An endpoint's resource is this URL followed by its route's path. Default: the URL the route's JWT audience names when it ends with the endpoint's path, otherwise the listen address (http, or https with tls; localhost for 0.0.0.0).",
    ).optional(),
    authorization_servers: z
      .array(url("An authorization server's issuer URL."))
      .min(1)
      .max(16)
      .optional()
      .meta({ description: "Issuer URLs of the authorization servers clients get tokens from (authorization_servers of the metadata). Default: the issuers of the JWT policies on the MCP routes." }),
    scopes_supported: z
      .array(scopeToken)
      .max(256)
      .optional()
      .meta({ description: "Scopes listed in the metadata (scopes_supported). Default: the scopes the endpoint's route requires (authz.scopes), or none listed." }),
    resource_name: z.string().min(1).max(256).optional().meta({ description: "A human-readable name of the resource (resource_name of the metadata)." }),
    resource_documentation: url("A page documenting the resource for developers (resource_documentation of the metadata).").optional(),
    bind_audience: z
      .boolean()
      .default(true)
      .meta({
        description:
          "When an MCP route's JWT policy sets no audience, accept only tokens whose aud is the endpoint's resource URL (MCP authorization: a token minted for another resource is refused). false keeps the policy's any-audience behaviour. Default true.",
      }),
  })
  .meta({ description: "edge-mcp as an OAuth 2.1 resource server (MCP authorization, RFC 9728): protected resource metadata per endpoint and the audience tokens must carry (docs/mcp.md#oauth)." });

const tokenClient = {
  token_url: url("The authorization server's token endpoint."),
  client_id: z.string().min(1).max(512).meta({ description: "Ficus's client id at the authorization server." }),
  client_secret_env: envName("The environment variable holding the client secret (read at load; a missing one is a config error)."),
  auth_method: z
    .enum(["client_secret_basic", "client_secret_post"])
    .default("client_secret_basic")
    .meta({ description: "How the client authenticates at the token endpoint (RFC 6749 §2.3.1): HTTP Basic, or client_id and client_secret in the form. Default client_secret_basic." }),
  scope: scopeList.optional().meta({ description: "The scope asked for (space-separated)." }),
  resource: url("The upstream's resource indicator (RFC 8707), sent as resource.").optional(),
  timeout: z.number().int().min(100).max(60_000).default(5000).meta({ description: "Longest a token request may take, in ms. Default 5000." }),
};

const clientCredentialsSchema = z
  .strictObject({
    ...tokenClient,
    audience: z.string().min(1).max(1024).optional().meta({ description: "An audience parameter for providers that take one (Auth0, Keycloak)." }),
  })
  .meta({ description: "A token Ficus obtains with its own client (RFC 6749 §4.4), cached and renewed before it expires; a 401 from the upstream renews it once." });

const TOKEN_TYPE = /^urn:ietf:params:oauth:token-type:[A-Za-z0-9_.-]+$/;

const tokenExchangeSchema = z
  .strictObject({
    ...tokenClient,
    audience: z.string().min(1).max(1024).meta({ description: "The audience of the token asked for: the upstream (RFC 8693 §2.1)." }),
    requested_token_type: z
      .string()
      .regex(TOKEN_TYPE, "expected a token type URI such as urn:ietf:params:oauth:token-type:access_token")
      .default("urn:ietf:params:oauth:token-type:access_token")
      .meta({ description: "The token type asked for. Default urn:ietf:params:oauth:token-type:access_token." }),
    subject_token_type: z
      .string()
      .regex(TOKEN_TYPE, "expected a token type URI such as urn:ietf:params:oauth:token-type:access_token")
      .default("urn:ietf:params:oauth:token-type:access_token")
      .meta({ description: "What the caller's token is. Default urn:ietf:params:oauth:token-type:access_token (a JWT access token: use …:jwt for a provider that wants that)." }),
    cache_size: z.number().int().min(0).max(1_000_000).default(10_000).meta({ description: "Exchanged tokens kept (one per caller token, until shortly before they expire). Default 10000." }),
    outside_calls: z
      .enum(["client_credentials", "none"])
      .default("client_credentials")
      .meta({ description: "Requests made for no caller (a federated server's connection and list refreshes): client_credentials sends a token of the same client (the client-credentials grant, same scope and resource); none sends no Authorization. Default client_credentials." }),
  })
  .meta({ description: "OAuth 2.0 Token Exchange (RFC 8693): the caller's token is exchanged at the authorization server for a token of the upstream's audience, on the caller's behalf, per call; cached per caller token until it expires." });

export const credentialsSchema = z
  .strictObject({
    bearer_env: envName("A static token from this environment variable, sent as Authorization: Bearer (read at load).").optional(),
    client_credentials: clientCredentialsSchema.optional(),
    token_exchange: tokenExchangeSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const given = [c.bearer_env, c.client_credentials, c.token_exchange].filter((x) => x !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of bearer_env, client_credentials or token_exchange" });
  })
  .meta({
    description:
      "The Authorization Ficus sends to this source's upstream (HTTP tools' calls, a federated Streamable HTTP server's requests). The agent's own token is never forwarded. Not for stdio sources.",
  });

/** Fields of a source. */
export const credentialsSourceFields = {
  credentials: credentialsSchema.optional(),
};

export type OAuthConfig = z.output<typeof oauthConfigSchema>;
export type CredentialsConfig = z.output<typeof credentialsSchema>;
export type ClientCredentialsConfig = z.output<typeof clientCredentialsSchema>;
export type TokenExchangeConfig = z.output<typeof tokenExchangeSchema>;
