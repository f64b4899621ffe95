/**
 * The issue-8 repro, end to end: a compare rule with a catastrophic-
 * backtracking pattern on a field the upstream fills from the request path.
 * With a backtracking regex engine one request stalled every other for over
 * a second; compare rules now run on RE2 (linear time), so the data plane
 * never waits on a comparison.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Ficus, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let legacy: Upstream;
let candidate: Upstream;
let gw: Ficus;

beforeAll(async () => {
  [legacy, candidate] = await Promise.all([startUpstream("legacy"), startUpstream("rewrite")]);
  const dir = tempDir();
  gw = await startFicus([
    "-c",
    writeConfig(
      dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
store: { path: ${join(dir, "r.db")} }
routes:
  - name: echo
    match: { prefix: /echo }
    legacy: ${legacy.url}
    candidate: ${candidate.url}
    stage: shadow
    shadow: { aa: 0 }
    compare:
      ignore: ["$.upstream", "$.headers"]
      normalize: [{ path: "$.path", pattern: "(a+)+$", replace: X }]
  - name: other
    match: { prefix: /other }
    upstream: ${legacy.url}
`,
    ),
  ]);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([legacy?.stop(), candidate?.stop()]);
});

describe("a hostile compare rule cannot stall the data plane", () => {
  test("8 requests whose compared field is 40 a's and '!' leave an unrelated request fast", async () => {
    const evil = `/echo/${"a".repeat(40)}!`;
    const t0 = performance.now();
    const evilRequests = Array.from({ length: 8 }, () => fetch(`${gw.url}${evil}`).then((r) => r.arrayBuffer()));
    await Bun.sleep(20); // the comparisons run after each answer: give them time to start
    const t1 = performance.now();
    const res = await fetch(`${gw.url}/other/x`);
    await res.arrayBuffer();
    const unrelatedMs = performance.now() - t1;
    await Promise.all(evilRequests);
    expect(res.status).toBe(200);
    // A backtracking engine took over a second per comparison here; RE2 takes microseconds.
    expect(unrelatedMs).toBeLessThan(500);
    expect(performance.now() - t0).toBeLessThan(3000);
    // And the comparisons did happen (the pattern applied, both sides normalised alike).
    const until = Date.now() + 5000;
    let compared = 0;
    while (Date.now() < until && compared < 8) {
      const m = (await (await fetch(`${gw.admin}/admin/migrations`)).json()) as { routes: { route: string; compared: number }[] };
      compared = m.routes.find((r) => r.route === "echo")?.compared ?? 0;
      if (compared < 8) await Bun.sleep(100);
    }
    expect(compared).toBe(8);
  });
});
