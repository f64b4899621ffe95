/** Building authz settings, exchanges and a layer for the unit tests: config through the real schema, policies in a temp folder. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Identity, PeerCertificate } from "../../../src/auth/identity.ts";
import { DecisionLog } from "../../../src/authz/decision-log.ts";
import { AuthzLayer } from "../../../src/authz/layer.ts";
import { authzMetrics } from "../../../src/authz/metrics.ts";
import { authzRouteSchema, decisionLogSchema } from "../../../src/authz/schema.ts";
import { compileAuthz, compileDecisionLog, type AuthzSettings } from "../../../src/authz/settings.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { Exchange, type Reply } from "../../../src/pipeline/exchange.ts";
import type { RuntimeRoute } from "../../../src/routing/route-table.ts";

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "ficus-authz-"));
}

/** Writes files (name → text) into a new temp folder; returns it. */
export function files(contents: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Compiles routes' authz (input config, validated by the schema) against `dir`. */
export function settings(routes: Record<string, unknown>, dir = tempDir()): AuthzSettings {
  return compileAuthz(
    Object.entries(routes).map(([name, authz]) => ({ name, authz: authzRouteSchema.parse(authz) })),
    { baseDir: dir },
  );
}

export interface ExchangeOptions {
  method?: string;
  target?: string;
  fields?: string[];
  identity?: Identity;
  route?: string;
  params?: Record<string, string>;
  tls?: boolean;
  cert?: PeerCertificate;
}

export function exchange(o: ExchangeOptions = {}): Exchange {
  const target = o.target ?? "/orders/42";
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q);
  const ex = new Exchange(performance.now(), o.method ?? "GET", target, path, query, "api.example", "api.example", o.fields ?? ["Host", "api.example"], { address: "10.1.2.3", port: 40000 }, o.tls ?? false, "http/1.1", undefined, undefined);
  ex.id = "req-1";
  ex.route = { name: o.route ?? "orders" } as RuntimeRoute;
  ex.params = o.params;
  ex.identity = o.identity;
  ex.peerCertificate = o.cert;
  return ex;
}

export function identity(o: Partial<Identity> = {}): Identity {
  return { method: "jwt", subject: "alice", issuer: "https://idp.example", scopes: [], roles: [], claims: {}, ...o };
}

/** A layer with its own metrics, a decision log to a temp file, and a logger that keeps its lines. */
export function harness(s: AuthzSettings, log: Record<string, unknown> = {}) {
  const dir = tempDir();
  const logPath = join(dir, "decisions.log");
  const metrics = new Metrics();
  const am = authzMetrics(metrics);
  const decisionLog = new DecisionLog(compileDecisionLog(decisionLogSchema.parse({ output: logPath, ...log })), { onDrop: () => am.logDropped.inc() });
  const appLines: string[] = [];
  const layer = new AuthzLayer(s, { metrics: am, log: decisionLog, logger: createLogger("debug", {}, (l) => appLines.push(l)) });
  return {
    layer,
    metrics,
    decisionLog,
    appLines,
    logPath,
    /** The decision log's lines so far, parsed. */
    async lines(): Promise<Record<string, unknown>[]> {
      await decisionLog.flush();
      return readLog(logPath);
    },
    async text(): Promise<string> {
      await decisionLog.flush();
      return readFileSync(logPath, "utf8");
    },
    /** Runs the layer on an exchange: the reply (undefined when it continued). */
    run(ex: Exchange): Reply | undefined {
      const r = layer.request(ex);
      if (r instanceof Promise) throw new Error("the authz layer must not wait");
      return r;
    },
    close() {
      decisionLog.close();
    },
  };
}

export function readLog(path: string): Record<string, unknown>[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function body(reply: Reply): { error: { code: string; message: string; request_id: string } } {
  return JSON.parse(new TextDecoder().decode(reply.body as Uint8Array));
}

/** A header's value in a field list. */
export function field(fields: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if ((fields[i] as string).toLowerCase() === lower) return fields[i + 1];
  return undefined;
}
