/** The compare engine runs under Node ≥ 20 too: bundled for Node, it must not reach for a Bun-only API. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("src/compare bundled for Node compares JSON, text and binary bodies under `node`", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ficus-compare-node-"));
  try {
    const built = await Bun.build({ entrypoints: [join(import.meta.dir, "../../../src/compare/index.ts")], target: "node", format: "esm", outdir: dir, naming: "compare.mjs" });
    expect(built.success).toBe(true);
    writeFileSync(
      join(dir, "run.mjs"),
      `import * as c from "./compare.mjs";
const enc = new TextEncoder();
const json = c.compareMessages({ body: enc.encode('{"a":1}') }, { body: enc.encode('{"a":2}') });
const text = c.compareDocuments("x\\ny", "x\\nz");
const png = [["content-type", "image/png"]];
const bin = c.compareMessages({ headers: png, body: enc.encode("x") }, { headers: png, body: enc.encode("y") });
const re = c.compileRulesInput({ normalize: [{ path: "$.s", pattern: "(a+)+$", replace: "X" }] });
const norm = c.compareDocuments('{"s":"aaaa"}', '{"s":"aa"}', re);
console.log(JSON.stringify([json.differences[0].path, text.differences[0].path, bin.differences[0].legacy.slice(0, 7), norm.equal]));
`,
    );
    const proc = Bun.spawnSync(["node", join(dir, "run.mjs")], { stderr: "pipe" });
    expect(proc.stderr.toString()).toBe("");
    expect(JSON.parse(proc.stdout.toString())).toEqual(["$.a", "body:line 2", "sha256:", true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
