/**
 * Test helper: fast-check generators of HTTP/1.1 byte streams — well-formed
 * requests, responses and chunked bodies, and mutations of them (a CR, LF,
 * NUL or SP inserted anywhere, bare LF, duplicated or conflicting framing
 * fields, obfuscated Transfer-Encoding, odd chunk sizes, obs-fold, version
 * changes) — for the split-equivalence and llhttp differential tests.
 * Messages are latin-1 strings: one character per byte.
 */
import fc from "fast-check";

/** Methods llhttp knows (it refuses others; the codec accepts any token). */
export const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const;

const TCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%";

const token = (max: number) => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: max });

/** A field value: visible ASCII, some obs-text, inner SP/HTAB. */
const valueChar = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 3, arbitrary: fc.constantFrom(" ", "\t") },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
);
const fieldValue = fc.string({ unit: valueChar, maxLength: 24 }).map((v) => v.trim());

/** Field names prefixed with X- so that random ones never name a framing field. */
const extraField = fc.tuple(token(10), fieldValue).map(([n, v]) => [`X-${n}`, v] as [string, string]);

const target = fc
  .tuple(fc.array(fc.string({ unit: fc.constantFrom(...PATH_CHARS), maxLength: 6 }), { minLength: 1, maxLength: 4 }), fc.option(fc.string({ unit: fc.constantFrom(...PATH_CHARS, "?", "/"), maxLength: 10 })))
  .map(([segs, q]) => `/${segs.join("/")}${q === null ? "" : `?${q}`}`.replace(/%/g, "%25"));

const bodyData = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });

const chunkExt = fc.option(
  fc.array(
    fc.tuple(token(5), fc.option(fc.oneof(token(5), fc.string({ unit: fc.constantFrom(..."ab ;,=\\"), maxLength: 5 }).map((s) => `"${s.replace(/\\/g, "\\\\")}"`)))),
    { minLength: 1, maxLength: 2 },
  ).map((exts) => exts.map(([n, v]) => `;${n}${v === null ? "" : `=${v}`}`).join("")),
);

export interface ChunkSpec {
  data: string;
  ext: string | null;
  zeros: number;
  upper: boolean;
}

const chunkSpec: fc.Arbitrary<ChunkSpec> = fc.record({
  data: bodyData.filter((d) => d.length > 0),
  ext: chunkExt,
  zeros: fc.nat({ max: 3 }),
  upper: fc.boolean(),
});

/** A well-formed chunked body with its expected data and trailers. */
export const chunkedBody = fc
  .record({
    chunks: fc.array(chunkSpec, { maxLength: 4 }),
    lastExt: chunkExt,
    trailers: fc.array(extraField, { maxLength: 2 }),
  })
  .map(({ chunks, lastExt, trailers }) => {
    let s = "";
    for (const c of chunks) {
      const hex = c.data.length.toString(16);
      s += `${"0".repeat(c.zeros)}${c.upper ? hex.toUpperCase() : hex}${c.ext ?? ""}\r\n${c.data}\r\n`;
    }
    s += `0${lastExt ?? ""}\r\n`;
    for (const [n, v] of trailers) s += `${n}: ${v}\r\n`;
    s += "\r\n";
    return { wire: s, data: chunks.map((c) => c.data).join(""), trailers: trailers.flat() };
  });

type Body = { kind: "none" } | { kind: "length"; data: string } | { kind: "chunked"; wire: string };

const requestBody: fc.Arbitrary<Body> = fc.oneof(
  fc.constant<Body>({ kind: "none" }),
  bodyData.map<Body>((data) => ({ kind: "length", data })),
  chunkedBody.map<Body>((b) => ({ kind: "chunked", wire: b.wire })),
);

