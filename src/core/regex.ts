/**
 * Regular expressions written by users (compare rules, replay filters,
 * redaction patterns), run on RE2 (re2js): matching takes time linear in the
 * input, whatever the pattern, so a rule like `(a+)+$` cannot block the event
 * loop. RE2 has no backreferences and no lookaround; such patterns are
 * rejected when they are compiled, with a message saying why.
 *
 * Linear is not cheap: re2js simulates the compiled program, so matching
 * costs up to (program size × input length). Both factors are bounded: a
 * pattern compiling to more than MAX_PROGRAM_SIZE instructions is rejected
 * (RE2's own idea of a maximum program size; each counted repetition is
 * expanded, so `[a-z]{1000}` alone is 1,002), and callers on the event loop
 * weigh `costMs(length)` against their time budget before running a pattern.
 *
 * Syntax: https://github.com/google/re2/wiki/Syntax. Replacements follow
 * String.prototype.replace: `$1`…`$99`, `$<name>`, `$&`, `` $` ``, `$'`, `$$`.
 *
 * In core, not in compare: the config schema checks patterns with
 * compileUserRegex, and src/config never imports src/compare.
 */
import { RE2JS, RE2JSException } from "re2js";

/** A compiled user pattern. Stateless: safe to share across calls and requests. */
export interface UserRegex {
  /** True when the pattern matches somewhere in `s`. */
  test(s: string): boolean;
  /** `s` with every match replaced (`$1`, `$<name>`, `$&`, `$$` as in String.prototype.replace). */
  replaceAll(s: string, replacement: string): string;
  /**
   * replaceAll within limits: TOO_LONG as soon as the result would grow past
   * `maxLength` characters (a replacement such as `$'` can make it quadratic
   * in `s`; such a result is never built in full), PAST_DEADLINE when the
   * clock (`performance.now()`) passes `deadline` between two matches.
   */
  replaceWithin(s: string, replacement: string, limits: ReplaceLimits): string | typeof TOO_LONG | typeof PAST_DEADLINE;
  /** The pattern as written. */
  readonly source: string;
  /** Instructions of the compiled program (RE2's program size), at most MAX_PROGRAM_SIZE. */
  readonly programSize: number;
  /**
   * A worst-case estimate of the milliseconds a search of a string of `length`
   * characters takes (`test`, or the scanning in `replaceAll`; each match found
   * adds about a microsecond, which replaceWithin bounds by its deadline).
   */
  costMs(length: number): number;
}

export interface ReplaceLimits {
  readonly maxLength: number;
  /** A `performance.now()` time; Infinity for none. */
  readonly deadline: number;
}

/** replaceWithin's answers when a limit stopped it. */
export const TOO_LONG: unique symbol = Symbol("replacement result too long");
export const PAST_DEADLINE: unique symbol = Symbol("replacement past its deadline");

/** The clock is read once per this many matches (a match costs about a microsecond at least). */
const CLOCK_EVERY_MATCHES = 32;

/**
 * Patterns compiling to more instructions than this are rejected: one counted
 * repetition of up to 1000 fits (`[a-z]{1000}` is 1,002), two do not
 * (`[a-z]{1000}[0-9]{1000}` is 2,002, `x{0,1000}` 2,002). Typical patterns are
 * far below it: a UUID `^[0-9a-f-]{36}$` is 40, an ISO timestamp 16.
 */
export const MAX_PROGRAM_SIZE = 1100;

/**
 * The cost model behind costMs, in nanoseconds: a fixed cost per input
 * character plus one per instruction per character (the NFA simulation keeps
 * up to one thread per instruction alive). Measured on re2js 2.10 under Bun
 * with patterns whose every instruction stays alive (`[a-z]{990}[0-9]`,
 * `(?s).{990}[0-9]` on letters: 25–36 ns per instruction and character;
 * 120–640 ns per character for small programs), rounded up.
 */
const NS_PER_CHAR = 700;
const NS_PER_INSTRUCTION_CHAR = 40;

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

const UNLIMITED: ReplaceLimits = { maxLength: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY };

class Re2Regex implements UserRegex {
  readonly programSize: number;
  /** Named groups by name, when the pattern has any (else `$<` is literal text in a replacement). */
  private readonly named: Readonly<Record<string, number>> | undefined;

  constructor(
    readonly source: string,
    private readonly re: RE2JS,
  ) {
    this.programSize = re.programSize();
    const named = re.namedGroups();
    this.named = Object.keys(named).length > 0 ? named : undefined;
  }

  costMs(length: number): number {
    return (length * (NS_PER_CHAR + NS_PER_INSTRUCTION_CHAR * this.programSize)) / 1e6;
  }

  test(s: string): boolean {
    return this.re.test(s);
  }

