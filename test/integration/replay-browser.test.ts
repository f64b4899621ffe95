/**
 * Replay with a real browser: a HAR recorded by Chromium (playwright-core's
 * recordHar) is replayed, and the HTML report is opened in headless Chromium
 * and checked for its table and diffs, offline.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { CHROMIUM, launchChromium } from "../helpers/browser.ts";
import { runCli, startService, tempDir, type Upstream } from "../helpers/processes.ts";
import { hasTool } from "../helpers/tools.ts";

const withBrowser = hasTool(CHROMIUM, "the browser test of report.html");

let legacy: Upstream;
let buggy: Upstream;
let browser: Browser;
const dir = tempDir("ficus-replay-browser-");

beforeAll(async () => {
  if (!withBrowser) return;
  [legacy, buggy, browser] = await Promise.all([startService("replay-service", "legacy"), startService("replay-service", "buggy"), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([legacy?.stop(), buggy?.stop()]);
});

test.if(withBrowser)("a HAR recorded by Chromium replays, and report.html shows the table and the side-by-side diff", async () => {
  // Record: the browser loads a page that fetches ten items from legacy.
  const har = join(dir, "browser.har");
  const context = await browser.newContext({ recordHar: { path: har, content: "embed" } });
  const page = await context.newPage();
  await page.goto(`${legacy.url}/items/0`);
  await page.evaluate(async () => {
    for (let i = 1; i < 10; i++) await (await fetch(`/items/${i}?from=<script>`)).text();
  });
  await context.close(); // writes the HAR

  const out = join(dir, "out");
  const rules = join(dir, "rules.json");
  await Bun.write(rules, JSON.stringify({ ignore: ["$.nonce"] }));
  const r = await runCli(["replay", har, "--legacy", legacy.url, "--candidate", buggy.url, "--rules", rules, "--out", out, "--fail-on-mismatch-rate", "0"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain("replayed 10 of 10 exchanges");
  expect(r.stdout).toContain("compared 10: 9 matched, 1 mismatched");

  // Read the report offline: any request other than the file itself fails the test.
  const view = await browser.newContext({ offline: true });
  const reportPage = await view.newPage();
  const requested: string[] = [];
  reportPage.on("request", (req) => requested.push(req.url()));
  await reportPage.goto(`file://${join(out, "report.html")}`);
  expect(await reportPage.title()).toBe("Ficus replay report");
  const row = await reportPage.locator("table.routes tbody tr").first().locator("td").allTextContents();
  expect(row.slice(0, 4)).toEqual(["default", "10", "9", "1"]);
  const sig = reportPage.locator("section.signature").first();
  expect(await sig.locator("h3").textContent()).toContain("×1");
  expect(await sig.locator("p code").allTextContents()).toEqual(["$.name"]);
  // The highlighted pair: legacy's line on the left, the candidate's on the right.
  const changed = sig.locator("table.diff").first().locator("tr", { has: reportPage.locator("td.del", { hasText: '"name"' }) });
  expect(await changed.locator("td.del").textContent()).toContain('"name": "item 7"');
  expect(await changed.locator("td.add").textContent()).toContain('"name": "item seven"');
  expect(await sig.locator("pre.request").textContent()).toContain("GET /items/7?from=%3Cscript%3E");
  expect(await reportPage.locator("svg.chart polyline").count()).toBe(2);
  expect(requested).toEqual([`file://${join(out, "report.html")}`]);
  await view.close();
});
