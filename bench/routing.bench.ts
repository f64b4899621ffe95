/**
 * Route lookup cost as the route count grows (run: bun bench/routing.bench.ts).
 * Each table mixes exact paths, templates (/svcN/orders/:id, /svcN/files/*)
 * and prefixes (/svcN/api), the way a strangler config grows one endpoint at a
 * time. A linear scan over the same routes is measured for contrast.
 */
import { bench, do_not_optimize, group, run } from "mitata";
import { type RequestFacts, type RouteMatcher, Router } from "../src/routing/router.ts";

function table(n: number): { value: string; match: RouteMatcher; order: number }[] {
  const out: { value: string; match: RouteMatcher; order: number }[] = [];
  for (let i = 0; out.length < n; i++) {
    const kinds: RouteMatcher[] = [
      { path: `/svc${i}/health` },
      { path: `/svc${i}/orders/:id` },
      { path: `/svc${i}/files/*` },
      { prefix: `/svc${i}/api` },
    ];
    for (const match of kinds) if (out.length < n) out.push({ value: `r${out.length}`, match, order: out.length });
  }
  out.push({ value: "catch-all", match: { prefix: "/" }, order: out.length });
  return out;
}

const req = (path: string): RequestFacts => ({ host: "api.example.com", path, method: "GET", header: () => null });

/** What a naive gateway does: test every route in order. */
function linear(routes: { value: string; match: RouteMatcher }[], path: string): string | undefined {
  for (const r of routes) {
    const m = r.match;
    if (m.path !== undefined) {
      const t = m.path.split("/");
      const p = path.split("/");
      if (t[t.length - 1] === "*" ? p.length >= t.length : p.length === t.length) {
        if (t.every((s, i) => s === "*" || s.startsWith(":") || s === p[i])) return r.value;
      }
    } else if (path === m.prefix || path.startsWith(`${m.prefix}/`)) return r.value;
  }
  return undefined;
}

for (const n of [10, 100, 1000, 10000]) {
  const routes = table(n);
  const router = new Router(routes);
  const last = Math.floor(n / 4) - 1;
  const paths = [`/svc${last}/health`, `/svc${last}/orders/42`, `/svc${last}/files/a/b.txt`, `/svc${last}/api/v1/x`, "/unrouted/path"];
  group(`${n} routes`, () => {
    bench("router: exact", () => do_not_optimize(router.match(req(paths[0] as string))));
    bench("router: template", () => do_not_optimize(router.match(req(paths[1] as string))));
    bench("router: wildcard", () => do_not_optimize(router.match(req(paths[2] as string))));
    bench("router: prefix", () => do_not_optimize(router.match(req(paths[3] as string))));
    bench("router: catch-all", () => do_not_optimize(router.match(req(paths[4] as string))));
    if (n <= 1000) bench("linear scan: template (for contrast)", () => do_not_optimize(linear(routes, paths[1] as string)));
  });
}

await run({ format: process.env.BENCH_FORMAT === "json" ? "json" : "mitata", colors: false });
