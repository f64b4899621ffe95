/** The JSONPath subset of compare rules and redaction: it lives in src/core/json-path.ts (the config schema checks patterns too); re-exported here for the compare engine's users. */
export * from "../core/json-path.ts";
