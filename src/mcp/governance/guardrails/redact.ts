/**
 * Redaction of secrets in tool results: the built-in patterns (credentials a
 * tool may echo from the systems behind it: bearer and basic credentials,
 * JWTs, cloud and SaaS keys, private key blocks, passwords in assignments,
 * JSON fields and URLs) and the operator's own, all on RE2 (linear time). A
 * built-in pattern runs only when a literal it needs appears in the text (a
 * plain substring check), so ordinary text costs a few scans; each keeps the
 * words around the secret ("Bearer ", `"password": "`) and replaces only the
 * secret itself, and is written to leave ordinary prose, identifiers, hashes
 * and public keys alone.
 *
 * Redaction is copy-on-write: a string, object or array with nothing to
 * redact is returned as it is (no allocation on the common path).
 */
import { RE2JS } from "re2js";
import { compileUserRegex } from "../../../core/regex.ts";
import { wordParts } from "../../../core/secret-names.ts";
import type { JsonObject } from "../../types.ts";

interface BuiltIn {
  readonly name: string;
  readonly pattern: string;
  /** A literal-only check (native, no quantifiers): the pattern cannot match where this does not. */
  readonly hint: RegExp;
  /** Groups kept before and after the secret (0: none). */
  readonly pre?: number;
  readonly post?: number;
}

/** Names under which a value is a secret in structured content (word parts joined, lower case): the whole string value is redacted. */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  "password",
  "passwd",
  "passphrase",
  "secret",
  "clientsecret",
  "apikey",
  "apisecret",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "privatekey",
  "secretkey",
  "secretaccesskey",
  "awssecretaccesskey",
  "sessiontoken",
  "awssessiontoken",
]);

/** The key names of SECRET_KEYS as they appear in JSON text ("password", "client_secret", "apiKey", …). */
const SECRET_KEY_TEXT = "password|passwd|passphrase|secret|client[_-]?secret|api[_-]?key|api[_-]?secret|access[_-]?token|refresh[_-]?token|id[_-]?token|private[_-]?key|secret[_-]?key";

/**
 * The built-in patterns, in the order they run (a later one sees the text the earlier ones redacted: "Bearer <JWT>"
 * is one redaction, by jwt). Names appear in docs/mcp.md.
 */
