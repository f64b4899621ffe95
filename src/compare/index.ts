/**
 * The compare engine: does the candidate answer like legacy? Usable on its
 * own (`ficus compare`, or this module) and by the shadow stage.
 *
 *   const verdict = compareMessages(legacyResponse, candidateResponse, compileRulesInput({ ignore: ["$.meta.request_id"] }));
 *
 * It compares the status, the headers (minus a default ignore list), and the
 * bodies: JSON structurally, other text line by line, binary by SHA-256. Any
 * input, however broken, yields a verdict.
 */
import { createHash } from "node:crypto";
import { BUDGET_EXCEEDED, Budget } from "./budget.ts";
import { addDifference, type Difference, type DiffSink, diffJson } from "./diff-json.ts";
import { type HttpMessage, headerValue, type NormalizedMessage, normalizeMessage, payloadText } from "./http-message.ts";
import { equalJsonTexts } from "./json-text-equal.ts";
import { parseJson } from "./json-value.ts";
import { alignByPosition, alignLines, type LineOp } from "./line-diff.ts";
import { compileRules, type CompiledRules } from "./rules.ts";

export { canonical, type DiffKind, type Difference, MAX_DIFFERENCES, SEVERITY, type Severity } from "./diff-json.ts";
export {
  DECODED_MAX_BYTES,
  DECODED_MAX_RATIO,
  DECODED_MIN_LIMIT,
  decodeBody,
  decodeContent,
  decodeContentWithin,
  decodedLimit,
  headerIn,
  type HttpMessage,
  type NormalizedMessage,
  normalizeMessage,
  OVER_LIMIT,
} from "./http-message.ts";
export { dechunk, indexOfSeq, looksLikeHttp, parseRawHttp, splitHead, unframe } from "./raw-http.ts";
export { JsonNumber, type JsonValue, parseJson } from "./json-value.ts";
export { alignByPosition, alignLines, type LineDiffLimits, type LineOp } from "./line-diff.ts";
export { compareRulesSchema } from "../config/compare-schema.ts";
export { compileRules, type CompiledRules, type CompareRulesConfig, type CompareRulesInput, DEFAULT_BUDGET_MS, DEFAULT_COMPARE_RULES, DEFAULT_IGNORED_HEADERS } from "./rules.ts";
export { compileRulesInput, loadRulesFile } from "./rules-file.ts";
export { compileUserRegex, type UserRegex, UserRegexError } from "../core/regex.ts";

export interface Verdict {
  /** True when nothing differs. Never true for an incomplete verdict. */
  readonly equal: boolean;
  readonly differences: readonly Difference[];
  /** True when more differences existed than were collected (MAX_DIFFERENCES). */
  readonly truncated: boolean;
  /**
   * True when the comparison stopped before its end (its time budget ran out):
   * the verdict is neither a match nor a mismatch, and `differences` holds only
   * what was found so far.
   */
  readonly incomplete: boolean;
  /** Why the verdict is incomplete. */
  readonly reason?: string;
}

export interface CompareOptions {
  /** Overrides the rules' time budget (ms); Infinity for none. */
  readonly budgetMs?: number;
}

const DEFAULT_RULES = compileRules();

/** Fields about framing, never compared (normalizeMessage drops them; a message that was not normalized may still hold them). */
const FRAMING = new Set(["transfer-encoding", "content-length", "trailer"]);

