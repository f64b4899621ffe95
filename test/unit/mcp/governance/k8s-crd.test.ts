/**
 * The CRDs in deploy/crds/ are what scripts/gen-crds.ts writes from the
 * current schemas (regenerate with: bun scripts/gen-crds.ts), are structural
 * as Kubernetes requires (a type at every level, no $ref or unions, no
 * additionalProperties beside properties), and accept and refuse the same
 * specs as Ficus's own validation.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { validatorFor } from "../../../../src/mcp/governance/json-schema.ts";
import { crdManifests, structural } from "../../../../src/mcp/k8s/crd.ts";
import { mcpSourceSchema } from "../../../../src/mcp/schema.ts";

const DIR = join(import.meta.dir, "../../../../deploy/crds");
type Schema = Record<string, unknown>;

test.each(["toolset.yaml", "tool.yaml"] as const)("deploy/crds/%s is generated from the current schemas", (name) => {
  expect(readFileSync(join(DIR, name), "utf8")).toBe(crdManifests()[name]);
});

function openApiSchema(name: "toolset.yaml" | "tool.yaml"): Schema {
  const crd = parse(crdManifests()[name]) as { spec: { group: string; scope: string; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
  expect(crd.spec.group).toBe("gostoa.dev");
  expect(crd.spec.scope).toBe("Namespaced");
  expect(crd.spec.versions[0]?.name).toBe("v1alpha1");
  return crd.spec.versions[0]?.schema.openAPIV3Schema as Schema;
}

/** Every structural-schema rule this generator could break, with the path of the node that breaks it. */
function structuralProblems(node: Schema, path = "openAPIV3Schema"): string[] {
  const out: string[] = [];
  for (const k of ["$ref", "$defs", "$schema", "anyOf", "oneOf", "allOf", "not", "const", "propertyNames", "default"]) if (k in node) out.push(`${path}: ${k}`);
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties: false`);
  if (node.properties !== undefined && node.additionalProperties !== undefined) out.push(`${path}: properties and additionalProperties`);
  const free = node["x-kubernetes-preserve-unknown-fields"] === true || node["x-kubernetes-int-or-string"] === true;
  if (typeof node.type !== "string" && !free) out.push(`${path}: no type`);
  if (node["x-kubernetes-int-or-string"] === true && node.type !== undefined) out.push(`${path}: int-or-string with a type`);
  if (typeof node.exclusiveMinimum === "number" || typeof node.exclusiveMaximum === "number") out.push(`${path}: numeric exclusive bound`);
  for (const [k, v] of Object.entries((node.properties as Record<string, Schema> | undefined) ?? {})) out.push(...structuralProblems(v, `${path}.properties.${k}`));
  if (node.items !== undefined) out.push(...structuralProblems(node.items as Schema, `${path}.items`));
  if (typeof node.additionalProperties === "object") out.push(...structuralProblems(node.additionalProperties as Schema, `${path}.additionalProperties`));
  return out;
}

/** The structural schema read back as JSON Schema 2020-12, to check values against it with Ajv. */
function asJsonSchema(node: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, asJsonSchema(s)]));
    else if (k === "items" || k === "additionalProperties") out[k] = asJsonSchema(v as Schema);
    else if (k === "exclusiveMinimum" || k === "exclusiveMaximum") {
      if (v === true) out[k] = node[k === "exclusiveMinimum" ? "minimum" : "maximum"];
    } else if (k === "x-kubernetes-int-or-string") out.type = ["string", "integer"];
    else if (!k.startsWith("x-kubernetes") && k !== "nullable") out[k] = v;
  }
  // Kubernetes prunes unknown fields; Ficus refuses them: the check here is the stricter one.
  if (out.type === "object" && out.properties !== undefined && node["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

describe("the CRDs are structural", () => {
  test.each(["toolset.yaml", "tool.yaml"] as const)("%s", (name) => {
    expect(structuralProblems(openApiSchema(name))).toEqual([]);
  });

  test("the conversion: a string|number union is int-or-string, other unions and free-form objects keep unknown fields, a nullable union is nullable", () => {
    expect(structural({ type: ["string", "number"], description: "d" })).toEqual({ description: "d", "x-kubernetes-int-or-string": true });
    expect(structural({ anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] })).toEqual({ "x-kubernetes-preserve-unknown-fields": true });
    expect(structural({ type: "object", propertyNames: { type: "string" }, additionalProperties: {} })).toEqual({ type: "object", "x-kubernetes-preserve-unknown-fields": true });
    expect(structural({ anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }] })).toEqual({ type: "integer", minimum: 1, nullable: true });
    expect(structural({ type: "number", exclusiveMinimum: 0, default: 1 })).toEqual({ type: "number", minimum: 0, exclusiveMinimum: true });
    expect(structural({ type: "string", format: "starts_with", pattern: "^/" })).toEqual({ type: "string", pattern: "^/" });
    expect(() => structural({ $ref: "#/$defs/x" })).toThrow("$ref");
  });
});

describe("the CRDs and Ficus accept the same specs", () => {
  const toolSet = asJsonSchema((openApiSchema("toolset.yaml").properties as Record<string, Schema>).spec as Schema);
  const tool = asJsonSchema((openApiSchema("tool.yaml").properties as Record<string, Schema>).spec as Schema);
  const checkToolSet = validatorFor(toolSet) as (v: unknown) => string | undefined;
  const checkTool = validatorFor(tool) as (v: unknown) => string | undefined;
  const ficus = (spec: unknown) => mcpSourceSchema.safeParse(spec).success;

  test.each([
    ["declared tools", { upstream: "http://api:8080", timeout: "5s", tools: [{ name: "get", call: { path: "/x/{id}", body: ["a", "b"] }, input_schema: { type: "object", properties: { id: { type: "string" } } } }] }, true],
    ["an OpenAPI document with curation", { openapi: "api.yaml", include: { tags: ["public"] }, rename: { getOrder: "get_order" }, fixed_arguments: { list: { limit: 10 } } }, true],
    ["a federated server", { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer x" }, allow: ["search_*"] }, true],
    ["an unknown field", { url: "https://mcp.example.com/mcp", urll: "x" }, false],
    ["a call path without /", { tools: [{ name: "get", call: { path: "x" } }] }, false],
    ["a tool name with a space", { tools: [{ name: "get it", call: { path: "/x" } }] }, false],
    ["an upstream that is not http", { upstream: "ftp://x", tools: [] }, false],
  ])("ToolSet spec: %s", (_what, spec, ok) => {
    expect(ficus(spec)).toBe(ok);
    expect(checkToolSet(spec) === undefined).toBe(ok);
  });

  test.each([
    ["a tool", { toolSet: "orders", name: "cancel", call: { method: "DELETE", path: "/orders/{id}" }, annotations: { destructiveHint: true } }, true],
    ["a tool named by its object", { toolSet: "orders", call: { path: "/orders" } }, true],
    ["no toolSet", { name: "cancel", call: { path: "/orders" } }, false],
    ["no call", { toolSet: "orders", name: "cancel" }, false],
    ["a toolSet that is no source name", { toolSet: "orders.v2", call: { path: "/orders" } }, false],
  ])("Tool spec: %s", (_what, spec, ok) => {
    expect(checkTool(spec) === undefined).toBe(ok);
  });
});
