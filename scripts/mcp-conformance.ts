/**
 * Runs the official MCP conformance suite's server scenarios
 * (@modelcontextprotocol/conformance) against one MCP endpoint, for the
 * 2025-11-25 requirement set (the sessionful "legacy" era) and the 2026-07-28
 * set (the stateless "modern" era), each at its own wire version, and reports
 * scenario × era → pass / fail / skip with the failing checks' ids.
 *
 * The suite writes results/…/checks.json; every run writes them under a
 * temporary directory (its output dir and its cwd), read and then removed.
 *
 * Usage:
 *   bun scripts/mcp-conformance.ts --url http://127.0.0.1:PORT/mcp
 *     [--era legacy|modern|both] [--scenarios a,b] [--out FILE.json] [--markdown]
 *     [--baseline test/conformance/mcp/fixture-baseline.json] [--write-baseline FILE.json]
 * Exit status: with --baseline, 0 when every baseline scenario of the eras run
 * passes; without it, 0 when every scored scenario passes.
 *
 * `runConformance` is exported for tests (the fixture's, and the gateway's).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

export type Era = "legacy" | "modern";

/** The spec revision (requirement set) each era is measured against. */
export const ERA_REVISION: Readonly<Record<Era, string>> = { legacy: "2025-11-25", modern: "2026-07-28" };

export type Status = "pass" | "fail" | "skip";

export interface Result {
  scenario: string;
  era: Era;
  revision: string;
  status: Status;
  /** Ids of the checks that failed (FAILURE), deduplicated, in order. */
  failed: string[];
  /** Ids of the checks that warned (WARNING): SHOULD-level, not a failure. */
  warnings: string[];
  /** Number of checks with a verdict (SUCCESS, FAILURE, WARNING). */
  checks: number;
  /** Why the requirement set does not score it ("extension", "pending", "added-after-release"), when it does not. */
  notScored?: string;
}

export interface RunOptions {
  /** The MCP endpoint, e.g. http://127.0.0.1:8080/mcp (the DNS-rebinding scenario needs a localhost URL). */
  url: string;
  /** Which era(s) to run; both by default. */
  era?: Era | "both";
  /** Run only these scenarios (each at the era's wire version); the whole requirement set when absent. */
  scenarios?: readonly string[];
  /** Per-scenario timeout given to the suite, in ms (default 30000). */
  timeoutMs?: number;
}

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
}

interface RequirementSet {
  server: string[];
  notScored: Map<string, string>;
}

const SUITE_DIR = dirname(Bun.resolveSync("@modelcontextprotocol/conformance/package.json", import.meta.dir));
const SUITE_CLI = join(SUITE_DIR, "dist/index.js");
/** `server-<scenario>-<ISO timestamp with - for : and .>` */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** The scenarios a revision requires of a server, and the ones it runs without scoring (with why). */
export function requirementSet(revision: string): RequirementSet {
  const doc = parseYaml(readFileSync(join(SUITE_DIR, "requirements", `${revision}.yaml`), "utf8")) as {
    server?: string[];
    not_scored?: { scenario: string; leg: string; reason: string }[];
  };
  const notScored = new Map<string, string>();
  for (const n of doc.not_scored ?? []) if (n.leg === "server") notScored.set(n.scenario, n.reason);
  return { server: doc.server ?? [], notScored };
}

/**
 * Runs the suite's CLI once with `args`, results into `outDir`. Resolves with whether it
 * wrote any results; rejects when it wrote none and exited non-zero (a bad scenario
 * name, an unreachable URL). The suite exits 1 when a scenario fails: that is a
 * result, not an error.
 */
