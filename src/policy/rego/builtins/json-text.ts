/**
 * JSON text as OPA writes and reads it through Go's encoding/json: the writer
 * behind json.marshal (sorted keys, HTML-safe escapes, sets as arrays, exact
 * numbers), and the reader behind json.unmarshal / json.is_valid (exact
 * numbers, Go's syntax-error wording).
 *
 * JSON.parse and JSON.stringify are not used: JSON.parse turns 2^63 into a
 * double, and JSON.stringify neither escapes `<`, `>`, `&` nor sorts keys.
 */
import { parseNumber } from "../number.ts";
import { compareStrings, RegoObject, RegoSet, scalarText, toJSONText, type Value } from "../value.ts";
import { goQuoteChar } from "./go-text.ts";

// ---------------------------------------------------------------- writing

/**
 * An object's members as Go's ast.JSON sees them: keys that are not strings
 * become their JSON text, a later key of the same text replaces an earlier
 * one, and the result is in Go's map-key order (bytes, i.e. code points).
 */
export function jsonMembers(o: RegoObject): [string, Value][] {
  const byKey = new Map<string, Value>();
  for (const [k, v] of o.entries()) byKey.set(typeof k === "string" ? k : toJSONText(k), v);
  return [...byKey].sort((a, b) => compareStrings(a[0], b[0]));
}

/** A string as encoding/json writes it (Go 1.22+): `\u003c` for `<`, `\b` and `\f` short forms, `\ufffd` for lone surrogates. */
export function jsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      esc = ESCAPES[c] ?? `\\u00${c.toString(16).padStart(2, "0")}`;
    } else if (c === 0x2028 || c === 0x2029) {
      esc = `\\u${c.toString(16)}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      esc = "\\ufffd";
    }
    if (esc === undefined) continue;
    out += s.slice(start, i) + esc;
    start = i + 1;
  }
  return `${out}${s.slice(start)}"`;
}

const ESCAPES: Record<number, string> = {
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0c: "\\f",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\",
};

/** Compact JSON, as json.Marshal writes it. */
export function marshalJSON(v: Value): string {
  return write(v, undefined, "");
}

/** Indented JSON, as json.MarshalIndent writes it (the first line is not prefixed). */
export function marshalJSONIndent(v: Value, prefix: string, indent: string): string {
  return write(v, { prefix, indent }, "");
}

interface Indent {
  readonly prefix: string;
  readonly indent: string;
}

function write(v: Value, ind: Indent | undefined, depth: string): string {
  const scalar = scalarText(v, jsonString);
  if (scalar !== undefined) return scalar;
  if (v instanceof RegoObject) {
    const members = jsonMembers(v).map(([k, val]) => [jsonString(k), val] as const);
    if (ind === undefined) return `{${members.map(([k, val]) => `${k}:${write(val, ind, depth)}`).join(",")}}`;
    if (members.length === 0) return "{}";
    const inner = depth + ind.indent;
    const nl = `\n${ind.prefix}`;
    return `{${members.map(([k, val]) => `${nl}${inner}${k}: ${write(val, ind, inner)}`).join(",")}${nl}${depth}}`;
  }
  const items = v instanceof RegoSet ? v.values() : (v as readonly Value[]);
  if (ind === undefined) return `[${items.map((e) => write(e, ind, depth)).join(",")}]`;
  if (items.length === 0) return "[]";
  const inner = depth + ind.indent;
  const nl = `\n${ind.prefix}`;
  return `[${items.map((e) => `${nl}${inner}${write(e, ind, inner)}`).join(",")}${nl}${depth}]`;
}

// ---------------------------------------------------------------- reading

/** A JSON syntax error with encoding/json's message. */
export class JSONSyntaxError extends Error {}

const WS = new Set([" ", "\t", "\n", "\r"]);

/**
 * A recursive-descent reader over one JSON text. Positions are UTF-16
 * indexes; messages never show them (Go's SyntaxError text has no offset).
 */
