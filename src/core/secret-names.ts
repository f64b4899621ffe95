/**
 * Which names look secret: header fields, query and form parameters, JSON
 * keys, configuration keys. Shared by redaction of stored traffic
 * (migration/redact.ts) and of the effective configuration (/admin/config).
 *
 * A name looks secret when one of its word parts matches a secret word. Word
 * parts are what is left between separators (any character but a letter or a
 * digit: `-`, `_`, `.`, `[`…) after camelCase and letter/digit boundaries are
 * split too: `X-Api-Key` → x, api, key; `apiKey` → api, key; `PHPSESSID` →
 * phpsessid. A word of five letters or more matches a part that contains it
 * (`sessionid`, `accesstoken`, `PHPSESSID` through `sessid`); a shorter word
 * matches only a whole part or its plural (`key`, `keys`, `api_key`, but not
 * `monkey` or `keyboard`; `auth` but not `author`). A configured entry of
 * several parts (`tenant-id`) matches the same parts in a row, exactly.
 */

/** The built-in secret words, for header names, query and form parameters, and JSON keys alike. */
export const SECRET_WORDS: readonly string[] = [
  "token",
  "secret",
  "password",
  "passwd",
  "passphrase",
  "pass",
  "pwd",
  "pw",
  "key",
  "apikey",
  "accesskey",
  "privatekey",
  "auth",
  "authorization",
  "session",
  "sessid",
  "signature",
  "sig",
  "credential",
  "jwt",
  "cookie",
  "csrf",
  "xsrf",
  "otp",
];
/** Built-in whole names: header fields that are credentials by definition (RFC 9110 §11.6.2, §11.7.2; RFC 6265). */
export const SECRET_HEADER_NAMES: readonly string[] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];
/**
 * Built-in whole query names: `code`, the OAuth 2.0 authorization code (RFC 6749 §4.1.2), a bearer credential
 * until redeemed. Only the whole name: `country_code` or `error_code` stay visible (and JSON keys named
 * `code` too, error codes being what a diff is read for).
 */
export const SECRET_QUERY_NAMES: readonly string[] = ["code"];
/**
 * The word parts of a name, lower-cased: split at every character that is not
 * an ASCII letter or digit, between a lower-case and an upper-case letter,
 * before the last capital of a run followed by a lower-case letter (APIKey →
 * api, key), and between letters and digits. One pass, linear in the name.
 */
export function wordParts(name: string): string[] {
  const parts: string[] = [];
  let start = -1;
  let prev = 0; // 0 separator, 1 lower, 2 upper, 3 digit
  const kind = (c: number) => (c >= 97 && c <= 122 ? 1 : c >= 65 && c <= 90 ? 2 : c >= 48 && c <= 57 ? 3 : 0);
  for (let i = 0; i <= name.length; i++) {
    const k = i < name.length ? kind(name.charCodeAt(i)) : 0;
    let split = k === 0 || prev === 0;
    if (!split) {
      if ((prev === 3) !== (k === 3)) split = true;
      else if (prev === 1 && k === 2) split = true;
      else if (prev === 2 && k === 2 && i + 1 < name.length && kind(name.charCodeAt(i + 1)) === 1) split = true;
    }
    if (split) {
      if (start >= 0) parts.push(name.slice(start, i).toLowerCase());
      start = k === 0 ? -1 : i;
    }
    prev = k;
  }
  return parts;
}

function partMatches(part: string, word: string): boolean {
  return word.length >= 5 ? part.includes(word) : part === word || part === `${word}s`;
}

/** Decides whether a name (header, parameter or key) is secret; cached, the same names recur. */
export class NameRule {
  private readonly words: string[][];
  private readonly names: ReadonlySet<string>;
  private readonly keep: ReadonlySet<string>;
  private readonly cache = new Map<string, boolean>();

  constructor(words: readonly string[], names: readonly string[], keep: readonly string[]) {
    this.words = words.map(wordParts).filter((w) => w.length > 0);
    this.names = new Set(names.map((n) => n.toLowerCase()));
    this.keep = new Set(keep.map((n) => n.toLowerCase()));
  }

  matches(name: string): boolean {
    let hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const lower = name.toLowerCase();
    if (this.keep.has(lower)) hit = false;
    else if (this.names.has(lower)) hit = true;
    else {
      const parts = wordParts(name);
      hit = this.words.some((w) => (w.length === 1 ? parts.some((p) => partMatches(p, w[0] as string)) : inRow(parts, w)));
    }
    // Names come from traffic: the cache is bounded.
    if (this.cache.size < 4096) this.cache.set(name, hit);
    return hit;
  }
}

function inRow(parts: readonly string[], word: readonly string[]): boolean {
  for (let i = 0; i + word.length <= parts.length; i++) if (word.every((w, j) => parts[i + j] === w)) return true;
  return false;
}
