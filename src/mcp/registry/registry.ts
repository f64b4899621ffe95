/**
 * The tool registry: every source's tools, resources and prompts merged into
 * one catalog under the names agents see (curation applied), rebuilt when a
 * source's list changes, and read by the front per request without copying.
 * Endpoints (routes with an `mcp:` block) see views of it: a subset of the
 * sources, filtered by globs over the public names, capped in count.
 *
 * A source that fails to start is logged and retried by itself; the others
 * are served meanwhile. Two sources offering the same public name: the one
 * declared first keeps it, and the clash is logged.
 */
import type { Logger } from "../../observability/logger.ts";
import { compileGlobs } from "../names.ts";
import type { PinGuard } from "../pinning/guard.ts";
import type { JsonObject, ListKind, PromptDefinition, ResourceDefinition, ResourceTemplateDefinition, ToolDefinition, ToolSource } from "../types.ts";
import { Curation, type CuratedTool } from "./curation.ts";

export interface RegisteredSource {
  readonly source: ToolSource;
  readonly curation: Curation;
  /** Longest a call may take, ms. */
  readonly timeout: number;
  /**
   * Whether its tools' definitions are pinned (src/mcp/pinning/): those of servers and documents
   * Ficus reaches over the network or spawns. Tools declared in the config, or read from a file
   * beside it, change only with the config.
   */
  readonly pinned?: boolean;
}

export interface CatalogTool extends CuratedTool {
  readonly entry: RegisteredSource;
}

export interface CatalogPrompt {
  readonly name: string;
  readonly upstreamName: string;
  readonly definition: PromptDefinition;
  readonly entry: RegisteredSource;
}

export interface Catalog {
  readonly tools: readonly CatalogTool[];
  readonly toolsByName: ReadonlyMap<string, CatalogTool>;
  readonly prompts: readonly CatalogPrompt[];
  readonly promptsByName: ReadonlyMap<string, CatalogPrompt>;
  /** Resources keep their URIs (they are addresses): the first source listing a URI serves it. */
  readonly resources: readonly { definition: ResourceDefinition; entry: RegisteredSource }[];
  readonly resourceTemplates: readonly { definition: ResourceTemplateDefinition; entry: RegisteredSource }[];
  /** Increases each time the catalog is rebuilt (list caches and cache hints key on it). */
  readonly version: number;
}

const EMPTY: Catalog = { tools: [], toolsByName: new Map(), prompts: [], promptsByName: new Map(), resources: [], resourceTemplates: [], version: 0 };

export class Registry {
  private catalog: Catalog = EMPTY;
  private readonly listeners = new Set<(kind: ListKind) => void>();
  /** Tool pinning (src/mcp/pinning/): polls for approvals made elsewhere. */
  private pinPoll: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly entries: readonly RegisteredSource[],
    private readonly logger: Logger,
    /** Tool pinning (src/mcp/pinning/): filters the tools of OpenAPI and federated sources. */
    private readonly pins?: PinGuard | undefined,
  ) {
    for (const e of entries) {
      e.source.onListChanged = (kind) => {
        this.rebuild();
        for (const l of this.listeners) l(kind);
      };
    }
    this.rebuild();
  }

  /** Starts every source; resolves when each has started or failed (failures are logged, not thrown). */
  async start(): Promise<void> {
    const startOne = async (e: RegisteredSource) => {
      try {
        await e.source.start();
      } catch (err) {
        this.logger.error("an MCP source failed to start; the other sources are served", { source: e.source.name, kind: e.source.kind, error: err instanceof Error ? err.message : String(err) });
      }
    };
    // Federated servers connect side by side (they wait on the network); documents are read one after
    // another, each one's garbage collected before the next: parsing several large OpenAPI documents at
    // once would raise the process's peak memory, which it keeps.
    const federated = Promise.all(this.entries.filter((e) => e.source.kind === "mcp" || e.source.kind === "stdio").map(startOne));
    for (const e of this.entries) {
      if (e.source.kind !== "openapi" && e.source.kind !== "http") continue;
      await startOne(e);
      if (e.source.kind === "openapi") Bun.gc(true);
    }
    await federated;
    this.rebuild();
    // Tool pinning: an approval made by another process (the admin API, the CLI) shows within a second.
    if (this.pins !== undefined) {
      const pins = this.pins;
      this.pinPoll = setInterval(() => {
        if (!pins.changed()) return;
        this.rebuild();
        for (const l of this.listeners) l("tools");
      }, 1000);
      this.pinPoll.unref?.();
    }
  }

  get current(): Catalog {
    return this.catalog;
  }

  /** Called with the list that changed, after the catalog was rebuilt. Returns a function that unsubscribes. */
  subscribe(fn: (kind: ListKind) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  rebuild(): void {
    const tools: CatalogTool[] = [];
    const toolsByName = new Map<string, CatalogTool>();
    const prompts: CatalogPrompt[] = [];
    const promptsByName = new Map<string, CatalogPrompt>();
    const resources: { definition: ResourceDefinition; entry: RegisteredSource }[] = [];
    const resourceTemplates: { definition: ResourceTemplateDefinition; entry: RegisteredSource }[] = [];
    const uris = new Set<string>();
    for (const entry of this.entries) {
      const s = entry.source;
      // Tool pinning: declared tools (kind http) come from the config itself and are not pinned.
      const listed = this.pins !== undefined && entry.pinned === true ? this.pins.filter(s.name, s.tools()) : s.tools();
      for (const t of entry.curation.apply(listed)) {
        const prev = toolsByName.get(t.name);
        if (prev !== undefined) {
          this.logger.warn("two MCP sources offer the same tool name; the first keeps it", { tool: t.name, kept: prev.entry.source.name, dropped: s.name });
          continue;
        }
        const ct: CatalogTool = { ...t, entry };
        tools.push(ct);
        toolsByName.set(t.name, ct);
      }
      for (const p of s.prompts?.() ?? []) {
        if (!entry.curation.selects(p.name)) continue;
        const name = entry.curation.publicName(p.name);
        if (promptsByName.has(name)) continue;
        const cp: CatalogPrompt = { name, upstreamName: p.name, definition: { ...p, name }, entry };
        prompts.push(cp);
        promptsByName.set(name, cp);
      }
      for (const r of s.resources?.() ?? []) {
        if (uris.has(r.uri)) continue;
        uris.add(r.uri);
        resources.push({ definition: { ...r, name: entry.curation.publicName(r.name) }, entry });
      }
      for (const r of s.resourceTemplates?.() ?? []) resourceTemplates.push({ definition: { ...r, name: entry.curation.publicName(r.name) }, entry });
    }
    this.catalog = { tools, toolsByName, prompts, promptsByName, resources, resourceTemplates, version: this.catalog.version + 1 };
  }

  async close(): Promise<void> {
    if (this.pinPoll !== undefined) clearInterval(this.pinPoll);
    this.listeners.clear();
    await Promise.all(this.entries.map((e) => e.source.close().catch(() => {})));
  }
}

