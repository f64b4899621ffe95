/**
 * The contract of one endpoint (a method and a path template) as observed: its
 * query parameters (names, how often present, repeated, the types of their
 * values), its request bodies, and its response bodies per status code. Like
 * ContractLearner, an EndpointLearner is a bounded per-worker accumulator
 * whose `state()` is JSON and merges exactly (`EndpointLearner.merge`).
 *
 * `endpointContract` turns a state into the input of `toOpenApi` (openapi.ts).
 */
import { observeBody } from "./body.ts";
import { ContractLearner, type ContractState, contractSchema, DEFAULT_INFER_LIMITS, type InferLimits, type JsonSchema, type NodeState, nodeSchema, type SampleVerdict, type SchemaOptions } from "./infer.ts";
import type { EndpointContract, QueryParamContract, ResponseContract } from "./openapi.ts";
import { SmallestMap } from "./smallest-map.ts";

/** Query parameter names kept per endpoint (the smallest, past it). */
export const MAX_QUERY_PARAMS = 32;
/** Parameters of one request looked at. */
const MAX_PARAMS_PER_REQUEST = 64;

/** One observed exchange of the endpoint. Bodies are payloads (framing and content coding undone). */
export interface ExchangeSample {
  /** The query string without "?" (or parsed). */
  readonly query?: string | URLSearchParams | null;
  readonly request?: { readonly body?: Uint8Array | string | null; readonly contentType?: string | null } | null;
  readonly status: number;
  readonly response?: { readonly body?: Uint8Array | string | null; readonly contentType?: string | null } | null;
}

export interface QueryParamState {
  /** Requests that carried it. */
  present: number;
  /** Requests that carried it more than once. */
  repeated: number;
  /** Its values, typed by their spelling (see `lexicalValue`). */
  values: NodeState;
}

export interface EndpointState {
  v: 1;
  /** Exchanges observed. */
  exchanges: number;
  query: { truncated: boolean; params: [string, QueryParamState][] };
  request: ContractState;
  /** By status code, ascending. */
  responses: [number, ContractState][];
}

/** A query value as the JSON value its spelling suggests: an integer, a number, a boolean, or the string. */
export function lexicalValue(s: string): string | number | boolean {
  if (/^-?(?:0|[1-9]\d{0,14})$/.test(s)) return Number(s);
  if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  if (s === "true") return true;
  if (s === "false") return false;
  return s;
}

class QueryParam {
  present = 0;
  repeated = 0;
  readonly values: ContractLearner;
  constructor(limits: InferLimits) {
    this.values = new ContractLearner(limits);
  }
}

/** What one endpoint's traffic looked like; bounded by its limits. */
export class EndpointLearner {
  readonly limits: InferLimits;
  private exchanges = 0;
  private readonly params: SmallestMap<QueryParam>;
  private readonly request: ContractLearner;
  private readonly responses = new Map<number, ContractLearner>();

  constructor(limits: Partial<InferLimits> = {}) {
    this.limits = Object.freeze({ ...DEFAULT_INFER_LIMITS, ...limits });
    this.params = new SmallestMap(MAX_QUERY_PARAMS);
    this.request = new ContractLearner(this.limits);
  }

  /** Learns from one exchange. Returns what became of the two bodies. */
  observe(x: ExchangeSample): { request: SampleVerdict; response: SampleVerdict | undefined } {
    this.exchanges++;
    if (x.query !== undefined && x.query !== null && x.query !== "") this.observeQuery(x.query);
    const request = observeBody(this.request, x.request?.body, x.request?.contentType);
    let response: SampleVerdict | undefined;
    // A status outside 100–599 is not HTTP (the forwarder refuses such answers); nothing to describe.
    if (Number.isInteger(x.status) && x.status >= 100 && x.status <= 599) {
      let r = this.responses.get(x.status);
      if (r === undefined) this.responses.set(x.status, (r = new ContractLearner(this.limits)));
      response = observeBody(r, x.response?.body, x.response?.contentType);
    }
    return { request, response };
  }

