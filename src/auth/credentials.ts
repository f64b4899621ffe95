/**
 * Where credentials are found in a request — a bearer token in a header
 * (RFC 6750 §2.1), a cookie or a query parameter (§2.3, off unless
 * configured); an API key in its header or as `Authorization: ApiKey …` —
 * and the identity headers sent upstream. Reads the header list in place:
 * nothing is copied for a request that carries no credential.
 */
import type { Exchange } from "../pipeline/exchange.ts";
import { getField, getFieldList } from "../pipeline/fields.ts";
import type { ApiKeySettings } from "./api-keys.ts";
import { claimAt } from "./claims.ts";
import type { Identity } from "./identity.ts";

export type TokenSource =
  | { readonly kind: "header"; readonly name: string; /** lowercase scheme, or "" for the whole value */ readonly scheme: string }
  | { readonly kind: "cookie"; readonly name: string }
  | { readonly kind: "query"; readonly name: string };

/** The credential after "<scheme> " in a header value (scheme compared case-insensitively, RFC 9110 §11.1), or undefined. */
export function afterScheme(value: string, lowerScheme: string): string | undefined {
  const n = lowerScheme.length;
  if (value.length <= n || (value.charCodeAt(n) !== 32 && value.charCodeAt(n) !== 9)) return undefined;
  if (value.slice(0, n).toLowerCase() !== lowerScheme) return undefined;
  return value.slice(n + 1).trim();
}

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      let v = part.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1); // RFC 6265 §4.1.1 DQUOTE form
      return v;
    }
  }
  return undefined;
}

function queryValue(query: string, name: string): string | undefined {
  if (query.length < 2) return undefined;
  for (const part of query.slice(1).split("&")) {
    const eq = part.indexOf("=");
    if ((eq < 0 ? part : part.slice(0, eq)) !== name) continue;
    const raw = eq < 0 ? "" : part.slice(eq + 1);
    try {
      return decodeURIComponent(raw.replace(/\+/g, " "));
    } catch {
      return raw; // malformed escapes: the token check refuses it
    }
  }
  return undefined;
}

/** The token of the first source present, or undefined when none carries one. */
export function bearerToken(ex: Exchange, sources: readonly TokenSource[]): string | undefined {
  for (const s of sources) {
    let v: string | undefined;
    if (s.kind === "header") {
      const h = getField(ex.fields, s.name);
      if (h !== undefined) v = s.scheme === "" ? h.trim() : afterScheme(h, s.scheme);
    } else if (s.kind === "cookie") {
      const c = getFieldList(ex.fields, "cookie", "; ");
      if (c !== undefined) v = cookieValue(c, s.name);
    } else {
      v = queryValue(ex.query, s.name);
    }
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The API key the request carries, or undefined. */
export function apiKey(ex: Exchange, s: ApiKeySettings): string | undefined {
  const v = getField(ex.fields, s.header);
  if (v !== undefined) return v.trim();
  if (s.scheme === "") return undefined;
  const a = getField(ex.fields, "authorization");
  return a === undefined ? undefined : afterScheme(a, s.scheme);
}

/** One identity header sent upstream. */
export interface IdentityHeader {
  /** As configured (the case sent). */
  readonly name: string;
  readonly lower: string;
  readonly from: "subject" | "issuer" | "method" | "scopes" | "roles" | "claim";
  /** For a claim: its path. */
  readonly path: readonly string[];
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** A header value from identity text: printable ASCII as is, anything else percent-encoded (no CR/LF can get through). */
export function headerText(s: string): string {
  return PRINTABLE.test(s) ? s : encodeURIComponent(s);
}

/** The value of an identity header, or undefined when the identity has none. */
export function identityHeaderValue(h: IdentityHeader, id: Identity): string | undefined {
  let v: string;
  switch (h.from) {
    case "subject":
      v = id.subject;
      break;
    case "issuer":
      v = id.issuer;
      break;
    case "method":
      v = id.method;
      break;
    case "scopes":
      v = id.scopes.join(" ");
      break;
    case "roles":
      v = id.roles.join(",");
      break;
    default: {
      const c = claimAt(id.claims, h.path);
      if (c === undefined || c === null) return undefined;
      v = typeof c === "string" ? c : JSON.stringify(c);
    }
  }
  return v === "" ? undefined : headerText(v);
}
