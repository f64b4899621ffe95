/**
 * The enforcement layers wired into the gateway, through the real CLI: a JWT
 * checked against a JWK Set served over HTTP, an RBAC Rego policy, a rate
 * limit, identity headers sent upstream (client copies stripped), the
 * decision log, a reload that brings a broken policy refused, and sidecar
 * mode from the zero-config flags.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestIdp, type TestIdp } from "../helpers/identity-provider.ts";
import { type Ficus, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

const RBAC = `package http

default allow := false

# Readers may GET; writers may also POST; the path's first segment names the resource.
grants := {
	"reader": {"GET"},
	"writer": {"GET", "POST"},
}

allow if {
	some role in input.identity.roles
	input.method in grants[role]
	startswith(input.path, "/orders")
}
`;

let idp: TestIdp;
let up: Upstream;

function token(claims: Record<string, unknown>, opts: { exp?: string } = {}): Promise<string> {
  return idp.sign(String(claims.sub ?? "ana"), claims, opts);
}

beforeAll(async () => {
  idp = await startTestIdp();
  up = await startUpstream("orders");
});

afterAll(async () => {
  await up?.stop();
  idp?.stop();
});

describe("proxy mode: auth, authz and rate limits on a route", () => {
  let gw: Ficus;
  let dir: string;
  let config: string;

  const yaml = (policy: string) => `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
decision_log: { output: ${join(tempDirOnce(), "decisions.log")} }
auth_policies:
  idp:
    jwt: { issuer: https://idp.test, jwks_url: ${idp.jwksUrl}, audience: orders }
    identity_headers: { subject: X-Ficus-Subject, roles: X-Ficus-Roles }
routes:
  - name: orders
    match: { prefix: /orders }
    upstream: ${up.url}
    rewrite: { path: /echo }
    auth: idp
    authz: { policy: { module: ${policy}, query: data.http.allow } }
    rate_limit: { limits: [{ name: per-user, rate: 5/s, burst: 5, key: [subject] }] }
  - name: open
    match: { prefix: / }
    upstream: ${up.url}
    rewrite: { path: /echo }
`;
  let decisionsDir: string | undefined;
  function tempDirOnce(): string {
    decisionsDir ??= tempDir("ficus-decisions-");
    return decisionsDir;
  }

  beforeAll(async () => {
    dir = tempDir("ficus-enforce-");
    writeFileSync(join(dir, "rbac.rego"), RBAC);
    config = writeConfig(dir, yaml("rbac.rego"));
    gw = await startFicus(["-c", config]);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test("no token: 401 with a Bearer challenge; a bad token: 401 invalid_token", async () => {
    const none = await fetch(`${gw.url}/orders/1`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toStartWith("Bearer");
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("FICUS_AUTH_MISSING");
    const bad = await fetch(`${gw.url}/orders/1`, { headers: { authorization: "Bearer not.a.token" } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  test("a reader may GET: the identity reaches the upstream, the client's copy of the identity header does not", async () => {
    const t = await token({ sub: "ana", roles: ["reader"] });
    const res = await fetch(`${gw.url}/orders/1`, { headers: { authorization: `Bearer ${t}`, "x-ficus-subject": "admin" } });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-ficus-subject"]).toBe("ana");
    expect(echo.headers["x-ficus-roles"]).toBe("reader");
  });

  test("a reader may not POST: 403 FICUS_AUTHZ_DENIED; a writer may", async () => {
    const reader = await token({ sub: "ana", roles: ["reader"] });
    const denied = await fetch(`${gw.url}/orders/1`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${reader}` } });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("FICUS_AUTHZ_DENIED");
    const writer = await token({ sub: "bo", roles: ["writer"] });
    const ok = await fetch(`${gw.url}/orders/1`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${writer}` } });
    expect(ok.status).toBe(200);
  });

  test("spoofed identity headers are stripped on routes without auth too", async () => {
    const res = await fetch(`${gw.url}/other`, { headers: { "x-ficus-subject": "admin", "x-ficus-roles": "writer" } });
    const echo = (await res.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-ficus-subject"]).toBeUndefined();
    expect(echo.headers["x-ficus-roles"]).toBeUndefined();
  });

  test("each user has its own budget: past it 429 with Retry-After and the RateLimit fields", async () => {
    const t = await token({ sub: "cy", roles: ["reader"] });
    const codes: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${gw.url}/orders/1`, { headers: { authorization: `Bearer ${t}` } });
      codes.push(r.status);
      if (r.status === 429) limited ??= r;
      else await r.arrayBuffer();
    }
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(5);
    expect(limited).toBeDefined();
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited?.headers.get("ratelimit-policy")).toContain('"per-user"');
    // Another user is not affected.
    const other = await token({ sub: "dee", roles: ["reader"] });
    expect((await fetch(`${gw.url}/orders/1`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(200);
  });

  test("the signing keys were fetched once for all these tokens (verified tokens are cached)", () => {
    expect(idp.hits()).toBe(1);
  });

  test("the decision log has a line per decision, and never the token", async () => {
    const t = await token({ sub: "ed", roles: ["reader"] });
    await (await fetch(`${gw.url}/orders/1`, { headers: { authorization: `Bearer ${t}` } })).arrayBuffer();
    const file = join(decisionsDir as string, "decisions.log");
    const text = await until(
      async () => {
        try {
          return readFileSync(file, "utf8");
        } catch {
          return "";
        }
      },
      (s) => s.includes('"subject":"ed"'),
    );
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.result === "deny" && l.route === "orders")).toBe(true);
    expect(text).not.toContain(t);
    expect(text).not.toContain(t.split(".")[2] as string);
  });

  test("the access log names the subject and the decision", async () => {
    const t = await token({ sub: "gus", roles: ["reader"] });
    await (await fetch(`${gw.url}/orders/9`, { headers: { authorization: `Bearer ${t}` } })).arrayBuffer();
    await (await fetch(`${gw.url}/orders/9`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${t}` } })).arrayBuffer();
    const lines = await until(
      async () => gw.access.filter((l) => l.subject === "gus"),
      (ls) => ls.length >= 2,
    );
    expect(lines.map((l) => [l.method, l.status, l.decision])).toEqual([
      ["GET", 200, "allow"],
      ["POST", 403, "deny"],
    ]);
    expect(JSON.stringify(gw.access)).not.toContain(t);
  });

  test("a reload to a policy that does not compile is refused; the running policy keeps deciding", async () => {
    writeFileSync(join(dir, "broken.rego"), "package http\n\nallow if {\n");
    writeFileSync(config, yaml("broken.rego"));
    const res = await fetch(`${gw.admin}/admin/reload`, { method: "POST" });
    const body = (await res.json()) as { applied?: boolean; error?: { code: string } };
    expect(res.status).not.toBe(200);
    expect(JSON.stringify(body)).toContain("FICUS_POLICY_SYNTAX");
    const t = await token({ sub: "fay", roles: ["reader"] });
    expect((await fetch(`${gw.url}/orders/1`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
    writeFileSync(config, yaml("rbac.rego"));
  });
});

describe("sidecar mode from the zero-config flags", () => {
  let gw: Ficus;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir("ficus-sidecar-quick-");
    writeFileSync(join(dir, "rbac.rego"), RBAC);
    gw = await startFicus([
      "--mode",
      "sidecar",
      "--jwks",
      idp.jwksUrl,
      "--audience",
      "orders",
      "--policy",
      join(dir, "rbac.rego"),
      "--query",
      "data.http.allow",
      "--rate-limit",
      "1000/s",
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--workers",
      "1",
    ]);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const check = (method: string, uri: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/check`, { headers: { "x-original-method": method, "x-original-uri": uri, ...headers } });

  test("allowed: 200 with the identity headers for the front to copy upstream", async () => {
    const t = await token({ sub: "ana", roles: ["writer"] });
    const res = await check("POST", "/orders/7", { authorization: `Bearer ${t}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ficus-subject")).toBe("ana");
    expect(res.headers.get("x-ficus-roles")).toBe("writer");
  });

  test("decided on the original request: 401 without a token, 403 for a reader's POST", async () => {
    expect((await check("GET", "/orders/7")).status).toBe(401);
    const t = await token({ sub: "ana", roles: ["reader"] });
    expect((await check("POST", "/orders/7", { authorization: `Bearer ${t}` })).status).toBe(403);
    expect((await check("GET", "/orders/7", { authorization: `Bearer ${t}` })).status).toBe(200);
  });

  test("a check request that names no request is a 400, never an allow", async () => {
    const res = await fetch(`${gw.url}/check`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("FICUS_SIDECAR_BAD_REQUEST");
  });
});

describe("ficus validate checks what a config names", () => {
  test("a policy that does not parse fails validation with its code and position; a good one passes", async () => {
    const dir = tempDir("ficus-validate-policy-");
    writeFileSync(join(dir, "good.rego"), RBAC);
    writeFileSync(join(dir, "bad.rego"), "package http\n\nallow if {\n");
    const cfg = (module: string) =>
      writeConfig(dir, `routes:\n  - name: r\n    match: { prefix: / }\n    upstream: http://127.0.0.1:9\n    authz: { policy: { module: ${module}, query: data.http.allow } }\n`, `${module}.yaml`);
    const bad = await runCli(["validate", "-c", cfg("bad.rego")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("FICUS_POLICY_SYNTAX");
    expect(bad.stderr).toMatch(/bad\.rego:\d+:\d+: rego_parse_error/);
    const good = await runCli(["validate", "-c", cfg("good.rego")]);
    expect(good.code).toBe(0);
  });
});
