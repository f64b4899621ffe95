/**
 * Error snapshots of MCP tool calls (`mcp.snapshots`): a guard near the
 * outside of the chain notes each failed call (snapshots/classify.ts for
 * what fails), and a recorder per service writes it, redacted and cut, to
 * a SQLite file the gateway's processes share. The admin API reads it
 * (`adminSnapshotsFor`): GET /admin/mcp/errors groups by signature,
 * GET /admin/mcp/errors/:id gives one; `ficus mcp errors` and
 * `ficus mcp replay` use those.
 */
import { isAbsolute, resolve } from "node:path";
import { Redactor } from "../../../migration/redact.ts";
import { Counter, type Metrics } from "../../../observability/metrics.ts";
import type { CallEnd, CallGuard, GuardedCall } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { classify } from "./classify.ts";
import { SnapshotRecorder } from "./recorder.ts";
import { targetsOf } from "./snapshot.ts";
import { DEFAULT_SNAPSHOT_STORE, SnapshotStore } from "./store.ts";

export { classify, type Failure, messageShape, resultText, signatureOf, type SnapshotKind } from "./classify.ts";
export { type RecorderOptions, SnapshotRecorder, type SnapshotSink } from "./recorder.ts";
export { buildSnapshot, cut, isTruncated, type PendingSnapshot, type Snapshot, snapshotId, type SnapshotTarget, targetsOf, type Truncated } from "./snapshot.ts";
export { DEFAULT_SNAPSHOT_STORE, type SnapshotGroup, SnapshotStore } from "./store.ts";

const SHARED_KEY = "snapshots:recorder";
/** How long a worker's write waits for another process's transaction. */
const DATA_PLANE_BUSY_MS = 100;

export class SnapshotGuard implements CallGuard {
  readonly name = "snapshots";

  constructor(
    private readonly recorder: Pick<SnapshotRecorder, "record">,
    private readonly onBadSchema?: (message: string) => void,
  ) {}

  after(call: GuardedCall, end: CallEnd): undefined {
    const failure = classify(call, end, this.onBadSchema);
    if (failure !== undefined) this.recorder.record({ call, end, failure, time: Date.now(), durationMs: performance.now() - call.started });
    return undefined;
  }
}

/** ficus_mcp_snapshots_total{kind}, ficus_mcp_snapshots_dropped_total: once per Metrics. */
class SnapshotMetrics {
  readonly stored: Counter<"kind">;
  readonly dropped: Counter;
  private static readonly byMetrics = new WeakMap<Metrics, SnapshotMetrics>();

  private constructor(m: Metrics) {
    this.stored = new Counter(m.registry, { name: "ficus_mcp_snapshots_total", help: "Snapshots of failed MCP tool calls written, by kind (rpc_error, tool_error, timeout, upstream_down, schema_violation, denied:<guard>).", labelNames: ["kind"] as const });
    this.dropped = new Counter(m.registry, { name: "ficus_mcp_snapshots_dropped_total", help: "Snapshots of failed MCP tool calls lost: too many waiting, or the store stayed unwritable." });
  }

  static of(m: Metrics): SnapshotMetrics {
    let x = SnapshotMetrics.byMetrics.get(m);
    if (x === undefined) {
      x = new SnapshotMetrics(m);
      SnapshotMetrics.byMetrics.set(m, x);
    }
    return x;
  }
}

/** The snapshot file of a config: `mcp.snapshots.path` relative to the config's folder. */
export function snapshotStorePath(path: string, configDir: string): string {
  const file = path || DEFAULT_SNAPSHOT_STORE;
  return isAbsolute(file) ? file : resolve(configDir, file);
}

export function createSnapshotGuard(deps: GuardDeps): CallGuard | undefined {
  const c = deps.config.mcp.snapshots;
  if (!c.enabled) return undefined;
  let recorder = deps.shared.get(SHARED_KEY) as SnapshotRecorder | undefined;
  if (recorder === undefined) {
    const path = snapshotStorePath(c.path, deps.configDir);
    const m = SnapshotMetrics.of(deps.metrics);
    recorder = new SnapshotRecorder({
      open: () => new SnapshotStore(path, DATA_PLANE_BUSY_MS),
      where: path,
      retentionMs: c.retention,
      max: c.max,
      maxBytes: c.max_bytes,
      targets: targetsOf(deps.config.mcp.sources, deps.configDir),
      redactor: new Redactor(deps.config.redact),
      logger: deps.logger,
      onStored: (kind) => m.stored.inc({ kind }),
      onDropped: (n) => m.dropped.inc(n),
    });
    deps.shared.set(SHARED_KEY, recorder);
    const r = recorder;
    deps.onClose(() => r.close());
  }
  return new SnapshotGuard(recorder, (message) => deps.logger.warn("a tool's outputSchema cannot be compiled; its results are not checked for snapshots", { route: deps.route.name, error: message }));
}

const adminStores = new Map<string, SnapshotStore>();

/**
 * The admin API's snapshot store for a config: undefined when it serves no MCP route or snapshots are off.
 * One connection per file for the process's life.
 */
export function adminSnapshotsFor(c: { readonly mcp: { readonly snapshots: { readonly enabled: boolean; readonly path: string } }; readonly routes: readonly { readonly mcp?: unknown }[] }, configDir: string): SnapshotStore | undefined {
  const s = c.mcp.snapshots;
  if (!s.enabled || !c.routes.some((r) => r.mcp !== undefined)) return undefined;
  const path = snapshotStorePath(s.path, configDir);
  let store = adminStores.get(path);
  if (store === undefined) {
    store = new SnapshotStore(path, 1000);
    adminStores.set(path, store);
  }
  return store;
}
