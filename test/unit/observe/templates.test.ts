/** Endpoint discovery: which segments become parameters, cardinality collapse, caps, precedence of overrides and routes, snapshots and merges. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FicusError } from "../../../src/core/errors.ts";
import { idKind } from "../../../src/observe/segments.ts";
import { listTemplates, OTHER, TemplateLearner, type TemplatesSnapshot, templateMatches } from "../../../src/observe/templates.ts";

describe("idKind", () => {
  const cases: [string, ReturnType<typeof idKind>][] = [
    ["123", "numeric"],
    ["0", "numeric"],
    ["550e8400-e29b-41d4-a716-446655440000", "uuid"],
    ["550E8400-E29B-41D4-A716-446655440000", "uuid"],
    ["deadbeef12", "hex"],
    ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "hex"],
    ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "token"],
    ["dGhpcyBpcyBhIHRva2VuMTIz", "token"],
    ["aZ9_x-Q2kLmN0pR7sT", "token"],
    ["2024-05-01", "date"],
    ["2024-05-01T10:00:00Z", "date"],
    ["my-post-123", "slug"],
    ["ORD-2024-0042", "slug"],
    ["item_7", "slug"],
    ["joe@example.com", "email"],
    ["joe%40example.com", undefined],
    // Words, versions and names with digits stay literal.
    ["orders", undefined],
    ["v1", undefined],
    ["v2", undefined],
    ["V3", undefined],
    ["v1.2", undefined],
    ["oauth2", undefined],
    ["oauth2-login-callback", undefined],
    ["getting-started", undefined],
    ["facade", undefined],
    ["deadbeef", undefined],
    ["abc123", undefined],
    ["2024-13-01", "slug"],
    ["me@localhost", undefined],
    ["", undefined],
  ];
  for (const [seg, kind] of cases) test(`${JSON.stringify(seg)} → ${kind ?? "literal"}`, () => expect(idKind(seg)).toBe(kind));
});

describe("TemplateLearner.templateOf", () => {
  const cases: { name: string; learn?: string[]; path: string; expect: string; method?: string }[] = [
    { name: "numeric id", path: "/orders/123", expect: "/orders/{id}" },
    { name: "two numeric ids", path: "/orders/123/items/7", expect: "/orders/{id}/items/{id}" },
    { name: "uuid", path: "/users/550e8400-e29b-41d4-a716-446655440000", expect: "/users/{id}" },
    { name: "hash", path: "/blobs/9f86d081884c7d65", expect: "/blobs/{id}" },
    { name: "date", path: "/reports/2024-05-01/summary", expect: "/reports/{id}/summary" },
    { name: "slug with digits", path: "/posts/hello-world-42", expect: "/posts/{id}" },
    { name: "email", path: "/accounts/ann@example.com/settings", expect: "/accounts/{id}/settings" },
    { name: "ulid", path: "/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", expect: "/events/{id}" },
    { name: "words stay literal", path: "/orders/recent", expect: "/orders/recent" },
    { name: "versions stay literal", path: "/v1/orders/5", expect: "/v1/orders/{id}" },
    { name: "v2 next to v1", learn: ["/v1/orders/5"], path: "/v2/orders/6", expect: "/v2/orders/{id}" },
    { name: "a literal beats the parameter it sits beside", learn: ["/orders/1", "/orders/2"], path: "/orders/export", expect: "/orders/export" },
    { name: "the query and fragment are not the path", path: "/orders/12?expand=items#top", expect: "/orders/{id}" },
    { name: "empty segments and a trailing slash are ignored", path: "//orders//12/", expect: "/orders/{id}" },
    { name: "root", path: "/", expect: "/" },
    { name: "empty path is the root", path: "", expect: "/" },
    { name: "a segment spelled like a parameter is one", path: "/orders/{id}", expect: "/orders/{id}" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const l = new TemplateLearner();
      for (const p of c.learn ?? []) l.templateOf("GET", p);
      expect(l.templateOf(c.method ?? "GET", c.path)).toBe(c.expect);
      expect(templateMatches(c.expect, c.path)).toBe(true);
    });
  }

  test("a position with more distinct words than maxDistinct collapses, and earlier templates map to the collapsed one", () => {
    const l = new TemplateLearner({ maxDistinct: 8 });
    const names = Array.from({ length: 9 }, (_, i) => `user${String.fromCharCode(97 + i)}name`);
    const before = names.slice(0, 8).map((n) => l.templateOf("GET", `/people/${n}/profile`));
    expect(before).toEqual(names.slice(0, 8).map((n) => `/people/${n}/profile`));
    expect(l.templateOf("GET", `/people/${names[8]}/profile`)).toBe("/people/{id}/profile");
    expect(l.templateOf("GET", "/people/zed/profile")).toBe("/people/{id}/profile");
    expect(l.canonical("GET", before[0] as string)).toBe("/people/{id}/profile");
    expect(l.list()).toEqual(["/people/{id}/profile"]);
  });

  test("very high cardinality: 5,000 distinct words under one prefix give one template", () => {
    const l = new TemplateLearner();
    for (let i = 0; i < 5000; i++) l.templateOf("GET", `/tags/${word(i)}`);
    expect(l.list()).toEqual(["/tags/{id}"]);
    expect(l.stats().nodes).toBe(3);
  });

  test("past maxTemplates new shapes go to (other), counted; known ones keep their template", () => {
    const l = new TemplateLearner({ maxTemplates: 3 });
    expect(["/a", "/b", "/c"].map((p) => l.templateOf("GET", p))).toEqual(["/a", "/b", "/c"]);
    expect(l.templateOf("GET", "/d")).toBe(OTHER);
    expect(l.templateOf("GET", "/e/1")).toBe(OTHER);
    expect(l.templateOf("GET", "/b")).toBe("/b");
    expect(l.stats().overflow.templates).toBe(2);
    expect(l.stats().templates).toBe(3);
  });

  test("paths past maxPathLength or maxSegments are (other)", () => {
    const l = new TemplateLearner({ maxPathLength: 20, maxSegments: 3 });
    expect(l.templateOf("GET", `/${"x".repeat(30)}`)).toBe(OTHER);
    expect(l.templateOf("GET", `/ok?${"q".repeat(100)}`)).toBe("/ok");
    expect(l.templateOf("GET", "/a/b/c/d")).toBe(OTHER);
    expect(l.templateOf("GET", "/a/b/c")).toBe("/a/b/c");
    expect(l.stats().overflow).toMatchObject({ length: 1, segments: 1 });
  });

  test("the node cap bounds deep random paths", () => {
    const l = new TemplateLearner({ maxNodes: 50 });
    for (let i = 0; i < 2000; i++) l.templateOf("GET", `/${word(i)}/${word(i * 7)}/${word(i * 13)}`);
    expect(l.stats().nodes).toBeLessThanOrEqual(50);
  });
});

describe("precedence: overrides, then route templates, then learning", () => {
  const l = new TemplateLearner({
    overrides: ["/users/{user}/repos/{repo}", "/items/{item}", "POST /search/{q}"],
    routes: ["/items/:sku", "/orders/:orderId", "/static/*", { template: "/search/:term", methods: ["GET"] }],
  });
  const cases: [string, string, string][] = [
    ["GET", "/users/ann/repos/ficus", "/users/{user}/repos/{repo}"],
    ["GET", "/users/42/repos/7", "/users/{user}/repos/{repo}"],
    ["GET", "/items/4711", "/items/{item}"],
    ["GET", "/orders/abc", "/orders/{orderId}"],
    ["GET", "/static/css/site.css", "/static/*"],
    ["GET", "/static", "/static/*"],
    ["POST", "/search/shoes", "/search/{q}"],
    ["GET", "/search/shoes", "/search/{term}"],
    ["DELETE", "/search/shoes", "/search/shoes"],
    ["GET", "/users/ann", "/users/ann"],
  ];
  for (const [method, path, expected] of cases) {
    test(`${method} ${path} → ${expected}`, () => {
      expect(l.templateOf(method, path)).toBe(expected);
      expect(templateMatches(expected, path)).toBe(true);
    });
  }
  test("configured templates are not learned", () => expect(l.list()).toEqual(["/search/shoes", "/users/ann"]));

  test("bad configured templates are refused with FICUS_CONFIG_INVALID", () => {
    for (const bad of ["users/{id}", "/a/*/b", "/a/{}", "/a/x{id}", "GET,  /x", "G3T /x"]) {
      let err: unknown;
      try {
        new TemplateLearner({ overrides: [bad] });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FicusError);
      expect((err as FicusError).code).toBe("FICUS_CONFIG_INVALID");
    }
    expect(() => new TemplateLearner({ maxTemplates: 0 })).toThrow(FicusError);
  });
});