async function runSuite(args: string[], outDir: string): Promise<boolean> {
  const proc = Bun.spawn([process.execPath, SUITE_CLI, "server", ...args, "--output-dir", outDir], {
    cwd: outDir,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const wrote = readdirSync(outDir).some((d) => RESULT_DIR.test(d));
  if (!wrote && code !== 0) {
    const why = `${stderr}\n${stdout}`.trim().split("\n").slice(0, 3).join(" ");
    throw new Error(`conformance suite exited ${code} without results (${args.join(" ")}): ${why}`);
  }
  return wrote;
}

/** Reads every scenario's checks.json under `outDir`. */
function readResults(outDir: string, era: Era, set: RequirementSet): Result[] {
  const results: Result[] = [];
  for (const dir of readdirSync(outDir).sort()) {
    const m = RESULT_DIR.exec(dir);
    if (!m) continue;
    const scenario = m[1]!;
    let checks: Check[];
    try {
      checks = JSON.parse(readFileSync(join(outDir, dir, "checks.json"), "utf8")) as Check[];
    } catch {
      checks = [];
    }
    const failed = [...new Set(checks.filter((c) => c.status === "FAILURE").map((c) => c.id))];
    const warnings = [...new Set(checks.filter((c) => c.status === "WARNING").map((c) => c.id))];
    const judged = checks.filter((c) => c.status === "SUCCESS" || c.status === "FAILURE" || c.status === "WARNING");
    const status: Status = failed.length > 0 ? "fail" : judged.length === 0 ? "skip" : "pass";
    const result: Result = { scenario, era, revision: ERA_REVISION[era], status, failed, warnings, checks: judged.length };
    const why = set.notScored.get(scenario);
    if (why) result.notScored = why;
    results.push(result);
  }
  return results;
}

async function runEra(opts: RunOptions, era: Era): Promise<Result[]> {
  const revision = ERA_REVISION[era];
  const set = requirementSet(revision);
  const common = ["--url", opts.url, "--timeout", String(opts.timeoutMs ?? 30_000)];
  if (!opts.scenarios) {
    const outDir = mkdtempSync(join(tmpdir(), "ficus-mcp-conformance-"));
    try {
      if (!(await runSuite([...common, "--requirements", revision], outDir))) {
        throw new Error(`conformance suite wrote no results for --requirements ${revision}`);
      }
      return readResults(outDir, era, set);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  // One suite process per scenario (the CLI takes one --scenario), all at once, each at
  // the era's wire version. A scenario the revision's requirement set runs (scored or
  // not, extensions included) is forced to run as the set would run it; any other one
  // the suite finds not applicable at this revision is reported as skipped.
  const runs = opts.scenarios.map(async (scenario): Promise<Result[]> => {
    const outDir = mkdtempSync(join(tmpdir(), "ficus-mcp-conformance-"));
    try {
      const inSet = set.server.includes(scenario) || set.notScored.has(scenario);
      const args = [...common, "--scenario", scenario, "--spec-version", revision, ...(inSet ? ["--force"] : [])];
      if (await runSuite(args, outDir)) return readResults(outDir, era, set);
      return [{ scenario, era, revision, status: "skip", failed: [], warnings: [], checks: 0 }];
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
  return (await Promise.all(runs)).flat();
}

/** Runs the server scenarios for the era(s) asked and returns one Result per scenario and era. */
export async function runConformance(opts: RunOptions): Promise<Result[]> {
  const eras: Era[] = opts.era === "legacy" || opts.era === "modern" ? [opts.era] : ["legacy", "modern"];
  const out: Result[] = [];
  for (const era of eras) out.push(...(await runEra(opts, era)));
  return out;
}

export type Baseline = Partial<Record<string, string[]>>;

/** The baseline scenarios (for the eras present in `results`) that did not pass. */
export function baselineFailures(results: readonly Result[], baseline: Baseline): { era: Era; scenario: string; why: string }[] {
  const out: { era: Era; scenario: string; why: string }[] = [];
  for (const era of new Set(results.map((r) => r.era))) {
    const byName = new Map(results.filter((r) => r.era === era).map((r) => [r.scenario, r]));
    for (const scenario of baseline[ERA_REVISION[era]] ?? []) {
      const r = byName.get(scenario);
      if (!r) out.push({ era, scenario, why: "not run" });
      else if (r.status !== "pass") out.push({ era, scenario, why: r.status === "fail" ? `failed: ${r.failed.join(", ")}` : "skipped" });
    }
  }
  return out;
}

/** The passing scenarios per revision, in the shape of a baseline file. */
export function toBaseline(results: readonly Result[]): Baseline {
  const out: Baseline = {};
  for (const r of results) if (r.status === "pass") (out[r.revision] ??= []).push(r.scenario);
  for (const list of Object.values(out)) list?.sort();
  return out;
}

function cell(r: Result | undefined): string {
  if (!r) return "—";
  const tag = r.notScored ? ` (${r.notScored})` : "";
  if (r.status === "fail") return `FAIL${tag}: ${r.failed.join(", ")}`;
  return `${r.status}${tag}`;
}

function grid(results: readonly Result[]): { eras: Era[]; rows: [string, ...string[]][] } {
  const eras = (["legacy", "modern"] as const).filter((e) => results.some((r) => r.era === e));
  const names = [...new Set(results.map((r) => r.scenario))];
  const rows = names.map((name): [string, ...string[]] => [
    name,
    ...eras.map((era) => cell(results.find((r) => r.scenario === name && r.era === era))),
  ]);
  return { eras: [...eras], rows };
}

/** A plain-text table: scenario × era. */
export function formatTable(results: readonly Result[]): string {
  const { eras, rows } = grid(results);
  const header: [string, ...string[]] = ["scenario", ...eras.map((e) => `${ERA_REVISION[e]} (${e})`)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The same table as Markdown (for docs/mcp.md). */
export function formatMarkdown(results: readonly Result[]): string {
  const { eras, rows } = grid(results);
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const header = ["Scenario", ...eras.map((e) => `${ERA_REVISION[e]} (${e})`)];
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| \`${r[0]}\` | ${r.slice(1).map(esc).join(" | ")} |`),
  ].join("\n");
}

function summary(results: readonly Result[]): string {
  const parts: string[] = [];
  for (const era of ["legacy", "modern"] as const) {
    const rs = results.filter((r) => r.era === era);
    if (rs.length === 0) continue;
    const count = (s: Status) => rs.filter((r) => r.status === s).length;
    parts.push(`${ERA_REVISION[era]}: ${count("pass")} pass, ${count("fail")} fail, ${count("skip")} skip`);
  }
  return parts.join("; ");
}

interface CliArgs {
  url: string;
  era: Era | "both";
  scenarios?: string[];
  out?: string;
  markdown: boolean;
  baseline?: string;
  writeBaseline?: string;
  timeoutMs?: number;
}

function parseCli(argv: string[]): CliArgs {
  const args: Partial<CliArgs> & { markdown: boolean; era: Era | "both" } = { markdown: false, era: "both" };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    switch (flag) {
      case "--url":
        args.url = value(++i, flag);
        break;
      case "--era": {
        const era = value(++i, flag);
        if (era !== "legacy" && era !== "modern" && era !== "both") throw new Error(`--era must be legacy, modern or both, got ${era}`);
        args.era = era;
        break;
      }
      case "--scenarios":
        args.scenarios = value(++i, flag)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case "--out":
        args.out = value(++i, flag);
        break;
      case "--markdown":
        args.markdown = true;
        break;
      case "--baseline":
        args.baseline = value(++i, flag);
        break;
      case "--write-baseline":
        args.writeBaseline = value(++i, flag);
        break;
      case "--timeout":
        args.timeoutMs = Number(value(++i, flag));
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (!args.url) throw new Error("--url is required (the MCP endpoint, e.g. http://127.0.0.1:8080/mcp)");
  return args as CliArgs;
}

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const started = performance.now();
  const results = await runConformance({
    url: args.url,
    era: args.era,
    ...(args.scenarios ? { scenarios: args.scenarios } : {}),
    ...(args.timeoutMs ? { timeoutMs: args.timeoutMs } : {}),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${args.markdown ? formatMarkdown(results) : formatTable(results)}\n\n${summary(results)} (${seconds} s)\n`);
  if (args.out) writeFileSync(resolve(args.out), `${JSON.stringify(results, null, 2)}\n`);
  if (args.writeBaseline) writeFileSync(resolve(args.writeBaseline), `${JSON.stringify(toBaseline(results), null, 2)}\n`);
  if (args.baseline) {
    const baseline = JSON.parse(readFileSync(resolve(args.baseline), "utf8")) as Baseline;
    const misses = baselineFailures(results, baseline);
    for (const m of misses) process.stderr.write(`baseline ${ERA_REVISION[m.era]} ${m.scenario}: ${m.why}\n`);
    return misses.length === 0 ? 0 : 1;
  }
  return results.some((r) => r.status === "fail" && !r.notScored) ? 1 : 0;
}

if (import.meta.main) process.exit(await main());
