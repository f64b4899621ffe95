/**
 * The one error shape of the HTTP/1.1 codec: a stable `code`, the `status`
 * to answer with (4xx/5xx to a client for request errors, 502 for errors in
 * an upstream's response) and a `reason` for logs. Errors are frozen
 * constants, so refusing a message allocates nothing. Every code is listed
 * with its status in src/http1/README.md.
 */

export interface CodecError<C extends string = string> {
  readonly kind: "error";
  readonly status: number;
  readonly code: C;
  readonly reason: string;
}

/** A frozen error object. */
export function codecError<C extends string>(status: number, code: C, reason: string): CodecError<C> {
  return Object.freeze({ kind: "error", status, code, reason });
}

/**
 * One frozen error per code, for the request side (status from the table) and
 * the response side (status 502, RFC 9112 §6.3: a proxy answers an invalid
 * response with Bad Gateway).
 */
export function errorTables<C extends string>(table: Record<C, readonly [number, string]>): {
  request: Record<C, CodecError<C>>;
  response: Record<C, CodecError<C>>;
} {
  const request = {} as Record<C, CodecError<C>>;
  const response = {} as Record<C, CodecError<C>>;
  for (const code of Object.keys(table) as C[]) {
    const [status, reason] = table[code];
    request[code] = codecError(status, code, reason);
    response[code] = codecError(502, code, reason);
  }
  return { request, response };
}
