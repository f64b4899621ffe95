/**
 * An OpenAPI 3.0 or 3.1 document as HTTP tool specs: one tool per selected
 * operation. swagger-parser reads (file or http(s) URL), validates and
 * dereferences the document; an invalid one is FICUS_MCP_SOURCE_INVALID naming
 * the document and the JSON pointer the parser reported. Each operation's path,
 * query and header parameters and its JSON request body become the tool's
 * arguments; its 200/201 JSON object response becomes the output schema; its
 * method gives the annotations (MCP 2025-11-25, server/tools "Tool Annotations").
 * Operations that cannot be called from JSON arguments are listed as skipped, with why.
 */

import { resolve as resolvePath } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { FicusError } from "../../../core/errors.ts";
import { compileGlobs, sanitizeToolName, TOOL_NAME_MAX } from "../../names.ts";
import { isJsonObject, type JsonObject } from "../../types.ts";
import { compileHttpTool } from "./compile.ts";
import { acyclic, normalizer30 } from "./schema.ts";
import type { HttpToolSpec } from "./spec.ts";

/** Which operations to offer: one of the lists must match (any list given), then none of `exclude`'s. Globs: `*` and `?`. */
export interface OpenApiSelectionLists {
  tags?: string[];
  /** operationId globs (an operation without one is matched by its tool name). */
  operations?: string[];
  /** Path globs, on the path as written in the document (`/pets/{id}`). */
  paths?: string[];
}

export interface OpenApiSelection {
  include?: OpenApiSelectionLists;
  exclude?: OpenApiSelectionLists;
}

export interface OpenApiTools {
  title: string;
  version: string;
  /** The document's server URLs, variables replaced by their defaults. */
  servers: string[];
  tools: HttpToolSpec[];
  /** Selected operations that could not become tools. */
  skipped: { operation: string; reason: string }[];
}

/** Operation methods in the order tools are named (OpenAPI 3.x Path Item Object). */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const DESCRIPTION_MAX = 1024;
/** Per the OpenAPI spec, header parameters with these names are ignored (they come from elsewhere). */
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);
/** Reading a document over HTTP gives up after this long. */
const HTTP_TIMEOUT_MS = 15_000;

class Skip extends Error {}


function isJsonMediaType(mt: string): boolean {
  const base = (mt.split(";")[0] ?? "").trim().toLowerCase();
  return base === "application/json" || (base.startsWith("application/") && base.endsWith("+json"));
}

/**
 * Reads, validates and converts the OpenAPI document at `location`: a file path
 * (relative to `baseDir`) or an http(s) URL.
 */
export async function openApiTools(location: string, selection: OpenApiSelection, baseDir: string): Promise<OpenApiTools> {
  const where = /^https?:\/\//i.test(location) ? location : resolvePath(baseDir, location);
  const api = await validate(where, where);
  return convert(api, selection, where);
}

/** Converts a document already in memory (it is copied, never changed); `origin` names it in errors. */
export async function openApiToolsFromDocument(doc: unknown, selection: OpenApiSelection, origin: string): Promise<OpenApiTools> {
  let copy: unknown;
  try {
    copy = structuredClone(doc);
  } catch (e) {
    throw new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin} is not plain data: ${(e as Error).message}`, { cause: e });
  }
  if (!isJsonObject(copy)) throw new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin} is not an object`);
  return convert(await validate(copy, origin), selection, origin);
}

async function validate(doc: string | JsonObject, origin: string): Promise<JsonObject> {
  if (isJsonObject(doc) && typeof doc.swagger === "string") throw swagger2(origin);
  const parser = new SwaggerParser();
  // The operator chose the document, so its own internal URLs (and its $refs') are allowed:
  // the parser's "safe URL" check would refuse http://orders.internal/openapi.json.
  const options: SwaggerParser.Options = { resolve: { http: { timeout: HTTP_TIMEOUT_MS, safeUrlResolver: false } }, dereference: { circular: true } };
  let api: unknown;
  try {
    api = await (typeof doc === "string" ? parser.validate(doc, options) : parser.validate(doc as never, options));
  } catch (e) {
    throw parserError(e, origin);
  }
  if (!isJsonObject(api)) throw new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin} is not an object`);
  if (typeof api.swagger === "string") throw swagger2(origin);
  return api;
}

function swagger2(origin: string): FicusError {
  return new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin} is Swagger 2.0; edge-mcp reads OpenAPI 3.0 and 3.1 (convert it, e.g. with swagger2openapi)`);
}

