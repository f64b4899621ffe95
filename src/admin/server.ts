/**
 * The admin API, on its own listener (default 127.0.0.1:9901): health,
 * readiness, Prometheus metrics, the effective config, the route table, and
 * edge-mcp's tool pins (changes waiting for approval, approving them) and
 * error snapshots (failed tool calls grouped by signature, one snapshot).
 * It reads everything through an AdminBackend, so the same API serves a
 * single process or the supervisor of several workers.
 *
 * Auth: a bearer token from the environment (admin.token_env). It is required
 * whenever the listener is not loopback (startup fails without it), and
 * enforced on loopback too when set. /healthz and /readyz stay open for probes.
 */
import type { Server } from "bun";
import { Hono } from "hono";
import { timingSafeEqual } from "node:crypto";
import { type ErrorCode, errorBody, FicusError } from "../core/errors.ts";
import type { RouteChanges } from "../config/reload-plan.ts";
import { resolveListenHost } from "./address.ts";
import { recordingFolderProblem } from "../record/folder.ts";
import type { Logger } from "../observability/logger.ts";
import { METRICS_CONTENT_TYPE } from "../observability/metrics.ts";
import type { FicusConfig } from "../config/schema.ts";
import { DEFAULT_NOISE, migrationRoutes, migrationsReport } from "../migration/report.ts";
import type { MigrationEvent, ResultsStore } from "../migration/store.ts";
import { rollbackAll, runCommand } from "../migration/commands.ts";
import type { RecordCommand, SessionStatus } from "../record/recorder.ts";
import type { RouteInfo } from "../server/gateway.ts";
import { z } from "zod";
import type { PinGuard } from "../mcp/pinning/guard.ts";
import type { SnapshotStore } from "../mcp/governance/snapshots/store.ts";

export interface ReloadResult {
  readonly ok: boolean;
  /** Why it failed: FICUS_CONFIG_* (invalid) or FICUS_RELOAD_REFUSED (removes too many routes; retry with force). */
  readonly code?: ErrorCode | undefined;
  readonly errors?: readonly string[];
  /** Routes added, removed and changed (when the new config was valid). */
  readonly changes?: RouteChanges | undefined;
}

export interface AdminBackend {
  ready(): boolean;
  metrics(): Promise<string>;
  config(): unknown;
  routes(): Promise<RouteInfo[]>;
  /** Reloads the config; `force` applies it even when it removes more routes than reload.max_removed_routes. */
  reload(force?: boolean): Promise<ReloadResult>;
  /** Shadow results: flushed from every process, then read from the store. */
  migrations(): Promise<MigrationsView>;
  /** Called with each command's event: log it, count it, apply it locally at once. */
  recorded(events: readonly MigrationEvent[]): void;
  /** Traffic recording in every process; statuses merged per route. */
  record(cmd: RecordCommand): Promise<SessionStatus[]>;
  /**
   * edge-mcp tool pinning: the admin side's view of the shared pin store (its own connection, so the
   * workers' `changed()` sees its approvals). Undefined when the config serves no MCP or pinning is off.
   */
  mcpPins?(): PinGuard | undefined;
  /** edge-mcp error snapshots: the store the workers write (its own connection). Undefined when snapshots are off or no route serves MCP. */
  mcpSnapshots?(): SnapshotStore | undefined;
  /** edge-mcp cost budgets: what each principal spent today (src/mcp/governance/quota/admin.ts). */
  mcpBudgets?(principal: string | undefined): Promise<{ status: number; body: unknown }>;
}

const mcpApproveBody = z.strictObject({
  source: z.string().min(1).max(256).optional(),
  tool: z.string().min(1).max(256).optional(),
  all: z.boolean().optional(),
});

/** A pin store that cannot be read or written (locked past busy_timeout, unreadable file): 503, nothing changed. */
function pinsUnavailable(err: unknown): Response {
  const message = err instanceof FicusError ? err.message : `the MCP pin store cannot be used: ${(err as Error).message}`;
  return storeUnavailable(message);
}

