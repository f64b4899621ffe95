/**
 * Header handling for forwarding, both directions.
 *
 * RFC 9110 §7.6.1: a proxy removes the hop-by-hop fields (Connection,
 * Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade) and every field
 * named in Connection before forwarding. Trailer is treated the same, as
 * RFC 7230 §6.1 listed it. The request side also appends X-Forwarded-For/
 * -Proto/-Host and sets X-Request-Id; both sides apply the route's add/remove.
 */

export const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer"]);

/** The extra field names a Connection header declares hop-by-hop (besides keep-alive/close). */
export function connectionTokens(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  let out: string[] | undefined;
  for (const raw of value.split(",")) {
    const t = raw.trim().toLowerCase();
    if (t === "" || t === "close" || t === "keep-alive") continue;
    (out ??= []).push(t);
  }
  return out;
}

export interface HeaderOps {
  /** [lowercase name, value] pairs to set. */
  readonly add: readonly (readonly [string, string])[];
  /** Lowercase names to remove. */
  readonly remove: readonly string[];
}

export interface ForwardContext {
  readonly requestId: string;
  readonly clientIp: string;
  readonly proto: string;
  /** The client's Host header, or null. */
  readonly originalHost: string | null;
  readonly ops: HeaderOps | undefined;
}

/** Hop-by-hop fields other than Connection, deleted unconditionally (cheaper than testing each). */
const HOP_EXCEPT_CONNECTION = [...HOP_BY_HOP].filter((h) => h !== "connection");

/**
 * Turns the client's request headers into the upstream request headers, in
 * place (the request object is ours and copying costs ~20% of throughput):
 * drops hop-by-hop fields and those named in Connection, appends the
 * X-Forwarded-* fields, sets X-Request-Id, applies the route's ops.
 * Host is set per attempt by the caller (it depends on the endpoint).
 */
export function editRequestHeaders(h: Headers, ctx: ForwardContext): void {
  stripHopByHop(h);
  const xff = h.get("x-forwarded-for");
  h.set("x-forwarded-for", xff ? `${xff}, ${ctx.clientIp}` : ctx.clientIp);
  const xfp = h.get("x-forwarded-proto");
  h.set("x-forwarded-proto", xfp ? `${xfp}, ${ctx.proto}` : ctx.proto);
  if (ctx.originalHost !== null) {
    const xfh = h.get("x-forwarded-host");
    h.set("x-forwarded-host", xfh ? `${xfh}, ${ctx.originalHost}` : ctx.originalHost);
  }
  h.set("x-request-id", ctx.requestId);
  if (ctx.ops) applyOps(h, ctx.ops);
}

/** Removes the hop-by-hop fields and every field the Connection header names (either direction). */
export function stripHopByHop(h: Headers): void {
  const conn = h.get("connection");
  if (conn !== null) {
    const extra = connectionTokens(conn);
    if (extra) for (const name of extra) h.delete(name);
    h.delete("connection");
  }
  for (const name of HOP_EXCEPT_CONNECTION) h.delete(name);
}

/** Size of a header section as received: names, values and the ": " and CRLF around them. */
export function headerBytes(h: Headers): number {
  let size = 0;
  for (const [name, value] of h) size += name.length + value.length + 4;
  return size;
}

/** Removes hop-by-hop fields from an upstream response and applies the route's response ops. */
export function prepareResponseHeaders(headers: Headers, requestId: string, ops: HeaderOps | undefined): Headers {
  stripHopByHop(headers);
  if (!headers.has("x-request-id")) headers.set("x-request-id", requestId);
  if (ops) applyOps(headers, ops);
  return headers;
}

export function applyOps(headers: Headers, ops: HeaderOps): void {
  for (const name of ops.remove) headers.delete(name);
  for (const [name, value] of ops.add) headers.set(name, value);
}

const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Keeps a client's X-Request-Id when it is sane (short, token characters); otherwise makes a new one. */
export function requestIdFrom(value: string | null): string {
  return value !== null && REQUEST_ID.test(value) ? value : crypto.randomUUID();
}
