/** Redaction of samples, recordings and reports: which names look secret (a table), and what is hidden where. */
import { describe, expect, test } from "bun:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { compareMessages, compileRulesInput } from "../../../src/compare/index.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { DEFAULT_REDACT, REDACTED, Redactor, wordParts } from "../../../src/migration/redact.ts";

const r = new Redactor();
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

test.each([
  ["X-Api-Key", ["x", "api", "key"]],
  ["apiKey", ["api", "key"]],
  ["APIKey", ["api", "key"]],
  ["client_secret", ["client", "secret"]],
  ["X-Amz-Signature", ["x", "amz", "signature"]],
  ["sigV4", ["sig", "v", "4"]],
  ["user[password]", ["user", "password"]],
  ["PHPSESSID", ["phpsessid"]],
  ["--", []],
])("wordParts(%p)", (name, parts) => {
  expect(wordParts(name)).toEqual(parts);
});

// name → redacted as a query parameter, as a header field, as a JSON key.
const NAMES: [string, boolean][] = [
  ["jwt", true],
  ["pw", true],
  ["passwd", true],
  ["password", true],
  ["X-Custom-Token", true],
  ["api_key", true],
  ["apiKey", true],
  ["apikey", true],
  ["X-Api-Key", true],
  ["access_token", true],
  ["accessToken", true],
  ["refresh-token", true],
  ["client_secret", true],
  ["sessionid", true],
  ["JSESSIONID", true],
  ["PHPSESSID", true],
  ["X-Amz-Signature", true],
  ["X-Amz-Credential", true],
  ["X-Amz-Security-Token", true],
  ["sig", true],
  ["credentials", true],
  ["Authorization", true],
  ["X-Authorization", true],
  ["auth", true],
  ["x-auth-token", true],
  ["X-CSRF-Token", true],
  ["user[password]", true],
  ["keys", true],
  ["otp", true],
  ["passphrase", true],
  // negatives: a short word must be a whole word part
  ["keyboard", false],
  ["monkey", false],
  ["author", false],
  ["authority", false],
  ["passenger", false],
  ["passport", false],
  ["signal", false],
  ["design", false],
  ["page", false],
  ["sort", false],
  ["id", false],
  ["country_code", false],
  ["error_code", false],
  ["Accept", false],
  ["WWW-Authenticate", false],
];

describe("which names look secret", () => {
  test.each(NAMES)("%p → %p", (name, secret) => {
    expect(r.query.matches(name)).toBe(secret);
    expect(r.header.matches(name)).toBe(secret);
    expect(r.bodyKey.matches(name)).toBe(secret);
  });

  test("code: the OAuth authorization code is hidden as a whole query name only, never as a JSON key", () => {
    expect(r.query.matches("code")).toBe(true);
    expect(r.query.matches("CODE")).toBe(true);
    expect(r.query.matches("zip_code")).toBe(false);
    expect(r.bodyKey.matches("code")).toBe(false);
  });

  test("Cookie, Set-Cookie and Proxy-Authorization headers", () => {
    for (const h of ["cookie", "Set-Cookie", "proxy-authorization"]) expect(r.header.matches(h)).toBe(true);
    expect(r.header.matches("vary")).toBe(false);
  });
});

describe("configuration", () => {
  test("more words, several-part names in a row, keep, and defaults: false", () => {
    const c = new Redactor({ defaults: true, headers: ["tenant-id"], query: ["ssn"], body_keys: ["iban"], keep: ["next_page_token"] });
    expect(c.header.matches("X-Tenant-Id")).toBe(true);
    expect(c.header.matches("x-tenant")).toBe(false);
    expect(c.query.matches("ssn")).toBe(true);
    expect(c.bodyKey.matches("customeriban")).toBe(false); // "iban" is short: a whole part only
    expect(c.bodyKey.matches("customerIban")).toBe(true);
    expect(c.bodyKey.matches("next_page_token")).toBe(false);
    expect(c.bodyKey.matches("nextPageToken")).toBe(true); // keep is a whole name
    const bare = new Redactor({ defaults: false, headers: [], query: ["ssn"], body_keys: [], keep: [] });
    expect(bare.header.matches("authorization")).toBe(false);
    expect(bare.query.matches("token")).toBe(false);
    expect(bare.query.matches("ssn")).toBe(true);
  });

  test("the redact block parses with defaults, and rejects an entry that is only separators", () => {
    const c = configSchema.parse({});
    expect({ ...c.redact }).toMatchObject({ ...DEFAULT_REDACT });
    expect(configSchema.safeParse({ redact: { headers: ["--"] } }).success).toBe(false);
    expect(configSchema.safeParse({ redact: { headerz: [] } }).success).toBe(false);
  });
});

