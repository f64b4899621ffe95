/**
 * The access log written to a file by a real gateway: appended to (a restart
 * keeps what was there; two workers never overwrite each other's lines), and
 * reopened when logrotate moves it away or it is deleted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startFicus, startUpstream, tempDir, type Ficus, type Upstream, writeConfig } from "../helpers/processes.ts";

let up: Upstream;
beforeAll(async () => {
  up = await startUpstream("up");
});
afterAll(async () => {
  await up?.stop();
});

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
}

/** Request ids of the access-log lines in `path` (each must be whole JSON). */
const ids = (path: string) => lines(path).filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { request_id: string }).request_id);

async function requests(g: Ficus, n: number, tag: string): Promise<string[]> {
  const out: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const id = `${tag}-${i}`;
      const res = await fetch(`${g.url}/status/200`, { headers: { connection: "close", "x-request-id": id } });
      await res.text();
      out.push(res.headers.get("x-request-id") ?? id);
    }),
  );
  return out;
}

async function until(ok: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await Bun.sleep(50);
  return ok();
}

test("regression: two workers append to one access log file; earlier lines survive a start; every line lands whole", async () => {
  const dir = tempDir("ficus-access-");
  const log = join(dir, "access.log");
  writeFileSync(log, "a line from before\n");
  const cfg = writeConfig(dir, `listen: 127.0.0.1:${freePort()}\nadmin: { listen: 127.0.0.1:0 }\nworkers: 2\naccess_log: { output: ${log} }\nroutes:\n  - name: r\n    upstream: ${up.url}\n`);
  const g = await startFicus(["-c", cfg]);
  let sent: string[] = [];
  try {
    sent = await requests(g, 200, "two");
  } finally {
    expect(await g.stop()).toBe(0);
  }
  expect(lines(log)[0]).toBe("a line from before");
  expect(ids(log).sort()).toEqual(sent.sort());
});

test("a rotated or deleted access log file is reopened at its path", async () => {
  const dir = tempDir("ficus-access-rotate-");
  const log = join(dir, "access.log");
  const cfg = writeConfig(dir, `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\naccess_log: { output: ${log} }\nroutes:\n  - name: r\n    upstream: ${up.url}\n`);
  const g = await startFicus(["-c", cfg]);
  try {
    const first = await requests(g, 5, "first");
    expect(await until(() => ids(log).length === 5)).toBe(true);

    renameSync(log, `${log}.1`); // logrotate, without copytruncate
    await Bun.sleep(1200); // the path is checked once a second
    const second = await requests(g, 5, "second");
    expect(await until(() => ids(log).length === 5)).toBe(true);
    expect(ids(log).sort()).toEqual(second.sort());
    expect(ids(`${log}.1`).sort()).toEqual(first.sort());

    rmSync(log);
    await Bun.sleep(1200);
    const third = await requests(g, 5, "third");
    expect(await until(() => ids(log).length === 5)).toBe(true);
    expect(ids(log).sort()).toEqual(third.sort());
  } finally {
    await g.stop();
  }
});
