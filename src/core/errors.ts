/**
 * The one coded error hierarchy of Ficus.
 *
 * Every error that can reach a client or an operator has a stable `FICUS_*`
 * code. Client-facing codes carry the HTTP status they map to; the mapping to a
 * response happens in one place (`errorResponse`). The table below is the
 * source of `docs/errors.md` (see `scripts/gen-docs.ts`).
 */

export interface ErrorCodeInfo {
  /** HTTP status sent to the client, or 0 for errors that never reach a client. */
  readonly status: number;
  /** One sentence an operator can act on. */
  readonly description: string;
}

export const ERROR_CODES = {
  // --- client-facing (data plane) ---
  FICUS_ROUTE_NOT_FOUND: { status: 404, description: "No route matches the request's host, path, method and headers, and no default_route is configured." },
  FICUS_BAD_REQUEST: { status: 400, description: "The request is malformed: its head breaks HTTP/1.1's grammar (the message names the rule), its chunked body is malformed, or its target is absolute-form, which a reverse proxy does not serve." },
  FICUS_METHOD_NOT_ALLOWED: { status: 405, description: "CONNECT was asked for, and no route tunnels." },
  FICUS_CLIENT_TIMEOUT: { status: 408, description: "The client stopped sending: the request head or body did not arrive within limits.client_idle_timeout. Never counted against the upstream." },
  FICUS_EXPECTATION_FAILED: { status: 417, description: "The request's Expect field asks for something other than 100-continue." },
  FICUS_NOT_IMPLEMENTED: { status: 501, description: "The request body uses a transfer coding other than chunked." },
  FICUS_HTTP_VERSION: { status: 505, description: "The request's HTTP version is not 1.0 or 1.1." },
  FICUS_BODY_TOO_LARGE: { status: 413, description: "The request body exceeds the route's max_body (on the admin API: the endpoint's own limit, e.g. 8 MiB for a batch of experiment results)." },
  FICUS_URI_TOO_LONG: { status: 414, description: "The request target exceeds limits.max_url_bytes." },
  FICUS_HEADERS_TOO_LARGE: { status: 431, description: "The request header section exceeds limits.max_header_bytes." },
  FICUS_UPSTREAM_UNREACHABLE: { status: 502, description: "No connection could be made to the upstream endpoint (refused, reset before a response, DNS failure)." },
  FICUS_UPSTREAM_RESET: { status: 502, description: "The upstream closed the connection or sent an invalid response before the response headers were complete." },
  FICUS_UPSTREAM_BAD_RESPONSE: { status: 502, description: "The upstream's response was not valid HTTP (a status outside 100–599, a malformed or oversized head, bad framing); the endpoint is counted as failing." },
  FICUS_UPSTREAM_TIMEOUT: { status: 504, description: "The upstream did not answer within the route's header or total timeout." },
  FICUS_NO_HEALTHY_UPSTREAM: { status: 503, description: "Every endpoint of the route's upstream is ejected by passive health checking and the route does not fail open." },
  FICUS_UNAUTHORIZED: { status: 401, description: "The admin API requires a bearer token and the request carried none or a wrong one." },
  FICUS_ADMIN_NOT_FOUND: { status: 404, description: "No admin endpoint at this path." },
  FICUS_ROUTE_UNKNOWN: { status: 404, description: "The admin API or CLI named a route that is not being migrated; the message lists the known ones." },
  FICUS_NOISE_MARK_UNKNOWN: { status: 404, description: "No manual noise mark for this path on this route." },
  FICUS_SIGNATURE_UNKNOWN: { status: 404, description: "No mismatch signature with this id on this route." },
  FICUS_STORE_UNAVAILABLE: { status: 503, description: "The results store cannot be reached or refused the operation (PostgreSQL down, the SQLite file full or locked), or it is one process's memory while several workers serve, so a command would not reach them all; nothing was changed. Retry when it is back." },
  FICUS_AUTH_MISSING: { status: 401, description: "The route requires authentication and the request carried no credential the route accepts (a bearer token, an API key, a client certificate); WWW-Authenticate names the schemes." },
  FICUS_AUTH_INVALID: { status: 401, description: "The credential was refused: a malformed or oversized token, a bad signature, a disallowed algorithm, an unknown key id, a wrong issuer or audience, a token not yet valid, an unknown API key or an unaccepted client certificate; the message says which, never the credential." },
  FICUS_AUTH_EXPIRED: { status: 401, description: "The token's exp (plus the policy's leeway) has passed; get a new token." },
  FICUS_AUTH_KEYS_UNAVAILABLE: { status: 503, description: "The token's signing keys could not be fetched (JWKS or discovery endpoint down, slow or invalid) and none are cached; the client is not at fault: retry after Retry-After." },
  FICUS_AUTHZ_DENIED: { status: 403, description: "The route's authorization (required scopes, roles or claims, or its Rego policy) denied the request; the message says which rule, or is the policy's own message. A policy may choose another 4xx status." },
  FICUS_AUTHZ_ERROR: { status: 500, description: "The route's authorization policy failed while deciding (a conflict, a strict built-in error, its step or time budget, or a decision of the wrong shape); the request is denied (fail closed) unless the route sets authz.on_error: allow. The decision log line has the detail." },
  FICUS_RATE_LIMITED: { status: 429, description: "A rate limit of the route refused the request; Retry-After says when to retry, and the RateLimit-Policy and RateLimit fields name the limit (draft-ietf-httpapi-ratelimit-headers)." },
  FICUS_RATE_LIMIT_UNAVAILABLE: { status: 503, description: "A fleet-wide rate limit could not be checked (Redis unreachable or slower than rate_limit.redis.timeout) and that limit fails closed (on_backend_error: closed)." },
  FICUS_OVERLOADED: { status: 503, description: "The route already has its configured number of requests in flight (concurrency.max); retry shortly." },
  FICUS_UPSTREAM_TOO_LARGE: { status: 502, description: "The upstream's response body exceeds the route's max_response_body: refused before the head is sent when its Content-Length shows it, otherwise the response is cut at the cap." },
  FICUS_SIDECAR_BAD_REQUEST: { status: 400, description: "A sidecar check request does not say which request to decide on: the headers of its front are missing or malformed (nginx: X-Original-Method and X-Original-URI; Caddy and Traefik: X-Forwarded-Method and X-Forwarded-Uri), both families are present while sidecar.front is auto (set it), or (Envoy) its path does not start with sidecar.envoy_path_prefix. The front's configuration is at fault (docs/sidecar.md)." },
  FICUS_INTERNAL: { status: 500, description: "An unexpected error inside the gateway; the log line with the same request_id has the detail." },
  // --- operator-facing (configuration, CLI) ---
  FICUS_CONFIG_READ: { status: 0, description: "The configuration file cannot be read." },
  FICUS_CONFIG_PARSE: { status: 0, description: "The configuration file is not valid YAML." },
  FICUS_CONFIG_EMPTY: { status: 0, description: "The configuration file is empty or holds only comments (as a file being written can look); it is rejected and a running gateway keeps its config." },
  FICUS_RELOAD_REFUSED: { status: 0, description: "A reload would remove every route, or more than reload.max_removed_routes of them; the running config is kept. Force it with POST /admin/reload?force=true or `ficus reload --force`." },
  FICUS_CONFIG_INVALID: { status: 0, description: "The configuration does not match the schema; each message names the field path and line." },
  FICUS_CONFIG_ENV_MISSING: { status: 0, description: "A ${VAR} reference names an environment variable that is not set." },
  FICUS_ADMIN_TOKEN_REQUIRED: { status: 0, description: "The admin server listens on a non-loopback address but no admin token is set in the environment." },
  FICUS_LISTEN_FAILED: { status: 0, description: "A listener could not bind its address (in use, permission denied)." },
  FICUS_USAGE: { status: 0, description: "The command line is invalid." },
  FICUS_ADMIN_UNREACHABLE: { status: 0, description: "A CLI command could not get an answer from the gateway's admin API (--admin URL, FICUS_ADMIN_TOKEN)." },
  FICUS_COMPARE_INPUT: { status: 0, description: "`ficus compare` cannot read one of its input files." },
  FICUS_POLICY_SYNTAX: { status: 0, description: "A Rego module does not parse; the message gives file:line:col and what was expected." },
  FICUS_POLICY_COMPILE: { status: 0, description: "A Rego policy parses but does not compile: an unsafe variable, recursion, a type error in a built-in call, an unknown or unprovided built-in (http.send), or conflicting rules; each message gives file:line:col." },
  FICUS_POLICY_EVAL: { status: 0, description: "Evaluating a policy failed: a conflict (a complete rule or function with two values, an object with two values for a key) or, with strict built-in errors, a built-in's error; the message gives OPA's error code and the rule's location." },
  FICUS_POLICY_BUDGET: { status: 0, description: "A policy decision ran past its step or time budget (policy.budget) and was stopped; the decision is an error, never allow." },
  FICUS_TLS_FILE: { status: 0, description: "A TLS file named in the config (a certificate, key or CA bundle of tls: or of an upstream's tls:) cannot be read; the message names the field and the path." },
  FICUS_TLS_CERT_INVALID: { status: 0, description: "A TLS file does not hold what its field needs: no PEM certificate in a cert or CA file, no private key in a key file (or an encrypted one); the message names the field and the path." },
  FICUS_TLS_KEY_MISMATCH: { status: 0, description: "A TLS private key does not belong to the certificate it is paired with (tls.cert/key, an sni entry, or an upstream's client certificate)." },
  FICUS_TLS_CERT_EXPIRED: { status: 0, description: "A configured certificate is expired or not yet valid; the message gives its subject and validity dates. Replace the file (a running gateway keeps serving the previous certificate)." },
  FICUS_MCP_SOURCE_INVALID: { status: 0, description: "An edge-mcp tool source cannot be used: an OpenAPI document that does not parse or validate (the message names the document and the JSON pointer), a declared tool whose call template names an argument its schema lacks, or a stdio command that cannot be run. The other sources are still served." },
  FICUS_MCP_UPSTREAM: { status: 0, description: "A federated MCP server (Streamable HTTP or stdio) failed: it could not be reached, crashed, hung past its timeout, or sent an invalid message. Calls to its tools return a tool error naming it; a stdio server is restarted with back-off." },
  FICUS_MCP_INVALID_ARGUMENTS: { status: 0, description: "A tool call's arguments do not fit the tool's HTTP call (a path parameter missing, a value of the wrong type); the agent gets a tool error saying which." },
  FICUS_MCP_CALL_TIMEOUT: { status: 0, description: "A tool call ran past its timeout (mcp.call_timeout, or the source's); it was cancelled at the upstream and the agent got a tool error." },
  FICUS_MCP_SNAPSHOT_UNKNOWN: { status: 404, description: "The admin API or `ficus mcp replay` named an MCP error snapshot that is not kept: unknown, or swept past mcp.snapshots.retention or mcp.snapshots.max." },
  FICUS_REPLAY_INPUT: { status: 0, description: "`ficus replay` cannot use its input: a file is missing or not a recording, the recording is empty, or the filter selects nothing (exit 2)." },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error Ficus raises on purpose. */
export class FicusError extends Error {
  readonly code: ErrorCode;
  override readonly cause: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = "FicusError";
    this.code = code;
    this.cause = options?.cause;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** A configuration problem: one or more messages, each naming a field and a line. */
export class ConfigError extends FicusError {
  readonly issues: readonly string[];
  constructor(code: ErrorCode, issues: readonly string[]) {
    super(code, issues.join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" } as const;

/** The JSON error body every client-facing rejection uses. */
export function errorBody(code: ErrorCode, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, request_id: requestId } });
}

/** Turns a code into the client response: JSON body, the code's status, the request id header. */
export function errorResponse(code: ErrorCode, message: string, requestId: string, extraHeaders?: Record<string, string>): Response {
  const headers: Record<string, string> = { ...JSON_HEADERS, "x-request-id": requestId, ...extraHeaders };
  return new Response(errorBody(code, message, requestId), { status: ERROR_CODES[code].status, headers });
}
