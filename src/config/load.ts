/**
 * Loading `ficus.yaml`: read, parse YAML keeping positions, interpolate
 * `${ENV_VAR}` in scalar values, validate against the schema, and report every
 * problem as `path: message (file:line)`, with "did you mean" hints for
 * unknown keys. Validation happens here, once; nothing downstream re-checks.
 */
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { Document, Node } from "yaml";
import { toJSONSchema as zodToJsonSchema, type z } from "zod";
import { ConfigError, FicusError } from "../core/errors.ts";
import { NameRule, SECRET_HEADER_NAMES, SECRET_WORDS } from "../core/secret-names.ts";
import { type Merged, mergeToolDirectories, type ToolDocumentInfo } from "../mcp/k8s/merge.ts";
import { configJsonSchema, configSchema, type FicusConfig, routeSchema } from "./schema.ts";

export interface LoadedConfig {
  readonly config: FicusConfig;
  /** Paths (dot/bracket form) whose values came from the environment: redacted on display. */
  readonly secretPaths: ReadonlySet<string>;
  readonly source: string;
  /** What the documents of mcp.tool_directories declared (src/mcp/k8s/); absent without such folders. */
  readonly toolDocuments?: readonly ToolDocumentInfo[];
  /** Those folders, absolute: the config source watches them with the file. */
  readonly toolFolders?: readonly string[];
}

type PathItem = string | number;

/** Formats a path the way messages and docs show it: routes[2].upstream. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out || "(root)";
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in one string; `$${` escapes a literal "${". */
export function interpolate(value: string, env: Record<string, string | undefined>, missing: string[]): { value: string; used: boolean } {
  let used = false;
  const out = value.replace(ENV_REF, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === "$${") return "${";
    used = true;
    const v = env[name as string];
    if (v !== undefined && v !== "") return v;
    if (fallback !== undefined) return fallback;
    missing.push(name as string);
    return "";
  });
  return { value: out, used };
}

/** ${ENV} interpolation over a parsed value, recording the paths (and values) that came from the environment. */
export function walkInterpolate(
  value: unknown,
  path: PathItem[],
  env: Record<string, string | undefined>,
  secretPaths: Set<string>,
  missing: { name: string; path: PathItem[] }[],
  secretValues: string[],
): unknown {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    const names: string[] = [];
    const r = interpolate(value, env, names);
    for (const name of names) missing.push({ name, path: [...path] });
    if (r.used) {
      secretPaths.add(formatPath(path));
      secretValues.push(r.value);
    }
    return r.value;
  }
  if (Array.isArray(value)) return value.map((v, i) => walkInterpolate(v, [...path, i], env, secretPaths, missing, secretValues));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walkInterpolate(v, [...path, k], env, secretPaths, missing, secretValues);
    return out;
  }
  return value;
}

/** The yaml library, loaded on first use: configs built from flags are JSON and never need it. */
export function yamlLib(): typeof import("yaml") {
  return require("yaml") as typeof import("yaml");
}

/** The deepest YAML node along `path`, and whether it is the node itself or an ancestor. */
export function nodeAt(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  const { isMap, isNode, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  let last: Node | undefined = isNode(node) ? node : undefined;
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(p));
      if (!pair) break;
      node = pair.value;
    } else if (isSeq(node) && typeof p === "number") {
      node = node.items[p];
    } else break;
    if (isNode(node)) last = node;
    else break;
  }
  return last;
}

