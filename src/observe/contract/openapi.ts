/**
 * An OpenAPI 3.1 document from endpoint contracts (`ficus observe openapi`):
 * one operation per method and path template, the path parameters declared
 * from the template, the query parameters, request body and responses as
 * observed, schemas inline (OpenAPI 3.1 Schema Objects are JSON Schema 2020-12,
 * what infer.ts writes). Operation ids are generated from the method and the
 * template: stable (the same endpoints give the same ids, whatever their order)
 * and unique.
 *
 * Inputs the format cannot hold are left out and listed under the
 * `x-ficus-skipped` extension: a method OpenAPI has no field for (PROPFIND), or
 * a second operation on a path that OpenAPI considers the same one
 * (`/a/{id}` and `/a/{name}`, OpenAPI 3.1 §4.8.8).
 */
import type { JsonSchema } from "./infer.ts";

export interface QueryParamContract {
  readonly name: string;
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface ResponseContract {
  readonly mediaType?: string;
  readonly schema?: JsonSchema;
  readonly description?: string;
}

/** One endpoint's contract: the input of toOpenApi. */
export interface EndpointContract {
  readonly method: string;
  /** A path template, `/orders/{id}`. */
  readonly template: string;
  /** Schemas of path parameters by name (default: a string). */
  readonly pathParams?: Readonly<Record<string, JsonSchema>>;
  readonly query?: readonly QueryParamContract[];
  request?: { readonly mediaType?: string; readonly schema: JsonSchema; readonly required?: boolean };
  /** By status code ("200") or "default". */
  readonly responses: Readonly<Record<string, ResponseContract>>;
  readonly summary?: string;
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

export interface OpenApiOptions {
  /** Server URLs (the gateway's public address). */
  readonly servers?: readonly string[];
}

/** The HTTP methods an OpenAPI 3.1 Path Item has a field for. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
type Method = (typeof METHODS)[number];

const PARAM = /\{([^{}]+)\}/g;
const HAS_PARAM = /\{[^{}]+\}/;

const REASONS: Record<string, string> = {
  "200": "OK",
  "201": "Created",
  "202": "Accepted",
  "204": "No Content",
  "301": "Moved Permanently",
  "302": "Found",
  "304": "Not Modified",
  "400": "Bad Request",
  "401": "Unauthorized",
  "403": "Forbidden",
  "404": "Not Found",
  "405": "Method Not Allowed",
  "409": "Conflict",
  "410": "Gone",
  "412": "Precondition Failed",
  "415": "Unsupported Media Type",
  "422": "Unprocessable Content",
  "429": "Too Many Requests",
  "500": "Internal Server Error",
  "502": "Bad Gateway",
  "503": "Service Unavailable",
  "504": "Gateway Timeout",
};

interface PathKey {
  /** The path as written in the document. */
  readonly key: string;
  /** Its parameter names, in order. */
  readonly names: readonly string[];
}

/**
 * The template as an OpenAPI path: starting with "/", each parameter name
 * unique (a repeated name gets a suffix: `{id}`, `{id_2}`).
 */
export function normalizeTemplate(template: string): PathKey {
  const t = template.startsWith("/") ? template : `/${template}`;
  const names: string[] = [];
  const used = new Set<string>();
  const key = t.replace(PARAM, (_m, raw: string) => {
    let name = raw.trim() || "param";
    for (let i = 2; used.has(name); i++) name = `${raw.trim() || "param"}_${i}`;
    used.add(name);
    names.push(name);
    return `{${name}}`;
  });
  return { key, names };
}

/** The path with its parameter names blanked: two templates with one shape are one OpenAPI path. */
function shapeOf(key: string): string {
  return key.replace(PARAM, "{}");
}

/** An operation id from a method and a path: `GET /orders/{id}/items` → `getOrdersByIdItems`. */
export function operationIdFor(method: string, key: string): string {
  const words: string[] = [method.toLowerCase()];
  for (const seg of key.split("/")) {
    if (seg === "") continue;
    let s = seg;
    let by = false;
    if (HAS_PARAM.test(seg)) {
      by = true;
      s = seg.replace(PARAM, (_m, n: string) => ` ${n} `);
    }
    const parts = s.split(/[^A-Za-z0-9]+/).filter((p) => p !== "");
    if (parts.length === 0) continue;
    if (by) words.push("By");
    for (const p of parts) words.push(p.charAt(0).toUpperCase() + p.slice(1));
  }
  if (words.length === 1) words.push("Root");
  return words.join("");
}

/** An OpenAPI 3.1 document (a plain object; write it as JSON or YAML) describing the endpoints. */
export function toOpenApi(endpoints: readonly EndpointContract[], info: OpenApiInfo, options: OpenApiOptions = {}): Record<string, unknown> {
  // Sorted first, so that which operation keeps a contested path or id never depends on input order.
  const sorted = [...endpoints].sort((a, b) => cmp(normalizeTemplate(a.template).key, normalizeTemplate(b.template).key) || cmp(a.method.toLowerCase(), b.method.toLowerCase()));
  const byShape = new Map<string, PathKey>();
  const paths = new Map<string, Partial<Record<Method, Record<string, unknown>>>>();
  const ids = new Set<string>();
  const skipped: { method: string; template: string; reason: string }[] = [];
  for (const e of sorted) {
    const method = e.method.toLowerCase() as Method;
    if (!METHODS.includes(method)) {
      skipped.push({ method: e.method, template: e.template, reason: "OpenAPI has no field for this method" });
      continue;
    }
    const own = normalizeTemplate(e.template);
    const shape = shapeOf(own.key);
    let path = byShape.get(shape);
    if (path === undefined) byShape.set(shape, (path = own));
    const item = paths.get(path.key) ?? {};
    if (item[method] !== undefined) {
      skipped.push({ method: e.method, template: e.template, reason: `the same path as ${path.key}, which has this method already` });
      continue;
    }
    let id = operationIdFor(method, path.key);
    if (ids.has(id)) {
      let i = 2;
      while (ids.has(`${id}_${i}`)) i++;
      id = `${id}_${i}`;
    }
    ids.add(id);
    item[method] = operation(e, path, own, id);
    paths.set(path.key, item);
  }
  const doc: Record<string, unknown> = { openapi: "3.1.0", info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) } };
  if (options.servers && options.servers.length > 0) doc.servers = options.servers.map((url) => ({ url }));
  const out: Record<string, unknown> = {};
  for (const [k, v] of [...paths].sort((a, b) => cmp(a[0], b[0]))) {
    const ordered: Record<string, unknown> = {};
    for (const m of METHODS) if (v[m] !== undefined) ordered[m] = v[m];
    out[k] = ordered;
  }
  doc.paths = out;
  if (skipped.length > 0) doc["x-ficus-skipped"] = skipped;
  return doc;
}

