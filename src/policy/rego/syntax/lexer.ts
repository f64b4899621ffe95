/**
 * The Rego lexer: source text → tokens with line/column, and whether a newline
 * came before each token (Rego separates body expressions by newlines, so the
 * parser needs it). String literals are decoded here (JSON escapes, \uXXXX with
 * surrogate pairs; raw strings in backticks taken verbatim).
 */
import { syntaxError } from "./errors.ts";

export type TokKind = "ident" | "number" | "string" | "punct" | "eof";

export interface Token {
  readonly kind: TokKind;
  /** Identifier name, number lexeme, decoded string, or the punctuation itself. */
  readonly text: string;
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  /** The offset just past the token (adjacency checks). */
  readonly end: number;
  /** A newline separates this token from the previous one. */
  readonly nl: boolean;
  /** The token is a raw (backtick) string. */
  readonly raw?: boolean;
}

const PUNCT2 = [":=", "==", "!=", "<=", ">="];
const PUNCT1 = "{}[]().,;:=<>+-*/%&|";

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function tokenize(src: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let nl = false;
  const n = src.length;
  const pos = (at: number) => ({ file, line, col: at - lineStart + 1 });
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      nl = true;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 35) {
      while (i < n && src.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    const col = i - lineStart + 1;
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      out.push({ kind: "ident", text: src.slice(start, i), line, col, offset: start, end: i, nl });
      nl = false;
      continue;
    }
    if (isDigit(c)) {
      i = scanNumber(src, i, file, line, lineStart);
      out.push({ kind: "number", text: src.slice(start, i), line, col, offset: start, end: i, nl });
      nl = false;
      continue;
    }
    if (c === 34) {
      const [text, next] = scanString(src, i, file, line, lineStart);
      i = next;
      out.push({ kind: "string", text, line, col, offset: start, end: i, nl });
      nl = false;
      continue;
    }
    if (c === 96) {
      const close = src.indexOf("`", i + 1);
      if (close < 0) throw syntaxError("non-terminated raw string", pos(start));
      const text = src.slice(i + 1, close);
      for (let j = i + 1; j < close; j++) {
        if (src.charCodeAt(j) === 10) {
          line++;
          lineStart = j + 1;
        }
      }
      i = close + 1;
      out.push({ kind: "string", text, line, col, offset: start, end: i, nl, raw: true });
      nl = false;
      continue;
    }
    const two = src.slice(i, i + 2);
    let p: string | undefined;
    if (PUNCT2.includes(two)) p = two;
    if (p === undefined && PUNCT1.includes(src[i] as string)) p = src[i] as string;
    if (p === undefined) {
      const ch = String.fromCodePoint(src.codePointAt(i) as number);
      throw syntaxError(`illegal token ${JSON.stringify(ch)}`, pos(start));
    }
    i += p.length;
    out.push({ kind: "punct", text: p, line, col, offset: start, end: i, nl });
    nl = false;
  }
  out.push({ kind: "eof", text: "", line, col: i - lineStart + 1, offset: i, end: i, nl });
  return out;
}

function scanNumber(src: string, i: number, file: string, line: number, lineStart: number): number {
  const n = src.length;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  if (src[i] === "." && isDigit(src.charCodeAt(i + 1))) {
    i++;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  if (src[i] === "e" || src[i] === "E") {
    let j = i + 1;
    if (src[j] === "+" || src[j] === "-") j++;
    if (!isDigit(src.charCodeAt(j))) throw syntaxError("illegal number format", { file, line, col: i - lineStart + 1 });
    i = j;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  if (i < n && isIdentStart(src.charCodeAt(i))) throw syntaxError("illegal number format", { file, line, col: i - lineStart + 1 });
  return i;
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

function scanString(src: string, i: number, file: string, line: number, lineStart: number): [string, number] {
  const n = src.length;
  let out = "";
  let j = i + 1;
  let chunk = j;
  for (;;) {
    if (j >= n || src.charCodeAt(j) === 10) throw syntaxError("non-terminated string", { file, line, col: i - lineStart + 1 });
    const c = src.charCodeAt(j);
    if (c === 34) {
      out += src.slice(chunk, j);
      return [out, j + 1];
    }
    if (c !== 92) {
      j++;
      continue;
    }
    out += src.slice(chunk, j);
    const e = src[j + 1];
    if (e === undefined) throw syntaxError("non-terminated string", { file, line, col: i - lineStart + 1 });
    if (e === "u") {
      const hex = src.slice(j + 2, j + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw syntaxError("illegal escape sequence", { file, line, col: j - lineStart + 1 });
      out += String.fromCharCode(parseInt(hex, 16));
      j += 6;
    } else {
      const d = ESCAPES[e];
      if (d === undefined) throw syntaxError("illegal escape sequence", { file, line, col: j - lineStart + 1 });
      out += d;
      j += 2;
    }
    chunk = j;
  }
}