describe("snapshots", () => {
  test("snapshot → JSON → seed gives the same templates", () => {
    const a = new TemplateLearner({ maxDistinct: 4 });
    for (const p of ["/orders/1", "/orders/recent", "/users/a/x", "/users/b/x", "/users/c/x", "/users/d/x", "/users/e/x", "/v1/health"]) a.templateOf("GET", p);
    const snap: TemplatesSnapshot = JSON.parse(JSON.stringify(a.snapshot()));
    const b = new TemplateLearner({ maxDistinct: 4, seed: snap });
    expect(b.list()).toEqual(a.list());
    expect(b.templateOf("GET", "/users/zz/x")).toBe("/users/{id}/x");
    expect(b.templateOf("GET", "/orders/recent")).toBe("/orders/recent");
  });

  test("merging collapses a position the union makes too wide; stale templates map to the merged ones", () => {
    const a = new TemplateLearner({ maxDistinct: 3 });
    const b = new TemplateLearner({ maxDistinct: 3 });
    for (const n of ["ann", "bob"]) a.templateOf("GET", `/people/${n}`);
    for (const n of ["cy", "dee"]) b.templateOf("GET", `/people/${n}`);
    const merged = TemplateLearner.merge(a.snapshot(), b.snapshot());
    expect(listTemplates(merged)).toEqual(["/people/{id}"]);
    const fleet = new TemplateLearner({ maxDistinct: 3, seed: merged });
    expect(fleet.canonical("GET", "/people/ann")).toBe("/people/{id}");
  });

  test("a merge past maxTemplates collapses the widest position first", () => {
    const a = new TemplateLearner({ maxTemplates: 4 });
    const b = new TemplateLearner({ maxTemplates: 4 });
    for (const n of ["a", "b", "c", "d"]) a.templateOf("GET", `/x/${n}`);
    for (const n of ["e", "f", "g"]) b.templateOf("GET", `/x/${n}`);
    b.templateOf("GET", "/y");
    expect(listTemplates(TemplateLearner.merge(a.snapshot(), b.snapshot()))).toEqual(["/x/{id}", "/y"]);
  });
});

