/**
 * Reading the tool directories: every `*.yaml`/`*.yml` file (hidden entries,
 * such as a ConfigMap mount's `..data` and timestamped folders, are skipped;
 * symlinks are followed), each with one or more `---` documents of kind
 * ToolSet or Tool. Each document is interpolated (${ENV}) and validated on its
 * own with the source schema, so a message names the file, the line and the
 * document: `spec.tools[0].call.path: ... (tools/orders.yaml:12, document 2)`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { z } from "zod";
import { describeType, formatPath, hideSecrets, issueMessages, keyNode, nodeAt, walkInterpolate, yamlLib } from "../../config/load.ts";
import { mcpSourceSchema } from "../schema.ts";
import { API_VERSION, envelopeSchema, KINDS, SOURCE_NAME, SOURCE_NAME_RULE, type ToolDocumentKind } from "./schema.ts";

/** One valid document, ready to merge. */
export interface ToolDocument {
  readonly kind: ToolDocumentKind;
  /** metadata.name: the source name (ToolSet) or the object's name (Tool). */
  readonly name: string;
  readonly namespace: string | undefined;
  /** The file as messages name it: the configured folder joined with the file name. */
  readonly file: string;
  /** 1-based index of the document in its file. */
  readonly index: number;
  /** ToolSet: the source (interpolated; relative openapi and cwd resolved against the folder). Tool: the tool entry. */
  readonly spec: Record<string, unknown>;
  /** Tool: the source it joins. */
  readonly toolSet: string | undefined;
  /** Paths inside `spec` whose values came from ${ENV} (formatted, relative: "headers.Authorization"). */
  readonly secretPaths: readonly string[];
  /** "file:line, document n" of a path inside the document (e.g. ["spec", "toolSet"]). */
  where(path: readonly PropertyKey[]): string;
}

/** What the folders hold: the valid documents, and a message per problem (none when all are valid). */
export interface ReadResult {
  readonly documents: ToolDocument[];
  readonly problems: string[];
  /** True when a problem is a file that is not YAML (FICUS_CONFIG_PARSE) rather than an invalid document. */
  readonly parseProblem: boolean;
  /** The folders read, absolute (for the watcher). */
  readonly folders: string[];
}

const YAML_FILE = /\.ya?ml$/i;
/** A document or file this large is refused before it is parsed (a ConfigMap holds at most 1 MiB). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** The YAML files of one folder, sorted by name: hidden entries skipped, symlinks followed. */
export function yamlFiles(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(folder).sort()) {
    if (name.startsWith(".") || !YAML_FILE.test(name)) continue;
    try {
      if (statSync(join(folder, name)).isFile()) out.push(name);
    } catch {
      // A dangling symlink (a ConfigMap key being removed): not a document.
    }
  }
  return out;
}

/** Folders as configured → absolute, relative to `baseDir` (the config file's folder). */
export function resolveFolders(folders: readonly string[], baseDir: string): string[] {
  return folders.map((f) => resolve(baseDir, f));
}

/**
 * Reads and validates every document of `folders` (as configured, relative
 * to `baseDir`). Never throws: problems are returned, each naming its place.
 */
export function readToolDirectories(folders: readonly string[], baseDir: string, env: Record<string, string | undefined>, configFile: string): ReadResult {
  const documents: ToolDocument[] = [];
  const problems: string[] = [];
  let parseProblem = false;
  const absolute = resolveFolders(folders, baseDir);
  folders.forEach((configured, i) => {
    const folder = absolute[i] as string;
    let files: string[];
    try {
      files = yamlFiles(folder);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such folder" : code === "ENOTDIR" ? "not a folder" : (err as Error).message;
      problems.push(`mcp.tool_directories[${i}]: cannot read ${folder}: ${why} (${configFile})`);
      return;
    }
    for (const name of files) {
      const label = join(configured, name);
      const path = join(folder, name);
      let text: string;
      try {
        if (statSync(path).size > MAX_FILE_BYTES) {
          problems.push(`${label}: larger than ${MAX_FILE_BYTES} bytes`);
          continue;
        }
        text = readFileSync(path, "utf8");
      } catch (err) {
        problems.push(`${label}: cannot read: ${(err as Error).message}`);
        continue;
      }
      const r = parseFile(text, label, folder, env);
      documents.push(...r.documents);
      problems.push(...r.problems);
      parseProblem ||= r.parseProblem;
    }
  });
  return { documents, problems, parseProblem, folders: absolute };
}

/** Parses one file's documents (exported for tests); `folder` resolves relative paths in specs. */
export function parseFile(text: string, label: string, folder: string, env: Record<string, string | undefined>): Omit<ReadResult, "folders"> {
  const { LineCounter, parseAllDocuments } = yamlLib();
  const lineCounter = new LineCounter();
  const line = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const documents: ToolDocument[] = [];
  const problems: string[] = [];
  let parseProblem = false;
  if (!Array.isArray(parsed)) {
    // An empty stream after a document end marker: nothing to read.
    return { documents, problems, parseProblem };
  }
  docs.forEach((doc, i) => {
    const index = i + 1;
    const at = (offset: number | undefined) => `${label}:${line(offset)}, document ${index}`;
    if (doc.errors.length > 0) {
      parseProblem = true;
      for (const e of doc.errors) problems.push(`${e.message.split("\n")[0]} (${at(e.pos[0])})`);
      return;
    }
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      parseProblem = true;
      const why = /alias/i.test((err as Error).message) ? "too many alias (*anchor) expansions: at most 100 are allowed" : (err as Error).message;
      problems.push(`${why} (${at(doc.range[0])})`);
      return;
    }
    // An empty document (a trailing `---`, a file of comments) declares nothing.
    if (raw === null || raw === undefined) return;
    const where = (path: readonly PropertyKey[], key?: string) => at((key !== undefined ? keyNode(doc, path, key) : nodeAt(doc, path))?.range?.[0]);
    const r = validateDocument(raw, where, folder, env);
    if (Array.isArray(r)) problems.push(...r);
    else documents.push({ ...r, file: label, index, where: (path) => where(path) });
  });
  return { documents, problems, parseProblem };
}

