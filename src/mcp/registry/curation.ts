/**
 * Tool curation, per source: which of the source's tools agents see (allow
 * and deny globs), under which name (the source's prefix, or a rename), with
 * which description, and which arguments the gateway fixes (removed from the
 * schema the agent sees, injected on every call). Compiled once per config;
 * applied to a source's list each time it changes.
 */
import { compileGlobs, prefixedName } from "../names.ts";
import type { JsonObject, ToolDefinition } from "../types.ts";

export interface CurationConfig {
  readonly prefix: string;
  readonly allow?: readonly string[] | undefined;
  readonly deny?: readonly string[] | undefined;
  readonly rename?: Readonly<Record<string, string>> | undefined;
  readonly descriptions?: Readonly<Record<string, string>> | undefined;
  readonly fixed_arguments?: Readonly<Record<string, JsonObject>> | undefined;
}

/** A tool as agents see it, and how to reach it at its source. */
export interface CuratedTool {
  /** The name agents see. */
  readonly name: string;
  /** The source's own name for it. */
  readonly upstreamName: string;
  readonly definition: ToolDefinition;
  /** Arguments injected on every call (over whatever the agent sent for them). */
  readonly fixed: JsonObject | undefined;
}

export class Curation {
  private readonly allow: ((name: string) => boolean) | undefined;
  private readonly deny: ((name: string) => boolean) | undefined;

  constructor(private readonly config: CurationConfig) {
    this.allow = config.allow !== undefined ? compileGlobs(config.allow) : undefined;
    this.deny = config.deny !== undefined && config.deny.length > 0 ? compileGlobs(config.deny) : undefined;
  }

  /** The name agents see for one of the source's names (also for prompts and resources' names). */
  publicName(name: string): string {
    const renamed = this.config.rename?.[name];
    if (renamed !== undefined) return renamed;
    return this.config.prefix === "" ? name : prefixedName(this.config.prefix, name);
  }

  /** Whether agents may see the source's tool of this name. */
  selects(name: string): boolean {
    if (this.allow !== undefined && !this.allow(name)) return false;
    return !(this.deny !== undefined && this.deny(name));
  }

  /** The source's list as agents see it. */
  apply(tools: readonly ToolDefinition[]): CuratedTool[] {
    const out: CuratedTool[] = [];
    for (const t of tools) {
      if (!this.selects(t.name)) continue;
      const name = this.publicName(t.name);
      const description = this.config.descriptions?.[t.name];
      const fixed = this.config.fixed_arguments?.[t.name];
      const definition: ToolDefinition = { ...t, name };
      if (description !== undefined) definition.description = description;
      if (fixed !== undefined) definition.inputSchema = withoutArguments(t.inputSchema, Object.keys(fixed));
      out.push({ name, upstreamName: t.name, definition, fixed });
    }
    return out;
  }
}

/** The input schema without some properties (fixed by the gateway): neither listed nor required. */
export function withoutArguments(schema: JsonObject, names: readonly string[]): JsonObject {
  const props = schema.properties;
  const out: JsonObject = { ...schema };
  if (props !== null && typeof props === "object" && !Array.isArray(props)) {
    const kept: JsonObject = {};
    for (const [k, v] of Object.entries(props as JsonObject)) if (!names.includes(k)) kept[k] = v;
    out.properties = kept;
  }
  if (Array.isArray(schema.required)) out.required = (schema.required as unknown[]).filter((r) => typeof r !== "string" || !names.includes(r));
  return out;
}

/** The arguments sent to the source: the agent's, with the fixed ones over them. */
export function withFixed(args: JsonObject, fixed: JsonObject | undefined): JsonObject {
  return fixed === undefined ? args : { ...args, ...fixed };
}
