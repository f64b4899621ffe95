/**
 * Compare rules: the schema (shared by a rules file and, later, a route's
 * `compare:` block) and their compiled form. JSONPath patterns and regular
 * expressions are checked when the rules load, so a bad rule is a config
 * error naming the rule and its line, never a runtime surprise.
 */
import { z } from "zod";
import { parseDuration } from "../config/units.ts";
import { type Decimal, parseDecimal } from "./decimal.ts";
import { compileJsonPath, JsonPathError, PathSet, type Step } from "./json-path.ts";
import { compileUserRegex, type UserRegex, UserRegexError } from "./regex.ts";

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

/** The default time a comparison may take. */
export const DEFAULT_BUDGET_MS = 50;
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

/** Headers never compared unless a rule's `only` names them: transport, identity and tracing fields. */
export const DEFAULT_IGNORED_HEADERS = [
  "date",
  "server",
  "x-request-id",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "age",
  "via",
  "traceparent",
  "tracestate",
  "x-ficus-served-by",
];

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

export type CompareRulesInput = z.input<typeof compareRulesSchema>;
export type CompareRulesConfig = z.output<typeof compareRulesSchema>;

export type ArrayMode = { readonly mode: "ordered" } | { readonly mode: "unordered" } | { readonly mode: "keyed"; readonly key: string };

/** What applies at a node whose path matches a pattern. */
export type PathRule =
  | { readonly kind: "ignore" }
  | { readonly kind: "array"; readonly array: ArrayMode }
  | { readonly kind: "timestamp" }
  | NormalizeRule;

/** A normalize rule; `name` (`normalize[2]`) is how a verdict names it. */
export interface NormalizeRule {
  readonly kind: "normalize";
  readonly name: string;
  readonly pattern: UserRegex;
  readonly replace: string;
}

/**
 * Strings longer than this are never run through a normalize pattern (matching
 * costs up to the pattern's program size per character): where such a string
 * would need it (the two sides differ), the verdict is incomplete.
 */
export const NORMALIZE_MAX_CHARS = 64 * 1024;

/** A normalized string may grow to this many characters (`$'` in a replacement repeats the rest of the string per match); past it the verdict is incomplete. */
export const NORMALIZE_MAX_RESULT = 1024 * 1024;

export interface CompiledRules {
  readonly paths: PathSet<PathRule>;
  readonly absTol: Decimal | undefined;
  readonly relTol: Decimal | undefined;
  readonly nullEqualsMissing: boolean;
  /** Lowercase header names never compared. */
  readonly ignoredHeaders: ReadonlySet<string>;
  /** Lowercase header names compared exclusively, when not empty. */
  readonly onlyHeaders: ReadonlySet<string>;
  /** How long one comparison may take (ms). */
  readonly budgetMs: number;
  /** True when the rules set `budget` (else budgetMs is the default). */
  readonly budgetExplicit: boolean;
}

function tol(n: number): Decimal | undefined {
  return n > 0 ? parseDecimal(String(n)) : undefined;
}

/** Compiles validated rules (or defaults when none are given). */
export function compileRules(input: CompareRulesInput | CompareRulesConfig = {}): CompiledRules {
  const r = compareRulesSchema.parse(input);
  const entries: [Step[], PathRule][] = [];
  for (const p of r.ignore) entries.push([compileJsonPath(p), { kind: "ignore" }]);
  for (const [p, mode] of Object.entries(r.arrays)) {
    const array: ArrayMode = typeof mode === "string" ? { mode } : { mode: "keyed", key: mode.key };
    entries.push([compileJsonPath(p), { kind: "array", array }]);
  }
  for (const p of r.timestamps) entries.push([compileJsonPath(p), { kind: "timestamp" }]);
  r.normalize.forEach((n, i) => entries.push([compileJsonPath(n.path), { kind: "normalize", name: `normalize[${i}]`, pattern: compileUserRegex(n.pattern), replace: n.replace }]));
  return {
    paths: new PathSet(entries),
    absTol: tol(r.numbers.abs),
    relTol: tol(r.numbers.rel),
    nullEqualsMissing: r.null_equals_missing,
    ignoredHeaders: new Set([...DEFAULT_IGNORED_HEADERS, ...r.headers.ignore.map((h) => h.toLowerCase())]),
    onlyHeaders: new Set(r.headers.only.map((h) => h.toLowerCase())),
    budgetMs: r.budget ?? DEFAULT_BUDGET_MS,
    budgetExplicit: r.budget !== undefined,
  };
}
