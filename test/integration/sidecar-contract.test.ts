/**
 * The sidecar's contract with each front, over real sockets: check requests
 * written byte for byte as each front sends them.
 *
 * - Traefik forwardAuth (not installable here): Traefik sends a GET to the
 *   auth address with the client's headers copied, Host set to the auth
 *   server, and X-Forwarded-Method, -Proto, -Host, -Uri, -For set by itself.
 * - Envoy ext_authz, HTTP service (not installable here): the client's
 *   method, path_prefix + the original path and query, the original Host
 *   (:authority), Content-Length: 0, the allowed headers (Authorization is
 *   always among them) and x-forwarded-for when allowed.
 * - nginx and Caddy are also tested for real (sidecar-nginx, sidecar-caddy);
 *   here, the corner cases their contracts share.
 *
 * The enforcement layers are the test stand-ins of harness.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rawRequest } from "../helpers/processes.ts";
import { type SidecarServer, startSidecar } from "../unit/sidecar/harness.ts";

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Sends one check request (head lines without the request line's CRLF) and reads the answer. */
async function check(port: number, requestLine: string, headers: string[]): Promise<Answer> {
  const text = await rawRequest(port, `${requestLine}\r\n${[...headers, "Connection: close"].join("\r\n")}\r\n\r\n`);
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split).split("\r\n");
  const status = Number((head[0] as string).split(" ")[1]);
  const map = new Map<string, string>();
  for (const l of head.slice(1)) {
    const c = l.indexOf(":");
    map.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
  }
  return { status, headers: map, body: text.slice(split + 4) };
}

const code = (a: Answer) => (JSON.parse(a.body) as { error: { code: string } }).error.code;

/** Exactly what Traefik's forwardAuth sends for `method uri` on `host` from `client`. */
function traefik(port: number, method: string, uri: string, host: string, client: string, extra: string[] = []): Promise<Answer> {
  return check(port, "GET / HTTP/1.1", [
    `Host: 127.0.0.1:${port}`,
    "User-Agent: curl/8.5.0",
    "Accept: */*",
    ...extra,
    `X-Forwarded-For: ${client}`,
    `X-Forwarded-Host: ${host}`,
    `X-Forwarded-Method: ${method}`,
    "X-Forwarded-Port: 443",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Server: traefik-7d9f",
    `X-Forwarded-Uri: ${uri}`,
    "X-Real-Ip: " + client,
    "Accept-Encoding: gzip",
  ]);
}

/** Exactly what Envoy's ext_authz HTTP service sends (path_prefix /ficus, allowed_headers authorization + x-forwarded-for). */
function envoy(port: number, method: string, pathAndQuery: string, host: string, extra: string[] = []): Promise<Answer> {
  return check(port, `${method} /ficus${pathAndQuery} HTTP/1.1`, [
    `host: ${host}`,
    "content-length: 0",
    ...extra,
    "x-forwarded-for: 198.51.100.23",
    "x-forwarded-proto: https",
    "x-envoy-internal: true",
    "x-envoy-expected-rq-timeout-ms: 200",
  ]);
}

