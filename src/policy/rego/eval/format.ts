/**
 * Rego's text for values as `print` shows them: strings bare at the top level
 * and quoted inside composites, sets as `{a, b}`, objects as `{"k": v}`.
 */
import { RegoObject, RegoSet, scalarText, type Value } from "../value.ts";

const bare = (s: string): string => s;

export function formatValue(v: Value, top = false): string {
  const scalar = scalarText(v, top ? bare : JSON.stringify);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(", ")}]`;
  if (v instanceof RegoSet) return v.size === 0 ? "set()" : `{${v.values().map((x) => formatValue(x)).join(", ")}}`;
  const o = v as RegoObject;
  return `{${o.entries().map(([k, x]) => `${formatValue(k)}: ${formatValue(x)}`).join(", ")}}`;
}
