/**
 * Does one path segment look like an identifier rather than a word? The
 * heuristics of endpoint discovery (observe mode, issue 14): numbers, UUIDs,
 * hex digests of 8 or more characters, long base64/ULID-like tokens, dates,
 * slugs with a numeric part, e-mail addresses. Version segments (v1, v2.1) and
 * plain words stay literal. Each check walks the characters once: no regex and
 * no allocation on the request path.
 */

/** Why a segment became a parameter; `undefined` from `idKind` means it stays literal. */
export type IdKind = "numeric" | "uuid" | "hex" | "token" | "date" | "slug" | "email";

const C0 = 48;
const C9 = 57;
const isDigit = (c: number) => c >= C0 && c <= C9;
const isLower = (c: number) => c >= 97 && c <= 122;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const DASH = 45;
const UNDERSCORE = 95;
const DOT = 46;
const AT = 64;

/** Tokens (base64url, ULID, opaque ids) need this many characters before a digit makes them ids. */
export const TOKEN_MIN_LENGTH = 16;
/** Hex strings need this many characters (and a digit) to count as digests. */
export const HEX_MIN_LENGTH = 8;

/** The kind of identifier `s` looks like, or `undefined` for a segment that stays literal. */
export function idKind(s: string): IdKind | undefined {
  const n = s.length;
  if (n === 0) return undefined;
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let upper = 0;
  let dashes = 0;
  let underscores = 0;
  let dots = 0;
  let other = 0;
  let at = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      hex++;
    } else if (isLower(c) || isUpper(c)) {
      letters++;
      if (isUpper(c)) upper++;
      if (isHex(c)) hex++;
    } else if (c === DASH) dashes++;
    else if (c === UNDERSCORE) underscores++;
    else if (c === DOT) dots++;
    else if (c === AT && at < 0) at = i;
    else other++;
  }
  if (digits === n) return "numeric";
  if (at > 0) return emailish(s, at) ? "email" : undefined;
  // "v1", "v2", "V3", "v1.2": API versions stay literal.
  if ((s.charCodeAt(0) === 118 || s.charCodeAt(0) === 86) && digits === n - 1 - dots && digits > 0 && isDigit(s.charCodeAt(1))) return undefined;
  if (n === 36 && dashes === 4 && hex === 32 && isUuid(s)) return "uuid";
  if (digits > 0 && dashes === 0 && underscores === 0 && dots === 0 && other === 0 && hex === n && n >= HEX_MIN_LENGTH) return "hex";
  if (n >= 10 && isDate(s)) return "date";
  // Opaque tokens: long, base64url characters, letters and digits (two digits when dashes could make it a phrase like "oauth2-login-callback").
  if (other === 0 && dots === 0 && n >= TOKEN_MIN_LENGTH && letters > 0 && (digits >= 2 || (digits === 1 && dashes + underscores === 0))) return "token";
  // A 26-character ULID in Crockford base32 (upper case and digits).
  if (n === 26 && other === 0 && dashes === 0 && upper === letters && digits > 0) return "token";
  if ((dashes > 0 || underscores > 0) && digits > 0 && other === 0 && hasNumericPart(s)) return "slug";
  return undefined;
}

/** 8-4-4-4-12 hex digits (RFC 9562 §4 text form); the caller already counted 32 hex digits and 4 dashes. */
function isUuid(s: string): boolean {
  return s.charCodeAt(8) === DASH && s.charCodeAt(13) === DASH && s.charCodeAt(18) === DASH && s.charCodeAt(23) === DASH;
}

/** YYYY-MM-DD, alone or starting an RFC 3339 date-time (`2024-05-01T10:00:00Z`). */
const DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9] as const;

function isDate(s: string): boolean {
  for (const i of DATE_DIGITS) if (!isDigit(s.charCodeAt(i))) return false;
  if (s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH) return false;
  const month = (s.charCodeAt(5) - C0) * 10 + (s.charCodeAt(6) - C0);
  const day = (s.charCodeAt(8) - C0) * 10 + (s.charCodeAt(9) - C0);
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  return s.length === 10 || s.charCodeAt(10) === 84 || s.charCodeAt(10) === 116;
}

/** Something before the @ and a dot with something after it in the domain. */
function emailish(s: string, at: number): boolean {
  const dot = s.indexOf(".", at + 2);
  return dot > 0 && dot < s.length - 1;
}

/** A dash- or underscore-separated part made only of digits: `my-post-123`, `ORD-2024-0042`, `item_7`. */
function hasNumericPart(s: string): boolean {
  let partDigits = 0;
  let partLength = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : DASH;
    if (c === DASH || c === UNDERSCORE) {
      if (partLength > 0 && partDigits === partLength) return true;
      partDigits = 0;
      partLength = 0;
    } else {
      partLength++;
      if (isDigit(c)) partDigits++;
    }
  }
  return false;
}