function headerMap(msg: HttpMessage, rules: CompiledRules): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of msg.headers ?? []) {
    const name = k.toLowerCase();
    if (FRAMING.has(name) || (rules.onlyHeaders.size > 0 ? !rules.onlyHeaders.has(name) : rules.ignoredHeaders.has(name))) continue;
    const seen = out.get(name);
    out.set(name, seen === undefined ? v : `${seen}, ${v}`);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function sameField(a: HttpMessage, b: HttpMessage, name: string): boolean {
  return headerValue(a, name) === headerValue(b, name);
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const LINE_BREAK = /\r?\n/;
/** Past this many changed lines the diff gives up and lines are compared by position (only MAX_DIFFERENCES are kept anyway). */
const MAX_EDIT_LENGTH = 2000;

/** Line by line: a Myers alignment (bounded by the budget and MAX_EDIT_LENGTH), positional beyond. */
function diffText(a: string, b: string, sink: DiffSink, budget: Budget): void {
  const la = a.split(LINE_BREAK);
  const lb = b.split(LINE_BREAK);
  let ops: LineOp[] | undefined = alignLines(la, lb, { timeoutMs: budget.remaining(), maxEditLength: MAX_EDIT_LENGTH });
  if (!ops) {
    budget.check(); // the diff stopped for time: the verdict is incomplete
    ops = alignByPosition(la, lb);
  }
  let line = 1;
  for (const op of ops) {
    budget.tick();
    switch (op.kind) {
      case "same":
        line++;
        break;
      case "change":
        addDifference(sink, `body:line ${line++}`, "value", op.left, op.right);
        break;
      case "del":
        addDifference(sink, `body:line ${line++}`, "missing", op.text, undefined);
        break;
      case "add":
        addDifference(sink, `body:line ${line}`, "extra", undefined, op.text);
        break;
    }
  }
}

/** Compares two payloads: JSON structurally (the candidate read in one pass), other text by line, binary by SHA-256. */
function diffBodies(a: NormalizedMessage, b: NormalizedMessage, rules: CompiledRules, sink: DiffSink, budget: Budget): void {
  const typeA = headerValue(a, "content-type");
  const typeB = headerValue(b, "content-type");
  // Equal payloads (after decoding) are equal whatever they hold: no parsing.
  if (typeA === typeB && sameBytes(a.body, b.body)) return;
  const ta = a.codingError ? undefined : payloadText(a.body, typeA);
  const tb = b.codingError ? undefined : payloadText(b.body, typeB);
  if (!ta || !tb) {
    const x = sha256(a.body);
    const y = sha256(b.body);
    if (x !== y) addDifference(sink, "body", !ta && !tb ? "value" : "type", `sha256:${x} (${a.body.length} bytes)`, `sha256:${y} (${b.body.length} bytes)`);
    return;
  }
  if (ta.text === tb.text) return;
  // Mostly the two are equal: one pass over both texts says so without parsing them. Else the full diff explains.
  if (ta.json && tb.json && equalJsonTexts(ta.text, tb.text, rules, budget)) return;
  const va = ta.json ? parseJson(ta.text) : undefined;
  const vb = tb.json ? parseJson(tb.text) : undefined;
  budget.check();
  if (va !== undefined && vb !== undefined) diffJson(va, vb, rules, sink, budget);
  // JSON on one side, text on the other (a truncated body, Python's NaN): a type change, shown as text.
  else if (va !== undefined || vb !== undefined) addDifference(sink, "body", "type", ta.text, tb.text);
  else diffText(ta.text, tb.text, sink, budget);
}

/**
 * Compares two responses (or bare documents: a message without status and
 * headers). Bodies are compared as payloads: framing and content codings are
 * undone first (`normalizeMessage`), so those never differ by themselves. The
 * work is bounded by the rules' budget (`budget`, default 50 ms): past it the
 * verdict is `incomplete`.
 */
export function compareMessages(legacy: HttpMessage, candidate: HttpMessage, rules: CompiledRules = DEFAULT_RULES, options: CompareOptions = {}): Verdict {
  const budget = new Budget(options.budgetMs ?? rules.budgetMs);
  const sink: DiffSink = { differences: [], truncated: false };
  if (legacy.status !== undefined && candidate.status !== undefined && legacy.status !== candidate.status) {
    addDifference(sink, "status", "status", legacy.status, candidate.status);
  }
  // Byte-identical bodies under the same coding and type are equal whatever they hold: nothing to decode.
  const same = sameBytes(legacy.body, candidate.body) && sameField(legacy, candidate, "content-encoding") && sameField(legacy, candidate, "content-type");
  let a: NormalizedMessage = legacy;
  let b: NormalizedMessage = candidate;
  try {
    if (!same) {
      a = normalizeMessage(legacy);
      b = normalizeMessage(candidate);
      // A body that decodes past its limit (a decompression bomb) cannot be compared: neither a match nor a mismatch.
      if (a.overLimit) budget.stop(`the legacy body cannot be compared: ${a.codingError}`);
      if (b.overLimit) budget.stop(`the candidate body cannot be compared: ${b.codingError}`);
      budget.check();
    }
    if (a.headers && b.headers) {
      const ha = headerMap(a, rules);
      const hb = headerMap(b, rules);
      for (const [k, v] of ha) if (hb.get(k) !== v) addDifference(sink, `headers.${k}`, "header", v, hb.get(k));
      for (const [k, v] of hb) if (!ha.has(k)) addDifference(sink, `headers.${k}`, "header", undefined, v);
    }
    if (!same) {
      const mark = sink.differences.length;
      const wasTruncated = sink.truncated;
      try {
        diffBodies(a, b, rules, sink, budget);
      } catch (err) {
        // A document too deep for a recursive walk: compare the bytes, never crash.
        if (!(err instanceof RangeError)) throw err;
        sink.differences.length = mark;
        sink.truncated = wasTruncated;
        if (!sameBytes(a.body, b.body)) addDifference(sink, "body", "value", "(document too deep to compare structurally)", "(bytes differ)");
      }
    }
  } catch (err) {
    if (err !== BUDGET_EXCEEDED) throw err;
    const reason = budget.stopReason ?? `the compare budget of ${budget.ms} ms ran out after ${Math.round(performance.now() - budget.start)} ms`;
    return { equal: false, differences: sink.differences, truncated: sink.truncated, incomplete: true, reason };
  }
  return { equal: sink.differences.length === 0 && !sink.truncated, differences: sink.differences, truncated: sink.truncated, incomplete: false };
}

/** Compares two JSON (or text) documents given as strings. */
export function compareDocuments(legacy: string, candidate: string, rules: CompiledRules = DEFAULT_RULES, options: CompareOptions = {}): Verdict {
  const enc = new TextEncoder();
  return compareMessages({ body: enc.encode(legacy) }, { body: enc.encode(candidate) }, rules, options);
}

function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The readable form: one line per path with both values. */
export function formatVerdict(v: Verdict): string {
  if (v.equal) return "equal\n";
  const head = v.incomplete ? [`incomplete: ${v.reason ?? "the comparison stopped early"}${v.differences.length ? "; differences found so far:" : ""}`] : [];
  const lines = v.differences.map((d) => `${d.path}  legacy=${show(d.legacy)}  candidate=${show(d.candidate)}  [${d.kind}, ${d.severity}]`);
  if (v.truncated) lines.push(`(more differences not shown; the first ${v.differences.length} are listed)`);
  return `${[...head, ...lines].join("\n")}\n`;
}
