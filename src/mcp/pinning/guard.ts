/**
 * The rug-pull defence of edge-mcp: each upstream tool's definition is pinned
 * (trust on first use, or held for approval), and a tool whose definition
 * later differs from its pin is not shown to agents as if nothing happened:
 * it is left out (hide) or listed flagged (flag) until an operator approves
 * the change (`ficus mcp approve`, POST /admin/mcp/approve).
 *
 * The registry runs a source's list through `filter` on each rebuild; the
 * hashing is cached by list identity and by definition object, so a rebuild
 * without a change costs one SELECT per source and a tools/list nothing.
 */
import { type PinnedDefinition, definitionDiff, definitionHash, type FieldChange, pinnedPart } from "./hash.ts";
import type { PinRow, PinStore } from "./store.ts";
import type { JsonObject, ToolDefinition } from "../types.ts";

export interface PinPolicy {
  mode: "hide" | "flag" | "off";
  /** trust on first use: pin unseen tools as approved (true, default) or hold them for approval too (false) */
  trust_new: boolean;
}

export interface PinChangeEvent {
  readonly source: string;
  readonly tool: string;
  readonly kind: "new" | "changed";
}

/** A change waiting for approval, as the admin API and the CLI show it. */
export interface PendingChange {
  readonly source: string;
  readonly tool: string;
  /** Where the source's tools come from (its url, command or OpenAPI document). */
  readonly upstream: string;
  /** Undefined for a new tool held for approval (trust_new: false). */
  readonly approved: { readonly hash: string; readonly definition: PinnedDefinition; readonly at: string | null; readonly by: string | null } | undefined;
  readonly current: { readonly hash: string; readonly definition: PinnedDefinition };
  /** The fields that differ, each with a unified diff. */
  readonly diff: FieldChange[];
  /** When the change was first seen (ISO 8601). */
  readonly since: string;
}

/** The `_meta` key flagging an unapproved tool (mode flag). */
export const PIN_META_KEY = "io.ficus/pin";
export const CHANGED_PREFIX = "[UNAPPROVED CHANGE] ";
export const NEW_PREFIX = "[UNAPPROVED TOOL] ";
/** Who pinned a tool on first use. */
const FIRST_USE = "ficus:first-use";

interface SourceCache {
  readonly input: readonly ToolDefinition[];
  readonly generation: number;
  readonly output: ToolDefinition[];
}

function parse(json: string | null): PinnedDefinition | undefined {
  return json === null ? undefined : (JSON.parse(json) as PinnedDefinition);
}

export interface PinGuardOptions {
  /** The store failed during filter: the source then lists only tools already checked as approved (fail closed). */
  readonly onError?: ((source: string, err: unknown) => void) | undefined;
  /**
   * Where a source is (its url, command or OpenAPI document): pins are per upstream, so a source pointed at
   * another server starts afresh there instead of showing that server's tools as changes. When given, pending
   * changes of other upstreams (a source's previous server, a source no longer configured: undefined) are not
   * shown nor approved. Without it, every pin is of upstream "".
   */
  readonly upstreamOf?: ((source: string) => string | undefined) | undefined;
}

/** Which pending changes an approval takes: all of them, a source's, or one tool (of one source, or of any). */
export interface PinSelection {
  readonly source?: string | undefined;
  readonly tool?: string | undefined;
  readonly all?: boolean | undefined;
}

export class PinGuard {
  private readonly hashes = new WeakMap<ToolDefinition, string>();
  /** Definitions found matching their approved pin: what stays listed while the store cannot be read. */
  private readonly passed = new WeakSet<ToolDefinition>();
  private readonly cache = new Map<string, SourceCache>();
  /** Moves when this process approved, or learnt that another did: every source is filtered again. */
  private generation = 0;
  /** This guard approved something since the last changed(). */
  private approvedHere = false;

  constructor(
    private readonly store: PinStore,
    readonly policy: PinPolicy,
    private readonly onChange?: (e: PinChangeEvent) => void,
    private readonly options: PinGuardOptions = {},
  ) {}

  private hashOf(t: ToolDefinition): string {
    let h = this.hashes.get(t);
    if (h === undefined) {
      h = definitionHash(t);
      this.hashes.set(t, h);
    }
    return h;
  }

