/**
 * edge-mcp governance benchmarks (docs/benchmarks.md, "edge-mcp governance"):
 *
 * 1. Added p50 of a tools/call with JWT authentication, a Rego policy, a
 *    quota and a cache miss, over the same gateway without governance.
 * 2. A cache hit: its time inside the gateway (the access log's
 *    duration_ms), p50.
 * 3. Throughput with governance (JWT + Rego + quota), against without.
 *
 *   bun bench/mcp-governance.ts [--seconds 10]
 *
 * The tool is a declared HTTP tool routed through the gateway to
 * test/fixtures/mcp/orders-api.ts. Guardrails, which are on by default, are
 * set the same in both gateways (argument checks and redaction off), so the
 * rows measure what the issue names. Ficus is pinned to core 0; the API, the
 * JWKS server and the load generator run on core 1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { latency } from "./lib/latency.ts";
import { PIN, start, startFicus, which } from "./lib/processes.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;
const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf("--seconds") + 1] ?? 10) || 10;
const META = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
function call(id: string, token?: string): Uint8Array {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_order", arguments: { id }, _meta: META } });
  const head = [
    "POST /mcp HTTP/1.1",
    "Host: 127.0.0.1",
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    "MCP-Protocol-Version: 2026-07-28",
    "Mcp-Method: tools/call",
    "Mcp-Name: get_order",
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return new TextEncoder().encode(`${head.join("\r\n")}\r\n\r\n${body}`);
}

const dir = mkdtempSync(join(tmpdir(), "ficus-bench-gov-"));
const api = await start([BUN, join(ROOT, "test/fixtures/mcp/orders-api.ts")], 1, /listening (\d+)/);
const apiPort = Number(api.match[1]);

// A JWKS server and a token (RS256), as an identity provider would give them.
const { publicKey, privateKey } = await generateKeyPair("RS256");
const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
const jwks = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ keys: [jwk] }) });
const token = await new SignJWT({ scope: "orders:read", tenant: "acme" }).setProtectedHeader({ alg: "RS256", kid: "k1" }).setIssuer("https://idp.bench").setAudience("ficus-bench").setSubject("alice").setIssuedAt().setExpirationTime("2h").sign(privateKey);

writeFileSync(join(dir, "tools.rego"), `package mcp\n\nimport rego.v1\n\ndefault decision := {"allow": false, "message": "not allowed"}\n\ndecision := {"allow": true} if {\n\tinput.identity.subject == "alice"\n\tinput.tool.name in {"get_order"}\n}\n`);
const tool = `      tools:
        - name: get_order
          input_schema: { type: object, properties: { id: { type: string } }, required: [id] }
          annotations: { readOnlyHint: true }
          call: { path: "/orders/{id}" }`;
const common = (extra: string, source: string, route: string) => `
mode: edge-mcp
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
access_log: { enabled: false }
${extra}
mcp:
  pinning: { mode: off }
  snapshots: { enabled: false }
  guardrails: { validate_arguments: false, redact: { defaults: false } }
  sources:
    shop:
      prefix: ""
${tool}
${source}
routes:
  - name: orders
    match: { prefix: /orders }
    upstream: http://127.0.0.1:${apiPort}
  - name: mcp
    match: { path: /mcp }
${route}
`;
const plain = join(dir, "plain.yaml");
writeFileSync(plain, common("", "", "    mcp: {}"));
const governed = join(dir, "governed.yaml");
writeFileSync(
  governed,
  common(
    `auth_policies:\n  idp:\n    jwt: { jwks_url: "http://127.0.0.1:${jwks.port}/jwks", issuer: "https://idp.bench", audience: ficus-bench, algorithms: [RS256] }`,
    `      per_tool:\n        get_order: { cache: { ttl: 1m } }`,
    `    auth: idp\n    mcp:\n      policy: { module: ${join(dir, "tools.rego")}, query: data.mcp.decision }\n      quotas: [{ name: per-user, rate: 1000000/s, key: [principal, tool] }]`,
  ),
);
const governedLogged = join(dir, "governed-logged.yaml");
writeFileSync(governedLogged, readFileSync(governed, "utf8").replace("access_log: { enabled: false }", "access_log: { enabled: true }"));
const throughputGoverned = join(dir, "governed-nocache.yaml");
writeFileSync(
  throughputGoverned,
  common(
    `auth_policies:\n  idp:\n    jwt: { jwks_url: "http://127.0.0.1:${jwks.port}/jwks", issuer: "https://idp.bench", audience: ficus-bench, algorithms: [RS256] }`,
    "",
    `    auth: idp\n    mcp:\n      policy: { module: ${join(dir, "tools.rego")}, query: data.mcp.decision }\n      quotas: [{ name: per-user, rate: 1000000/s, key: [principal, tool] }]`,
  ),
);

const ficus = (config: string) => startFicus(config, 0);

function wrk(port: number, withToken: boolean): number {
  if (!which("wrk")) return Number.NaN;
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_order", arguments: { id: "1" }, _meta: META } });
  const lua = join(dir, `call-${withToken}.lua`);
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "get_order" };
  if (withToken) headers.Authorization = `Bearer ${token}`;
  writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n${Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join("\n")}\n`);
  const out = new TextDecoder().decode(Bun.spawnSync([...(PIN ? ["taskset", "-c", "1"] : []), "wrk", "-t", "1", "-c", "32", "-d", `${SECONDS}s`, "-s", lua, `http://127.0.0.1:${port}/mcp`]).stdout);
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

const N = Math.max(3000, SECONDS * 400);
const rows: { measure: string; value: string; target: string; ok: boolean }[] = [];

const a = await ficus(plain);
const base = await latency(a.port, (i) => call(`p${i}`), N);
const baseRps = wrk(a.port, false);
a.proc.kill("SIGTERM");
await a.proc.exited;

const b = await ficus(governed);
// Every call asks for another order: the cache misses each time (and stores).
const gov = await latency(b.port, (i) => call(`g${i}`, token), N);
const added = gov.p50 - base.p50;
rows.push({ measure: "tools/call with JWT + Rego + quota + cache miss: added p50 over no governance", value: `${(added * 1000).toFixed(0)} µs (${gov.p50.toFixed(3)} vs ${base.p50.toFixed(3)} ms)`, target: "≤ 0.3 ms", ok: added <= 0.3 });
b.proc.kill("SIGTERM");
await b.proc.exited;

// A cache hit, timed inside the gateway by its access log.
const c = await ficus(governedLogged);
await latency(c.port, () => call("hit", token), 1); // the miss that fills the entry
const before = c.lines.length;
const hits = await latency(c.port, () => call("hit", token), N);
await Bun.sleep(300); // the access log is flushed every 100 ms
const inside = c.lines
  .slice(before)
  .filter((l) => l.includes('"mcp_tool":"get_order"'))
  .map((l) => (JSON.parse(l) as { duration_ms: number }).duration_ms)
  .slice(Math.floor(N / 10))
  .sort((x, y) => x - y);
const insideP50 = inside[Math.floor(inside.length / 2)] ?? Number.NaN;
rows.push({ measure: "cache hit: time inside the gateway (access log), p50", value: `${(insideP50 * 1000).toFixed(0)} µs (round trip p50 ${hits.p50.toFixed(3)} ms, ${inside.length} lines)`, target: "≤ 0.1 ms", ok: insideP50 <= 0.1 });
c.proc.kill("SIGTERM");
await c.proc.exited;

const d = await ficus(throughputGoverned);
const govRps = wrk(d.port, true);
rows.push({ measure: "throughput with JWT + Rego + quota, against none (wrk -c 32, Ficus on one core)", value: `${(govRps / baseRps).toFixed(2)}× (${Math.round(govRps)} vs ${Math.round(baseRps)} calls/s)`, target: "≥ 0.8×", ok: govRps / baseRps >= 0.8 });
d.proc.kill("SIGTERM");
await d.proc.exited;

console.log(`edge-mcp governance benchmark (${new Date().toISOString()}, ${SECONDS} s per throughput run, ${PIN ? "Ficus pinned to core 0" : "not pinned"})\n`);
console.log("| Measure | Result | Target | |\n|---|---|---|---|");
for (const r of rows) console.log(`| ${r.measure} | ${r.value} | ${r.target} | ${r.ok ? "✓" : "✗"} |`);
jwks.stop(true);
process.exit(0);
