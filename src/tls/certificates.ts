/**
 * Reading and checking the PEM files of a TLS config: each certificate
 * parses, is inside its validity period, and its private key belongs to it;
 * each CA bundle holds at least one certificate still valid. Every failure is
 * a FicusError naming the config field and the path; a key's contents never
 * appear in a message.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { FicusError } from "../core/errors.ts";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** What a loaded certificate tells an operator (never a key). */
export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly sans: string;
  /** Not-after, ms since the epoch. */
  readonly validTo: number;
  readonly fingerprint256: string;
}

/** A file's text, or FICUS_TLS_FILE naming the field and the path. */
export function readPem(field: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new FicusError("FICUS_TLS_FILE", `${field}: cannot read ${JSON.stringify(path)} (${why})`, { cause: err });
  }
}

/** The certificates of a PEM text, in order; FICUS_TLS_CERT_INVALID when there is none or one does not parse. */
export function parseCertificates(field: string, path: string, pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new FicusError("FICUS_TLS_CERT_INVALID", `${field}: ${JSON.stringify(path)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new FicusError("FICUS_TLS_CERT_INVALID", `${field}: certificate ${i + 1} of ${JSON.stringify(path)} does not parse (${(err as Error).message})`, { cause: err });
    }
  });
}

export function describe(c: X509Certificate): CertificateInfo {
  return {
    subject: c.subject.replaceAll("\n", ","),
    issuer: c.issuer.replaceAll("\n", ","),
    sans: c.subjectAltName ?? "",
    validTo: Date.parse(c.validTo),
    fingerprint256: c.fingerprint256,
  };
}

function outside(c: X509Certificate, now: number): string | undefined {
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  if (to < now) return `expired on ${c.validTo}`;
  if (from > now) return `not valid before ${c.validFrom}`;
  return undefined;
}

/** The leaf of a certificate chain file, checked to be within its validity period. */
export function checkedLeaf(field: string, path: string, pem: string, now: number): X509Certificate {
  const leaf = parseCertificates(field, path, pem)[0] as X509Certificate;
  const problem = outside(leaf, now);
  if (problem) {
    throw new FicusError("FICUS_TLS_CERT_EXPIRED", `${field}: the certificate in ${JSON.stringify(path)} (${leaf.subject.replaceAll("\n", ",")}) is ${problem}; it is valid from ${leaf.validFrom} to ${leaf.validTo}`);
  }
  return leaf;
}

/** A private key, checked to belong to `leaf`. */
export function checkedKey(field: string, path: string, pem: string, leaf: X509Certificate, certField: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    // The library's message can quote the input: name the file only.
    throw new FicusError("FICUS_TLS_CERT_INVALID", `${field}: ${JSON.stringify(path)} holds no usable PEM private key (an encrypted key is not supported)`, { cause: err });
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new FicusError("FICUS_TLS_KEY_MISMATCH", `${field}: the key in ${JSON.stringify(path)} does not belong to the certificate of ${certField} (${leaf.subject.replaceAll("\n", ",")})`);
  }
  return key;
}

/** A CA bundle: at least one certificate, and at least one of them within its validity period. */
export function checkedBundle(field: string, path: string, pem: string, now: number): X509Certificate[] {
  const certs = parseCertificates(field, path, pem);
  if (certs.every((c) => outside(c, now) !== undefined)) {
    const c = certs[0] as X509Certificate;
    throw new FicusError("FICUS_TLS_CERT_EXPIRED", `${field}: every certificate in ${JSON.stringify(path)} is outside its validity period (the first, ${c.subject.replaceAll("\n", ",")}, is ${outside(c, now)})`);
  }
  return certs;
}
