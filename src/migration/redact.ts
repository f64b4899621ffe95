/**
 * Redaction before anything is stored or written: shadow samples (SQLite,
 * PostgreSQL), recordings (JSON Lines) and replay reports. Header values,
 * query (and form) parameters and JSON body values are hidden when their
 * name looks secret, configured JSON paths are hidden, URLs in JSON strings
 * have their query redacted, and bodies are cut.
 * Samples are built only through here.
 *
 * Which names look secret is decided in core/secret-names.ts.
 */
import type { Difference } from "../compare/diff-json.ts";
import type * as HttpMessages from "../compare/http-message.ts";
import { compileJsonPath, KeyedSegment, type MatchState, PathSet, type Segment } from "../compare/json-path.ts";
import { type JsonValue, JsonNumber, parseJson } from "../compare/json-value.ts";
import type { Answer } from "./judge.ts";
import type { Sample, SampleSide } from "./results.ts";
import { NameRule, SECRET_HEADER_NAMES, SECRET_QUERY_NAMES, SECRET_WORDS } from "../core/secret-names.ts";

export { NameRule, SECRET_HEADER_NAMES, SECRET_QUERY_NAMES, SECRET_WORDS, wordParts } from "../core/secret-names.ts";

export const REDACTED = "[redacted]";
/** Stored bodies are cut here. */
export const SAMPLE_BODY_MAX = 64 * 1024;

/** The top-level `redact:` block of ficus.yaml. */
export interface RedactSettings {
  /** Keep the built-in words and names (SECRET_WORDS and the fixed names); false: only the lists below. */
  readonly defaults: boolean;
  readonly headers: readonly string[];
  readonly query: readonly string[];
  readonly body_keys: readonly string[];
  /** Whole names (any kind, case-insensitive) never redacted, whatever matches them. */
  readonly keep: readonly string[];
}

export const DEFAULT_REDACT: RedactSettings = { defaults: true, headers: [], query: [], body_keys: [], keep: [] };

/** Header fields holding a URL whose query and fragment are redacted like a request target. */
const URL_HEADERS = new Set(["location", "content-location", "referer"]);
const FORM_TYPE = /^\s*application\/x-www-form-urlencoded/i;

/** A name as a client encoded it ("+" is a space in forms); a malformed escape is kept as written, never thrown. */
function decodeName(raw: string): string {
  const s = raw.replace(/\+/g, " ");
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // e.g. "%E0%A4%A": decode the ASCII escapes, keep the rest.
    return s.replace(/%([0-7][0-9A-Fa-f])/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  }
}

/** `a=1&token=x` with the values of secret names replaced. */
function redactPairs(s: string, rule: NameRule): string {
  if (!s.includes("=")) return s;
  return s
    .split("&")
    .map((kv) => {
      const eq = kv.indexOf("=");
      return eq >= 0 && rule.matches(decodeName(kv.slice(0, eq))) ? `${kv.slice(0, eq)}=${REDACTED}` : kv;
    })
    .join("&");
}

/** A message's Content-Type (to recognise form bodies). */
export function contentTypeOf(fields: Iterable<readonly [string, string]>): string | undefined {
  for (const [k, v] of fields) if (k.toLowerCase() === "content-type") return v;
  return undefined;
}

/**
 * The compare engine's message normalizer, which undoes content codings (node:zlib), loaded with the first
 * coded body: a data-plane process loads this file at start (routes with a candidate hold Redactors) and may
 * never redact one. Bun's require() of an ES module; the compare engine's index is not needed here at all.
 */
let httpMessages: typeof HttpMessages | undefined;
const messages = (): typeof HttpMessages => (httpMessages ??= require("../compare/http-message.ts") as typeof HttpMessages);

/** Fields that describe a body's coded bytes, dropped once a sample holds the payload. */
const CODED_FIELDS = new Set(["content-encoding", "content-length"]);

/**
 * A message as a sample shows it: the body with its Content-Encoding undone
 * (bounded as the compare engine bounds it), so redaction reads the plain
 * payload and the sample is readable, and without the fields that described the
 * coded bytes. A body whose coding cannot be undone (corrupt, unknown, or a
 * decompression bomb) is not kept at all: its coded bytes could hold secrets
 * redaction cannot see. `note` then replaces the body.
 */
function payloadOf(
  fields: readonly (readonly [string, string])[],
  body: Uint8Array | undefined,
): { readonly fields: readonly (readonly [string, string])[]; readonly body: Uint8Array | undefined; readonly note?: string } {
  if (!body || body.byteLength === 0 || !fields.some(([k]) => k.toLowerCase() === "content-encoding")) return { fields, body };
  const n = messages().normalizeMessage({ headers: fields, body });
  if (n.codingError !== undefined) return { fields, body: undefined, note: `${REDACTED} (${body.byteLength} bytes not kept: ${n.codingError})` };
  return { fields: fields.filter(([k]) => !CODED_FIELDS.has(k.toLowerCase())), body: n.body };
}