/** One well-formed request. */
export const request = fc
  .record({
    method: fc.constantFrom(...METHODS),
    target,
    v10: fc.boolean(),
    fields: fc.array(extraField, { maxLength: 5 }),
    hostFirst: fc.boolean(),
    connection: fc.constantFrom(null, "close", "keep-alive"),
    body: requestBody,
  })
  .map(({ method, target, v10, fields, hostFirst, connection, body }) => {
    const f: [string, string][] = [...fields];
    const host: [string, string] = ["Host", "example.test"];
    if (hostFirst) f.unshift(host);
    else f.push(host);
    if (connection !== null) f.push(["Connection", connection]);
    let payload = "";
    let b = body;
    if (v10 && b.kind === "chunked") b = { kind: "length", data: "" };
    if (b.kind === "length") {
      f.push(["Content-Length", String(b.data.length)]);
      payload = b.data;
    } else if (b.kind === "chunked") {
      f.push(["Transfer-Encoding", "chunked"]);
      payload = b.wire;
    }
    return `${method} ${target} HTTP/1.${v10 ? 0 : 1}\r\n${f.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n${payload}`;
  });

/** One well-formed response (to GET). */
export const response = fc
  .record({
    status: fc.constantFrom(200, 201, 204, 301, 304, 404, 500, 503),
    reason: fc.constantFrom("OK", "", "Some Reason", "D\xe9j\xe0"),
    v10: fc.boolean(),
    fields: fc.array(extraField, { maxLength: 4 }),
    body: fc.oneof(
      bodyData.map<Body>((data) => ({ kind: "length", data })),
      chunkedBody.map<Body>((b) => ({ kind: "chunked", wire: b.wire })),
    ),
  })
  .map(({ status, reason, v10, fields, body }) => {
    const f: [string, string][] = [...fields];
    let payload = "";
    const noBody = status === 204 || status === 304;
    if (body.kind === "length" || v10) {
      const data = body.kind === "length" && !noBody ? body.data : "";
      f.push(["Content-Length", String(data.length)]);
      payload = data;
    } else if (body.kind === "chunked") {
      f.push(["Transfer-Encoding", "chunked"]);
      payload = noBody ? "" : body.wire;
    }
    return `HTTP/1.${v10 ? 0 : 1} ${status} ${reason}\r\n${f.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n${payload}`;
  });

/** Header lines known from request smuggling research, inserted after the start line. */
export const MALICIOUS_LINES = [
  "Content-Length: 5",
  "Content-Length: 0",
  "Content-Length: 5, 5",
  "Content-Length: 5, 6",
  "Content-Length: +5",
  "Content-Length: 05",
  "Content-Length: 0x5",
  "Content-Length: 1 0",
  "Content-Length: 99999999999999999999",
  "Content-Length:",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: Chunked",
  "Transfer-Encoding: xchunked",
  "Transfer-Encoding: chunked, identity",
  "Transfer-Encoding: identity",
  "Transfer-Encoding: gzip, chunked",
  "Transfer-Encoding: chunked;a=b",
  "Transfer-Encoding: ,chunked",
  "Transfer-Encoding:",
  "Transfer-Encoding : chunked",
  "Transfer-Encoding\t: chunked",
  " Transfer-Encoding: chunked",
  "Transfer-Encoding: \x0bchunked",
  "X: y\r\n chunked",
  "Host: other.test",
  "Host: a b",
  "Connection: close",
  "Connection: keep-alive",
  "Expect: 100-continue",
];

