/** `ficus compare` as a user runs it: files in, verdict out, exit codes 0/1/2. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers/processes.ts";

const dir = tempDir("ficus-compare-");
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const legacy = file("legacy.http", 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 01 Jan 2026 00:00:00 GMT\r\n\r\n{"id":7,"total":10,"tags":["a","b"],"meta":{"request_id":"r1"},"created_at":"2026-11-21T10:00:00Z"}');
const candidate = file("candidate.http", 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Tue, 02 Jan 2026 00:00:00 GMT\r\n\r\n{"created_at":"2026-11-21 11:00:00+01:00","meta":{"request_id":"r2"},"tags":["b","a"],"total":10.0,"id":7}');
const rules = file("rules.yaml", 'ignore: ["$.meta.request_id"]\narrays: { "$.tags": unordered }\ntimestamps: ["$.created_at"]\n');

describe("ficus compare", () => {
  test("equal under the rules → exit 0", async () => {
    const r = await runCli(["compare", legacy, candidate, "--rules", rules]);
    expect(r).toMatchObject({ code: 0, stdout: "equal\n" });
  });

  test("different → exit 1 with one readable line per path", async () => {
    const r = await runCli(["compare", legacy, candidate]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('$.meta.request_id  legacy="r1"  candidate="r2"  [value, medium]');
    expect(r.stdout).toContain("$.tags  legacy=");
    expect(r.stdout).toContain("[order, medium]");
    expect(r.stdout).not.toContain("$.total");
    expect(r.stdout).not.toContain("headers.date");
  });

  test("--json prints the documented shape", async () => {
    const r = await runCli(["compare", legacy, candidate, "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { equal: boolean; differences: { path: string; kind: string; severity: string; legacy: unknown; candidate: unknown }[] };
    expect(out.equal).toBe(false);
    for (const d of out.differences) expect(Object.keys(d).sort()).toEqual(["candidate", "kind", "legacy", "path", "severity"]);
    expect(out.differences.find((d) => d.path === "$.created_at")).toMatchObject({ kind: "value", severity: "medium" });
  });

  test("bare JSON documents compare bodies only", async () => {
    const a = file("a.json", '{"n": 9007199254740993}');
    const b = file("b.json", '{"n": 9007199254740992}');
    const r = await runCli(["compare", a, b, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).differences).toEqual([{ path: "$.n", kind: "value", severity: "medium", legacy: "9007199254740993", candidate: 9007199254740992 }]);
  });

  test("unreadable input → exit 2", async () => {
    const r = await runCli(["compare", legacy, join(dir, "missing.http")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("FICUS_COMPARE_INPUT");
  });

  test("malformed rules → exit 2, naming the rule and its line", async () => {
    const bad = file("bad.yaml", 'ignore:\n  - "$.ok"\n  - "meta.id"\narrays: { "$.tags": sorted }\nnormalize: [ { path: "$.x", pattern: "([", replace: "" } ]\n');
    const r = await runCli(["compare", legacy, candidate, "--rules", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ignore[1]: a path must start with "$", got "meta.id" (bad.yaml:3)');
    expect(r.stderr).toContain("arrays.$.tags:");
    expect(r.stderr).toContain("(bad.yaml:4)");
    expect(r.stderr).toContain("normalize[0].pattern: not supported by the linear-time regex engine (RE2): missing closing ]");
  });

  test("curl output however it was framed or coded: plain, chunked (curl de-chunks), --raw, --compressed → exit 0", async () => {
    const body = '{"id":7,"total":10}';
    const plain = file("plain.http", `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const chunked = file("chunked.http", `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    const raw = file("raw.http", `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n${body.slice(0, 4)}\r\n${(body.length - 4).toString(16)}\r\n${body.slice(4)}\r\n0\r\n\r\n`);
    const compressed = file("compressed.http", `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 40\r\n\r\n${body}`);
    for (const other of [chunked, raw, compressed]) expect(await runCli(["compare", plain, other])).toMatchObject({ code: 0, stdout: "equal\n" });
  });

  test("a budget set in the rules file applies; past it → exit 3, incomplete", async () => {
    const doc = (f: (i: number) => number) => JSON.stringify(Array.from({ length: 200_000 }, (_, i) => ({ i, v: f(i) })));
    const a = file("big-a.json", doc((i) => i));
    const b = file("big-b.json", doc((i) => -i));
    const r = await runCli(["compare", a, b, "--rules", file("budget.yaml", "budget: 1ms\n"), "--json"]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ equal: false, incomplete: true });
  });

  test("missing arguments → exit 2", async () => {
    expect((await runCli(["compare", legacy])).code).toBe(2);
  });
});
