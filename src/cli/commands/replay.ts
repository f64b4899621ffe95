/**
 * `ficus replay FILE… (--legacy URL --candidate URL | --target URL) [options]`:
 * replays recorded traffic and reports how the two answers compare. Exit 0,
 * 1 when the mismatch rate is over --fail-on-mismatch-rate, 2 for usage or
 * input errors (including an empty recording or a filter that selects nothing).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadRulesFile } from "../../compare/index.ts";
import { loadConfigFile } from "../../config/load.ts";
import { FicusError } from "../../core/errors.ts";
import { fieldValueProblem, isToken } from "../../core/http-grammar.ts";
import type { Corrupt } from "../../replay/exchange.ts";
import { type Filter, parseFilter } from "../../replay/filter.ts";
import { renderHtml } from "../../replay/html.ts";
import { buildReport, summaryLine } from "../../replay/report.ts";
import { Replay, type ReplayError, type ReplayProgress } from "../../replay/runner.ts";
import { reportError, safeText } from "../output.ts";

export interface ReplayCliOptions {
  legacy?: string;
  candidate?: string;
  target?: string;
  config?: string;
  rules?: string;
  concurrency: string;
  rate?: string;
  speed?: string;
  filter: string[];
  aa: string;
  out: string;
  failOnMismatchRate?: string;
  minSeverity: string;
  allowUnsafe?: boolean;
  header: string[];
  host?: string;
  timeout: string;
  samples: string;
}

/** Failed requests and corrupt lines printed on stderr; the rest are in report.json. */
const PRINT_LIMIT = 20;

const usage = (message: string) => new FicusError("FICUS_USAGE", message);

