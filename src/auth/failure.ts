/**
 * Why a credential was refused, and the 401 (or 503) that says so: the
 * WWW-Authenticate challenges of RFC 6750 §3 (the `error` attribute only
 * when a credential was sent, §3.1) and the JSON body with a FICUS_AUTH_*
 * code. Descriptions are fixed texts chosen here, never a claim or a header
 * value of the request: they go into a header, and a client controls those.
 * On an MCP endpoint that is an OAuth protected resource, the Bearer
 * challenge also names its metadata (resource_metadata, RFC 9728 §5.1), where
 * an MCP client finds the authorization server.
 */
import type { ErrorCode } from "../core/errors.ts";
import type { Exchange, Reply } from "../pipeline/exchange.ts";
import { errorReply } from "../pipeline/exchange.ts";

/** The outcome recorded in ficus_auth_total for a refusal. */
export type FailureResult = "missing" | "invalid" | "expired" | "unavailable";

export class AuthFailure {
  constructor(
    readonly result: FailureResult,
    /** A fixed text for the operator and the client: RFC 6750's error_description grammar (printable ASCII, no '"' or '\'). */
    readonly description: string,
    /** The method whose credential was refused (it picks the challenge that carries the error). */
    readonly method: "jwt" | "api_key" | "mtls" | undefined,
    /** For unavailable: seconds until the keys will be fetched again. */
    readonly retryAfter = 0,
  ) {}
}

const CODES: Readonly<Record<FailureResult, ErrorCode>> = {
  missing: "FICUS_AUTH_MISSING",
  invalid: "FICUS_AUTH_INVALID",
  expired: "FICUS_AUTH_EXPIRED",
  unavailable: "FICUS_AUTH_KEYS_UNAVAILABLE",
};

/** The challenges of a policy: Bearer for JWT, ApiKey for API keys, ClientCertificate for mTLS alone. */
export interface Challenges {
  readonly realm: string;
  readonly bearer: boolean;
  /** The API key's Authorization scheme (ApiKey), or "" when keys come in another header only. */
  readonly apiKeyScheme: string;
  readonly apiKey: boolean;
  /** The protected resource metadata URL of an MCP endpoint (RFC 9728 §5.1), added to the Bearer challenge. */
  readonly resourceMetadata?: string | undefined;
}

/** The WWW-Authenticate values of a refusal, one field per challenge (RFC 9110 §11.6.1). */
export function challengeFields(c: Challenges, f: AuthFailure): string[] {
  const out: string[] = [];
  const realm = c.resourceMetadata === undefined ? `realm="${c.realm}"` : `realm="${c.realm}", resource_metadata="${c.resourceMetadata}"`;
  if (c.bearer) {
    // RFC 6750 §3: no error attribute when the request had no token; invalid_token for a refused one.
    out.push("www-authenticate", f.method === "jwt" ? `Bearer ${realm}, error="invalid_token", error_description="${f.description}"` : `Bearer ${realm}`);
  }
  if (c.apiKey) out.push("www-authenticate", `${c.apiKeyScheme || "ApiKey"} ${realm}`);
  // mTLS only: no registered scheme asks for a client certificate, but a 401 must carry a challenge (RFC 9110 §15.5.2).
  if (out.length === 0) out.push("www-authenticate", `ClientCertificate ${realm}`);
  return out;
}

/** The reply of a refusal: 401 with the challenges, or 503 with Retry-After when the keys are unavailable. */
export function failureReply(ex: Exchange, c: Challenges, f: AuthFailure): Reply {
  const code = CODES[f.result];
  ex.error = code;
  const message = f.result === "missing" ? "this route requires authentication" : f.description;
  if (f.result === "unavailable") return errorReply(code, message, ex.id, ["retry-after", String(Math.max(1, f.retryAfter))]);
  return errorReply(code, message, ex.id, challengeFields(c, f));
}
