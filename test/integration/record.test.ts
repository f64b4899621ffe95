/**
 * `ficus record` end to end: a running gateway records a sampled share of a
 * route's traffic, redacted, into Ficus JSON Lines that `ficus replay` reads;
 * sessions stop by themselves at --max or on `record stop`; several workers
 * share the maximum; a full queue drops and counts instead of waiting.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type Ficus, freePort, runCli, startFicus, startService, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let legacy: Upstream;
beforeAll(async () => {
  legacy = await startService("replay-service", "legacy");
});
afterAll(async () => {
  await legacy?.stop();
});

const config = (extra = "", workers = 1, port = 0) =>
  `listen: 127.0.0.1:${port}\nworkers: ${workers}\nadmin: { listen: 127.0.0.1:0 }\naccess_log: { enabled: false }\n${extra}routes:\n  - name: items\n    match: { prefix: /api }\n    upstream: ${legacy.url}\n    rewrite: { strip_prefix: /api }\n    shadow: { redact: ["$.secret"] }\n  - name: other\n    match: { prefix: / }\n    upstream: ${legacy.url}\n`;

interface Status {
  route: string;
  state: string;
  recorded: number;
  dropped: number;
  max: number;
  skipped: Record<string, number>;
  files: string[];
}

async function status(g: Ficus): Promise<Status[]> {
  return ((await (await fetch(`${g.admin}/admin/record`)).json()) as { sessions: Status[] }).sessions;
}

async function until(g: Ficus, pred: (s: Status[]) => boolean): Promise<Status[]> {
  let s = await status(g);
  for (let i = 0; i < 100 && !pred(s); i++) {
    await Bun.sleep(30);
    s = await status(g);
  }
  return s;
}

const lines = (file: string) =>
  (file.endsWith(".gz") ? gunzipSync(readFileSync(file)).toString() : readFileSync(file, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { route: string; request: { method: string; url: string; headers: [string, string][]; body: string }; response: { status: number; body: string } });

describe("ficus record", () => {
  test("records the sampled share of a route, redacted, stops at --max, and the recording replays", async () => {
    const dir = tempDir("ficus-record-");
    const g = await startFicus(["-c", writeConfig(dir, config())]);
    try {
      const out = join(dir, "rec");
      const start = await runCli(["record", "start", "--route", "items", "--sample", "0.5", "--max", "5", "--out", out, "--admin", g.admin]);
      expect(start.stderr).toBe("");
      expect(start.code).toBe(0);
      expect(start.stdout).toContain("items  recording  0 of 5 recorded (sample 0.5)");
      for (let i = 0; i < 9; i++) await (await fetch(`${g.url}/api/items/${i}?token=abc&x=${i}`, { headers: { authorization: "Bearer live-secret" } })).text();
      await (await fetch(`${g.url}/api/items`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ secret: "s3", a: 1 }) })).text();
      await (await fetch(`${g.url}/api/items/99`)).text(); // after the maximum: not recorded
      await (await fetch(`${g.url}/elsewhere`)).text(); // another route: not recorded
      const s = await until(g, (x) => x[0]?.state === "done");
      expect(s).toEqual([expect.objectContaining({ route: "items", state: "done", recorded: 5, dropped: 0 })]);
      const files = readdirSync(out).map((f) => join(out, f));
      expect(files).toHaveLength(1);
      const rec = lines(files[0] as string);
      // Every second request (sample 0.5), the path legacy received (after the rewrite), redacted.
      expect(rec.map((l) => `${l.request.method} ${l.request.url}`)).toEqual([
        "GET /items/1?token=[redacted]&x=1",
        "GET /items/3?token=[redacted]&x=3",
        "GET /items/5?token=[redacted]&x=5",
        "GET /items/7?token=[redacted]&x=7",
        "POST /items",
      ]);
      expect(rec.every((l) => l.route === "items" && l.response.status < 300)).toBe(true);
      expect(Object.fromEntries(rec[0]?.request.headers ?? [])).toMatchObject({ authorization: "[redacted]" });
      expect(JSON.parse(rec[4]?.request.body ?? "{}")).toEqual({ secret: "[redacted]", a: 1 });
      expect(readFileSync(files[0] as string, "utf8")).not.toContain("live-secret");
      expect(JSON.parse(rec[0]?.response.body ?? "{}")).toMatchObject({ id: 1, name: "item 1" });

      // The recording replays against the recorded service: equal but for the random nonce. (The POST's
      // recorded body was redacted, so its answer would differ: it is left out.)
      const rules = join(dir, "rules.yaml");
      await Bun.write(rules, 'ignore: ["$.nonce"]\n');
      const replay = await runCli(["replay", files[0] as string, "--target", legacy.url, "--rules", rules, "--out", join(dir, "replay"), "--filter", "method=GET", "--header", "Authorization: Bearer test"]);
      expect(replay.code).toBe(0);
      expect(replay.stdout).toContain("compared 4: 4 matched");
      const metrics = await (await fetch(`${g.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_record_exchanges_total\{route="items",result="recorded"\} 5/);
    } finally {
      await g.stop();
    }
  });

  test("record stop writes what was captured; gzip; status and errors through the CLI", async () => {
    const dir = tempDir("ficus-record-stop-");
    const g = await startFicus(["-c", writeConfig(dir, config(`record: { dir: ${join(dir, "default")} }\n`))]);
    try {
      expect((await runCli(["record", "start", "--route", "items", "--gzip", "--admin", g.admin])).code).toBe(0);
      for (let i = 0; i < 3; i++) await (await fetch(`${g.url}/api/items/${i}`)).text();
      await until(g, (x) => x[0]?.recorded === 3);
      const stop = await runCli(["record", "stop", "--admin", g.admin]);
      expect(stop.code).toBe(0);
      expect(stop.stdout).toContain("items  stopped  3 of 10000 recorded");
      const files = readdirSync(join(dir, "default")).map((f) => join(dir, "default", f));
      expect(files.length).toBe(1);
      expect(files[0]).toMatch(/items-\d{8}T\d{6}Z-w0-0001\.jsonl\.gz$/);
      expect(lines(files[0] as string)).toHaveLength(3);
      const st = await runCli(["record", "status", "--admin", g.admin, "--json"]);
      expect(JSON.parse(st.stdout).sessions[0]).toMatchObject({ route: "items", state: "stopped", recorded: 3 });
      const unknown = await runCli(["record", "start", "--route", "nope", "--admin", g.admin]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('FICUS_ROUTE_UNKNOWN: no route "nope"; known routes: items, other');
      const bad = await runCli(["record", "start", "--route", "items", "--sample", "2", "--admin", g.admin]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--sample: expected a fraction");
      const badBody = await fetch(`${g.admin}/admin/record/start`, { method: "POST", body: JSON.stringify({ route: "items", max: 0 }) });
      expect(badBody.status).toBe(400);
    } finally {
      await g.stop();
    }
  });

  test("two workers share the maximum, each writing its own files", async () => {
    const dir = tempDir("ficus-record-workers-");
    const g = await startFicus(["-c", writeConfig(dir, config("", 2, freePort()))]);
    try {
      const out = join(dir, "rec");
      expect((await runCli(["record", "start", "--route", "items", "--max", "10", "--out", out, "--admin", g.admin])).code).toBe(0);
      // New connections, so both workers get requests.
      for (let round = 0; round < 10; round++) {
        await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${g.url}/api/items/${i}`, { headers: { connection: "close" } }).then((r) => r.text())));
      }
      const s = await until(g, (x) => x[0]?.state === "done");
      expect(s[0]).toMatchObject({ state: "done", recorded: 10, max: 10 });
      const files = readdirSync(out);
      expect(files.some((f) => f.includes("-w0-"))).toBe(true);
      expect(files.some((f) => f.includes("-w1-"))).toBe(true);
      expect(files.reduce((n, f) => n + lines(join(out, f)).length, 0)).toBe(10);
    } finally {
      await g.stop();
    }
  });

  test("a full writer queue drops and counts exchanges; every sampled request is accounted for", async () => {
    const dir = tempDir("ficus-record-queue-");
    const g = await startFicus(["-c", writeConfig(dir, config("record: { queue: 1 }\n"))]);
    try {
      expect((await runCli(["record", "start", "--route", "items", "--out", join(dir, "rec"), "--admin", g.admin])).code).toBe(0);
      await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`${g.url}/api/items/${i}`).then((r) => r.text())));
      const s = (await until(g, (x) => (x[0]?.recorded ?? 0) + (x[0]?.dropped ?? 0) >= 200))[0] as Status;
      expect(s.recorded + s.dropped + Object.values(s.skipped).reduce((a, b) => a + b, 0)).toBe(200);
      expect(s.recorded).toBeGreaterThan(0);
      // Stopping closes the file (written lines may still sit in the stream's buffer before that).
      expect((await runCli(["record", "stop", "--admin", g.admin])).code).toBe(0);
      expect(lines(join(dir, "rec", readdirSync(join(dir, "rec"))[0] as string))).toHaveLength(s.recorded);
    } finally {
      await g.stop();
    }
  });

  test("record.queue_bytes bounds the bodies waiting for the writer: an exchange that would pass it is dropped and counted", async () => {
    const dir = tempDir("ficus-record-bytes-");
    const g = await startFicus(["-c", writeConfig(dir, config("record: { queue: 1000, queue_bytes: 64KiB }\n"))]);
    try {
      expect((await runCli(["record", "start", "--route", "items", "--out", join(dir, "rec"), "--admin", g.admin])).code).toBe(0);
      // 70 KB of request body alone is over the 64 KiB of queue: dropped, whatever the writer's pace.
      await (await fetch(`${g.url}/api/items`, { method: "POST", body: JSON.stringify({ name: "x".repeat(70_000) }), headers: { "content-type": "application/json" } })).text();
      await (await fetch(`${g.url}/api/items/1`)).text();
      const s = (await until(g, (x) => (x[0]?.recorded ?? 0) + (x[0]?.dropped ?? 0) >= 2))[0] as Status;
      expect(s).toMatchObject({ recorded: 1, dropped: 1 });
    } finally {
      await g.stop();
    }
  });
});
