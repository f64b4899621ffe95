/**
 * Compare-engine micro-benchmark (run: bun bench/compare.bench.ts).
 * A ~10 KB JSON response pair, as a shadowed API returns it: equal; with a
 * few real differences; under a typical rule set (with the differences, and
 * equal); and equal but one side gzip-coded. The medians are printed last.
 * Last, once each: how long a hostile normalize pattern (the largest program
 * accepted, every instruction alive on letters) holds the event loop under the
 * default 50 ms budget.
 */
import { gzipSync } from "node:zlib";
import { bench, do_not_optimize, run } from "mitata";
import { compareMessages, compileRules, compileRulesInput, type HttpMessage } from "../src/compare/index.ts";

const items = (shift: number) =>
  Array.from({ length: 70 }, (_, i) => ({
    id: i,
    sku: `sku-${1000 + i}`,
    name: `Widget number ${i}`,
    price: Math.round((i * 1.5 + shift) * 100) / 100,
    stock: (i * 7) % 50,
    tags: ["a", "b", "c"],
    updated_at: "2026-11-21T10:00:00Z",
  }));
const legacyDoc = JSON.stringify({ meta: { request_id: "r-1", page: 1 }, items: items(0) });
const sameDoc = JSON.stringify({ items: items(0), meta: { page: 1, request_id: "r-1" } });
const changed = items(0);
(changed[3] as { price: number }).price = 99;
(changed[40] as { stock: number }).stock = -1;
const changedDoc = JSON.stringify({ meta: { request_id: "r-2", page: 1 }, items: changed });
console.log(`document size: ${legacyDoc.length} bytes`);

const enc = new TextEncoder();
const headers: [string, string][] = [["content-type", "application/json"], ["date", "x"]];
const msg = (doc: string): HttpMessage => ({ status: 200, headers, body: enc.encode(doc) });
const [legacy, same, diff] = [msg(legacyDoc), msg(sameDoc), msg(changedDoc)];
const gzipped: HttpMessage = { status: 200, headers: [...headers, ["content-encoding", "gzip"]], body: gzipSync(sameDoc) };
const defaults = compileRules();
const rules = compileRulesInput({
  ignore: ["$.meta.request_id", "$..updated_at"],
  arrays: { "$.items": { key: "id" }, "$..tags": "unordered" },
  numbers: { abs: 0.001 },
});

bench("10 KB pair, equal (key order differs)", () => do_not_optimize(compareMessages(legacy, same, defaults)));
bench("10 KB pair, 3 differences", () => do_not_optimize(compareMessages(legacy, diff, defaults)));
bench("10 KB pair, typical rules (ignore, keyed + unordered arrays, tolerance)", () => do_not_optimize(compareMessages(legacy, diff, rules)));
bench("10 KB pair, typical rules, equal (key order differs)", () => do_not_optimize(compareMessages(legacy, same, rules)));
bench("10 KB pair, equal, gzip against identity", () => do_not_optimize(compareMessages(legacy, gzipped, defaults)));

const { benchmarks } = await run({ colors: false });
// mitata prints the mean; the targets are medians.
console.log("\np50:");
for (const b of benchmarks) for (const r of b.runs) if (r.stats) console.log(`  ${(r.stats.p50 / 1000).toFixed(1).padStart(7)} µs  ${r.name}`);

{
  const hostile = compileRulesInput({ normalize: [{ path: "$..*", pattern: "[a-z]{1000}[0-9]", replace: "X" }] });
  const uuid = compileRulesInput({ normalize: [{ path: "$..id", pattern: "^[0-9a-f-]{36}$", replace: "<uuid>" }] });
  console.log("");
  const pair = (count: number, length: number, s = "abcdefghij".repeat(length / 10)) =>
    (["a", "b"] as const).map((end) => msg(JSON.stringify({ items: Array.from({ length: count }, (_, i) => ({ id: crypto.randomUUID(), i, s: `${s}${end}` })) }))) as [HttpMessage, HttpMessage];
  for (const [name, rules, count, length] of [
    ["[a-z]{1000}[0-9] on $..*", hostile, 200, 1000],
    ["[a-z]{1000}[0-9] on $..*", hostile, 20, 10_000],
    ["[a-z]{1000}[0-9] on $..*", hostile, 2, 60_000],
    ["[a-z]{1000}[0-9] on $..*", hostile, 1, 200_000],
    ["UUID on $..id", uuid, 200, 1000],
  ] as const) {
    const [a, b] = pair(count, length);
    const t0 = performance.now();
    const v = compareMessages(a, b, rules);
    console.log(`normalize ${name}, ${count} differing strings of ${length} characters: ${(performance.now() - t0).toFixed(1)} ms, ${v.incomplete ? "incomplete" : v.equal ? "equal" : "different"}`);
  }
}
