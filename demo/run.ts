/**
 * `npm start`: the self-contained demo. Starts the Python legacy service, the
 * TypeScript rewrite and a small token issuer (demo/issuer/server.ts) on free
 * ports of 127.0.0.1, then the gateway with demo/ficus.yaml,
 * drives read traffic from many users while the controller promotes the
 * healthy route to the rewrite step by step and rolls the buggy one back,
 * prints that story from the audit trail and what the comparison found (the
 * bug with an example; harmless differences equal or learned as noise), the
 * URLs and curl lines to try — with the secured order writes, how to get a
 * token and three ready-to-paste writes (201, 401, 403) — and runs until Ctrl-C.
 *
 * Environment: DEMO_LISTEN (default 127.0.0.1:8080), DEMO_ADMIN (127.0.0.1:9901).
 * To extend it, add an endpoint to both services and a route to ficus.yaml.
 */
import type { Subprocess } from "bun";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DIR = import.meta.dir;
const children: Subprocess[] = [];

function stopAll(code: number): never {
  for (const c of children) c.kill("SIGTERM");
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return buf.split("\n")[0] ?? "";
}

/** Starts a service that prints {"port":N,...} as its first line, and returns that line. */
async function startService(cmd: string[], name: string): Promise<{ port: number; issuer?: string }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit" });
  children.push(proc);
  const line = await firstLine(proc.stdout as ReadableStream<Uint8Array>);
  try {
    const started = JSON.parse(line) as { port: number; issuer?: string };
    if (typeof started.port !== "number") throw new Error("no port");
    return started;
  } catch {
    console.error(`demo: the ${name} service did not start (${line || "no output"})`);
    return stopAll(1);
  }
}

const python = Bun.which("python3") ?? Bun.which("python");
if (!python) {
  console.error("demo: python3 is needed for the legacy service");
  process.exit(1);
}
const [{ port: legacyPort }, { port: rewritePort }, { issuer = "" }] = await Promise.all([
  startService([python, join(DIR, "legacy/app.py"), "--port", "0"], "legacy"),
  startService([process.execPath, join(DIR, "rewrite/server.ts"), "0"], "rewrite"),
  startService([process.execPath, join(DIR, "issuer/server.ts"), "0"], "issuer"),
]);

const listen = process.env.DEMO_LISTEN ?? "127.0.0.1:8080";
const admin = process.env.DEMO_ADMIN ?? "127.0.0.1:9901";
const gateway = Bun.spawn([process.execPath, join(DIR, "../src/cli/main.ts"), "start", "-c", join(DIR, "ficus.yaml")], {
  stdout: "ignore",
  stderr: "pipe",
  env: {
    ...process.env,
    LEGACY_URL: `http://127.0.0.1:${legacyPort}`,
    REWRITE_URL: `http://127.0.0.1:${rewritePort}`,
    DEMO_ISSUER: issuer,
    DEMO_LISTEN: listen,
    DEMO_ADMIN: admin,
    // A fresh results store per run, so the report shows this run only.
    DEMO_STORE: join(mkdtempSync(join(tmpdir(), "ficus-demo-")), "results.db"),
    DEMO_PINS: join(mkdtempSync(join(tmpdir(), "ficus-demo-pins-")), "pins.db"),
  },
});
children.push(gateway);
gateway.exited.then((code) => {
  console.error(`demo: the gateway exited (${code})`);
  stopAll(1);
});

// Wait for the gateway's "listening" and "admin listening" log lines (they carry the real ports).
const addresses: Record<string, string> = {};
const reader = (gateway.stderr as ReadableStream<Uint8Array>).getReader();
let pending = "";
while (!addresses.listening || !addresses["admin listening"]) {
  const { done, value } = await reader.read();
  if (done) stopAll(1);
  pending += new TextDecoder().decode(value);
  let i = pending.indexOf("\n");
  while (i >= 0) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    i = pending.indexOf("\n");
    try {
      const rec = JSON.parse(line) as { msg?: string; address?: string; level?: string };
      if (rec.msg === "listening" || rec.msg === "admin listening") addresses[rec.msg] = rec.address as string;
      else if (rec.level === "error") console.error(line);
    } catch {
      console.error(line);
    }
  }
}
// Keep draining the gateway's log so it never blocks on a full pipe.
void (async () => {
  for (;;) if ((await reader.read()).done) break;
})();

const gw = `http://${addresses.listening}`;
const adminUrl = `http://${addresses["admin listening"]}`;