function bytesOf(b: Uint8Array | ArrayBuffer | undefined): Uint8Array | undefined {
  return b === undefined || b instanceof Uint8Array ? b : new Uint8Array(b);
}

/** A string that is a URL or an origin-form target with a query or fragment that may hold parameters (no regex: strings can be long). */
function isUrl(s: string): boolean {
  return (s.startsWith("/") || s.startsWith("https://") || s.startsWith("http://")) && (s.includes("?") || s.includes("#")) && s.includes("=");
}

/** JSON text of a parsed document; numbers keep their exact source text (JSON.stringify would round 12345678901234567890). */
function serialize(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.raw;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(serialize).join(",")}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${serialize(v[k] as JsonValue)}`)
    .join(",")}}`;
}

/** Splits a concrete path as formatPath writes it ($.a['b c'][3][id=7]); undefined when it is not one. */
function parsePath(path: string): Segment[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const segs: Segment[] = [];
  const name = /[A-Za-z_$][A-Za-z0-9_$-]*/y;
  let i = 1;
  while (i < path.length) {
    if (path[i] === ".") {
      name.lastIndex = i + 1;
      const m = name.exec(path);
      if (!m) return undefined;
      segs.push(m[0]);
      i = name.lastIndex;
    } else if (path.startsWith("['", i)) {
      let j = i + 2;
      let key = "";
      while (j < path.length && !(path[j] === "'" && path[j + 1] === "]")) {
        if (path[j] === "\\" && path[j + 1] === "'") j++;
        key += path[j];
        j++;
      }
      if (j >= path.length) return undefined;
      segs.push(key);
      i = j + 2;
    } else if (path[i] === "[") {
      const end = path.indexOf("]", i);
      if (end < 0) return undefined;
      const inner = path.slice(i + 1, end);
      const eq = inner.indexOf("=");
      if (/^\d+$/.test(inner)) segs.push(Number(inner));
      else if (eq > 0) segs.push(new KeyedSegment(inner.slice(0, eq), inner.slice(eq + 1)));
      else return undefined;
      i = end + 1;
    } else return undefined;
  }
  return segs;
}

/**
 * What a route hides: built once per route from the `redact:` block and the
 * route's `shadow.redact` JSON paths, then used off the request path (sample
 * building, the recording writer, replay).
 */
export class Redactor {
  readonly header: NameRule;
  readonly query: NameRule;
  readonly bodyKey: NameRule;
  private readonly paths: PathSet<true>;

  constructor(settings: RedactSettings = DEFAULT_REDACT, bodyPaths: readonly string[] = []) {
    const builtIn = settings.defaults ? SECRET_WORDS : [];
    this.header = new NameRule([...builtIn, ...settings.headers], settings.defaults ? SECRET_HEADER_NAMES : [], settings.keep);
    this.query = new NameRule([...builtIn, ...settings.query], settings.defaults ? SECRET_QUERY_NAMES : [], settings.keep);
    this.bodyKey = new NameRule([...builtIn, ...settings.body_keys], [], settings.keep);
    this.paths = new PathSet(bodyPaths.map((p) => [compileJsonPath(p), true as const] as const));
  }