export type Mutation =
  | { kind: "insert"; at: number; what: string }
  | { kind: "delete"; at: number }
  | { kind: "bareLf"; nth: number }
  | { kind: "bareCr"; nth: number }
  | { kind: "line"; line: string }
  | { kind: "dupLine"; nth: number }
  | { kind: "version"; to: string }
  | { kind: "space"; nth: number; to: string };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), what: fc.constantFrom("\r", "\n", "\0", " ", "\t", "\x7f", "\x80", ":", ",", ";", '"', "0", "a", "\r\n", "\x0b") }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("bareLf" as const), nth: fc.nat({ max: 12 }) }),
  fc.record({ kind: fc.constant("bareCr" as const), nth: fc.nat({ max: 12 }) }),
  fc.record({ kind: fc.constant("line" as const), line: fc.constantFrom(...MALICIOUS_LINES) }),
  fc.record({ kind: fc.constant("dupLine" as const), nth: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant("version" as const), to: fc.constantFrom("HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/1.1 ", "http/1.1", "HTTP/1.") }),
  fc.record({ kind: fc.constant("space" as const), nth: fc.nat({ max: 1 }), to: fc.constantFrom("  ", "\t", "") }),
);

function nthIndex(s: string, needle: string, nth: number): number {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = s.indexOf(needle, i + 1);
    if (i < 0) return -1;
  }
  return i;
}

/** `s` with `m` applied (unchanged when `m` finds nothing to change). */
export function mutate(s: string, m: Mutation): string {
  switch (m.kind) {
    case "insert": {
      const at = m.at % (s.length + 1);
      return s.slice(0, at) + m.what + s.slice(at);
    }
    case "delete": {
      if (s.length === 0) return s;
      const at = m.at % s.length;
      return s.slice(0, at) + s.slice(at + 1);
    }
    case "bareLf":
    case "bareCr": {
      const i = nthIndex(s, "\r\n", m.nth);
      if (i < 0) return s;
      return s.slice(0, i) + (m.kind === "bareLf" ? "\n" : "\r") + s.slice(i + 2);
    }
    case "line": {
      const i = s.indexOf("\r\n");
      if (i < 0) return s;
      return `${s.slice(0, i + 2)}${m.line}\r\n${s.slice(i + 2)}`;
    }
    case "dupLine": {
      const a = nthIndex(s, "\r\n", m.nth - 1);
      const b = nthIndex(s, "\r\n", m.nth);
      if (a < 0 || b < 0 || b === a + 2) return s;
      const line = s.slice(a + 2, b + 2);
      return s.slice(0, b + 2) + line + s.slice(b + 2);
    }
    case "version": {
      return s.replace(/HTTP\/1\.[01]/, m.to);
    }
    case "space": {
      const end = s.indexOf("\r\n");
      const line = end < 0 ? s : s.slice(0, end);
      const i = nthIndex(line, " ", m.nth);
      if (i < 0) return s;
      return s.slice(0, i) + m.to + s.slice(i + 1);
    }
  }
}

/** A request stream: one or two requests, maybe after empty lines (RFC 9112 §2.2), maybe mutated. */
export const requestStream = fc
  .tuple(fc.array(request, { minLength: 1, maxLength: 2 }), fc.array(mutation, { maxLength: 2 }), fc.boolean(), fc.constantFrom("", "", "", "\r\n", "\r\n\r\n"))
  .map(([reqs, muts, clean, lead]) => {
    let s = lead + reqs.join(lead);
    if (!clean) for (const m of muts) s = mutate(s, m);
    return s;
  });

/** A response stream: one response, maybe mutated. */
export const responseStream = fc
  .tuple(response, fc.array(mutation, { maxLength: 2 }), fc.boolean())
  .map(([res, muts, clean]) => {
    let s = res;
    if (!clean) for (const m of muts) s = mutate(s, m);
    return s;
  });

/** A chunked body, maybe mutated. */
export const chunkedStream = fc
  .tuple(chunkedBody, fc.array(mutation, { maxLength: 2 }), fc.boolean())
  .map(([b, muts, clean]) => {
    let s = b.wire;
    if (!clean) for (const m of muts) s = mutate(s, m);
    return s;
  });

/** Sorted cut points inside a string of length n. */
export function cuts(n: number, raw: number[]): number[] {
  return [...new Set(raw.map((r) => (n === 0 ? 0 : r % n)))].sort((a, b) => a - b);
}