interface RouteReport {
  route: string;
  stage: string;
  percent: number;
  paused: boolean;
  compared: number;
  matched: number;
  mismatched: number;
  noise_only: number;
  latency: { legacy: { p50_ms: number }; candidate: { p50_ms: number } };
  signatures: { id: string; count: number; status: [number, number]; paths: string[]; severity: string }[];
  noise: { path: string; source: string; why: string }[];
}
const readReport = async () =>
  Object.fromEntries(((await (await fetch(`${adminUrl}/admin/migrations`)).json()) as { routes: RouteReport[] }).routes.map((r) => [r.route, r])) as Record<string, RouteReport>;
const where = (r: RouteReport | undefined) => (!r ? "?" : r.stage === "canary" ? `canary ${r.percent}%` : `${r.stage}${r.paused ? " (held)" : ""}`);

const before = await readReport();
const start = `  inventory: ${where(before.inventory)}    orders: ${where(before.orders)}`;

// Real traffic, from many users: reads of inventory and orders. The controller promotes inventory while its gates
// pass and rolls orders back when the mismatch gate fails; comparison runs on every request all along.
const reads = ["/inventory", "/inventory/sku-1001", "/inventory/sku-1002", "/orders", "/orders/1", "/orders/2", "/orders/3"];
let user = 0;
const drive = async (rounds: number) => {
  for (let i = 0; i < rounds; i++) {
    await Promise.all(
      reads.map(async (p) => {
        user++;
        await (await fetch(gw + p, { headers: { "x-user-id": `user-${user}` } })).arrayBuffer();
      }),
    );
  }
};
const until = Date.now() + 30_000;
let now = await readReport();
while ((now.inventory?.stage !== "candidate" || !now.orders?.paused) && Date.now() < until) {
  await drive(10);
  now = await readReport();
}
// Some more traffic in the final stages, so the report of the rolled-back route settles.
await drive(10);
await Bun.sleep(300);
now = await readReport();

const events = ((await (await fetch(`${adminUrl}/admin/events`)).json()) as {
  events: { time: string; route: string; action: string; actor: string; from: { stage: string; percent: number }; to: { stage: string; percent: number }; message: string }[];
}).events.reverse();
const step = (s: { stage: string; percent: number }) => (s.stage === "canary" ? `canary ${s.percent}%` : s.stage);
const story = events.map((e) => `  ${e.time.slice(11, 19)}  ${e.route.padEnd(9)} ${step(e.from).padEnd(11)} → ${step(e.to).padEnd(11)} by ${e.actor}: ${e.message}`);

const findings: string[] = [];
const orders = now.orders;
if (orders) {
  findings.push(
    `  compared ${orders.compared}: ${orders.matched} equal, ${orders.noise_only} differing only by noise, ${orders.mismatched} mismatched`,
    `  latency p50: legacy ${orders.latency.legacy.p50_ms} ms, rewrite ${orders.latency.candidate.p50_ms} ms`,
  );
  for (const n of orders.noise) findings.push(`  noise: ${n.path} — ${n.why}`);
  for (const sig of orders.signatures) {
    findings.push(`  MISMATCH ×${sig.count} [${sig.severity}] status ${sig.status[0]}→${sig.status[1]} at ${sig.paths.join(", ")}`);
    const samples = (await (await fetch(`${adminUrl}/admin/migrations/orders/signatures/${sig.id}/samples`)).json()) as {
      samples: { request: { method: string; path: string }; differences: { path: string; legacy: unknown; candidate: unknown }[] }[];
    };
    const ex = samples.samples.find((x) => x.differences.some((d) => sig.paths.includes(d.path.replace(/\[\d+\]|\[[^\]=]+=[^\]]*\]/g, "[*]"))));
    const d = ex?.differences.find((x) => sig.paths.includes(x.path.replace(/\[\d+\]|\[[^\]=]+=[^\]]*\]/g, "[*]")));
    if (ex && d) findings.push(`    e.g. ${ex.request.method} ${ex.request.path}: ${d.path} legacy=${JSON.stringify(d.legacy)} rewrite=${JSON.stringify(d.candidate)}`);
  }
}

// The secured route: two tokens from the issuer, fetched as a client would (client credentials), one with every
// scope of the client and one with orders:read only, for ready-to-paste writes that pass and that are refused.
const CLIENT = { id: "demo-client", secret: "demo-secret" };
async function getToken(scope?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: "client_credentials", ...(scope ? { scope } : {}) });
  const res = await fetch(`${issuer}/token`, { method: "POST", body: form, headers: { authorization: `Basic ${btoa(`${CLIENT.id}:${CLIENT.secret}`)}` } });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!body.access_token) {
    console.error(`demo: the issuer refused a token (${res.status} ${body.error ?? ""})`);
    return stopAll(1);
  }
  return body.access_token;
}
const [writerToken, readerToken] = await Promise.all([getToken(), getToken("orders:read")]);
const order = `-H 'content-type: application/json' -d '{"sku":"sku-1001","qty":1}'`;
const getTokenLine = `curl -s -u ${CLIENT.id}:${CLIENT.secret} -d grant_type=client_credentials ${issuer}/token`;