class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && WS.has(this.text[this.pos] as string)) this.pos++;
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private fail(ch: string | undefined, context: string): never {
    if (ch === undefined) throw new JSONSyntaxError("unexpected EOF");
    throw new JSONSyntaxError(`invalid character ${goQuoteChar(ch)} ${context}`);
  }

  value(): Value {
    this.skipSpace();
    const c = this.peek();
    switch (c) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
    }
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    return this.fail(c, "looking for beginning of value");
  }

  private literal<T extends Value>(word: string, v: T): T {
    for (let i = 0; i < word.length; i++) {
      const c = this.text[this.pos + i];
      if (c !== word[i]) this.fail(c, `in literal ${word} (expecting ${goQuoteChar(word[i] as string)})`);
    }
    this.pos += word.length;
    return v;
  }

  private number(): Value {
    const start = this.pos;
    const digits = (): number => {
      const from = this.pos;
      while (this.pos < this.text.length && (this.peek() as string) >= "0" && (this.peek() as string) <= "9") this.pos++;
      return this.pos - from;
    };
    if (this.peek() === "-") {
      this.pos++;
      const c = this.peek();
      if (c === undefined || c < "0" || c > "9") this.fail(c, "in numeric literal");
    }
    if (this.peek() === "0") this.pos++;
    else digits();
    if (this.peek() === ".") {
      this.pos++;
      if (digits() === 0) this.fail(this.peek(), "after decimal point in numeric literal");
    }
    const e = this.peek();
    if (e === "e" || e === "E") {
      this.pos++;
      const s = this.peek();
      if (s === "+" || s === "-") this.pos++;
      if (digits() === 0) this.fail(this.peek(), "in exponent of numeric literal");
    }
    const n = parseNumber(this.text.slice(start, this.pos));
    // Only a number too large for any representation ends here (an exponent past 2^53).
    if (n === undefined) throw new JSONSyntaxError(`number ${this.text.slice(start, this.pos)} is out of range`);
    return n;
  }

  string(): string {
    this.pos++; // the opening quote
    let out = "";
    let start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail(c, "");
      if (c === '"') {
        out += this.text.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < " ") this.fail(c, "in string literal");
      if (c !== "\\") {
        this.pos++;
        continue;
      }
      out += this.text.slice(start, this.pos);
      this.pos++;
      out += this.escape();
      start = this.pos;
    }
  }

  private escape(): string {
    const c = this.peek();
    this.pos++;
    switch (c) {
      case '"':
      case "\\":
      case "/":
        return c;
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "u": {
        let code = 0;
        for (let i = 0; i < 4; i++) {
          const h = this.peek();
          const d = h === undefined ? -1 : parseInt(h, 16);
          if (h === undefined || Number.isNaN(d)) this.fail(h, "in \\u hexadecimal character escape");
          code = code * 16 + d;
          this.pos++;
        }
        return String.fromCharCode(code);
      }
    }
    return this.fail(c, "in string escape code");
  }

  private object(): RegoObject {
    this.pos++;
    const o = new RegoObject();
    this.skipSpace();
    if (this.peek() === "}") {
      this.pos++;
      return o;
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() !== '"') this.fail(this.peek(), "looking for beginning of object key string");
      const key = this.string();
      this.skipSpace();
      if (this.peek() !== ":") this.fail(this.peek(), "after object key");
      this.pos++;
      o.set(key, this.value());
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "}") return o;
      if (c !== ",") this.fail(c, "after object key:value pair");
    }
  }

  private array(): Value[] {
    this.pos++;
    const out: Value[] = [];
    this.skipSpace();
    if (this.peek() === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "]") return out;
      if (c !== ",") this.fail(c, "after array element");
    }
  }
}

/**
 * Reads one JSON document as OPA's json.unmarshal does: a Go json.Decoder
 * reads the first value, and anything after it but white space is an error.
 * Throws JSONSyntaxError with Go's wording.
 */
export function unmarshalJSON(text: string): Value {
  const r = new Reader(text);
  r.skipSpace();
  if (r.pos === text.length) throw new JSONSyntaxError("EOF");
  const v = r.value();
  r.skipSpace();
  if (r.pos < text.length) {
    const c = text[r.pos] as string;
    // The decoder reads the next token: a delimiter or a scalar is named
    // in OPA's "after top-level value" error, anything else fails as a value.
    if (c === "{" || c === "[") throw new JSONSyntaxError(`error: invalid character '${c}' after top-level value`);
    const next = r.value();
    const shown = typeof next === "string" ? next : toJSONText(next);
    throw new JSONSyntaxError(`error: invalid character '${shown}' after top-level value`);
  }
  return v;
}

/** json.Valid: exactly one JSON value, white space around it allowed. */
export function isValidJSON(text: string): boolean {
  try {
    const r = new Reader(text);
    r.value();
    r.skipSpace();
    return r.pos === text.length;
  } catch (e) {
    if (e instanceof JSONSyntaxError) return false;
    throw e;
  }
}
