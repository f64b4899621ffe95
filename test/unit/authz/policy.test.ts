/**
 * Rego policies through the authz layer on real exchanges: the input document, boolean and object decisions,
 * dry-run, fail closed (a conflict, a strict built-in error, the step budget) or open, the metrics, and the
 * decision log (fields, sampling, and no secrets in it).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { MetricJson } from "../../../src/observability/metrics.ts";
import { body, exchange, field, files, harness, identity, settings } from "./helpers.ts";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZS10aGF0LW11c3Qtbm90LWxlYWs";

const INPUT_POLICY = `package http
import rego.v1

default allow := false

allow if {
	input.method == "GET"
	input.path == "/orders/42"
	input.host == "api.example"
	input.params.id == "42"
	input.route == "orders"
	input.identity.subject == "alice"
	input.identity.method == "jwt"
	"orders:read" in input.identity.scopes
	"ops" in input.identity.roles
	input.claims.org.id == "acme"
	input.headers["x-tenant"] == "acme"
	input.headers.accept == "application/json, text/plain"
	not input.headers.authorization
	not input.headers.cookie
	not input.headers["x-api-key"]
	input.query.view == ["full", "raw"]
	input.query.q == ["a b/c"]
	not input.query.access_token
	input.peer.address == "10.1.2.3"
	input.peer.port == 40000
	input.tls.enabled == false
}
`;

const OBJECT_POLICY = `package obj
import rego.v1

decision := {"allow": true, "headers": {"X-User": input.identity.subject, "x-tenant": "acme"}} if input.method == "GET"
decision := {"allow": false, "status": 404, "message": "no such order"} if input.method == "DELETE"
decision := {"allow": false} if input.method == "PUT"
decision := {"allow": true, "status": 200, "message": "x"} if input.method == "OPTIONS"
decision := {"status": 302} if input.method == "PATCH"
decision := {"allow": true, "headers": {"content-length": "1"}} if input.method == "POST"
decision := {"allow": true, "headers": {"x-bad": "a\\nb"}} if input.method == "HEAD"
decision := "yes" if input.method == "TRACE"
decision := {"allow": true, "extra": 1} if input.method == "LINK"
`;

const FAILING = `package fail
import rego.v1

# A conflict: two values for a complete rule.
conflict := true if input.method == "GET"
conflict := false if input.path == "/orders/42"

# A built-in error: raises in strict mode, undefined otherwise.
strict_allow if {
	doc := json.unmarshal(input.headers["x-doc"])
	doc.ok
}

# Runs past any small step budget.
expensive if {
	count([x | some x in numbers.range(1, 1000000)]) > 0
}
`;

const DIR = files({
  "input.rego": INPUT_POLICY,
  "obj.rego": OBJECT_POLICY,
  "fail.rego": FAILING,
  "deny.rego": "package deny\nimport rego.v1\ndefault allow := false\n",
  "leak.rego": `package leak\nimport rego.v1\ndecision := {"allow": false, "message": sprintf("%v", [input])}\n`,
  "data.json": '{"tenants": {"acme": {"plan": "gold"}}}',
  "more.yaml": "tenants:\n  globex:\n    plan: silver\n",
  "data.rego": 'package withdata\nimport rego.v1\nallow if data.tenants[input.headers["x-tenant"]].plan in {"gold", "silver"}\n',
});

const alice = identity({ scopes: ["orders:read"], roles: ["ops"], claims: { sub: "alice", org: { id: "acme" } } });

function routes() {
  return settings(
    {
      orders: { policy: { module: "input.rego", query: "data.http.allow" }, allow_headers: [] },
      obj: { policy: { module: "obj.rego", query: "data.obj.decision" } },
      conflict: { policy: { module: "fail.rego", query: "data.fail.conflict" } },
      conflict_open: { policy: { module: "fail.rego", query: "data.fail.conflict" }, on_error: "allow" },
      strict: { policy: { module: "fail.rego", query: "data.fail.strict_allow", strict: true } },
      lenient: { policy: { module: "fail.rego", query: "data.fail.strict_allow" } },
      budget: { policy: { module: "fail.rego", query: "data.fail.expensive", budget: { steps: 1000 } } },
      dry: { policy: { module: "deny.rego", query: "data.deny.allow" }, dry_run: true },
      dry_error: { policy: { module: "fail.rego", query: "data.fail.conflict" }, dry_run: true },
      leak: { policy: { module: "leak.rego", query: "data.leak.decision" } },
      withdata: { policy: { module: "data.rego", data: ["data.json", "more.yaml"], query: "data.withdata.allow" } },
      rules_first: { scopes: ["orders:write"], policy: { module: "deny.rego", query: "data.deny.allow" } },
      authorization_allowed: { policy: { module: "input.rego", query: "data.http.allow" }, allow_headers: ["Authorization"] },
    },
    DIR,
  );
}

const h = harness(routes());
afterAll(() => h.close());

const requestFields = ["Host", "api.example", "X-Tenant", "acme", "Accept", "application/json", "accept", "text/plain", "Authorization", `Bearer ${TOKEN}`, "Cookie", `session=${TOKEN}`, "X-Api-Key", TOKEN];
const requestTarget = `/orders/42?view=full&q=a+b%2Fc&view=raw&access_token=${TOKEN}`;

function counts(): Record<string, number> {
  const m = h.metrics.registry.json().find((x: MetricJson) => x.name === "ficus_authz_decisions_total") as MetricJson;
  const out: Record<string, number> = {};
  for (const v of m.values) out[`${v.labels.route}/${v.labels.result}/${v.labels.dry_run}`] = v.value;
  return out;
}

describe("Rego policy through the layer", () => {
  test("the input document: method, path, host, params, headers (lower-cased, joined, secrets out), query, identity, claims, peer, tls, route", () => {
    const ex = exchange({ target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "42" } });
    expect(h.run(ex)).toBeUndefined();
    expect(ex.decision).toBe("allow");
    // One change at a time denies: the policy really reads each one.
    expect(h.run(exchange({ target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "7" } }))?.status).toBe(403);
    expect(h.run(exchange({ target: requestTarget, fields: [...requestFields], identity: { ...alice, subject: "bob" }, params: { id: "42" } }))?.status).toBe(403);
  });

  test("allow_headers lets a secret header through to the policy (which then sees Authorization and denies)", () => {
    const ex = exchange({ route: "authorization_allowed", target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "42" } });
    expect(h.run(ex)?.status).toBe(403);
  });

  test("data files (JSON and YAML) merged at the top of data", () => {
    expect(h.run(exchange({ route: "withdata", fields: ["x-tenant", "acme"] }))).toBeUndefined();
    expect(h.run(exchange({ route: "withdata", fields: ["x-tenant", "globex"] }))).toBeUndefined();
    expect(h.run(exchange({ route: "withdata", fields: ["x-tenant", "initech"] }))?.status).toBe(403);
  });

  test("simple rules run first: a missing scope denies before the policy", async () => {
    const reply = h.run(exchange({ route: "rules_first", identity: alice }));
    expect(body(reply as NonNullable<typeof reply>).error.message).toBe('missing scope "orders:write"');
  });

  test("an object decision: allow with headers set on the upstream request (replacing the client's)", () => {
    const ex = exchange({ route: "obj", identity: alice, fields: ["Host", "api.example", "x-user", "mallory"] });
    expect(h.run(ex)).toBeUndefined();
    expect(field(ex.fields, "x-user")).toBe("alice");
    expect(ex.fields.filter((f) => f.toLowerCase() === "x-user").length).toBe(1);
    expect(field(ex.fields, "x-tenant")).toBe("acme");
  });

  test("an object decision: a denial with the policy's status and message, or 403 by default", () => {
    const del = h.run(exchange({ route: "obj", method: "DELETE", identity: alice }));
    expect(del?.status).toBe(404);
    expect(body(del as NonNullable<typeof del>).error).toEqual({ code: "FICUS_AUTHZ_DENIED", message: "no such order", request_id: "req-1" });
    const put = h.run(exchange({ route: "obj", method: "PUT", identity: alice }));
    expect(put?.status).toBe(403);
    expect(body(put as NonNullable<typeof put>).error.message).toBe("denied by policy");
    // The status is the denial's: an allow ignores it.
    expect(h.run(exchange({ route: "obj", method: "OPTIONS", identity: alice }))).toBeUndefined();
    // Undefined decision (no rule matched): deny.
    expect(h.run(exchange({ route: "obj", method: "UNLOCK", identity: alice }))?.status).toBe(403);
  });

  test.each([
    ["PATCH", "a status that is not 4xx"],
    ["POST", "a framing header"],
    ["HEAD", "a header value with a line break"],
    ["TRACE", "a string decision"],
    ["LINK", "an unknown key"],
  ])("a decision of the wrong shape (%s: %s) is a policy error: 500, fail closed", (method) => {
    const ex = exchange({ route: "obj", method, identity: alice });
    const reply = h.run(ex);
    expect(reply?.status).toBe(500);
    expect(body(reply as NonNullable<typeof reply>).error.code).toBe("FICUS_AUTHZ_ERROR");
    expect(ex.decision).toBe("error");
    expect(ex.fields).not.toContain("content-length");
  });

  test("fail closed: a conflict, a strict built-in error, the step budget", async () => {
    for (const [route, fields] of [
      ["conflict", []],
      ["strict", ["x-doc", "{not json"]],
      ["budget", []],
    ] as const) {
      const ex = exchange({ route, fields: [...fields] });
      const reply = h.run(ex);
      expect(reply?.status).toBe(500);
      expect(body(reply as NonNullable<typeof reply>).error).toEqual({ code: "FICUS_AUTHZ_ERROR", message: "the authorization policy failed; the request is denied", request_id: "req-1" });
      expect(ex.error).toBe("FICUS_AUTHZ_ERROR");
    }
    // Not strict: the built-in's error makes the rule undefined, a plain denial.
    expect(h.run(exchange({ route: "lenient", fields: ["x-doc", "{not json"] }))?.status).toBe(403);
    const lines = await h.lines();
    const reasons = Object.fromEntries(lines.filter((l) => l.result === "error").map((l) => [l.route, String(l.reason)]));
    expect(reasons.conflict).toContain("FICUS_POLICY_EVAL");
    expect(reasons.conflict).toContain("eval_conflict_error");
    expect(reasons.strict).toContain("json.unmarshal");
    expect(reasons.budget).toContain("FICUS_POLICY_BUDGET");
    // One application log line per route (not per request).
    expect(h.appLines.filter((l) => l.includes("authorization policy failed")).length).toBeGreaterThanOrEqual(3);
  });

  test("on_error: allow lets the request through, counted and logged as error", async () => {
    const ex = exchange({ route: "conflict_open" });
    expect(h.run(ex)).toBeUndefined();
    expect(ex.decision).toBe("error");
    expect(counts()["conflict_open/error/false"]).toBe(1);
  });

  test("dry-run: a denial and an error are counted and logged, never enforced, and no header is added", async () => {
    const ex = exchange({ route: "dry", identity: alice });
    expect(h.run(ex)).toBeUndefined();
    expect(ex.decision).toBe("dry-run-deny");
    expect(ex.error).toBeUndefined();
    const err = exchange({ route: "dry_error" });
    expect(h.run(err)).toBeUndefined();
    expect(err.decision).toBe("error");
    const c = counts();
    expect(c["dry/deny/true"]).toBe(1);
    expect(c["dry_error/error/true"]).toBe(1);
    const lines = (await h.lines()).filter((l) => l.route === "dry");
    expect(lines.at(-1)).toMatchObject({ result: "deny", dry_run: true, status: 403, subject: "alice" });
  });

  test("metrics: decisions by route, result and dry_run; the policy's evaluation time", () => {
    const before = counts()["orders/allow/false"] ?? 0;
    h.run(exchange({ target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "42" } }));
    h.run(exchange({ target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "42" } }));
    expect(counts()["orders/allow/false"]).toBe(before + 2);
    expect(before).toBeGreaterThan(0);
    const hist = h.metrics.registry.json().find((x) => x.name === "ficus_policy_eval_seconds") as MetricJson;
    const count = hist.values.find((v) => v.metricName === "ficus_policy_eval_seconds_count" && v.labels.route === "orders");
    expect(count?.value).toBeGreaterThanOrEqual(2);
  });
});

describe("the decision log", () => {
  test("one line per decision: id, time, request id, route, subject, bundle hash, result, dry_run, duration", async () => {
    const s = harness(routes());
    s.run(exchange({ target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "42" } }));
    s.run(exchange({ route: "obj", method: "DELETE", identity: alice }));
    const [allow, deny] = await s.lines();
    const bundle = `sha256:${new Bun.CryptoHasher("sha256").update(`module\0input.rego\0${INPUT_POLICY.length}\0`).update(INPUT_POLICY).digest("hex")}`;
    expect(allow).toEqual({
      log: "decision",
      decision_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      request_id: "req-1",
      route: "orders",
      subject: "alice",
      identity: "jwt",
      method: "GET",
      path: "/orders/42",
      policy: "data.http.allow",
      bundle,
      result: "allow",
      dry_run: false,
      duration_us: expect.any(Number),
    });
    expect(deny).toMatchObject({ route: "obj", result: "deny", status: 404, reason: "no such order", dry_run: false });
    expect(allow?.decision_id).not.toBe(deny?.decision_id);
    s.close();
  });

  test("no secret reaches the log: a token in Authorization, a cookie, an API key and the query, even when the policy echoes its input", async () => {
    const s = harness(routes());
    for (const route of ["orders", "leak", "obj", "conflict", "dry"]) {
      s.run(exchange({ route, target: requestTarget, fields: [...requestFields], identity: alice, params: { id: "42" } }));
    }
    const text = await s.text();
    expect(text.split("\n").filter((l) => l !== "").length).toBe(5);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("Bearer");
    expect(text).not.toContain("access_token");
    // The echoing policy saw the request, without its secrets.
    const leak = (await s.lines()).find((l) => l.route === "leak");
    expect(String(leak?.reason)).toContain("x-tenant");
    expect(s.appLines.join("")).not.toContain(TOKEN);
    s.close();
  });

  test("sampling applies to allows; denials and errors are always logged", async () => {
    const s = harness(routes(), { sample: 0 });
    for (let i = 0; i < 5; i++) s.run(exchange({ route: "obj", identity: alice }));
    s.run(exchange({ route: "obj", method: "PUT", identity: alice }));
    s.run(exchange({ route: "conflict" }));
    s.run(exchange({ route: "dry" }));
    expect((await s.lines()).map((l) => `${l.route}:${l.result}`)).toEqual(["obj:deny", "conflict:error", "dry:deny"]);
    s.close();
    const half = harness(routes(), { sample: 0.5 });
    for (let i = 0; i < 10; i++) half.run(exchange({ route: "obj", identity: alice }));
    expect((await half.lines()).length).toBe(5);
    half.close();
  });

  test("disabled: nothing written, decisions still enforced", async () => {
    const s = harness(routes(), { enabled: false });
    expect(s.run(exchange({ route: "obj", method: "PUT" }))?.status).toBe(403);
    expect(() => readFileSync(s.logPath)).toThrow();
    s.close();
  });
});
