/**
 * The compare engine: does the candidate answer like legacy? Usable on its
 * own (`ficus compare`, or this module) and by the shadow stage.
 *
 *   const verdict = compareMessages(legacyResponse, candidateResponse, compileRules({ ignore: ["$.meta.request_id"] }));
 *
 * It compares the status, the headers (minus a default ignore list), and the
 * bodies: JSON structurally, other text line by line, binary by SHA-256. Any
 * input, however broken, yields a verdict.
 */
import { createHash } from "node:crypto";
import { addDifference, type Difference, type DiffSink, diffJson } from "./diff-json.ts";
import { decodeBody, type HttpMessage, headerValue } from "./http-message.ts";
import { compileRules, type CompiledRules } from "./rules.ts";

export { canonical, type DiffKind, type Difference, MAX_DIFFERENCES, SEVERITY, type Severity } from "./diff-json.ts";
export { decodeBody, decodeContent, headerIn, type HttpMessage, indexOfSeq, looksLikeHttp, parseRawHttp, splitHead } from "./http-message.ts";
export { JsonNumber, type JsonValue, parseJson } from "./json-value.ts";
export { compareRulesSchema, compileRules, type CompiledRules, type CompareRulesInput, DEFAULT_IGNORED_HEADERS } from "./rules.ts";
export { loadRulesFile } from "./rules-file.ts";
export { compileUserRegex, type UserRegex, UserRegexError } from "./regex.ts";

export interface Verdict {
  readonly equal: boolean;
  readonly differences: readonly Difference[];
  /** True when more differences existed than were collected (MAX_DIFFERENCES). */
  readonly truncated: boolean;
}

const DEFAULT_RULES = compileRules();

function headerMap(msg: HttpMessage, rules: CompiledRules): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of msg.headers ?? []) {
    const name = k.toLowerCase();
    if (rules.onlyHeaders.size > 0 ? !rules.onlyHeaders.has(name) : rules.ignoredHeaders.has(name)) continue;
    out.set(name, out.has(name) ? `${out.get(name)}, ${v}` : v);
  }
  return out;
}

