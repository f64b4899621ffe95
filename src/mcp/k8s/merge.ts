/**
 * Joining the documents of the tool directories to the config, before it is
 * validated: each ToolSet becomes `mcp.sources.<metadata.name>`, each Tool
 * is appended to the `tools:` of the source its spec.toolSet names (a ToolSet
 * or a source of the config). Nothing overrides anything: a source declared
 * twice, a tool name taken twice in a source, a Tool joining an unknown
 * source or one that is not of declared tools are errors naming both places.
 */
import { ConfigError } from "../../core/errors.ts";
import { readToolDirectories, type ToolDocument } from "./documents.ts";

/** What a document contributed, kept on the loaded config (kind, name, namespace, where). */
export interface ToolDocumentInfo {
  readonly kind: ToolDocument["kind"];
  readonly name: string;
  readonly namespace?: string;
  /** The source it declares (ToolSet) or joins (Tool). */
  readonly source: string;
  readonly file: string;
  readonly document: number;
}

export interface Merged {
  readonly documents: readonly ToolDocumentInfo[];
  /** Config paths (mcp.sources.…) whose values came from ${ENV}: redacted on display. */
  readonly secretPaths: readonly string[];
  /** The folders read, absolute: the config source watches them. */
  readonly folders: readonly string[];
}

type Raw = Record<string, unknown>;

const isMapping = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Reads `raw.mcp.tool_directories` (relative to `baseDir`) and merges their
 * documents into `raw.mcp.sources`, in place. Returns undefined when no
 * folder is configured (or the field is not a list: the schema reports it).
 * Throws ConfigError (FICUS_CONFIG_PARSE or FICUS_CONFIG_INVALID) listing
 * every problem; the config is then left as it is.
 */
export function mergeToolDirectories(raw: Raw, baseDir: string, env: Record<string, string | undefined>, configFile: string): Merged | undefined {
  const mcp = raw.mcp;
  if (!isMapping(mcp)) return undefined;
  const folders = mcp.tool_directories;
  if (!Array.isArray(folders) || folders.length === 0 || !folders.every((f) => typeof f === "string" && f !== "")) return undefined;
  const read = readToolDirectories(folders as string[], baseDir, env, configFile);
  if (read.problems.length > 0) throw new ConfigError(read.parseProblem ? "FICUS_CONFIG_PARSE" : "FICUS_CONFIG_INVALID", read.problems);
  const configSources = isMapping(mcp.sources) ? mcp.sources : mcp.sources === undefined ? {} : undefined;
  // mcp.sources of the wrong type: the schema reports it.
  if (configSources === undefined) return undefined;
  const r = mergeDocuments(configSources, read.documents, configFile);
  if (r.problems.length > 0) throw new ConfigError("FICUS_CONFIG_INVALID", r.problems);
  mcp.sources = r.sources;
  return { documents: r.documents, secretPaths: r.secretPaths, folders: read.folders };
}

/** The merge itself (exported for tests): config sources + documents → sources, or problems. */
export function mergeDocuments(
  configSources: Raw,
  documents: readonly ToolDocument[],
  configFile: string,
): { sources: Raw; documents: ToolDocumentInfo[]; secretPaths: string[]; problems: string[] } {
  const problems: string[] = [];
  const secretPaths: string[] = [];
  const sources: Raw = { ...configSources };
  const declaredBy = new Map<string, ToolDocument>();
  const info: ToolDocumentInfo[] = [];
  const describe = (d: ToolDocument) => `${d.kind} ${JSON.stringify(d.name)}${d.namespace !== undefined ? ` in namespace ${d.namespace}` : ""}`;
  for (const d of documents) {
    if (d.kind !== "ToolSet") continue;
    const here = d.where(["metadata", "name"]);
    if (Object.hasOwn(configSources, d.name)) {
      problems.push(`metadata.name: ${describe(d)} declares source ${JSON.stringify(d.name)}, which mcp.sources of ${configFile} declares too; a source is declared in one place (${here})`);
      continue;
    }
    const other = declaredBy.get(d.name);
    if (other !== undefined) {
      problems.push(`metadata.name: ${describe(d)} declares source ${JSON.stringify(d.name)}, which ${describe(other)} declares too (${other.where(["metadata", "name"])}); a source is declared in one place (${here})`);
      continue;
    }
    declaredBy.set(d.name, d);
    sources[d.name] = { ...d.spec, ...(Array.isArray(d.spec.tools) ? { tools: [...d.spec.tools] } : {}) };
    for (const p of d.secretPaths) secretPaths.push(joinPath(`mcp.sources.${d.name}`, p));
    info.push(entry(d, d.name));
  }
  const copied = new Set<string>(declaredBy.keys());
  const toolOwner = new Map<string, string>();
  for (const d of documents) {
    if (d.kind !== "Tool") continue;
    const target = d.toolSet as string;
    const here = d.where(["spec", "toolSet"]);
    const source = sources[target];
    if (!isMapping(source)) {
      const known = Object.keys(sources);
      problems.push(`spec.toolSet: no ToolSet or source named ${JSON.stringify(target)}; known: ${known.join(", ") || "(none)"} (${here})`);
      continue;
    }
    if (!Array.isArray(source.tools)) {
      const kind = source.openapi !== undefined ? "an OpenAPI document" : source.url !== undefined || source.command !== undefined ? "a federated MCP server" : "not of declared tools";
      problems.push(`spec.toolSet: source ${JSON.stringify(target)} is ${kind}; a Tool joins a source of declared tools (tools:) (${here})`);
      continue;
    }
    // Copy a config source before appending to it: the parsed config text is not changed in place.
    if (!copied.has(target)) {
      sources[target] = { ...source, tools: [...source.tools] };
      copied.add(target);
    }
    const tools = (sources[target] as Raw).tools as unknown[];
    const name = d.spec.name as string;
    const clash = tools.findIndex((t) => isMapping(t) && t.name === name);
    if (clash >= 0) {
      const owner = toolOwner.get(`${target}\0${name}`);
      const first = owner ?? (declaredBy.has(target) ? `the ToolSet (${declaredBy.get(target)?.where(["spec", "tools", clash, "name"])})` : `mcp.sources.${target}.tools[${clash}] of ${configFile}`);
      problems.push(`spec.name: tool ${JSON.stringify(name)} of source ${JSON.stringify(target)} is declared twice: here and in ${first} (${d.where(["spec", "name"])})`);
      continue;
    }
    toolOwner.set(`${target}\0${name}`, `${describe(d)} (${d.where(["spec", "name"])})`);
    for (const p of d.secretPaths) secretPaths.push(joinPath(`mcp.sources.${target}.tools[${tools.length}]`, p));
    tools.push(d.spec);
    info.push(entry(d, target));
  }
  return { sources, documents: info, secretPaths, problems };
}

function entry(d: ToolDocument, source: string): ToolDocumentInfo {
  return { kind: d.kind, name: d.name, ...(d.namespace !== undefined ? { namespace: d.namespace } : {}), source, file: d.file, document: d.index };
}

/** "mcp.sources.a" + "headers.X" / "[0].y" → one formatted path, as load.ts formats them. */
function joinPath(prefix: string, rel: string): string {
  if (rel === "(root)" || rel === "") return prefix;
  return rel.startsWith("[") ? `${prefix}${rel}` : `${prefix}.${rel}`;
}
