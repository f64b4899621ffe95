/**
 * The CustomResourceDefinitions of ToolSet and Tool (deploy/crds/), generated
 * from the zod source schema so the cluster and Ficus accept the same specs.
 * zod's JSON Schema (draft 2020-12) is narrowed to the structural OpenAPI v3
 * subset Kubernetes requires (apiextensions.k8s.io/v1): a type at every
 * level, no $ref, no unions (string|number becomes x-kubernetes-int-or-string,
 * other unions and free-form JSON x-kubernetes-preserve-unknown-fields), no
 * additionalProperties: false (Kubernetes prunes unknown fields itself), no
 * defaults (Ficus applies its own when it reads the document).
 * Written by scripts/gen-crds.ts; a test checks the committed files match.
 */
import { toJSONSchema } from "zod";
import { mcpSourceSchema } from "../schema.ts";
import { isJsonObject } from "../types.ts";
import { GROUP, SOURCE_NAME, VERSION } from "./schema.ts";

type Schema = Record<string, unknown>;

/** Formats Kubernetes validates; any other (zod's "starts_with") is left out, its pattern kept. */
const K8S_FORMATS = new Set(["int32", "int64", "float", "double", "byte", "date", "date-time", "password", "uri", "email", "hostname", "ipv4", "ipv6", "uuid"]);
const DROPPED = new Set(["$schema", "$id", "default", "examples", "propertyNames", "additionalProperties", "anyOf", "oneOf", "allOf", "const", "exclusiveMinimum", "exclusiveMaximum", "format", "type"]);


/** One JSON Schema node (zod's draft 2020-12 output) as a structural schema node. */
export function structural(node: Schema): Schema {
  if (node.$ref !== undefined) throw new Error(`a $ref (${String(node.$ref)}) cannot be written into a CRD: inline the schema`);
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) if (!DROPPED.has(k)) out[k] = v;
  const freeForm = () => {
    delete out.properties;
    delete out.required;
    out["x-kubernetes-preserve-unknown-fields"] = true;
    return out;
  };
  let type = node.type as string | string[] | undefined;
  if (node.const !== undefined) out.enum = [node.const];
  if (typeof node.format === "string" && K8S_FORMATS.has(node.format)) out.format = node.format;
  if (typeof node.exclusiveMinimum === "number") Object.assign(out, { minimum: node.exclusiveMinimum, exclusiveMinimum: true });
  if (typeof node.exclusiveMaximum === "number") Object.assign(out, { maximum: node.exclusiveMaximum, exclusiveMaximum: true });
  const union = (node.anyOf ?? node.oneOf) as Schema[] | undefined;
  if (union !== undefined) {
    // A union of plain types reads as a list of types; anything richer is free-form.
    if (union.every((b) => typeof b.type === "string" && Object.keys(b).every((k) => k === "type" || k === "description"))) type = union.map((b) => b.type as string);
    else if (union.length === 2 && union.some((b) => b.type === "null")) {
      const other = union.find((b) => b.type !== "null") as Schema;
      return { ...structural(other), ...(out.description !== undefined ? { description: out.description } : {}), nullable: true };
    } else return freeForm();
  }
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    if (types.length !== type.length) out.nullable = true;
    if (types.length === 1) type = types[0];
    else if (types.every((t) => t === "string" || t === "number" || t === "integer")) {
      // A size or a duration: "10MiB" or a number.
      out["x-kubernetes-int-or-string"] = true;
      return out;
    } else return freeForm();
  }
  if (type === undefined) return freeForm();
  out.type = type;
  if (type === "array" && isJsonObject(node.items)) out.items = structural(node.items);
  if (type === "object") {
    const props = node.properties as Record<string, Schema> | undefined;
    const extra = node.additionalProperties;
    if (props !== undefined) {
      out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, structural(v)]));
    } else if (isJsonObject(extra) && Object.keys(extra).length > 0) {
      out.additionalProperties = structural(extra);
    } else {
      // A JSON object of any shape (a tool's input_schema, annotations, arguments).
      return freeForm();
    }
  }
  return out;
}

/** The JSON Schema of a source as the config takes it (input side: what a document may say). */
function sourceJsonSchema(): Schema {
  return toJSONSchema(mcpSourceSchema, { io: "input", unrepresentable: "any" }) as Schema;
}

