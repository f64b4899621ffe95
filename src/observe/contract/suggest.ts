/**
 * Compare-rule suggestions from inferred contracts: response fields whose value
 * looks random per response (request and trace ids, nonces, server clocks,
 * timings) would make every shadow comparison a mismatch, so each becomes a
 * suggested `ignore` JSONPath (docs/compare.md) with the reason it was picked.
 * Nothing is written anywhere: the dashboard and the CLI show the YAML to paste.
 *
 * A field is a candidate when it is present in (nearly) every response object
 * that holds it and (nearly) every value differs. That alone also fits a
 * resource's own id (`GET /orders/{id}` answers a different `id` each time), so
 * a candidate is suggested with:
 * - high confidence when its name says what it is (`request_id`, `traceId`,
 *   `nonce`, `timestamp`, `took_ms`…), or when the endpoint's requests do not
 *   vary (no path or query parameter): the same request answered with a new
 *   value each time;
 * - medium confidence when its value is an instant (a date-time string, an
 *   epoch number) outside arrays: the time of the answer, or data (then the
 *   `timestamps` rule fits better; the reason says so).
 * A uuid or token under another name is most often a reference to data, so it
 * is never suggested on its own.
 */
import { compileJsonPath } from "../../core/json-path.ts";
import { Distinct, type DistinctState } from "./distinct.ts";
import type { EndpointState } from "./endpoint.ts";
import type { NodeState } from "./infer.ts";

export type Confidence = "high" | "medium";

export interface IgnoreSuggestion {
  readonly method: string;
  readonly template: string;
  /** A JSONPath of the compare rules, `$.meta.request_id`. */
  readonly path: string;
  readonly confidence: Confidence;
  readonly reason: string;
  /** Values seen, their distinct count (estimated past the tracker's cap), the share of objects holding the field. */
  readonly samples: number;
  readonly distinct: number;
  readonly presence: number;
}

export interface SuggestOptions {
  /** Values needed before a field is judged. Default 20. */
  readonly minSamples?: number;
  /** Share of values that must differ. Default 0.9. */
  readonly uniqueRatio?: number;
  /** Share of objects that must hold the field. Default 0.95. */
  readonly presence?: number;
  /** Leave out suggestions below this confidence. Default "medium". */
  readonly minConfidence?: Confidence;
}

/** One endpoint's observed contract, as the store holds it. */
export interface ObservedEndpoint {
  readonly method: string;
  readonly template: string;
  readonly state: EndpointState;
}

/** Names of fields that are random per response by nature (compared in snake_case, lowercase). */
const RANDOM_NAME =
  /(?:^|_)(?:request|req|trace|span|correlation|transaction|txn|message|event|idempotency|parent)_?id$|^(?:x_)?(?:request|trace|correlation)_?(?:id)?$|^(?:nonce|etag|e_tag|timestamp|ts|now|server_?time|served_at|generated_at|generated|responded_at|response_time|took|took_ms|elapsed|elapsed_ms|duration|duration_ms|latency|latency_ms|processing_time|processing_time_ms|time_ms|request_time|uptime|uptime_ms)$/;

/** camelCase and kebab-case to snake_case, lowercase. */
function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s.]+/g, "_")
    .toLowerCase();
}

/** A key as a JSONPath step, or undefined when the compare rules' subset cannot spell it. */
export function pathStep(key: string): string | undefined {
  if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) return `.${key}`;
  if (key.includes("]")) return undefined;
  if (!key.includes("'")) return `['${key}']`;
  if (!key.includes('"')) return `["${key}"]`;
  return undefined;
}

/** Epoch seconds between 2001 and 2286, or epoch milliseconds in the same span. */
function looksEpoch(min: number, max: number): boolean {
  return (min >= 1e9 && max < 1e10) || (min >= 1e12 && max < 1e13);
}

function distinctCount(d: DistinctState, maxDistinct: number): number {
  return Distinct.fromState(d, maxDistinct).estimate();
}

