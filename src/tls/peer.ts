/**
 * The verified client certificate of an mTLS connection, as Ficus layers see
 * it (PeerCertificate in src/auth/identity.ts), made from what the engine
 * reads off the socket (node:tls's form). Converted once per connection: the
 * engine keeps one object per connection, and the result is cached by it.
 */
import type { PeerCertificate as RawCertificate } from "node:tls";
import type { Identity, PeerCertificate } from "../auth/identity.ts";

const cache = new WeakMap<RawCertificate, PeerCertificate>();

/** RFC 4514 §2.4: characters escaped in an attribute value. */
function escapeValue(v: string): string {
  let out = v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith("#") || out.startsWith(" ")) out = `\\${out}`;
  if (out.endsWith(" ") && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** "CN=orders-service,O=Acme" from node's object form, attributes in the certificate's order. */
export function distinguishedName(dn: Readonly<Record<string, string | string[] | undefined>> | undefined): string {
  if (dn === undefined || dn === null || typeof dn !== "object") return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(dn)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${k}=${escapeValue(String(one))}`);
  }
  return parts.join(",");
}

/** Splits node's subjectaltname ("DNS:a, URI:spiffe://x, IP Address:10.0.0.1"), where a value with ", " in it is a JSON string. */
export function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text.charCodeAt(colon + 1) === 0x22 /* " */) {
      // A JSON string literal: find its closing quote.
      let j = colon + 2;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      } catch {
        value = text.slice(colon + 2, j);
      }
      next = text.indexOf(", ", j + 1);
    } else {
      next = text.indexOf(", ", colon + 1);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    out.push(`${kind === "IP Address" ? "IP" : kind}:${value}`);
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

/** The certificate as layers see it; cached per raw object (one per connection). */
export function toPeerCertificate(raw: RawCertificate): PeerCertificate {
  let pc = cache.get(raw);
  if (pc === undefined) {
    const cn = raw.subject?.CN as string | string[] | undefined;
    pc = Object.freeze({
      subject: distinguishedName(raw.subject as unknown as Record<string, string | string[]>),
      commonName: (Array.isArray(cn) ? cn[0] : cn) ?? "",
      sans: Object.freeze(subjectAltNames(raw.subjectaltname)),
      issuer: distinguishedName(raw.issuer as unknown as Record<string, string | string[]>),
      fingerprint256: raw.fingerprint256 ?? "",
      validTo: raw.valid_to ? Date.parse(raw.valid_to) : 0,
    });
    cache.set(raw, pc);
  }
  return pc;
}

/**
 * The identity an mTLS certificate gives (for an auth layer that accepts
 * client certificates): subject = the CN, else the first SAN; issuer = the
 * issuer DN; claims = the certificate's fields; no scopes or roles of its own.
 */
export function certificateIdentity(pc: PeerCertificate): Identity {
  return Object.freeze({
    method: "mtls",
    subject: pc.commonName !== "" ? pc.commonName : (pc.sans[0] ?? pc.subject),
    issuer: pc.issuer,
    scopes: [],
    roles: [],
    claims: Object.freeze({ subject: pc.subject, common_name: pc.commonName, sans: pc.sans, issuer: pc.issuer, fingerprint256: pc.fingerprint256, valid_to: new Date(pc.validTo).toISOString() }),
    expiresAt: pc.validTo,
  });
}
