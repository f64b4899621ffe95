import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type RouteMatcher, Router, removeDotSegments, type RequestFacts } from "../../src/routing/router.ts";

function facts(path: string, opts: { host?: string; method?: string; headers?: Record<string, string> } = {}): RequestFacts {
  const h = opts.headers ?? {};
  return { host: opts.host ?? "", path, method: opts.method ?? "GET", header: (n) => h[n] ?? null };
}

function router(routes: [string, RouteMatcher][]): Router<string> {
  return new Router(routes.map(([name, match], order) => ({ value: name, match, order })));
}

describe("precedence", () => {
  const r = router([
    ["catch-all", { prefix: "/" }],
    ["api", { prefix: "/api" }],
    ["api-v1", { prefix: "/api/v1/" }],
    ["orders-id", { path: "/api/v1/orders/:id" }],
    ["orders-new", { path: "/api/v1/orders/new" }],
    ["orders-items", { path: "/api/v1/orders/:id/items" }],
    ["orders-any", { path: "/api/v1/orders/*" }],
    ["files", { path: "/files/*" }],
    ["exact", { path: "/api/v1/orders/special" }],
    ["post-orders", { path: "/api/v1/orders/:id", methods: ["POST"] }],
    ["beta", { path: "/api/v1/orders/:id", headers: [{ name: "x-beta", value: "1" }] }],
    ["host", { host: "admin.example.com", prefix: "/" }],
    ["wild", { host: "*.example.com", prefix: "/api" }],
    ["deep-wild", { host: "*.eu.example.com", prefix: "/api" }],
    ["no-auth", { prefix: "/private", headers: [{ name: "authorization", value: false }] }],
    ["auth", { prefix: "/private", headers: [{ name: "authorization", value: true }] }],
  ]);
  const cases: [string, RequestFacts, string | undefined, Record<string, string>?][] = [
    ["root goes to the catch-all", facts("/"), "catch-all"],
    ["prefix on a segment boundary", facts("/api"), "api"],
    ["prefix does not match inside a segment", facts("/apix"), "catch-all"],
    ["longest prefix wins", facts("/api/v1/users"), "api-v1"],
    ["trailing slash in prefix is a boundary", facts("/api/v1"), "api-v1"],
    ["template beats prefix", facts("/api/v1/orders/42"), "orders-id", { id: "42" }],
    ["static segment beats parameter", facts("/api/v1/orders/new"), "orders-new"],
    ["exact path beats templates", facts("/api/v1/orders/special"), "exact"],
    ["longer template", facts("/api/v1/orders/42/items"), "orders-items", { id: "42" }],
    ["wildcard catches deeper paths", facts("/api/v1/orders/42/items/7"), "orders-any", { "*": "42/items/7" }],
    ["wildcard with an empty rest", facts("/files/"), "files", { "*": "" }],
    ["wildcard needs its slash", facts("/files"), "catch-all"],
    ["more conditions first: method", facts("/api/v1/orders/42", { method: "POST" }), "post-orders", { id: "42" }],
    ["more conditions first: header", facts("/api/v1/orders/42", { headers: { "x-beta": "1" } }), "beta", { id: "42" }],
    ["header value must equal", facts("/api/v1/orders/42", { headers: { "x-beta": "2" } }), "orders-id", { id: "42" }],
    ["parameter needs a non-empty segment", facts("/api/v1/orders/"), "orders-any", { "*": "" }],
    ["exact host beats everything", facts("/api/v1/orders/42", { host: "admin.example.com" }), "host"],
    ["wildcard host", facts("/api/x", { host: "shop.example.com" }), "wild"],
    ["longest wildcard host first", facts("/api/x", { host: "a.eu.example.com" }), "deep-wild"],
    ["wildcard host needs a subdomain", facts("/api/x", { host: "example.com" }), "api"],
    ["a host route that does not match falls back to any-host routes", facts("/other", { host: "shop.example.com" }), "catch-all"],
    ["header absent", facts("/private/x"), "no-auth"],
    ["header present", facts("/private/x", { headers: { authorization: "Bearer x" } }), "auth"],
  ];
  for (const [name, req, want, params] of cases) {
    test(name, () => {
      const m = r.match(req);
      expect(m?.value).toBe(want as string);
      if (params) expect(m?.params).toEqual(params);
    });
  }

  test("no match without a catch-all", () => {
    const r2 = router([["a", { path: "/a" }], ["b", { prefix: "/b" }]]);
    expect(r2.match(facts("/c"))).toBeUndefined();
    expect(r2.match(facts("/a/x"))).toBeUndefined();
  });

  test("file order breaks ties", () => {
    const r2 = router([["first", { prefix: "/x" }], ["second", { prefix: "/x" }]]);
    expect(r2.match(facts("/x/1"))?.value).toBe("first");
  });

  test("a method condition falls through to a less specific route", () => {
    const r2 = router([["get-only", { path: "/a/:id", methods: ["GET"] }], ["fallback", { prefix: "/a" }]]);
    expect(r2.match(facts("/a/1", { method: "DELETE" }))?.value).toBe("fallback");
  });
});