type Where = (path: readonly PropertyKey[], key?: string) => string;
type Validated = Omit<ToolDocument, "file" | "index" | "where">;

function validateDocument(raw: unknown, where: Where, folder: string, env: Record<string, string | undefined>): Validated | string[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return [`(root): expected a Kubernetes object (apiVersion, kind, metadata, spec), got ${describeType(raw)} (${where([])})`];
  }
  const obj = raw as Record<string, unknown>;
  // apiVersion and kind first: a document of another kind is named as such, not as a list of field errors.
  if (obj.apiVersion !== API_VERSION) {
    return [`apiVersion: expected ${JSON.stringify(API_VERSION)}, got ${describeType(obj.apiVersion)} (${where(["apiVersion"])})`];
  }
  if (!KINDS.includes(obj.kind as ToolDocumentKind)) {
    return [`kind: expected one of ${KINDS.map((k) => JSON.stringify(k)).join(", ")}, got ${describeType(obj.kind)} (${where(["kind"])})`];
  }
  const envelope = envelopeSchema.safeParse(obj);
  if (!envelope.success) return messages(envelope.error.issues, obj, envelopeSchema, (p) => p, where, []);
  const { kind, metadata } = envelope.data;
  const secretPaths = new Set<string>();
  const missing: { name: string; path: (string | number)[] }[] = [];
  const secretValues: string[] = [];
  const spec = walkInterpolate(envelope.data.spec, [], env, secretPaths, missing, secretValues) as Record<string, unknown>;
  if (missing.length > 0) {
    return missing.map((m) => `${formatPath(["spec", ...m.path])}: environment variable ${m.name} is not set (${where(["spec", ...m.path])})`);
  }
  if (kind === "ToolSet") {
    if (!SOURCE_NAME.test(metadata.name)) return [`metadata.name: ${SOURCE_NAME_RULE}, got ${describeType(metadata.name)} (${where(["metadata", "name"])})`];
    // A ToolSet that only Tool documents fill: a source of declared tools with none of its own.
    const source = "tools" in spec || "openapi" in spec || "url" in spec || "command" in spec ? spec : { ...spec, tools: [] };
    const r = mcpSourceSchema.safeParse(source, { jitless: true });
    if (!r.success) return messages(r.error.issues, source, mcpSourceSchema, (p) => ["spec", ...p], where, secretValues);
    return { kind, name: metadata.name, namespace: metadata.namespace, spec: resolvePaths(source, folder), toolSet: undefined, secretPaths: [...secretPaths] };
  }
  const { toolSet, ...entry } = spec;
  const problems: string[] = [];
  if (typeof toolSet !== "string" || !SOURCE_NAME.test(toolSet)) {
    problems.push(
      toolSet === undefined
        ? `spec.toolSet: is required (the name of the ToolSet, or of a source in mcp.sources, this tool joins) (${where(["spec"])})`
        : `spec.toolSet: ${SOURCE_NAME_RULE}, got ${describeType(toolSet)} (${where(["spec", "toolSet"])})`,
    );
  }
  // A Tool's name defaults to its object name.
  if (entry.name === undefined) entry.name = metadata.name;
  // Validated as the one tool of a source of declared tools: the same schema as a `tools:` entry.
  const wrapped = { tools: [entry] };
  const r = mcpSourceSchema.safeParse(wrapped, { jitless: true });
  if (!r.success) {
    const specPath = (p: PropertyKey[]) => (p[0] === "tools" && p[1] === 0 ? ["spec", ...p.slice(2)] : ["spec", ...p]);
    problems.push(...messages(r.error.issues, wrapped, mcpSourceSchema, specPath, where, secretValues));
  }
  if (problems.length > 0) return problems;
  return { kind, name: metadata.name, namespace: metadata.namespace, spec: entry, toolSet: toolSet as string, secretPaths: [...secretPaths] };
}

function messages(issues: readonly z.core.$ZodIssue[], root: unknown, schema: z.ZodType, specPath: (p: PropertyKey[]) => PropertyKey[], where: Where, secretValues: readonly string[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    for (const m of issueMessages(issue, root, schema)) {
      const path = specPath(m.path);
      const loc = m.key !== undefined ? where(path.slice(0, -1), m.key) : where(path);
      out.push(hideSecrets(`${formatPath(path)}: ${m.message} (${loc})`, secretValues));
    }
  }
  return [...new Set(out)];
}

/** A relative OpenAPI file or stdio cwd in a document is relative to the document's folder (where a ConfigMap mounts both). */
function resolvePaths(spec: Record<string, unknown>, folder: string): Record<string, unknown> {
  const out = { ...spec };
  if (typeof out.openapi === "string" && !/^https?:\/\//i.test(out.openapi) && !isAbsolute(out.openapi)) out.openapi = resolve(folder, out.openapi);
  if (typeof out.cwd === "string" && !isAbsolute(out.cwd)) out.cwd = resolve(folder, out.cwd);
  return out;
}
