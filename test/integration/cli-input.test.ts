/**
 * Hostile command-line input gets a clear usage error (exit 2) before any
 * work starts, never a failure per request later.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startUpstream, tempDir } from "../helpers/processes.ts";

describe("ficus replay flags", () => {
  const file = join(tempDir(), "none.jsonl");
  const base = ["replay", file, "--legacy", "http://127.0.0.1:1", "--candidate", "http://127.0.0.1:2"];
  const cases: [string, string[], string][] = [
    ["a header value with CR LF", ["--header", "X-A: a\r\nX-Evil: 1"], "the value contains a line break"],
    ["a header value outside Latin-1", ["--header", "X-A: ☃"], 'the value contains "☃" (U+2603)'],
    ["a header name that is not a token", ["--header", "X A: b"], "expected 'Name: value'"],
    ["a Host with a path", ["--host", "example.com/x"], "--host \"example.com/x\": expected a host name"],
    ["a Host with a control character", ["--host", "a\u0007b"], "contains the control character U+0007"],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await runCli([...base, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("FICUS_USAGE");
      expect(r.stderr).toContain(message);
    });
  }
});

describe("ficus replay --fail-on-mismatch-rate and severity", () => {
  test("header-only (low) differences are reported but not counted unless --min-severity low", async () => {
    const [a, b] = await Promise.all([startUpstream("one"), startUpstream("two")]);
    try {
      const dir = tempDir();
      const file = join(dir, "same.jsonl");
      const line = (i: number) => JSON.stringify({ v: 1, time: new Date(1_700_000_000_000 + i).toISOString(), request: { method: "GET", url: "/same-body", headers: [] } });
      writeFileSync(file, `${Array.from({ length: 20 }, (_, i) => line(i)).join("\n")}\n`);
      const run = (out: string, extra: string[] = []) => runCli(["replay", file, "--legacy", a.url, "--candidate", b.url, "--out", join(dir, out), "--fail-on-mismatch-rate", "1%", ...extra]);
      const lenient = await run("medium");
      expect(lenient.code).toBe(0);
      const report = JSON.parse(readFileSync(join(dir, "medium", "report.json"), "utf8")) as { summary: { mismatched: number; mismatched_counted: number; mismatch_rate: number; min_severity: string }; routes: { signatures: { severity: string; paths: string[] }[] }[] };
      expect(report.summary).toMatchObject({ mismatched: 20, mismatched_counted: 0, mismatch_rate: 0, min_severity: "medium" });
      expect(report.routes[0]?.signatures[0]).toMatchObject({ severity: "low", paths: ["headers.x-impl"] });
      expect(lenient.stdout).toContain("20 mismatches below medium severity not counted");
      const strict = await run("low", ["--min-severity", "low"]);
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain("FAIL: mismatch rate 100.00% is over 1.00%");
      const bad = await run("bad", ["--min-severity", "severe"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--min-severity "severe": expected low, medium or high');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe("ficus start quick-mode flags", () => {
  const base = ["start", "--legacy", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
  const cases: [string, string[], string][] = [
    ["an empty --percent (regression: read as 0)", ["--candidate", "http://127.0.0.1:8", "--stage", "canary", "--percent", ""], '--percent: expected a number from 0 to 100, got ""'],
    ["a hex --percent (regression: 0x10 read as 16)", ["--candidate", "http://127.0.0.1:8", "--stage", "canary", "--percent", "0x10"], '--percent: expected a number from 0 to 100, got "0x10"'],
    ["--percent outside the canary stage (regression: silently ignored)", ["--candidate", "http://127.0.0.1:8", "--stage", "shadow", "--percent", "5"], "--percent applies to --stage canary only, not shadow"],
    ["--sticky-header without canary", ["--candidate", "http://127.0.0.1:8", "--stage", "shadow", "--sticky-header", "x-user"], "--sticky-header applies to --stage canary only"],
    ["--sample without a candidate", ["--sample", "0.5"], "--sample applies to a route with a candidate"],
    ["an empty --store (regression: a private temporary store per process)", ["--candidate", "http://127.0.0.1:8", "--stage", "shadow", "--store", ""], "--store: expected a file path"],
    ["a fractional --workers", ["--workers", "1.5"], "--workers: expected an integer from 1 to 256"],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await runCli([...base, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    });
  }
});
