/**
 * Failed flushes of the SQLite store. A full disk: a flush that fails with
 * SQLITE_FULL neither throws nor loses its results; they wait (bounded) for the
 * next interval, the store shows down, one log line per change, and everything
 * is written once the disk takes it again (made deterministic with
 * `PRAGMA max_page_count`, and for real on a small tmpfs, root only). A store
 * that fails for good: results go to a memory copy that keeps the stages.
 */
import { afterEach, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FicusConfig } from "../../../src/config/schema.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { capPending, mergeDeltas, ResultsWriter, retryableReason } from "../../../src/migration/results-writer.ts";
import { ResultsBuffer, type RouteDelta } from "../../../src/migration/results.ts";
import { SqliteStore } from "../../../src/migration/store.ts";
import { tempDir } from "../../helpers/processes.ts";

const recorders: ResultsWriter[] = [];
afterEach(async () => {
  for (const r of recorders.splice(0)) await r.close();
});

function recorder(path: string) {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger("debug", {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const metrics = new Metrics({ defaultMetrics: false });
  // A flush interval far away: the test flushes by hand.
  const settings = { path, schema: "ficus", affects_readiness: false, samples_per_signature: 2, retention: 7 * 86_400_000, flush_interval: 600_000 } as FicusConfig["store"];
  const rec = new ResultsWriter(settings, metrics, logger);
  recorders.push(rec);
  return { rec, logs, metrics };
}

/** Recent times: signatures older than the retention (7 days) are deleted as they are written. */
const T0 = Date.now();

const sample = (i: number, pad = 0) => ({
  time: new Date(T0 + i).toISOString(),
  request: { method: "GET", path: `/o/${i}`, headers: {}, body: "x".repeat(pad) },
  legacy: { status: 200, headers: {}, body: "{}", duration_ms: 1 },
  candidate: { status: 200, headers: {}, body: "{}", duration_ms: 1 },
  differences: [],
});

/** `n` compared requests, each a mismatch on its own path (a new signature), with a sample of `pad` bytes. */
function traffic(buffer: ResultsBuffer, n: number, from: number, pad = 2000): void {
  for (let i = from; i < from + n; i++) {
    buffer.count("orders", "total");
    buffer.count("orders", "compared");
    buffer.latency("orders", 10, 12);
    buffer.mismatch("orders", [200, 200], [{ path: `$.f${i}`, kind: "value", severity: "high", legacy: 1, candidate: 2 }], T0 + i, () => sample(i, pad));
  }
}

const metric = async (m: Metrics, series: string) => Number((await m.text()).split("\n").find((l) => l.startsWith(`${series} `))?.split(" ")[1] ?? Number.NaN);
const failures = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg === "results store write failed; keeping results in memory to write them when it works");

test("SQLITE_FULL on a flush keeps the results, retries each interval, and writes them all once there is room", async () => {
  const { rec, logs, metrics } = recorder(join(tempDir("ficus-full-"), "results.db"));
  traffic(rec.buffer, 5, 0);
  await rec.flush();
  const store = rec.open() as SqliteStore;
  const pages = (store.exec("PRAGMA page_count") as { page_count: number }).page_count;
  store.exec(`PRAGMA max_page_count = ${pages}`); // the "disk" is full now

  traffic(rec.buffer, 50, 5);
  await rec.flush(); // never throws
  traffic(rec.buffer, 50, 55);
  await rec.flush();
  expect(failures(logs)).toHaveLength(1); // logged once per change, not per flush
  expect(failures(logs)[0]).toMatchObject({ level: "error", reason: "full", error: { code: "SQLITE_FULL" } });
  expect(await metric(metrics, 'ficus_store_errors_total{reason="full"}')).toBe(2);
  expect(await metric(metrics, "ficus_store_up")).toBe(0);
  expect(rec.healthy).toBe(false);
  expect((await store.route("orders")).counters.total).toBe(5);

  store.exec("PRAGMA max_page_count = 1073741823"); // room again
  traffic(rec.buffer, 1, 105);
  await rec.flush();
  expect(logs.some((l) => l.msg === "results store writable again; the results kept meanwhile are written")).toBe(true);
  expect(rec.healthy).toBe(true);
  expect(await metric(metrics, "ficus_store_up")).toBe(1);
  const r = await store.route("orders");
  expect(r.counters.total).toBe(106);
  expect(r.counters.compared).toBe(106);
  expect(r.latency.pairs).toBe(106);
  expect(await store.signatures("orders", 1000)).toHaveLength(106);
});

test("an empty buffer still retries what is kept", async () => {
  const { rec } = recorder(join(tempDir("ficus-full-idle-"), "results.db"));
  traffic(rec.buffer, 1, 0);
  await rec.flush();
  const store = rec.open() as SqliteStore;
  store.exec(`PRAGMA max_page_count = ${(store.exec("PRAGMA page_count") as { page_count: number }).page_count}`);
  traffic(rec.buffer, 20, 1);
  await rec.flush();
  store.exec("PRAGMA max_page_count = 1073741823");
  await rec.flush(); // nothing new arrived
  expect((await store.route("orders")).counters.total).toBe(21);
});

test("a store that fails for good falls back to a memory copy: the stages in force and the audit trail stay", async () => {
  const { rec, logs } = recorder(join(tempDir("ficus-fallback-"), "results.db"));
  traffic(rec.buffer, 3, 0);
  await rec.flush();
  const file = rec.open() as SqliteStore;
  await file.command({ route: "orders", key: "k", configured: { stage: "shadow", percent: 0, paused: false }, action: "promote", plan: { steps: [10, 100], rollbackTo: "shadow" }, actor: "alice", reason: "" });
  file.exec("DROP TABLE counters"); // a write error no retry can cure
  traffic(rec.buffer, 2, 3);
  await rec.flush();
  expect(logs.some((l) => l.msg === "results store unusable; keeping shadow results in memory")).toBe(true);
  const memory = rec.open();
  expect(memory.location).toBe(":memory:");
  expect(await memory.controlRows()).toMatchObject([{ route: "orders", stage: "canary", percent: 10 }]);
  expect((await memory.events()).map((e) => e.actor)).toEqual(["alice"]);
  expect((await memory.route("orders")).counters.total).toBe(2);
  expect(rec.healthy).toBe(false);
});

test("write errors worth a retry are told from the others", () => {
  expect(retryableReason({ code: "SQLITE_FULL" })).toBe("full");
  expect(retryableReason({ code: "SQLITE_IOERR_WRITE" })).toBe("ioerr");
  expect(retryableReason({ code: "SQLITE_READONLY_DBMOVED" })).toBe("readonly");
  expect(retryableReason({ code: "SQLITE_BUSY" })).toBe("busy");
  expect(retryableReason({ code: "SQLITE_CORRUPT" })).toBeUndefined();
  expect(retryableReason(new Error("x"))).toBeUndefined();
});

test("results kept for a retry merge into what applying each flush would have written", async () => {
  const first = () => {
    const b = new ResultsBuffer(2);
    traffic(b, 3, 0, 10);
    b.pathsDiffered("orders", ["$.a"], "raw");
    return b.drain();
  };
  const second = () => {
    const b = new ResultsBuffer(2);
    traffic(b, 3, 1, 10); // signatures 1 and 2 again
    b.pathsDiffered("orders", ["$.a", "$.b"], "aa");
    b.count("billing", "total", 4);
    return b.drain();
  };
  const separately = new SqliteStore(":memory:", 2, 0);
  const merged = new SqliteStore(":memory:", 2, 0);
  await separately.apply(first());
  await separately.apply(second());
  await merged.apply(mergeDeltas(first(), second(), 2));
  expect(await merged.routes()).toEqual(await separately.routes());
  expect(await merged.signatures("orders")).toEqual(await separately.signatures("orders"));
  for (const s of await separately.signatures("orders")) expect(await merged.samples("orders", s.id)).toEqual(await separately.samples("orders", s.id));
  const all = { relative: 0, absolute: 0, min_aa: 0 };
  expect(await merged.noise("orders", all)).toEqual(await separately.noise("orders", all));
  await separately.close();
  await merged.close();
});

test("past the cap the oldest signatures and paths are dropped, and how many is told", () => {
  const b = new ResultsBuffer(2);
  traffic(b, 5, 0, 10);
  b.pathsDiffered("orders", ["$.p1", "$.p2", "$.p3"], "raw");
  const deltas: Map<string, RouteDelta> = b.drain();
  expect(capPending(deltas, 3, 2)).toEqual({ signatures: 2, paths: 1 });
  const d = deltas.get("orders") as RouteDelta;
  expect([...d.signatures.values()].map((s) => s.lastSeen - T0).sort()).toEqual([2, 3, 4]);
  expect([...d.paths.keys()]).toEqual(["$.p2", "$.p3"]);
  expect(d.counters.get("total")).toBe(5); // counts are never dropped
});

test("a real full disk (a 1 MiB tmpfs): kept, retried, written when space returns", async () => {
  const mnt = tempDir("ficus-tmpfs-");
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]);
  if (mount.status !== 0) {
    const why = `cannot mount a tmpfs (${String(mount.stderr ?? mount.error).trim() || "not root?"})`;
    if (process.env.CI) throw new Error(why);
    console.log(`skipped: ${why}`);
    return;
  }
  try {
    const dir = join(mnt, "state");
    mkdirSync(dir);
    const { rec, logs } = recorder(join(dir, "results.db"));
    traffic(rec.buffer, 5, 0);
    await rec.flush();
    // Fill what is left of the disk.
    const filler = join(mnt, "filler");
    let size = 0;
    for (let chunk = 64 * 1024; chunk >= 512; chunk /= 2) {
      try {
        for (;;) {
          writeFileSync(filler, Buffer.alloc(chunk), { flag: "a" });
          size += chunk;
        }
      } catch {
        // ENOSPC: try smaller pieces
      }
    }
    expect(size).toBeGreaterThan(0);
    traffic(rec.buffer, 50, 5);
    await rec.flush();
    expect(failures(logs)[0]).toMatchObject({ reason: "full" });
    expect(rec.healthy).toBe(false);

    rmSync(filler);
    await rec.flush();
    expect(rec.healthy).toBe(true);
    expect((await (rec.open() as SqliteStore).route("orders")).counters.total).toBe(55);
    await rec.close();
    recorders.length = 0;
  } finally {
    spawnSync("umount", ["-l", mnt]);
  }
});
