/**
 * The schema of compare rules: a route's `compare:` block, a rules file
 * (`ficus compare --rules`), an experiment's `compare` option. Validation
 * happens here, once, when the config (or the file, or the batch) loads:
 * JSONPath patterns and regular expressions are compiled to check them, so a
 * bad rule is a config error naming the rule and its line, never a runtime
 * surprise. src/compare/rules.ts compiles the validated object (the output
 * type, CompareRulesConfig) without zod.
 *
 * In the config folder, not in compare: src/compare may import src/config,
 * never the reverse (test/unit/import-direction.test.ts).
 */
import { z } from "zod";
import { compileJsonPath, JsonPathError } from "../core/json-path.ts";
import { compileUserRegex, UserRegexError } from "../core/regex.ts";
import { parseDuration } from "./units.ts";

const jsonPath = z.string().superRefine((p, ctx) => {
  try {
    compileJsonPath(p);
  } catch (err) {
    if (err instanceof JsonPathError) ctx.addIssue({ code: "custom", message: err.message });
    else throw err;
  }
});

/** A user pattern, checked on the linear-time engine (RE2) that will run it. */
const regex = z.string().superRefine((p, ctx) => {
  try {
    compileUserRegex(p);
  } catch (err) {
    if (err instanceof UserRegexError) ctx.addIssue({ code: "custom", message: err.message });
    else throw err;
  }
});

/** A tolerance: a finite number ≥ 0 (YAML's `.inf` or `.nan` is named as such, not as "expected number, got number"). */
const tolerance = z.preprocess((v, ctx) => {
  if (typeof v !== "number" || Number.isFinite(v)) return v;
  ctx.addIssue({ code: "custom", message: `must be a finite number (0 or more), got ${String(v)}` });
  return 0;
}, z.number().min(0));

/** The longest `budget` a rule may set (the default, DEFAULT_BUDGET_MS in src/compare/rules.ts, is 50ms). */
const MAX_BUDGET_MS = 10_000;

const budget = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a duration such as "50ms" or "1s", got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (ms < 1 || ms > MAX_BUDGET_MS) {
      ctx.addIssue({ code: "custom", message: `must be 1ms to 10s, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({
    description:
      "Longest one comparison may take on the gateway's event loop; past it the comparison stops and its verdict is incomplete (counted as skipped.compare_budget, neither a match nor a mismatch). Default 50ms; 1ms to 10s.",
  });

export const compareRulesSchema = z
  .strictObject({
    ignore: z.array(jsonPath).default([]).meta({ description: 'JSONPath patterns whose values are not compared, e.g. "$.meta.request_id", "$.items[*].updated_at", "$..etag".' }),
    numbers: z
      .strictObject({
        abs: tolerance.default(0).meta({ description: "Numbers within this absolute difference are equal. Default 0." }),
        rel: tolerance.default(0).meta({ description: "Numbers within this fraction of the larger magnitude are equal. Default 0." }),
      })
      .prefault({})
      .meta({ description: "Number tolerances (off by default; exact comparison never loses precision)." }),
    null_equals_missing: z.boolean().default(false).meta({ description: "A null value equals an absent key. Default false." }),
    arrays: z
      .record(jsonPath, z.union([z.enum(["ordered", "unordered"]), z.strictObject({ key: z.string().min(1) })]))
      .default({})
      .meta({ description: 'How arrays compare: "ordered" (default), "unordered" (as multisets), or { key: FIELD } (elements matched by that field).' }),
    timestamps: z.array(jsonPath).default([]).meta({ description: "Values compared as instants across formats and offsets." }),
    normalize: z
      .array(
        z.strictObject({
          path: jsonPath,
          pattern: regex,
          replace: z.string(),
        }),
      )
      .default([])
      .meta({ description: "Regex replacements applied to string values on both sides before comparing (only where the two differ). Patterns use RE2 syntax (linear time; no backreferences or lookaround; at most 1,100 instructions once counted repetitions are expanded, so one {1000} fits and two do not); the replacement may use $1, $<name>, $& and $$. A string over 64 KiB, or one the pattern might not finish within the time left, is not normalized: the verdict is then incomplete." }),
    headers: z
      .strictObject({
        ignore: z.array(z.string()).default([]).meta({ description: "More headers not to compare (added to the defaults: date, server, x-request-id, content-length, …)." }),
        only: z.array(z.string()).default([]).meta({ description: "When not empty, compare only these headers." }),
      })
      .prefault({}),
    budget,
  })
  .meta({ description: "How two responses are compared." });

/** Rules as written (YAML, JSON, an experiment's options). */
export type CompareRulesInput = z.input<typeof compareRulesSchema>;
/** Rules as validated, defaults filled in: what compileRules takes. */
export type CompareRulesConfig = z.output<typeof compareRulesSchema>;