/** The node of `key` in the mapping at `path` (for unknown-key messages), or the nearest node above it. */
export function keyNode(doc: Document, path: readonly PropertyKey[], key: string): Node | undefined {
  const { isMap, isNode, isPair, isScalar } = yamlLib();
  const parent = nodeAt(doc, path);
  if (isMap(parent)) {
    const pair = parent.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === key);
    if (pair && isNode(pair.key)) return pair.key;
  }
  return parent;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min((dp[j] as number) + 1, (dp[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let js = jsonSchemas.get(schema);
  if (!js) {
    js = schema === configSchema ? configJsonSchema() : (zodToJsonSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>);
    jsonSchemas.set(schema, js);
  }
  return js;
}

/** Property names the schema allows at `path`, found by walking its JSON Schema. */
export function knownKeysAt(path: readonly PropertyKey[], schema: z.ZodType = configSchema): string[] {
  let nodes: Record<string, unknown>[] = [jsonSchemaOf(schema)];
  const expand = (n: Record<string, unknown>): Record<string, unknown>[] => {
    const alts = (n.anyOf ?? n.oneOf ?? n.allOf) as Record<string, unknown>[] | undefined;
    return alts ? alts.flatMap(expand) : [n];
  };
  for (const p of path) {
    const next: Record<string, unknown>[] = [];
    for (const n of nodes.flatMap(expand)) {
      if (typeof p === "number" && n.items) next.push(n.items as Record<string, unknown>);
      else if (typeof p === "string") {
        const props = n.properties as Record<string, Record<string, unknown>> | undefined;
        if (props?.[p]) next.push(props[p]);
        else if (n.additionalProperties && typeof n.additionalProperties === "object") next.push(n.additionalProperties as Record<string, unknown>);
      }
    }
    nodes = next;
  }
  const keys = new Set<string>();
  for (const n of nodes.flatMap(expand)) for (const k of Object.keys((n.properties as object | undefined) ?? {})) keys.add(k);
  return [...keys];
}

export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

export function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** One zod issue as `path: message` lines (unknown keys with a "did you mean", types named as YAML shows them). */
export function issueMessages(issue: z.core.$ZodIssue, root: unknown, schema: z.ZodType): { path: PropertyKey[]; message: string; key?: string }[] {
  const path = issue.path as PropertyKey[];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const hint = didYouMean(key, knownKeysAt(path, schema));
        return { path: [...path, key], key, message: `unknown key ${JSON.stringify(key)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ""}` };
      });
    case "invalid_type": {
      const got = valueAt(root, path);
      if (got === undefined) return [{ path, message: `is required (expected ${issue.expected})` }];
      return [{ path, message: `expected ${issue.expected}, got ${describeType(got)}` }];
    }
    case "invalid_union": {
      // When the value passed one branch's type check, that branch's own complaint is the useful one.
      const specific = issue.errors.find((errs) => errs.length > 0 && errs.every((e) => e.code !== "invalid_type" || e.path.length > 0));
      if (specific) return specific.flatMap((e) => issueMessages({ ...e, path: [...path, ...e.path] } as z.core.$ZodIssue, root, schema));
      const expected = issue.errors.flatMap((errs) => errs.filter((e) => e.code === "invalid_type").map((e) => (e as { expected: string }).expected));
      const got = valueAt(root, path);
      const want = [...new Set(expected)].join(" or ");
      return [{ path, message: got === undefined ? `is required (expected ${want})` : `expected ${want}, got ${describeType(got)}` }];
    }
    case "invalid_value":
      return [{ path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeType(valueAt(root, path))}` }];
    case "too_small":
    case "too_big": {
      const got = valueAt(root, path);
      const bound = issue.code === "too_small" ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      const what = Array.isArray(got) ? `${bound} item(s)` : typeof got === "string" ? `${bound} character(s)` : bound;
      return [{ path, message: `expected ${what}, got ${describeType(got)}` }];
    }
    case "invalid_format": {
      const got = describeType(valueAt(root, path));
      if (issue.format === "starts_with") return [{ path, message: `expected a string starting with ${JSON.stringify((issue as { prefix?: string }).prefix)}, got ${got}` }];
      const what = issue.message.startsWith("Invalid") ? `expected a string matching ${(issue as { pattern?: string }).pattern ?? issue.format}` : issue.message;
      return [{ path, message: `${what}, got ${got}` }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** Documents at least this long are validated with zod's compiled fast paths (measured crossover: ~500 routes). */
const JIT_ABOVE_CHARS = 32 * 1024;

export interface Parsed<T> {
  readonly value: T;
  /** Paths whose values came from the environment. */
  readonly secretPaths: Set<string>;
}

/**
 * Parses YAML (or JSON) text, interpolates ${ENV}, and validates it against a
 * schema. Throws ConfigError with one `path: message (file:line)` per problem;
 * never returns a half-valid value. `format: "json"` is for documents the CLI
 * builds from flags (no YAML parser, no line numbers).
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  text: string,
  source: string,
  env: Record<string, string | undefined> = process.env,
  overrides?: (raw: Record<string, unknown>) => void,
  format: "yaml" | "json" = "yaml",
): Parsed<z.output<S>> {
  const file = basename(source);
  let raw: unknown;
  let where: (path: readonly PropertyKey[], key?: string) => string;
  if (format === "json") {
    raw = JSON.parse(text);
    where = () => source;
  } else {
    const { LineCounter, parseDocument } = yamlLib();
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const at = (offset: number | undefined) => (offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`);
    if (doc.errors.length > 0) {
      throw new ConfigError(
        "FICUS_CONFIG_PARSE",
        doc.errors.map((e) => `${e.message.split("\n")[0]} (${at(e.pos[0])})`),
      );
    }
    // An empty document is an error, never "all defaults, no routes": a file truncated by an editor
    // or caught half-written would otherwise reload as a gateway that answers 404 to everything.
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // The yaml library bounds alias expansion (a "billion laughs" file); anything it throws is a parse problem.
      const why = /alias/i.test((err as Error).message) ? "too many alias (*anchor) expansions: at most 100 are allowed" : (err as Error).message;
      throw new ConfigError("FICUS_CONFIG_PARSE", [`${why} (${file})`]);
    }
    if (raw === null || raw === undefined) {
      throw new ConfigError("FICUS_CONFIG_EMPTY", [`(root): the file has no settings (${file}:1); an empty config would serve no routes. Write at least one setting, e.g. routes: []`]);
    }
    where = (path, key) => at((key !== undefined ? keyNode(doc, path, key) : nodeAt(doc, path))?.range?.[0]);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("FICUS_CONFIG_INVALID", [`(root): expected a mapping of settings, got ${describeType(raw)} (${format === "json" ? source : `${file}:1`})`]);
  }
  const secretPaths = new Set<string>();
  const missing: { name: string; path: PathItem[] }[] = [];
  const secretValues: string[] = [];
  const interpolated = walkInterpolate(raw, [], env, secretPaths, missing, secretValues) as Record<string, unknown>;
  overrides?.(interpolated);
  if (missing.length > 0) {
    throw new ConfigError(
      "FICUS_CONFIG_ENV_MISSING",
      missing.map((m) => `${formatPath(m.path)}: environment variable ${m.name} is not set (${where(m.path)})`),
    );
  }
  // zod compiles a fast path for each object shape on its first parse (about 10 ms for the config schema), which
  // pays off only over many objects: a config of a few hundred routes validates sooner without it (a start, a reload).
  const result = schema.safeParse(interpolated, { jitless: text.length < JIT_ABOVE_CHARS });
  if (!result.success) {
    const messages: string[] = [];
    for (const issue of result.error.issues) {
      for (const m of issueMessages(issue, interpolated, schema)) {
        const loc = m.key !== undefined ? where(m.path.slice(0, -1), m.key) : where(m.path);
        messages.push(`${formatPath(m.path)}: ${m.message} (${loc})`);
      }
    }
    throw new ConfigError("FICUS_CONFIG_INVALID", [...new Set(messages.map((m) => hideSecrets(m, secretValues)))]);
  }
  return { value: deepFreeze(result.data), secretPaths };
}

