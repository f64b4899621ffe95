/**
 * The official MCP conformance suite through Ficus: Ficus in edge-mcp mode
 * federates the everything fixture (over Streamable HTTP, and over stdio),
 * and every scenario that passes against the fixture directly
 * (test/conformance/mcp/fixture-baseline.json) must pass through the gateway,
 * in both eras — but the ones listed, with why, in gateway-exceptions.json.
 * The whole requirement sets run (a few seconds each).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { baselineFailures, type Baseline, formatTable, runConformance } from "../../scripts/mcp-conformance.ts";
import { startEverythingServer, type EverythingProcess } from "../fixtures/mcp/everything-server.ts";
import { type Ficus, ROOT, startFicus } from "../helpers/processes.ts";

const baseline = (await Bun.file(join(ROOT, "test/conformance/mcp/fixture-baseline.json")).json()) as Baseline;
/** Per transport, per revision: scenario → why it may not pass through the gateway. */
const exceptions = (await Bun.file(join(ROOT, "test/conformance/mcp/gateway-exceptions.json")).json()) as Record<"http" | "stdio", Record<string, Record<string, string>>>;

let fixture: EverythingProcess;
const gateways: Ficus[] = [];

beforeAll(async () => {
  fixture = await startEverythingServer();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await fixture?.stop();
});

async function expectBaseline(transport: "http" | "stdio", source: string[]): Promise<void> {
  const gw = await startFicus(["--mode", "edge-mcp", ...source, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", "1"]);
  gateways.push(gw);
  // A localhost URL, as the DNS-rebinding scenario needs.
  const results = await runConformance({ url: `http://localhost:${gw.port}/mcp`, era: "both" });
  const failures = baselineFailures(results, baseline).filter((f) => exceptions[transport][f.era === "legacy" ? "2025-11-25" : "2026-07-28"]?.[f.scenario] === undefined);
  expect(failures, formatTable(results)).toEqual([]);
}

test("every scenario the fixture passes passes through Ficus, federated over Streamable HTTP", async () => {
  await expectBaseline("http", ["--mcp", fixture.url]);
}, 120_000);

test("… and federated over stdio", async () => {
  await expectBaseline("stdio", ["--stdio", `${process.execPath} ${join(ROOT, "test/fixtures/mcp/everything-server.ts")} --stdio`]);
}, 120_000);
