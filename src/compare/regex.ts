/** User regular expressions on RE2: they live in src/core/regex.ts (the config schema checks patterns too); re-exported here for the compare engine's users. */
export * from "../core/regex.ts";
