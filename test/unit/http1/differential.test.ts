/**
 * Differential test against llhttp (Node's HTTP/1.1 parser, strict mode):
 * the same bytes — generated requests and responses, well-formed and
 * mutated — go to the codec (through pipeline.ts, as the connection layer
 * will drive it) and to llhttp (test/fixtures/llhttp-oracle.cjs, one `node`
 * process per batch). Both must accept or both refuse; where both accept they
 * must agree on every message's method, target, status, fields, body and
 * where it ends.
 *
 * Where they differ on purpose, the case is in STRICTER (the codec refuses
 * what llhttp takes) or LENIENT (the codec takes what llhttp refuses), each
 * with a predicate recognising the exact shape and the RFC reason. Both
 * lists are in src/http1/README.md.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { join } from "node:path";
import { METHODS, requestStream, responseStream } from "./generators.ts";
import { bytes, type ReadMessage, readRequests, readResponses, text, type Verdict } from "./pipeline.ts";

const ORACLE = join(import.meta.dir, "../../fixtures/llhttp-oracle.cjs");

interface LlMessage {
  method: string | null;
  url: string | null;
  major: number;
  minor: number;
  status: number | null;
  reason: string | null;
  headers: string[];
  body: string;
  upgrade: boolean;
  keepAlive: boolean;
  complete: boolean;
}

interface LlVerdict {
  messages: LlMessage[];
  error: string | null;
  pending: boolean;
}

/** Runs llhttp over every input in one `node` process. */
function llhttp(inputs: { kind: "req" | "res"; method?: string; data: string }[]): LlVerdict[] {
  const stdin = inputs.map((i) => `${i.kind === "req" ? "req" : `res ${i.method ?? "GET"}`} ${Buffer.from(i.data, "latin1").toString("base64")}`).join("\n");
  const r = Bun.spawnSync(["node", ORACLE], { stdin: Buffer.from(`${stdin}\n`), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`llhttp oracle failed: ${r.stderr.toString()}`);
  const lines = r.stdout.toString().trim().split("\n");
  if (lines.length !== inputs.length) throw new Error(`llhttp oracle answered ${lines.length} of ${inputs.length}`);
  return lines.map((l) => JSON.parse(l) as LlVerdict);
}

/** What a difference is judged on: the bytes of the message where it happens, and each side's word. */
interface Difference {
  /** The input from where the message starts (latin-1). */
  raw: string;
  /** The same without the empty lines (CRLF) that may precede a request. */
  msg: string;
  /** Its first line. */
  line: string;
  /** The codec's error code, when it refused the message. */
  ficus: string | null;
  /** llhttp's error code, when it refused the message. */
  llhttp: string | null;
}

interface Deliberate {
  id: string;
  rfc: string;
  matches: (d: Difference) => boolean;
}

const headOf = (msg: string) => msg.slice(0, msg.indexOf("\r\n\r\n") >= 0 ? msg.indexOf("\r\n\r\n") : msg.length);
const fieldLines = (msg: string) => headOf(msg).split("\r\n").slice(1);
const hasField = (msg: string, re: RegExp) => fieldLines(msg).some((l) => re.test(l));
const requestTarget = (line: string) => line.split(" ")[1] ?? "";

/** The codec refuses; llhttp accepts. */
export const STRICTER: Deliberate[] = [
  {
    id: "bare LF or CR before a request line",
    rfc: "RFC 9112 §2.2: only empty lines (CRLF) before a request-line may be ignored; a bare LF is not a line ending",
    matches: (d) => (d.ficus === "bare_lf" || d.ficus === "bad_method") && /^[\r\n]*\n|^(\r\n)*\r(?!\n)/.test(d.raw),
  },
  {
    id: "request line with two spaces, or without a version (HTTP/0.9 style)",
    rfc: "RFC 9112 §3: request-line = method SP request-target SP HTTP-version, single SPs; HTTP/0.9 is not supported",
    matches: (d) => (d.ficus === "bad_request_line" || d.ficus === "bare_lf") && (/ {2}/.test(d.line) || d.line.split(" ").length < 3),
  },
  {
    id: "HTTP versions other than 1.0 and 1.1 (HTTP/0.9, HTTP/2.0 in an HTTP/1 message)",
    rfc: "RFC 9112 §2.3: this codec speaks HTTP/1.0 and HTTP/1.1 only; a well-formed other version gets 505 (RFC 9110 §15.6.6)",
    matches: (d) => d.ficus === "unsupported_version",
  },
  {
    id: "request-target with '#', asterisk-form outside OPTIONS, CONNECT without authority-form, absolute-form other than http(s) or with userinfo or an empty host",
    rfc: "RFC 9112 §3.2 (forms and where each is allowed), RFC 9110 §4.2.1 (empty host), §4.2.4 (userinfo refused), §7.4 (a gateway serves http and https only)",
    matches: (d) =>
      d.ficus === "bad_target" &&
      (/#/.test(requestTarget(d.line)) ||
        requestTarget(d.line).startsWith("*") ||
        d.line.startsWith("CONNECT ") ||
        /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(requestTarget(d.line))),
  },
  {
    id: "Transfer-Encoding in an HTTP/1.0 message",
    rfc: "RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding must be treated as having faulty framing",
    matches: (d) => d.ficus === "te_in_http10",
  },
  {
    id: "transfer codings other than chunked (gzip, chunked)",
    rfc: "RFC 9112 §6.1: a server that does not understand a transfer coding answers 501; this codec implements chunked only",
    matches: (d) => d.ficus === "unsupported_transfer_coding",
  },
  {
    id: "empty Transfer-Encoding (llhttp ignores the field)",
    rfc: "RFC 9112 §6.1: Transfer-Encoding lists the codings applied; an empty list names no framing and is refused rather than guessed",
    matches: (d) =>
      (d.ficus === "bad_transfer_encoding" || d.ficus === "te_and_cl" || d.ficus === "te_in_http10") &&
      fieldLines(d.msg).filter((l) => /^transfer-encoding:/i.test(l)).every((l) => /^transfer-encoding:[ \t,]*$/i.test(l)),
  },
  {
    id: "Content-Length above 2^53-1",
    rfc: "RFC 9110 §8.6 lets a recipient bound the value; lengths beyond 2^53-1 cannot be counted exactly in JavaScript",
    matches: (d) => d.ficus === "content_length_overflow",
  },
  {
    id: "missing Host in HTTP/1.1, several Host fields, or a Host value that is not uri-host[:port]",
    rfc: "RFC 9112 §3.2: a server MUST answer 400 to such requests",
    matches: (d) => d.ficus === "missing_host" || d.ficus === "multiple_host" || d.ficus === "bad_host",
  },
  {
    id: "control characters in a reason phrase",
    rfc: "RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )",
    matches: (d) => d.ficus === "bad_reason",
  },
  {
    id: "status codes outside 100–599",
    rfc: "RFC 9110 §15: status codes are three digits, first digit 1 to 5",
    matches: (d) => d.ficus === "bad_status" && /^HTTP\/1\.[01] [06-9]\d\d( |$)/.test(d.line),
  },
  {
    id: "empty lines before a status line",
    rfc: "RFC 9112 §2.2 allows skipping empty lines only before a request-line; before a response they mean the previous framing was wrong",
    matches: (d) => (d.ficus === "bad_status_line" || d.ficus === "bad_version" || d.ficus === "bare_lf") && /^[\r\n]/.test(d.raw),
  },
  {
    id: "chunk extensions outside the RFC grammar (empty name or value, a quote after a token)",
    rfc: "RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS chunk-ext-name [ BWS \"=\" BWS chunk-ext-val ] ), name a token, value a token or quoted-string",
    matches: (d) => d.ficus === "bad_chunk_extension" && chunkSizeLines(d.msg).some((l) => !CHUNK_LINE.test(l)),
  },
  {
    id: "chunked listed more than once in a response (llhttp decodes it once)",
    rfc: "RFC 9112 §7: a sender MUST NOT apply chunked more than once; such a response's framing is not trusted",
    matches: (d) => d.ficus === "chunked_twice" && d.line.startsWith("HTTP/"),
  },
  {
    id: "an HTTP/1.0 message listing both close and keep-alive (llhttp keeps the connection)",
    rfc: "RFC 9112 §9.3: the close option is checked first; the connection does not persist",
    matches: (d) => d.ficus === "close_wins" && /\bclose\b/i.test(headOf(d.msg)) && /keep-alive/i.test(headOf(d.msg)),
  },
  {
    id: "malformed Transfer-Encoding in a response (llhttp reads it until close)",
    rfc: "RFC 9112 §6.1 grammar: transfer-coding = token *( OWS \";\" OWS transfer-parameter ); chunked takes no parameters (§7.1)",
    matches: (d) => d.ficus === "bad_transfer_encoding",
  },
];

/** The codec accepts; llhttp refuses. */
export const LENIENT: Deliberate[] = [
  {
    id: "methods llhttp does not know (extension methods, lowercase methods)",
    rfc: "RFC 9110 §9.1: method = token, case-sensitive, extensible by registration; policy on methods belongs above the codec",
    matches: (d) => d.llhttp === "HPE_INVALID_METHOD" && !(METHODS as readonly string[]).includes(d.line.split(" ")[0] ?? ""),
  },
  {
    id: "the same Content-Length value repeated (in a list or in several fields)",
    rfc: "RFC 9110 §8.6: a recipient may accept a list of identical values as that value",
    matches: (d) => (d.llhttp === "HPE_UNEXPECTED_CONTENT_LENGTH" || d.llhttp === "HPE_INVALID_CONTENT_LENGTH") && clValues(d.msg).length > 1,
  },
  {
    id: "whitespace (BWS) before ';' and around '=' in chunk extensions",
    rfc: "RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS chunk-ext-name [ BWS \"=\" BWS chunk-ext-val ] ), and a recipient must accept BWS (RFC 9110 §5.6.3)",
    matches: (d) => (d.llhttp === "HPE_INVALID_CHUNK_SIZE" || d.llhttp === "HPE_STRICT") && /\r\n[0-9a-fA-F]+(;[^\r\n]*)?[ \t]*;|[ \t]=|=[ \t]|;[ \t]/.test(d.msg),
  },
  {
    id: "a response with both Transfer-Encoding and Content-Length",
    rfc: "RFC 9112 §6.3 item 3: Transfer-Encoding overrides Content-Length; the codec flags the Content-Length for removal (stripContentLength)",
    matches: (d) =>
      (d.llhttp === "HPE_INVALID_CONTENT_LENGTH" || d.llhttp === "HPE_INVALID_TRANSFER_ENCODING") &&
      d.line.startsWith("HTTP/") &&
      hasField(d.msg, /^transfer-encoding:/i) &&
      clValues(d.msg).length > 0,
  },
  {
    id: "a tab after a Content-Length, Transfer-Encoding or Connection value",
    rfc: "RFC 9112 §5.1: OWS (SP or HTAB) around a field value is not part of it; llhttp trims SP but not HTAB there",
    matches: (d) =>
      ["HPE_INVALID_CONTENT_LENGTH", "HPE_INVALID_TRANSFER_ENCODING", "keep_alive_false", "framing_differs"].includes(d.llhttp ?? "") &&
      fieldLines(d.msg).some((l) => /^(content-length|transfer-encoding|connection):.*\t$/i.test(l)),
  },
  {
    id: "empty elements in the Transfer-Encoding list ('chunked,')",
    rfc: "RFC 9110 §5.6.1: a recipient MUST accept and ignore empty list elements",
    matches: (d) => d.llhttp === "HPE_INVALID_TRANSFER_ENCODING" && fieldLines(d.msg).some((l) => /^transfer-encoding:(.*,[ \t]*(,|$)|[ \t]*,)/i.test(l)),
  },
  {
    id: "framing fields of a response that has no body (1xx, 204, 304) are not judged",
    rfc: "RFC 9112 §6.3 item 1: such a response ends after its head whatever Content-Length or Transfer-Encoding say",
    matches: (d) => /^HPE_(INVALID|UNEXPECTED)_(CONTENT_LENGTH|TRANSFER_ENCODING)$/.test(d.llhttp ?? "") && /^HTTP\/1\.[01] (1\d\d|204|304)( |$)/.test(d.line),
  },
];

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"';
/** A chunk-size line by the RFC 9112 §7.1.1 grammar (an independent check, for the allow-list only). */
const CHUNK_LINE = new RegExp(`^[0-9A-Fa-f]+(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*$`);

/** The chunk-size lines of the message's chunked body, following its framing as far as it goes. */
function chunkSizeLines(msg: string): string[] {
  let pos = msg.indexOf("\r\n\r\n");
  if (pos < 0) return [];
  pos += 4;
  const out: string[] = [];
  while (pos < msg.length) {
    const end = msg.indexOf("\r\n", pos);
    const line = msg.slice(pos, end < 0 ? msg.length : end);
    out.push(line);
    const size = Number.parseInt(line, 16);
    if (end < 0 || !(size > 0)) break;
    pos = end + 2 + size + 2;
  }
  return out;
}

function clValues(msg: string): string[] {
  return fieldLines(msg)
    .filter((l) => /^content-length:/i.test(l))
    .flatMap((l) => l.slice(l.indexOf(":") + 1).split(","))
    .map((v) => v.trim());
}

const KEEP_ALIVE = "keep-alive differs";

function latin1FromB64(b64: string): string {
  return Buffer.from(b64, "base64").toString("latin1");
}

/** Why two accepted messages differ, or undefined when they agree. `complete`: both read the message to its end. */
function messageMismatch(f: ReadMessage, l: LlMessage, complete: boolean): string | undefined {
  if (f.method !== null && f.method !== l.method) return `method ${f.method} vs ${l.method}`;
  if (f.target !== null && f.target !== l.url) return `target ${f.target} vs ${l.url}`;
  if (f.status !== null && f.status !== l.status) return `status ${f.status} vs ${l.status}`;
  if (l.major !== 1 || f.version !== l.minor) return `version 1.${f.version} vs ${l.major}.${l.minor}`;
  // Trailers are appended to the fields at the body's end: a side that stopped inside the body has a prefix.
  const ff = JSON.stringify(f.fields).slice(0, -1);
  const lf = JSON.stringify(l.headers).slice(0, -1);
  const sameFields = complete ? ff === lf : ff.startsWith(lf) || lf.startsWith(ff);
  if (!sameFields) return `fields ${JSON.stringify(f.fields)} vs ${JSON.stringify(l.headers)}`;
  const body = text(f.body);
  const other = latin1FromB64(l.body);
  // A side that stopped inside the body has read a prefix of it.
  const same = complete ? body === other : body.startsWith(other) || other.startsWith(body);
  if (!same) return `body ${JSON.stringify(body)} vs ${JSON.stringify(other)}`;
  if (complete && f.method !== null && f.framing !== "tunnel" && f.keepAlive !== l.keepAlive) return KEEP_ALIVE;
  return undefined;
}

type Judgement = { kind: "agree" } | { kind: "deliberate"; id: string } | { kind: "mismatch"; why: string };

/** Messages the codec read to their end. */
function codecCompleted(f: Verdict): number {
  const n = f.messages.length;
  const last = f.messages[n - 1];
  // The last listed message is unfinished when the input ended in its body or its body was refused.
  const unfinished = last !== undefined && (f.pendingIn === "body" || (f.error !== null && f.error.at === last.start));
  return unfinished ? n - 1 : n;
}

function differenceAt(input: string, start: number, ficus: string | null, llhttp: string | null): Difference {
  const raw = input.slice(start);
  const msg = raw.replace(/^(\r\n)+/, "");
  return { raw, msg, line: msg.split(/\r?\n/)[0] ?? "", ficus, llhttp };
}

function lenient(d: Difference, why: string): Judgement {
  for (const s of LENIENT) if (s.matches(d)) return { kind: "deliberate", id: `lenient: ${s.id}` };
  return { kind: "mismatch", why };
}

function stricter(d: Difference, why: string): Judgement {
  for (const s of STRICTER) if (s.matches(d)) return { kind: "deliberate", id: `stricter: ${s.id}` };
  return { kind: "mismatch", why };
}

/**
 * Compares the verdicts message by message: both lists hold the messages
 * whose heads were accepted; they must fail (if they do) in the same message.
 */
function judge(input: string, f: Verdict, l: LlVerdict, reread: (s: string) => Verdict): Judgement {
  const fc = codecCompleted(f);
  const lc = l.messages.filter((m) => m.complete).length;
  const n = Math.min(f.messages.length, l.messages.length);
  for (let i = 0; i < n; i++) {
    const why = messageMismatch(f.messages[i]!, l.messages[i]!, i < fc && l.messages[i]!.complete);
    if (why === KEEP_ALIVE) {
      if (!f.messages[i]!.keepAlive) return stricter(differenceAt(input, f.messages[i]!.start, "close_wins", null), why);
      return lenient(differenceAt(input, f.messages[i]!.start, null, "keep_alive_false"), why);
    }
    if (why !== undefined) return lenient(differenceAt(input, f.messages[i]!.start, null, "framing_differs"), `message ${i + 1}: ${why}`);
  }
  // Data after a message that closes the connection: llhttp refuses it, the codec stops reading. Both mean "stop here".
  const lClosed = l.error === "HPE_CLOSED_CONNECTION";
  const fRefused = f.error !== null;
  const lRefused = l.error !== null && !lClosed;
  if (!fRefused && !lRefused) {
    if (f.messages.length !== l.messages.length || fc !== lc) return { kind: "mismatch", why: `${f.messages.length} vs ${l.messages.length} messages` };
    if (f.dataAfterClose !== lClosed) return { kind: "mismatch", why: `data after a closing message: ${f.dataAfterClose} vs ${lClosed}` };
    if (f.pending !== l.pending) return { kind: "mismatch", why: `pending ${f.pending} vs ${l.pending}` };
    return { kind: "agree" };
  }
  if (fRefused && lRefused && fc === lc) return { kind: "agree" };
  if (lRefused && !fRefused && f.pendingIn === "head" && fc === lc) {
    // llhttp refused a line the codec has not seen end yet (a CR not followed by LF, say): it must refuse once the line ends.
    const ended = reread(`${input}\r\n\r\n`);
    if (ended.error !== null && codecCompleted(ended) === lc) return { kind: "agree" };
  }
  if (fRefused && (!lRefused || fc < lc)) {
    // The codec refused message fc, which llhttp read to its end (or is still reading).
    const start = f.messages[fc]?.start ?? f.error!.at;
    return stricter(differenceAt(input, start, f.error!.code, null), `codec refuses (${f.error!.code}), llhttp ${lRefused ? `refuses later (${l.error})` : "accepts"}`);
  }
  // llhttp refused message lc, which the codec read to its end (or is still reading).
  const start = f.messages[lc]?.start ?? f.error?.at ?? 0;
  return lenient(differenceAt(input, start, null, l.error), `llhttp refuses (${l.error}), codec ${fRefused ? `refuses later (${f.error!.code})` : "accepts"}`);
}

function runBatch(kind: "req" | "res", inputs: string[]) {
  const verdicts = llhttp(inputs.map((data) => ({ kind, data })));
  const tally = new Map<string, number>();
  const mismatches: string[] = [];
  inputs.forEach((input, i) => {
    const read = (s: string) => (kind === "req" ? readRequests(bytes(s)) : readResponses(bytes(s), "GET"));
    const f = read(input);
    const j = judge(input, f, verdicts[i]!, read);
    const key = j.kind === "agree" ? (f.error ? "agree: both refuse" : "agree: both accept") : j.kind === "deliberate" ? j.id : "MISMATCH";
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (j.kind === "mismatch" && process.env.HTTP1_DIFF_VERBOSE) console.log(j.why, Buffer.from(input, "latin1").toString("base64"), JSON.stringify(input), JSON.stringify(f.error), verdicts[i]!.error);
    if (j.kind === "mismatch") mismatches.push(`${j.why}\n    input: ${JSON.stringify(input)}\n    codec: ${JSON.stringify(f.error)}\n    llhttp: ${JSON.stringify(verdicts[i]!.error)}`);
  });
  if (process.env.HTTP1_DIFF_VERBOSE) console.log(kind, Object.fromEntries(tally));
  return { tally, mismatches };
}

// A longer exploration: HTTP1_DIFF_SEED=7 HTTP1_DIFF_RUNS=20000 HTTP1_DIFF_VERBOSE=1 npx bun test test/unit/http1/differential.test.ts
const SEED = Number(process.env.HTTP1_DIFF_SEED ?? 2024);
const RUNS = Number(process.env.HTTP1_DIFF_RUNS ?? 2000);

describe("differential: the codec against llhttp", () => {
  test("generated and mutated requests", () => {
    const inputs = fc.sample(requestStream, { numRuns: RUNS * 2, seed: SEED });
    const { tally, mismatches } = runBatch("req", inputs);
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The batch must exercise both sides: agreement on valid and on refused input.
    expect(tally.get("agree: both accept") ?? 0).toBeGreaterThan(RUNS / 2);
    expect(tally.get("agree: both refuse") ?? 0).toBeGreaterThan(RUNS / 10);
  });

  test("generated and mutated responses", () => {
    const inputs = fc.sample(responseStream, { numRuns: RUNS, seed: SEED + 1 });
    const { tally, mismatches } = runBatch("res", inputs);
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(tally.get("agree: both accept") ?? 0).toBeGreaterThan(RUNS / 4);
    expect(tally.get("agree: both refuse") ?? 0).toBeGreaterThan(RUNS / 20);
  });

  test("every deliberate difference is one llhttp really has (the allow-lists hold no dead entry)", () => {
    // One example per entry, judged the same way: llhttp must differ, and the entry must be the reason.
    const examples: [string, "req" | "res", string][] = [
      ["request line with two spaces", "req", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"],
      ["HTTP versions other than 1.0 and 1.1", "req", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"],
      ["request-target with '#'", "req", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"],
      ["bare LF or CR before a request line", "req", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"],
      ["Transfer-Encoding in an HTTP/1.0 message", "req", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
      ["transfer codings other than chunked", "req", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"],
      ["empty Transfer-Encoding", "req", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"],
      ["Content-Length above 2^53-1", "req", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740992\r\n\r\n"],
      ["missing Host in HTTP/1.1", "req", "GET / HTTP/1.1\r\n\r\n"],
      ["control characters in a reason phrase", "res", "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n"],
      ["status codes outside 100–599", "res", "HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n"],
      ["empty lines before a status line", "res", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
      ["chunk extensions outside the RFC grammar", "req", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\r\nx\r\n0\r\n\r\n"],
      ["empty elements in the Transfer-Encoding list", "req", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n"],
      ["a tab after a Content-Length", "req", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\t\r\n\r\nx"],
      ["framing fields of a response that has no body", "res", "HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n"],
      ["chunked listed more than once in a response", "res", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"],
      ["an HTTP/1.0 message listing both close and keep-alive", "req", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"],
      ["malformed Transfer-Encoding in a response", "res", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;a=b\r\n\r\nabc"],
      ["methods llhttp does not know", "req", "get / HTTP/1.1\r\nHost: a\r\n\r\n"],
      ["the same Content-Length value repeated", "req", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx"],
      ["whitespace (BWS) before ';'", "req", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 ;a\r\nx\r\n0\r\n\r\n"],
      ["a response with both Transfer-Encoding and Content-Length", "res", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n"],
    ];
    const verdicts = llhttp(examples.map(([, kind, data]) => ({ kind, data })));
    const ids = new Set<string>();
    examples.forEach(([prefix, kind, input], i) => {
      const read = (s: string) => (kind === "req" ? readRequests(bytes(s)) : readResponses(bytes(s), "GET"));
      const j = judge(input, read(input), verdicts[i]!, read);
      expect({ prefix, kind: j.kind }).toEqual({ prefix, kind: "deliberate" });
      if (j.kind === "deliberate") {
        expect(j.id).toContain(prefix);
        ids.add(j.id);
      }
    });
    expect(ids.size).toBe(STRICTER.length + LENIENT.length);
  });
});
