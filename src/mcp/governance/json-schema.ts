/**
 * JSON Schema validation for governance: a tool's arguments against its
 * inputSchema (before the upstream is called), a result's structuredContent
 * against its outputSchema. Ajv (draft 2020-12, and draft-07 for the schemas
 * older servers publish), each schema compiled once and kept per schema
 * object; a schema Ajv cannot compile is reported once and not enforced
 * (an upstream's odd schema must not make its tool uncallable).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import AjvDraft07 from "ajv";
import addFormats from "ajv-formats";
import type { ValidateFunction } from "ajv";

const ajv2020 = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
const ajv07 = new AjvDraft07({ strict: false, allErrors: false, validateFormats: true });
addFormats(ajv2020 as never);
addFormats(ajv07 as never);

export interface SchemaCheck {
  /** undefined when the value fits; else the first problem, e.g. "/qty must be integer". */
  (value: unknown): string | undefined;
}

const compiled = new WeakMap<object, SchemaCheck | null>();

/** The check of a schema (compiled on first use), or undefined when the schema cannot be compiled. */
export function validatorFor(schema: Record<string, unknown>, onBadSchema?: (message: string) => void): SchemaCheck | undefined {
  const hit = compiled.get(schema);
  if (hit !== undefined) return hit ?? undefined;
  let fn: ValidateFunction;
  try {
    const draft07 = typeof schema.$schema === "string" && schema.$schema.includes("draft-07");
    fn = draft07 ? ajv07.compile(schema) : ajv2020.compile(schema);
  } catch (err) {
    onBadSchema?.(err instanceof Error ? err.message : String(err));
    compiled.set(schema, null);
    return undefined;
  }
  const check: SchemaCheck = (value) => {
    if (fn(value)) return undefined;
    const e = fn.errors?.[0];
    if (e === undefined) return "does not fit the schema";
    return `${e.instancePath || "(root)"} ${e.message ?? "does not fit the schema"}`;
  };
  compiled.set(schema, check);
  return check;
}
