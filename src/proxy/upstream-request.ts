/**
 * The upstream request as the route wants it: X-Forwarded-For/-Proto/-Host
 * appended, X-Request-Id set, the route's header operations applied, and the
 * path rewritten. Runs before the layers that copy the request (shadow,
 * recording), so they see what legacy is sent.
 */
import type { Exchange } from "../pipeline/exchange.ts";
import { appendToField, setField } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { RuntimeRoute } from "../routing/route-table.ts";
import { applyOps } from "./forward-layer.ts";

export const upstreamRequestLayer: Layer = {
  name: "upstream-request",
  request(ex: Exchange): undefined {
    const route = ex.route as RuntimeRoute;
    const fields = ex.fields;
    appendToField(fields, "x-forwarded-for", ex.peer.address);
    appendToField(fields, "x-forwarded-proto", ex.tls ? "https" : "http");
    if (ex.hostField !== undefined) appendToField(fields, "x-forwarded-host", ex.hostField);
    setField(fields, "x-request-id", ex.id);
    if (route.requestOps) applyOps(fields, route.requestOps);
    ex.upstreamTarget = (route.rewrite ? route.rewrite(ex.path, ex.params ?? {}) : ex.path) + ex.query;
    return undefined;
  },
};