describe("Traefik forwardAuth (an HTTP client sending what Traefik sends)", () => {
  let sc: SidecarServer;
  beforeAll(async () => {
    sc = await startSidecar({ sidecar: { front: "traefik" } });
  });
  afterAll(() => sc.stop());

  test("allowed: 200, empty body, the identity headers for authResponseHeaders; the layers saw the original request", async () => {
    const a = await traefik(sc.port, "POST", "/orders/7?expand=lines", "api.example.com", "203.0.113.9", ["Authorization: Bearer alice:orders:write"]);
    expect(a.status).toBe(200);
    expect(a.body).toBe("");
    expect(a.headers.get("content-length")).toBe("0");
    expect(a.headers.get("x-ficus-subject")).toBe("alice");
    expect(a.headers.get("x-ficus-scopes")).toBe("orders:write");
    expect(a.headers.get("x-request-id")).toBeTruthy();
    expect(sc.seen.at(-1)).toEqual({ method: "POST", path: "/orders/7", query: "?expand=lines", host: "api.example.com", peer: "203.0.113.9", tls: true, status: 200, route: "orders" });
  });

  test("401 without a token, with WWW-Authenticate and the JSON body (Traefik passes the answer to the client as is)", async () => {
    const a = await traefik(sc.port, "GET", "/orders/7", "api.example.com", "203.0.113.9");
    expect(a.status).toBe(401);
    expect(a.headers.get("www-authenticate")).toBe('Bearer realm="ficus"');
    expect(code(a)).toBe("FICUS_AUTH_MISSING");
    // The nginx marks are for nginx only.
    expect(a.headers.has("x-ficus-status")).toBe(false);
  });

  test("403 denied by policy", async () => {
    const a = await traefik(sc.port, "DELETE", "/admin/users/3", "api.example.com", "203.0.113.9", ["Authorization: Bearer bob:orders:read"]);
    expect(a.status).toBe(403);
    expect(code(a)).toBe("FICUS_AUTHZ_DENIED");
  });

  test("429 rate limited, with Retry-After and the RateLimit headers", async () => {
    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let i = 0; i < 3; i++) {
      last = await traefik(sc.port, "GET", "/limited", "api.example.com", "203.0.113.9", ["Authorization: Bearer carol"]);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last?.headers.get("retry-after")).toBe("7");
    expect(last?.headers.get("ratelimit-policy")).toBe('"route";q=2;w=60');
    expect(code(last as Answer)).toBe("FICUS_RATE_LIMITED");
  });

  test("the original host routes: X-Forwarded-Host, not the check request's Host", async () => {
    const a = await traefik(sc.port, "GET", "/only", "api.example.com", "203.0.113.9", ["Authorization: Bearer dave"]);
    expect(a.status).toBe(200);
    expect(sc.seen.at(-1)?.route).toBe("by-host");
    const other = await traefik(sc.port, "GET", "/only", "www.example.com", "203.0.113.9", ["Authorization: Bearer dave"]);
    expect(other.status).toBe(404);
  });

  test("a client cannot spoof identity headers: its copies are removed before any layer runs", async () => {
    // No enforcement layer touches route public: what comes back is what the entry layer let through.
    const a = await traefik(sc.port, "GET", "/public/x", "api.example.com", "203.0.113.9", ["X-Ficus-Subject: root", "x-ficus-scopes: admin"]);
    expect(a.status).toBe(200);
    // Present and empty: a front copying the header overwrites the client's copy.
    expect(a.headers.get("x-ficus-subject")).toBe("");
    expect(a.headers.get("x-ficus-scopes")).toBe("");
  });

  test("the path is normalized as in proxy mode: /public/../admin is decided as /admin", async () => {
    const a = await traefik(sc.port, "GET", "/public/../admin/x", "api.example.com", "203.0.113.9");
    expect(a.status).toBe(401);
    expect(sc.seen.at(-1)).toMatchObject({ path: "/admin/x", route: "admin" });
    const encoded = await traefik(sc.port, "GET", "/public/%2e%2e/admin/x", "api.example.com", "203.0.113.9");
    expect(encoded.status).toBe(401);
  });

  test("with front: traefik, nginx's headers are ignored (a client could have sent them)", async () => {
    const a = await traefik(sc.port, "GET", "/admin/x", "api.example.com", "203.0.113.9", ["X-Original-URI: /public/x", "X-Original-Method: GET"]);
    expect(a.status).toBe(401);
  });

  test.each([
    [["X-Forwarded-Method: GET"], "X-Forwarded-URI is missing"],
    [["X-Forwarded-Uri: /orders"], "X-Forwarded-Method is missing"],
    [["X-Forwarded-Method: GET", "X-Forwarded-Uri: /a", "X-Forwarded-Uri: /b"], "appears more than once"],
    [["X-Forwarded-Method: G ET", "X-Forwarded-Uri: /a"], "not an HTTP method"],
    [["X-Forwarded-Method: GET", "X-Forwarded-Uri: http://evil/admin"], "is not a path"],
    [["X-Forwarded-Method: GET", "X-Forwarded-Uri: *"], "is not a path"],
    [["X-Forwarded-Method: GET", "X-Forwarded-Uri: /a", "X-Forwarded-Host: a b"], "X-Forwarded-Host is not a host"],
  ])("a check request that does not name a request: 400 FICUS_SIDECAR_BAD_REQUEST (%p)", async (headers, why) => {
    const a = await check(sc.port, "GET / HTTP/1.1", [`Host: 127.0.0.1:${sc.port}`, ...headers]);
    expect(a.status).toBe(400);
    expect(code(a)).toBe("FICUS_SIDECAR_BAD_REQUEST");
    expect(a.body).toContain(why);
  });
});