describe("query strings", () => {
  test.each([
    ["/x?jwt=a.b.c&page=2", `/x?jwt=${REDACTED}&page=2`],
    ["/x?pw=1&passwd=2&sort=asc", `/x?pw=${REDACTED}&passwd=${REDACTED}&sort=asc`],
    ["/cb?code=abc&state=xyz", `/cb?code=${REDACTED}&state=xyz`],
    ["/x?user%5Bpassword%5D=p", `/x?user%5Bpassword%5D=${REDACTED}`],
    ["/x?access+token=p", `/x?access+token=${REDACTED}`],
    ["/x?flag&token", "/x?flag&token"],
    ["/x", "/x"],
    ["/cb#access_token=t&state=s", `/cb#access_token=${REDACTED}&state=s`],
  ])("%p", (target, want) => {
    expect(r.url(target)).toBe(want);
  });

  test("regression: a malformed escape in a name (%E0%A4%A) is kept as written, never thrown (URIError)", () => {
    expect(() => r.url("/x?%E0%A4%A=1&token=abc")).not.toThrow();
    expect(r.url("/x?%E0%A4%A=1&token=abc")).toBe(`/x?%E0%A4%A=1&token=${REDACTED}`);
    // ASCII escapes around a malformed one are still decoded: %70 is "p".
    expect(r.url("/x?%70assword%E0=1")).toBe(`/x?%70assword%E0=${REDACTED}`);
  });
});

describe("headers", () => {
  test("secret fields replaced, names lower-cased, URLs in Location and Referer redacted", () => {
    expect(
      r.headers([
        ["X-Custom-Token", "t"],
        ["Accept", "application/json"],
        ["Set-Cookie", "sid=1"],
        ["Location", "https://app.test/cb?code=c&state=s"],
        ["Vary", "Cookie"],
      ]),
    ).toEqual({ "x-custom-token": REDACTED, accept: "application/json", "set-cookie": REDACTED, location: `https://app.test/cb?code=${REDACTED}&state=s`, vary: "Cookie" });
  });
});

describe("bodies", () => {
  test("JSON values are hidden by key at any depth, and by configured path; null stays null", () => {
    const c = new Redactor(DEFAULT_REDACT, ["$.customer.email"]);
    const body = { user: { name: "ann", password: "p", apiKey: "k", session: { id: 1 } }, customer: { email: "a@b" }, items: [{ sku: 1, token: "t" }], author: "bo", reset_token: null };
    expect(JSON.parse(c.body(enc(JSON.stringify(body)), "application/json"))).toEqual({
      user: { name: "ann", password: REDACTED, apiKey: REDACTED, session: REDACTED },
      customer: { email: REDACTED },
      items: [{ sku: 1, token: REDACTED }],
      author: "bo",
      reset_token: null,
    });
  });

  test("URLs in JSON strings have their query redacted; other strings are left alone", () => {
    const body = { next: "https://api.test/items?page=3&access_token=t", self: "/items?page=2&sig=s", note: "a=1&token=t", plain: "/items" };
    expect(JSON.parse(r.body(enc(JSON.stringify(body)), "application/json"))).toEqual({
      next: `https://api.test/items?page=3&access_token=${REDACTED}`,
      self: `/items?page=2&sig=${REDACTED}`,
      note: "a=1&token=t",
      plain: "/items",
    });
  });

  test("form bodies are redacted like a query", () => {
    expect(r.body(enc("user=ann&password=hunter2"), "application/x-www-form-urlencoded; charset=utf-8")).toBe(`user=ann&password=${REDACTED}`);
    // Text that is not a form keeps its bytes.
    expect(r.body(enc("user=ann&password=hunter2"), "text/plain")).toBe("user=ann&password=hunter2");
  });

  test("a JSON document too deep to walk is hidden whole, not thrown", () => {
    const deep = `${'{"a":'.repeat(20_000)}{"password":"p"}${"}".repeat(20_000)}`;
    expect(r.body(enc(deep), "application/json")).toStartWith(REDACTED);
    expect(dec(r.recordedBody(enc(deep), "application/json"))).not.toContain('"p"');
  });

  test("a recorded body keeps its exact bytes when nothing is secret; big numbers survive a rewrite", () => {
    const same = enc('{ "a" : 1,  "b": [1, 2] }');
    expect(r.recordedBody(same, "application/json")).toBe(same);
    expect(dec(r.recordedBody(enc('{"n": 12345678901234567890, "secret": "s"}'), "application/json"))).toBe(`{"n":12345678901234567890,"secret":"${REDACTED}"}`);
  });
});

