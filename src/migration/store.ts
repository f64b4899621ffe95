/**
 * Durable shadow-stage results in SQLite (bun:sqlite). Processes write deltas
 * (counters add, signatures upsert, histograms merge) in one transaction per
 * flush, so several workers can share one file (WAL, busy timeout). Bounded:
 * a few samples per signature (the first ones seen), and signatures unseen for
 * the retention period are deleted. Results survive restarts.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as hdr from "hdr-histogram-js";
import type { Severity } from "../compare/index.ts";
import { COUNTERS, type CounterName, newHistogram, type RouteDelta, type Sample, SKIP_REASONS, type SkipReason } from "./results.ts";

export interface LatencySummary {
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
}

export interface SignatureSummary {
  readonly id: string;
  readonly count: number;
  readonly status: readonly [number, number];
  readonly paths: readonly string[];
  readonly severity: Severity;
  readonly first_seen: string;
  readonly last_seen: string;
}

export interface RouteResults {
  readonly route: string;
  readonly counters: Record<CounterName, number>;
  readonly skipped: Record<SkipReason, number>;
  readonly latency: { readonly legacy: LatencySummary; readonly candidate: LatencySummary; readonly ratio_p50: number; readonly pairs: number };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS counters (route TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (route, name));
CREATE TABLE IF NOT EXISTS signatures (
  id TEXT PRIMARY KEY, route TEXT NOT NULL, status_legacy INTEGER NOT NULL, status_candidate INTEGER NOT NULL,
  paths TEXT NOT NULL, severity TEXT NOT NULL, count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS signatures_route ON signatures (route, count DESC);
CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY AUTOINCREMENT, signature TEXT NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS samples_signature ON samples (signature);
CREATE TABLE IF NOT EXISTS latency (route TEXT NOT NULL, side TEXT NOT NULL, histogram TEXT NOT NULL, PRIMARY KEY (route, side));
`;

function summary(h: hdr.Histogram): LatencySummary {
  const at = (p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / 1000);
  return { p50_ms: at(50), p95_ms: at(95), p99_ms: at(99) };
}

export class ResultsStore {
  private readonly db: Database;
  readonly location: string;

  /** Opens (creating) the store at `path`, or an in-memory one for ":memory:". Throws when the file cannot be used. */
  constructor(
    path: string,
    private readonly samplesPerSignature: number,
    private readonly retentionMs: number,
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { create: true, strict: true });
    this.location = path;
    this.db.exec("PRAGMA busy_timeout = 5000");
    if (path !== ":memory:") this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec(SCHEMA);
  }

  /** Merges one process's deltas, in a single transaction. */
  apply(deltas: Map<string, RouteDelta>, now = Date.now()): void {
    const db = this.db;
    const addCounter = db.query("INSERT INTO counters (route, name, value) VALUES (?, ?, ?) ON CONFLICT (route, name) DO UPDATE SET value = value + excluded.value");
    const upsertSig = db.query(
      `INSERT INTO signatures (id, route, status_legacy, status_candidate, paths, severity, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET count = count + excluded.count, first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
    );
    const countSamples = db.query("SELECT COUNT(*) AS n FROM samples WHERE signature = ?");
    const addSample = db.query("INSERT INTO samples (signature, time, data) VALUES (?, ?, ?)");
    const getLatency = db.query("SELECT histogram FROM latency WHERE route = ? AND side = ?");
    const putLatency = db.query("INSERT INTO latency (route, side, histogram) VALUES (?, ?, ?) ON CONFLICT (route, side) DO UPDATE SET histogram = excluded.histogram");
    db.transaction(() => {
      for (const [route, d] of deltas) {
        for (const [name, n] of d.counters) addCounter.run(route, name, n);
        for (const s of d.signatures.values()) {
          upsertSig.run(s.id, route, s.status[0], s.status[1], JSON.stringify(s.paths), s.severity, s.count, s.firstSeen, s.lastSeen);
          const have = (countSamples.get(s.id) as { n: number }).n;
          for (const sample of s.samples.slice(0, Math.max(0, this.samplesPerSignature - have))) addSample.run(s.id, Date.parse(sample.time), JSON.stringify(sample));
        }
        for (const side of ["legacy", "candidate", "ratio"] as const) {
          const delta = d[side];
          if (delta.totalCount === 0) continue;
          const row = getLatency.get(route, side) as { histogram: string } | null;
          const merged = row ? hdr.decodeFromCompressedBase64(row.histogram, 32, false) : newHistogram();
          merged.add(delta);
          putLatency.run(route, side, hdr.encodeIntoCompressedBase64(merged));
        }
      }
      if (this.retentionMs > 0) {
        const cutoff = now - this.retentionMs;
        db.query("DELETE FROM samples WHERE signature IN (SELECT id FROM signatures WHERE last_seen < ?)").run(cutoff);
        db.query("DELETE FROM signatures WHERE last_seen < ?").run(cutoff);
      }
    })();
  }

  routes(): RouteResults[] {
    const names = new Set<string>();
    for (const r of this.db.query("SELECT DISTINCT route FROM counters UNION SELECT DISTINCT route FROM latency").all() as { route: string }[]) names.add(r.route);
    return [...names].sort().map((route) => this.route(route));
  }

  route(route: string): RouteResults {
    const counters = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<CounterName, number>;
    const skipped = Object.fromEntries(SKIP_REASONS.map((c) => [c, 0])) as Record<SkipReason, number>;
    for (const row of this.db.query("SELECT name, value FROM counters WHERE route = ?").all(route) as { name: string; value: number }[]) {
      if (row.name.startsWith("skipped.")) skipped[row.name.slice(8) as SkipReason] = row.value;
      else counters[row.name as CounterName] = row.value;
    }
    const hist = (side: string) => {
      const row = this.db.query("SELECT histogram FROM latency WHERE route = ? AND side = ?").get(route, side) as { histogram: string } | null;
      return row ? hdr.decodeFromCompressedBase64(row.histogram, 32, false) : newHistogram();
    };
    const ratio = hist("ratio");
    return {
      route,
      counters,
      skipped,
      latency: {
        legacy: summary(hist("legacy")),
        candidate: summary(hist("candidate")),
        ratio_p50: ratio.totalCount === 0 ? 0 : Math.round(ratio.getValueAtPercentile(50)) / 1000,
        pairs: ratio.totalCount,
      },
    };
  }

  signatures(route: string, limit = 100): SignatureSummary[] {
    const rows = this.db
      .query("SELECT id, count, status_legacy, status_candidate, paths, severity, first_seen, last_seen FROM signatures WHERE route = ? ORDER BY count DESC, id LIMIT ?")
      .all(route, limit) as { id: string; count: number; status_legacy: number; status_candidate: number; paths: string; severity: Severity; first_seen: number; last_seen: number }[];
    return rows.map((r) => ({
      id: r.id,
      count: r.count,
      status: [r.status_legacy, r.status_candidate] as const,
      paths: JSON.parse(r.paths) as string[],
      severity: r.severity,
      first_seen: new Date(r.first_seen).toISOString(),
      last_seen: new Date(r.last_seen).toISOString(),
    }));
  }

  /** Samples of a signature of a route; undefined when the signature is unknown there. */
  samples(route: string, signature: string): Sample[] | undefined {
    const known = this.db.query("SELECT 1 FROM signatures WHERE id = ? AND route = ?").get(signature, route);
    if (!known) return undefined;
    return (this.db.query("SELECT data FROM samples WHERE signature = ? ORDER BY id").all(signature) as { data: string }[]).map((r) => JSON.parse(r.data) as Sample);
  }

  close(): void {
    this.db.close();
  }
}