describe("Envoy ext_authz HTTP service (an HTTP client sending what Envoy sends)", () => {
  let sc: SidecarServer;
  beforeAll(async () => {
    sc = await startSidecar({ sidecar: { front: "envoy", envoy_path_prefix: "/ficus" } });
  });
  afterAll(() => sc.stop());

  test("allowed: 200 with the identity headers for allowed_upstream_headers; the original method, path, host and client", async () => {
    const a = await envoy(sc.port, "PUT", "/admin/users/3?dry=1", "api.example.com", ["authorization: Bearer erin:admin"]);
    expect(a.status).toBe(200);
    expect(a.headers.get("x-ficus-subject")).toBe("erin");
    expect(sc.seen.at(-1)).toEqual({ method: "PUT", path: "/admin/users/3", query: "?dry=1", host: "api.example.com", peer: "198.51.100.23", tls: true, status: 200, route: "admin" });
  });

  test("401, 403 and 429 with their headers and JSON bodies (Envoy sends them to the client)", async () => {
    const missing = await envoy(sc.port, "GET", "/orders", "api.example.com");
    expect([missing.status, code(missing), missing.headers.get("www-authenticate")]).toEqual([401, "FICUS_AUTH_MISSING", 'Bearer realm="ficus"']);
    const denied = await envoy(sc.port, "GET", "/admin", "api.example.com", ["authorization: Bearer frank"]);
    expect([denied.status, code(denied)]).toEqual([403, "FICUS_AUTHZ_DENIED"]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await envoy(sc.port, "GET", "/limited", "api.example.com", ["authorization: Bearer gina"])).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  test("a path without the prefix is refused, never decided as is", async () => {
    const a = await check(sc.port, "GET /admin HTTP/1.1", ["host: api.example.com", "content-length: 0"]);
    expect(a.status).toBe(400);
    expect(code(a)).toBe("FICUS_SIDECAR_BAD_REQUEST");
    const joined = await check(sc.port, "GET /ficusadmin HTTP/1.1", ["host: api.example.com", "content-length: 0"]);
    expect(joined.status).toBe(400);
  });

  test("with front: envoy, X-Original-URI and X-Forwarded-Uri are the client's headers, never read", async () => {
    const a = await envoy(sc.port, "GET", "/admin/x", "api.example.com", ["x-original-uri: /public", "x-forwarded-uri: /public", "x-forwarded-method: GET"]);
    expect(a.status).toBe(401);
  });
});

describe("auto: nginx or Caddy/Traefik told by the headers, never a guess", () => {
  let sc: SidecarServer;
  beforeAll(async () => {
    sc = await startSidecar();
  });
  afterAll(() => sc.stop());

  test("X-Original-* (nginx): 429 carries X-Ficus-Status and X-Ficus-Code for nginx's error_page", async () => {
    const h = ["Host: api.example.com", "X-Original-Method: GET", "X-Original-URI: /limited", "Authorization: Bearer hal"];
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++) answers.push(await check(sc.port, "GET /_ficus/check HTTP/1.1", h));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[0]?.headers.has("x-ficus-status")).toBe(false);
    expect(answers[2]?.headers.get("x-ficus-status")).toBe("429");
    expect(answers[2]?.headers.get("x-ficus-code")).toBe("FICUS_RATE_LIMITED");
    expect(answers[2]?.headers.get("retry-after")).toBe("7");
  });

  test("X-Forwarded-* (Caddy, Traefik)", async () => {
    const a = await check(sc.port, "GET / HTTP/1.1", ["Host: api.example.com", "X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders", "Authorization: Bearer ivy"]);
    expect(a.status).toBe(200);
    expect(a.headers.get("x-ficus-subject")).toBe("ivy");
  });

  test("both families: refused (either could be the client's), and neither: refused", async () => {
    const both = await check(sc.port, "GET / HTTP/1.1", ["Host: a", "X-Original-Method: GET", "X-Original-URI: /public", "X-Forwarded-Method: GET", "X-Forwarded-Uri: /admin"]);
    expect([both.status, code(both)]).toEqual([400, "FICUS_SIDECAR_BAD_REQUEST"]);
    expect(both.body).toContain("set sidecar.front");
    const neither = await check(sc.port, "GET /admin HTTP/1.1", ["Host: a"]);
    expect([neither.status, code(neither)]).toEqual([400, "FICUS_SIDECAR_BAD_REQUEST"]);
  });

  test("the checks are counted by route, front and result", async () => {
    const text = JSON.stringify(sc.metrics.registry.json().find((m) => m.name === "ficus_sidecar_checks_total"));
    expect(text).toContain('"route":"limited","front":"nginx","result":"deny"');
    expect(text).toContain('"route":"orders","front":"forwarded","result":"allow"');
    expect(text).toContain('"result":"error"');
  });
});

describe("trusted fronts", () => {
  test("X-Forwarded-For and X-Forwarded-Proto from a connection that is not a trusted front are ignored", async () => {
    const sc = await startSidecar({ sidecar: { front: "caddy", trusted_fronts: ["10.9.9.9"] } });
    try {
      const a = await check(sc.port, "GET / HTTP/1.1", ["Host: a", "X-Forwarded-Method: GET", "X-Forwarded-Uri: /public", "X-Forwarded-For: 203.0.113.1", "X-Forwarded-Proto: https"]);
      expect(a.status).toBe(200);
      expect(sc.seen.at(-1)).toMatchObject({ peer: "127.0.0.1", tls: false });
    } finally {
      await sc.stop();
    }
  });
});
