/**
 * Recording under hostile input (issue 8, found by adversarial testing): a
 * compressed request body is decoded before redaction, a body in a coding
 * Ficus cannot decode is never written, and a folder that cannot hold
 * recordings is a clear 400.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Ficus, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let up: Upstream;
let gw: Ficus;
const dir = tempDir("ficus-record-hostile-");

beforeAll(async () => {
  up = await startUpstream("a");
  gw = await startFicus(["-c", writeConfig(dir, `listen: 127.0.0.1:0\nworkers: 1\nadmin: { listen: 127.0.0.1:0 }\naccess_log: { enabled: false }\nroutes:\n  - name: all\n    match: { prefix: / }\n    upstream: ${up.url}\n`)]);
});
afterAll(async () => {
  await gw?.stop();
  await up?.stop();
});

async function sessions(): Promise<{ state: string; recorded: number; skipped: Record<string, number>; files: string[] }[]> {
  return ((await (await fetch(`${gw.admin}/admin/record`)).json()) as { sessions: { state: string; recorded: number; skipped: Record<string, number>; files: string[] }[] }).sessions;
}

describe("recording hostile traffic", () => {
  test("a gzip request body is decoded, then redacted (regression: the secret was written inside the gzip bytes); an undecodable one is skipped", async () => {
    const out = join(dir, "rec");
    expect((await runCli(["record", "start", "--route", "all", "--max", "2", "--out", out, "--admin", gw.admin])).code).toBe(0);
    const gz = gzipSync(Buffer.from(JSON.stringify({ user: "ann", password: "GZPW13" })));
    const a = await fetch(`${gw.url}/echo`, { method: "POST", body: gz, headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    await a.arrayBuffer();
    const b = await fetch(`${gw.url}/echo`, { method: "POST", body: "opaque", headers: { "content-type": "application/json", "content-encoding": "x-unknown" } });
    await b.arrayBuffer();
    const c = await fetch(`${gw.url}/echo?plain=1`);
    await c.arrayBuffer();
    let s = await sessions();
    for (let i = 0; i < 100 && s[0]?.state === "recording"; i++) {
      await Bun.sleep(30);
      s = await sessions();
    }
    expect(s[0]).toMatchObject({ state: "done", recorded: 2 });
    expect(s[0]?.skipped.undecodable).toBe(1);
    const text = (s[0]?.files ?? []).map((f) => readFileSync(f, "utf8")).join("");
    expect(text).not.toContain("GZPW13");
    expect(text).not.toContain("opaque");
    const first = JSON.parse(text.split("\n")[0] as string) as { request: { headers: [string, string][]; body: string } };
    expect(first.request.body).toContain('"password":"[redacted]"');
    expect(first.request.body).toContain('"user":"ann"');
    expect(first.request.headers.some(([k]) => k === "content-encoding")).toBe(false);
  });

  test("a folder that cannot hold recordings is 400 FICUS_BAD_REQUEST, not 500", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    for (const out of ["/proc/nope", file, join(file, "sub")]) {
      const res = await fetch(`${gw.admin}/admin/record/start`, { method: "POST", body: JSON.stringify({ route: "all", out }), headers: { "content-type": "application/json" } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("FICUS_BAD_REQUEST");
      expect(body.error.message).toContain("cannot record:");
    }
    const cli = await runCli(["record", "start", "--route", "all", "--out", "/proc/nope", "--admin", gw.admin]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain("FICUS_BAD_REQUEST");
  });
});
