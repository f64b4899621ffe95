/**
 * glob.match and glob.quote_meta, with the pattern syntax of gobwas/glob (the
 * library OPA uses): `*` any run of characters that are not delimiters, `**`
 * any run of characters, `?` one character that is not a delimiter, `[abc]`
 * / `[a-z]` one character of a list or range (`[!...]` negated; these may
 * match a delimiter), `{a,b}` alternatives (which nest), `\` escaping the next
 * character. Delimiters default to "." for an empty array; null means none.
 *
 * A glob is read exactly as that library's lexer and parser read it (its
 * quirks included: `,` and `}` are plain text outside braces, an unclosed
 * `{` closes at the end, `[a-]` is a range up to `]`), then translated to an
 * RE2 pattern anchored at both ends and run by the regex family's cached,
 * linear-time engine, so no glob can make matching backtrack.
 */
import { typeName, type Value } from "../value.ts";
import { compiled, quoteMeta, regexFor } from "./regex.ts";
import { operandMessage, stringArg } from "./text-operands.ts";
import { builtinError, operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

type Token =
  | { readonly t: "text"; readonly s: string }
  | { readonly t: "any" | "super" | "single" | "open" | "sep" | "close" | "not" | "rangeOpen" | "rangeClose" | "between" }
  | { readonly t: "lo" | "hi"; readonly s: string };

class GlobError extends Error {}

const ESCAPE = "\\";

/** gobwas/glob's lexer: the pattern as tokens, or a GlobError with its message. */
function lex(src: string): Token[] {
  const cps = Array.from(src);
  const out: Token[] = [];
  let i = 0;
  let terms = 0;

  /** Reads text up to an unescaped breaker; a backslash escapes the next character (a trailing one is dropped). */
  const text = (breakers: string): void => {
    let data = "";
    let escaped = false;
    while (i < cps.length) {
      const ch = cps[i] as string;
      if (!escaped) {
        if (ch === ESCAPE) {
          escaped = true;
          i++;
          continue;
        }
        if (breakers.includes(ch)) break;
      }
      escaped = false;
      data += ch;
      i++;
    }
    if (data !== "") out.push({ t: "text", s: data });
  };

  const range = (): void => {
    let wantHi = false;
    let wantClose = false;
    let seenNot = false;
    for (;;) {
      if (i >= cps.length) throw new GlobError("unexpected end of input");
      const ch = cps[i++] as string;
      if (wantClose) {
        if (ch !== "]") throw new GlobError("expected close range character");
        out.push({ t: "rangeClose" });
        return;
      }
      if (wantHi) {
        out.push({ t: "hi", s: ch });
        wantClose = true;
        continue;
      }
      if (!seenNot && ch === "!") {
        out.push({ t: "not" });
        seenNot = true;
        continue;
      }
      if (cps[i] === "-") {
        i++;
        out.push({ t: "lo", s: ch }, { t: "between" });
        wantHi = true;
        continue;
      }
      i--;
      text("]");
      wantClose = true;
    }
  };

  while (i < cps.length) {
    const ch = cps[i++] as string;
    if (ch === "{") {
      terms++;
      out.push({ t: "open" });
    } else if (ch === "," && terms > 0) out.push({ t: "sep" });
    else if (ch === "}" && terms > 0) {
      terms--;
      out.push({ t: "close" });
    } else if (ch === "[") {
      out.push({ t: "rangeOpen" });
      range();
    } else if (ch === "?") out.push({ t: "single" });
    else if (ch === "*") {
      if (cps[i] === "*") {
        i++;
        out.push({ t: "super" });
      } else out.push({ t: "any" });
    } else {
      i--;
      text(terms > 0 ? "?*[{}," : "?*[{");
    }
  }
  return out;
}

function hex(ch: string): string {
  return `\\x{${(ch.codePointAt(0) as number).toString(16)}}`;
}

/**
 * The RE2 pattern a glob stands for. `seps` are the delimiters; an empty
 * list means `*` and `?` cross everything.
 */
export function globToRegex(glob: string, seps: readonly string[]): string {
  const tokens = lex(glob);
  const notSep = seps.length === 0 ? "." : `[^${seps.map(hex).join("")}]`;
  // Each open `{` pushes the alternatives gathered so far at that level.
  const stack: string[][] = [];
  let current = "";
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k] as Token;
    switch (tok.t) {
      case "text":
        current += quoteMeta(tok.s);
        break;
      case "any":
        current += `${notSep}*`;
        break;
      case "super":
        current += ".*";
        break;
      case "single":
        current += notSep;
        break;
      case "open":
        stack.push([current]);
        current = "";
        break;
      case "sep":
        (stack[stack.length - 1] as string[]).push(current);
        current = "";
        break;
      case "close":
        current = closeGroup(stack, current);
        break;
      case "rangeOpen": {
        const end = tokens.findIndex((t, j) => j > k && t.t === "rangeClose");
        current += charClass(tokens.slice(k + 1, end < 0 ? tokens.length : end));
        if (end < 0) throw new GlobError("unexpected end");
        k = end;
        break;
      }
      default:
        throw new GlobError(`unexpected token: ${tok.t}`);
    }
  }
  while (stack.length > 0) current = closeGroup(stack, current);
  return `(?s)^(?:${current})$`;
}

