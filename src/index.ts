/**
 * Ficus as a library: the pieces that are useful on their own. The CLI
 * (`ficus`) is the main way to run the gateway; see README.md.
 */
export { ConfigError, ERROR_CODES, type ErrorCode, errorResponse, FicusError } from "./core/errors.ts";
export { type LoadedConfig, loadConfigFile, parseConfig, redactConfig } from "./config/load.ts";
export { configJsonSchema, configSchema, type FicusConfig, type RouteConfig } from "./config/schema.ts";
export { ConfigSource, type Overrides } from "./config/source.ts";
export { type RequestFacts, type RouteMatch, type RouteMatcher, Router, type RouterEntry } from "./routing/router.ts";
export { Gateway, type GatewayOptions } from "./server/gateway.ts";
export { runSingleProcess } from "./server/single.ts";
export { createLogger, type Logger } from "./observability/logger.ts";
export { Metrics } from "./observability/metrics.ts";
