/**
 * Redaction before anything is stored: credentials in headers, secret-looking
 * query parameters, configured JSON paths in bodies; bodies are truncated.
 * Samples are built only through here.
 */
import { compileJsonPath, type MatchState, PathSet } from "../compare/json-path.ts";
import { parseJson, type JsonValue, JsonNumber } from "../compare/json-value.ts";

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"]);
const SECRET_PARAM = /token|key|secret|password|passwd|sig|auth|session|code/i;
export const REDACTED = "[redacted]";
/** Stored bodies are cut here. */
export const SAMPLE_BODY_MAX = 64 * 1024;

export function redactHeaders(headers: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) {
    const name = k.toLowerCase();
    out[name] = SECRET_HEADERS.has(name) ? REDACTED : v;
  }
  return out;
}

export function redactQuery(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  if (q < 0) return pathAndQuery;
  const params = pathAndQuery
    .slice(q + 1)
    .split("&")
    .map((kv) => {
      const eq = kv.indexOf("=");
      const key = eq < 0 ? kv : kv.slice(0, eq);
      return eq >= 0 && SECRET_PARAM.test(decodeURIComponent(key)) ? `${key}=${REDACTED}` : kv;
    });
  return `${pathAndQuery.slice(0, q)}?${params.join("&")}`;
}

/** A compiled set of body paths to redact. */
export class BodyRedactor {
  private readonly paths: PathSet<true>;

  constructor(patterns: readonly string[]) {
    this.paths = new PathSet(patterns.map((p) => [compileJsonPath(p), true as const] as const));
  }

  private walk(v: JsonValue, state: MatchState<true>): JsonValue {
    if (state.matched) return REDACTED;
    if (v === null || typeof v !== "object" || v instanceof JsonNumber) return v;
    if (Array.isArray(v)) return v.map((x, i) => this.walk(x, this.paths.advance(state, i)));
    const out: Record<string, JsonValue> = {};
    for (const k of Object.keys(v)) out[k] = this.walk(v[k] as JsonValue, this.paths.advance(state, k));
    return out;
  }

  /** The whole body with configured JSON paths redacted (re-serialized); other bodies unchanged. For recordings. */
  redact(bytes: Uint8Array | undefined): Uint8Array | undefined {
    if (!bytes || bytes.byteLength === 0 || this.paths.empty) return bytes;
    const json = parseJson(new TextDecoder().decode(bytes));
    return json === undefined ? bytes : new TextEncoder().encode(JSON.stringify(this.walk(json, this.paths.start)));
  }

  /** The body as stored: JSON with configured paths redacted, or the text; truncated either way. */
  body(bytes: Uint8Array | ArrayBuffer | undefined): string {
    if (!bytes || bytes.byteLength === 0) return "";
    const text = new TextDecoder().decode(bytes);
    let out = text;
    if (!this.paths.empty) {
      const json = parseJson(text);
      if (json !== undefined) out = JSON.stringify(this.walk(json, this.paths.start));
    }
    return out.length > SAMPLE_BODY_MAX ? `${out.slice(0, SAMPLE_BODY_MAX)}…[truncated ${out.length - SAMPLE_BODY_MAX} characters]` : out;
  }
}
