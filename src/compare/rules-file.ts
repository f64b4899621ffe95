/** Loading a standalone compare-rules file (`ficus compare --rules FILE`): same keys and errors as a route's `compare:` block. */
import { parseWithSchema, readConfigText } from "../config/load.ts";
import { compareRulesSchema, type CompiledRules, compileRules } from "./rules.ts";

/** Reads and compiles a rules file (YAML or JSON); errors name the rule and its line. */
export function loadRulesFile(path: string, env: Record<string, string | undefined> = process.env): CompiledRules {
  const { value } = parseWithSchema(compareRulesSchema, readConfigText(path), path, env);
  return compileRules(value);
}
