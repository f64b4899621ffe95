/**
 * Runtime settings of authorization, compiled once per configuration (start
 * and every reload) from the validated config: each route's rules as plain
 * lists, its Rego policy compiled and its decision query prepared, the
 * sections of the input document the policy reads, and the bundle hash the
 * decision log names. Loads no zod and no yaml (data-plane workers compile
 * these): YAML data files are read with Bun's own parser.
 */
import { readFileSync } from "node:fs";
import { extname, isAbsolute, resolve } from "node:path";
import { ConfigError, type ErrorCode } from "../core/errors.ts";
import { NameRule, SECRET_HEADER_NAMES, SECRET_QUERY_NAMES, SECRET_WORDS } from "../core/secret-names.ts";
import { type Policy, type PreparedQuery, Rego, RegoError } from "../policy/rego/index.ts";
import { parseNumber } from "../policy/rego/number.ts";
import type { AuthzRouteConfig, DecisionLogConfig } from "./schema.ts";
import { isPlainObject, mergeDataDocuments } from "../policy/data-files.ts";

/** The sections of the input document (docs/security.md, "The input document"). */
export const INPUT_SECTIONS = ["method", "path", "host", "params", "headers", "query", "identity", "claims", "peer", "tls", "route"] as const;
export type InputSection = (typeof INPUT_SECTIONS)[number];

/** Which sections a policy reads: only those are built per request. */
export type InputNeeds = Readonly<Record<InputSection, boolean>>;

export type ClaimValue = string | number | boolean;

export interface ClaimCheck {
  /** The keys leading to the claim. */
  readonly path: readonly string[];
  /** The path as configured, for messages. */
  readonly label: string;
  readonly values: readonly ClaimValue[];
}

export interface CompiledPolicy {
  readonly query: PreparedQuery;
  /** The decision query as configured (data.http.allow). */
  readonly ref: string;
  /** sha256 (hex) of the modules and data files, names and contents: which policy decided. */
  readonly bundle: string;
  readonly needs: InputNeeds;
  readonly strict: boolean;
  readonly budget: { readonly steps: number; readonly timeMs: number };
}

export interface RouteAuthz {
  readonly route: string;
  /** All of these. */
  readonly scopes: readonly string[];
  /**
   * The RFC 6750 §3.1 challenge a JWT caller lacking a scope gets (WWW-Authenticate), or undefined when a
   * scope holds a character a scope token cannot (RFC 6749 §3.3 NQCHAR), which a header must not carry.
   */
  readonly scopeChallenge: string | undefined;
  /** At least one of these (none: no role needed). */
  readonly roles: readonly string[];
  readonly claims: readonly ClaimCheck[];
  readonly policy: CompiledPolicy | undefined;
  readonly dryRun: boolean;
  /** on_error: allow. */
  readonly failOpen: boolean;
  /** Header names removed from input.headers (secret-looking, unless allow_headers lists them). */
  readonly secretHeader: NameRule;
  /** Query names removed from input.query. */
  readonly secretQuery: NameRule;
}

export interface AuthzSettings {
  /** By route name; routes without `authz` are absent. */
  readonly routes: ReadonlyMap<string, RouteAuthz>;
}

export interface DecisionLogSettings {
  readonly enabled: boolean;
  readonly output: string;
  readonly sample: number;
  readonly maxBuffer: number;
}

export interface CompileOptions {
  /** Folder relative policy paths are read from (the configuration file's). Default: the working directory. */
  readonly baseDir?: string;
  /**
   * Route name → the protected resource metadata URL of its MCP endpoint (src/mcp/governance/oauth/resources.ts,
   * resourceMetadataUrls): named in the insufficient_scope challenge, so an MCP client can ask for more scopes.
   */
  readonly resourceMetadata?: ReadonlyMap<string, string> | undefined;
}

/** The config of one route as this part reads it (the route schema's output has more). */
export interface RouteWithAuthz {
  readonly name: string;
  readonly authz?: AuthzRouteConfig | undefined;
}

/** RFC 6750 §3.1 insufficient_scope with the scopes needed, and the MCP endpoint's metadata when it has one (RFC 9728 §5.1). */
function scopeChallenge(scopes: readonly string[], resourceMetadata: string | undefined): string {
  const base = `Bearer error="insufficient_scope", scope="${scopes.join(" ")}"`;
  return resourceMetadata === undefined ? base : `${base}, resource_metadata="${resourceMetadata}"`;
}

/**
 * Compiles every route's `authz`. Policies used by several routes (the same
 * module and data files) are read and compiled once. Throws a ConfigError
 * naming the route for an unreadable file, bad data, or a policy that does
 * not parse or compile (FICUS_POLICY_SYNTAX / FICUS_POLICY_COMPILE).
 */