/** The parser's own account of what is wrong, with the document's name and the JSON pointer(s) it gave. */
function parserError(e: unknown, origin: string): FicusError {
  const err = e as { name?: string; message?: string; details?: unknown; parentPath?: string };
  const message = String(err.message ?? e);
  let detail: string;
  if (Array.isArray(err.details) && err.details.length > 0) {
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const d of err.details as { instancePath?: string; message?: string; params?: Record<string, unknown> }[]) {
      const extra = d.params && typeof d.params.additionalProperty === "string" ? ` (${d.params.additionalProperty})` : "";
      const line = `#${d.instancePath || "/"} ${d.message ?? "is invalid"}${extra}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
    const shown = lines.slice(0, 8);
    detail = `it does not match the OpenAPI schema:\n  ${shown.join("\n  ")}${lines.length > shown.length ? `\n  (and ${lines.length - shown.length} more)` : ""}`;
  } else if (err.name === "MissingPointerError" || err.name === "InvalidPointerError") {
    const at = typeof err.parentPath === "string" && err.parentPath !== "" ? `${err.parentPath.slice(err.parentPath.indexOf("#"))}: ` : "";
    detail = `${at}${message}`;
  } else if (err.name === "ResolverError" || err.name === "TimeoutError") {
    return new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin} cannot be read: ${message}`, { cause: e });
  } else detail = message;
  return new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin} is invalid: ${detail}`, { cause: e });
}

interface Operation {
  path: string;
  method: (typeof METHODS)[number];
  op: JsonObject;
  common: unknown[];
  name: string;
}

function compileLists(lists: OpenApiSelectionLists | undefined): ((o: Operation) => boolean) | undefined {
  if (lists === undefined) return undefined;
  const tags = lists.tags ?? [];
  const ops = lists.operations ?? [];
  const paths = lists.paths ?? [];
  if (tags.length + ops.length + paths.length === 0) return undefined;
  const tag = compileGlobs(tags);
  const opId = compileGlobs(ops);
  const path = compileGlobs(paths);
  return (o) => {
    if (tags.length > 0 && Array.isArray(o.op.tags) && o.op.tags.some((t) => typeof t === "string" && tag(t))) return true;
    if (ops.length > 0 && opId(typeof o.op.operationId === "string" ? o.op.operationId : o.name)) return true;
    return paths.length > 0 && path(o.path);
  };
}

function withSuffix(base: string, suffix: string): string {
  return base.length + suffix.length <= TOOL_NAME_MAX ? base + suffix : base.slice(0, TOOL_NAME_MAX - suffix.length) + suffix;
}

function serverUrls(api: JsonObject): string[] {
  const out: string[] = [];
  if (!Array.isArray(api.servers)) return out;
  for (const s of api.servers) {
    if (!isJsonObject(s) || typeof s.url !== "string") continue;
    const vars = isJsonObject(s.variables) ? s.variables : {};
    out.push(s.url.replace(/\{([^}]+)\}/g, (m, v: string) => {
      const def = isJsonObject(vars[v]) ? (vars[v] as JsonObject).default : undefined;
      return typeof def === "string" ? def : m;
    }));
  }
  return out;
}

function convert(api: JsonObject, selection: OpenApiSelection, origin: string): OpenApiTools {
  const info = isJsonObject(api.info) ? api.info : {};
  const normalize = String(api.openapi).startsWith("3.0") ? normalizer30() : undefined;
  const known = new WeakMap<object, boolean>();

  // Name every operation first, so a tool's name does not depend on the selection.
  const operations: Operation[] = [];
  const taken = new Set<string>();
  const paths = isJsonObject(api.paths) ? api.paths : {};
  for (const path in paths) {
    const item = paths[path];
    if (!isJsonObject(item)) continue;
    const common = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isJsonObject(op)) continue;
      const base = sanitizeToolName(typeof op.operationId === "string" && op.operationId !== "" ? op.operationId : `${method} ${path}`);
      let name = base;
      for (let n = 2; taken.has(name); n++) name = withSuffix(base, `_${n}`);
      taken.add(name);
      operations.push({ path, method, op, common, name });
    }
  }

  const include = compileLists(selection.include);
  const exclude = compileLists(selection.exclude);
  const tools: HttpToolSpec[] = [];
  const skipped: { operation: string; reason: string }[] = [];
  for (const o of operations) {
    if (include !== undefined && !include(o)) continue;
    if (exclude?.(o)) continue;
    const label = typeof o.op.operationId === "string" ? `${o.op.operationId} (${o.method.toUpperCase()} ${o.path})` : `${o.method.toUpperCase()} ${o.path}`;
    try {
      const spec = toolSpec(o, normalize, known);
      compileHttpTool(spec); // what the gateway will do: a spec it would refuse is skipped here, with its reason
      tools.push(spec);
    } catch (e) {
      if (e instanceof Skip || e instanceof FicusError) skipped.push({ operation: label, reason: e.message });
      else throw new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${origin}: operation ${label} cannot be read: ${(e as Error).message}`, { cause: e });
    }
  }
  return {
    title: typeof info.title === "string" ? info.title : "",
    version: typeof info.version === "string" ? info.version : "",
    servers: serverUrls(api),
    tools,
    skipped,
  };
}

