/**
 * Path templates (`/orders/{id}/items/{item}`) compiled once into literal and
 * argument parts, and the per-call encoding of argument values into a path
 * segment, a query value or a header value (RFC 3986 §3.3 and §3.4; RFC 9110 §5.5).
 * Nothing here uses a regular expression per call.
 */

import { FicusError } from "../../../core/errors.ts";
import { fieldValueProblem } from "../../../core/http-grammar.ts";

/** A compiled template: literals[i] precedes args[i]; literals has one more entry than args. */
export interface PathTemplate {
  readonly literals: readonly string[];
  readonly args: readonly string[];
}

// RFC 3986 pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; plus "/" between segments.
const PATH_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/%") PATH_CHAR[c.charCodeAt(0)] = 1;

/** Percent-encodes what may not appear literally in a path (keeps "/" and existing %XX escapes). */
function encodeLiteral(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || PATH_CHAR[c] === 0) {
      plain = false;
      break;
    }
  }
  return plain ? s : encodeURI(s).replace(/[?#[\]]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Compiles `/a/{x}/b`. Throws a message (the caller wraps it) when the template
 * does not start with "/", has an unbalanced or empty brace, or a query part.
 */
export function compilePathTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new Error(`path ${JSON.stringify(template)} must start with "/"`);
  if (template.includes("?") || template.includes("#")) throw new Error(`path ${JSON.stringify(template)} must not contain "?" or "#" (declare query arguments under call.query)`);
  const literals: string[] = [];
  const args: string[] = [];
  let at = 0;
  for (;;) {
    const open = template.indexOf("{", at);
    const close = template.indexOf("}", at);
    if (open === -1) {
      if (close !== -1) throw new Error(`path ${JSON.stringify(template)} has a "}" without "{"`);
      literals.push(encodeLiteral(template.slice(at)));
      break;
    }
    if (close !== -1 && close < open) throw new Error(`path ${JSON.stringify(template)} has a "}" without "{"`);
    const end = template.indexOf("}", open);
    if (end === -1) throw new Error(`path ${JSON.stringify(template)} has a "{" without "}"`);
    const name = template.slice(open + 1, end);
    if (name === "" || name.includes("{")) throw new Error(`path ${JSON.stringify(template)} has an empty or nested {}`);
    literals.push(encodeLiteral(template.slice(at, open)));
    args.push(name);
    at = end + 1;
  }
  return { literals, args };
}

function invalid(message: string): FicusError {
  return new FicusError("FICUS_MCP_INVALID_ARGUMENTS", message);
}

/** A scalar argument as text, or undefined when it is an object or array (the caller says what went wrong). */
function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return Number.isFinite(v) ? String(v) : undefined;
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    default:
      return undefined;
  }
}

/**
 * One argument as a path segment: percent-encoded so "/" stays inside the segment,
 * "." and ".." encoded so no server normalizes them away; an array is joined with
 * "," (OpenAPI's simple style). Missing, null, empty or object values throw.
 */
export function pathSegment(arg: string, v: unknown): string {
  if (v === undefined || v === null) throw invalid(`the path argument "${arg}" is required`);
  let text: string | undefined;
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const item of v) {
      const t = scalarText(item);
      if (t === undefined) throw invalid(`the path argument "${arg}" must be a string, number, boolean or an array of them`);
      parts.push(encode(arg, t));
    }
    const joined = parts.join(",");
    if (joined === "") throw invalid(`the path argument "${arg}" must not be empty`);
    return joined;
  }
  text = scalarText(v);
  if (text === undefined) throw invalid(`the path argument "${arg}" must be a string, number or boolean, not ${describe(v)}`);
  if (text === "") throw invalid(`the path argument "${arg}" must not be empty`);
  if (text === ".") return "%2E";
  if (text === "..") return "%2E%2E";
  return encode(arg, text);
}

/**
 * Appends `name=value` pairs for one query argument to `out` (already encoded name).
 * An array repeats the name (form style, exploded); null and undefined add nothing.
 */
export function appendQuery(out: string[], encodedName: string, arg: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item === null || item === undefined) continue;
      const t = scalarText(item);
      if (t === undefined) throw invalid(`the query argument "${arg}" must be a scalar or an array of scalars, not an array holding ${describe(item)}`);
      out.push(`${encodedName}=${encode(arg, t)}`);
    }
    return;
  }
  const t = scalarText(v);
  if (t === undefined) throw invalid(`the query argument "${arg}" must be a string, number, boolean or an array of them, not ${describe(v)}`);
  out.push(`${encodedName}=${encode(arg, t)}`);
}

/** One argument as a header value (an array joined with ", "), or undefined when absent; refuses what would break the header. */
export function headerValue(arg: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  let text: string;
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const item of v) {
      const t = scalarText(item);
      if (t === undefined) throw invalid(`the header argument "${arg}" must be a scalar or an array of scalars`);
      parts.push(t);
    }
    text = parts.join(", ");
  } else {
    const t = scalarText(v);
    if (t === undefined) throw invalid(`the header argument "${arg}" must be a string, number or boolean, not ${describe(v)}`);
    text = t;
  }
  const problem = fieldValueProblem(text);
  if (problem !== undefined) throw invalid(`the header argument "${arg}" ${problem}`);
  return text;
}

/** encodeURIComponent, but a lone surrogate (valid in JSON, not encodable as UTF-8) is the agent's error. */
function encode(arg: string, text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    throw invalid(`the argument "${arg}" holds a lone UTF-16 surrogate, which cannot be sent as UTF-8`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "number") return String(v);
  return typeof v;
}
