/**
 * The gateway's side of experiments (run: bun bench/experiment-ingest.ts):
 * how many results per second POST /admin/experiments/results validates,
 * judges (judgePair, as a route's pairs) and merges into a SQLite store.
 * Batches of 1,000 calls with ~150-byte values, 2% mismatched, a context each.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExperimentJudge, ingestBatch, parseBatch } from "../src/experiment/ingest.ts";
import { SqliteStore } from "../src/migration/store.ts";

const dir = mkdtempSync(join(tmpdir(), "ficus-ingest-bench-"));
const store = new SqliteStore(join(dir, "results.db"), 5, 7 * 86_400_000);
const judge = new ExperimentJudge();
const doc = (n: number) => JSON.stringify({ total: n, currency: "EUR", lines: [{ sku: "a", qty: 1, price: 9.99 }, { sku: "b", qty: 2, price: 4.5 }], quoted_at: "2026-11-21T10:00:00Z" });
const results = Array.from({ length: 1000 }, (_, i) => ({ time: Date.now(), context: `{"order":${i}}`, use: { value: doc(i), ms: 0.05 }, try: { value: doc(i % 50 === 0 ? -1 : i), ms: 0.04 } }));
const text = JSON.stringify({ version: 1, experiments: [{ name: "pricing", calls: 1000, compare: { ignore: ["$.quoted_at"] }, results }] });
console.log(`batch: 1000 results, ${text.length} bytes`);
try {
  for (let round = 1; round <= 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await ingestBatch(judge, parseBatch(text), store, 5);
    const ms = performance.now() - t0;
    console.log(`round ${round}: 20 batches in ${ms.toFixed(0)} ms = ${Math.round((20_000 / ms) * 1000)} results/s (${(ms / 20).toFixed(1)} ms per batch)`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
