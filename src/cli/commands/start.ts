/** `ficus start`: run the gateway from a config file or zero-config flags. */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseRate } from "../../ratelimit/schema.ts";
import { httpUrl, STAGES } from "../../config/schema.ts";
import { ConfigSource, type Overrides } from "../../config/source.ts";
import { FicusError } from "../../core/errors.ts";
import { createLogger, type LogLevel } from "../../observability/logger.ts";

export interface StartOptions {
  config?: string;
  legacy?: string;
  upstream?: string;
  candidate?: string;
  stage?: string;
  store?: string;
  percent?: string;
  stickyHeader?: string;
  sample?: string;
  listen?: string;
  admin?: string;
  workers?: string;
  logLevel?: string;
  mode?: string;
  issuer?: string;
  jwks?: string;
  audience?: string;
  policy?: string;
  query?: string;
  rateLimit?: string;
  openapi?: string;
  mcp?: string[];
  stdio?: string[];
}

/** Splits a --stdio command line into words: spaces separate, quotes ('…' or "…") keep spaces, a backslash escapes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let any = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      any = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      cur += line[++i];
      any = true;
    } else if (ch === " " || ch === "\t") {
      if (any || cur !== "") out.push(cur);
      cur = "";
      any = false;
    } else cur += ch;
  }
  if (quote !== undefined) throw new FicusError("FICUS_USAGE", `--stdio: unclosed quote in ${JSON.stringify(line)}`);
  if (any || cur !== "") out.push(cur);
  return out;
}

/** The zero-config document of `--mode edge-mcp`: one MCP endpoint at /mcp serving the given sources. */
export function edgeMcpConfig(o: StartOptions): Record<string, unknown> {
  const sources: Record<string, unknown> = {};
  const mcps = o.mcp ?? [];
  const stdios = o.stdio ?? [];
  const count = (o.openapi !== undefined ? 1 : 0) + mcps.length + stdios.length;
  if (count === 0) throw new FicusError("FICUS_USAGE", "--mode edge-mcp needs a source: --openapi FILE|URL (with --upstream URL), --mcp URL, or --stdio 'COMMAND ARGS'");
  if (o.openapi !== undefined) {
    const upstream = o.upstream ?? o.legacy;
    if (upstream !== undefined) {
      const check = httpUrl.safeParse(upstream);
      if (!check.success) throw new FicusError("FICUS_USAGE", `--upstream: ${check.error.issues[0]?.message}`);
    } else throw new FicusError("FICUS_USAGE", "--openapi needs --upstream URL: where the operations' HTTP calls go");
    sources.api = { openapi: /^https?:\/\//i.test(o.openapi) ? o.openapi : resolve(o.openapi), upstream };
  } else if (o.upstream !== undefined || o.legacy !== undefined) throw new FicusError("FICUS_USAGE", "--upstream is where --openapi's calls go: give --openapi too");
  mcps.forEach((url, i) => {
    const check = httpUrl.safeParse(url);
    if (!check.success) throw new FicusError("FICUS_USAGE", `--mcp: ${check.error.issues[0]?.message}`);
    sources[mcps.length > 1 ? `mcp${i + 1}` : "mcp"] = { url };
  });
  stdios.forEach((line, i) => {
    const command = splitCommand(line);
    if (command.length === 0) throw new FicusError("FICUS_USAGE", "--stdio: the command is empty");
    sources[stdios.length > 1 ? `stdio${i + 1}` : "stdio"] = { command };
  });
  return { mode: "edge-mcp", mcp: { sources } };
}

/** Quick-mode enforcement for the one route: a JWT check, a Rego policy, a rate limit. */
export interface QuickEnforcement {
  readonly issuer?: string;
  readonly jwks?: string;
  readonly audience?: string;
  readonly policy?: string;
  readonly query?: string;
  readonly rateLimit?: string;
}

/** The headers a quick-mode JWT identity is sent upstream in (and answered with in sidecar mode). */
export const QUICK_IDENTITY_HEADERS = { subject: "X-Ficus-Subject", scopes: "X-Ficus-Scopes", roles: "X-Ficus-Roles" } as const;

/** Adds the quick enforcement flags to the zero-config document (its one route, "default"); throws FICUS_USAGE on a bad flag. */
export function applyQuickEnforcement(doc: Record<string, unknown>, q: QuickEnforcement): void {
  const route = (doc.routes as Record<string, unknown>[])[0] as Record<string, unknown>;
  if (q.audience !== undefined && q.issuer === undefined && q.jwks === undefined) throw new FicusError("FICUS_USAGE", "--audience applies to a JWT check: give --issuer URL or --jwks URL");
  if (q.issuer !== undefined || q.jwks !== undefined) {
    for (const [flag, url] of [["--issuer", q.issuer], ["--jwks", q.jwks]] as const) {
      if (url === undefined) continue;
      const check = httpUrl.safeParse(url);
      if (!check.success) throw new FicusError("FICUS_USAGE", `${flag}: ${check.error.issues[0]?.message}`);
    }
    const jwt: Record<string, unknown> = {};
    if (q.issuer !== undefined) jwt.issuer = q.issuer;
    if (q.jwks !== undefined) jwt.jwks_url = q.jwks;
    if (q.audience !== undefined) jwt.audience = q.audience;
    route.auth = { jwt, identity_headers: { ...QUICK_IDENTITY_HEADERS } };
  }
  if ((q.policy === undefined) !== (q.query === undefined)) throw new FicusError("FICUS_USAGE", q.policy === undefined ? "--query needs --policy FILE.rego" : "--policy needs --query, e.g. --query data.http.allow");
  if (q.policy !== undefined && q.query !== undefined) route.authz = { policy: { module: resolve(q.policy), query: q.query } };
  if (q.rateLimit !== undefined) {
    const rate = parseRate(q.rateLimit);
    if (typeof rate === "string") throw new FicusError("FICUS_USAGE", `--rate-limit: ${rate}`);
    // Per client address: the one key a quick start always has.
    route.rate_limit = { limits: [{ name: "quick", rate: q.rateLimit, key: ["client_ip"] }] };
  }
}

/** A decimal number as written (no hex, no empty string, no exponent tricks); undefined otherwise. */
function decimalArg(text: string): number | undefined {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : undefined;
}

/** The zero-config document: every path through one route named "default". */
export function zeroConfig(
  legacy: string,
  candidate?: string,
  stage?: string,
  store?: string,
  canary?: { percent?: number; header?: string },
  sample?: number,
): Record<string, unknown> {
  const route: Record<string, unknown> = { name: "default", match: { prefix: "/" }, legacy };
  if (candidate !== undefined) route.candidate = candidate;
  if (stage !== undefined) route.stage = stage;
  if (canary && (canary.percent !== undefined || canary.header !== undefined)) {
    route.canary = { ...(canary.percent !== undefined ? { percent: canary.percent } : {}), ...(canary.header !== undefined ? { sticky: { header: canary.header } } : {}) };
  }
  if (sample !== undefined) route.shadow = { sample };
  const doc: Record<string, unknown> = { routes: [route] };
  if (store !== undefined) doc.store = { path: store };
  return doc;
}

export function sourceFromOptions(o: StartOptions): ConfigSource {
  const legacy = o.legacy ?? o.upstream;
  let workers: number | undefined;
  if (o.workers !== undefined) {
    workers = /^\s*\d+\s*$/.test(o.workers) ? Number(o.workers) : Number.NaN;
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new FicusError("FICUS_USAGE", `--workers: expected an integer from 1 to 256, got ${JSON.stringify(o.workers)}`);
  }
  const overrides: Overrides = { listen: o.listen, admin: o.admin, workers, logLevel: o.logLevel };
  const quick: QuickEnforcement = { issuer: o.issuer, jwks: o.jwks, audience: o.audience, policy: o.policy, query: o.query, rateLimit: o.rateLimit };
  if (o.mode !== undefined && o.mode !== "proxy" && o.mode !== "sidecar" && o.mode !== "edge-mcp") throw new FicusError("FICUS_USAGE", `--mode: expected proxy, sidecar or edge-mcp, got ${JSON.stringify(o.mode)}`);
  const mcpFlags = o.openapi !== undefined || (o.mcp?.length ?? 0) > 0 || (o.stdio?.length ?? 0) > 0;
  if (mcpFlags && o.mode !== "edge-mcp") throw new FicusError("FICUS_USAGE", "--openapi, --mcp and --stdio are edge-mcp sources: add --mode edge-mcp");
  if (o.mode === "edge-mcp" && o.config === undefined) {
    if ([o.candidate, o.stage, o.store, o.percent, o.stickyHeader, o.sample].some((v) => v !== undefined)) throw new FicusError("FICUS_USAGE", "--mode edge-mcp serves tools: the migration flags do not apply");
    const doc = edgeMcpConfig(o);
    if (Object.values(quick).some((v) => v !== undefined)) {
      (doc as { routes?: unknown[] }).routes = [{ name: "mcp", match: { path: "/mcp" }, mcp: {} }];
      applyQuickEnforcement(doc, quick);
    }
    return ConfigSource.inline(doc, overrides);
  }
  if (o.config !== undefined) {
    if ([legacy, o.candidate, o.stage, o.store, o.percent, o.stickyHeader, o.sample, o.mode, ...Object.values(quick)].some((v) => v !== undefined) || mcpFlags) {
      throw new FicusError(
        "FICUS_USAGE",
        "give either -c/--config or the quick-mode flags (--legacy, --candidate, --stage, --percent, --sticky-header, --store, --mode, --issuer, --jwks, --audience, --policy, --query, --rate-limit), not both",
      );
    }
    return ConfigSource.file(o.config, overrides);
  }
  if (o.mode === "sidecar") {
    if ([legacy, o.candidate, o.stage, o.store, o.percent, o.stickyHeader, o.sample].some((v) => v !== undefined)) {
      throw new FicusError("FICUS_USAGE", "--mode sidecar decides and never forwards: --legacy, --candidate and the migration flags do not apply");
    }
    if (Object.values(quick).every((v) => v === undefined)) throw new FicusError("FICUS_USAGE", "--mode sidecar needs something to decide: --issuer/--jwks, --policy with --query, or --rate-limit");
    const doc: Record<string, unknown> = { mode: "sidecar", routes: [{ name: "default", match: { prefix: "/" } }] };
    applyQuickEnforcement(doc, quick);
    return ConfigSource.inline(doc, overrides);
  }
  if (legacy === undefined) throw new FicusError("FICUS_USAGE", "nothing to serve: give -c ficus.yaml, or --legacy URL to proxy every path to URL");
  for (const [flag, url] of [["--legacy", legacy], ["--candidate", o.candidate]] as const) {
    if (url === undefined) continue;
    const check = httpUrl.safeParse(url);
    if (!check.success) throw new FicusError("FICUS_USAGE", `${flag}: ${check.error.issues[0]?.message}`);
  }
  if (o.stage !== undefined && !(STAGES as readonly string[]).includes(o.stage)) {
    throw new FicusError("FICUS_USAGE", `--stage: expected one of ${STAGES.join(", ")}, got ${JSON.stringify(o.stage)}`);
  }
  if (o.stage !== undefined && o.stage !== "legacy" && o.candidate === undefined) throw new FicusError("FICUS_USAGE", `--stage ${o.stage} needs --candidate URL`);
  // Flags that mean something only in some stages are refused elsewhere rather than silently ignored.
  if ((o.percent !== undefined || o.stickyHeader !== undefined) && o.stage !== "canary") {
    throw new FicusError("FICUS_USAGE", `${o.percent !== undefined ? "--percent" : "--sticky-header"} applies to --stage canary only${o.stage ? `, not ${o.stage}` : ""}`);
  }
  if (o.sample !== undefined && o.candidate === undefined) throw new FicusError("FICUS_USAGE", "--sample applies to a route with a candidate (--candidate URL)");
  if (o.store !== undefined && o.store.trim() === "") throw new FicusError("FICUS_USAGE", "--store: expected a file path, got an empty string");
  let percent: number | undefined;
  if (o.percent !== undefined) {
    percent = decimalArg(o.percent);
    if (percent === undefined || percent > 100) throw new FicusError("FICUS_USAGE", `--percent: expected a number from 0 to 100, got ${JSON.stringify(o.percent)}`);
  }
  let sample: number | undefined;
  if (o.sample !== undefined) {
    sample = decimalArg(o.sample);
    if (sample === undefined || sample > 1) throw new FicusError("FICUS_USAGE", `--sample: expected a fraction from 0 to 1, got ${JSON.stringify(o.sample)}`);
  }
  const doc = zeroConfig(legacy, o.candidate, o.stage, o.store, { percent, header: o.stickyHeader }, sample);
  applyQuickEnforcement(doc, quick);
  return ConfigSource.inline(doc, overrides);
}

export async function startCommand(o: StartOptions): Promise<void> {
  const source = sourceFromOptions(o);
  const loaded = source.load();
  const logger = createLogger((o.logLevel as LogLevel | undefined) ?? loaded.config.log.level, { pid: process.pid });
  const workers = loaded.config.workers === 0 ? availableParallelism() : loaded.config.workers;
  // MCP sessions are sealed with a key every worker must share: without one in the config, make one now (workers inherit it).
  if (loaded.config.routes.some((r) => r.mcp !== undefined) && loaded.config.mcp.session.key === undefined) process.env.FICUS_MCP_SESSION_KEY_AUTO ??= randomBytes(32).toString("base64");
  // Only the process model in use is loaded: a supervisor never loads the data plane (its workers do).
  if (workers <= 1) await (await import("../../server/single.ts")).runSingleProcess(source, logger, process.env, loaded);
  else {
    // Certificates, keys and policies checked once here, with their codes, rather than failing in every worker.
    (await import("../../server/preflight.ts")).preflight(loaded);
    await (await import("../../server/supervisor.ts")).runSupervisor(source, workers, logger, loaded);
  }
}
