/**
 * Compare rules compiled for the engine: the validated rules object (a
 * route's `compare:` block as the config loaded it, CompareRulesConfig) in,
 * JSONPath steps, RE2 programs and exact tolerances out. No zod here: the
 * schema is src/config/compare-schema.ts and runs once, when the config loads;
 * the data plane compiles each route's already-validated rules at every start
 * and reload. Raw input (tests, a rules file, an experiment batch) goes
 * through compileRulesInput in rules-file.ts, which validates first.
 */
import type { CompareRulesConfig } from "../config/compare-schema.ts";
import { compileJsonPath, PathSet, type Step } from "../core/json-path.ts";
import { compileUserRegex, type UserRegex } from "../core/regex.ts";
import { type Decimal, parseDecimal } from "./decimal.ts";

export type { CompareRulesConfig, CompareRulesInput } from "../config/compare-schema.ts";

/** The default time a comparison may take. */
export const DEFAULT_BUDGET_MS = 50;

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

/**
 * The rules when none are given: what compareRulesSchema.parse({}) returns
 * (a unit test holds the two equal), written out so compiling the defaults
 * needs no zod.
 */
export const DEFAULT_COMPARE_RULES: CompareRulesConfig = {
  ignore: [],
  numbers: { abs: 0, rel: 0 },
  null_equals_missing: false,
  arrays: {},
  timestamps: [],
  normalize: [],
  headers: { ignore: [], only: [] },
  budget: undefined,
};

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

/**
 * Compiles validated rules (the defaults when none are given). `r` must be
 * the schema's output (a route's `compare`, compareRulesSchema.parse(...)):
 * nothing is checked again here, and a pattern the schema would have refused
 * throws. For raw input use compileRulesInput (rules-file.ts).
 */
export function compileRules(r: CompareRulesConfig = DEFAULT_COMPARE_RULES): CompiledRules {
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
