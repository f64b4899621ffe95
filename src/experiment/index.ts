/**
 * `ficus/experiment`: in-process experiments on the compare engine and
 * results model of the shadow stage (docs/experiment.md).
 *
 *   import { experiment } from "ficus/experiment";
 *   const price = await experiment("pricing", { use: () => legacyPrice(o), try: () => rustPrice(o) });
 *
 * Runs under Node ≥ 20 (the bundle dist/experiment.js) and Bun (this file):
 * nothing here, or imported from here, uses a Bun-only API. The local SQLite
 * store, which does, is `ficus/experiment/local`.
 */
import { createExperiments } from "./experiment.ts";

export { createExperiments, type Experiment, type ExperimentOptions, type ExperimentStats, type ExperimentsConfig } from "./experiment.ts";
export { type GatewayOptions, gatewayPublisher, PublishError, type Publisher } from "./publisher.ts";
export { errorInfo, toJsonText } from "./serialize.ts";
export type { ErrorInfo, ExperimentBatch, ExperimentEntry, ExperimentResult, ExperimentSkips, Outcome } from "./wire.ts";

/**
 * The default runner: publishes to the gateway at FICUS_ADMIN_URL (default
 * http://127.0.0.1:9901) with FICUS_ADMIN_TOKEN; `experiment.configure()`
 * changes that and the defaults.
 */
export const experiment = createExperiments();