function sameEncoding(a: HttpMessage, b: HttpMessage): boolean {
  return (headerValue(a, "content-encoding") ?? "") === (headerValue(b, "content-encoding") ?? "") && (headerValue(a, "content-type") ?? "") === (headerValue(b, "content-type") ?? "");
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Line-by-line comparison; an LCS alignment for texts up to 2,000 lines, positional beyond. */
function diffText(a: string, b: string, sink: DiffSink): void {
  if (a === b) return;
  const la = a.split(/\r?\n/);
  const lb = b.split(/\r?\n/);
  if (la.length === lb.length || la.length * lb.length > 4_000_000) {
    const n = Math.max(la.length, lb.length);
    for (let i = 0; i < n; i++) {
      if (la[i] === lb[i]) continue;
      const kind = la[i] === undefined ? "extra" : lb[i] === undefined ? "missing" : "value";
      addDifference(sink, `body:line ${i + 1}`, kind, la[i], lb[i]);
    }
    return;
  }
  // Longest common subsequence of lines, then walk it to report removed/added/changed lines.
  const m = la.length;
  const n = lb.length;
  const lcs = Array.from({ length: m + 1 }, () => new Uint32Array(n + 1));
  for (let i = m - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const below = lcs[i + 1] as Uint32Array;
    for (let j = n - 1; j >= 0; j--) row[j] = la[i] === lb[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number);
  }
  let i = 0;
  let j = 0;
  while (i < m || j < n) {
    if (i < m && j < n && la[i] === lb[j]) {
      i++;
      j++;
    } else if (i < m && j < n && (lcs[i + 1] as Uint32Array)[j + 1] === (lcs[i] as Uint32Array)[j]) {
      addDifference(sink, `body:line ${i + 1}`, "value", la[i], lb[j]);
      i++;
      j++;
    } else if (j >= n || (i < m && ((lcs[i + 1] as Uint32Array)[j] as number) >= ((lcs[i] as Uint32Array)[j + 1] as number))) {
      addDifference(sink, `body:line ${i + 1}`, "missing", la[i], undefined);
      i++;
    } else {
      addDifference(sink, `body:line ${i + 1}`, "extra", undefined, lb[j]);
      j++;
    }
  }
}

/** Compares two responses (or bare documents: a message without status and headers). */
export function compareMessages(legacy: HttpMessage, candidate: HttpMessage, rules: CompiledRules = DEFAULT_RULES): Verdict {
  const sink: DiffSink = { differences: [], truncated: false };
  if (legacy.status !== undefined && candidate.status !== undefined && legacy.status !== candidate.status) {
    addDifference(sink, "status", "status", legacy.status, candidate.status);
  }
  if (legacy.headers && candidate.headers) {
    const ha = headerMap(legacy, rules);
    const hb = headerMap(candidate, rules);
    for (const [k, v] of ha) if (hb.get(k) !== v) addDifference(sink, `headers.${k}`, "header", v, hb.get(k));
    for (const [k, v] of hb) if (!ha.has(k)) addDifference(sink, `headers.${k}`, "header", undefined, v);
  }
  // Byte-identical bodies (with the same encoding) are equal whatever they hold: no parsing needed.
  if (legacy.body.length === candidate.body.length && sameEncoding(legacy, candidate) && Buffer.from(legacy.body.buffer, legacy.body.byteOffset, legacy.body.length).equals(candidate.body)) {
    return { equal: sink.differences.length === 0, differences: sink.differences, truncated: false };
  }
  const a = decodeBody(legacy);
  const b = decodeBody(candidate);
  try {
    if (a.kind === "json" && b.kind === "json") diffJson(a.value, b.value, rules, sink);
    else if (a.kind === "text" && b.kind === "text") diffText(a.text, b.text, sink);
    else if (a.kind === "binary" || b.kind === "binary") {
      const x = sha256(legacy.body);
      const y = sha256(candidate.body);
      if (x !== y) addDifference(sink, "body", a.kind === b.kind ? "value" : "type", `sha256:${x} (${legacy.body.length} bytes)`, `sha256:${y} (${candidate.body.length} bytes)`);
    } else {
      // JSON on one side, text on the other (a truncated body, Python's NaN): a type change, shown as text.
      const ta = a.kind === "text" ? a.text : new TextDecoder().decode(legacy.body);
      const tb = b.kind === "text" ? b.text : new TextDecoder().decode(candidate.body);
      if (ta !== tb) addDifference(sink, "body", "type", ta, tb);
    }
  } catch (err) {
    // A document too deep for a recursive walk: compare the bytes, never crash.
    if (!(err instanceof RangeError)) throw err;
    sink.differences.length = 0;
    const same = Buffer.compare(Buffer.from(legacy.body), Buffer.from(candidate.body)) === 0;
    if (!same) addDifference(sink, "body", "value", "(document too deep to compare structurally)", "(bytes differ)");
  }
  return { equal: sink.differences.length === 0 && !sink.truncated, differences: sink.differences, truncated: sink.truncated };
}

/** Compares two JSON (or text) documents given as strings. */
export function compareDocuments(legacy: string, candidate: string, rules: CompiledRules = DEFAULT_RULES): Verdict {
  const enc = new TextEncoder();
  return compareMessages({ body: enc.encode(legacy) }, { body: enc.encode(candidate) }, rules);
}

function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The readable form: one line per path with both values. */
export function formatVerdict(v: Verdict): string {
  if (v.equal) return "equal\n";
  const lines = v.differences.map((d) => `${d.path}  legacy=${show(d.legacy)}  candidate=${show(d.candidate)}  [${d.kind}, ${d.severity}]`);
  if (v.truncated) lines.push(`(more differences not shown; the first ${v.differences.length} are listed)`);
  return `${lines.join("\n")}\n`;
}
