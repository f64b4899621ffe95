/** The canary stage end to end: sticky serving, forcing, and comparison in both directions. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Ficus, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let legacy: Upstream;
let candidate: Upstream;
let gw: Ficus;

beforeAll(async () => {
  [legacy, candidate] = await Promise.all([startUpstream("legacy"), startUpstream("candidate")]);
  const dir = tempDir("ficus-canary-");
  const path = writeConfig(
    dir,
    `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\nstore: { path: ${join(dir, "r.db")}, flush_interval: 100ms }\nroutes:
  - name: half
    match: { prefix: /half }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: canary
    canary: { percent: 50, sticky: { header: x-user-id }, auto: false }
    rewrite: { strip_prefix: /half }
    shadow: { aa: 0 }
  - name: locked
    match: { prefix: /locked }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: canary
    canary: { percent: 0, allow_force: false, auto: false }
    served_by_header: false
    rewrite: { strip_prefix: /locked }
  - name: cut
    match: { prefix: /cut }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: candidate
    rewrite: { strip_prefix: /cut }
    shadow: { aa: 0, after_cutover: 0.5 }
  - name: done
    match: { prefix: /done }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: candidate
    rewrite: { strip_prefix: /done }
`,
  );
  gw = await startFicus(["-c", path]);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([legacy?.stop(), candidate?.stop()]);
});

async function served(path: string, headers: Record<string, string> = {}): Promise<{ by: string | null; upstream: string }> {
  const res = await fetch(gw.url + path, { headers });
  const body = (await res.json()) as { upstream: string };
  return { by: res.headers.get("x-ficus-served-by"), upstream: body.upstream };
}

describe("canary stage", () => {
  test("a user stays on one side; users spread over both; the header says who served", async () => {
    const sides = new Map<string, string>();
    for (let u = 0; u < 40; u++) {
      const first = await served("/half/echo", { "x-user-id": `user-${u}` });
      expect(first.by).toBe(first.upstream);
      for (let k = 0; k < 3; k++) expect((await served("/half/echo", { "x-user-id": `user-${u}` })).upstream).toBe(first.upstream);
      sides.set(`user-${u}`, first.upstream);
    }
    const onCandidate = [...sides.values()].filter((s) => s === "candidate").length;
    expect(onCandidate).toBeGreaterThan(8);
    expect(onCandidate).toBeLessThan(32);
  });

  test("X-Ficus-Force picks a side; a route can refuse it and hide the header", async () => {
    expect((await served("/half/echo", { "x-ficus-force": "candidate", "x-user-id": "forced" })).upstream).toBe("candidate");
    expect((await served("/half/echo", { "x-ficus-force": "legacy", "x-user-id": "forced" })).upstream).toBe("legacy");
    const locked = await served("/locked/echo", { "x-ficus-force": "candidate" });
    expect(locked).toEqual({ by: null, upstream: "legacy" });
  });

  test("comparison never stops: both sides' requests are mirrored to the other and compared, oriented legacy → candidate", async () => {
    const before = (await (await fetch(`${gw.admin}/admin/migrations`)).json()) as { routes: { route: string; compared: number }[] };
    const base = before.routes.find((r) => r.route === "half")?.compared ?? 0;
    await (await fetch(`${gw.url}/half/status/200`, { headers: { "x-ficus-force": "legacy" } })).text();
    await (await fetch(`${gw.url}/half/status/200`, { headers: { "x-ficus-force": "candidate" } })).text();
    let half: { compared: number; mismatched: number; signatures: { id: string; paths: string[] }[] } | undefined;
    for (let i = 0; i < 60; i++) {
      const r = (await (await fetch(`${gw.admin}/admin/migrations`)).json()) as { routes: (typeof half & { route: string })[] };
      half = r.routes.find((x) => x?.route === "half");
      if ((half?.compared ?? 0) >= base + 2) break;
      await Bun.sleep(50);
    }
    expect(half?.compared).toBeGreaterThanOrEqual(base + 2);
    const sig = half?.signatures.find((s) => s.paths.includes("body:line *")) as { id: string };
    const samples = (await (await fetch(`${gw.admin}/admin/migrations/half/signatures/${sig.id}/samples`)).json()) as {
      samples: { differences: { path: string; legacy: unknown; candidate: unknown }[] }[];
    };
    expect(samples.samples.length).toBeGreaterThanOrEqual(2);
    // Whichever side served, "legacy" is legacy's answer.
    for (const s of samples.samples) {
      expect(s.differences.find((d) => d.path.startsWith("body"))).toMatchObject({ legacy: "status 200 from legacy", candidate: "status 200 from candidate" });
      expect(s.differences.find((d) => d.path === "headers.x-upstream")).toMatchObject({ legacy: "legacy", candidate: "candidate" });
    }
  });

  test("after cutover, legacy still answers shadow.after_cutover of the requests for comparison, and none by default", async () => {
    for (let i = 0; i < 10; i++) {
      expect((await served("/cut/echo")).by).toBe("candidate");
      expect((await served("/done/echo")).by).toBe("candidate");
    }
    const routes = async () => ((await (await fetch(`${gw.admin}/admin/migrations`)).json()) as { routes: { route: string; compared: number; stage: string }[] }).routes;
    let cut: { compared: number; stage: string } | undefined;
    for (let i = 0; i < 60 && (cut?.compared ?? 0) < 5; i++) {
      await Bun.sleep(50);
      cut = (await routes()).find((r) => r.route === "cut");
    }
    await Bun.sleep(250); // one more flush: nothing beyond the sample may arrive
    const all = await routes();
    expect(all.find((r) => r.route === "cut")).toMatchObject({ stage: "candidate", compared: 5 });
    expect(all.find((r) => r.route === "done")?.compared ?? 0).toBe(0);
  });

  test("stage and percentage are metrics; served-by is counted", async () => {
    const text = await (await fetch(`${gw.admin}/metrics`)).text();
    expect(text).toMatch(/ficus_route_stage\{route="half",stage="canary"\} 1/);
    expect(text).toMatch(/ficus_canary_percent\{route="half"\} 50/);
    expect(text).toMatch(/ficus_served_total\{route="half",side="candidate"\} [1-9]/);
  });
});

describe("quick mode", () => {
  test("--stage canary --percent --sticky-header", async () => {
    const g = await startFicus(["--legacy", legacy.url, "--candidate", candidate.url, "--stage", "canary", "--percent", "100", "--sticky-header", "X-User-Id", "--store", join(tempDir(), "r.db"), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", "1"]);
    try {
      const res = await fetch(`${g.url}/echo`, { headers: { "x-user-id": "u1" } });
      expect(res.headers.get("x-ficus-served-by")).toBe("candidate");
      await res.text();
    } finally {
      await g.stop();
    }
    const bad = await runCli(["start", "--legacy", legacy.url, "--candidate", candidate.url, "--stage", "canary", "--percent", "150"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--percent: expected a number from 0 to 100");
    const badSample = await runCli(["start", "--legacy", legacy.url, "--candidate", candidate.url, "--stage", "canary", "--sample", "2"]);
    expect(badSample.code).toBe(2);
    expect(badSample.stderr).toContain("--sample: expected a fraction from 0 to 1");
  });
});
