/**
 * The field grammar of RFC 9110 §5, as predicates: what may appear in a header
 * name and value. Used to reject bad header names and values where they enter
 * (configuration, CLI flags) so the data plane never meets one.
 *
 *   field-name  = token = 1*tchar
 *   tchar       = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *                 "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 *   field-value = *field-content   (visible ASCII, obs-text 0x80–0xFF, SP, HTAB;
 *                 no leading or trailing whitespace)
 */

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** True when `s` is a token (a valid field name or method). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * Why `value` is not a valid field value, or undefined when it is. Values are
 * bytes on the wire: characters above U+00FF have no single-byte form and are
 * refused, as are control characters (CR, LF and NUL above all: they would
 * split or cut the header).
 */
export function fieldValueProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) return `contains a line break (CR or LF) at character ${i + 1}, which would split the header`;
    if (c === 0) return `contains a NUL character at character ${i + 1}`;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return `contains the control character U+${c.toString(16).padStart(4, "0").toUpperCase()} at character ${i + 1}`;
    if (c > 0xff) {
      const cp = value.codePointAt(i) ?? c;
      return `contains ${JSON.stringify(String.fromCodePoint(cp))} (U+${cp.toString(16).toUpperCase().padStart(4, "0")}) at character ${i + 1}; header values are bytes, so only ASCII and Latin-1 characters can be sent (percent-encode others)`;
    }
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return "begins or ends with whitespace, which receivers strip";
  return undefined;
}

/** Why `name` is not a valid field name, or undefined when it is. */
export function fieldNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (isToken(name)) return undefined;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) {
      return `contains ${JSON.stringify(name[i])} at character ${i + 1}; a header name is a token (letters, digits and !#$%&'*+-.^_\`|~)`;
    }
  }
  return undefined;
}