const recordStartBody = z.strictObject({
  route: z.string().min(1),
  sample: z.number().gt(0).max(1).default(1),
  max: z.number().int().min(1).default(10_000),
  out: z.string().min(1).optional(),
  gzip: z.boolean().default(false),
});

/** A file-name-safe UTC timestamp shared by the files of one recording. */
function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** What the migration endpoints read. */
export interface MigrationsView {
  readonly config: FicusConfig;
  readonly store: ResultsStore;
  /**
   * Why commands cannot be obeyed by every process (the store is one process's memory while several workers
   * serve): promote, pause, resume, rollback and noise marks then answer 503 FICUS_STORE_UNAVAILABLE instead
   * of reporting a change only this process would see.
   */
  readonly commandsUnavailable?: string | undefined;
}

function storeUnavailable(why: string): Response {
  return new Response(errorBody("FICUS_STORE_UNAVAILABLE", why, ""), { status: 503, headers: { "content-type": "application/json" } });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function unknownRoute(route: string, known: readonly string[]): Response {
  const list = known.length > 0 ? known.join(", ") : "(no route has a candidate)";
  return new Response(errorBody("FICUS_ROUTE_UNKNOWN", `no migration route ${JSON.stringify(route)}; known routes: ${list}`, ""), {
    status: 404,
    headers: { "content-type": "application/json" },
  });
}

export function adminApp(backend: AdminBackend, token: string | undefined): Hono {
  const app = new Hono();
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body, null, 2), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

  app.get("/healthz", () => json({ status: "ok" }));
  app.get("/readyz", () => (backend.ready() ? json({ status: "ready" }) : json({ status: "not ready" }, 503)));

  app.use("*", async (c, next) => {
    if (token !== undefined) {
      const h = c.req.header("authorization") ?? "";
      const given = h.startsWith("Bearer ") ? h.slice(7) : "";
      if (!sameSecret(given, token)) {
        return new Response(errorBody("FICUS_UNAUTHORIZED", "missing or wrong admin bearer token", ""), {
          status: 401,
          headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="ficus-admin"' },
        });
      }
    }
    await next();
  });

  app.get("/metrics", async () => new Response(await backend.metrics(), { headers: { "content-type": METRICS_CONTENT_TYPE } }));
  app.get("/admin/config", () => json(backend.config()));
  app.get("/admin/routes", async () => json({ routes: await backend.routes() }));
  app.get("/admin/migrations", async () => {
    const v = await backend.migrations();
    return json(await migrationsReport(v.config, v.store));
  });
  app.get("/admin/migrations/:route/signatures", async (c) => {
    const v = await backend.migrations();
    const route = c.req.param("route");
    const known = await migrationRoutes(v.config, v.store);
    if (!known.includes(route)) return unknownRoute(route, known);
    return json({ route, signatures: await v.store.signatures(route, 1000) });
  });
  app.get("/admin/migrations/:route/signatures/:id/samples", async (c) => {
    const v = await backend.migrations();
    const route = c.req.param("route");
    const known = await migrationRoutes(v.config, v.store);
    if (!known.includes(route)) return unknownRoute(route, known);
    const samples = await v.store.samples(route, c.req.param("id"));
    if (!samples) return new Response(errorBody("FICUS_SIGNATURE_UNKNOWN", `no signature ${c.req.param("id")} on route ${route}`, ""), { status: 404, headers: { "content-type": "application/json" } });
    return json({ route, signature: c.req.param("id"), samples });
  });
  app.get("/admin/migrations/:route/noise", async (c) => {
    const v = await backend.migrations();
    const route = c.req.param("route");
    const known = await migrationRoutes(v.config, v.store);
    if (!known.includes(route)) return unknownRoute(route, known);
    const rc = v.config.routes.find((r) => r.name === route);
    return json({ route, noise: await v.store.noise(route, rc?.shadow.noise ?? DEFAULT_NOISE) });
  });
  app.post("/admin/migrations/:route/noise", async (c) => {
    const v = await backend.migrations();
    const route = c.req.param("route");
    const known = await migrationRoutes(v.config, v.store);
    if (!known.includes(route)) return unknownRoute(route, known);
    if (v.commandsUnavailable) return storeUnavailable(v.commandsUnavailable);
    const body = (await c.req.json().catch(() => undefined)) as { path?: unknown; reason?: unknown } | undefined;
    const reason = typeof body?.reason === "string" && body.reason !== "" ? body.reason : "marked as noise";
    if (!body || typeof body.path !== "string" || body.path === "" || body.path.length > MAX_NOISE_PATH || reason.length > MAX_NOISE_REASON) {
      return new Response(errorBody("FICUS_BAD_REQUEST", `expected a JSON body {"path": "$.field", "reason": "why"} with a path of 1 to ${MAX_NOISE_PATH} characters and a reason of at most ${MAX_NOISE_REASON}`, ""), {
        status: 400,
        headers: { "content-type": "application/json" },
      });
    }
    await v.store.markNoise(route, body.path, reason);
    return json({ route, marked: body.path }, 201);
  });
  app.delete("/admin/migrations/:route/noise", async (c) => {
    const v = await backend.migrations();
    const route = c.req.param("route");
    if (v.commandsUnavailable) return storeUnavailable(v.commandsUnavailable);
    const path = c.req.query("path") ?? "";
    if (!(await v.store.unmarkNoise(route, path))) {
      return new Response(errorBody("FICUS_NOISE_MARK_UNKNOWN", `no noise mark ${JSON.stringify(path)} on route ${route}`, ""), { status: 404, headers: { "content-type": "application/json" } });
    }
    return json({ route, unmarked: path });
  });
  const reasonOf = async (c: { req: { text(): Promise<string> } }) => {
    const text = await c.req.text().catch(() => "");
    if (text.trim() === "") return "";
    try {
      const body = JSON.parse(text) as { reason?: unknown };
      return typeof body.reason === "string" ? body.reason : "";
    } catch {
      return "";
    }
  };
  const actorOf = (c: { req: { header(name: string): string | undefined } }) => `admin:${c.req.header("x-ficus-actor") ?? "api"}`;
  app.post("/admin/migrations/:route/:action{promote|pause|resume|rollback}", async (c) => {
    const v = await backend.migrations();
    const route = c.req.param("route");
    const action = c.req.param("action") as "promote" | "pause" | "resume" | "rollback";
    if (v.commandsUnavailable) return storeUnavailable(v.commandsUnavailable);
    try {
      const event = await runCommand(v.config, v.store, route, action, actorOf(c), await reasonOf(c));
      backend.recorded([event]);
      return json(event, event.changed ? 200 : 409);
    } catch (err) {
      if (err instanceof FicusError && err.code === "FICUS_ROUTE_UNKNOWN") return new Response(errorBody(err.code, err.message, ""), { status: 404, headers: { "content-type": "application/json" } });
      throw err;
    }
  });
  app.post("/admin/rollback-all", async (c) => {
    const v = await backend.migrations();
    if (v.commandsUnavailable) return storeUnavailable(v.commandsUnavailable);
    const events = await rollbackAll(v.config, v.store, actorOf(c), await reasonOf(c));
    backend.recorded(events);
    return json({ events });
  });
  // In-process experiment results (ficus/experiment, docs/experiment.md): judged like a route's pairs, stored as experiment:NAME.
  app.post("/admin/experiments/results", async (c) => {
    const { experimentResultsResponse } = await import("../experiment/ingest.ts");
    return experimentResultsResponse(c.req.raw, () => backend.migrations());
  });
  app.get("/admin/events", async (c) => {
    const v = await backend.migrations();
    const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? 200) || 200));
    return json({ events: await v.store.events(c.req.query("route") || undefined, limit) });
  });
  app.get("/admin/record", async () => json({ sessions: await backend.record({ action: "status" }) }));
  app.post("/admin/record/start", async (c) => {
    const parsed = recordStartBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `expected a JSON body {"route": NAME, "sample": 0-1, "max": N, "out": DIR, "gzip": BOOL}: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`;
      return new Response(errorBody("FICUS_BAD_REQUEST", message, ""), { status: 400, headers: { "content-type": "application/json" } });
    }
    const b = parsed.data;
    const dir = b.out ?? (backend.config() as { record?: { dir?: string } }).record?.dir;
    const problem = dir === undefined ? undefined : recordingFolderProblem(dir);
    if (problem) return new Response(errorBody("FICUS_BAD_REQUEST", `cannot record: ${problem}`, ""), { status: 400, headers: { "content-type": "application/json" } });
    const sessions = await backend.record({ action: "start", start: { route: b.route, sample: b.sample, max: b.max, dir: b.out, gzip: b.gzip, stamp: stamp() } });
    return json({ sessions });
  });
  app.post("/admin/record/stop", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { route?: unknown };
    const route = typeof body?.route === "string" && body.route !== "" ? body.route : undefined;
    return json({ sessions: await backend.record({ action: "stop", route }) });
  });
  // edge-mcp tool pinning (src/mcp/pinning/): changes waiting for approval, and approving them.
  app.get("/admin/mcp/pins", () => {
    const pins = backend.mcpPins?.();
    if (pins === undefined) return json({ enabled: false, pending: [], counts: { pending: 0, changed: 0, new: 0 } });
    try {
      const pending = pins.pending();
      const changed = pending.filter((p) => p.approved !== undefined).length;
      return json({ enabled: true, mode: pins.policy.mode, pending, counts: { pending: pending.length, changed, new: pending.length - changed } });
    } catch (err) {
      return pinsUnavailable(err);
    }
  });
  app.post("/admin/mcp/approve", async (c) => {
    const parsed = mcpApproveBody.safeParse(await c.req.json().catch(() => undefined));
    const sel = parsed.success ? parsed.data : undefined;
    if (sel === undefined || (!sel.all && sel.source === undefined && sel.tool === undefined) || (sel.all && (sel.source !== undefined || sel.tool !== undefined))) {
      const issue = parsed.success ? undefined : parsed.error.issues[0];
      const why = issue ? `: ${issue.path.join(".") || "body"}: ${issue.message}` : "";
      return new Response(errorBody("FICUS_BAD_REQUEST", `expected a JSON body {"source": NAME, "tool": NAME} (either or both) or {"all": true}${why}`, ""), { status: 400, headers: { "content-type": "application/json" } });
    }
    const pins = backend.mcpPins?.();
    if (pins === undefined) return new Response(errorBody("FICUS_BAD_REQUEST", "this gateway pins no MCP tool definitions (no MCP route, or mcp.pinning.mode is off): nothing to approve", ""), { status: 400, headers: { "content-type": "application/json" } });
    try {
      return json({ approved: pins.approve({ ...sel, by: actorOf(c) }) });
    } catch (err) {
      return pinsUnavailable(err);
    }
  });
  // edge-mcp error snapshots (src/mcp/governance/snapshots/): failed tool calls grouped by signature, and one snapshot.
  app.get("/admin/mcp/errors", (c) => {
    const store = backend.mcpSnapshots?.();
    if (store === undefined) return json({ enabled: false, groups: [] });
    const limit = Number(c.req.query("limit") ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return new Response(errorBody("FICUS_BAD_REQUEST", "limit must be an integer from 1 to 10000", ""), { status: 400, headers: { "content-type": "application/json" } });
    try {
      return json({ enabled: true, groups: store.groups({ tool: c.req.query("tool") || undefined, limit }) });
    } catch (err) {
      return storeUnavailable(`the MCP snapshot store cannot be read: ${(err as Error).message}`);
    }
  });
  app.get("/admin/mcp/errors/:id", (c) => {
    const id = c.req.param("id");
    let snapshot: unknown;
    try {
      snapshot = backend.mcpSnapshots?.()?.get(id);
    } catch (err) {
      return storeUnavailable(`the MCP snapshot store cannot be read: ${(err as Error).message}`);
    }
    if (snapshot === undefined) return new Response(errorBody("FICUS_MCP_SNAPSHOT_UNKNOWN", `no MCP error snapshot ${JSON.stringify(id)} (snapshots are kept for mcp.snapshots.retention, at most mcp.snapshots.max)`, ""), { status: 404, headers: { "content-type": "application/json" } });
    return json(snapshot);
  });
  // edge-mcp cost budgets per principal per day (src/mcp/governance/quota/).
  app.get("/admin/mcp/budgets", async (c) => {
    const answer = (await backend.mcpBudgets?.(c.req.query("principal"))) ?? { status: 200, body: { enabled: false, budgets: [] } };
    return json(answer.body, answer.status as 200);
  });
  app.post("/admin/reload", async (c) => {
    const force = c.req.query("force");
    const r = await backend.reload(force === "true" || force === "1");
    return json(r, r.ok ? 200 : r.code === "FICUS_RELOAD_REFUSED" ? 409 : 422);
  });
  app.notFound((c) => new Response(errorBody("FICUS_ADMIN_NOT_FOUND", `no admin endpoint ${c.req.method} ${c.req.path}`, ""), { status: 404, headers: { "content-type": "application/json" } }));
  app.onError((err) =>
    err instanceof FicusError
      ? new Response(errorBody(err.code, err.message, ""), { status: err.status || 500, headers: { "content-type": "application/json" } })
      : new Response(errorBody("FICUS_INTERNAL", err.message, ""), { status: 500, headers: { "content-type": "application/json" } }),
  );
  return app;
}

