/** The decision log's output: bounded while the reader is slow (drops counted, whole lines, writes never wait), files appended and reopened after rotation. */
import { describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DecisionLog, type DecisionRecord } from "../../../src/authz/decision-log.ts";
import { readLog, tempDir } from "./helpers.ts";

const ROOT = join(import.meta.dir, "../../..");

const record: DecisionRecord = {
  requestId: "r-1",
  route: "orders",
  subject: "ålice \"the\" admin",
  identityMethod: "jwt",
  method: "GET",
  path: "/orders/42",
  policy: "data.http.allow",
  bundle: "ab".repeat(32),
  result: "allow",
  dryRun: false,
  status: 200,
  reason: undefined,
  durationUs: 1.234567,
};

describe("decision log output", () => {
  test("a reader that does not read: memory stays bounded (max_buffer), drops are counted, every line that went out is whole, and writes never wait", async () => {
    const dir = tempDir();
    const child = join(dir, "child.ts");
    writeFileSync(
      child,
      `import { DecisionLog } from ${JSON.stringify(join(ROOT, "src/authz/decision-log.ts"))};
const log = new DecisionLog({ enabled: true, output: "stdout", sample: 1, maxBuffer: 128 * 1024 });
const rec = ${JSON.stringify(record)};
let worst = 0;
for (let round = 0; round < 10; round++) {
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    log.write(rec);
    worst = Math.max(worst, performance.now() - t);
  }
  await Bun.sleep(150);
}
process.stderr.write(JSON.stringify({ dropped: log.dropped, worstMs: worst }) + "\\n");
await log.flush();
await Bun.sleep(300);
await log.flush();
`,
    );
    // The reader sleeps through the writes, then reads everything: the pipe fills, and the log must not grow past max_buffer.
    const proc = Bun.spawn(["bash", "-c", `${JSON.stringify(process.execPath)} ${JSON.stringify(child)} | (sleep 2.5; cat)`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await proc.exited;
    const report = JSON.parse(err.trim().split("\n").at(-1) as string) as { dropped: number; worstMs: number };
    const lines = out.split("\n").filter((l) => l !== "");
    expect(report.dropped).toBeGreaterThan(10_000);
    expect(lines.length + report.dropped).toBe(20_000);
    // What went out: at most the pipe's capacity and max_buffer (and the write in flight), never everything.
    const lineBytes = Buffer.byteLength(`${lines[0]}\n`);
    expect(lines.length * lineBytes).toBeLessThan(2 * 1024 * 1024);
    for (const l of lines) expect(JSON.parse(l).subject).toBe(record.subject);
    expect(report.worstMs).toBeLessThan(50);
  }, 20_000);

  test("a file is appended to, and reopened at its path after rotation", async () => {
    const dir = tempDir();
    const path = join(dir, "decisions.log");
    writeFileSync(path, '{"earlier":true}\n');
    const log = new DecisionLog({ enabled: true, output: path, sample: 1, maxBuffer: 1024 * 1024 }, { now: () => Date.UTC(2030, 0, 2, 3, 4, 5, 6), newId: () => "id-1" });
    log.write(record);
    await log.flush();
    expect(readLog(path)).toEqual([
      { earlier: true },
      {
        log: "decision",
        decision_id: "id-1",
        time: "2030-01-02T03:04:05.006Z",
        request_id: "r-1",
        route: "orders",
        subject: record.subject,
        identity: "jwt",
        method: "GET",
        path: "/orders/42",
        policy: "data.http.allow",
        bundle: `sha256:${"ab".repeat(32)}`,
        result: "allow",
        dry_run: false,
        duration_us: 1.235,
      },
    ]);
    renameSync(path, `${path}.1`);
    log.reopen();
    log.write({ ...record, result: "deny", status: 403, reason: "missing scope" });
    await log.flush();
    expect(readLog(path).map((l) => [l.result, l.status, l.reason])).toEqual([["deny", 403, "missing scope"]]);
    expect(readLog(`${path}.1`).length).toBe(2);
    log.close();
  });

  test("reconfigure: disabled stops writing; a new output is opened", async () => {
    const dir = tempDir();
    const a = join(dir, "a.log");
    const b = join(dir, "b.log");
    const log = new DecisionLog({ enabled: true, output: a, sample: 1, maxBuffer: 1024 * 1024 });
    log.write(record);
    log.reconfigure({ enabled: false, output: a, sample: 1, maxBuffer: 1024 * 1024 });
    expect(log.wants("deny")).toBe(false);
    log.write(record);
    log.reconfigure({ enabled: true, output: b, sample: 1, maxBuffer: 1024 * 1024 });
    log.write(record);
    await log.flush();
    await Bun.sleep(20);
    expect(readLog(a).length).toBe(1);
    expect(readLog(b).length).toBe(1);
    log.close();
  });
});
