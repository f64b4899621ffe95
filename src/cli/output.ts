/**
 * What the CLI prints: failures as `ficus: CODE: message` on stderr with an
 * exit code, and text that came from users or traffic (route names, paths,
 * reasons, actors, file names, samples) made safe for a terminal first.
 */
import { ConfigError, FicusError } from "../core/errors.ts";

/**
 * C0 controls and DEL (except tab), C1 controls (U+0080–U+009F: U+009B is a
 * one-character CSI on some terminals), and the bidirectional overrides and
 * isolates that reorder what is displayed (U+202A–U+202E, U+2066–U+2069).
 */
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same characters, for JSON (which escapes C0 itself, but not the rest). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string) => {
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
};

/**
 * Text from a user or from traffic, safe to print: every terminal control
 * character is written as an escape (`\x1b`, `\x9b`, `\u202e`), so it shows
 * instead of acting (colours, cursor moves, window titles, hidden lines).
 * Tabs are kept; newlines too when `multiline` (a block meant to span lines),
 * else they are escaped so one record stays on one line.
 */
export function safeText(s: string, multiline = false): string {
  return s.replace(multiline ? UNSAFE_KEEP_NEWLINE : UNSAFE, escapeChar);
}

/** JSON for stdout: as JSON.stringify, with C1 and bidirectional controls written as \u escapes too (still valid JSON). */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`ficus: ${err.code}: the configuration is invalid:\n${err.issues.map((i) => `  ${safeText(i)}`).join("\n")}\n`);
    return 1;
  }
  if (err instanceof FicusError) {
    process.stderr.write(`ficus: ${err.code}: ${safeText(err.message, true)}\n`);
    return err.code === "FICUS_USAGE" ? 2 : 1;
  }
  process.stderr.write(`ficus: FICUS_INTERNAL: ${safeText(err instanceof Error ? (err.stack ?? err.message) : String(err), true)}\n`);
  return 1;
}