/** Ignore rules worth adding to the routes serving these endpoints, most confident first, then by endpoint and path. */
export function suggestIgnores(endpoints: readonly ObservedEndpoint[], options: SuggestOptions = {}): IgnoreSuggestion[] {
  const o = { minSamples: 20, uniqueRatio: 0.9, presence: 0.95, minConfidence: "medium" as Confidence, ...options };
  const out = new Map<string, IgnoreSuggestion>();
  for (const e of endpoints) {
    const varies = e.template.includes("{") || e.state.query.params.length > 0;
    for (const [, c] of e.state.responses) {
      const maxDistinct = c.limits.maxDistinct;
      const visit = (node: NodeState, path: string, inArray: boolean): void => {
        if (node.array && node.array.items.n > 0) visit(node.array.items, `${path}[*]`, true);
        const ob = node.object;
        if (!ob || ob.deep > 0 || ob.n === 0) return;
        for (const [key, child] of ob.properties) {
          const step = pathStep(key);
          if (step === undefined) continue;
          const p = path + step;
          const presence = child.n / ob.n;
          const s = judge(key, child, presence, inArray, varies, maxDistinct, o);
          if (s !== undefined && rank(s.confidence) >= rank(o.minConfidence)) {
            const prev = out.get(`${e.method} ${e.template} ${p}`);
            if (prev === undefined || rank(prev.confidence) < rank(s.confidence)) out.set(`${e.method} ${e.template} ${p}`, { method: e.method, template: e.template, path: p, ...s, presence });
            continue;
          }
          visit(child, p, inArray);
        }
      };
      visit(c.root, "$", false);
    }
  }
  return [...out.values()]
    .filter((s) => validPath(s.path))
    .sort((a, b) => rank(b.confidence) - rank(a.confidence) || cmp(a.template, b.template) || cmp(a.method, b.method) || cmp(a.path, b.path));
}

function judge(
  key: string,
  node: NodeState,
  presence: number,
  inArray: boolean,
  varies: boolean,
  maxDistinct: number,
  o: Required<SuggestOptions>,
): { confidence: Confidence; reason: string; samples: number; distinct: number } | undefined {
  if (presence < o.presence) return undefined;
  const nonNull = node.n - (node.null ?? 0);
  let samples: number;
  let distinct: number;
  let instant = false;
  let uuid = false;
  if (node.string && node.string.n === nonNull) {
    const st = node.string;
    samples = st.n;
    distinct = distinctCount(st.distinct, maxDistinct);
    instant = st.formats["date-time"] === st.n;
    uuid = st.formats.uuid === st.n;
  } else if (node.number && node.number.n === nonNull) {
    const nu = node.number;
    samples = nu.n;
    distinct = distinctCount(nu.distinct, maxDistinct);
    instant = looksEpoch(nu.min, nu.max);
  } else return undefined;
  if (samples < o.minSamples || Math.min(distinct, samples) / samples < o.uniqueRatio) return undefined;
  const name = snake(key);
  const pct = `${Math.round((Math.min(distinct, samples) / samples) * 100)}%`;
  const stats = { samples, distinct: Math.min(distinct, samples) };
  const kind = uuid ? "a uuid" : instant ? "an instant" : "a value";
  if (RANDOM_NAME.test(name)) return { confidence: "high", reason: `named like a per-response value ("${key}") and ${kind} that differs in ${pct} of ${samples} responses`, ...stats };
  if (!varies) return { confidence: "high", reason: `${kind} that differs in ${pct} of ${samples} responses to requests without path or query parameters`, ...stats };
  if (inArray) return undefined;
  if (instant) return { confidence: "medium", reason: `an instant that differs in ${pct} of ${samples} responses: if it is the time of the answer, ignore it; if it is data, compare it as a timestamp instead`, ...stats };
  return undefined;
}

function rank(c: Confidence): number {
  return c === "high" ? 2 : 1;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validPath(p: string): boolean {
  try {
    compileJsonPath(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The suggestions for one route as the `compare:` YAML to paste, each path
 * with its reason as a comment (never written to ficus.yaml by Ficus).
 */
export function ignoreRulesYaml(suggestions: readonly IgnoreSuggestion[]): string {
  const seen = new Set<string>();
  const lines = ["ignore:"];
  for (const s of suggestions) {
    if (seen.has(s.path)) continue;
    seen.add(s.path);
    lines.push(`  # ${s.method} ${s.template}: ${s.reason.replace(/[\r\n]+/g, " ")} (${s.confidence})`);
    lines.push(`  - ${JSON.stringify(s.path)}`);
  }
  return `${lines.join("\n")}\n`;
}
