/**
 * The Rego engine's entry point: the API (api.ts) and the value model, for
 * code outside src/policy/rego.
 */
export { Rego, Policy, RegoError, type Bindings, type Budget, type CompileOptions, type EvalOptions, type PreparedQuery, type RegoErrorDetail } from "./api.ts";
export { fromJSON, toJSON, type Value } from "./value.ts";
