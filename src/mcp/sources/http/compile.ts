/**
 * A declared HTTP tool compiled once into its MCP definition, a request builder
 * (arguments → HttpCall, run per call: precompiled parts, no regular expression,
 * no URL parsing) and a result builder (HttpAnswer → CallToolResult).
 * Everything a spec can get wrong is found here, at load, as
 * FICUS_MCP_SOURCE_INVALID naming the tool and the field.
 */

import { FicusError } from "../../../core/errors.ts";
import { fieldNameProblem, fieldValueProblem, isToken } from "../../../core/http-grammar.ts";
import { isValidToolName } from "../../names.ts";
import { type CallToolResult, isJsonObject, type JsonObject, type ToolDefinition } from "../../types.ts";
import { type ResultOptions, type StructuredMode, toolResult } from "./result.ts";
import type { HttpAnswer, HttpCall, HttpToolSpec } from "./spec.ts";
import { appendQuery, compilePathTemplate, headerValue, pathSegment } from "./template.ts";

export interface CompiledHttpTool {
  readonly definition: ToolDefinition;
  /** The HTTP request for one call; throws FICUS_MCP_INVALID_ARGUMENTS when the arguments cannot make one. */
  request(args: JsonObject): HttpCall;
  /** The call's result; never throws. */
  result(answer: HttpAnswer): CallToolResult;
}

export interface CompileOptions {
  /** Text content longer than this (bytes) is cut; default 1 MiB. */
  maxTextBytes?: number;
}

/** Headers a tool may not set: the gateway frames the message and owns the connection (RFC 9110 §7.6.1, RFC 9112 §6). */
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]);

const encoder = new TextEncoder();

type BodyPlan = { kind: "none" } | { kind: "one"; arg: string } | { kind: "list"; args: readonly string[] } | { kind: "rest"; used: ReadonlySet<string> };

function invalidSpec(tool: string, message: string): FicusError {
  return new FicusError("FICUS_MCP_SOURCE_INVALID", `tool ${JSON.stringify(tool)}: ${message}`);
}


