/**
 * One recorded exchange (a request and, when known, the response it got), as
 * every input format is read into, and the Ficus JSON Lines format (version 1)
 * that `ficus record` writes: one exchange per line.
 *
 *   {"v":1,"time":"2026-11-21T10:00:00.000Z","route":"orders",
 *    "request":{"method":"GET","url":"/orders/7?x=1","headers":[["accept","application/json"]],"body":""},
 *    "response":{"status":200,"headers":[["content-type","application/json"]],"body":"eyJpZCI6N30=","body_encoding":"base64","duration_ms":1.8}}
 */
import { z } from "zod";
import { headerIn } from "../compare/index.ts";

export interface RecordedRequest {
  readonly method: string;
  /** Path and query ("/orders/7?x=1"); an absolute URL's origin is dropped when read. */
  readonly target: string;
  /** The host the request was sent to, when the input says (HAR, Host header). */
  readonly host: string | undefined;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | undefined;
}

export interface RecordedResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  /** How long the recorded service took, when the input says. */
  readonly durationMs: number | undefined;
}

export interface RecordedExchange {
  /** When the request was made (ms since the epoch); NaN when the input does not say. */
  readonly time: number;
  /** The route that recorded it (Ficus JSONL). */
  readonly route: string | undefined;
  readonly request: RecordedRequest;
  readonly response: RecordedResponse | undefined;
  /** Where it was read: file and 1-based line. */
  readonly file: string;
  readonly line: number;
}

/** A line or entry that could not be read: reported, skipped, counted. */
export interface Corrupt {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export type InputItem = { readonly exchange: RecordedExchange; readonly corrupt?: undefined } | { readonly corrupt: Corrupt; readonly exchange?: undefined };

const header = z.tuple([z.string(), z.string()]);
const encoding = z.enum(["utf8", "base64"]).default("utf8");

/** The schema of one line of a Ficus recording. */
export const exchangeLineSchema = z.strictObject({
  v: z.literal(1),
  time: z.iso.datetime({ offset: true }),
  route: z.string().optional(),
  request: z.strictObject({
    method: z.string().regex(/^[A-Za-z]+$/, "expected an HTTP method"),
    url: z.string().min(1),
    headers: z.array(header).default([]),
    body: z.string().default(""),
    body_encoding: encoding,
  }),
  response: z
    .strictObject({
      status: z.number().int().min(100).max(599),
      headers: z.array(header).default([]),
      body: z.string().default(""),
      body_encoding: encoding,
      duration_ms: z.number().min(0).optional(),
    })
    .optional(),
});
export type ExchangeLine = z.input<typeof exchangeLineSchema>;

const utf8 = new TextEncoder();

function bytesOf(text: string, enc: "utf8" | "base64"): Uint8Array {
  return enc === "base64" ? Uint8Array.from(Buffer.from(text, "base64")) : utf8.encode(text);
}

/** Splits an absolute URL or an origin-form target into host and path+query. */
export function splitTarget(url: string): { host: string | undefined; target: string } {
  if (url.startsWith("/")) return { host: undefined, target: url };
  try {
    const u = new URL(url);
    return { host: u.host, target: `${u.pathname}${u.search}` };
  } catch {
    return { host: undefined, target: url };
  }
}


/** Reads one line of a Ficus recording; throws a readable message when it is not one. */
export function parseExchangeLine(text: string, file: string, line: number): RecordedExchange {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  const r = exchangeLineSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`${first?.path.join(".") || "line"}: ${first?.message ?? "invalid"}`);
  }
  const d = r.data;
  const { host, target } = splitTarget(d.request.url);
  const body = bytesOf(d.request.body, d.request.body_encoding);
  return {
    time: Date.parse(d.time),
    route: d.route,
    request: { method: d.request.method.toUpperCase(), target, host: host ?? headerIn(d.request.headers, "host"), headers: d.request.headers, body: body.length > 0 ? body : undefined },
    response: d.response && { status: d.response.status, headers: d.response.headers, body: bytesOf(d.response.body, d.response.body_encoding), durationMs: d.response.duration_ms },
    file,
    line,
  };
}

/** Text when the bytes are valid UTF-8, base64 otherwise. */
export function encodeBody(bytes: Uint8Array | undefined): { body: string; body_encoding?: "base64" } {
  if (!bytes || bytes.length === 0) return { body: "" };
  try {
    return { body: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { body: Buffer.from(bytes).toString("base64"), body_encoding: "base64" };
  }
}
