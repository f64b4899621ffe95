/** The recording writer: rotation by size, gzip files, and a failing folder surfacing as an error. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { JsonlWriter } from "../../../src/record/writer.ts";
import { tempDir } from "../../helpers/processes.ts";

test("a file is closed and the next opened past the size; every line lands once, in order", async () => {
  const dir = tempDir("ficus-writer-");
  const w = new JsonlWriter(dir, "r", 100, false);
  const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(20) }));
  for (const l of lines) await w.write(l);
  await w.close();
  expect(w.files.length).toBeGreaterThan(5);
  expect(readdirSync(dir).sort()).toEqual(w.files.map((f) => f.slice(dir.length + 1)).sort());
  const back = w.files.flatMap((f) => readFileSync(f, "utf8").split("\n").filter(Boolean));
  expect(back).toEqual(lines);
  for (const f of w.files) expect(readFileSync(f).length).toBeLessThanOrEqual(100 + 40);
});

test("gzip files are whole gzip streams", async () => {
  const dir = tempDir("ficus-writer-gz-");
  const w = new JsonlWriter(dir, "r", 1_000_000, true);
  for (let i = 0; i < 1000; i++) await w.write(JSON.stringify({ i }));
  await w.close();
  expect(w.files).toEqual([join(dir, "r-0001.jsonl.gz")]);
  expect(gunzipSync(readFileSync(w.files[0] as string)).toString().split("\n").filter(Boolean)).toHaveLength(1000);
});

test("a folder removed under the writer fails the writes instead of hanging", async () => {
  const dir = tempDir("ficus-writer-gone-");
  const w = new JsonlWriter(join(dir, "sub"), "r", 50, false);
  await w.write("first line of some length");
  rmSync(dir, { recursive: true, force: true });
  let failed = false;
  const big = "y".repeat(1 << 20);
  for (let i = 0; i < 50 && !failed; i++) {
    try {
      await w.write(big); // rotates: the next file cannot be created
    } catch {
      failed = true;
    }
  }
  expect(failed).toBe(true);
  await w.close();
});

test("regression: a file deleted while being written fails one write, naming its lost lines, and the recording goes on in the next file", async () => {
  const dir = tempDir("ficus-writer-deleted-");
  const w = new JsonlWriter(dir, "r", 1_000_000, false, 0);
  await w.write("one");
  await w.write("two");
  await Bun.sleep(20); // the file is open
  rmSync(w.files[0] as string);
  await expect(w.write("three")).rejects.toThrow(/r-0001\.jsonl was deleted or replaced while being written; its 2 lines are lost/);
  await w.write("four");
  await w.close();
  expect(w.files).toEqual([join(dir, "r-0002.jsonl")]);
  expect(readFileSync(join(dir, "r-0002.jsonl"), "utf8")).toBe("four\n");
});
