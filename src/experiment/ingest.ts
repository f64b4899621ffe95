/**
 * Experiment results, where they are stored (a gateway's admin API, or the
 * local store): validate a batch, then judge each call exactly like a pair of
 * a route in the shadow stage — `judgePair` with the experiment's compiled
 * rules, its noise and its redaction — into a ResultsBuffer merged into the
 * store under the entry `experiment:NAME`.
 *
 * A call is an answer per side: a value is status 200 with the value's JSON
 * text as the body, a thrown error is status 500 with `{"error": {name,
 * message, code}}`. So when both sides threw, their errors are compared (the
 * candidate failing like legacy is a match); when `use` returned and `try`
 * threw, it is a candidate error (not compared), as a route counts a candidate
 * that gave no answer; a `try` past its timeout is a candidate timeout.
 */
import { z } from "zod";
import { type CompiledRules, compareRulesSchema, compileRulesInput } from "../compare/index.ts";
import { compileJsonPath, JsonPathError } from "../core/json-path.ts";
import type { FicusConfig } from "../config/schema.ts";
import { FicusError } from "../core/errors.ts";
import { type Answer, judgeAA, judgePair } from "../migration/judge.ts";
import { DEFAULT_REDACT, type RedactSettings, Redactor } from "../migration/redact.ts";
import { DEFAULT_NOISE } from "../migration/report.ts";
import { ResultsBuffer } from "../migration/results.ts";
import type { ResultsStore } from "../migration/store.ts";
import {
  BATCH_VERSION,
  EXPERIMENT_NAME,
  EXPERIMENT_PREFIX,
  type ExperimentBatch,
  MAX_BATCH_BYTES,
  MAX_BATCH_EXPERIMENTS,
  MAX_BATCH_RESULTS,
  MAX_VALUE_CHARS,
  type Outcome,
} from "./wire.ts";

const ms = z.number().min(0).max(86_400_000);
const count = z.number().int().min(0).max(1e12);
const errorInfo = z.strictObject({ name: z.string().max(200), message: z.string().max(10_000), code: z.union([z.string().max(200), z.number()]).optional() });
const OUTCOME_SHAPE = '{"value": JSON text, "ms": N}, {"error": {"name", "message"}, "ms": N} or {"timeout": true, "ms": N}';
const outcome = z.union([
  z.strictObject({ value: z.string().max(MAX_VALUE_CHARS), ms }),
  z.strictObject({ error: errorInfo, ms }),
  z.strictObject({ timeout: z.literal(true), ms }),
]);

const batchSchema = z.strictObject({
  version: z.literal(BATCH_VERSION),
  source: z.string().max(200).optional(),
  experiments: z
    .array(
      z.strictObject({
        name: z.string().regex(EXPERIMENT_NAME, "expected a name of letters, digits, '_', '.', '-' (at most 100 characters)"),
        calls: count,
        skipped: z.strictObject({ concurrency_limit: count.optional(), body_too_large: count.optional() }).optional(),
        compare: z.unknown().optional(),
        redact: z.array(z.string().max(1000)).max(100).optional(),
        results: z
          .array(
            z.strictObject({
              time: z.number().int().min(0),
              context: z.string().max(MAX_VALUE_CHARS).optional(),
              use: outcome.refine((o) => !("timeout" in o), "use is always waited for; it cannot time out"),
              try: outcome,
              aa: outcome.optional(),
            }),
          )
          .max(MAX_BATCH_RESULTS),
      }),
    )
    .max(MAX_BATCH_EXPERIMENTS),
});

/** The documented shape, for error messages. */
const BATCH_SHAPE = '{"version": 1, "experiments": [{"name", "calls", "compare"?, "redact"?, "skipped"?, "results": [{"time", "context"?, "use", "try", "aa"?}]}]}';

function pathText(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out;
}

function badRequest(message: string): FicusError {
  return new FicusError("FICUS_BAD_REQUEST", message);
}

