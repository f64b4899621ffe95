/**
 * `ficus replay` end to end: the real CLI replaying recordings in each input
 * format against real service processes, with the report, the exit codes and
 * the safety and pacing options checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, CLI, freePort, runCli, startService, tempDir, type Upstream } from "../helpers/processes.ts";

let legacy: Upstream;
let twin: Upstream;
let buggy: Upstream;
const dir = tempDir("ficus-replay-");

beforeAll(async () => {
  [legacy, twin, buggy] = await Promise.all([startService("replay-service", "legacy"), startService("replay-service", "twin"), startService("replay-service", "buggy")]);
});
afterAll(async () => {
  await Promise.all([legacy?.stop(), twin?.stop(), buggy?.stop()]);
});

interface Stats {
  hits: number;
  posts: number;
  maxInflight: number;
  times: number[];
  authorization: string | null;
  host: string | null;
}
const stats = async (u: Upstream) => (await (await fetch(`${u.url}/stats`)).json()) as Stats;

function jsonl(name: string, lines: object[], extra = ""): string {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => JSON.stringify(l)).join("\n") + (lines.length ? "\n" : "") + extra);
  return p;
}
const get = (path: string, i = 0, headers: [string, string][] = []) => ({ v: 1, time: new Date(1_700_000_000_000 + i * 10).toISOString(), request: { method: "GET", url: path, headers } });
const items = (n: number) => Array.from({ length: n }, (_, i) => get(`/items/${i % 10}`, i));

interface Report {
  summary: { selected: number; compared: number; matched: number; mismatched: number; noise_only: number; corrupt: number; errors: { legacy: number; candidate: number }; mismatch_rate: number; skipped: number };
  routes: { route: string; compared: number; mismatched: number; noise: { path: string }[]; signatures: { paths: string[]; count: number }[]; skipped: Record<string, number> }[];
  errors: { side: string; line: number }[];
  corrupt: { line: number; message: string }[];
}
const readReport = (out: string) => JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;

describe("two live services", () => {
  test("a faithful candidate passes the gate once A/A pairs show the random nonce is noise", async () => {
    const out = join(dir, "ok");
    const r = await runCli(["replay", jsonl("ok.jsonl", items(200)), "--legacy", legacy.url, "--candidate", twin.url, "--aa", "0.5", "--out", out, "--fail-on-mismatch-rate", "1%"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^replayed 200 of 200 exchanges .*compared 200: 0 matched, 0 mismatched, 200 noise only; mismatch rate 0\.00%/);
    const rep = readReport(out);
    expect(rep.routes[0]?.noise.map((n) => n.path)).toEqual(["$.nonce"]);
    expect(rep.summary).toMatchObject({ selected: 200, compared: 200, mismatched: 0, noise_only: 200 });
  });

  test("a buggy candidate fails the gate with the signature of its bug; without a gate it exits 0", async () => {
    const out = join(dir, "bug");
    const file = jsonl("bug.jsonl", items(200));
    const r = await runCli(["replay", file, "--legacy", legacy.url, "--candidate", buggy.url, "--aa", "0.5", "--out", out, "--fail-on-mismatch-rate", "0.05"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL: mismatch rate 10.00% is over 5.00%");
    const rep = readReport(out);
    expect(rep.summary.mismatched).toBe(20);
    expect(rep.routes[0]?.signatures).toEqual([expect.objectContaining({ paths: ["$.name"], count: 20 })]);
    expect((await runCli(["replay", file, "--legacy", legacy.url, "--candidate", buggy.url, "--out", out, "--aa", "0.5", "--fail-on-mismatch-rate", "0.2"])).code).toBe(0);
    expect((await runCli(["replay", file, "--legacy", legacy.url, "--candidate", buggy.url, "--out", out])).code).toBe(0);
  });

  test("route names and compare rules come from ficus.yaml; --filter narrows what is replayed", async () => {
    const cfg = join(dir, "ficus.yaml");
    writeFileSync(
      cfg,
      `routes:\n  - name: items\n    match: { prefix: /items }\n    legacy: ${legacy.url}\n    candidate: ${twin.url}\n    compare: { ignore: ["$.nonce"] }\n  - name: rest\n    match: { prefix: / }\n    legacy: ${legacy.url}\n`,
    );
    const out = join(dir, "cfg");
    const recording = jsonl("cfg.jsonl", [...items(10), get("/other", 11)]);
    const r = await runCli(["replay", recording, "--legacy", legacy.url, "--candidate", twin.url, "-c", cfg, "--out", out, "--filter", "path^=/items", "--filter", "path!=/items/3"]);
    expect(r.code).toBe(0);
    const rep = readReport(out);
    expect(rep.routes.map((x) => [x.route, x.compared, x.mismatched])).toEqual([["items", 9, 0]]);
  });

  test("unsafe methods are skipped unless allowed; --header and --host rewrite requests", async () => {
    const post = { v: 1, time: new Date().toISOString(), request: { method: "POST", url: "/items", headers: [["authorization", "Bearer recorded-prod-token"], ["content-type", "application/json"]], body: '{"a":1}' } };
    const file = jsonl("unsafe.jsonl", [post, get("/items/1", 1, [["authorization", "Bearer recorded-prod-token"]])]);
    const before = await stats(twin);
    const out = join(dir, "unsafe");
    const r = await runCli(["replay", file, "--legacy", legacy.url, "--candidate", twin.url, "--out", out, "--header", "Authorization: Bearer test-token", "--host", "staging.test"]);
    expect(r.code).toBe(0);
    const after = await stats(twin);
    expect(after.posts).toBe(before.posts);
    expect(after.authorization).toBe("Bearer test-token");
    expect(after.host).toBe("staging.test");
    expect(readReport(out).routes[0]?.skipped.unsafe_method).toBe(1);
    const allowed = await runCli(["replay", file, "--legacy", legacy.url, "--candidate", twin.url, "--out", out, "--allow-unsafe", "--filter", "method=POST"]);
    expect(allowed.code).toBe(0);
    expect((await stats(twin)).posts).toBe(before.posts + 1);
    // Nothing secret from the recording reaches the report.
    expect(readFileSync(join(out, "report.json"), "utf8")).not.toContain("recorded-prod-token");
  });

  test("--concurrency bounds requests in flight; --rate paces them", async () => {
    const slowL = await startService("replay-service", "legacy", { DELAY_MS: "20" });
    const slowC = await startService("replay-service", "twin", { DELAY_MS: "20" });
    try {
      const out = join(dir, "pace");
      const file = jsonl("pace.jsonl", items(40));
      expect((await runCli(["replay", file, "--legacy", slowL.url, "--candidate", slowC.url, "--out", out, "--concurrency", "3"])).code).toBe(0);
      const s = await stats(slowC);
      expect(s.maxInflight).toBeLessThanOrEqual(3);
      expect(s.maxInflight).toBeGreaterThanOrEqual(2);
      const rateFile = jsonl("rate.jsonl", items(21));
      const t0 = performance.now();
      expect((await runCli(["replay", rateFile, "--legacy", legacy.url, "--candidate", twin.url, "--out", out, "--rate", "40"])).code).toBe(0);
      const tl = await stats(twin);
      const last21 = tl.times.slice(-21);
      // 21 requests at 40/s: the last is sent 500 ms after the first.
      expect((last21[20] as number) - (last21[0] as number)).toBeGreaterThanOrEqual(450);
      expect((last21[20] as number) - (last21[0] as number)).toBeLessThan(1500);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(450);
    } finally {
      await Promise.all([slowL.stop(), slowC.stop()]);
    }
  });

  test("--speed follows the recorded clock, faster by its factor", async () => {
    // Recorded 0, 300 and 600 ms apart; at --speed 2 they are sent 150 ms apart.
    const file = jsonl("speed.jsonl", [get("/items/1", 0), get("/items/2", 30), get("/items/3", 60)]);
    const before = (await stats(twin)).times.length;
    expect((await runCli(["replay", file, "--legacy", legacy.url, "--candidate", twin.url, "--out", join(dir, "speed"), "--speed", "2"])).code).toBe(0);
    const t = (await stats(twin)).times.slice(before);
    expect(t).toHaveLength(3);
    expect((t[1] as number) - (t[0] as number)).toBeGreaterThanOrEqual(120);
    expect((t[2] as number) - (t[0] as number)).toBeGreaterThanOrEqual(270);
    expect((t[2] as number) - (t[0] as number)).toBeLessThan(600);
  });

  test("an unreachable candidate: every request is an error, reported with its line, never a match", async () => {
    const out = join(dir, "down");
    const file = jsonl("down.jsonl", items(5));
    const r = await runCli(["replay", file, "--legacy", legacy.url, "--candidate", `http://127.0.0.1:${freePort()}`, "--out", out, "--fail-on-mismatch-rate", "0.5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:1 GET /items/0 → candidate:`);
    const rep = readReport(out);
    expect(rep.summary).toMatchObject({ compared: 0, matched: 0, errors: { legacy: 0, candidate: 5 }, mismatch_rate: 1 });
    expect(rep.errors.map((e) => [e.side, e.line])).toEqual(expect.arrayContaining([["candidate", 1], ["candidate", 5]]));
  });
});

describe("progress", () => {
  test("a progress bar on a terminal; plain progress lines otherwise", async () => {
    const file = jsonl("progress.jsonl", items(50));
    const args = [file, "--legacy", legacy.url, "--candidate", twin.url, "--out", join(dir, "progress"), "--rate", "20"];
    // A pseudo-terminal through util-linux's script(1).
    const quoted = [BUN, CLI, "replay", ...args].map((a) => `'${a}'`).join(" ");
    const tty = Bun.spawnSync(["script", "-qec", quoted, "/dev/null"], { stdout: "pipe", stderr: "pipe" });
    const screen = tty.stdout.toString();
    expect(tty.exitCode).toBe(0);
    expect(screen).toMatch(/replay \[[^\]]+\] \d+% \| \d+\/s \| ETA \d+s \| \d+ done, \d+ matched, \d+ differ, 0 errors/);
    const plain = await runCli(["replay", ...args]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/^replay: \d+ done \(\d+\/s\), \d+ matched, \d+ differ, 0 errors, \d+% read$/m);
    expect(plain.stderr).not.toContain("\x1b[");
  });
});

describe("inputs", () => {
  test("HAR: requests replayed against both, absolute URLs reduced to path and query", async () => {
    const entry = (id: number) => ({
      startedDateTime: new Date().toISOString(),
      time: 3,
      request: { method: "GET", url: `https://shop.example/items/${id}`, httpVersion: "HTTP/2", headers: [{ name: ":authority", value: "shop.example" }, { name: "accept", value: "application/json" }], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
      response: { status: 200, statusText: "", httpVersion: "HTTP/2", headers: [], cookies: [], content: { size: 10, mimeType: "application/json", text: `{"id":${id}}` }, redirectURL: "", headersSize: -1, bodySize: 10 },
      cache: {},
      timings: { send: 0, wait: 3, receive: 0 },
    });
    const har = join(dir, "x.har");
    writeFileSync(har, JSON.stringify({ log: { version: "1.2", creator: { name: "test", version: "1" }, entries: [6, 7, 8].map(entry) } }, null, 2));
    const out = join(dir, "har");
    const r = await runCli(["replay", har, "--legacy", legacy.url, "--candidate", buggy.url, "--out", out, "--rules", writeRules()]);
    expect(r.code).toBe(0);
    expect(readReport(out).summary).toMatchObject({ selected: 3, compared: 3, matched: 2, mismatched: 1 });
  });

  test("GoReplay: requests replayed; a corrupt payload is reported with its line and skipped", async () => {
    const sep = "\n🐵🙈🙉\n";
    const gor = join(dir, "x.gor");
    const req = (id: number) => `1 ${id.toString(16).padStart(8, "0")} 1700000000000000000 0\nGET /items/${id} HTTP/1.1\r\nHost: prod.example\r\n\r\n`;
    writeFileSync(gor, [req(1), "nonsense", req(7)].join(sep) + sep);
    const out = join(dir, "gor");
    const r = await runCli(["replay", gor, "--legacy", legacy.url, "--candidate", buggy.url, "--out", out, "--rules", writeRules()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${gor}:7: skipped: not a GoReplay meta line`);
    expect(readReport(out).summary).toMatchObject({ selected: 2, compared: 2, matched: 1, mismatched: 1, corrupt: 1 });
  });

  test("against a recording: one live target compared with the recorded responses", async () => {
    const rec = (id: number, name: string) => ({
      ...get(`/items/${id}`, id),
      response: { status: 200, headers: [["content-type", "application/json;charset=utf-8"]], body: JSON.stringify({ id, name, nonce: "recorded" }), duration_ms: 2 },
    });
    const file = jsonl("target.jsonl", [rec(1, "item 1"), rec(2, "item 2"), rec(3, "renamed"), get("/items/4", 4)]);
    const out = join(dir, "target");
    const r = await runCli(["replay", file, "--target", twin.url, "--out", out, "--rules", writeRules()]);
    expect(r.code).toBe(0);
    const rep = readReport(out);
    expect(rep.summary).toMatchObject({ selected: 4, compared: 3, matched: 2, mismatched: 1 });
    expect(rep.routes[0]?.skipped.no_recorded_response).toBe(1);
    expect(rep.routes[0]?.signatures[0]?.paths).toEqual(["$.name"]);
  });
});

describe("bad input", () => {
  test("corrupt and truncated lines are reported with file and line, skipped, counted; the run continues", async () => {
    const file = jsonl("mixed.jsonl", items(3), '{"v":1,"time":"2026-11-21T00:00:00Z","request":{"method":"GET","url":"/items/1"}}\n{"v":1,"tim');
    const out = join(dir, "mixed");
    const r = await runCli(["replay", file, "--legacy", legacy.url, "--candidate", twin.url, "--out", out, "--rules", writeRules()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${file}:5: skipped: not JSON`);
    expect(readReport(out).summary).toMatchObject({ selected: 4, corrupt: 1, matched: 4 });
  });

  test("an empty file, a filter that selects nothing, missing files and bad flags exit 2 with a message", async () => {
    const empty = jsonl("empty.jsonl", []);
    const base = ["--legacy", legacy.url, "--candidate", twin.url, "--out", join(dir, "bad")];
    const cases: [string[], string][] = [
      [[empty, ...base], "FICUS_REPLAY_INPUT: no exchanges to replay"],
      [[jsonl("f.jsonl", items(3)), ...base, "--filter", "method=DELETE"], "FICUS_REPLAY_INPUT: the filters select none of the 3 exchanges"],
      [[join(dir, "nope.jsonl"), ...base], "no such file"],
      [[empty, "--legacy", legacy.url], "give --legacy URL and --candidate URL"],
      [[empty, "--target", twin.url, "--legacy", legacy.url], "either --target"],
      [[empty, ...base, "--rate", "0"], "--rate: expected a number"],
      [[empty, ...base, "--filter", "colour=red"], "--filter \"colour=red\": expected FIELD OP VALUE"],
      [[empty, ...base, "--fail-on-mismatch-rate", "150%"], "--fail-on-mismatch-rate: expected a number from 0 to 100"],
      [[empty, ...base, "--header", "no colon"], "expected 'Name: value'"],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(["replay", ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
    }
  });
});

function writeRules(): string {
  const p = join(dir, "rules.yaml");
  writeFileSync(p, 'ignore: ["$.nonce"]\n');
  return p;
}
