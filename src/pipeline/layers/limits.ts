/**
 * Limits on what a client may ask, before any route is looked up: the length
 * of the target and of the header section (limits.*), and the request forms
 * the gateway does not serve — CONNECT (no route tunnels) and absolute-form
 * targets (Ficus is a reverse proxy, not a forward one).
 */
import type { Exchange, Reply } from "../exchange.ts";
import { errorReply } from "../exchange.ts";
import { fieldsBytes } from "../fields.ts";
import type { Layer } from "../layer.ts";

export interface Limits {
  readonly maxUrl: number;
  readonly maxHeader: number;
}

export class LimitsLayer implements Layer {
  readonly name = "limits";
  constructor(public limits: Limits) {}

  request(ex: Exchange): Reply | undefined {
    const { maxUrl, maxHeader } = this.limits;
    if (ex.method === "CONNECT") {
      ex.error = "FICUS_METHOD_NOT_ALLOWED";
      return errorReply("FICUS_METHOD_NOT_ALLOWED", "CONNECT is not served: no route tunnels", ex.id, ["allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"]);
    }
    const target = ex.target;
    if (target.charCodeAt(0) !== 47 /* / */ && target !== "*") {
      ex.error = "FICUS_BAD_REQUEST";
      return errorReply("FICUS_BAD_REQUEST", "absolute-form request targets are not served (this is a reverse proxy); send the path with a Host header", ex.id);
    }
    if (target.length > maxUrl) {
      ex.error = "FICUS_URI_TOO_LONG";
      return errorReply("FICUS_URI_TOO_LONG", `request target is ${target.length} bytes; the limit is ${maxUrl}`, ex.id);
    }
    const size = fieldsBytes(ex.fields);
    if (size > maxHeader) {
      ex.error = "FICUS_HEADERS_TOO_LARGE";
      return errorReply("FICUS_HEADERS_TOO_LARGE", `request headers are ${size} bytes; the limit is ${maxHeader}`, ex.id);
    }
    return undefined;
  }
}