describe("dot segments (RFC 3986 §5.2.4)", () => {
  const cases: [string, string][] = [
    ["/a/b/../c", "/a/c"],
    ["/a/./b", "/a/b"],
    ["/../../etc/passwd", "/etc/passwd"],
    ["/a/b/..", "/a/"],
    ["/a/%2e%2e/b", "/b"],
    ["/a/.", "/a/"],
  ];
  for (const [input, want] of cases) test(input, () => expect(removeDotSegments(input)).toBe(want));
});

// --- property: the trie agrees with a brute-force reading of the documented precedence ---

type Seg = { kind: "static"; text: string } | { kind: "param" } | { kind: "wild" };

function refMatch(routes: { name: string; match: RouteMatcher; order: number }[], req: RequestFacts): string | undefined {
  const segs = req.path.split("/").slice(1);
  let best: { key: number[]; name: string } | undefined;
  for (const r of routes) {
    const m = r.match;
    if (m.methods && !m.methods.includes(req.method)) continue;
    if (m.headers?.some((h) => (h.value === true ? req.header(h.name) === null : h.value === false ? req.header(h.name) !== null : req.header(h.name) !== h.value))) continue;
    let cls: number[];
    if (m.path !== undefined && !m.path.includes("/:") && !m.path.endsWith("/*")) {
      if (m.path !== req.path) continue;
      cls = [0];
    } else if (m.path !== undefined) {
      const t: Seg[] = m.path.split("/").slice(1).map((s) => (s === "*" ? { kind: "wild" } : s.startsWith(":") ? { kind: "param" } : { kind: "static", text: s }));
      let ok = true;
      const key: number[] = [];
      for (let i = 0; i < t.length; i++) {
        const s = t[i] as Seg;
        if (s.kind === "wild") {
          ok = i < segs.length;
          key.push(2);
          break;
        }
        const v = segs[i];
        if (v === undefined || (s.kind === "static" && v !== s.text) || (s.kind === "param" && v === "")) {
          ok = false;
          break;
        }
        key.push(s.kind === "static" ? 0 : 1);
      }
      if (!ok || (t[t.length - 1]?.kind !== "wild" && t.length !== segs.length)) continue;
      // A template ending earlier (with "*") loses to one that continues at that depth.
      cls = [1, ...key.map((k) => k), 3];
    } else {
      const p = (m.prefix ?? "/").split("/").slice(1).filter((s, i, all) => !(s === "" && i === all.length - 1));
      if (p.some((s, i) => segs[i] !== s)) continue;
      cls = [2, -p.length];
    }
    const weight = (m.methods ? 1 : 0) + (m.headers?.length ?? 0);
    const key = [...cls, -weight, r.order];
    if (!best || compareKeys(key, best.key) < 0) best = { key, name: r.name };
  }
  return best?.name;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return x - y;
  }
  return 0;
}

const segArb = fc.constantFrom("a", "b", "c");
const templateArb = fc
  .array(fc.oneof(segArb, fc.constant(":p"), fc.constant("*")), { minLength: 1, maxLength: 4 })
  .map((segs) => {
    const i = segs.indexOf("*");
    return `/${(i >= 0 ? segs.slice(0, i + 1) : segs).join("/")}`;
  });
const matcherArb: fc.Arbitrary<RouteMatcher> = fc.oneof(
  templateArb.map((path) => ({ path })),
  fc.array(segArb, { maxLength: 3 }).map((s) => ({ prefix: `/${s.join("/")}` })),
  fc.record({ path: templateArb, methods: fc.constant(["POST"]) }),
  fc.record({ prefix: fc.array(segArb, { maxLength: 2 }).map((s) => `/${s.join("/")}`), headers: fc.constant([{ name: "x-h", value: "1" }]) }),
);
const pathArb = fc.array(fc.oneof(segArb, fc.constant("")), { minLength: 1, maxLength: 5 }).map((s) => `/${s.join("/")}`);

test("property: the router agrees with a brute-force reference", () => {
  fc.assert(
    fc.property(
      fc.array(matcherArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.record({ path: pathArb, post: fc.boolean(), h: fc.boolean() }), { minLength: 1, maxLength: 20 }),
      (matchers, requests) => {
        const routes = matchers.map((match, order) => ({ name: `r${order}`, match, order }));
        const r = new Router(routes.map((x) => ({ value: x.name, match: x.match, order: x.order })));
        for (const q of requests) {
          const req = facts(q.path, { method: q.post ? "POST" : "GET", headers: q.h ? { "x-h": "1" } : {} });
          expect(r.match(req)?.value).toBe(refMatch(routes, req) as string);
        }
      },
    ),
    { numRuns: 500 },
  );
});
