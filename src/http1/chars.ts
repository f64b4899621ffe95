/**
 * Byte classes of the HTTP/1.1 grammar (RFC 9110 §5.6, RFC 9112), as lookup
 * tables indexed by byte: the codec tests a byte with one array read, never a
 * regular expression.
 */

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const DQUOTE = 0x22;
export const COLON = 0x3a;
export const SEMI = 0x3b;
export const EQUALS = 0x3d;
export const BACKSLASH = 0x5c;

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (pred(c)) t[c] = 1;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";

/** tchar (RFC 9110 §5.6.2): the bytes of a token (methods, field names, codings). */
export const TCHAR = table(
  (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TCHAR_PUNCT.includes(String.fromCharCode(c)),
);

/** field-vchar, SP and HTAB (RFC 9110 §5.5): what a field value may hold. obs-text (0x80–0xFF) included. */
export const FIELD_VALUE = table((c) => c === HTAB || (c >= 0x20 && c !== 0x7f));

/**
 * Bytes allowed in a request-target: visible ASCII (RFC 3986 characters plus
 * the few that clients send unencoded, like `|` and `{}`), without "#" (a
 * fragment is never sent, RFC 9112 §3.2). No whitespace, controls or obs-text.
 */
export const TARGET = table((c) => c > 0x20 && c < 0x7f && c !== 0x23);

/** qdtext (RFC 9110 §5.6.4): the bytes of a quoted-string other than `"` and `\`. */
export const QDTEXT = table((c) => c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80);

/** What may follow `\` in a quoted-pair: HTAB, SP, VCHAR, obs-text. */
export const QUOTED_PAIR = table((c) => c === HTAB || (c >= 0x20 && c !== 0x7f));

/** The value of a hexadecimal digit, or -1. */
export const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}