export const BUILT_IN: readonly BuiltIn[] = [
  // A PEM or PGP private key block, to its END line, or to the end of the text when it was cut (a key without its end is still a key).
  { name: "private_key", pattern: String.raw`-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)`, hint: /PRIVATE KEY/ },
  // Header and payload are base64url JSON objects ({" → eyJ); the signature may be empty (alg none).
  { name: "jwt", pattern: String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, hint: /eyJ/ },
  { name: "aws_access_key_id", pattern: String.raw`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`, hint: /AKIA|ASIA|ABIA|ACCA/ },
  // The 40-character secret only next to its name: alone it is indistinguishable from any base64 (or a git hash).
  { name: "aws_secret_access_key", pattern: String.raw`(?i)((?:aws_?)?secret_?access_?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+]{40}\b`, hint: /secret_?access_?key/i, pre: 1 },
  { name: "aws_session_token", pattern: String.raw`(?i)((?:aws_?)?session_?token["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{100,}`, hint: /session_?token/i, pre: 1 },
  { name: "gcp_api_key", pattern: String.raw`\bAIza[0-9A-Za-z_-]{35}`, hint: /AIza/ },
  { name: "gcp_access_token", pattern: String.raw`\bya29\.[0-9A-Za-z_-]{20,}`, hint: /ya29\./ },
  { name: "github_token", pattern: String.raw`\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b`, hint: /gh[pousr]_/ },
  { name: "github_pat", pattern: String.raw`\bgithub_pat_[A-Za-z0-9_]{22,255}`, hint: /github_pat_/ },
  { name: "slack_token", pattern: String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`, hint: /xox[abposr]-/ },
  { name: "slack_app_token", pattern: String.raw`\bxapp-[0-9]-[A-Za-z0-9-]{10,}`, hint: /xapp-/ },
  { name: "slack_webhook", pattern: String.raw`(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]{20,}`, hint: /hooks\.slack\.com/, pre: 1 },
  // Secret and restricted keys; publishable keys (pk_) are public by design.
  { name: "stripe_key", pattern: String.raw`\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}`, hint: /[sr]k_(?:live|test)_/ },
  { name: "stripe_webhook_secret", pattern: String.raw`\bwhsec_[A-Za-z0-9]{24,}`, hint: /whsec_/ },
  // The token after "Bearer": 20 or more token68 characters (RFC 6750 §2.1), so "the bearer of this letter" stays.
  { name: "bearer", pattern: String.raw`(\b(?:[Bb]earer|BEARER)\s+)[A-Za-z0-9\-._~+/]{20,}=*`, hint: /bearer/i, pre: 1 },
  // Basic credentials only after an Authorization field name ("basic" alone is an ordinary word).
  { name: "basic_auth", pattern: String.raw`((?i:authorization)["']?\s*[:=]\s*["']?(?i:basic)\s+)[A-Za-z0-9+/]{8,}={0,2}`, hint: /basic/i, pre: 1 },
  // user:password@ in a URL's authority (RFC 3986 §3.2.1): the password only.
  { name: "url_password", pattern: String.raw`(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]+:)[^\s/?#@]+(@)`, hint: /:\/\//, pre: 1, post: 2 },
  // password=… as in query strings, form bodies, environment files and connection strings (not "password: …" prose).
  { name: "password_assignment", pattern: String.raw`(?i)((?:\b|_)(?:${SECRET_KEY_TEXT})=)[^\s&"'<>,;]+`, hint: /passw|passphrase|secret|api[_-]?key|token|private[_-]?key/i, pre: 1 },
  // A secret field of JSON as text: "password": "…" (the value, escapes included).
  { name: "secret_json_field", pattern: String.raw`(?i)("(?:[A-Za-z0-9]+[_-])*(?:${SECRET_KEY_TEXT})"\s*:\s*")(?:[^"\\]|\\.)+(")`, hint: /passw|passphrase|secret|api[_-]?key|token|private[_-]?key/i, pre: 1, post: 2 },
];

/** Checks every built-in's literals in one scan: text without any of them skips all the built-ins. */
const ANY_HINT = new RegExp(BUILT_IN.map((b) => `(?:${b.hint.source})`).join("|"), "i");

interface Compiled {
  readonly name: string;
  readonly re: RE2JS;
  readonly hint: RegExp | undefined;
  readonly pre: number;
  readonly post: number;
}

/** Values nested deeper than this in structuredContent are replaced whole (never passed on unchecked). */
const MAX_DEPTH = 256;

export interface RedactorOptions {
  /** The built-in patterns (default true). */
  readonly defaults: boolean;
  /** The operator's patterns (RE2 syntax, checked when the config loaded). */
  readonly patterns: readonly string[];
  /** What replaces a secret, literally. */
  readonly replacement: string;
}

/**
 * A compiled set of patterns. Stateless but for `count`, which each `text`
 * and `value` call adds to: read and reset it around one result (after
 * hooks run synchronously, so calls never interleave).
 */
export class Redactor {
  /** Redactions made since it was last reset. */
  count = 0;
  private readonly builtIns: readonly Compiled[];
  private readonly own: readonly Compiled[];
  private readonly keys: boolean;

  constructor(readonly options: RedactorOptions) {
    this.builtIns = options.defaults ? BUILT_IN.map((b) => ({ name: b.name, re: RE2JS.compile(b.pattern), hint: b.hint, pre: b.pre ?? 0, post: b.post ?? 0 })) : [];
    this.own = options.patterns.map((p, i) => {
      compileUserRegex(p); // the project's bounds (program size); the config check already ran it
      return { name: `patterns[${i}]`, re: RE2JS.compile(p), hint: undefined, pre: 0, post: 0 };
    });
    this.keys = options.defaults;
  }

  /** Whether it redacts anything at all. */
  get active(): boolean {
    return this.builtIns.length > 0 || this.own.length > 0;
  }

  /** `s` with its secrets replaced (`s` itself when there are none). */
  text(s: string): string {
    let out = s;
    if (this.builtIns.length > 0 && ANY_HINT.test(out)) {
      for (const c of this.builtIns) if (c.hint?.test(out) !== false) out = this.replace(c, out);
    }
    for (const c of this.own) out = this.replace(c, out);
    return out;
  }

  /**
   * A JSON value with its strings redacted (and, with the defaults, the string values of secret-named keys replaced
   * whole); the value itself when nothing changed, else a copy of what changed.
   */
  value(v: unknown, depth = 0): unknown {
    if (typeof v === "string") return this.text(v);
    if (v === null || typeof v !== "object") return v;
    if (depth >= MAX_DEPTH) {
      this.count++;
      return this.options.replacement;
    }
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        const y = this.value(x, depth + 1);
        if (y !== x) {
          copy ??= v.slice();
          copy[i] = y;
        }
      }
      return copy ?? v;
    }
    let copy: JsonObject | undefined;
    const o = v as JsonObject;
    for (const k in o) {
      const x = o[k];
      let y: unknown;
      if (this.keys && typeof x === "string" && x !== "" && x !== this.options.replacement && isSecretKey(k)) {
        this.count++;
        y = this.options.replacement;
      } else y = this.value(x, depth + 1);
      if (y !== x) {
        copy ??= { ...o };
        copy[k] = y;
      }
    }
    return copy ?? o;
  }

  /** Every non-empty match replaced (an empty match, from a pattern such as `x*`, redacts nothing). */
  private replace(c: Compiled, s: string): string {
    const m = c.re.matcher(s);
    let out: string | undefined;
    let pos = 0;
    while (m.find()) {
      const start = m.start();
      const end = m.end();
      if (end === start) continue;
      out = (out ?? "") + s.slice(pos, start);
      if (c.pre > 0) out += m.group(c.pre) ?? "";
      out += this.options.replacement;
      if (c.post > 0) out += m.group(c.post) ?? "";
      this.count++;
      pos = end;
    }
    return out === undefined ? s : out + s.slice(pos);
  }
}

/**
 * Whether a structured-content key names a secret: its last one to three word parts (core/secret-names.ts) spell one
 * of SECRET_KEYS: password, db_password, client_secret, apiKey, stripeSecretKey; not passwordPolicy, api_key_id or
 * secretary.
 */
export function isSecretKey(k: string): boolean {
  if (k.length < 6 || k.length > 64) return false;
  const parts = wordParts(k);
  let tail = "";
  for (let i = parts.length - 1; i >= 0 && i >= parts.length - 3; i--) {
    tail = (parts[i] as string) + tail;
    if (SECRET_KEYS.has(tail)) return true;
  }
  return false;
}
