/**
 * The client certificate of an mTLS connection as an identity (method
 * mtls). The listener verified it against its client CA (the TLS part sets
 * `ex.peerCertificate`); here its subject becomes the identity's (the common
 * name, else the first SAN, else the DN) and grants are looked up by common
 * name, by any SAN ("URI:spiffe://…", "DNS:…") or by DN.
 */
import type { Identity, PeerCertificate } from "./identity.ts";

export interface MtlsGrant {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

export interface MtlsSettings {
  readonly subjects: ReadonlyMap<string, MtlsGrant>;
  /** Refuse certificates that are not in subjects. */
  readonly onlyListed: boolean;
}

const NONE: MtlsGrant = { scopes: [], roles: [] };

/** The grant listed for a certificate (common name first, then each SAN, then the DN), or undefined. */
function grantOf(s: MtlsSettings, cert: PeerCertificate): MtlsGrant | undefined {
  if (s.subjects.size === 0) return undefined;
  if (cert.commonName !== "") {
    const g = s.subjects.get(cert.commonName);
    if (g !== undefined) return g;
  }
  for (const san of cert.sans) {
    const g = s.subjects.get(san);
    if (g !== undefined) return g;
  }
  return s.subjects.get(cert.subject);
}

/** The identity of a verified client certificate, or why it is refused ("unlisted" or "expired"). */
export function mtlsIdentity(s: MtlsSettings, cert: PeerCertificate, now: number): Identity | "unlisted" | "expired" {
  if (cert.validTo <= now) return "expired";
  const grant = grantOf(s, cert);
  if (grant === undefined && s.onlyListed) return "unlisted";
  const g = grant ?? NONE;
  return Object.freeze({
    method: "mtls",
    subject: cert.commonName || cert.sans[0] || cert.subject,
    issuer: cert.issuer,
    scopes: Object.freeze([...g.scopes]),
    roles: Object.freeze([...g.roles]),
    claims: Object.freeze({ subject: cert.subject, sans: Object.freeze([...cert.sans]), fingerprint256: cert.fingerprint256 }),
    expiresAt: cert.validTo,
  });
}
