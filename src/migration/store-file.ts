/**
 * The SQLite store's file on disk, shared by the processes of one gateway:
 * opening (creating) it, noticing when its path no longer names the file this
 * process has open (deleted, or replaced by another file), and putting it back
 * from what the open connection still reads (a deleted file stays readable
 * through it, with everything every process wrote).
 *
 * Why a lock file: a WAL database's `-wal` and `-shm` files are named after the
 * database path. Processes that still have a deleted database open keep using
 * them, so a new database created at the path beside them would share them
 * and be corrupt (https://sqlite.org/howtocorrupt.html, "Unlinking or renaming
 * a database file while in use"). Whoever creates the file therefore removes
 * those leftovers first, and creating is serialized by an exclusive lock on
 * `<path>.lock` (an empty SQLite database: its POSIX locks are released when a
 * process dies). Writers hold a shared lock on it while they check the path
 * and write, so a file is never copied while a write to it is on its way.
 * Another file moved to the path is paired with our leftover `-wal`/`-shm`
 * too: those (known by their inodes) are removed before it is opened.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** What the store tells its owner about its file (the results writer logs and counts these). */
export type StoreFileNotice =
  /** The path no longer names the open file: nothing is there, or another file is. Once per incident. */
  | { readonly kind: "lost"; readonly found: "nothing" | "another file" }
  /**
   * The path names a file with our data again: `recreated` (a new file, filled from the open one), `reopened`
   * (another process had put it back), `merged` (another file was there; the open file's data was added to it).
   */
  | { readonly kind: "restored"; readonly how: "recreated" | "reopened" | "merged" }
  /** Putting it back failed (once per incident); writes go to the open (deleted) file, and it is tried again. */
  | { readonly kind: "restore_failed"; readonly error: unknown };

/**
 * Adds the data of the attached database `snap` (a snapshot of the open file)
 * to `into`, inside a transaction the caller holds.
 */
export type MergeSnapshot = (into: Database) => void;

const LOCK_WAIT_MS = 10_000;
/** Reads check the path at most this often; writes check it every time. */
const CHECK_EVERY_MS = 100;
/** A file that could not be put back is tried again after this long, doubling up to RETRY_MAX_MS (sooner when the path changes). */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