/** The spec of a ToolSet: a source. */
export function toolSetSpecSchema(): Schema {
  const spec = structural(sourceJsonSchema());
  return {
    ...spec,
    description: "An MCP tool source, exactly as mcp.sources.<name> takes it (docs/mcp.md): declared HTTP tools, an OpenAPI document, or a federated MCP server (url or command), with its curation. metadata.name is the source's name.",
    "x-kubernetes-validations": [
      {
        rule: "[has(self.tools), has(self.openapi), has(self.url), has(self.command)].filter(x, x).size() <= 1",
        message: "give at most one of tools, openapi, url or command (none: a source of declared tools that Tool objects fill)",
      },
    ],
  };
}

/** The spec of a Tool: one declared HTTP tool and the ToolSet it joins. */
export function toolSpecSchema(): Schema {
  const tools = (sourceJsonSchema().properties as Record<string, Schema>).tools as Schema;
  const item = structural(tools.items as Schema);
  const props = item.properties as Record<string, Schema>;
  return {
    ...item,
    description: "One declared HTTP tool (an entry of a source's tools: list) and the source it joins.",
    properties: {
      toolSet: { type: "string", pattern: SOURCE_NAME.source, description: "The ToolSet (or the source of the gateway's config) this tool joins; it must be a source of declared tools." },
      ...props,
      name: { ...props.name, description: "The tool's name (before the source's prefix). Default: metadata.name." },
    },
    required: ["toolSet", ...((item.required as string[] | undefined) ?? []).filter((r) => r !== "name")],
  };
}

interface Kind {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: Schema;
  readonly columns: readonly { name: string; type: string; jsonPath: string; description: string }[];
}

function crd(k: Kind): Schema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${k.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.kind.toLowerCase(), shortNames: [...k.shortNames], categories: ["ficus", "mcp"] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [...k.columns, { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "When the object was created." }],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: k.description,
              required: ["spec"],
              properties: {
                apiVersion: { type: "string", description: "gostoa.dev/v1alpha1" },
                kind: { type: "string", description: k.kind },
                metadata: { type: "object" },
                spec: k.spec,
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = (what: string) => `# ${what}\n# Generated by scripts/gen-crds.ts from the zod schemas (src/mcp/schema.ts, src/mcp/k8s/): do not edit.\n`;

const FIRST = ["type", "description"];

/** Keys in reading order: a node's type and description before its constraints and children. */
function tidy(v: unknown, names = false): unknown {
  if (Array.isArray(v)) return v.map((x) => tidy(x));
  if (!isJsonObject(v)) return v;
  // The keys of `properties` are field names: kept in the schema's order.
  const keys = names ? Object.keys(v) : Object.keys(v).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((k) => [k, k === "enum" ? v[k] : tidy(v[k], !names && k === "properties")]));
}

function rank(key: string): number {
  const i = FIRST.indexOf(key);
  return i >= 0 ? i : FIRST.length;
}

/** The two manifests as YAML text: deploy/crds/toolset.yaml and deploy/crds/tool.yaml. */
export function crdManifests(): { "toolset.yaml": string; "tool.yaml": string } {
  const { stringify } = require("yaml") as typeof import("yaml");
  const yaml = (v: unknown) => stringify(tidy(v), { lineWidth: 0, aliasDuplicateObjects: false });
  return {
    "toolset.yaml":
      HEADER("ToolSet: an MCP tool source of Ficus's edge-mcp (metadata.name is the source's name).") +
      yaml(
        crd({
          kind: "ToolSet",
          plural: "toolsets",
          shortNames: ["mcpts"],
          description: "An MCP tool source served by Ficus's edge-mcp: metadata.name is the source's name (1 to 32 of A-Z a-z 0-9 _ -).",
          spec: toolSetSpecSchema(),
          columns: [
            { name: "Upstream", type: "string", jsonPath: ".spec.upstream", description: "Where declared or OpenAPI tools' calls go." },
            { name: "OpenAPI", type: "string", jsonPath: ".spec.openapi", description: "The OpenAPI document." },
            { name: "URL", type: "string", jsonPath: ".spec.url", description: "The federated MCP server." },
          ],
        }),
      ),
    "tool.yaml":
      HEADER("Tool: one declared HTTP tool of Ficus's edge-mcp, joining a ToolSet.") +
      yaml(
        crd({
          kind: "Tool",
          plural: "tools",
          shortNames: ["mcptool"],
          description: "One declared HTTP tool served by Ficus's edge-mcp, joining the ToolSet spec.toolSet names.",
          spec: toolSpecSchema(),
          columns: [
            { name: "ToolSet", type: "string", jsonPath: ".spec.toolSet", description: "The source this tool joins." },
            { name: "Method", type: "string", jsonPath: ".spec.call.method", description: "The HTTP method of the call." },
            { name: "Path", type: "string", jsonPath: ".spec.call.path", description: "The path template of the call." },
          ],
        }),
      ),
  };
}
