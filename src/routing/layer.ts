/**
 * The routing layer: finds the route for the exchange's host, path, method
 * and headers in the current route table (the most specific match, else the
 * default route, else 404), and points the exchange at the route's upstream.
 * A reload swaps the table; an exchange keeps the route it was given.
 */
import { errorReply, type Exchange, type Reply } from "../pipeline/exchange.ts";
import { getFieldList } from "../pipeline/fields.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { RouteTable } from "./route-table.ts";

export class RoutingLayer implements Layer {
  readonly name = "routing";
  constructor(public table: RouteTable) {}

  request(ex: Exchange): Reply | undefined {
    const table = this.table;
    const fields = ex.fields;
    const matched = table.router.match({ host: ex.host, path: ex.path, method: ex.method, header: (n) => getFieldList(fields, n) ?? null });
    const route = matched?.value ?? table.defaultRoute;
    if (route === undefined) {
      ex.error = "FICUS_ROUTE_NOT_FOUND";
      return errorReply("FICUS_ROUTE_NOT_FOUND", `no route for ${ex.method} ${ex.path}${ex.host ? ` on host ${ex.host}` : ""}`, ex.id);
    }
    ex.route = route;
    ex.params = matched?.params;
    ex.upstream = route.legacyPool;
    return undefined;
  }
}