/**
 * A validation message with every value that came from ${ENV} replaced by
 * "[redacted]": messages quote the offending value, and these go to the
 * terminal and to the log of a rejected reload.
 */
export function hideSecrets(message: string, secretValues: readonly string[]): string {
  let out = message;
  for (const v of secretValues) {
    if (v.length < 3) continue;
    out = out.split(JSON.stringify(v)).join('"[redacted]"').split(v).join("[redacted]");
  }
  return out;
}

/** In edge-mcp mode without an MCP route, the one MCP endpoint is served at /mcp (a route named "mcp"). */
export function withDefaultMcpRoute(c: FicusConfig): FicusConfig {
  if (c.mode !== "edge-mcp" || c.routes.some((r) => r.mcp !== undefined)) return c;
  const name = c.routes.some((r) => r.name === "mcp") ? "mcp-endpoint" : "mcp";
  return { ...c, routes: [...c.routes, routeSchema.parse({ name, match: { path: "/mcp" }, mcp: {} })] };
}

/** Parses and validates `ficus.yaml` text (see parseWithSchema). */
export function parseConfig(
  text: string,
  source: string,
  env: Record<string, string | undefined> = process.env,
  overrides?: (raw: Record<string, unknown>) => void,
  format: "yaml" | "json" = "yaml",
): LoadedConfig {
  let tools: Merged | undefined;
  const { value, secretPaths } = parseWithSchema(configSchema, text, source, env, (raw) => {
    overrides?.(raw);
    // Documents of mcp.tool_directories join mcp.sources before validation, so routes may name their sources.
    tools = mergeToolDirectories(raw, source.includes("/") ? dirname(source) : process.cwd(), env, basename(source));
  }, format);
  if (tools === undefined) return { config: withDefaultMcpRoute(value), secretPaths, source };
  for (const p of tools.secretPaths) secretPaths.add(p);
  return { config: withDefaultMcpRoute(value), secretPaths, source, toolDocuments: tools.documents, toolFolders: tools.folders };
}

