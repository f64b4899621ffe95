/**
 * The authorization layer's cost per request (run: bun bench/authz.bench.ts):
 * simple rules (a scope and a role), an RBAC Rego policy reading the identity
 * (roles → permissions in data), the same policy also reading headers and the
 * query (the input built from the request each time), and an object decision
 * adding an upstream header. The decision log writes to /dev/null at sample 1
 * (the worst case: every decision logged), then sample 0 (allows not logged).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bench, do_not_optimize, group, run } from "mitata";
import type { Identity } from "../src/auth/identity.ts";
import { DecisionLog } from "../src/authz/decision-log.ts";
import { AuthzLayer } from "../src/authz/layer.ts";
import { authzMetrics } from "../src/authz/metrics.ts";
import { authzRouteSchema } from "../src/authz/schema.ts";
import { compileAuthz } from "../src/authz/settings.ts";
import { createLogger } from "../src/observability/logger.ts";
import { Metrics } from "../src/observability/metrics.ts";
import { Exchange } from "../src/pipeline/exchange.ts";
import type { RuntimeRoute } from "../src/routing/route-table.ts";

const dir = mkdtempSync(join(tmpdir(), "ficus-authz-bench-"));
writeFileSync(
  join(dir, "rbac.rego"),
  `package http
import rego.v1

default allow := false

allow if {
	some role in input.identity.roles
	some p in data.permissions[role]
	p.method == input.method
	startswith(input.path, p.prefix)
}
`,
);
writeFileSync(
  join(dir, "headers.rego"),
  `package hq
import rego.v1

default allow := false

allow if {
	some role in input.identity.roles
	some p in data.permissions[role]
	p.method == input.method
	startswith(input.path, p.prefix)
	input.headers["x-tenant"] == input.claims.org
	not "debug" in object.keys(input.query)
}
`,
);
writeFileSync(join(dir, "object.rego"), `package obj\nimport rego.v1\ndecision := {"allow": true, "headers": {"x-user": input.identity.subject}} if "orders:write" in input.identity.scopes\n`);
const permissions: Record<string, { method: string; prefix: string }[]> = {};
for (let r = 0; r < 50; r++) permissions[`role${r}`] = ["GET", "POST", "PUT", "DELETE"].map((method, i) => ({ method, prefix: `/svc${r}/res${i}/` }));
permissions.orders_writer = [{ method: "POST", prefix: "/orders" }];
writeFileSync(join(dir, "data.json"), JSON.stringify({ permissions }));

const routes = {
  rules: { scopes: ["orders:write"], roles: ["orders_writer", "admin"] },
  rbac: { policy: { module: "rbac.rego", data: "data.json", query: "data.http.allow" } },
  headers: { policy: { module: "headers.rego", data: "data.json", query: "data.hq.allow" } },
  object: { policy: { module: "object.rego", query: "data.obj.decision" } },
};
const settings = compileAuthz(
  Object.entries(routes).map(([name, a]) => ({ name, authz: authzRouteSchema.parse(a) })),
  { baseDir: dir },
);

const id: Identity = {
  method: "jwt",
  subject: "alice",
  issuer: "https://idp.example",
  scopes: ["orders:read", "orders:write"],
  roles: ["user", "orders_writer"],
  claims: { sub: "alice", org: "acme", realm_access: { roles: ["user", "orders_writer"] } },
};

function layer(sample: number): AuthzLayer {
  const log = new DecisionLog({ enabled: true, output: "/dev/null", sample, maxBuffer: 1024 * 1024 });
  return new AuthzLayer(settings, { metrics: authzMetrics(new Metrics()), log, logger: createLogger("error") });
}

const fields = ["Host", "api.example", "User-Agent", "bench/1", "Accept", "application/json", "Authorization", "Bearer x.y.z", "X-Tenant", "acme", "Content-Type", "application/json", "X-Request-Id", "abc"];
const routeOf = (name: string) => ({ name }) as RuntimeRoute;
const ROUTES = Object.fromEntries(Object.keys(routes).map((n) => [n, routeOf(n)]));

function ex(route: string): Exchange {
  const e = new Exchange(0, "POST", "/orders/42?view=full", "/orders/42", "?view=full", "api.example", "api.example", fields.slice(), { address: "10.0.0.1", port: 1234 }, false, "http/1.1", undefined, undefined);
  e.id = "req";
  e.route = ROUTES[route];
  e.identity = id;
  return e;
}

for (const [sample, l] of [
  [1, layer(1)],
  [0, layer(0)],
] as const) {
  for (const r of Object.keys(routes)) if (l.request(ex(r)) !== undefined) throw new Error(`bench: ${r} should allow`);
  group(`authz layer, decision log sample ${sample}`, () => {
    bench("exchange only (baseline)", () => do_not_optimize(ex("rules")));
    bench("rules: a scope and a role", () => do_not_optimize(l.request(ex("rules"))));
    bench("rego RBAC on identity (50 roles in data)", () => do_not_optimize(l.request(ex("rbac"))));
    bench("rego RBAC + headers, claims and query", () => do_not_optimize(l.request(ex("headers"))));
    bench("rego object decision adding a header", () => do_not_optimize(l.request(ex("object"))));
  });
}

await run();
process.exit(0);
