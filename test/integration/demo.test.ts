/**
 * `npm start`: the demo comes up, routes inventory to the rewrite and the rest to legacy, secures order writes
 * with tokens of its own issuer (the lines it prints work as pasted), and stops cleanly.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, ROOT } from "../helpers/processes.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

/** Runs a printed `curl -i …` line as pasted, in a shell; returns the status of its answer and its body. */
async function runPrinted(line: string): Promise<{ status: number; body: string }> {
  const proc = Bun.spawn(["sh", "-c", `${line} -s`], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const [head = "", body = ""] = out.split(/\r?\n\r?\n/, 2);
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1] ?? 0), body };
}

test("the demo migrates one route automatically, rolls the buggy one back, secures order writes, and shows why", async () => {
  const proc = Bun.spawn([BUN, join(ROOT, "demo/run.ts")], { stdout: "pipe", stderr: "pipe", env: { ...process.env, DEMO_LISTEN: "127.0.0.1:0", DEMO_ADMIN: "127.0.0.1:0" } });
  let out = "";
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const until = Date.now() + 45_000;
  while (!out.includes("Ctrl-C stops everything") && Date.now() < until) {
    const { done, value } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  try {
    expect(out).toContain("inventory: shadow    orders: canary 10%");
    expect(out).toMatch(/inventory canary 50%\s+→ candidate\s+by controller: promoted from canary 50% to candidate — all gates passed/);
    expect(out).toMatch(/orders\s+canary 10%\s+→ shadow\s+by controller: rolled back from canary 10% to shadow \(held until resumed\) — gate failed: mismatch_rate/);
    expect(out).toContain("Now:  inventory: candidate    orders: shadow (held)");
    // The comparison found the rewrite's bug, with an example, and learned the random trace id as noise.
    expect(out).toMatch(/MISMATCH ×\d+ \[medium\] status 200→200 at \$\.total/);
    expect(out).toMatch(/e\.g\. GET \/orders\/\d: \$\.total legacy=\d+(\.\d+)? rewrite=\d+(\.\d+)?/);
    expect(out).toContain("noise: $.trace");
    expect(out).not.toMatch(/MISMATCH.*(created_at|\$\.trace|\$\.orders)/);
    const gw = out.match(/gateway\s+(http:\/\/\S+)/)?.[1] as string;
    const res = await fetch(`${gw}/inventory/sku-1001`);
    expect(res.headers.get("x-ficus-served-by")).toBe("candidate");
    expect(((await res.json()) as { sku: string }).sku).toBe("sku-1001");
    const missing = await fetch(`${gw}/orders/999`);
    expect(missing.status).toBe(404);
    await missing.text();

    // Reads stay open: no token needed.
    const list = await fetch(`${gw}/orders`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { orders: unknown[] }).orders.length).toBeGreaterThanOrEqual(3);

    // Order writes are secured, and the demo prints how to get a token and three writes: 201, 401, 403.
    const issuer = out.match(/token issuer\s+(http:\/\/127\.0\.0\.1:\d+)/)?.[1] as string;
    expect(issuer).toBeDefined();
    expect(out).toContain(`curl -s -u demo-client:demo-secret -d grant_type=client_credentials ${issuer}/token`);
    const printed = (label: string) => out.match(new RegExp(`${label}[^\\n]*\\n\\s+(curl -i -X POST [^\\n]+)`))?.[1] as string;
    const ok = printed("201 Created");
    const missing401 = printed("401 FICUS_AUTH_MISSING");
    const denied403 = printed("403 FICUS_AUTHZ_DENIED");
    for (const line of [ok, missing401, denied403]) expect(line).toStartWith(`curl -i -X POST ${gw}/orders `);
    const writer = ok.match(/Bearer ([\w.-]+)'/)?.[1] as string;
    const reader = denied403.match(/Bearer ([\w.-]+)'/)?.[1] as string;
    expect(missing401).not.toContain("Authorization");

    // The token endpoint: client credentials by HTTP Basic, a scope subset on request, a wrong secret refused.
    const tokenFor = async (secret: string, scope?: string) =>
      fetch(`${issuer}/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", ...(scope ? { scope } : {}) }),
        headers: { authorization: `Basic ${btoa(`demo-client:${secret}`)}` },
      });
    const fresh = (await (await tokenFor("demo-secret")).json()) as { access_token: string; token_type: string; scope: string };
    expect(fresh).toMatchObject({ token_type: "Bearer", scope: "orders:read orders:write" });
    expect(((await (await tokenFor("demo-secret", "orders:read")).json()) as { scope: string }).scope).toBe("orders:read");
    const wrong = await tokenFor("not-the-secret");
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_client");

    const write = (token?: string, headers: Record<string, string> = {}) =>
      fetch(`${gw}/orders`, {
        method: "POST",
        body: JSON.stringify({ sku: "sku-1003", qty: 1 }),
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      });
    const cases: { name: string; token?: string; status: number; code?: string; challenge?: RegExp }[] = [
      { name: "no token", status: 401, code: "FICUS_AUTH_MISSING", challenge: /^Bearer realm="ficus"$/ },
      { name: "a token that is not a JWT", token: "not-a-jwt", status: 401, code: "FICUS_AUTH_INVALID", challenge: /error="invalid_token"/ },
      { name: "a token without orders:write", token: reader, status: 403, code: "FICUS_AUTHZ_DENIED" },
      { name: "the printed token", token: writer, status: 201 },
      { name: "a token fetched from the issuer", token: fresh.access_token, status: 201 },
    ];
    for (const c of cases) {
      const res = await write(c.token);
      expect({ case: c.name, status: res.status }).toEqual({ case: c.name, status: c.status });
      if (c.code) expect({ case: c.name, code: ((await res.json()) as ErrorBody).error.code }).toEqual({ case: c.name, code: c.code });
      else {
        expect(res.headers.get("x-ficus-served-by")).toBeNull();
        expect(((await res.json()) as { created_by: string }).created_by).toBe("demo-client");
      }
      if (c.challenge) expect(res.headers.get("www-authenticate") ?? "").toMatch(c.challenge);
    }
    // The identity upstream is the verified one: a client's own X-Ficus-Subject is removed.
    const spoofed = await write(writer, { "x-ficus-subject": "admin" });
    expect(spoofed.status).toBe(201);
    expect(((await spoofed.json()) as { created_by: string }).created_by).toBe("demo-client");

    // The printed lines work as pasted.
    if (!Bun.which("curl") && !process.env.CI) console.warn("skipping the printed curl lines: curl is not installed");
    else {
      expect((await runPrinted(ok)).status).toBe(201);
      const r401 = await runPrinted(missing401);
      expect({ status: r401.status, code: (JSON.parse(r401.body) as ErrorBody).error.code }).toEqual({ status: 401, code: "FICUS_AUTH_MISSING" });
      const r403 = await runPrinted(denied403);
      expect({ status: r403.status, code: (JSON.parse(r403.body) as ErrorBody).error.code }).toEqual({ status: 403, code: "FICUS_AUTHZ_DENIED" });
    }

    // AI agents: the API as MCP tools at /mcp, from the OpenAPI document legacy serves; the printed inspector lines work.
    const inspector = [...out.matchAll(/^\s+(\(cd demo && npx @modelcontextprotocol\/inspector-cli [^\n]+\))$/gm)].map((m) => m[1] as string);
    expect(inspector.length).toBe(2);
    for (const line of inspector) expect(line).toContain(`${gw}/mcp`);
    const runInspector = async (line: string) => {
      const p = Bun.spawn(["sh", "-c", line], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const [text, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(code, err).toBe(0);
      return JSON.parse(text) as Record<string, unknown>;
    };
    // Without a token, the policy hides the order tools from the list.
    const tools = ((await runInspector(inspector[0] as string)).tools as { name: string }[]).map((t) => t.name).sort();
    expect(tools).toEqual(["getItem", "listItems"]);
    const items = await runInspector(inspector[1] as string);
    expect(JSON.parse(((items.content as { text: string }[])[0] as { text: string }).text).items.length).toBeGreaterThanOrEqual(3);
    // Governance as the demo shows it: a policy denial, a quota refusal on the 4th call, a cache hit.
    expect(out).toMatch(/denied by policy, getOrder: .*orders are for signed-in agents/);
    expect(out).toMatch(/call 3: answered\n\s+call 4: refused: rate limit per-agent exceeded for getItem; retry after \d+ s/);
    expect(out).toMatch(/cache, listItems asked twice: the second answer came from Ficus's cache \(age \d+ ms\)/);
  } finally {
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  }
});