/** Compiles a declared tool; throws FicusError FICUS_MCP_SOURCE_INVALID naming what is wrong. */
export function compileHttpTool(spec: HttpToolSpec, options: CompileOptions = {}): CompiledHttpTool {
  const tool = spec.name;
  if (!isValidToolName(tool)) throw invalidSpec(tool, "name must be 1–128 characters of A–Z, a–z, 0–9, _, - and .");
  if (!isJsonObject(spec.inputSchema) || spec.inputSchema.type !== "object") throw invalidSpec(tool, "inputSchema must be a JSON Schema with type: object");
  const properties = isJsonObject(spec.inputSchema.properties) ? spec.inputSchema.properties : {};
  const hasArg = (a: string) => Object.hasOwn(properties, a);
  const call = spec.call;
  if (!isJsonObject(call)) throw invalidSpec(tool, "call is required");

  const method = String(call.method).toUpperCase();
  if (!isToken(method)) throw invalidSpec(tool, `call.method ${JSON.stringify(call.method)} is not an HTTP method`);

  let template: ReturnType<typeof compilePathTemplate>;
  try {
    template = compilePathTemplate(call.path);
  } catch (e) {
    throw invalidSpec(tool, `call.${(e as Error).message}`);
  }
  for (const a of template.args) if (!hasArg(a)) throw invalidSpec(tool, `call.path names {${a}}, which inputSchema.properties lacks`);

  const used = new Set<string>(template.args);
  const queryNames: string[] = [];
  const queryArgs: string[] = [];
  for (const [q, a] of Object.entries(call.query ?? {})) {
    if (q === "") throw invalidSpec(tool, "call.query has an empty parameter name");
    if (!hasArg(a)) throw invalidSpec(tool, `call.query.${q} names the argument "${a}", which inputSchema.properties lacks`);
    queryNames.push(encodeURIComponent(q));
    queryArgs.push(a);
    used.add(a);
  }

  const fixed: [string, string][] = [];
  const seen = new Set<string>();
  for (const [h, v] of Object.entries(call.fixed_headers ?? {})) {
    const lower = h.toLowerCase();
    const nameProblem = fieldNameProblem(h);
    if (nameProblem !== undefined) throw invalidSpec(tool, `call.fixed_headers: the name ${JSON.stringify(h)} ${nameProblem}`);
    if (RESERVED_HEADERS.has(lower)) throw invalidSpec(tool, `call.fixed_headers.${h}: the gateway sets this header`);
    const valueProblem = typeof v === "string" ? fieldValueProblem(v) : "is not a string";
    if (valueProblem !== undefined) throw invalidSpec(tool, `call.fixed_headers.${h} ${valueProblem}`);
    if (seen.has(lower)) throw invalidSpec(tool, `call.fixed_headers names ${h} twice`);
    seen.add(lower);
    fixed.push([lower, v]);
  }
  const headerNames: string[] = [];
  const headerArgs: string[] = [];
  for (const [h, a] of Object.entries(call.headers ?? {})) {
    const lower = h.toLowerCase();
    const nameProblem = fieldNameProblem(h);
    if (nameProblem !== undefined) throw invalidSpec(tool, `call.headers: the name ${JSON.stringify(h)} ${nameProblem}`);
    if (RESERVED_HEADERS.has(lower)) throw invalidSpec(tool, `call.headers.${h}: the gateway sets this header`);
    if (seen.has(lower)) throw invalidSpec(tool, `call.headers.${h} is also in call.fixed_headers or named twice`);
    if (!hasArg(a)) throw invalidSpec(tool, `call.headers.${h} names the argument "${a}", which inputSchema.properties lacks`);
    seen.add(lower);
    headerNames.push(lower);
    headerArgs.push(a);
    used.add(a);
  }

  let body: BodyPlan = NO_BODY;
  if (call.body === "*") body = { kind: "rest", used };
  else if (typeof call.body === "string") {
    if (!hasArg(call.body)) throw invalidSpec(tool, `call.body names the argument "${call.body}", which inputSchema.properties lacks`);
    body = { kind: "one", arg: call.body };
  } else if (Array.isArray(call.body)) {
    for (const a of call.body) if (typeof a !== "string" || !hasArg(a)) throw invalidSpec(tool, `call.body names the argument ${JSON.stringify(a)}, which inputSchema.properties lacks`);
    body = { kind: "list", args: [...call.body] };
  } else if (call.body !== undefined) throw invalidSpec(tool, "call.body must be an argument name, a list of them, or \"*\"");

  if (!seen.has("accept")) fixed.push(["accept", "application/json"]);
  const setContentType = !seen.has("content-type");

  let structured: StructuredMode = "none";
  let outputSchema: JsonObject | undefined;
  if (spec.outputSchema !== undefined) {
    if (!isJsonObject(spec.outputSchema)) throw invalidSpec(tool, "outputSchema must be a JSON Schema object");
    if (spec.outputSchema.type === "object") {
      structured = "object";
      outputSchema = spec.outputSchema;
    } else {
      structured = "wrap";
      outputSchema = {
        type: "object",
        description: "The response body is returned as the `result` property (the tool's output is not a JSON object).",
        properties: { result: spec.outputSchema },
        required: ["result"],
      };
    }
  }

  const definition: ToolDefinition = { name: tool, inputSchema: spec.inputSchema };
  if (spec.title !== undefined) definition.title = spec.title;
  if (spec.description !== undefined) definition.description = spec.description;
  if (outputSchema !== undefined) definition.outputSchema = outputSchema;
  if (spec.annotations !== undefined) definition.annotations = spec.annotations;

  // What a call needs, and nothing else: thousands of tools are kept, so empty lists and the common
  // header and result settings are shared, and the spec itself is not retained.
  const onlyAccept = fixed.length === 1 && fixed[0]?.[0] === "accept" && fixed[0][1] === "application/json";
  return new HttpToolPlan(
    definition,
    method,
    template.literals,
    template.args.length > 0 ? template.args : NONE,
    queryNames.length > 0 ? queryNames : NONE,
    queryArgs.length > 0 ? queryArgs : NONE,
    headerNames.length > 0 ? headerNames : NONE,
    headerArgs.length > 0 ? headerArgs : NONE,
    onlyAccept ? ACCEPT_JSON : fixed,
    body,
    setContentType,
    resultOptionsFor(structured, options.maxTextBytes ?? 1024 * 1024),
  );
}

