/**
 * The SQLite store's file deleted or replaced under open stores: put back with
 * everything the open connection holds, merged once when another file took its
 * place, written to the deleted file while it cannot be put back, and several
 * processes putting it back at once leave one sound file with every write.
 */
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../../../src/migration/control.ts";
import { ResultsBuffer } from "../../../src/migration/results.ts";
import { SqliteStore } from "../../../src/migration/store.ts";
import type { StoreFileNotice } from "../../../src/migration/store-file.ts";
import { BUN, ROOT, tempDir } from "../../helpers/processes.ts";

const plan: Plan = { steps: [10, 100], rollbackTo: "shadow" };
const shadow = { stage: "shadow" as const, percent: 0, paused: false };

const open: SqliteStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

function store(path: string, notices?: StoreFileNotice[]): SqliteStore {
  const s = new SqliteStore(path, 2, 0);
  if (notices) s.onNotice = (n) => notices.push(n);
  open.push(s);
  return s;
}

function results(total: number, mismatches = 0) {
  const b = new ResultsBuffer(2);
  b.count("orders", "total", total);
  b.count("orders", "compared", total);
  for (let i = 0; i < total; i++) b.latency("orders", 10, 12);
  for (let i = 0; i < mismatches; i++) {
    b.mismatch("orders", [200, 200], [{ path: "$.n", kind: "value", severity: "high", legacy: 1, candidate: 2 }], 1_700_000_000_000 + i, () => ({
      time: new Date(1_700_000_000_000 + i).toISOString(),
      request: { method: "GET", path: `/o/${i}`, headers: {}, body: "" },
      legacy: { status: 200, headers: {}, body: "{}", duration_ms: 1 },
      candidate: { status: 200, headers: {}, body: "{}", duration_ms: 1 },
      differences: [],
    }));
  }
  return b.drain();
}

test("a deleted file is recreated by the first store to write, reopened by the other; nothing is lost", async () => {
  const path = join(tempDir("ficus-sf-"), "results.db");
  const seenA: StoreFileNotice[] = [];
  const seenB: StoreFileNotice[] = [];
  const a = store(path, seenA);
  const b = store(path, seenB);
  await a.apply(results(5, 3));
  await a.command({ route: "orders", key: "k", configured: shadow, action: "promote", plan, actor: "alice", reason: "" });
  await a.markNoise("orders", "$.etag", "by hand");

  rmSync(path);
  await b.apply(results(7, 1));
  expect(seenB).toEqual([
    { kind: "lost", found: "nothing" },
    { kind: "restored", how: "recreated" },
  ]);
  expect(existsSync(path)).toBe(true);
  await a.apply(results(1));
  expect(seenA).toEqual([
    { kind: "lost", found: "another file" },
    { kind: "restored", how: "reopened" },
  ]);
  for (const s of [a, b]) {
    const r = await s.route("orders");
    expect(r.counters.total).toBe(13);
    expect(r.latency.pairs).toBe(13);
    expect((await s.signatures("orders"))[0]?.count).toBe(4);
    expect(await s.controlRows()).toMatchObject([{ route: "orders", stage: "canary", percent: 10 }]);
    expect((await s.events()).map((e) => e.actor)).toEqual(["alice"]);
    expect((await s.noise("orders", { relative: 0.2, absolute: 0.0003, min_aa: 20 })).map((e) => e.path)).toEqual(["$.etag"]);
  }
  // Samples stay capped at 2 per signature across the copy.
  const sig = (await a.signatures("orders"))[0]?.id as string;
  expect(await a.samples("orders", sig)).toHaveLength(2);
});

test("reads notice too: a store that only reads follows the file put back by another", async () => {
  const path = join(tempDir("ficus-sf-read-"), "results.db");
  const writer = store(path);
  const reader = store(path);
  await writer.apply(results(2));
  rmSync(path);
  await writer.apply(results(3));
  await Bun.sleep(120); // reads check at most every 100 ms
  expect((await reader.route("orders")).counters.total).toBe(5);
});