function isPlainObjectSchema(s: unknown): s is JsonObject {
  return isJsonObject(s) && s.type === "object";
}

/** The schema of one parameter as an argument: its schema, with its description and deprecation. */
function parameterSchema(p: JsonObject): JsonObject {
  const schema = isJsonObject(p.schema) ? p.schema : {};
  const extra: JsonObject = {};
  if (typeof p.description === "string" && p.description !== "" && schema.description === undefined) extra.description = p.description;
  if (p.deprecated === true) extra.deprecated = true;
  return Object.keys(extra).length === 0 ? schema : { ...schema, ...extra };
}

function toolSpec(o: Operation, normalize: ((s: unknown) => void) | undefined, known: WeakMap<object, boolean>): HttpToolSpec {
  const { op, method, path } = o;
  // Parameters: the path item's, overridden by the operation's (same name and location).
  const params = new Map<string, JsonObject>();
  for (const list of [o.common, Array.isArray(op.parameters) ? op.parameters : []]) {
    for (const p of list) if (isJsonObject(p) && typeof p.name === "string" && typeof p.in === "string") params.set(`${p.in}\u0000${p.name}`, p);
  }

  const properties: JsonObject = {};
  const required: string[] = [];
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  const argName = (where: string, name: string): string => {
    if (!Object.hasOwn(properties, name)) return name;
    let n = `${where}_${name}`;
    for (let i = 2; Object.hasOwn(properties, n); i++) n = `${where}_${name}_${i}`;
    return n;
  };

  for (const where of ["path", "query", "header"] as const) {
    for (const p of params.values()) {
      if (p.in !== where) continue;
      const name = p.name as string;
      if (where === "header" && IGNORED_HEADERS.has(name.toLowerCase())) continue;
      const isRequired = where === "path" || p.required === true;
      if (p.schema === undefined && isJsonObject(p.content)) {
        const why = `the ${where} parameter "${name}" is serialized as ${Object.keys(p.content).join(", ")} (content), which HTTP tools do not write`;
        if (isRequired) throw new Skip(why);
        continue;
      }
      normalize?.(p.schema);
      const schema = parameterSchema(p);
      if (isPlainObjectSchema(schema) || p.style === "deepObject") {
        const why = `the ${where} parameter "${name}" is an object (style ${typeof p.style === "string" ? p.style : "default"}), which HTTP tools do not serialize`;
        if (isRequired) throw new Skip(why);
        continue;
      }
      const arg = where === "path" ? name : argName(where, name);
      if (where === "path" && Object.hasOwn(properties, arg)) throw new Skip(`the path parameter "${name}" is declared twice`);
      properties[arg] = schema;
      if (isRequired) required.push(arg);
      if (where === "query") query[name] = arg;
      else if (where === "header") headers[name] = arg;
    }
  }
  for (let at = path.indexOf("{"); at !== -1; at = path.indexOf("{", at + 1)) {
    const end = path.indexOf("}", at);
    const v = path.slice(at + 1, end === -1 ? undefined : end);
    if (!Object.hasOwn(properties, v)) throw new Skip(`the path names {${v}}, but the operation declares no path parameter "${v}"`);
  }

  // The request body: a JSON object's properties become arguments; anything else is one argument.
  let body: string | string[] | undefined;
  const rb = op.requestBody;
  if (isJsonObject(rb) && isJsonObject(rb.content)) {
    const types = Object.keys(rb.content);
    const jsonType = types.find(isJsonMediaType);
    if (jsonType === undefined) {
      if (types.length > 0) throw new Skip(`the request body is ${types.join(", ")}; HTTP tools send JSON bodies only`);
    } else {
      const media = rb.content[jsonType];
      const schema = isJsonObject(media) && isJsonObject(media.schema) ? media.schema : {};
      normalize?.(schema);
      const bodyRequired = rb.required === true;
      const props = isJsonObject(schema.properties) ? schema.properties : undefined;
      const mergeable =
        isPlainObjectSchema(schema) &&
        props !== undefined &&
        Object.keys(props).length > 0 &&
        (schema.additionalProperties === undefined || schema.additionalProperties === false) &&
        schema.allOf === undefined &&
        schema.anyOf === undefined &&
        schema.oneOf === undefined &&
        !Object.keys(props).some((k) => Object.hasOwn(properties, k));
      if (mergeable) {
        const list: string[] = [];
        const bodyRequiredProps = new Set(Array.isArray(schema.required) ? schema.required : []);
        for (const k in props) {
          const ps = props[k];
          if (isJsonObject(ps) && ps.readOnly === true) continue; // the server sets it; never sent
          properties[k] = ps;
          list.push(k);
          if (bodyRequired && bodyRequiredProps.has(k)) required.push(k);
        }
        body = list;
      } else {
        const arg = argName("request", "body");
        properties[arg] = typeof rb.description === "string" && rb.description !== "" && schema.description === undefined ? { ...schema, description: rb.description } : schema;
        if (bodyRequired) required.push(arg);
        body = arg;
      }
    }
  }

  // The output schema: the 200 (else 201) JSON response, when it is an object.
  let outputSchema: JsonObject | undefined;
  const responses = isJsonObject(op.responses) ? op.responses : {};
  const ok = isJsonObject(responses["200"]) ? responses["200"] : isJsonObject(responses["201"]) ? responses["201"] : undefined;
  if (ok !== undefined && isJsonObject(ok.content)) {
    const jsonType = Object.keys(ok.content).find(isJsonMediaType);
    const media = jsonType === undefined ? undefined : ok.content[jsonType];
    if (isJsonObject(media) && isJsonObject(media.schema)) {
      normalize?.(media.schema);
      if (isPlainObjectSchema(media.schema)) outputSchema = acyclic(media.schema, known);
    }
  }

  const summary = typeof op.summary === "string" ? op.summary.trim() : "";
  const text = [summary, typeof op.description === "string" ? op.description.trim() : ""].filter((s) => s !== "").join("\n\n");
  let description = op.deprecated === true ? `Deprecated. ${text}`.trim() : text;
  if (description.length > DESCRIPTION_MAX) {
    let end = DESCRIPTION_MAX - 1;
    if (/[\uD800-\uDBFF]/.test(description[end - 1] ?? "")) end--; // never half a surrogate pair
    description = `${description.slice(0, end)}…`;
  }

  const annotations: JsonObject = {};
  if (summary !== "") annotations.title = summary;
  switch (method) {
    case "get":
    case "head":
      annotations.readOnlyHint = true;
      break;
    case "delete":
      annotations.readOnlyHint = false;
      annotations.destructiveHint = true;
      annotations.idempotentHint = true; // RFC 9110 §9.2.2
      break;
    case "put":
      annotations.readOnlyHint = false;
      annotations.idempotentHint = true;
      break;
    default:
      annotations.readOnlyHint = false;
  }
  annotations.openWorldHint = false;

  const inputSchema: JsonObject = { type: "object", properties };
  if (required.length > 0) inputSchema.required = required;
  const call: HttpToolSpec["call"] = { method: method.toUpperCase(), path };
  if (Object.keys(query).length > 0) call.query = query;
  if (Object.keys(headers).length > 0) call.headers = headers;
  if (body !== undefined) call.body = body;

  const spec: HttpToolSpec = { name: o.name, inputSchema: acyclic(inputSchema, known), annotations, call };
  if (summary !== "") spec.title = summary;
  if (description !== "") spec.description = description;
  if (outputSchema !== undefined) spec.outputSchema = outputSchema;
  return spec;
}