/** Distinct lower-case words (no digits: never id-like). */
function word(i: number): string {
  let s = "";
  let n = i + 1;
  while (n > 0) {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  }
  return `w${s}`;
}

describe("properties", () => {
  const segment = fc.oneof(
    fc.constantFrom("orders", "users", "items", "v1", "v2", "api", "search", "export", "me"),
    fc.integer({ min: 0, max: 1e9 }).map(String),
    fc.uuid(),
    fc.stringMatching(/^[a-z]{1,8}$/),
    fc.stringMatching(/^[a-z0-9-]{1,20}$/),
    fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/[/?#]/.test(s)),
  );
  const path = fc.array(segment, { minLength: 0, maxLength: 6 }).map((segs) => `/${segs.join("/")}`);
  const limits = fc.record({ maxDistinct: fc.integer({ min: 1, max: 6 }), maxTemplates: fc.integer({ min: 1, max: 30 }) });

  test("a template always matches the path it came from", () => {
    fc.assert(
      fc.property(fc.array(path, { maxLength: 60 }), limits, (paths, lim) => {
        const l = new TemplateLearner(lim);
        for (const p of paths) expect(templateMatches(l.templateOf("GET", p), p)).toBe(true);
        for (const p of paths) expect(templateMatches(l.templateOf("GET", p), p)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test("after learning, templateOf is deterministic: the same answer in any order, and lookup agrees", () => {
    fc.assert(
      fc.property(fc.array(path, { maxLength: 60 }), limits, (paths, lim) => {
        const l = new TemplateLearner(lim);
        for (const p of paths) l.templateOf("GET", p);
        for (const p of paths) l.templateOf("GET", p);
        const first = paths.map((p) => l.templateOf("GET", p));
        const reversed = [...paths].reverse().map((p) => l.templateOf("GET", p)).reverse();
        expect(reversed).toEqual(first);
        expect(paths.map((p) => l.lookup("GET", p) ?? OTHER)).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });

  test("merge(learn(A), learn(B)) has the templates of learn(A ++ B) when no cap is reached", () => {
    fc.assert(
      fc.property(fc.array(path, { maxLength: 30 }), fc.array(path, { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), (a, b, maxDistinct) => {
        const learn = (ps: string[]) => {
          const l = new TemplateLearner({ maxDistinct });
          for (const p of ps) l.templateOf("GET", p);
          return l;
        };
        const merged = TemplateLearner.merge(learn(a).snapshot(), learn(b).snapshot());
        expect(listTemplates(merged)).toEqual(learn([...a, ...b]).list());
        expect(listTemplates(TemplateLearner.merge(learn(b).snapshot(), learn(a).snapshot()))).toEqual(listTemplates(merged));
      }),
      { numRuns: 200 },
    );
  });

  test("memory stays bounded under 100,000 random ids and words", () => {
    const l = new TemplateLearner({ maxTemplates: 200 });
    const rnd = fc.sample(fc.tuple(fc.integer({ min: 0, max: 2 ** 31 }), fc.stringMatching(/^[a-z]{3,10}$/)), { numRuns: 100_000, seed: 42 });
    for (const [n, w] of rnd) {
      l.templateOf("GET", `/accounts/${n}/files/${w}`);
      l.templateOf("GET", `/docs/${w}/${n.toString(16).padStart(8, "0")}1`);
    }
    const s = l.stats();
    expect(s.templates).toBeLessThanOrEqual(200);
    expect(s.nodes).toBeLessThanOrEqual(l.maxNodes);
    expect(JSON.stringify(l.snapshot()).length).toBeLessThan(20_000);
    expect(l.list()).toEqual(["/accounts/{id}/files/{id}", "/docs/{id}/{id}"]);
  });
});
