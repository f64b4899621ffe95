/**
 * Regular expressions written by users (compare rules, replay filters,
 * redaction patterns), run on RE2 (re2js): matching takes time linear in the
 * input, whatever the pattern, so a rule like `(a+)+$` cannot block the event
 * loop. RE2 has no backreferences and no lookaround; such patterns are
 * rejected when they are compiled, with a message saying why.
 *
 * Syntax: https://github.com/google/re2/wiki/Syntax. Replacements follow
 * String.prototype.replace: `$1`…`$99`, `$<name>`, `$&`, `` $` ``, `$'`, `$$`.
 */
import { RE2JS, RE2JSException } from "re2js";

/** A compiled user pattern. Stateless: safe to share across calls and requests. */
export interface UserRegex {
  /** True when the pattern matches somewhere in `s`. */
  test(s: string): boolean;
  /** `s` with every match replaced (`$1`, `$<name>`, `$&`, `$$` as in String.prototype.replace). */
  replaceAll(s: string, replacement: string): string;
  /** The pattern as written. */
  readonly source: string;
}

/** A pattern (or flag) the linear-time engine cannot compile; `reason` says why. */
export class UserRegexError extends Error {
  readonly code = "FICUS_REGEX_UNSUPPORTED";
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`not supported by the linear-time regex engine (RE2): ${reason}`);
    this.name = "UserRegexError";
  }
}

/** JavaScript-style flags mapped to RE2's; "g" and "u" are accepted and change nothing (replaceAll is global, matching is Unicode). */
const FLAGS: Readonly<Record<string, number>> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, g: 0, u: 0 };

/** What RE2 lacks by design, named in the message (RE2's own text for `(?<=` is "invalid named capture"). */
const LOOKAROUND = /\(\?<?[=!]/;
const BACKREFERENCE = /\\[1-9]|\\k</;

class Re2Regex implements UserRegex {
  constructor(
    readonly source: string,
    private readonly re: RE2JS,
  ) {}

  test(s: string): boolean {
    return this.re.test(s);
  }

  replaceAll(s: string, replacement: string): string {
    return this.re.matcher(s).replaceAll(replacement);
  }
}

/**
 * Compiles a user pattern on RE2. `flags` takes JavaScript letters: `i`
 * (case-insensitive), `m` (^ and $ at line ends), `s` (. matches newlines).
 * Throws UserRegexError for a pattern RE2 cannot run (a backreference, a
 * lookahead, a repeat count over 1000, a syntax error) or an unknown flag.
 */
export function compileUserRegex(pattern: string, flags = ""): UserRegex {
  let bits = 0;
  for (const f of flags) {
    const bit = FLAGS[f];
    if (bit === undefined) throw new UserRegexError(pattern, `unknown flag ${JSON.stringify(f)} (supported: i, m, s)`);
    bits |= bit;
  }
  try {
    return new Re2Regex(pattern, RE2JS.compile(pattern, bits));
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    const detail = err.message.replace(/^error parsing regexp: /, "");
    const hint = LOOKAROUND.test(pattern) ? "lookahead and lookbehind are not supported; " : BACKREFERENCE.test(pattern) ? "backreferences are not supported; " : "";
    throw new UserRegexError(pattern, `${hint}${detail}`);
  }
}