/** Reads a request body up to `limit` bytes; FICUS_BODY_TOO_LARGE (413) past it, whether announced or not. */
export async function readLimited(req: Request, limit = MAX_BATCH_BYTES): Promise<string> {
  const announced = Number(req.headers.get("content-length") ?? "0");
  const tooLarge = (n: number | string) => new FicusError("FICUS_BODY_TOO_LARGE", `an experiment batch of ${n} bytes is over the limit of ${limit} bytes; send smaller batches`);
  if (announced > limit) throw tooLarge(announced);
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${limit}`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Parses and validates a batch (FICUS_BAD_REQUEST naming the field otherwise):
 * its shape and limits, unique names, and each experiment's compare rules and
 * redact paths.
 */
export function parseBatch(input: string | unknown): ExperimentBatch {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw badRequest(`an experiment batch must be JSON ${BATCH_SHAPE}: ${(err as Error).message}`);
    }
  }
  const parsed = batchSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = pathText(issue?.path ?? []) || "body";
    const what = issue?.code === "invalid_union" ? `expected ${OUTCOME_SHAPE}` : (issue?.message ?? "invalid");
    throw badRequest(`${where}: ${what} (a batch is ${BATCH_SHAPE})`);
  }
  const batch = parsed.data as ExperimentBatch;
  const names = new Set<string>();
  let results = 0;
  batch.experiments.forEach((e, i) => {
    if (names.has(e.name)) throw badRequest(`experiments[${i}].name: ${JSON.stringify(e.name)} appears twice in the batch`);
    names.add(e.name);
    results += e.results.length;
    if (e.compare !== undefined) {
      const rules = compareRulesSchema.safeParse(e.compare);
      if (!rules.success) {
        const issue = rules.error.issues[0];
        throw badRequest(`${pathText([`experiments`, i, "compare", ...(issue?.path ?? [])])}: ${issue?.message ?? "invalid compare rules"} (experiment "${e.name}"; the compare rules of a route, docs/compare.md)`);
      }
    }
    e.redact?.forEach((p, j) => {
      try {
        compileJsonPath(p);
      } catch (err) {
        if (err instanceof JsonPathError) throw badRequest(`experiments[${i}].redact[${j}]: ${err.message} (experiment "${e.name}")`);
        throw err;
      }
    });
  });
  if (results > MAX_BATCH_RESULTS) throw badRequest(`experiments: ${results} results in one batch; at most ${MAX_BATCH_RESULTS}`);
  return batch;
}

interface Compiled {
  readonly key: string;
  readonly settings: RedactSettings;
  readonly rules: CompiledRules;
  readonly redactor: Redactor;
}

const encoder = new TextEncoder();

function answer(o: Outcome & { readonly timeout?: undefined }): Answer {
  if ("value" in o) return { status: 200, headers: [], body: encoder.encode(o.value), durationMs: o.ms };
  return { status: 500, headers: [], body: encoder.encode(JSON.stringify({ error: o.error })), durationMs: o.ms };
}

/** How much judging runs before yielding to the event loop (a gateway's data plane may share it). */
const SLICE_MS = 4;

/** Judges batches into results; compiles each experiment's rules and redaction once (again when they change). */
export class ExperimentJudge {
  private readonly compiled = new Map<string, Compiled>();

  private compile(name: string, compare: unknown, redact: readonly string[] | undefined, settings: RedactSettings): Compiled {
    const key = JSON.stringify([compare ?? null, redact ?? []]);
    const hit = this.compiled.get(name);
    if (hit && hit.key === key && hit.settings === settings) return hit;
    const c: Compiled = { key, settings, rules: compileRulesInput(compare ?? {}), redactor: new Redactor(settings, redact ?? []) };
    if (this.compiled.size >= 1000) this.compiled.clear();
    this.compiled.set(name, c);
    return c;
  }

  /** Records a validated batch into `buffer`; reads each experiment's noise from `store`. Returns the results judged. */
  async judge(batch: ExperimentBatch, buffer: ResultsBuffer, store: ResultsStore, settings: RedactSettings, now = Date.now()): Promise<number> {
    let judged = 0;
    let slice = performance.now();
    for (const e of batch.experiments) {
      const route = EXPERIMENT_PREFIX + e.name;
      if (e.calls > 0) buffer.count(route, "total", e.calls);
      if (e.skipped?.concurrency_limit) buffer.count(route, "skipped.concurrency_limit", e.skipped.concurrency_limit);
      if (e.skipped?.body_too_large) buffer.count(route, "skipped.body_too_large", e.skipped.body_too_large);
      if (e.results.length === 0) continue;
      const { rules, redactor } = this.compile(e.name, e.compare, e.redact, settings);
      const noise = new Set((await store.noise(route, DEFAULT_NOISE)).map((n) => n.path));
      for (const r of e.results) {
        buffer.count(route, "shadowed");
        judged++;
        // Signatures are dated when the call was made, within the last hour (a client clock is not trusted further).
        const time = Math.min(now, Math.max(r.time, now - 3_600_000));
        const legacy = answer(r.use as Outcome & { timeout?: undefined });
        if (r.aa && !("timeout" in r.aa)) judgeAA(buffer, route, legacy, answer(r.aa), rules);
        if ("timeout" in r.try) buffer.count(route, "candidate_timeout");
        else if ("error" in r.try && !("error" in r.use)) buffer.count(route, "candidate_error");
        else {
          const candidate = answer(r.try);
          const request = { method: "CALL", target: route, headers: [] as [string, string][], body: r.context === undefined ? undefined : encoder.encode(r.context) };
          judgePair(buffer, route, legacy, candidate, rules, noise, (differences) => redactor.sample(new Date(time).toISOString(), request, legacy, candidate, differences), time);
        }
        if (performance.now() - slice > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
      }
    }
    return judged;
  }
}

/** Judges a validated batch and merges it into `store` in one write. FICUS_STORE_UNAVAILABLE when the store refuses it. */
export async function ingestBatch(judge: ExperimentJudge, batch: ExperimentBatch, store: ResultsStore, samplesPerSignature: number, settings: RedactSettings = DEFAULT_REDACT): Promise<{ experiments: number; results: number }> {
  const buffer = new ResultsBuffer(samplesPerSignature);
  const results = await judge.judge(batch, buffer, store, settings);
  if (!buffer.empty) {
    try {
      await store.apply(buffer.drain());
    } catch (err) {
      throw new FicusError("FICUS_STORE_UNAVAILABLE", `cannot store experiment results: ${(err as Error).message}`, { cause: err });
    }
  }
  return { experiments: batch.experiments.length, results };
}

const gatewayJudge = new ExperimentJudge();

/** POST /admin/experiments/results: read (size-limited), validate, judge, store; 200 with what was accepted. */
export async function experimentResultsResponse(req: Request, open: () => Promise<{ readonly config: FicusConfig; readonly store: ResultsStore }>): Promise<Response> {
  const batch = parseBatch(await readLimited(req));
  const view = await open();
  const accepted = await ingestBatch(gatewayJudge, batch, view.store, view.config.store.samples_per_signature, view.config.redact);
  return new Response(JSON.stringify({ accepted }), { status: 200, headers: { "content-type": "application/json", "cache-control": "no-store" } });
}