/** Reads a configuration file's text, with FICUS_CONFIG_READ on failure. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new FicusError("FICUS_CONFIG_READ", `cannot read ${path}: ${reason}`, { cause: err });
  }
}

/** Reads and validates a configuration file. */
export function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): LoadedConfig {
  return parseConfig(readConfigText(path), path, env);
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Config keys that name a secret's holder, not the secret: shown as they are. */
const NOT_SECRET_KEYS = ["token_env"];
const CONFIG_SECRET_NAMES = new NameRule(SECRET_WORDS, SECRET_HEADER_NAMES, NOT_SECRET_KEYS);

/** A URL with its userinfo password and the values of secret-looking query parameters hidden. */
export function redactUrlSecrets(v: string): string {
  let out = v;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(out)) out = out.replace(/\/\/[^/@]*@/, "//[redacted]@");
  const q = out.indexOf("?");
  if (q < 0 || !/^[a-z][a-z0-9+.-]*:\/\//i.test(out)) return out;
  const hash = out.indexOf("#", q);
  const query = out.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split("&")
    .map((kv) => {
      const eq = kv.indexOf("=");
      return eq > 0 && CONFIG_SECRET_NAMES.matches(kv.slice(0, eq)) ? `${kv.slice(0, eq)}=[redacted]` : kv;
    })
    .join("&");
  return `${out.slice(0, q + 1)}${redacted}${hash < 0 ? "" : out.slice(hash)}`;
}

/**
 * The effective config as /admin/config shows it: values that came from
 * ${ENV}, values under secret-looking keys (header names such as
 * Authorization or X-Api-Key in request_headers.add, `password`, …), every
 * exporter header (tracing.headers authenticate by nature), URL passwords and
 * secret-looking query parameters are "[redacted]".
 */
export function redactConfig(loaded: LoadedConfig): unknown {
  const walk = (v: unknown, path: PathItem[]): unknown => {
    const p = formatPath(path);
    if (loaded.secretPaths.has(p)) return "[redacted]";
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      const exporterHeaders = p === "tracing.headers";
      // canary.sticky.cookie / .header hold the *name* of a cookie or header, not a value.
      const names = path[path.length - 1] === "sticky";
      for (const [k, x] of Object.entries(v)) {
        out[k] = typeof x === "string" && !names && (exporterHeaders || CONFIG_SECRET_NAMES.matches(k)) ? "[redacted]" : walk(x, [...path, k]);
      }
      return out;
    }
    if (typeof v === "string") return redactUrlSecrets(v);
    return v;
  };
  return walk(loaded.config, []);
}