function operation(e: EndpointContract, path: PathKey, own: PathKey, operationId: string): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  // Path parameters: the path's names; schemas by the endpoint's own names, position by position.
  path.names.forEach((name, i) => {
    const ownName = own.names[i] ?? name;
    const schema = e.pathParams?.[ownName] ?? e.pathParams?.[name] ?? { type: "string" };
    parameters.push({ name, in: "path", required: true, schema: structuredClone(schema) });
  });
  const seen = new Set<string>();
  for (const q of e.query ?? []) {
    if (seen.has(q.name)) continue;
    seen.add(q.name);
    parameters.push({ name: q.name, in: "query", required: q.required, schema: structuredClone(q.schema) });
  }
  const op: Record<string, unknown> = { operationId };
  if (e.summary) op.summary = e.summary;
  if (parameters.length > 0) op.parameters = parameters;
  if (e.request) {
    op.requestBody = { required: e.request.required ?? false, content: { [e.request.mediaType ?? "application/json"]: { schema: structuredClone(e.request.schema) } } };
  }
  const responses: Record<string, unknown> = {};
  const codes = Object.keys(e.responses)
    .filter((c) => /^[1-5](?:\d\d|XX)$/.test(c) || c === "default")
    .sort();
  for (const code of codes) {
    const r = e.responses[code] as ResponseContract;
    const res: Record<string, unknown> = { description: r.description ?? REASONS[code] ?? (code === "default" ? "Any other response" : `Status ${code}`) };
    if (r.schema !== undefined) res.content = { [r.mediaType ?? "application/json"]: { schema: structuredClone(r.schema) } };
    responses[code] = res;
  }
  if (codes.length === 0) responses.default = { description: "No response observed" };
  op.responses = responses;
  return op;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