describe("samples", () => {
  const answer = (body: unknown, headers: [string, string][] = [["content-type", "application/json"]]) => ({ status: 200, headers, body: enc(JSON.stringify(body)), durationMs: 1.5 });

  test("the differences of a sample do not show what its bodies hide", () => {
    const c = new Redactor(DEFAULT_REDACT, ["$.customer.email"]);
    const legacy = answer({ user: { password: "old", name: "a" }, customer: { email: "a@x" }, profile: { name: "n" }, list: [{ id: 1, secret: "s1" }] }, [
      ["content-type", "application/json"],
      ["x-auth-token", "t1"],
    ]);
    const candidate = answer({ user: { password: "new", name: "b" }, customer: { email: "b@x" }, profile: { name: "n", api_key: "k" }, list: [{ id: 1, secret: "s2" }] }, [
      ["content-type", "application/json"],
      ["x-auth-token", "t2"],
    ]);
    const rules = compileRulesInput({ arrays: { "$.list": { key: "id" } } });
    const verdict = compareMessages(legacy, candidate, rules);
    const sample = c.sample("t", { method: "GET", target: "/u?token=x", headers: [["authorization", "Bearer x"]], body: undefined }, legacy, candidate, verdict.differences);
    const text = JSON.stringify(sample);
    for (const secret of ["old", "new", "a@x", "b@x", '"k"', "s1", "s2", "t1", "t2", "Bearer"]) expect(text).not.toContain(secret);
    const byPath = Object.fromEntries(sample.differences.map((d) => [d.path, [d.legacy, d.candidate]]));
    expect(byPath["$.user.name"]).toEqual(["a", "b"]);
    expect(byPath["$.user.password"]).toEqual([REDACTED, REDACTED]);
    expect(byPath["$.customer.email"]).toEqual([REDACTED, REDACTED]);
    expect(byPath["headers.x-auth-token"]).toEqual([REDACTED, REDACTED]);
    expect(sample.request.path).toBe(`/u?token=${REDACTED}`);
  });

  test("regression: a coded answer is stored as its redacted payload, not as its compressed bytes", () => {
    const coded = (coding: string, bytes: Uint8Array, body: unknown) => ({
      status: 200,
      headers: [["content-type", "application/json"], ["content-encoding", coding], ["content-length", "999"], ["x-v", "1"]] as [string, string][],
      body: bytes,
      durationMs: 1,
      plain: body,
    });
    const legacyDoc = { user: { password: "hunter2", name: "a" } };
    const candidateDoc = { user: { password: "swordfish", name: "b" } };
    const legacy = coded("gzip", gzipSync(JSON.stringify(legacyDoc)), legacyDoc);
    const candidate = coded("br", brotliCompressSync(JSON.stringify(candidateDoc)), candidateDoc);
    const request = { method: "POST", target: "/login", headers: [["content-type", "application/json"], ["content-encoding", "gzip"]] as [string, string][], body: gzipSync('{"password":"p@ss","user":"u"}') };
    const verdict = compareMessages(legacy, candidate);
    const sample = r.sample("t", request, legacy, candidate, verdict.differences);
    expect(JSON.parse(sample.legacy.body)).toEqual({ user: { password: REDACTED, name: "a" } });
    expect(JSON.parse(sample.candidate.body)).toEqual({ user: { password: REDACTED, name: "b" } });
    expect(JSON.parse(sample.request.body)).toEqual({ password: REDACTED, user: "u" });
    // The fields that described the coded bytes go with them; the others stay.
    expect(sample.legacy.headers).toEqual({ "content-type": "application/json", "x-v": "1" });
    expect(sample.request.headers).toEqual({ "content-type": "application/json" });
    const text = JSON.stringify(sample);
    for (const secret of ["hunter2", "swordfish", "p@ss"]) expect(text).not.toContain(secret);
  });

  test("a coded body that cannot be decoded (corrupt, unknown coding, a decompression bomb) is not kept", () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61));
    for (const [coding, body] of [
      ["gzip", enc('{"password":"in clear but labelled gzip"}')],
      ["compress", enc('{"password":"x"}')],
      ["gzip", bomb],
    ] as const) {
      const a = { status: 200, headers: [["content-encoding", coding]] as [string, string][], body, durationMs: 1 };
      const side = r.side(a);
      expect(side.body).toStartWith(`${REDACTED} (${body.byteLength} bytes not kept: content encoding ${JSON.stringify(coding)}`);
      expect(side.headers).toEqual({ "content-encoding": coding });
      expect(side.body).not.toContain("password");
    }
  });

  test("a difference holding a whole object is redacted inside", () => {
    const d = r.difference({ path: "$.user", kind: "missing", severity: "high", legacy: { name: "a", password: "p" }, candidate: undefined });
    expect(d.legacy).toEqual({ name: "a", password: REDACTED });
    expect(r.difference({ path: "body:line 1", kind: "value", severity: "medium", legacy: "a=1&token=t", candidate: "a=1" }).legacy).toBe(`a=1&token=${REDACTED}`);
  });
});
