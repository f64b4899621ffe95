/**
 * Sidecar mode with the real enforcement layers behind real fronts: a JWK
 * Set served on 127.0.0.1 (keys made here with jose), Ficus started with the
 * CLI in sidecar mode (a config file: JWT auth, an RBAC Rego policy, a
 * per-user rate limit), a real nginx with examples/sidecar/nginx.conf and a
 * real Caddy with examples/sidecar/Caddyfile (ports substituted), and a real
 * upstream that echoes what reached it. Through each front: allowed (the
 * identity Ficus established reaches the upstream, a client's spoofed copy
 * does not), 401 without a token or with a bad one, 403 for a role without
 * the grant, 429 past the limit with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestIdp, type TestIdp } from "../helpers/identity-provider.ts";
import { type Ficus, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { hasTool } from "../helpers/tools.ts";
import { CADDY, NGINX, type RealFront, startCaddy, startNginx } from "../unit/sidecar/fronts.ts";
import { startEchoUpstream } from "../unit/sidecar/harness.ts";

const RBAC = `package http

default allow := false

grants := {
	"reader": {"GET"},
	"writer": {"GET", "POST"},
}

allow if {
	some role in input.identity.roles
	input.method in grants[role]
}
`;

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
}

let idp: TestIdp;
let app: ReturnType<typeof startEchoUpstream>;

function token(sub: string, roles: string[], opts: { scope?: string; exp?: string } = {}): Promise<string> {
  return idp.sign(sub, { roles, scope: opts.scope ?? "orders:read" }, { exp: opts.exp });
}

beforeAll(async () => {
  idp = await startTestIdp();
  app = startEchoUpstream();
});

afterAll(() => {
  app?.stop();
  idp?.stop();
});

function config(dir: string, front: string): string {
  writeFileSync(join(dir, "rbac.rego"), RBAC);
  return writeConfig(
    dir,
    `mode: sidecar
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
sidecar: { front: ${front} }
auth_policies:
  idp:
    jwt: { issuer: https://idp.test, jwks_url: ${idp.jwksUrl}, audience: orders }
    identity_headers: { subject: X-Ficus-Subject, scopes: X-Ficus-Scopes }
routes:
  - name: public
    match: { prefix: /public }
  - name: orders
    match: { prefix: /orders }
    auth: idp
    authz: { policy: { module: ${join(dir, "rbac.rego")}, query: data.http.allow } }
    rate_limit: { limits: [{ name: per-user, rate: 3/m, burst: 3, key: [subject] }] }
`,
  );
}

function scenarios(front: "nginx" | "caddy", start: (ficusPort: number, appPort: number) => Promise<RealFront>): void {
  let gw: Ficus;
  let fr: RealFront;
  beforeAll(async () => {
    gw = await startFicus(["-c", config(tempDir(`ficus-sidecar-real-${front}-`), front)]);
    fr = await start(gw.port, app.port);
  });
  afterAll(async () => {
    await fr?.stop();
    await gw?.stop();
  });

  const send = (path: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${fr.url}${path}`, { method, headers: { host: "api.example.com", ...headers } });
  const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

  test("allowed: the upstream gets the request with the identity from the token, never the client's copy", async () => {
    const t = await token("ana", ["writer"], { scope: "orders:read orders:write" });
    const r = await send("/orders/7?expand=lines", { authorization: `Bearer ${t}`, "x-ficus-subject": "root", "x-ficus-scopes": "admin" }, "POST");
    expect(r.status).toBe(200);
    const echo = (await r.json()) as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.path).toBe("/orders/7?expand=lines");
    expect(echo.headers["x-ficus-subject"]).toBe("ana");
    expect(echo.headers["x-ficus-scopes"]).toBe("orders:read orders:write");
    // Ficus decided on the original request (its access log), not on the subrequest.
    const seen = await waitForAccess(gw, (l) => l.subject === "ana" && l.status !== undefined);
    expect(seen).toMatchObject({ method: "POST", status: 200, route: "orders", decision: "allow" });
    expect(JSON.stringify(gw.access)).not.toContain(t);
  });

  test("a public route: a client's own identity headers never reach the upstream", async () => {
    const r = await send("/public/page", { "x-ficus-subject": "root", "x-ficus-scopes": "admin" });
    expect(r.status).toBe(200);
    const echo = (await r.json()) as Echo;
    // nginx sends no header for an empty value; Caddy copies it empty.
    expect(echo.headers["x-ficus-subject"] ?? "").toBe("");
    expect(echo.headers["x-ficus-scopes"] ?? "").toBe("");
  });

  test("401 without a token (a Bearer challenge, FICUS_AUTH_MISSING) and with a bad one (invalid_token)", async () => {
    const none = await send("/orders/7");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toStartWith("Bearer");
    expect(await errorCode(none)).toBe("FICUS_AUTH_MISSING");
    const bad = await send("/orders/7", { authorization: "Bearer not.a.token" });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await bad.arrayBuffer();
    // Expired: signed by the right key, refused all the same.
    const expired = await send("/orders/7", { authorization: `Bearer ${await token("old", ["writer"], { exp: "-10m" })}` });
    expect(expired.status).toBe(401);
    await expired.arrayBuffer();
  });

  test("403 for a role without the grant (a reader's POST); the same reader may GET", async () => {
    const t = await token("bo", ["reader"]);
    const denied = await send("/orders/7", { authorization: `Bearer ${t}` }, "POST");
    expect(denied.status).toBe(403);
    expect(await errorCode(denied)).toBe("FICUS_AUTHZ_DENIED");
    const ok = await send("/orders/7", { authorization: `Bearer ${t}` });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Echo).headers["x-ficus-subject"]).toBe("bo");
  });

  test("429 past the per-user limit, with Retry-After and the RateLimit fields; another user is not affected", async () => {
    const t = await token("cy", ["reader"]);
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await send("/orders/1", { authorization: `Bearer ${t}` });
      statuses.push(r.status);
      if (r.status === 429 && limited === undefined) limited = r;
      else await r.arrayBuffer();
    }
    // 3 a minute, a burst of 3: exactly three pass whatever the machine's speed.
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    const r = limited as Response;
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get("ratelimit-policy")).toContain('"per-user"');
    expect(await errorCode(r)).toBe("FICUS_RATE_LIMITED");
    const other = await send("/orders/1", { authorization: `Bearer ${await token("dee", ["reader"])}` });
    expect(other.status).toBe(200);
  });
}

async function waitForAccess(gw: Ficus, pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = gw.access.find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`no matching access-log line; seen: ${JSON.stringify(gw.access.slice(-5))}`);
    await Bun.sleep(10);
  }
}

describe.skipIf(!hasTool(NGINX, "the sidecar's real-layers nginx test"))("real layers through nginx auth_request (examples/sidecar/nginx.conf)", () => {
  scenarios("nginx", startNginx);
});

describe.skipIf(!hasTool(CADDY, "the sidecar's real-layers Caddy test"))("real layers through Caddy forward_auth (examples/sidecar/Caddyfile)", () => {
  scenarios("caddy", startCaddy);
});
