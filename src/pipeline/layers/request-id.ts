/**
 * Request ids: a client's X-Request-Id is kept when it is sane (1–128 token
 * characters), otherwise the gateway makes one. The id goes upstream, into
 * every log line and error body, and back to the client.
 */
import type { Exchange, Reply } from "../exchange.ts";
import { getField, hasField } from "../fields.ts";
import type { Layer } from "../layer.ts";

const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Keeps a client's X-Request-Id when it is sane; otherwise makes a new one. */
export function requestIdFrom(value: string | undefined | null): string {
  return value !== null && value !== undefined && REQUEST_ID.test(value) ? value : crypto.randomUUID();
}

export const requestIdLayer: Layer = {
  name: "request-id",
  request(ex: Exchange): undefined {
    ex.id = requestIdFrom(getField(ex.fields, "x-request-id"));
    return undefined;
  },
  response(ex: Exchange, reply: Reply): void {
    if (reply.status !== 499 && !hasField(reply.fields, "x-request-id")) reply.fields.push("x-request-id", ex.id);
  },
};