  /** Header fields by lower-case name, secret ones replaced, URLs in Location/Referer redacted. */
  headers(fields: Iterable<readonly [string, string]>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of fields) {
      const name = k.toLowerCase();
      out[name] = this.header.matches(name) ? REDACTED : URL_HEADERS.has(name) ? this.url(v) : v;
    }
    return out;
  }

  /** A request target or URL with the values of secret query (and fragment) parameters replaced. */
  url(target: string): string {
    const hash = target.indexOf("#");
    const beforeHash = hash < 0 ? target : target.slice(0, hash);
    const q = beforeHash.indexOf("?");
    let out = q < 0 ? beforeHash : `${beforeHash.slice(0, q + 1)}${redactPairs(beforeHash.slice(q + 1), this.query)}`;
    if (hash >= 0) out += `#${redactPairs(target.slice(hash + 1), this.query)}`;
    return out;
  }

  private walk(v: JsonValue, state: MatchState<true>, changed: { n: number }): JsonValue {
    if (state.matched && v !== null) {
      changed.n++;
      return REDACTED;
    }
    if (typeof v === "string") {
      // A link in a body (next-page URLs, redirects) carries its query: redacted like a request target.
      if (!isUrl(v)) return v;
      const u = this.url(v);
      if (u !== v) changed.n++;
      return u;
    }
    if (v === null || typeof v !== "object" || v instanceof JsonNumber) return v;
    if (Array.isArray(v)) return v.map((x, i) => this.walk(x, this.paths.advance(state, i), changed));
    const out: Record<string, JsonValue> = {};
    for (const k of Object.keys(v)) {
      const x = v[k] as JsonValue;
      if (x !== null && this.bodyKey.matches(k)) {
        out[k] = REDACTED;
        changed.n++;
      } else out[k] = this.walk(x, this.paths.advance(state, k), changed);
    }
    return out;
  }

  /** A body as text with secrets hidden: JSON by key and path (re-serialized only when something was hidden), forms by parameter name. */
  text(text: string, contentType: string | undefined): string {
    const json = /^\s*[[{]/.test(text) ? parseJson(text) : undefined;
    if (json !== undefined) {
      try {
        const changed = { n: 0 };
        const out = this.walk(json, this.paths.start, changed);
        return changed.n > 0 ? serialize(out) : text;
      } catch (err) {
        // Too deep to walk is too deep to check: nothing of it is kept.
        if (err instanceof RangeError) return `${REDACTED} (a JSON document too deep to redact)`;
        throw err;
      }
    }
    return contentType !== undefined && FORM_TYPE.test(contentType) ? redactPairs(text, this.query) : text;
  }

  /** The whole body with secrets hidden; the same bytes when nothing was. For recordings. */
  recordedBody(bytes: Uint8Array | undefined, contentType: string | undefined): Uint8Array | undefined {
    if (!bytes || bytes.byteLength === 0) return bytes;
    const text = new TextDecoder().decode(bytes);
    const out = this.text(text, contentType);
    return out === text ? bytes : new TextEncoder().encode(out);
  }

  /** The body as stored in a sample: secrets hidden, cut at SAMPLE_BODY_MAX. */
  body(bytes: Uint8Array | ArrayBuffer | undefined, contentType: string | undefined): string {
    if (!bytes || bytes.byteLength === 0) return "";
    const out = this.text(new TextDecoder().decode(bytes), contentType);
    return out.length > SAMPLE_BODY_MAX ? `${out.slice(0, SAMPLE_BODY_MAX)}…[truncated ${out.length - SAMPLE_BODY_MAX} characters]` : out;
  }

  /** A difference's two values, hidden when its path is secret; values that are documents or text are redacted inside. */
  difference(d: Difference): Difference {
    const hide = (v: unknown) => (v === undefined || v === null ? v : REDACTED);
    if (d.path === "status") return d;
    if (d.path.startsWith("headers.")) {
      const name = d.path.slice("headers.".length);
      if (this.header.matches(name)) return { ...d, legacy: hide(d.legacy), candidate: hide(d.candidate) };
      return URL_HEADERS.has(name) ? { ...d, legacy: this.urlValue(d.legacy), candidate: this.urlValue(d.candidate) } : d;
    }
    if (d.path === "body" || d.path.startsWith("body:")) {
      // Text lines or a whole text: JSON inside is walked, a form line is redacted like a query.
      const text = (v: unknown) => (typeof v === "string" ? (/^[^\s=&]+=[^\s]*$/.test(v) ? redactPairs(v, this.query) : this.text(v, undefined)) : v);
      return { ...d, legacy: text(d.legacy), candidate: text(d.candidate) };
    }
    const segs = parsePath(d.path);
    // A path that cannot be read cannot be checked: its values are hidden rather than risked.
    if (!segs) return { ...d, legacy: hide(d.legacy), candidate: hide(d.candidate) };
    let state = this.paths.start;
    for (const s of segs) {
      if (state.matched || (typeof s === "string" && this.bodyKey.matches(s)) || (s instanceof KeyedSegment && this.bodyKey.matches(s.field))) {
        return { ...d, legacy: hide(d.legacy), candidate: hide(d.candidate) };
      }
      state = this.paths.advance(state, s);
    }
    const inner = (v: unknown) => (v === undefined ? v : this.walk(v as JsonValue, state, { n: 0 }));
    return { ...d, legacy: inner(d.legacy), candidate: inner(d.candidate) };
  }

  private urlValue(v: unknown): unknown {
    return typeof v === "string" ? this.url(v) : v;
  }

  /** One side's answer as a sample stores it: its payload (content coding undone), redacted. */
  side(a: Answer): SampleSide {
    const p = payloadOf(a.headers, a.body);
    return {
      status: a.status,
      headers: this.headers(p.fields),
      body: p.note ?? this.body(p.body, contentTypeOf(p.fields)),
      duration_ms: Number.isFinite(a.durationMs) ? Math.round(a.durationMs * 1000) / 1000 : 0,
    };
  }

  /** A mismatch sample: the request, both answers (their payloads) and the differences (the first 50), all redacted. */
  sample(
    time: string,
    request: { readonly method: string; readonly target: string; readonly headers: Iterable<readonly [string, string]>; readonly body: Uint8Array | ArrayBuffer | undefined },
    legacy: Answer,
    candidate: Answer,
    differences: readonly Difference[],
  ): Sample {
    const req = payloadOf([...request.headers], bytesOf(request.body));
    return {
      time,
      request: { method: request.method, path: this.url(request.target), headers: this.headers(req.fields), body: req.note ?? this.body(req.body, contentTypeOf(req.fields)) },
      legacy: this.side(legacy),
      candidate: this.side(candidate),
      differences: differences.slice(0, 50).map((d) => this.difference(d)),
    };
  }

  /** A recorded message's header fields as [name, value] pairs (lower-case names, one per name, as before). */
  fields(fields: readonly (readonly [string, string])[]): [string, string][] {
    return Object.entries(this.headers(fields));
  }
}
