/**
 * What every real front must show with its example configuration: the
 * client talks to the front, the front asks Ficus (sidecar mode, the test
 * enforcement layers of harness.ts), the upstream is a real server that
 * echoes what it received.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RealFront } from "./fronts.ts";
import { type SidecarServer, startEchoUpstream, startSidecar } from "./harness.ts";

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export function frontScenarios(sidecar: { front: string }, start: (ficusPort: number, appPort: number) => Promise<RealFront>, opts: { jsonDenials: "full" | "code-only" }): void {
  let sc: SidecarServer;
  let app: ReturnType<typeof startEchoUpstream>;
  let front: RealFront;
  beforeAll(async () => {
    sc = await startSidecar({ sidecar });
    app = startEchoUpstream();
    front = await start(sc.port, app.port);
  });
  afterAll(async () => {
    await front?.stop();
    app?.stop();
    await sc?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${front.url}${path}`, { method, headers: { host: "api.example.com", ...headers } });
  const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

  test("allowed: the upstream gets the request with the identity Ficus established", async () => {
    const r = await get("/orders/7?expand=lines", { authorization: "Bearer alice:orders:write" }, "POST");
    expect(r.status).toBe(200);
    const echo = (await r.json()) as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.path).toBe("/orders/7?expand=lines");
    expect(echo.headers["x-ficus-subject"]).toBe("alice");
    expect(echo.headers["x-ficus-scopes"]).toBe("orders:write");
    // Ficus decided on the original request, not on the subrequest.
    expect(sc.seen.at(-1)).toMatchObject({ method: "POST", path: "/orders/7", query: "?expand=lines", host: "api.example.com", route: "orders", status: 200 });
  });

  test("a client's own identity headers never reach the upstream", async () => {
    const r = await get("/public/page", { "x-ficus-subject": "root", "x-ficus-scopes": "admin" });
    expect(r.status).toBe(200);
    const echo = (await r.json()) as Echo;
    // nginx sends no header for an empty value; Caddy 2.6 copies it empty.
    expect(echo.headers["x-ficus-subject"] ?? "").toBe("");
    expect(echo.headers["x-ficus-scopes"] ?? "").toBe("");
    const spoofed = await get("/orders/1", { authorization: "Bearer bob", "x-ficus-subject": "root" });
    expect(((await spoofed.json()) as Echo).headers["x-ficus-subject"]).toBe("bob");
  });

  test("401 without a token, with WWW-Authenticate and a JSON body naming the code", async () => {
    const r = await get("/orders/7");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Bearer realm="ficus"');
    expect(await errorCode(r)).toBe("FICUS_AUTH_MISSING");
  });

  test("403 denied by policy", async () => {
    const r = await get("/admin/users", { authorization: "Bearer carol:orders:read" });
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe("FICUS_AUTHZ_DENIED");
  });

  test("429 rate limited, with Retry-After", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await get("/limited", { authorization: "Bearer dave" });
      statuses.push(last.status);
      if (i < 2) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 429]);
    const r = last as Response;
    expect(r.headers.get("retry-after")).toBe("7");
    expect(r.headers.get("ratelimit-policy")).toBe('"route";q=2;w=60');
    const body = (await r.json()) as { error: { code: string; request_id: string; message: string } };
    expect(body.error.code).toBe("FICUS_RATE_LIMITED");
    expect(body.error.request_id).toBeTruthy();
    if (opts.jsonDenials === "full") expect(body.error.message).toContain("limit of 2");
  });

  test("the path is normalized before deciding: /public/../admin is /admin", async () => {
    const r = await fetch(`${front.url}/public/%2e%2e/admin/x`, { headers: { host: "api.example.com" } });
    expect(r.status).toBe(401);
  });
}
