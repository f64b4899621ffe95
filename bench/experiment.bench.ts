/**
 * Per-call cost of an in-process experiment (run: bun bench/experiment.bench.ts;
 * under Node: see docs/benchmarks.md). Each iteration makes 1,000 calls, then
 * yields to the event loop once so sampled `try` calls run and results queue
 * (a publisher that discards stands in for the gateway; the batching timer
 * runs as in production). Per call = row ÷ 1,000; the overhead is a row minus
 * the direct call's row. Targets: ≤ 1 µs disabled, ≤ 2 µs at 1% sampling.
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import { createExperiments } from "../src/experiment/index.ts";

const CALLS = 1000;
const experiment = createExperiments({ publish: { publish: async () => {} } });
const order = { id: 7, qty: 3, price: 19.99, currency: "EUR" };
const legacyPrice = (o: typeof order) => ({ total: Math.round(o.qty * o.price * 100) / 100, currency: o.currency });
const rustPrice = (o: typeof order) => ({ total: Math.round(o.qty * o.price * 100) / 100, currency: o.currency });
const legacyAsync = async (o: typeof order) => legacyPrice(o);
const rustAsync = async (o: typeof order) => rustPrice(o);
/** A ~10 KB document (as bench/compare.bench.ts uses). */
const catalogue = { items: Array.from({ length: 70 }, (_, i) => ({ id: i, sku: `sku-${1000 + i}`, name: `Widget number ${i}`, price: i * 1.5, stock: (i * 7) % 50, tags: ["a", "b", "c"], updated_at: "2026-11-21T10:00:00Z" })) };
const yieldLoop = () => new Promise((resolve) => setImmediate(resolve));
const runtime = typeof Bun === "undefined" ? `node ${process.version}` : `bun ${Bun.version}`;
console.log(`${runtime}; each row is ${CALLS} calls`);

summary(() => {
  bench("direct call (baseline)", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(legacyPrice(order));
    await yieldLoop();
  });
  bench("experiment, enabled: false", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(experiment("off", { use: () => legacyPrice(order), try: () => rustPrice(order), enabled: false }));
    await yieldLoop();
  });
  bench("experiment, sample 0", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(experiment("zero", { use: () => legacyPrice(order), try: () => rustPrice(order), sample: 0 }));
    await yieldLoop();
  });
  bench("experiment, sample 1%", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(experiment("one", { use: () => legacyPrice(order), try: () => rustPrice(order), sample: 0.01 }));
    await yieldLoop();
  });
  bench("experiment, sample 1%, 10 KB value", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(experiment("one-10kb", { use: () => catalogue, try: () => catalogue, sample: 0.01 }));
    await yieldLoop();
  });
  bench("experiment, sample 100%", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(experiment("all", { use: () => legacyPrice(order), try: () => rustPrice(order), sample: 1 }));
    await yieldLoop();
  });
});

summary(() => {
  bench("async: direct await (baseline)", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(await legacyAsync(order));
    await yieldLoop();
  });
  bench("async: await experiment, enabled: false", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(await experiment("async-off", { use: () => legacyAsync(order), try: () => rustAsync(order), enabled: false }));
    await yieldLoop();
  });
  bench("async: await experiment, sample 1%", async () => {
    for (let i = 0; i < CALLS; i++) do_not_optimize(await experiment("async-one", { use: () => legacyAsync(order), try: () => rustAsync(order), sample: 0.01 }));
    await yieldLoop();
  });
});

const { benchmarks } = await run({ colors: false });
// Per call: each row's median ÷ 1,000, and what the experiment adds to its group's baseline.
console.log("\nper call (median):");
let base = 0;
for (const b of benchmarks) {
  for (const r of b.runs) {
    if (!r.stats) continue;
    const ns = r.stats.p50 / CALLS;
    if (r.name.includes("baseline")) base = ns;
    console.log(`  ${ns.toFixed(1).padStart(8)} ns  ${r.name.includes("baseline") ? "         " : `+${(ns - base).toFixed(1).padStart(6)} ns`}  ${r.name}`);
  }
}
const s = experiment.stats();
console.log(`sampled ${s.sampled}, published ${s.published}, dropped ${JSON.stringify(s.dropped)}`);
await experiment.close();
