/**
 * What a pinned tool definition is and how it is compared: the fields an
 * upstream defines that steer an agent (name, title, description, schemas,
 * annotations), written as RFC 8785 canonical JSON and hashed with SHA-256,
 * and a short human diff of two definitions for the operator approving one.
 */
import { createHash } from "node:crypto";
import { createTwoFilesPatch } from "diff";
import type { ToolDefinition, ToolDescription } from "../types.ts";

/** The pinned part of a tool: what the upstream says about it, before Ficus curates it. */
export type PinnedDefinition = ToolDescription;

/** The pinned fields, in the order a diff lists them. */
export const PINNED_FIELDS = ["name", "title", "description", "inputSchema", "outputSchema", "annotations"] as const;
export type PinnedField = (typeof PINNED_FIELDS)[number];

/** The pinned part of a tool definition (icons, execution and _meta are not pinned). */
export function pinnedPart(t: ToolDefinition): PinnedDefinition {
  const d: PinnedDefinition = { name: t.name, inputSchema: t.inputSchema };
  if (t.title !== undefined) d.title = t.title;
  if (t.description !== undefined) d.description = t.description;
  if (t.outputSchema !== undefined) d.outputSchema = t.outputSchema;
  if (t.annotations !== undefined) d.annotations = t.annotations;
  return d;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme): object members sorted by the UTF-16
 * code units of their names (§3.2.3), numbers as ECMAScript writes them
 * (§3.2.2.3: 1e2 → 100, 1e21 → 1e+21, -0 → 0), strings with the minimal
 * escapes of JSON.stringify (§3.2.2.2), no whitespace. Members whose value is
 * undefined are left out, as JSON.stringify does. Two deviations, so any
 * upstream definition has a hash: a lone surrogate is written as its \u
 * escape (§3.2.2.2 would refuse it), and a non-finite number (which JSON
 * cannot carry anyway) as null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v))).join(",")}]`;
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    // Array.prototype.sort compares strings by UTF-16 code units, as §3.2.3 asks.
    const keys = Object.keys(o).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const v = o[k];
      if (v === undefined || typeof v === "function") continue;
      parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  return "null";
}

/** The definition hash: SHA-256 (hex) of the canonical JSON of the pinned part. */
export function definitionHash(t: ToolDefinition | PinnedDefinition): string {
  return createHash("sha256").update(canonicalJson(pinnedPart(t as ToolDefinition))).digest("hex");
}

/** One changed field of a definition, with a unified diff of its text (schemas as sorted, indented JSON). */
export interface FieldChange {
  readonly field: PinnedField;
  readonly diff: string;
}

/** Sorted keys, two-space indent: stable lines for a diff of a schema. */
function pretty(value: unknown): string {
  if (value === undefined) return "";
  return `${JSON.stringify(JSON.parse(canonicalJson(value)), null, 2)}\n`;
}

function asText(field: PinnedField, value: unknown): string {
  if (value === undefined) return "";
  if (field === "name" || field === "title" || field === "description") return String(value).endsWith("\n") ? String(value) : `${String(value)}\n`;
  return pretty(value);
}

/** The unified diff's hunks only (the `---`/`+++` header names the field instead). */
function unified(field: PinnedField, before: string, after: string): string {
  const patch = createTwoFilesPatch(`approved ${field}`, `current ${field}`, before, after, undefined, undefined, { context: 3 });
  // The first line is the "====" underline; keep from the --- header on.
  const start = patch.indexOf("--- ");
  return start >= 0 ? patch.slice(start) : patch;
}

/** Which pinned fields differ between the approved and the current definition, each with its diff. */
export function definitionDiff(approved: PinnedDefinition | undefined, current: PinnedDefinition): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of PINNED_FIELDS) {
    const a = approved?.[field];
    const b = current[field];
    if (canonicalJson(a) === canonicalJson(b) && (a === undefined) === (b === undefined)) continue;
    out.push({ field, diff: unified(field, asText(field, a), asText(field, b)) });
  }
  return out;
}
