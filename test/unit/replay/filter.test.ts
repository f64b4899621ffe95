/** `--filter` expressions, table-driven. */
import { expect, test } from "bun:test";
import type { RecordedExchange } from "../../../src/replay/exchange.ts";
import { FicusError } from "../../../src/core/errors.ts";
import { parseFilter } from "../../../src/replay/filter.ts";

const ex = (method: string, target: string, status?: number, headers: [string, string][] = [], host = "api.test"): RecordedExchange => ({
  time: 0,
  route: undefined,
  request: { method, target, host, headers, body: undefined },
  response: status === undefined ? undefined : { status, headers: [], body: new Uint8Array(), durationMs: 1 },
  file: "f",
  line: 1,
});

const get = ex("GET", "/api/orders/7?x=1", 200, [["X-Tenant", "acme"]]);
const post = ex("POST", "/api/orders", undefined);

const CASES: [string, RecordedExchange, string, boolean][] = [
  ["method=GET", get, "r", true],
  ["method=get,head", get, "r", true],
  ["method=GET,HEAD", post, "r", false],
  ["method!=POST", get, "r", true],
  ["method!=POST", post, "r", false],
  ["path=/api/orders/7", get, "r", true],
  ["path^=/api/", get, "r", true],
  ["path^=/API/", get, "r", false],
  ["path~^/api/orders/\\d+$", get, "r", true],
  ["path!~^/api/orders/\\d+$", post, "r", true],
  ["host=API.test", get, "r", true],
  ["route=orders", get, "orders", true],
  ["route=orders", get, "other", false],
  ["status=200", get, "r", true],
  ["status=200", post, "r", false],
  ["status!=200", post, "r", true],
  ["status~^5", post, "r", false],
  ["status!~^5", post, "r", true],
  ["header:x-tenant=acme", get, "r", true],
  ["header:X-Tenant = acme", get, "r", true],
  ["header:x-tenant=acme", post, "r", false],
  ["header:x-tenant!=acme", post, "r", true],
  ["header:x-tenant^=ac", get, "r", true],
];

test.each(CASES)("%p on %#", (expr, e, route, want) => {
  expect(parseFilter(expr)(e, route)).toBe(want);
});

test.each([["colour=red"], ["method"], ["path~("], ["header:=x"]])("%p is a usage error", (expr) => {
  expect(() => parseFilter(expr)).toThrow(/--filter/);
});

test("regression: path~(a+)+$ against 40 a's and a '!' finishes at once (RE2, linear time)", () => {
  const f = parseFilter("path~(a+)+$");
  const e = ex("GET", `/${"a".repeat(40)}!`, 200);
  const t0 = performance.now();
  expect(f(e, "r")).toBe(false);
  expect(performance.now() - t0).toBeLessThan(100);
  expect(parseFilter("path!~(a+)+$")(e, "r")).toBe(true);
});

test.each([
  ["path~(a)\\1", /--filter "path~\(a\)\\\\1": invalid regular expression \(backreferences are not supported/],
  ["path~(?=a)b", /invalid regular expression \(lookahead and lookbehind are not supported/],
  ["path~(?<!a)b", /invalid regular expression \(lookahead and lookbehind are not supported/],
])("%p is a usage error naming what RE2 lacks", (expr, why) => {
  let err: unknown;
  try {
    parseFilter(expr);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FicusError);
  expect((err as FicusError).code).toBe("FICUS_USAGE");
  expect((err as FicusError).message).toMatch(why);
});