/** Noise marks are stored and listed: bounded so a client cannot bloat the store. */
const MAX_NOISE_PATH = 1000;
const MAX_NOISE_REASON = 500;
/** Admin requests are small commands; a larger body is refused before it is read (413). */
export const ADMIN_MAX_BODY = 8 * 1024 * 1024;

export interface AdminServerOptions {
  readonly hostname: string;
  readonly port: number;
  readonly tokenEnv: string;
  readonly env: Record<string, string | undefined>;
  readonly logger: Logger;
  /** Host-name lookup (default: the system resolver, every address). */
  readonly resolve?: (host: string) => Promise<{ address: string }[]>;
}

/**
 * Starts the admin listener; fails with FICUS_ADMIN_TOKEN_REQUIRED when exposed
 * without a token. Exposure is judged on the resolved IP address, which is
 * then the address bound (see address.ts).
 */
export async function startAdminServer(backend: AdminBackend, opts: AdminServerOptions): Promise<Server<undefined>> {
  const token = opts.env[opts.tokenEnv] || undefined;
  const { address, loopback } = await resolveListenHost(opts.hostname, opts.resolve);
  if (!loopback && token === undefined) {
    throw new FicusError(
      "FICUS_ADMIN_TOKEN_REQUIRED",
      `the admin API listens on ${opts.hostname}:${opts.port}${address !== opts.hostname.replace(/^\[|\]$/g, "") ? ` (${address})` : ""}, which is not loopback; set ${opts.tokenEnv} to a bearer token or listen on 127.0.0.1`,
    );
  }
  const app = adminApp(backend, token);
  try {
    const server = Bun.serve({ hostname: address, port: opts.port, fetch: app.fetch, maxRequestBodySize: ADMIN_MAX_BODY });
    opts.logger.info("admin listening", { address: `${address.includes(":") ? `[${address}]` : address}:${server.port}`, ...(address !== opts.hostname ? { host: opts.hostname } : {}), auth: token !== undefined });
    return server;
  } catch (err) {
    throw new FicusError("FICUS_LISTEN_FAILED", `cannot listen on ${opts.hostname}:${opts.port} (admin): ${(err as Error).message}`, { cause: err });
  }
}
