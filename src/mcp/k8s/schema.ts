/**
 * Kubernetes-style tool definitions: the `mcp.tool_directories` config field
 * and the envelope of the documents read from those directories (apiVersion
 * gostoa.dev/v1alpha1, kinds ToolSet and Tool). A ToolSet's spec is an MCP
 * source exactly as `mcp.sources.<name>` takes it; a Tool's spec is one entry
 * of a source's `tools:` list plus `toolSet`. Both are validated with the
 * source schema of src/mcp/schema.ts, so documents and config never drift.
 */
import { z } from "zod";

export const GROUP = "gostoa.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KINDS = ["ToolSet", "Tool"] as const;
export type ToolDocumentKind = (typeof KINDS)[number];

/** A source name (the same rule as the keys of mcp.sources): a ToolSet's metadata.name and a Tool's spec.toolSet. */
export const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
export const SOURCE_NAME_RULE = "a source name is 1 to 32 of A-Z a-z 0-9 _ - (it becomes a tool-name prefix)";
/** A Kubernetes namespace: an RFC 1123 label. */
export const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Fields of the top-level `mcp:` block. */
export const k8sConfigFields = {
  tool_directories: z
    .array(z.string().min(1, "must name a folder"))
    .max(64)
    .default([])
    .meta({
      description:
        "Folders (relative to the config file) of Kubernetes-style YAML documents, e.g. a mounted ConfigMap: kind ToolSet (apiVersion gostoa.dev/v1alpha1; metadata.name is a source name, spec a source as under mcp.sources) and kind Tool (spec a declared HTTP tool plus spec.toolSet, the source it joins). Their sources join mcp.sources (a name declared twice is an error); a change in a folder reloads like a change of this file. Default none.",
    }),
};

/** The metadata Ficus reads (labels, annotations and the rest of a Kubernetes object's metadata are allowed and ignored). */
export const metadataSchema = z.looseObject({
  name: z.string().min(1).max(253),
  namespace: z.string().regex(NAMESPACE, "a namespace is an RFC 1123 label: 1 to 63 of a-z 0-9 -, starting and ending alphanumeric").optional(),
});

/** The envelope of one document, checked before its spec. */
export const envelopeSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.enum(KINDS),
  metadata: metadataSchema,
  spec: z.record(z.string(), z.unknown()),
  /** What `kubectl get -o yaml` prints; ignored. */
  status: z.unknown().optional(),
});
