/**
 * Connection semantics read from a parsed head: whether the connection
 * persists after this message (RFC 9112 §9.3), the connection options a
 * proxy must strip (RFC 9110 §7.6.1), Upgrade offers (RFC 9110 §7.8) and the
 * request's expectation (RFC 9110 §10.1.1).
 */
import { listTokens, nameIs } from "./fields.ts";
import type { RequestHead, ResponseHead } from "./head.ts";

export interface ConnectionInfo {
  /** Another message may follow on this connection: HTTP/1.1 without `close`, or HTTP/1.0 with `keep-alive` (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** Every Connection option, lowercased, in order (`close`, `keep-alive`, `upgrade` and names of hop-by-hop fields). */
  readonly options: readonly string[];
  /**
   * The protocols of Upgrade, lowercased, when the message is HTTP/1.1 and
   * Connection lists `upgrade` (RFC 9110 §7.8: a sender must list it; an
   * Upgrade in HTTP/1.0 is ignored); otherwise empty.
   */
  readonly upgrade: readonly string[];
}

const EMPTY: readonly string[] = Object.freeze([]);
const PERSISTENT_11: ConnectionInfo = Object.freeze({ keepAlive: true, options: EMPTY, upgrade: EMPTY });
const CLOSING_10: ConnectionInfo = Object.freeze({ keepAlive: false, options: EMPTY, upgrade: EMPTY });
const KEEP_ALIVE = Object.freeze(["keep-alive"]);
const CLOSE = Object.freeze(["close"]);
const KEEP_ALIVE_INFO: ConnectionInfo = Object.freeze({ keepAlive: true, options: KEEP_ALIVE, upgrade: EMPTY });
const CLOSE_INFO: ConnectionInfo = Object.freeze({ keepAlive: false, options: CLOSE, upgrade: EMPTY });

/** Connection semantics of a request or response head. */
export function connectionInfo(head: RequestHead | ResponseHead): ConnectionInfo {
  let count = 0;
  let value = "";
  for (let i = 0; i < head.fields.length; i += 2) {
    const name = head.fields[i]!;
    if (name.length === 10 && nameIs(name, "connection")) {
      count++;
      value = head.fields[i + 1]!;
    }
  }
  if (count === 0) return head.version === 1 ? PERSISTENT_11 : CLOSING_10;
  // The common single values, without building lists.
  if (count === 1 && nameIs(value, "close")) return CLOSE_INFO;
  if (count === 1 && nameIs(value, "keep-alive")) return KEEP_ALIVE_INFO;
  const options = listTokens(head.fields, "connection");
  const close = options.includes("close");
  const keepAlive = !close && (head.version === 1 || options.includes("keep-alive"));
  const upgrade = head.version === 1 && options.includes("upgrade") ? listTokens(head.fields, "upgrade") : EMPTY;
  return { keepAlive, options, upgrade };
}

/**
 * What a request expects before sending its body (RFC 9110 §10.1.1):
 * `continue` for `Expect: 100-continue` (answer 100 Continue, or a final
 * status, before reading the body), `unsupported` for any other expectation
 * (a server may answer 417), `none` otherwise. An expectation in an HTTP/1.0
 * request is ignored, as the RFC requires.
 */
export function expectation(head: RequestHead): "none" | "continue" | "unsupported" {
  if (head.version === 0) return "none";
  const items = listTokens(head.fields, "expect");
  if (items.length === 0) return "none";
  for (const item of items) if (item !== "100-continue") return "unsupported";
  return "continue";
}