/** Ends the innermost `{...}`: the text before it followed by the alternatives as one group. */
function closeGroup(stack: string[][], last: string): string {
  const [before, ...alternatives] = stack.pop() as string[];
  alternatives.push(last);
  return `${before}(?:${alternatives.join("|")})`;
}

/** A `[...]` body (tokens between the brackets) as an RE2 character class. */
function charClass(body: readonly Token[]): string {
  let not = false;
  let lo: string | undefined;
  let hi: string | undefined;
  let chars = "";
  for (const tok of body) {
    if (tok.t === "not") not = true;
    else if (tok.t === "lo") lo = tok.s;
    else if (tok.t === "hi") {
      hi = tok.s;
      if ((hi.codePointAt(0) as number) < (lo?.codePointAt(0) ?? 0)) {
        throw new GlobError(`hi character '${hi}' should be greater than lo '${lo ?? ""}'`);
      }
    } else if (tok.t === "text") chars = tok.s;
  }
  const isRange = lo !== undefined && hi !== undefined;
  if (isRange === (chars !== "")) throw new GlobError("could not parse range");
  const set = isRange ? `${hex(lo as string)}-${hex(hi as string)}` : Array.from(chars, hex).join("");
  return `[${not ? "^" : ""}${set}]`;
}

/** glob.match's delimiters operand: null for none, an array of one-character strings ([] means "."). */
function delimiters(v: Value): string[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw operandError("glob.match", 2, "one of {array, null}", v);
  const out: string[] = [];
  for (const d of v as readonly Value[]) {
    if (typeof d !== "string") throw operandMessage("glob.match", 2, `must be array of strings but got array containing ${typeName(d)}`);
    if (Array.from(d).length !== 1) throw operandMessage("glob.match", 2, "must be array of runes but got array containing string");
    out.push(d);
  }
  return out.length === 0 ? ["."] : out;
}

function match(args: readonly Value[], ctx: BuiltinContext): Value {
  const pattern = stringArg("glob.match", args, 1);
  const seps = delimiters(args[1] as Value);
  const s = stringArg("glob.match", args, 3);
  let regex: string;
  try {
    regex = globToRegex(pattern, seps);
  } catch (err) {
    if (err instanceof GlobError) throw builtinError("glob.match", err.message);
    throw err;
  }
  const c = compiled(regex, ctx);
  if ("error" in c) throw builtinError("glob.match", c.error.replace(/^pattern too large/, "glob too large"));
  return regexFor("glob.match", regex, s, ctx).match(s) as boolean;
}

/** gobwas/glob's QuoteMeta: a backslash before each of * ? \ [ ] { }. */
function quote(args: readonly Value[]): Value {
  return stringArg("glob.quote_meta", args, 1).replace(/[*?\\[\]{}]/g, "\\$&");
}

export const GLOB_BUILTINS: readonly BuiltinDef[] = [
  { name: "glob.match", arity: 3, args: ["string", "any", "string"], fn: match },
  { name: "glob.quote_meta", arity: 1, args: ["string"], fn: quote },
];
