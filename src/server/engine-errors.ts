/**
 * The bodies of the responses the HTTP/1.1 engine writes itself, for requests
 * it refuses before any layer sees them (a malformed head, a head too large,
 * an unsupported version or coding, a client too slow to send its head): the
 * same JSON error as every other rejection, with a FICUS_* code.
 */
import { type ErrorCode, errorBody } from "../core/errors.ts";

const BY_STATUS: Record<number, ErrorCode> = {
  400: "FICUS_BAD_REQUEST",
  408: "FICUS_CLIENT_TIMEOUT",
  413: "FICUS_BODY_TOO_LARGE",
  414: "FICUS_URI_TOO_LONG",
  417: "FICUS_EXPECTATION_FAILED",
  431: "FICUS_HEADERS_TOO_LARGE",
  501: "FICUS_NOT_IMPLEMENTED",
  505: "FICUS_HTTP_VERSION",
};

/** `code` is the engine's (e.g. "bad_field_name"), `reason` its sentence; both go into the message. */
export function engineErrorResponse(status: number, code: string, reason: string): { fields: string[]; body: string } {
  const ficus = BY_STATUS[status] ?? "FICUS_INTERNAL";
  return {
    fields: ["content-type", "application/json", "cache-control", "no-store"],
    body: errorBody(ficus, `${reason} (${code})`, ""),
  };
}
