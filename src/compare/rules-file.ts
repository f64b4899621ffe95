/**
 * Compare rules from raw input, validated then compiled: a standalone rules
 * file (`ficus compare --rules FILE`, same keys and errors as a route's
 * `compare:` block), or rules given as an object (tests, an experiment batch).
 * Validation (zod) happens here; compileRules itself takes validated rules.
 */
import { compareRulesSchema } from "../config/compare-schema.ts";
import { parseWithSchema, readConfigText } from "../config/load.ts";
import { type CompiledRules, compileRules } from "./rules.ts";

/** Reads and compiles a rules file (YAML or JSON); errors name the rule and its line. */
export function loadRulesFile(path: string, env: Record<string, string | undefined> = process.env): CompiledRules {
  const { value } = parseWithSchema(compareRulesSchema, readConfigText(path), path, env);
  return compileRules(value);
}

/**
 * Validates raw rules (a CompareRulesInput: durations as text, defaults left
 * out; or whatever a JSON body held) and compiles them. Throws the schema's
 * ZodError when they are invalid. Rules that are already validated (a route's
 * `compare`) go to compileRules directly.
 */
export function compileRulesInput(input: unknown = {}): CompiledRules {
  return compileRules(compareRulesSchema.parse(input));
}
