/**
 * The snapshot store: one SQLite file (WAL) shared by the gateway's worker
 * processes, which write, and the admin API, which reads. A row per
 * snapshot: the columns the listing groups and filters on, and the whole
 * snapshot as JSON. Writes come in batches, one transaction each, from the
 * recorder's queue (never from a call); a writer waits at most a short busy
 * timeout for another process's transaction, so a worker's event loop is
 * never held long.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { FicusError } from "../../../core/errors.ts";
import type { Snapshot } from "./snapshot.ts";

export const DEFAULT_SNAPSHOT_STORE = ".ficus/mcp-snapshots.db";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  tool TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  signature TEXT NOT NULL,
  message TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_time ON snapshots (time_ms);
CREATE INDEX IF NOT EXISTS snapshots_tool ON snapshots (tool, time_ms);
CREATE INDEX IF NOT EXISTS snapshots_signature ON snapshots (signature, time_ms);
`;

/** One group of the listing: the snapshots of one signature. */
export interface SnapshotGroup {
  readonly signature: string;
  readonly tool: string;
  readonly source: string;
  readonly kind: string;
  /** The message of the latest snapshot of the group. */
  readonly message: string;
  readonly count: number;
  readonly first_seen: string;
  readonly last_seen: string;
  /** The latest snapshot's id (GET /admin/mcp/errors/:id, ficus mcp replay). */
  readonly example_id: string;
}

function open(path: string, busyMs: number): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${busyMs}`);
    // Switching a new file to WAL can fail at once with SQLITE_BUSY when several workers open it together.
    for (let attempt = 0; ; attempt++) {
      try {
        const mode = (db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
        if (mode !== "wal" && path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        db.exec(SCHEMA);
        return db;
      } catch (err) {
        if (attempt >= 50 || !/locked|busy/i.test((err as Error).message)) throw err;
        Bun.sleepSync(5 + Math.random() * 20);
      }
    }
  } catch (err) {
    db.close();
    throw new FicusError("FICUS_STORE_UNAVAILABLE", `the MCP snapshot store ${path} cannot be opened: ${(err as Error).message}`, { cause: err });
  }
}

export class SnapshotStore {
  private readonly db: Database;
  private readonly insertOne;
  private readonly insertMany: (rows: readonly Snapshot[]) => void;

  /** `busyMs`: how long a statement waits for another process's transaction (short on the data plane). */
  constructor(
    readonly path: string = DEFAULT_SNAPSHOT_STORE,
    busyMs = 5000,
  ) {
    this.db = open(path, busyMs);
    this.insertOne = this.db.query("INSERT OR IGNORE INTO snapshots (id, time_ms, endpoint, tool, source, kind, signature, message, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    this.insertMany = this.db.transaction((rows: readonly Snapshot[]) => {
      for (const s of rows) this.insertOne.run(s.id, Date.parse(s.time), s.endpoint, s.tool, s.source, s.kind, s.signature, s.message, JSON.stringify(s));
    });
  }

  /** Writes snapshots in one transaction; throws (SQLITE_FULL, SQLITE_BUSY, read-only file…) when it cannot. */
  insert(rows: readonly Snapshot[]): void {
    if (rows.length > 0) this.insertMany(rows);
  }

  /** Deletes snapshots older than `retentionMs` and all but the newest `max`. Returns how many went. */
  sweep(retentionMs: number, max: number, now = Date.now()): number {
    let n = this.db.query("DELETE FROM snapshots WHERE time_ms < ?").run(now - retentionMs).changes;
    n += this.db.query("DELETE FROM snapshots WHERE id <= (SELECT id FROM snapshots ORDER BY id DESC LIMIT 1 OFFSET ?)").run(max).changes;
    return n;
  }

  /** The snapshots grouped by signature, the group seen last first. */
  groups(o: { tool?: string | undefined; limit?: number | undefined } = {}): SnapshotGroup[] {
    const limit = Math.max(1, Math.min(o.limit ?? 100, 10_000));
    // SQLite: with MAX(id), the bare columns (message, source) come from the row holding it, the group's latest.
    const rows = this.db
      .query(
        `SELECT signature, tool, source, kind, message, COUNT(*) AS count, MIN(time_ms) AS first_ms, MAX(time_ms) AS last_ms, MAX(id) AS example_id
         FROM snapshots ${o.tool !== undefined ? "WHERE tool = ?" : ""} GROUP BY signature ORDER BY last_ms DESC, example_id DESC LIMIT ${limit}`,
      )
      .all(...(o.tool !== undefined ? [o.tool] : [])) as { signature: string; tool: string; source: string; kind: string; message: string; count: number; first_ms: number; last_ms: number; example_id: string }[];
    return rows.map((r) => ({
      signature: r.signature,
      tool: r.tool,
      source: r.source,
      kind: r.kind,
      message: r.message,
      count: r.count,
      first_seen: new Date(r.first_ms).toISOString(),
      last_seen: new Date(r.last_ms).toISOString(),
      example_id: r.example_id,
    }));
  }

  /** One snapshot, or undefined. */
  get(id: string): Snapshot | undefined {
    const row = this.db.query("SELECT body FROM snapshots WHERE id = ?").get(id) as { body: string } | null;
    return row === null ? undefined : (JSON.parse(row.body) as Snapshot);
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM snapshots").get() as { n: number }).n;
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // Already closed.
    }
  }
}
