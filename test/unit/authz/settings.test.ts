/** Compiling authz settings: the schema's messages, the input sections a policy reads, load errors, bundle hashes, the input document built cheaply. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { authzRouteSchema, decisionLogSchema } from "../../../src/authz/schema.ts";
import { headersObject, queryObject, buildInput } from "../../../src/authz/input.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { INPUT_SECTIONS, inputNeeds } from "../../../src/authz/settings.ts";
import { exchange, files, identity, settings } from "./helpers.ts";

const issues = (x: unknown) => {
  const r = authzRouteSchema.safeParse(x);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("schema", () => {
  test.each([
    [{}, "says nothing to check"],
    [{ claims: [{ claim: "org.id" }] }, "give exactly one of equals or in"],
    [{ claims: [{ claim: "org.id", equals: "a", in: ["b"] }] }, "give exactly one of equals or in"],
    [{ claims: [{ claim: "org..id", equals: "a" }] }, "single dots"],
    [{ policy: { module: "a.rego", query: "allow" } }, "a reference into data"],
    [{ policy: { module: "a.rego", budget: { steps: 1 } } }, ">=100"],
    [{ policy: { module: "a.rego", budget: { time: "1h" } } }, "must be 1ms to 10s"],
    [{ scopes: ["a"], on_error: "maybe" }, "on_error"],
    [{ scopes: ["a"], allow_headers: ["bad header"] }, "invalid header name"],
    [{ scopes: ["a"], surprise: 1 }, "surprise"],
  ])("%j is refused: %s", (config, message) => {
    expect(issues(config).join("\n")).toContain(message);
  });

  test("defaults", () => {
    expect(authzRouteSchema.parse({ policy: { module: "a.rego" } })).toEqual({
      scopes: [],
      roles: [],
      claims: [],
      policy: { module: ["a.rego"], query: "data.http.allow", strict: false, budget: { steps: 100_000, time: 20 } },
      dry_run: false,
      on_error: "deny",
      allow_headers: [],
      allow_query: [],
    });
    expect(decisionLogSchema.parse(undefined)).toEqual({ enabled: true, output: "stdout", sample: 1, max_buffer: 1024 * 1024 });
  });
});

describe("the input sections a policy reads", () => {
  const none = Object.fromEntries(INPUT_SECTIONS.map((s) => [s, false]));
  const all = Object.fromEntries(INPUT_SECTIONS.map((s) => [s, true]));
  test.each([
    ["allow if input.method == \"GET\"", { method: true }],
    ['allow if input["headers"]["x-a"] == "1"', { headers: true }],
    ["allow if { input . identity.subject == \"a\"; input.claims.x }", { identity: true, claims: true }],
    ["import input.tls\nallow if tls.enabled", { tls: true }],
    ["# input is not read here\nallow if true", {}],
    ['allow if data.input.x == "input.headers"', { headers: true }],
    ["allow if my_input.x", {}],
    ["allow if { x := input; x.path }", all],
    ["allow if input[k]", all],
    ["allow if data.p with input as {}", all],
    ["allow if input.unknown_section", {}],
  ])("%s", (src, expected) => {
    expect(inputNeeds([`package p\n${src}\n`])).toEqual({ ...none, ...expected } as never);
  });
});

describe("compiling", () => {
  const dir = files({ "a.rego": "package a\nimport rego.v1\nallow if input.method == \"GET\"\n", "b.rego": "package b\nallow if {", "d.json": '{"x": 1}', "e.json": '{"x": 2}', "bad.json": "{", "list.json": "[1]" });

  test.each([
    [{ policy: { module: "missing.rego" } }, "FICUS_CONFIG_INVALID", "routes[r].authz.policy.module: cannot read missing.rego: no such file"],
    [{ policy: { module: "b.rego" } }, "FICUS_POLICY_SYNTAX", "routes[r].authz.policy: b.rego:2"],
    [{ policy: { module: "a.rego", data: "bad.json" } }, "FICUS_CONFIG_INVALID", "bad.json is not valid JSON"],
    [{ policy: { module: "a.rego", data: "list.json" } }, "FICUS_CONFIG_INVALID", "list.json must hold an object"],
    [{ policy: { module: "a.rego", data: ["d.json", "e.json"] } }, "FICUS_CONFIG_INVALID", "data.x conflicts"],
    [{ policy: { module: "a.rego", data: "a.rego" } }, "FICUS_CONFIG_INVALID", "a data file is .json, .yaml or .yml"],
  ])("%j: %s", (authz, code, message) => {
    let err: unknown;
    try {
      settings({ r: authz }, dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(code as never);
    expect((err as ConfigError).message).toContain(message);
  });

  test("one policy shared by routes is compiled once; the bundle hash follows the files' contents", () => {
    const s = settings({ r1: { policy: { module: "a.rego" } }, r2: { policy: { module: "a.rego", query: "data.a.allow" } } }, dir);
    const [p1, p2] = [s.routes.get("r1")?.policy, s.routes.get("r2")?.policy];
    expect(p1?.bundle).toMatch(/^[0-9a-f]{64}$/);
    expect(p1?.bundle).toBe(p2?.bundle as string);
    expect(p1?.needs.method).toBe(true);
    expect(p1?.needs.headers).toBe(false);
    const withData = settings({ r: { policy: { module: "a.rego", data: "d.json" } } }, dir).routes.get("r")?.policy?.bundle;
    expect(withData).not.toBe(p1?.bundle as string);
    writeFileSync(join(dir, "a.rego"), "package a\nimport rego.v1\nallow if input.method == \"PUT\"\n");
    expect(settings({ r: { policy: { module: "a.rego" } } }, dir).routes.get("r")?.policy?.bundle).not.toBe(p1?.bundle as string);
  });
});

describe("the input document", () => {
  const r = settings({ r: { scopes: ["x"], allow_headers: ["X-Session-Hint"], allow_query: ["page_token"] } }).routes.get("r") as NonNullable<ReturnType<typeof settings>["routes"] extends ReadonlyMap<string, infer V> ? V : never>;

  test("headers: lower-cased, repeats joined (cookies with ;), secret names out unless allowed, __proto__ is a plain key", () => {
    const h = headersObject(
      ["Accept", "a", "ACCEPT", "b", "Authorization", "Bearer t", "Proxy-Authorization", "Basic x", "X-Api-Key", "k", "X-Auth-Token", "t", "X-Session-Hint", "s", "__proto__", "p", "X-Request-Id", "id"],
      r,
    );
    expect(Object.entries(h)).toEqual([
      ["accept", "a, b"],
      ["x-session-hint", "s"],
      ["__proto__", "p"],
      ["x-request-id", "id"],
    ]);
    expect(Object.entries(headersObject(["Cookie", "a=1", "cookie", "b=2"], settings({ r: { scopes: ["x"], allow_headers: ["cookie"] } }).routes.get("r") as typeof r))).toEqual([["cookie", "a=1; b=2"]]);
  });

  test("query: every value, form-decoded, secret names out unless allowed", () => {
    const q = queryObject("?a=1&b=x+y%20z&a=2&flag&=e&access_token=t&api_key=k&code=c&page_token=p&bad=%E0%A4%A&__proto__=1", r);
    expect(Object.keys(q)).toEqual(["a", "b", "flag", "", "page_token", "bad", "__proto__"]);
    expect(q.a).toEqual(["1", "2"]);
    expect(q.b).toEqual(["x y z"]);
    expect(q.flag).toEqual([""]);
    expect(q.bad).toEqual(["%E0%A4%A"]);
    expect(Object.keys(queryObject("", r))).toEqual([]);
  });

  test("only the sections needed are built; identity and claims are converted once per identity", () => {
    const id = identity({ claims: { org: { id: "acme" } } });
    const needs = { ...Object.fromEntries(INPUT_SECTIONS.map((s) => [s, false])), identity: true, claims: true, route: true } as never;
    const a = buildInput(exchange({ identity: id }), r, needs, id);
    const b = buildInput(exchange({ identity: id }), r, needs, id);
    expect(Object.keys(a)).toEqual(["identity", "claims", "route"]);
    expect(a.identity).toBe(b.identity);
    expect(a.claims).toBe(b.claims);
  });

  test("tls: off, on, and the client certificate's subject and SANs", () => {
    const needs = Object.fromEntries(INPUT_SECTIONS.map((s) => [s, true])) as never;
    const cert = { subject: "CN=svc,O=Acme", commonName: "svc", sans: ["DNS:svc.internal", "URI:spiffe://acme/svc"], issuer: "CN=Acme CA", fingerprint256: "AA:BB", validTo: 1 };
    const off = buildInput(exchange(), r, needs, identity());
    expect(off.tls).toBeDefined();
    const on = buildInput(exchange({ tls: true, cert }), r, needs, identity());
    const again = buildInput(exchange({ tls: true, cert }), r, needs, identity());
    expect(on.tls).toBe(again.tls);
    expect(JSON.stringify(Bun.inspect(on.tls))).toContain("spiffe://acme/svc");
  });
});
