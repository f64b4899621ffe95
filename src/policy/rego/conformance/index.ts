/**
 * The OPA conformance runner as a library: load OPA's YAML cases, run them
 * against the engine, judge each as OPA's harness does, and keep the
 * known-failures list. See runner.ts.
 */
export { type ConformanceCase, caseFiles, folderOf, loadCases, parseCaseFile, yamlValue } from "./cases.ts";
export { actualSet, judge, jsonShape, type Outcome, type Verdict } from "./compare.ts";
export { checkKnown, formatKnown, type KnownCheck, type KnownFailure, parseKnown, regenerateKnown, TODO_REASON } from "./known.ts";
export { type CaseResult, type CompiledCase, type ConformanceEngine, type ConformanceReport, type FolderCount, realEngine, runCase, runConformance, type RunOptions, summarize } from "./runner.ts";
