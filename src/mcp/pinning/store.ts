/**
 * The pins of upstream tool definitions, in one SQLite file shared by the
 * gateway's worker processes, its admin process and the CLI: per (source,
 * tool) the approved definition (hash, JSON, when, by whom) and, when the
 * upstream now says something else, the pending one (hash, JSON, since when).
 * A pin is of the upstream it was taken from (the source's URL, command or
 * document) too: a source pointed at another server by its config starts
 * afresh there, and gateways sharing a file with same-named sources on
 * different servers (two zero-config gateways in one folder) keep apart.
 *
 * Every write is one statement (autocommit), conditional so that processes
 * racing on the same change agree on who saw it first. Approvals also bump a
 * counter in `meta`, so a process can tell "someone approved something" from
 * the other writes (pins of new tools, pending changes) cheaply: PRAGMA
 * data_version first (it moves when another connection commits), then the
 * counter only when it did.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { FicusError } from "../../core/errors.ts";
import type { PinnedDefinition } from "./hash.ts";

/** The default file, relative to the config file's folder. */
export const DEFAULT_PIN_STORE = ".ficus/mcp-pins.db";

/** One pin as stored. `approved_hash` is null for a new tool held for approval (trust_new: false). */
export interface PinRow {
  readonly source: string;
  readonly tool: string;
  /** Where the source's tools came from (its url, command or OpenAPI document; "" when unknown). */
  readonly upstream: string;
  readonly approved_hash: string | null;
  readonly approved_definition: string | null;
  readonly approved_at: string | null;
  readonly approved_by: string | null;
  readonly pending_hash: string | null;
  readonly pending_definition: string | null;
  readonly first_changed_at: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pins (
  source TEXT NOT NULL,
  tool TEXT NOT NULL,
  upstream TEXT NOT NULL,
  approved_hash TEXT,
  approved_definition TEXT,
  approved_at TEXT,
  approved_by TEXT,
  pending_hash TEXT,
  pending_definition TEXT,
  first_changed_at TEXT,
  PRIMARY KEY (source, upstream, tool)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('approvals', 0);
`;

const BUSY_TIMEOUT_MS = 5000;

function open(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Switching a new file to WAL can fail with SQLITE_BUSY at once (the busy handler does not cover it)
    // when several workers open it together: retried briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        const mode = (db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
        if (mode !== "wal" && path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        // A file of a development build, before pins were per upstream: started afresh.
        const columns = db.query("PRAGMA table_info(pins)").all() as { name: string }[];
        if (columns.length > 0 && !columns.some((c) => c.name === "upstream")) db.exec("DROP TABLE pins");
        db.exec(SCHEMA);
        return db;
      } catch (err) {
        if (attempt >= 50 || !/locked|busy/i.test((err as Error).message)) throw err;
        Bun.sleepSync(10 + Math.random() * 30);
      }
    }
  } catch (err) {
    db.close();
    throw new FicusError("FICUS_STORE_UNAVAILABLE", `the MCP pin store ${path} cannot be opened: ${(err as Error).message}`, { cause: err });
  }
}

const now = () => new Date().toISOString();

export class PinStore {
  private readonly db: Database;
  private lastDataVersion: number;
  private lastApprovals: number;

  constructor(readonly path: string = DEFAULT_PIN_STORE) {
    this.db = open(path);
    this.lastDataVersion = this.dataVersion();
    this.lastApprovals = this.approvals();
  }

  private dataVersion(): number {
    return (this.db.query("PRAGMA data_version").get() as { data_version: number }).data_version;
  }

  private approvals(): number {
    return (this.db.query("SELECT value FROM meta WHERE key = 'approvals'").get() as { value: number }).value;
  }

  /** Whether another connection approved something since the last call (one PRAGMA when nothing was written). */
  approvedElsewhere(): boolean {
    const v = this.dataVersion();
    if (v === this.lastDataVersion) return false;
    this.lastDataVersion = v;
    const a = this.approvals();
    if (a === this.lastApprovals) return false;
    this.lastApprovals = a;
    return true;
  }

  /** The pins of one source at one upstream, by tool name. */
  pinsOf(source: string, upstream: string): Map<string, PinRow> {
    const rows = this.db.query("SELECT * FROM pins WHERE source = ? AND upstream = ?").all(source, upstream) as PinRow[];
    return new Map(rows.map((r) => [r.tool, r]));
  }

  /**
   * Pins a tool seen for the first time as approved (trust on first use). Returns the row now stored:
   * another process may have pinned it first, with another definition.
   */
  pinNew(source: string, upstream: string, tool: string, hash: string, definition: PinnedDefinition, by: string): PinRow {
    this.db
      .query("INSERT INTO pins (source, tool, upstream, approved_hash, approved_definition, approved_at, approved_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, upstream, tool) DO NOTHING")
      .run(source, tool, upstream, hash, JSON.stringify(definition), now(), by);
    return this.db.query("SELECT * FROM pins WHERE source = ? AND upstream = ? AND tool = ?").get(source, upstream, tool) as PinRow;
  }

  /**
   * Records `hash` as the tool's pending definition. True when this call recorded it (the change is
   * first seen here); false when it was already pending, in this process or another.
   */
  recordPending(source: string, upstream: string, tool: string, hash: string, definition: PinnedDefinition): boolean {
    const r = this.db
      .query(
        `INSERT INTO pins (source, tool, upstream, pending_hash, pending_definition, first_changed_at) VALUES (?1, ?2, ?6, ?3, ?4, ?5)
         ON CONFLICT (source, upstream, tool) DO UPDATE SET pending_hash = ?3, pending_definition = ?4, first_changed_at = ?5
         WHERE pending_hash IS NULL OR pending_hash != ?3`,
      )
      .run(source, tool, hash, JSON.stringify(definition), now(), upstream);
    return r.changes > 0;
  }

  /** The upstream is back to the approved definition: nothing is pending any more. */
  clearPending(source: string, upstream: string, tool: string, approvedHash: string): void {
    this.db
      .query("UPDATE pins SET pending_hash = NULL, pending_definition = NULL, first_changed_at = NULL WHERE source = ? AND upstream = ? AND tool = ? AND approved_hash = ? AND pending_hash IS NOT NULL")
      .run(source, upstream, tool, approvedHash);
  }

  /** Every pending change, oldest first. */
  pending(): PinRow[] {
    return this.db.query("SELECT * FROM pins WHERE pending_hash IS NOT NULL ORDER BY first_changed_at, source, tool").all() as PinRow[];
  }

  /**
   * Approves these pending changes (their pending definition becomes the approved one), each only if its
   * pending hash is still the one given: a change that moved on since it was shown stays pending. Returns how many.
   */
  approve(changes: readonly { source: string; upstream: string; tool: string; pending_hash: string }[], by: string): number {
    const update = this.db.query(
      `UPDATE pins SET approved_hash = pending_hash, approved_definition = pending_definition, approved_at = ?, approved_by = ?,
         pending_hash = NULL, pending_definition = NULL, first_changed_at = NULL WHERE source = ? AND upstream = ? AND tool = ? AND pending_hash = ?`,
    );
    const tx = this.db.transaction(() => {
      const at = now();
      let n = 0;
      for (const c of changes) n += update.run(at, by, c.source, c.upstream, c.tool, c.pending_hash).changes;
      if (n > 0) this.db.query("UPDATE meta SET value = value + 1 WHERE key = 'approvals'").run();
      return n;
    });
    return tx.immediate();
  }

  close(): void {
    this.db.close();
  }
}
