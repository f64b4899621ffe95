/**
 * API keys: each stands for its own identity (method api_key, the key's id
 * as subject, its scopes and roles). Only SHA-256 digests are held; a
 * presented key is hashed and compared with every digest in constant time
 * (no early exit on the first differing byte, none on the first match), so
 * neither the timing of one comparison nor which entry matched leaks.
 */
import type { Identity } from "./identity.ts";

export interface ApiKeyEntry {
  readonly digest: Uint8Array;
  readonly identity: Identity;
}

export interface ApiKeySettings {
  /** Lowercase name of the header carrying the key. */
  readonly header: string;
  /** Lowercase Authorization scheme also accepted ("apikey"), or "" for none. */
  readonly scheme: string;
  /** The scheme as configured, for the challenge. */
  readonly schemeName: string;
  readonly entries: readonly ApiKeyEntry[];
}

export function sha256(text: string): Uint8Array {
  return new Uint8Array(Bun.CryptoHasher.hash("sha256", text));
}

/** The identity of an API key's entry. */
export function apiKeyIdentity(id: string, scopes: readonly string[], roles: readonly string[]): Identity {
  return Object.freeze({
    method: "api_key",
    subject: id,
    issuer: "",
    scopes: Object.freeze([...scopes]),
    roles: Object.freeze([...roles]),
    claims: Object.freeze({ key_id: id }),
  });
}

/** The identity of a presented key, or undefined: every digest is compared, whole, whatever matches. */
export function findApiKey(entries: readonly ApiKeyEntry[], presented: string): Identity | undefined {
  const d = sha256(presented);
  let found: Identity | undefined;
  for (const e of entries) {
    const x = e.digest;
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= (x[i] as number) ^ (d[i] as number);
    // Branch-free choice: the match is kept without ending the loop.
    found = diff === 0 ? e.identity : found;
  }
  return found;
}
