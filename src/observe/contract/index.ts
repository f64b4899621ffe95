/**
 * Contract inference for observe mode (issue 14): per-endpoint learners of
 * bodies, query parameters and status codes (bounded, mergeable JSON states),
 * their JSON Schemas, the OpenAPI 3.1 export, and compare-rule suggestions.
 */
export { type BodyCounts, ContractLearner, type ContractState, contractSchema, DEFAULT_INFER_LIMITS, detectFormat, emptyContractState, type FormatName, type InferLimits, type JsonSchema, type JsonType, type NodeState, type SampleVerdict, type SchemaOptions } from "./infer.ts";
export { isJsonMediaType, mediaTypeOf, observeBody } from "./body.ts";
export { EndpointLearner, type EndpointState, endpointContract, type ExchangeSample, lexicalValue, MAX_QUERY_PARAMS, type QueryParamState } from "./endpoint.ts";
export { type EndpointContract, normalizeTemplate, type OpenApiInfo, type OpenApiOptions, operationIdFor, type QueryParamContract, type ResponseContract, toOpenApi } from "./openapi.ts";
export { type Confidence, type IgnoreSuggestion, ignoreRulesYaml, type ObservedEndpoint, pathStep, type SuggestOptions, suggestIgnores } from "./suggest.ts";
