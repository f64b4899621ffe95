/**
 * The built-in table: every family's definitions under their Rego names.
 * A family is one file exporting a `readonly BuiltinDef[]`; add it to FAMILIES.
 */
import { CRYPTO_BUILTINS } from "./crypto.ts";
import { JWT_BUILTINS } from "./jwt.ts";
import { NET_BUILTINS } from "./net.ts";
import { ARITHMETIC } from "./arithmetic.ts";
import { REGEX_BUILTINS } from "./regex.ts";
import { GLOB_BUILTINS } from "./glob.ts";
import { UNITS_BUILTINS } from "./units.ts";
import { SEMVER_BUILTINS } from "./semver.ts";
import { UUID_BUILTINS } from "./uuid.ts";
import { VALUE_TYPE_BUILTINS } from "./value-types.ts";
import { STRING_BUILTINS } from "./strings.ts";
import { SPRINTF_BUILTINS } from "./sprintf.ts";
import { AGGREGATES } from "./aggregates.ts";
import { ARRAYS } from "./arrays.ts";
import { SETS } from "./sets.ts";
import { OBJECTS } from "./objects.ts";
import { GRAPH } from "./graph.ts";
import { ENCODING_BUILTINS } from "./encoding.ts";
import { TIME_BUILTINS } from "./time.ts";
import { JSON_DOCUMENTS } from "./json-documents.ts";
import { COMPARISON } from "./comparison.ts";
import { RANDOM_BUILTINS } from "./random.ts";
import type { BuiltinDef } from "./types.ts";

const FAMILIES: readonly (readonly BuiltinDef[])[] = [COMPARISON, CRYPTO_BUILTINS, ARITHMETIC, NET_BUILTINS, STRING_BUILTINS, SPRINTF_BUILTINS, REGEX_BUILTINS, GLOB_BUILTINS, UNITS_BUILTINS, SEMVER_BUILTINS, UUID_BUILTINS, VALUE_TYPE_BUILTINS, AGGREGATES, ARRAYS, SETS, OBJECTS, GRAPH, ENCODING_BUILTINS, TIME_BUILTINS, JSON_DOCUMENTS, JWT_BUILTINS, RANDOM_BUILTINS];

/**
 * Built-ins that exist in OPA but that Ficus does not provide, with why: the
 * compiler names the reason instead of "unknown function".
 */
export const NOT_PROVIDED: ReadonlyMap<string, string> = new Map([
  ["http.send", "policies cannot reach the network in Ficus: http.send is not provided"],
  ["net.lookup_ip_addr", "policies cannot reach the network in Ficus: net.lookup_ip_addr is not provided"],
  ["opa.runtime", "opa.runtime is OPA's own process information; Ficus does not provide it"],
]);

function assemble(): ReadonlyMap<string, BuiltinDef> {
  const table = new Map<string, BuiltinDef>();
  for (const family of FAMILIES) {
    for (const def of family) {
      if (table.has(def.name)) throw new Error(`built-in ${def.name} is defined twice`);
      table.set(def.name, def);
    }
  }
  return table;
}

export const BUILTINS: ReadonlyMap<string, BuiltinDef> = assemble();