  /**
   * The source's tools as agents may see them. Unseen tools are pinned (trust_new) or held; a tool whose
   * hash differs from its approved pin is recorded as pending and, per mode, left out (hide) or listed with
   * `_meta["io.ficus/pin"]` and its description prefixed (flag). Synchronous.
   */
  filter(source: string, tools: readonly ToolDefinition[]): ToolDefinition[] {
    if (this.policy.mode === "off") return tools as ToolDefinition[];
    const cached = this.cache.get(source);
    if (cached !== undefined && cached.input === tools && cached.generation === this.generation) return cached.output;
    try {
      const output = this.check(source, tools);
      this.cache.set(source, { input: tools, generation: this.generation, output });
      return output;
    } catch (err) {
      this.options.onError?.(source, err);
      return tools.filter((t) => this.passed.has(t));
    }
  }

  private check(source: string, tools: readonly ToolDefinition[]): ToolDefinition[] {
    const upstream = this.upstreamOf(source) ?? "";
    const pins = this.store.pinsOf(source, upstream);
    const output: ToolDefinition[] = [];
    for (const t of tools) {
      const hash = this.hashOf(t);
      let pin: PinRow | undefined = pins.get(t.name);
      if (pin === undefined && this.policy.trust_new) pin = this.store.pinNew(source, upstream, t.name, hash, pinnedPart(t), FIRST_USE);
      const approved = pin?.approved_hash ?? null;
      if (approved === hash) {
        if (pin?.pending_hash != null) this.store.clearPending(source, upstream, t.name, hash);
        this.passed.add(t);
        output.push(t);
        continue;
      }
      const kind = approved === null ? "new" : "changed";
      if (pin?.pending_hash !== hash && this.store.recordPending(source, upstream, t.name, hash, pinnedPart(t))) this.onChange?.({ source, tool: t.name, kind });
      this.passed.delete(t);
      if (this.policy.mode === "flag") output.push(flagged(t, kind, approved, hash));
    }
    return output;
  }

  /** Whether approvals happened (elsewhere: another process, the CLI; or through this guard) since the last call: one PRAGMA. */
  changed(): boolean {
    if (this.policy.mode === "off") return false;
    const here = this.approvedHere;
    this.approvedHere = false;
    if (!this.store.approvedElsewhere()) return here;
    this.generation++;
    return true;
  }

  private upstreamOf(source: string): string | undefined {
    return this.options.upstreamOf === undefined ? "" : this.options.upstreamOf(source);
  }

  /** Pending rows of the sources' current upstreams. */
  private pendingRows(): PinRow[] {
    return this.store.pending().filter((r) => this.upstreamOf(r.source) === r.upstream);
  }

  /** Every change waiting for approval, with its diff. */
  pending(): PendingChange[] {
    return this.pendingRows().map((r) => {
      const current = parse(r.pending_definition) as PinnedDefinition;
      const approvedDef = parse(r.approved_definition);
      return {
        source: r.source,
        tool: r.tool,
        upstream: r.upstream,
        approved: r.approved_hash !== null && approvedDef !== undefined ? { hash: r.approved_hash, definition: approvedDef, at: r.approved_at, by: r.approved_by } : undefined,
        current: { hash: r.pending_hash as string, definition: current },
        diff: definitionDiff(approvedDef, current),
        since: r.first_changed_at ?? "",
      };
    });
  }

  /** How many changes wait for approval (for the gauge). */
  pendingCount(): number {
    return this.pendingRows().length;
  }

  /** Marks the selected pending changes approved; returns how many. Needs `all`, a source or a tool. */
  approve(sel: PinSelection & { by: string }): number {
    if (!sel.all && sel.source === undefined && sel.tool === undefined) return 0;
    const rows = this.pendingRows().filter((r) => sel.all || ((sel.source === undefined || r.source === sel.source) && (sel.tool === undefined || r.tool === sel.tool)));
    const n = this.store.approve(rows as (PinRow & { pending_hash: string })[], sel.by);
    if (n > 0) {
      this.generation++;
      this.approvedHere = true;
    }
    return n;
  }

  close(): void {
    this.store.close();
  }
}

function flagged(t: ToolDefinition, kind: "new" | "changed", approved: string | null, current: string): ToolDefinition {
  const meta: JsonObject = { ...(t._meta ?? {}), [PIN_META_KEY]: { state: kind, approved_hash: approved, current_hash: current } };
  return { ...t, description: `${kind === "new" ? NEW_PREFIX : CHANGED_PREFIX}${t.description ?? ""}`, _meta: meta };
}
