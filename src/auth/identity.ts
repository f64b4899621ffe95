/**
 * Who is calling: what the authentication layer establishes and every later
 * layer reads (authorization, rate limiting, the access log, identity headers
 * sent upstream). Protocol-neutral and free of any credential: a verified
 * token's claims are here, the token itself never is.
 */

/** How the caller was identified. */
export type IdentityMethod = "jwt" | "api_key" | "mtls" | "anonymous";

export interface Identity {
  readonly method: IdentityMethod;
  /** JWT `sub`, the API key's id, the client certificate's subject (CN, else its first SAN); "" when anonymous. */
  readonly subject: string;
  /** JWT `iss`, or the client certificate's issuer; "" otherwise. */
  readonly issuer: string;
  /** OAuth scopes (a JWT's space-delimited `scope` or `scp` list; an API key's configured scopes). */
  readonly scopes: readonly string[];
  /** Roles (Keycloak's realm_access.roles and resource_access.<client>.roles, a `roles` claim, an API key's roles). */
  readonly roles: readonly string[];
  /** The verified claims as JSON (a JWT's payload; an API key's or certificate's attributes); {} when anonymous. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** When the credential stops being valid (ms since the epoch), when known. */
  readonly expiresAt?: number;
}

/** The verified client certificate of an mTLS connection, as later layers see it. */
export interface PeerCertificate {
  /** Subject distinguished name, e.g. "CN=orders-service,O=Acme". */
  readonly subject: string;
  /** The subject's common name, or "". */
  readonly commonName: string;
  /** Subject alternative names, as "DNS:host", "URI:spiffe://…", "IP:10.0.0.1", "email:…". */
  readonly sans: readonly string[];
  readonly issuer: string;
  /** SHA-256 fingerprint, colon-separated hex (as Node prints it). */
  readonly fingerprint256: string;
  /** Not-after, ms since the epoch. */
  readonly validTo: number;
}

export const ANONYMOUS: Identity = Object.freeze({ method: "anonymous", subject: "", issuer: "", scopes: [], roles: [], claims: Object.freeze({}) });
