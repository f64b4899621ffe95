/**
 * Reading a parsed head's flat field list (`[name, value, name, value, …]`):
 * case-insensitive name matching without lowercasing, and the comma-separated
 * list syntax of RFC 9110 §5.6.1 (`#element`) that several fields share.
 */
import { HTAB, SP, TCHAR } from "./chars.ts";

/** True when `name` equals `lower` ignoring ASCII case. `lower` must be lowercase letters, digits and "-". */
export function nameIs(name: string, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  for (let i = 0; i < n; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** How many fields are named `lower`. */
export function countFields(fields: readonly string[], lower: string): number {
  let n = 0;
  for (let i = 0; i < fields.length; i += 2) if (nameIs(fields[i]!, lower)) n++;
  return n;
}

/** The value of the first field named `lower`, or undefined. */
export function fieldValue(fields: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (nameIs(fields[i]!, lower)) return fields[i + 1];
  return undefined;
}

/** True for SP and HTAB (OWS, RFC 9110 §5.6.3). */
export function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** The end of the token starting at `i` in `s` (i when there is none). */
export function tokenEnd(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * The lowercased tokens of every field named `lower`, read as
 * `#token` lists (empty elements skipped, RFC 9110 §5.6.1). Elements that are
 * not a single token (a parameter, a quoted string) are returned whole,
 * trimmed and lowercased, so a caller comparing against a token never
 * matches them.
 */
export function listTokens(fields: readonly string[], lower: string): string[] {
  const out: string[] = [];
  for (let f = 0; f < fields.length; f += 2) {
    if (!nameIs(fields[f]!, lower)) continue;
    const v = fields[f + 1]!;
    let i = 0;
    while (i < v.length) {
      const c = v.charCodeAt(i);
      if (c === 0x2c || isOws(c)) {
        i++;
        continue;
      }
      let e = v.indexOf(",", i);
      if (e < 0) e = v.length;
      let z = e;
      while (z > i && isOws(v.charCodeAt(z - 1))) z--;
      out.push(v.slice(i, z).toLowerCase());
      i = e + 1;
    }
  }
  return out;
}
