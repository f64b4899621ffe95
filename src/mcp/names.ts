/**
 * MCP tool-name rules: what a valid name is, how any string becomes one, how a
 * source's prefix joins a tool's name, and the `*`/`?` globs that select tools.
 *
 * MCP 2025-11-25, server/tools "Tool names": a name SHOULD be 1–128 characters,
 * case-sensitive, of ASCII letters, digits, underscore, hyphen and dot. Names that
 * must be shortened keep their start and end and gain 8 hex digits of the SHA-256
 * of the whole original, so two long names never shorten to the same one.
 */

import { createHash } from "node:crypto";

/** The longest tool name (characters). */
export const TOOL_NAME_MAX = 128;

const VALID_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const VALID_RUNS = /[A-Za-z0-9_.-]+/g;
const HASH_LEN = 8;

/** True when `s` is a tool name the spec allows. */
export function isValidToolName(s: string): boolean {
  return VALID_NAME.test(s);
}

/** 8 lowercase hex digits of the SHA-256 of `s`: stable across processes and versions. */
export function shortHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, HASH_LEN);
}

/**
 * `s` (already of valid characters) made to fit in `max`: the middle is cut and
 * `_` + the hash of `original` is appended. Returned as is when it fits.
 */
function fit(s: string, original: string, max: number): string {
  if (s.length <= max) return s;
  const keep = max - HASH_LEN - 2; // head + "_" + tail + "_" + hash
  const head = Math.ceil(keep * 0.6);
  const tail = keep - head;
  return `${s.slice(0, head)}_${s.slice(s.length - tail)}_${shortHash(original)}`;
}

/**
 * Any string as a valid tool name: each run of characters the spec does not allow
 * becomes one `_` (none at the ends), a name over the maximum is shortened with a
 * hash (see the header), and an empty result is "tool". A valid name comes back unchanged.
 */
export function sanitizeToolName(s: string): string {
  if (isValidToolName(s)) return s;
  const runs = s.match(VALID_RUNS);
  const joined = runs === null ? "tool" : runs.join("_");
  return fit(joined, s, TOOL_NAME_MAX);
}

/**
 * `prefix` + `sep` + `name` as one valid tool name. Each part is sanitized; when the
 * whole is too long its middle is shortened and a hash of the unshortened whole is
 * appended, so distinct long names stay distinct.
 */
export function prefixedName(prefix: string, name: string, sep = "__"): string {
  const p = prefix === "" ? "" : (prefix.match(VALID_RUNS) ?? []).join("_");
  const s = (sep.match(VALID_RUNS) ?? []).join("_");
  const n = (name.match(VALID_RUNS) ?? ["tool"]).join("_");
  const whole = p === "" ? n : `${p}${s}${n}`;
  return fit(whole, `${prefix}\u0000${sep}\u0000${name}`, TOOL_NAME_MAX);
}

function globSource(glob: string): string {
  let out = "";
  for (const ch of glob) {
    if (ch === "*") out += "[\\s\\S]*";
    else if (ch === "?") out += "[\\s\\S]";
    else out += ch.replace(/[\\^$.|+()[\]{}/]/g, "\\$&");
  }
  return out;
}

/** A matcher for a list of globs (`*` any run of characters, `?` one character; case-sensitive); an empty list matches nothing. */
export function compileGlobs(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  const literal = new Set<string>();
  const patterns: string[] = [];
  for (const g of globs) {
    if (g.includes("*") || g.includes("?")) patterns.push(globSource(g));
    else literal.add(g);
  }
  if (patterns.length === 0) return (name) => literal.has(name);
  const re = new RegExp(`^(?:${patterns.join("|")})$`, "u");
  return (name) => literal.has(name) || re.test(name);
}

/** True when `name` matches `glob` (see compileGlobs; compile once when matching many names). */
export function matchesGlob(glob: string, name: string): boolean {
  return compileGlobs([glob])(name);
}