const NONE: readonly string[] = Object.freeze([]);
const NO_BODY: BodyPlan = Object.freeze({ kind: "none" });
const ACCEPT_JSON: readonly (readonly [string, string])[] = Object.freeze([Object.freeze(["accept", "application/json"] as const)]);
const RESULT_OPTIONS = new Map<string, ResultOptions>();

function resultOptionsFor(structured: StructuredMode, maxTextBytes: number): ResultOptions {
  const key = `${structured}:${maxTextBytes}`;
  let o = RESULT_OPTIONS.get(key);
  if (o === undefined) {
    o = Object.freeze({ structured, maxTextBytes });
    RESULT_OPTIONS.set(key, o);
  }
  return o;
}

/** A compiled tool: the plan of its HTTP call, as plain fields (no closure per tool). */
class HttpToolPlan implements CompiledHttpTool {
  constructor(
    readonly definition: ToolDefinition,
    private readonly method: string,
    private readonly literals: readonly string[],
    private readonly pathArgs: readonly string[],
    private readonly queryNames: readonly string[],
    private readonly queryArgs: readonly string[],
    private readonly headerNames: readonly string[],
    private readonly headerArgs: readonly string[],
    private readonly fixed: readonly (readonly [string, string])[],
    private readonly body: BodyPlan,
    private readonly setContentType: boolean,
    private readonly resultOptions: ResultOptions,
  ) {}

  request(args: JsonObject): HttpCall {
    const { literals, pathArgs, queryArgs, queryNames, headerArgs, headerNames, body } = this;
    let target = literals[0] as string;
    for (let i = 0; i < pathArgs.length; i++) {
      const a = pathArgs[i] as string;
      target += pathSegment(a, args[a]) + (literals[i + 1] as string);
    }
    if (queryArgs.length > 0) {
      const pairs: string[] = [];
      for (let i = 0; i < queryArgs.length; i++) {
        const a = queryArgs[i] as string;
        appendQuery(pairs, queryNames[i] as string, a, args[a]);
      }
      if (pairs.length > 0) target += `?${pairs.join("&")}`;
    }
    const headers: [string, string][] = this.fixed.map(([k, v]) => [k, v]);
    for (let i = 0; i < headerArgs.length; i++) {
      const a = headerArgs[i] as string;
      const v = headerValue(a, args[a]);
      if (v !== undefined) headers.push([headerNames[i] as string, v]);
    }
    let payload: unknown;
    switch (body.kind) {
      case "none":
        break;
      case "one":
        payload = args[body.arg];
        break;
      case "list": {
        const o: JsonObject = Object.create(null); // an argument named __proto__ is a key like any other
        for (const a of body.args) if (args[a] !== undefined) o[a] = args[a];
        payload = o;
        break;
      }
      case "rest": {
        const o: JsonObject = Object.create(null); // an argument named __proto__ is a key like any other
        for (const a in args) if (!body.used.has(a) && args[a] !== undefined) o[a] = args[a];
        payload = o;
        break;
      }
    }
    let bytes: Uint8Array | undefined;
    if (payload !== undefined) {
      bytes = encoder.encode(JSON.stringify(payload));
      if (this.setContentType) headers.push(["content-type", "application/json"]);
    }
    return { method: this.method, target, headers, body: bytes };
  }

  result(answer: HttpAnswer): CallToolResult {
    return toolResult(answer, this.resultOptions);
  }
}
