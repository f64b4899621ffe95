/**
 * Observe mode engines on the request path (run: bun bench/observe.bench.ts):
 * the cost of `templateOf` for a known template (a repeated path, and a new
 * id under a known template), of a profile `record`, and of both together;
 * then the memory of 10,000 distinct concrete paths collapsing into 50
 * templates (issue 14 target: ≤ 16 MB over the base), measured after GC.
 */
import { bench, do_not_optimize, group, run } from "mitata";
import { ProfileRecorder } from "../src/observe/profile.ts";
import { TemplateLearner } from "../src/observe/templates.ts";

const RESOURCES = ["orders", "users", "items", "invoices", "carts", "reviews", "shipments", "coupons", "returns", "payments"];

/** 50 shapes: 10 resources × (list, one, sub-list, one sub-item by uuid, by word). */
function concrete(i: number): string {
  const r = RESOURCES[i % 10] as string;
  const id = 100_000 + i;
  switch (Math.floor(i / 10) % 5) {
    case 0:
      return `/api/v1/${r}?page=${i}`;
    case 1:
      return `/api/v1/${r}/${id}`;
    case 2:
      return `/api/v1/${r}/${id}/history`;
    case 3:
      return `/api/v1/${r}/${id}/notes/${crypto.randomUUID()}`;
    default:
      return `/api/v1/${r}/${id}/tags/${id.toString(36)}x-${id}`;
  }
}

function memory(): { heap: number; rss: number } {
  Bun.gc(true);
  Bun.gc(true);
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

// Memory first, before the timing loops allocate.
const paths = Array.from({ length: 10_000 }, (_, i) => concrete(i));
const base = memory();
const learner = new TemplateLearner();
const recorder = new ProfileRecorder();
for (const p of paths) recorder.record("GET", learner.templateOf("GET", p), 200, 12.5, 100, 2_000);
const after = memory();
const templates = learner.list().length;
const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
console.log(`memory: 10,000 distinct paths → ${templates} templates, ${recorder.snapshot().endpoints.length} profiles: heap +${mb(after.heap - base.heap)} MB, RSS +${mb(after.rss - base.rss)} MB (target ≤ 16 MB)`);
if (templates !== 50) throw new Error(`expected 50 templates, learned ${templates}`);

let n = 0;
group("observe, per request", () => {
  bench("templateOf: known path", () => do_not_optimize(learner.templateOf("GET", "/api/v1/orders/100001/history")));
  bench("templateOf: new id under a known template", () => do_not_optimize(learner.templateOf("GET", `/api/v1/orders/${n++}/history`)));
  bench("templateOf: uuid under a known template", () => do_not_optimize(learner.templateOf("GET", "/api/v1/orders/100031/notes/550e8400-e29b-41d4-a716-446655440000")));
  bench("record (known endpoint)", () => recorder.record("GET", "/api/v1/orders/{id}/history", 200, 12.5, 100, 2_000));
  bench("templateOf + record", () => recorder.record("GET", learner.templateOf("GET", "/api/v1/orders/100001/history"), 200, 12.5, 100, 2_000));
});

await run({ format: process.env.BENCH_FORMAT === "json" ? "json" : "mitata", colors: false });
