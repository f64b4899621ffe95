/**
 * Hostile command-line input gets a clear usage error (exit 2) before any
 * work starts, never a failure per request later.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers/processes.ts";

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