  replaceAll(s: string, replacement: string): string {
    return this.replaceWithin(s, replacement, UNLIMITED) as string;
  }

  replaceWithin(s: string, replacement: string, limits: ReplaceLimits): string | typeof TOO_LONG | typeof PAST_DEADLINE {
    const { maxLength, deadline } = limits;
    const parts = parseReplacement(replacement, this.re.groupCount(), this.named);
    const m = this.re.matcher(s);
    let out = "";
    let pos = 0;
    let matches = 0;
    while (m.find()) {
      if (++matches % CLOCK_EVERY_MATCHES === 0 && performance.now() > deadline) return PAST_DEADLINE;
      const start = m.start();
      const end = m.end();
      out += s.slice(pos, start);
      for (const p of parts) {
        if (typeof p === "string") out += p;
        else if (p === BEFORE) out += s.slice(0, start);
        else if (p === AFTER) out += s.slice(end);
        else out += m.group(p) ?? "";
        if (out.length > maxLength) return TOO_LONG;
      }
      pos = end;
      if (out.length + (s.length - pos) > maxLength) return TOO_LONG;
    }
    return out + s.slice(pos);
  }
}

/** A replacement's parts: literal text, a group's number (0: the whole match), or the text before or after the match. */
type Part = string | number;
const BEFORE = -1;
const AFTER = -2;
const DOLLAR = 0x24;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Reads a replacement as String.prototype.replace does (ECMA-262 GetSubstitution):
 * `$$`, `$&`, `` $` ``, `$'`, `$n` and `$nn` (two digits when that group exists),
 * `$<name>` when the pattern has named groups (an unknown name inserts
 * nothing); any other `$` is itself.
 */
function parseReplacement(r: string, groups: number, named: Readonly<Record<string, number>> | undefined): Part[] {
  const parts: Part[] = [];
  let text = "";
  let i = 0;
  while (i < r.length) {
    const dollar = r.indexOf("$", i);
    if (dollar < 0) break;
    text += r.slice(i, dollar);
    i = dollar;
    const c = r.charCodeAt(i + 1);
    let part: Part | undefined;
    let used = 2;
    if (c === DOLLAR) text += "$";
    else if (c === 0x26) part = 0;
    else if (c === 0x60) part = BEFORE;
    else if (c === 0x27) part = AFTER;
    else if (isDigit(c)) {
      const one = c - 0x30;
      const c2 = r.charCodeAt(i + 2);
      const two = isDigit(c2) ? one * 10 + (c2 - 0x30) : 0;
      if (two >= 1 && two <= groups) {
        part = two;
        used = 3;
      } else if (one >= 1 && one <= groups) part = one;
      else {
        text += "$";
        used = 1;
      }
    } else if (c === 0x3c && named !== undefined && r.indexOf(">", i + 2) >= 0) {
      const close = r.indexOf(">", i + 2);
      const index = named[r.slice(i + 2, close)];
      if (index !== undefined) part = index;
      used = close + 1 - i;
    } else {
      text += "$";
      used = 1;
    }
    if (part !== undefined) {
      if (text) parts.push(text);
      text = "";
      parts.push(part);
    }
    i += used;
  }
  text += r.slice(i);
  if (text) parts.push(text);
  return parts;
}

/**
 * Compiles a user pattern on RE2. `flags` takes JavaScript letters: `i`
 * (case-insensitive), `m` (^ and $ at line ends), `s` (. matches newlines).
 * Throws UserRegexError for a pattern RE2 cannot run (a backreference, a
 * lookahead, a repeat count over 1000, a syntax error), a pattern whose
 * program is larger than MAX_PROGRAM_SIZE, or an unknown flag.
 */
export function compileUserRegex(pattern: string, flags = ""): UserRegex {
  let bits = 0;
  for (const f of flags) {
    const bit = FLAGS[f];
    if (bit === undefined) throw new UserRegexError(pattern, `unknown flag ${JSON.stringify(f)} (supported: i, m, s)`);
    bits |= bit;
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, bits);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    const detail = err.message.replace(/^error parsing regexp: /, "");
    const hint = LOOKAROUND.test(pattern) ? "lookahead and lookbehind are not supported; " : BACKREFERENCE.test(pattern) ? "backreferences are not supported; " : "";
    throw new UserRegexError(pattern, `${hint}${detail}`);
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE) {
    throw new UserRegexError(
      pattern,
      `the pattern is too large: it compiles to ${size} instructions, more than the ${MAX_PROGRAM_SIZE} allowed (each counted repetition is expanded: [a-z]{1000} alone is 1002 and x{0,1000} 2002; use smaller counts, or + and *)`,
    );
  }
  return new Re2Regex(pattern, re);
}
