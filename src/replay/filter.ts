/**
 * `ficus replay --filter`: which recorded exchanges to replay. Each filter is
 * FIELD OP VALUE; several filters must all hold.
 *
 *   FIELD  method | path | host | route | status | header:NAME
 *   OP     =  equals one of a comma-separated list (method=GET,HEAD)
 *          != equals none of them
 *          ^= starts with (path^=/api/orders)
 *          ~  matches a regular expression (path~^/orders/\d+$)
 *          !~ does not match it
 *
 * Regular expressions run on RE2 (core/regex.ts): linear time in the
 * field, whatever the pattern, so a filter like `path~(a+)+$` cannot stall a
 * replay; backreferences and lookaround are refused as usage errors.
 *
 * `path` is the path without the query; `status` is the recorded status
 * (an exchange without a recorded response has none, and only != or !~ hold).
 */
import { FicusError } from "../core/errors.ts";
import { compileUserRegex, headerIn, type UserRegex, UserRegexError } from "../compare/index.ts";
import type { RecordedExchange } from "./exchange.ts";

export type Filter = (e: RecordedExchange, route: string) => boolean;

const FORM = /^(method|path|host|route|status|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+?)\s*(!=|\^=|!~|=|~)\s*(.*)$/s;

function field(name: string, e: RecordedExchange, route: string): string | undefined {
  switch (name) {
    case "method":
      return e.request.method;
    case "path": {
      const q = e.request.target.indexOf("?");
      return q < 0 ? e.request.target : e.request.target.slice(0, q);
    }
    case "host":
      return e.request.host;
    case "route":
      return route;
    case "status":
      return e.response ? String(e.response.status) : undefined;
    default:
      return headerIn(e.request.headers, name.slice("header:".length).toLowerCase());
  }
}

export function parseFilter(expr: string): Filter {
  const m = FORM.exec(expr.trim());
  if (!m) {
    throw new FicusError("FICUS_USAGE", `--filter ${JSON.stringify(expr)}: expected FIELD OP VALUE with FIELD method, path, host, route, status or header:NAME and OP =, !=, ^=, ~ or !~`);
  }
  const [, name, op, value] = m as unknown as [string, string, string, string];
  const ci = name === "method" || name === "host";
  const norm = (s: string) => (ci ? s.toLowerCase() : s);
  if (op === "~" || op === "!~") {
    let re: UserRegex;
    try {
      re = compileUserRegex(value, ci ? "i" : "");
    } catch (err) {
      if (!(err instanceof UserRegexError)) throw err;
      throw new FicusError("FICUS_USAGE", `--filter ${JSON.stringify(expr)}: invalid regular expression (${err.reason})`);
    }
    return (e, r) => {
      const v = field(name, e, r);
      const hit = v !== undefined && re.test(v);
      return op === "~" ? hit : !hit;
    };
  }
  const set = new Set(value.split(",").map((v) => norm(v.trim())));
  return (e, r) => {
    const v = field(name, e, r);
    if (op === "^=") return v !== undefined && norm(v).startsWith(norm(value));
    const hit = v !== undefined && set.has(norm(v));
    return op === "=" ? hit : !hit;
  };
}
