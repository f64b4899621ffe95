/**
 * Go's ways of writing text back in error messages and of treating strings as
 * bytes, for the built-ins whose OPA wording comes straight from Go's standard
 * library (encoding/base64, net/url, encoding/json, time).
 *
 * Rego strings are Go strings, that is UTF-8 bytes; here they are JS strings.
 * Bytes that a decoder produces (base64.decode, hex.decode, urlquery.decode)
 * become a string through UTF-8 with U+FFFD for invalid sequences, which is
 * what OPA shows of such a string once it leaves as JSON.
 */

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export function utf8Bytes(s: string): Uint8Array {
  return ENCODER.encode(s);
}

export function utf8Text(bytes: Uint8Array): string {
  return DECODER.decode(bytes);
}

const HEX = "0123456789abcdef";

function hexByte(b: number): string {
  return `${HEX[b >> 4]}${HEX[b & 15]}`;
}

/** Printable as Go's strconv.IsPrint judges it: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** One code point as strconv.Quote writes it inside its quotes. */
function quoteCodePoint(cp: number, quote: string): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === "\\") return `\\${ch}`;
  if (PRINTABLE.test(ch)) return ch;
  switch (ch) {
    case "\x07":
      return "\\a";
    case "\b":
      return "\\b";
    case "\f":
      return "\\f";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case "\v":
      return "\\v";
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${hexByte(cp)}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/**
 * strconv.Quote of a byte string: printable runes as they are, the usual
 * escapes, `\xNN` for bytes that are not UTF-8.
 */
export function goQuoteBytes(bytes: Uint8Array, quote = '"'): string {
  let out = quote;
  let i = 0;
  while (i < bytes.length) {
    const { cp, size } = decodeRune(bytes, i);
    out += cp < 0 ? `\\x${hexByte(bytes[i] as number)}` : quoteCodePoint(cp, quote);
    i += size;
  }
  return out + quote;
}

/** strconv.Quote of a string. */
export function goQuote(s: string): string {
  return goQuoteBytes(utf8Bytes(s));
}

/**
 * One UTF-8 sequence at `i`: its code point, or -1 with size 1 when the byte
 * there does not start a valid sequence (as Go's utf8.DecodeRune reports).
 */
export function decodeRune(bytes: Uint8Array, i: number): { cp: number; size: number } {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return { cp: b0, size: 1 };
  const need = b0 >= 0xf0 && b0 <= 0xf4 ? 3 : b0 >= 0xe0 ? (b0 <= 0xef ? 2 : 0) : b0 >= 0xc2 ? 1 : 0;
  if (need === 0) return { cp: -1, size: 1 };
  let cp = b0 & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const b = bytes[i + k];
    if (b === undefined || (b & 0xc0) !== 0x80) return { cp: -1, size: 1 };
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { cp: -1, size: 1 };
  return { cp, size: need + 1 };
}

/**
 * The time package's own quoting (ParseError, ParseDuration): only `"` and
 * `\` escaped, every byte of a non-ASCII or control character as `\xNN`.
 */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of utf8Bytes(ch)) out += `\\x${hexByte(b)}`;
    } else {
      out += ch === '"' || ch === "\\" ? `\\${ch}` : ch;
    }
  }
  return `${out}"`;
}

/** A character as encoding/json's syntax errors show it: `'x'`, `'\n'`, `'"'`, `'\''`. */
export function goQuoteChar(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return "'\"'";
  const q = goQuote(ch);
  return `'${q.slice(1, -1)}'`;
}