export interface ViewConfig {
  readonly sources?: readonly string[] | undefined;
  readonly tools: readonly string[];
  readonly max_tools: number;
}

/**
 * What one MCP endpoint exposes: a subset of the catalog, computed once per
 * catalog version (a tools/list is then one array read), and checked on
 * every call (a tool outside the view is unknown to this endpoint).
 */
export class EndpointView {
  private readonly sources: ReadonlySet<string> | undefined;
  private readonly match: (name: string) => boolean;
  private cachedFor = -1;
  private cached: { tools: CatalogTool[]; definitions: ToolDefinition[]; byName: Map<string, CatalogTool>; prompts: CatalogPrompt[]; resources: Catalog["resources"]; templates: Catalog["resourceTemplates"] } | undefined;
  /** Called once per rebuild when the cap left tools out. */
  onCapped: ((listed: number, total: number) => void) | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly config: ViewConfig,
  ) {
    this.sources = config.sources !== undefined ? new Set(config.sources) : undefined;
    const all = config.tools.length === 1 && config.tools[0] === "*";
    this.match = all ? () => true : compileGlobs(config.tools);
  }

  private view() {
    const c = this.registry.current;
    if (this.cachedFor === c.version && this.cached !== undefined) return this.cached;
    const inSource = (e: RegisteredSource) => this.sources === undefined || this.sources.has(e.source.name);
    let tools = c.tools.filter((t) => inSource(t.entry) && this.match(t.name));
    if (tools.length > this.config.max_tools) {
      this.onCapped?.(this.config.max_tools, tools.length);
      tools = tools.slice(0, this.config.max_tools);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    this.cached = {
      tools,
      definitions: tools.map((t) => t.definition),
      byName,
      prompts: c.prompts.filter((p) => inSource(p.entry)),
      resources: c.resources.filter((r) => inSource(r.entry)),
      templates: c.resourceTemplates.filter((r) => inSource(r.entry)),
    };
    this.cachedFor = c.version;
    return this.cached;
  }

  get version(): number {
    return this.registry.current.version;
  }

  toolDefinitions(): readonly ToolDefinition[] {
    return this.view().definitions;
  }

  /** The tools of this view, with their sources (for guards that filter per caller). */
  tools(): readonly CatalogTool[] {
    return this.view().tools;
  }

  tool(name: string): CatalogTool | undefined {
    return this.view().byName.get(name);
  }

  prompts(): readonly CatalogPrompt[] {
    return this.view().prompts;
  }

  prompt(name: string): CatalogPrompt | undefined {
    const p = this.registry.current.promptsByName.get(name);
    return p !== undefined && (this.sources === undefined || this.sources.has(p.entry.source.name)) ? p : undefined;
  }

  resources(): Catalog["resources"] {
    return this.view().resources;
  }

  resourceTemplates(): Catalog["resourceTemplates"] {
    return this.view().templates;
  }

  /** The source serving a resource URI: the one listing it, else the first whose template could (tried in order). */
  resourceSources(uri: string): RegisteredSource[] {
    const v = this.view();
    const listed = v.resources.find((r) => r.definition.uri === uri);
    if (listed !== undefined) return [listed.entry];
    const seen = new Set<RegisteredSource>();
    for (const t of v.templates) seen.add(t.entry);
    for (const r of v.resources) seen.add(r.entry);
    return [...seen].filter((e) => e.source.readResource !== undefined);
  }

  /** Whether any source of this view has resources or prompts (the capabilities an endpoint announces). */
  has(kind: "resources" | "prompts"): boolean {
    const c = this.registry.current;
    return this.registry.entries.some(
      (e) => (this.sources === undefined || this.sources.has(e.source.name)) && (kind === "resources" ? e.source.readResource !== undefined : e.source.getPrompt !== undefined),
    ) || (kind === "resources" ? c.resources.length > 0 : c.prompts.length > 0);
  }

  /** Sources of this view that can complete arguments. */
  completers(): RegisteredSource[] {
    return this.registry.entries.filter((e) => (this.sources === undefined || this.sources.has(e.source.name)) && e.source.complete !== undefined);
  }
}

export type { JsonObject };