interface Identity {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** The file at `path` (device and inode), or undefined when there is none. */
function identityOf(path: string): Identity | undefined {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st ? { dev: st.dev, ino: st.ino } : undefined;
  } catch (err) {
    // A parent that is now a file: nothing at the path either.
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** The identity of the file just opened at `path` (gone already: an error, tried again later). */
function openedIdentity(path: string): Identity {
  const id = identityOf(path);
  if (!id) throw new Error(`results store ${path}: the file was removed as it was opened`);
  return id;
}

const same = (a: Identity | undefined, b: Identity | undefined) => (a === undefined ? b === undefined : b !== undefined && a.dev === b.dev && a.ino === b.ino);

/**
 * Runs `fn` holding the lock file's lock: exclusive (creating the file) or
 * shared (writing to it). With `optional`, runs `fn` unlocked when the lock
 * file cannot be opened (the folder is gone and the store writes to its
 * deleted file meanwhile).
 */
function withLock<T>(path: string, mode: "exclusive" | "shared", fn: () => T, optional = false): T {
  let lock: Database | undefined;
  try {
    lock = new Database(`${path}.lock`, { create: true });
    lock.exec(`PRAGMA busy_timeout = ${LOCK_WAIT_MS}`);
    if (mode === "exclusive") lock.exec("BEGIN EXCLUSIVE");
    else {
      lock.exec("BEGIN");
      // A read takes SQLite's SHARED lock; BEGIN alone takes none.
      lock.query("SELECT count(*) FROM sqlite_master").get();
    }
  } catch (err) {
    lock?.close();
    if (optional) return fn();
    throw err;
  }
  try {
    return fn();
  } finally {
    try {
      lock.exec("COMMIT");
    } finally {
      lock.close();
    }
  }
}

/** Opens the database at `path` (creating it) in WAL mode, with the schema. */
function openDatabase(path: string, init: (db: Database) => void): Database {
  const db = new Database(path, { create: true, strict: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    // Switching a new file to WAL can fail with SQLITE_BUSY without waiting (the busy handler does not cover it).
    for (let attempt = 0; ; attempt++) {
      try {
        const mode = (db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
        if (mode !== "wal") db.exec("PRAGMA journal_mode = WAL");
        // No fsync per commit: with WAL this survives process crashes; a power cut may lose the last
        // second of statistics, and the flush stays off the event loop's critical time.
        db.exec("PRAGMA synchronous = NORMAL");
        init(db);
        return db;
      } catch (err) {
        if (attempt >= 50 || !/locked|busy/i.test((err as Error).message)) throw err;
        Bun.sleepSync(20 + Math.random() * 30);
      }
    }
  } catch (err) {
    db.close();
    throw err;
  }
}

const SIDECARS = ["-wal", "-shm"] as const;

/** The identities of the database's WAL files (they exist once a WAL database was read). */
function sidecarsOf(path: string): (Identity | undefined)[] {
  return SIDECARS.map((suffix) => identityOf(`${path}${suffix}`));
}

/**
 * Removes WAL files that belong to no file at the path: all of them when the
 * database is gone; when another file took its place, those that were ours
 * (`mine`), which the new file must not be paired with.
 */
function removeLeftovers(path: string, mine?: (Identity | undefined)[]): void {
  SIDECARS.forEach((suffix, i) => {
    const file = `${path}${suffix}`;
    if (!mine || (mine[i] !== undefined && same(identityOf(file), mine[i]))) rmSync(file, { force: true });
  });
}

/** The store's id (meta table), created with the file. */
function storeIdOf(db: Database): string {
  db.query("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)").run(crypto.randomUUID());
  return (db.query("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string }).value;
}

/** Whether `db` is the store `storeId`, or already took in its data. */
function holds(db: Database, storeId: string): boolean {
  return db.query("SELECT 1 FROM meta WHERE (key = 'store_id' AND value = ?) OR key = ?").get(storeId, `merged:${storeId}`) !== null;
}

export class StoreFile {
  /** The open database; another one once the file is put back. */
  db: Database;
  private identity: Identity;
  /** The identities of our `-wal` and `-shm` files: left behind when another file is moved to the path. */
  private sidecars: (Identity | undefined)[];
  /** The store's id: a file that carries it, or names it as merged, already holds our data. */
  private storeId: string;
  private checkedAt = 0;
  /** While the file could not be put back: what was at the path then, and when to try again. */
  private broken: { seen: Identity | undefined; retryAt: number; delay: number } | undefined;
  onNotice: ((n: StoreFileNotice) => void) | undefined;

  /**
   * Opens (creating) the file. `init` creates the schema (idempotently: several
   * processes may open a new file at once); `merge` adds a snapshot's data to a file.
   * Throws when the file cannot be used.
   */
  constructor(
    readonly path: string,
    private readonly init: (db: Database) => void,
    private readonly merge: MergeSnapshot,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    const opened = withLock(path, "exclusive", () => {
      if (!identityOf(path)) removeLeftovers(path);
      const db = openDatabase(path, init);
      try {
        return { db, identity: openedIdentity(path), sidecars: sidecarsOf(path), storeId: storeIdOf(db) };
      } catch (err) {
        db.close();
        throw err;
      }
    });
    this.db = opened.db;
    this.identity = opened.identity;
    this.sidecars = opened.sidecars;
    this.storeId = opened.storeId;
  }

  /** True while the path does not name a file with our data and putting it back failed. */
  get lost(): boolean {
    return this.broken !== undefined;
  }

  /**
   * Puts the file back when the path no longer names it. Cheap: one stat, and
   * unless `force`d at most every CHECK_EVERY_MS.
   */
  verify(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.checkedAt < CHECK_EVERY_MS) return;
    this.checkedAt = now;
    let id: Identity | undefined;
    try {
      id = identityOf(this.path);
    } catch {
      return; // the path cannot be looked at now (EACCES, EIO): nothing to conclude
    }
    if (this.broken ? now >= this.broken.retryAt || !same(id, this.broken.seen) : !same(id, this.identity)) this.restore(id);
  }

  /**
   * Runs a write under the shared lock, on the file the path names (put back
   * first when needed), or on the open file while that cannot be done.
   */
  write<T>(fn: (db: Database) => T): T {
    this.verify(true);
    for (let attempt = 0; attempt < 3; attempt++) {
      const done = withLock<{ value: T } | { changed: Identity | undefined }>(
        this.path,
        "shared",
        () => {
          const expected = this.broken ? this.broken.seen : this.identity;
          let id: Identity | undefined;
          try {
            id = identityOf(this.path);
          } catch {
            id = expected; // cannot be looked at now: write where we are
          }
          return same(id, expected) ? { value: fn(this.db) } : { changed: id };
        },
        this.broken !== undefined,
      );
      if ("value" in done) return done.value;
      this.restore(done.changed);
    }
    throw new Error(`results store ${this.path}: the file keeps changing under the gateway`);
  }

  /** An in-memory copy of everything the open file holds (for when the file itself fails). */
  memoryCopy(): Database {
    const bytes = this.db.serialize();
    // A WAL database image opens in memory only as a rollback-journal one (file format bytes 18-19).
    bytes[18] = 1;
    bytes[19] = 1;
    return Database.deserialize(bytes, { strict: true });
  }

  close(): void {
    this.db.close();
  }

  /** `found`: what the caller saw at the path. */
  private restore(found: Identity | undefined): void {
    const first = this.broken === undefined;
    if (first) this.onNotice?.({ kind: "lost", found: found ? "another file" : "nothing" });
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const how = withLock(this.path, "exclusive", () => this.restoreLocked());
      this.broken = undefined;
      if (how) this.onNotice?.({ kind: "restored", how });
    } catch (err) {
      const now = performance.now();
      const delay = first ? RETRY_MIN_MS : Math.min(RETRY_MAX_MS, (this.broken?.delay ?? RETRY_MIN_MS) * 2);
      let seen: Identity | undefined;
      try {
        seen = identityOf(this.path);
      } catch {
        seen = undefined;
      }
      this.broken = { seen, retryAt: now + delay, delay };
      if (first) this.onNotice?.({ kind: "restore_failed", error: err });
    }
  }

  /** Under the exclusive lock; undefined when the path names our file after all. */
  private restoreLocked(): "recreated" | "reopened" | "merged" | undefined {
    const there = identityOf(this.path);
    if (there && same(there, this.identity)) return undefined;
    removeLeftovers(this.path, there ? this.sidecars : undefined);
    const next = openDatabase(this.path, this.init);
    try {
      // Taken now: if the path changes again while the data is copied, the next check sees it.
      const identity = openedIdentity(this.path);
      let how: "recreated" | "reopened" | "merged" = "reopened";
      if (!holds(next, this.storeId)) {
        this.copyInto(next);
        how = there ? "merged" : "recreated";
      }
      const storeId = storeIdOf(next);
      const old = this.db;
      this.db = next;
      this.identity = identity;
      this.sidecars = sidecarsOf(this.path);
      this.storeId = storeId;
      old.close();
      return how;
    } catch (err) {
      next.close();
      throw err;
    }
  }

  /** Adds a consistent snapshot of the open file (its WAL included) to `next`, and marks `next` as holding our data. */
  private copyInto(next: Database): void {
    const snapshot = `${this.path}.restore-${process.pid}`;
    rmSync(snapshot, { force: true });
    try {
      this.db.query("VACUUM INTO ?").run(snapshot);
      next.query("ATTACH DATABASE ? AS snap").run(snapshot);
      try {
        next
          .transaction(() => {
            this.merge(next);
            next.query("INSERT OR IGNORE INTO meta (key, value) SELECT key, value FROM snap.meta WHERE key LIKE 'merged:%'").run();
            next.query("INSERT OR IGNORE INTO meta (key, value) VALUES (?, '')").run(`merged:${this.storeId}`);
          })
          .immediate();
      } finally {
        next.exec("DETACH DATABASE snap");
      }
    } finally {
      rmSync(snapshot, { force: true });
    }
  }
}