  private observeQuery(q: string | URLSearchParams): void {
    const params = typeof q === "string" ? new URLSearchParams(q) : q;
    const seen = new Map<string, string[]>();
    let n = 0;
    for (const [k, v] of params) {
      if (++n > MAX_PARAMS_PER_REQUEST) break;
      const list = seen.get(k);
      if (list) list.push(v);
      else seen.set(k, [v]);
    }
    for (const [k, values] of seen) {
      const p = this.params.get(k, () => new QueryParam(this.limits));
      if (p === undefined) continue;
      p.present++;
      if (values.length > 1) p.repeated++;
      for (const v of values) p.values.observe(lexicalValue(v));
    }
  }

  state(): EndpointState {
    return {
      v: 1,
      exchanges: this.exchanges,
      query: {
        truncated: this.params.truncated,
        params: this.params.sorted().map(([k, p]) => [k, { present: p.present, repeated: p.repeated, values: p.values.state().root }]),
      },
      request: this.request.state(),
      responses: [...this.responses].sort((a, b) => a[0] - b[0]).map(([s, l]) => [s, l.state()]),
    };
  }

  /** Folds a state in: afterwards this learner is as if it had also seen that state's exchanges. */
  absorb(s: EndpointState): void {
    this.exchanges += s.exchanges;
    if (s.query.truncated) this.params.truncated = true;
    for (const [k, q] of s.query.params) {
      const p = this.params.get(k, () => new QueryParam(this.limits));
      if (p === undefined) continue;
      p.present += q.present;
      p.repeated += q.repeated;
      const values = new ContractLearner(this.limits).state();
      values.root = q.values;
      values.bodies.json = q.values.n;
      p.values.absorb(values);
    }
    this.request.absorb(s.request);
    for (const [status, c] of s.responses) {
      let r = this.responses.get(status);
      if (r === undefined) this.responses.set(status, (r = new ContractLearner(this.limits)));
      r.absorb(c);
    }
  }

  static fromState(s: EndpointState): EndpointLearner {
    const x = new EndpointLearner(s.request.limits);
    x.absorb(s);
    return x;
  }

  /** The state of learning on both states' exchanges. */
  static merge(a: EndpointState, b: EndpointState): EndpointState {
    const x = EndpointLearner.fromState(a);
    x.absorb(b);
    return x.state();
  }
}

/** The contract of an endpoint, ready for `toOpenApi`. */
export function endpointContract(method: string, template: string, s: EndpointState, options: SchemaOptions = {}): EndpointContract {
  const ratio = options.requiredRatio ?? 0.99;
  const o: Required<SchemaOptions> = { requiredRatio: ratio, enumMax: 10, enumMinSamples: 20, ...options, dialect: false };
  const limits = s.request.limits;
  const query: QueryParamContract[] = s.query.params.map(([name, p]) => {
    const one = nodeSchema(p.values, o, limits);
    return { name, required: s.exchanges > 0 && p.present / s.exchanges >= ratio, schema: p.repeated > 0 ? { type: "array", items: one } : one };
  });
  const responses: Record<string, ResponseContract> = {};
  for (const [status, c] of s.responses) responses[String(status)] = bodyContract(c, o) ?? {};
  const request = bodyContract(s.request, o);
  const out: EndpointContract = { method, template, query, responses };
  if (request !== undefined) {
    const learned = s.request.bodies.json;
    out.request = { ...request, required: learned / Math.max(1, s.exchanges) >= ratio };
  }
  return out;
}

function bodyContract(c: ContractState, o: Required<SchemaOptions>): { mediaType: string; schema: JsonSchema } | undefined {
  const schema = contractSchema(c, o);
  if (schema === undefined) return undefined;
  // The most frequent JSON media type names the content (ties: the first in sort order).
  let mediaType = "application/json";
  let best = 0;
  for (const [m, n] of c.media) if (n > best) [mediaType, best] = [m, n];
  return { mediaType, schema };
}
