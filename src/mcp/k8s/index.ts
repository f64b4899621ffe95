/**
 * Kubernetes-style tool definitions (issue 13, item 9): ToolSet and Tool
 * documents (gostoa.dev/v1alpha1) read from the folders of
 * mcp.tool_directories — a mounted ConfigMap, typically — joined to
 * mcp.sources when the config is loaded (src/config/load.ts) and watched with
 * the config file (src/config/source.ts); and the CRDs of deploy/crds/.
 */
export { crdManifests } from "./crd.ts";
export { parseFile, readToolDirectories, type ToolDocument, yamlFiles } from "./documents.ts";
export { type Merged, mergeDocuments, mergeToolDirectories, type ToolDocumentInfo } from "./merge.ts";
export { API_VERSION, GROUP, k8sConfigFields, KINDS, VERSION } from "./schema.ts";