export function compileAuthz(routes: readonly RouteWithAuthz[], options: CompileOptions = {}): AuthzSettings {
  const out = new Map<string, RouteAuthz>();
  const bundles = new Map<string, { policy: Policy; bundle: string; needs: InputNeeds }>();
  for (const route of routes) {
    const a = route.authz;
    if (a === undefined) continue;
    const where = `routes[${route.name}].authz`;
    let policy: CompiledPolicy | undefined;
    if (a.policy !== undefined) {
      const p = a.policy;
      const key = JSON.stringify([p.module.map((m) => resolvePath(m, options)), (p.data ?? []).map((d) => resolvePath(d, options))]);
      let b = bundles.get(key);
      if (b === undefined) {
        b = loadBundle(p.module, p.data ?? [], options, `${where}.policy`);
        bundles.set(key, b);
      }
      let query: PreparedQuery;
      try {
        query = b.policy.prepare(p.query);
      } catch (e) {
        throw policyError(e, `${where}.policy.query`);
      }
      policy = { query, ref: p.query, bundle: b.bundle, needs: b.needs, strict: p.strict, budget: { steps: p.budget.steps, timeMs: p.budget.time } };
    }
    out.set(route.name, {
      route: route.name,
      scopes: [...a.scopes],
      scopeChallenge: a.scopes.every((sc) => SCOPE_TOKEN.test(sc)) ? scopeChallenge(a.scopes, options.resourceMetadata?.get(route.name)) : undefined,
      roles: [...a.roles],
      claims: a.claims.map((c) => ({
        path: typeof c.claim === "string" ? c.claim.split(".") : [...c.claim],
        label: typeof c.claim === "string" ? c.claim : c.claim.join("."),
        values: c.in ?? [c.equals as ClaimValue],
      })),
      policy,
      dryRun: a.dry_run,
      failOpen: a.on_error === "allow",
      secretHeader: new NameRule(SECRET_WORDS, SECRET_HEADER_NAMES, a.allow_headers),
      secretQuery: new NameRule(SECRET_WORDS, SECRET_QUERY_NAMES, a.allow_query),
    });
  }
  return { routes: out };
}

/** RFC 6749 §3.3: scope-token = 1*NQCHAR. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function compileDecisionLog(config: DecisionLogConfig): DecisionLogSettings {
  return { enabled: config.enabled, output: config.output, sample: config.sample, maxBuffer: config.max_buffer };
}

function resolvePath(path: string, options: CompileOptions): string {
  return isAbsolute(path) ? path : resolve(options.baseDir ?? process.cwd(), path);
}

function readText(path: string, options: CompileOptions, where: string): string {
  try {
    return readFileSync(resolvePath(path, options), "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}: cannot read ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`]);
  }
}

/** Reads and compiles one policy: modules named by their path as configured (what errors show), data merged at the top. */
function loadBundle(modulePaths: readonly string[], dataPaths: readonly string[], options: CompileOptions, where: string): { policy: Policy; bundle: string; needs: InputNeeds } {
  const hash = new Bun.CryptoHasher("sha256");
  const modules: Record<string, string> = {};
  for (const m of modulePaths) {
    const text = readText(m, options, `${where}.module`);
    modules[m] = text;
    hash.update(`module\0${m}\0${text.length}\0`);
    hash.update(text);
  }
  const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const d of dataPaths) {
    const text = readText(d, options, `${where}.data`);
    hash.update(`data\0${d}\0${text.length}\0`);
    hash.update(text);
    const doc = parseData(d, text, `${where}.data`);
    if (doc === null || doc === undefined) continue;
    if (!isPlainObject(doc)) throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}.data: ${d} must hold an object (it is merged at the top of data)`]);
    mergeDataDocuments(data, doc, (path) => new ConfigError("FICUS_CONFIG_INVALID", [`${where}.data: ${d}: data.${path.join(".")} conflicts with another data file`]));
  }
  let policy: Policy;
  try {
    policy = Rego.compileSync({ modules, data });
  } catch (e) {
    throw policyError(e, where);
  }
  return { policy, bundle: hash.digest("hex"), needs: inputNeeds(Object.values(modules)) };
}

function policyError(e: unknown, where: string): ConfigError {
  if (e instanceof RegoError) {
    const details = e.errors.length > 0 ? e.errors : [e.detail()];
    return new ConfigError(e.code as ErrorCode, details.map((d) => `${where}: ${d.message}`));
  }
  return new ConfigError("FICUS_CONFIG_INVALID", [`${where}: ${e instanceof Error ? e.message : String(e)}`]);
}

/** A JSON (numbers read exactly) or YAML document. */
function parseData(path: string, text: string, where: string): unknown {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".json") {
      return JSON.parse(text, (_k: string, v: unknown, ctx?: { source?: string }) => (typeof v === "number" && ctx?.source !== undefined ? (parseNumber(ctx.source) ?? v) : v));
    }
    if (ext === ".yaml" || ext === ".yml") return Bun.YAML.parse(text);
  } catch (e) {
    throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}: ${path} is not valid ${ext.slice(1).toUpperCase()}: ${(e as Error).message}`]);
  }
  throw new ConfigError("FICUS_CONFIG_INVALID", [`${where}: ${path}: a data file is .json, .yaml or .yml`]);
}


const ALL: InputNeeds = Object.freeze(Object.fromEntries(INPUT_SECTIONS.map((s) => [s, true])) as Record<InputSection, boolean>);

/**
 * The input sections some module reads: every `input.NAME` or `input["NAME"]`
 * outside comments and strings. Any other use of `input` (the whole
 * document, `input[x]`, `with input as`) means every section. Conservative:
 * a section a policy reads is always built.
 */
export function inputNeeds(sources: readonly string[]): InputNeeds {
  const needs = Object.fromEntries(INPUT_SECTIONS.map((s) => [s, false])) as Record<InputSection, boolean>;
  for (const src of sources) {
    const code = codeOnly(src);
    for (const m of code.matchAll(/(?<![\w.])input\b(\s*\.\s*([A-Za-z_]\w*)|\s*\[\s*"([^"\\]*)"\s*\])?/g)) {
      const name = m[2] ?? m[3];
      if (name === undefined) return ALL;
      if (Object.hasOwn(needs, name)) needs[name as InputSection] = true;
    }
  }
  return Object.freeze(needs);
}

/** Rego text without comments, string contents kept only for strings that could be an input key ("..." with no escapes). */
function codeOnly(src: string): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      i = end < 0 ? src.length : end + 1;
      out += '""';
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"' && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      // Kept: a string may be an input key (input["headers"]); a word "input" inside one reads as input and means "all".
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
