/**
 * Rate-limit keys: which bucket a request falls in. A key is a list of parts
 * (the client address, a header, a claim of the verified identity, the
 * identity's subject or API key id, the route) joined into one string. A part
 * that is absent (no such header, an anonymous caller for `subject`) makes
 * the key missing: the limit then either shares one bucket among all such
 * requests or does not apply to them (`missing_key`).
 *
 * Values stay in the process: a key that goes to Redis is hashed first
 * (`storageKey`), so header values that are credentials never reach a store.
 */
import type { Exchange } from "../pipeline/exchange.ts";
import { getField } from "../pipeline/fields.ts";

export type KeyPart =
  | { readonly kind: "client_ip" }
  | { readonly kind: "route" }
  | { readonly kind: "subject" }
  | { readonly kind: "api_key" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "claim"; readonly path: readonly string[] };

/** Separates parts: a control character no header value or route name contains. */
const SEP = "\u0001";

/** The key of `ex` under `parts`, or undefined when a part is absent. */
export function keyOf(ex: Exchange, parts: readonly KeyPart[]): string | undefined {
  if (parts.length === 1) return partOf(ex, parts[0] as KeyPart);
  let key = "";
  for (let i = 0; i < parts.length; i++) {
    const v = partOf(ex, parts[i] as KeyPart);
    if (v === undefined) return undefined;
    key = i === 0 ? v : `${key}${SEP}${v}`;
  }
  return key;
}

function partOf(ex: Exchange, p: KeyPart): string | undefined {
  switch (p.kind) {
    case "client_ip":
      return ex.peer.address;
    case "route":
      return ex.route?.name;
    case "subject": {
      const s = ex.identity?.subject;
      return s === undefined || s === "" ? undefined : s;
    }
    case "api_key": {
      const id = ex.identity;
      return id !== undefined && id.method === "api_key" && id.subject !== "" ? id.subject : undefined;
    }
    case "header":
      return getField(ex.fields, p.name);
    case "claim":
      return claimOf(ex.identity?.claims, p.path);
  }
}

/** A claim by path ("tenant.id" → claims.tenant.id) as text: strings as they are, numbers and booleans printed; objects and lists are not keys. */
export function claimOf(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): string | undefined {
  let v: unknown = claims;
  for (const seg of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** Keys kept in the process as they are up to this length; longer ones are hashed (bounded memory per key). */
const LOCAL_KEY_MAX = 128;

/** The key as the local store keeps it: as is when short, else its SHA-256. */
export function localKey(key: string): string {
  return key.length <= LOCAL_KEY_MAX ? key : hashKey(key);
}

/** The Redis key of a limit's bucket: prefix, limit id, and the key's SHA-256 (base64url, 128 bits): no raw value reaches Redis. */
export function storageKey(prefix: string, limitId: string, key: string): string {
  return `${prefix}${limitId}:${hashKey(key)}`;
}

function hashKey(key: string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(key);
  return h.digest("base64url").slice(0, 22);
}
