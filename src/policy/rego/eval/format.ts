/**
 * Rego's text for values as `print` shows them: strings bare at the top level
 * and quoted inside composites, sets as `{a, b}`, objects as `{"k": v}`.
 */
import { numberText } from "../number.ts";
import { RegoObject, RegoSet, type Value } from "../value.ts";
import { BigNum } from "../number.ts";

export function formatValue(v: Value, top = false): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return numberText(v);
    case "string":
      return top ? v : JSON.stringify(v);
  }
  if (v instanceof BigNum) return numberText(v);
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(", ")}]`;
  if (v instanceof RegoSet) return v.size === 0 ? "set()" : `{${v.values().map((x) => formatValue(x)).join(", ")}}`;
  const o = v as RegoObject;
  return `{${o.entries().map(([k, x]) => `${formatValue(k)}: ${formatValue(x)}`).join(", ")}}`;
}