function number(flag: string, value: string, min: number, max: number, integer = false): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw usage(`${flag}: expected ${integer ? "an integer" : "a number"} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function baseUrl(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw usage(`${flag}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw usage(`${flag}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, "");
}

/** "0.01" or "1%". */
function fraction(flag: string, value: string): number {
  const pct = value.trim().endsWith("%");
  const n = number(flag, pct ? value.trim().slice(0, -1) : value, 0, pct ? 100 : 1);
  return pct ? n / 100 : n;
}

function headerArg(h: string): [string, string] {
  const i = h.indexOf(":");
  const name = i > 0 ? h.slice(0, i).trim() : "";
  if (!isToken(name)) throw usage(`--header ${JSON.stringify(h)}: expected 'Name: value'`);
  const value = h.slice(i + 1).trim();
  const problem = fieldValueProblem(value);
  // Checked here, once: an invalid value would otherwise fail every replayed request.
  if (problem) throw usage(`--header ${JSON.stringify(h)}: the value ${problem}`);
  return [name, value];
}

function hostArg(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const problem = fieldValueProblem(host);
  if (problem || host === "" || /[\s/?#@]/.test(host)) throw usage(`--host ${JSON.stringify(host)}: expected a host name with an optional port${problem ? ` (the value ${problem})` : ""}`);
  return host;
}

function progressLine(p: ReplayProgress): string {
  const rate = p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0;
  const read = p.totalBytes > 0 ? `, ${Math.floor((p.bytes / p.totalBytes) * 100)}% read` : "";
  return `replay: ${p.done} done (${rate}/s), ${p.matched} matched, ${p.mismatched} differ, ${p.errors} errors${read}`;
}

export async function replayCommand(files: string[], o: ReplayCliOptions): Promise<number> {
  try {
    const legacy = baseUrl("--legacy", o.legacy);
    const candidate = baseUrl("--candidate", o.candidate);
    const target = baseUrl("--target", o.target);
    if (target !== undefined && (legacy !== undefined || candidate !== undefined)) throw usage("give either --target (compare with the recording) or --legacy and --candidate, not both");
    if (target === undefined && (legacy === undefined || candidate === undefined)) throw usage("give --legacy URL and --candidate URL (two live services), or --target URL (compare with the recorded responses)");
    if (o.rate !== undefined && o.speed !== undefined) throw usage("give either --rate or --speed, not both");
    const filters: Filter[] = o.filter.map(parseFilter);
    const config = o.config !== undefined ? loadConfigFile(o.config).config : undefined;
    const replay = new Replay({
      files: files.map((f) => resolve(f)),
      legacy,
      candidate,
      target,
      config,
      rules: o.rules !== undefined ? loadRulesFile(o.rules) : undefined,
      concurrency: number("--concurrency", o.concurrency, 1, 10_000, true),
      rate: o.rate !== undefined ? number("--rate", o.rate, 0.001, 1_000_000) : undefined,
      speed: o.speed !== undefined ? number("--speed", o.speed, 0.001, 1_000_000) : undefined,
      filters,
      aa: fraction("--aa", o.aa),
      allowUnsafe: o.allowUnsafe === true,
      headers: o.header.map(headerArg),
      host: hostArg(o.host),
      timeoutMs: number("--timeout", o.timeout, 1, 3_600_000),
      samplesPerSignature: number("--samples", o.samples, 0, 100, true),
    });
    const gate = o.failOnMismatchRate !== undefined ? fraction("--fail-on-mismatch-rate", o.failOnMismatchRate) : undefined;
    const minSeverity = o.minSeverity;
    if (minSeverity !== "low" && minSeverity !== "medium" && minSeverity !== "high") throw usage(`--min-severity ${JSON.stringify(minSeverity)}: expected low, medium or high`);

    const errors: ReplayError[] = [];
    const corrupt: Corrupt[] = [];
    const tty = process.stderr.isTTY === true;
    let bar: import("cli-progress").SingleBar | undefined;
    // Above the progress bar (cleared; it redraws on its next tick) or as a plain line; file names, targets and messages escaped.
    const say = (line: string) => process.stderr.write(bar ? `\r\x1b[K${safeText(line)}\n` : `${safeText(line)}\n`);
    replay.onError = (e) => {
      errors.push(e);
      if (errors.length <= PRINT_LIMIT) say(`ficus replay: ${e.file}:${e.line} ${e.method} ${e.target} → ${e.side}: ${e.message}`);
      else if (errors.length === PRINT_LIMIT + 1) say("ficus replay: more failed requests are listed in report.json");
    };
    replay.onCorrupt = (c) => {
      corrupt.push(c);
      if (corrupt.length <= PRINT_LIMIT) say(`ficus replay: ${c.file}:${c.line}: skipped: ${c.message}`);
      else if (corrupt.length === PRINT_LIMIT + 1) say("ficus replay: more corrupt entries are listed in report.json");
    };

    let timer: ReturnType<typeof setInterval>;
    if (tty) {
      const { SingleBar, Presets } = await import("cli-progress");
      bar = new SingleBar(
        { format: "replay [{bar}] {percentage}% | {rate}/s | ETA {eta_formatted} | {done} done, {matched} matched, {mismatched} differ, {errors} errors", stream: process.stderr, hideCursor: true, etaBuffer: 20 },
        Presets.shades_classic,
      );
      bar.start(1, 0, { rate: 0, done: 0, matched: 0, mismatched: 0, errors: 0 });
      const activeBar = bar;
      timer = setInterval(() => {
        const p = replay.progress();
        activeBar.setTotal(Math.max(1, p.totalBytes));
        activeBar.update(p.bytes, { rate: p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0, done: p.done, matched: p.matched, mismatched: p.mismatched, errors: p.errors });
      }, 200);
    } else {
      timer = setInterval(() => process.stderr.write(`${progressLine(replay.progress())}\n`), 2000);
    }
    try {
      await replay.run();
    } finally {
      clearInterval(timer);
      if (bar) {
        const p = replay.progress();
        bar.setTotal(Math.max(1, p.totalBytes));
        bar.update(p.totalBytes, { done: p.done, matched: p.matched, mismatched: p.mismatched, errors: p.errors });
        bar.stop();
        bar = undefined;
      }
    }

    if (replay.stats.selected === 0) {
      await replay.close();
      const what = replay.stats.read === 0 ? `no exchanges to replay in ${files.join(", ")}${replay.stats.corrupt > 0 ? ` (${replay.stats.corrupt} corrupt entries skipped)` : ""}` : `the filters select none of the ${replay.stats.read} exchanges`;
      throw new FicusError("FICUS_REPLAY_INPUT", what);
    }
    const { report, samples } = await buildReport(replay, target !== undefined ? "recording" : "two-services", files, errors, corrupt, minSeverity);
    await replay.close();
    mkdirSync(o.out, { recursive: true });
    const jsonPath = join(o.out, "report.json");
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    const htmlPath = join(o.out, "report.html");
    writeFileSync(htmlPath, renderHtml(report, samples));
    process.stdout.write(`${summaryLine(report.summary)}\n`);
    process.stdout.write(`report: ${safeText(htmlPath)} (and report.json)\n`);
    if (gate !== undefined && report.summary.mismatch_rate > gate) {
      process.stdout.write(`FAIL: mismatch rate ${(report.summary.mismatch_rate * 100).toFixed(2)}% is over ${(gate * 100).toFixed(2)}%\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    // Bad flags, unreadable inputs and invalid rules or config are usage errors (2).
    reportError(err);
    return 2;
  }
}