// Governance, as an agent without a token meets it (demo/ficus.yaml's mcp route, demo/policies/mcp.rego).
const MCP_META = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
async function callTool(name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; meta: Record<string, unknown> }> {
  const res = await fetch(`${gw}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": name },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args, _meta: MCP_META } }),
  });
  const body = (await res.json()) as { result?: { content?: { text?: string }[]; isError?: boolean; _meta?: Record<string, unknown> }; error?: { message: string } };
  const r = body.result;
  return { text: r?.content?.[0]?.text ?? body.error?.message ?? "", isError: r?.isError === true || body.error !== undefined, meta: r?._meta ?? {} };
}
const denied = await callTool("getOrder", { id: "1" });
const quota: string[] = [];
for (let i = 1; i <= 4; i++) {
  const r = await callTool("getItem", { sku: "sku-1001" });
  quota.push(`      call ${i}: ${r.isError ? `refused: ${r.text}` : "answered"}`);
}
await callTool("listItems", {});
const cached = await callTool("listItems", {});
const hit = cached.meta["io.ficus/cache"] as { hit?: boolean; age_ms?: number } | undefined;

console.log(`
Ficus demo — the strangler pattern on one service
  legacy  (Python)      http://127.0.0.1:${legacyPort}
  rewrite (TypeScript)  http://127.0.0.1:${rewritePort}
  token issuer          ${issuer}
  gateway               ${gw}
  admin                 ${adminUrl}

At start:
${start}

The migration, as the audit trail tells it (\`ficus events\`):
${story.join("\n")}

Now:  inventory: ${where(now.inventory)}    orders: ${where(now.orders)}

What the comparison found on the orders route (GET /orders, /orders/:id):
${findings.join("\n")}
  (49 vs 49.0, key order and timestamp formats compare equal; the random trace id is learned as noise.)

Secured: order writes (POST, PUT, PATCH, DELETE /orders) need a JWT from the token issuer (RS256, verified
with its JWK Set) carrying the scope orders:write; reads stay open. The order records the caller (created_by).
  Get a token (OAuth 2.0 client credentials; valid 1 hour; add -d scope=orders:read for one without orders:write):
    ${getTokenLine}
  201 Created, with a token that has orders:write:
    curl -i -X POST ${gw}/orders -H 'Authorization: Bearer ${writerToken}' ${order}
  401 FICUS_AUTH_MISSING, no token:
    curl -i -X POST ${gw}/orders ${order}
  403 FICUS_AUTHZ_DENIED, a token with orders:read only:
    curl -i -X POST ${gw}/orders -H 'Authorization: Bearer ${readerToken}' ${order}
  Or in a shell: TOKEN=$(${getTokenLine} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
    curl -i -X POST ${gw}/orders -H "Authorization: Bearer $TOKEN" ${order}

For AI agents: the same API as MCP tools at ${gw}/mcp (edge-mcp; clients of both MCP eras), from the OpenAPI
document the legacy service serves. Tool calls go through the routes above: the migration applies to agents too.
  List the tools, then call one, with the MCP Inspector's CLI (run from demo/: inspector-cli 1.0.3 looks for a
  package.json one folder up from where it runs):
    (cd demo && npx @modelcontextprotocol/inspector-cli --cli ${gw}/mcp --transport http --method tools/list)
    (cd demo && npx @modelcontextprotocol/inspector-cli --cli ${gw}/mcp --transport http --method tools/call --tool-name listItems)
  Governance, as an agent without a token meets it (the mcp route's policy and quota, demo/policies/mcp.rego):
    denied by policy, getOrder: ${denied.isError ? denied.text : "(allowed?)"}
    quota per-agent (3/m) on getItem:
${quota.join("\n")}
    cache, listItems asked twice: ${hit?.hit === true ? `the second answer came from Ficus's cache (age ${hit.age_ms} ms)` : "(not cached?)"}

Try:
  curl -i ${gw}/inventory/sku-1001          # X-Ficus-Served-By tells who answered
  curl -i ${gw}/orders
  npx ficus report --admin ${adminUrl}
  npx ficus events --admin ${adminUrl}
  npx ficus resume orders --admin ${adminUrl}   # after fixing the bug: let the controller try again
  curl ${adminUrl}/admin/migrations
  curl ${adminUrl}/metrics | grep ficus_shadow

Edit demo/ficus.yaml while this runs: the gateway reloads it without dropping requests.
Ctrl-C stops everything.`);
