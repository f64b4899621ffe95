/**
 * Hostile input to the admin API: clear 4xx errors, nothing stored, nothing
 * crashes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Ficus, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let up: Upstream;
let gw: Ficus;

beforeAll(async () => {
  up = await startUpstream("a");
  const dir = tempDir();
  gw = await startFicus(["-c", writeConfig(dir, `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(dir, "r.db")} }\nroutes:\n  - name: r\n    legacy: ${up.url}\n    candidate: ${up.url}\n    stage: shadow\n`)]);
});
afterAll(async () => {
  await gw?.stop();
  await up?.stop();
});

describe("admin API input", () => {
  test("a body over the admin limit is refused with 413 before it is read", async () => {
    const res = await fetch(`${gw.admin}/admin/migrations/r/noise`, { method: "POST", body: JSON.stringify({ path: "$.a", reason: "x".repeat(9 * 1024 * 1024) }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
  });

  test("noise marks with an overlong path or reason are 400 FICUS_BAD_REQUEST and not stored", async () => {
    for (const body of [{ path: `$.${"a".repeat(2000)}` }, { path: "$.a", reason: "r".repeat(600) }, { path: "" }, { reason: "no path" }, "not json"]) {
      const res = await fetch(`${gw.admin}/admin/migrations/r/noise`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("FICUS_BAD_REQUEST");
    }
    const list = (await (await fetch(`${gw.admin}/admin/migrations/r/noise`)).json()) as { noise: unknown[] };
    expect(list.noise).toEqual([]);
    const ok = await fetch(`${gw.admin}/admin/migrations/r/noise`, { method: "POST", body: JSON.stringify({ path: "$.trace" }), headers: { "content-type": "application/json" } });
    expect(ok.status).toBe(201);
  });
});
