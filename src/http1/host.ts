/**
 * The authority a request is for, and the Host checks of RFC 9112 §3.2: an
 * HTTP/1.1 request carries exactly one Host field, whose value is
 * `uri-host [":" port]`; an absolute-form target's authority overrides Host
 * (§3.2.2), and a CONNECT target is the authority itself (§3.2.3).
 */
import { absoluteAuthority, hostProblem } from "./authority.ts";
import { type CodecError, codecError } from "./errors.ts";
import { nameIs } from "./fields.ts";
import type { RequestHead } from "./head.ts";

export type HostErrorCode = "missing_host" | "multiple_host" | "bad_host";
export type HostError = CodecError<HostErrorCode>;

const MISSING = codecError(400, "missing_host", "an HTTP/1.1 request without a Host field (RFC 9112 §3.2)");
const MULTIPLE = codecError(400, "multiple_host", "more than one Host field (RFC 9112 §3.2)");
const BAD = codecError(400, "bad_host", "the Host value is not uri-host [\":\" port] (RFC 9112 §3.2, RFC 3986 §3.2)");

export type AuthorityResult = { readonly kind: "ok"; readonly authority: string } | HostError;

/**
 * Checks Host and returns the request's authority: the target of CONNECT,
 * the authority of an absolute-form target (a conflicting Host is ignored,
 * as RFC 9112 §3.2.2 requires; a proxy forwarding the request must send this
 * authority as Host), else the Host value ("" for HTTP/1.0 without Host).
 * The target's own syntax was checked by the head parser.
 */
export function requestAuthority(head: RequestHead): AuthorityResult {
  let host: string | undefined;
  let count = 0;
  const fields = head.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.length === 4 && nameIs(name, "host")) {
      count++;
      host = fields[i + 1]!;
    }
  }
  if (count > 1) return MULTIPLE;
  if (host === undefined) {
    if (head.version === 1) return MISSING;
  } else if (hostProblem(host, false, false) !== undefined) {
    return BAD;
  }
  if (head.method === "CONNECT") return { kind: "ok", authority: head.target };
  if (head.target.charCodeAt(0) !== 0x2f) {
    const auth = absoluteAuthority(head.target);
    if (auth !== undefined) return { kind: "ok", authority: head.target.slice(auth.start, auth.end) };
  }
  return { kind: "ok", authority: host ?? "" };
}
