/**
 * Why an upstream exchange failed before its response head was delivered:
 * one error class with a stable `code`, for the layer above to map to a
 * response (502, 504…) in one place.
 */

/**
 * - `connect_refused`: nothing listens at the upstream's address (ECONNREFUSED)
 * - `connect_timeout`: TCP connect (and the TLS handshake) took longer than `connectTimeout`
 * - `connect_failed`: any other connect failure (DNS, TLS certificate, the pool was closed); `detail` says which
 * - `reset`: the connection closed or was reset before a whole response head came
 * - `header_timeout`: no response head within `headerTimeout` of the request
 * - `bad_response`: the response head is invalid; `detail` is the codec's code (`bad_status_line`, `head_too_large`…)
 * - `aborted`: `abort()` was called, or the request body's source failed (`detail` is its error code)
 */
export type ClientErrorCode =
  | "connect_refused"
  | "connect_timeout"
  | "connect_failed"
  | "reset"
  | "header_timeout"
  | "bad_response"
  | "aborted";

export class ClientError extends Error {
  override readonly name = "ClientError";
  readonly code: ClientErrorCode;
  /** The codec's error code for `bad_response`; for other codes, what caused it when known. */
  readonly detail: string | undefined;
  /**
   * Whether any byte of the request may have reached the upstream. When
   * false, the request certainly was not seen and may be sent again whatever
   * its method.
   */
  readonly sent: boolean;

  constructor(code: ClientErrorCode, message: string, sent: boolean, detail?: string) {
    super(message);
    this.code = code;
    this.detail = detail;
    this.sent = sent;
  }
}