test("another file put at the path gets the open file's data added, once, however many stores notice", async () => {
  const dir = tempDir("ficus-sf-replaced-");
  const path = join(dir, "results.db");
  const a = store(path);
  const b = store(path);
  await a.apply(results(10));
  await a.command({ route: "orders", key: "k", configured: shadow, action: "promote", plan, actor: "alice", reason: "" });
  // Another store file (its own results and audit trail) moved over ours.
  const other = new SqliteStore(join(dir, "other.db"), 2, 0);
  await other.apply(results(100));
  await other.command({ route: "billing", key: "k", configured: shadow, action: "pause", plan, actor: "bob", reason: "" });
  await other.close();
  renameSync(join(dir, "other.db"), path);
  rmSync(join(dir, "other.db-wal"), { force: true });
  rmSync(join(dir, "other.db-shm"), { force: true });

  const seen: StoreFileNotice[] = [];
  a.onNotice = (n) => seen.push(n);
  await a.apply(results(1));
  expect(seen).toEqual([
    { kind: "lost", found: "another file" },
    { kind: "restored", how: "merged" },
  ]);
  await b.apply(results(1));
  for (const s of [a, b]) expect((await s.route("orders")).counters.total).toBe(112);
  expect((await a.controlRows()).map((r) => [r.route, r.stage, r.paused])).toEqual([
    ["billing", "shadow", true],
    ["orders", "canary", false],
  ]);
  // Both audit trails, oldest first by time.
  expect((await a.events()).map((e) => e.actor)).toEqual(["bob", "alice"]);
});

test("while the file cannot be put back, writes go on in the deleted file; it is put back with them once it can", async () => {
  const dir = tempDir("ficus-sf-blocked-");
  const folder = join(dir, "state");
  const path = join(folder, "results.db");
  const seen: StoreFileNotice[] = [];
  const a = store(path, seen);
  await a.apply(results(4));
  // The folder replaced by a plain file: nothing can be created at the path.
  rmSync(folder, { recursive: true });
  writeFileSync(folder, "not a folder");
  await a.apply(results(6));
  await a.apply(results(1));
  expect(seen.map((n) => n.kind)).toEqual(["lost", "restore_failed"]);
  expect(a.fileLost).toBe(true);
  expect((await a.route("orders")).counters.total).toBe(11);

  rmSync(folder);
  mkdirSync(folder);
  await Bun.sleep(1100); // tried again a second after the failure (sooner only when something appears at the path)
  await a.apply(results(1));
  expect(seen.map((n) => n.kind)).toEqual(["lost", "restore_failed", "restored"]);
  expect(a.fileLost).toBe(false);
  await a.close();
  open.length = 0;
  const again = store(path);
  expect((await again.route("orders")).counters.total).toBe(12);
});

test("the memory copy holds everything the file held", async () => {
  const path = join(tempDir("ficus-sf-mem-"), "results.db");
  const a = store(path);
  await a.apply(results(9));
  await a.command({ route: "orders", key: "k", configured: shadow, action: "promote", plan, actor: "alice", reason: "" });
  const m = a.memoryCopy();
  open.push(m);
  expect(m.location).toBe(":memory:");
  expect((await m.route("orders")).counters.total).toBe(9);
  expect(await m.controlRows()).toMatchObject([{ stage: "canary", percent: 10 }]);
  await m.apply(results(1));
  expect((await m.route("orders")).counters.total).toBe(10);
});

test("several processes writing while the file is deleted again and again: one sound file with every write", async () => {
  const path = join(tempDir("ficus-sf-procs-"), "results.db");
  store(path); // created before the writers, as the supervisor does
  const child = `
    const { SqliteStore } = await import(${JSON.stringify(join(ROOT, "src/migration/store.ts"))});
    const { ResultsBuffer } = await import(${JSON.stringify(join(ROOT, "src/migration/results.ts"))});
    const s = new SqliteStore(${JSON.stringify(path)}, 2, 0);
    let n = 0;
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      const b = new ResultsBuffer(2);
      b.count("orders", "total", 1);
      await s.apply(b.drain());
      n++;
      await Bun.sleep(2);
    }
    await s.close();
    console.log(JSON.stringify({ n }));
  `;
  const procs = Array.from({ length: 3 }, () => Bun.spawn([BUN, "-e", child], { stdout: "pipe", stderr: "pipe" }));
  for (let i = 0; i < 6; i++) {
    await Bun.sleep(250);
    rmSync(path, { force: true });
  }
  const outs = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await new Response(p.stderr).text() })));
  for (const o of outs) expect(o).toMatchObject({ code: 0, err: "" });
  const written = outs.reduce((sum, o) => sum + (JSON.parse(o.out) as { n: number }).n, 0);
  const check = store(path);
  expect((await check.route("orders")).counters.total).toBe(written);
  const db = new Database(path, { readonly: true });
  expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  db.close();
  // No snapshot left behind.
  expect(readdirSync(join(path, "..")).filter((f) => f.includes(".restore-"))).toEqual([]);
});
