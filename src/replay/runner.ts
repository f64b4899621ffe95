/**
 * Replaying a recording: every selected request goes to legacy and to the
 * candidate (at once, in random order), or to one target whose answers are
 * compared with the recorded ones; the pairs are judged exactly as the shadow
 * stage judges live traffic (same engine, rules, A/A noise, signatures) and
 * the results land in an in-memory results store, read back as the report.
 *
 * The recording is streamed: an exchange is read only when a concurrency slot
 * is free and its time (--rate, --speed) has come, so memory does not grow
 * with the file.
 */
import type { CompiledRules } from "../compare/index.ts";
import { compileRules } from "../compare/index.ts";
import type { FicusConfig } from "../config/schema.ts";
import { type Answer, judgeAA, judgePair } from "../migration/judge.ts";
import { DEFAULT_REDACT, Redactor } from "../migration/redact.ts";
import { ResultsBuffer } from "../migration/results.ts";
import { SqliteStore } from "../migration/store.ts";
import { HOP_BY_HOP } from "../pipeline/fields.ts";
import { matcherOf } from "../routing/route-table.ts";
import { Router } from "../routing/router.ts";
import type { Corrupt, RecordedExchange } from "./exchange.ts";
import type { Filter } from "./filter.ts";
import { openRecording, type Recording } from "./inputs/index.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** Request fields a replay must not copy: the connection's own (hop-by-hop), and what fetch computes. */
const DROP = new Set([...HOP_BY_HOP, "content-length", "host", "expect"]);

export interface ReplayOptions {
  readonly files: readonly string[];
  /** Two live services… */
  readonly legacy?: string | undefined;
  readonly candidate?: string | undefined;
  /** …or one, compared with the recorded responses. */
  readonly target?: string | undefined;
  /** Routes (names, matching and compare rules) from a ficus.yaml. */
  readonly config?: FicusConfig | undefined;
  /** Rules for every route (--rules), instead of the config's. */
  readonly rules?: CompiledRules | undefined;
  readonly concurrency: number;
  /** Requests per second (paced evenly). */
  readonly rate?: number | undefined;
  /** Replay at the recorded pace × this. */
  readonly speed?: number | undefined;
  readonly filters: readonly Filter[];
  /** Fraction of safe requests also sent to legacy a second time (A/A noise). */
  readonly aa: number;
  readonly allowUnsafe: boolean;
  /** Set on every request, replacing recorded fields of the same name. */
  readonly headers: readonly (readonly [string, string])[];
  /** Host header sent instead of the target's. */
  readonly host?: string | undefined;
  readonly timeoutMs: number;
  readonly samplesPerSignature: number;
}

export interface ReplayError {
  readonly file: string;
  readonly line: number;
  readonly method: string;
  readonly target: string;
  readonly side: "legacy" | "candidate";
  readonly message: string;
}

export interface ReplayProgress {
  /** Exchanges finished (judged, failed or skipped). */
  readonly done: number;
  readonly matched: number;
  readonly mismatched: number;
  readonly errors: number;
  /** Recording bytes read so far, of `totalBytes`. */
  readonly bytes: number;
  readonly totalBytes: number;
  readonly elapsedMs: number;
}

export interface ReplayStats {
  /** Exchanges read (whole and well-formed). */
  read: number;
  /** …of which the filters selected. */
  selected: number;
  /** Corrupt or truncated lines and entries, skipped. */
  corrupt: number;
  /** Requests that failed per side (unreachable, timeout, reset). */
  legacyErrors: number;
  candidateErrors: number;
  elapsedMs: number;
}

interface RouteInfo {
  readonly name: string;
  readonly rules: CompiledRules;
  readonly redactor: Redactor;
  readonly noise: FicusConfig["routes"][number]["shadow"]["noise"] | undefined;
}

type Outcome = { ok: true; answer: Answer } | { ok: false; message: string; timeout: boolean };

export class Replay {
  readonly buffer: ResultsBuffer;
  readonly store: SqliteStore;
  readonly stats: ReplayStats = { read: 0, selected: 0, corrupt: 0, legacyErrors: 0, candidateErrors: 0, elapsedMs: 0 };
  readonly routes = new Map<string, RouteInfo>();
  onCorrupt: (c: Corrupt) => void = () => {};
  onError: (e: ReplayError) => void = () => {};
  private readonly router: Router<FicusConfig["routes"][number]> | undefined;
  private readonly defaultRules: CompiledRules;
  private done = 0;
  private matched = 0;
  private mismatched = 0;
  private aaAcc = 0;
  private recordings: Recording[] = [];
  private t0 = 0;
  /** The recordings' size, for progress (read once). */
  private readonly totalBytes: number;

  constructor(private readonly opts: ReplayOptions) {
    this.totalBytes = opts.files.reduce((n, f) => n + Bun.file(f).size, 0);
    this.buffer = new ResultsBuffer(opts.samplesPerSignature);
    this.store = new SqliteStore(":memory:", opts.samplesPerSignature, 0);
    this.defaultRules = opts.rules ?? compileRules();
    const config = opts.config;
    this.router = config ? new Router(config.routes.map((rc, order) => ({ value: rc, order, match: matcherOf(rc) }))) : undefined;
  }

  progress(): ReplayProgress {
    return {
      done: this.done,
      matched: this.matched,
      mismatched: this.mismatched,
      errors: this.stats.legacyErrors + this.stats.candidateErrors,
      bytes: this.recordings.reduce((n, r) => n + r.source.consumed, 0),
      totalBytes: this.totalBytes,
      elapsedMs: this.t0 === 0 ? 0 : performance.now() - this.t0,
    };
  }

  /** The route an exchange belongs to: the recorded route when the config has it, else the config's matching route, else the recorded name, else "default". */
  private routeOf(e: RecordedExchange): { name: string; rc: FicusConfig["routes"][number] | undefined } {
    // A recording made by Ficus names its route: that route's settings apply when the config has it.
    let rc = e.route !== undefined ? this.opts.config?.routes.find((r) => r.name === e.route) : undefined;
    if (!rc && this.router) {
      const q = e.request.target.indexOf("?");
      const path = q < 0 ? e.request.target : e.request.target.slice(0, q);
      const host = (e.request.host ?? "").toLowerCase().replace(/:\d+$/, "");
      const m = this.router.match({ host, path, method: e.request.method, header: (n) => e.request.headers.find(([k]) => k.toLowerCase() === n)?.[1] ?? null });
      rc = m?.value ?? (this.opts.config?.default_route !== undefined ? this.opts.config.routes.find((r) => r.name === this.opts.config?.default_route) : undefined);
    }
    return { name: rc?.name ?? e.route ?? "default", rc };
  }

  /** A route's rules and settings, set up the first time one of its exchanges is replayed. */
  private routeInfo(name: string, rc: FicusConfig["routes"][number] | undefined): RouteInfo {
    let info = this.routes.get(name);
    if (!info) {
      info = { name, rules: this.opts.rules ?? (rc ? compileRules(rc.compare) : this.defaultRules), redactor: new Redactor(this.opts.config?.redact ?? DEFAULT_REDACT, rc?.shadow.redact ?? []), noise: rc?.shadow.noise };
      this.routes.set(name, info);
    }
    return info;
  }

  private async *exchanges(): AsyncGenerator<RecordedExchange> {
    for (const file of this.opts.files) {
      const rec = await openRecording(file);
      this.recordings.push(rec);
      for await (const item of rec.items) {
        if (item.corrupt) {
          this.stats.corrupt++;
          this.onCorrupt(item.corrupt);
          continue;
        }
        this.stats.read++;
        yield item.exchange;
      }
    }
  }

  async run(): Promise<ReplayStats> {
    this.t0 = performance.now();
    const { concurrency, rate, speed } = this.opts;
    const inflight = new Set<Promise<void>>();
    let firstTime = Number.NaN;
    let n = 0;
    let lastFlush = performance.now();
    for await (const e of this.exchanges()) {
      const { name, rc } = this.routeOf(e);
      if (!this.opts.filters.every((f) => f(e, name))) continue;
      const route = this.routeInfo(name, rc);
      this.stats.selected++;
      // Pacing: --rate spreads requests evenly; --speed follows the recorded clock.
      let due = 0;
      if (rate !== undefined) due = this.t0 + (n / rate) * 1000;
      else if (speed !== undefined && Number.isFinite(e.time)) {
        if (Number.isNaN(firstTime)) firstTime = e.time;
        due = this.t0 + (e.time - firstTime) / speed;
      }
      n++;
      const wait = due - performance.now();
      if (wait > 1) await Bun.sleep(wait);
      while (inflight.size >= concurrency) await Promise.race(inflight);
      const task = this.one(e, route).finally(() => {
        inflight.delete(task);
        this.done++;
      });
      inflight.add(task);
      if (performance.now() - lastFlush > 1000) {
        lastFlush = performance.now();
        await this.flush();
      }
    }
    await Promise.all(inflight);
    await this.flush();
    this.stats.elapsedMs = performance.now() - this.t0;
    return this.stats;
  }

  private async flush(): Promise<void> {
    if (!this.buffer.empty) await this.store.apply(this.buffer.drain());
  }

  private requestHeaders(e: RecordedExchange): Headers {
    const h = new Headers();
    for (const [k, v] of e.request.headers) {
      if (DROP.has(k.toLowerCase())) continue;
      try {
        h.append(k, v);
      } catch {
        // A recorded field Headers refuses (invalid name or value) is not sent.
      }
    }
    for (const [k, v] of this.opts.headers) h.set(k, v);
    if (this.opts.host !== undefined) h.set("host", this.opts.host);
    return h;
  }

  private async call(base: string, e: RecordedExchange, headers: Headers): Promise<Outcome> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const t0 = performance.now();
    try {
      const res = await fetch(base + e.request.target, {
        method: e.request.method,
        headers,
        body: e.request.body && e.request.method !== "GET" && e.request.method !== "HEAD" ? e.request.body : undefined,
        redirect: "manual",
        decompress: false,
        signal,
      });
      const body = new Uint8Array(await res.arrayBuffer());
      return { ok: true, answer: { status: res.status, headers: [...res.headers], body, durationMs: performance.now() - t0 } };
    } catch (err) {
      const timeout = signal.aborted;
      return { ok: false, timeout, message: timeout ? `no answer within ${this.opts.timeoutMs} ms` : (err as Error).message };
    }
  }

  private fail(e: RecordedExchange, route: RouteInfo, side: "legacy" | "candidate", message: string): void {
    if (side === "legacy") this.stats.legacyErrors++;
    else this.stats.candidateErrors++;
    // Printed and listed in report.json: the target is redacted like a sample's.
    this.onError({ file: e.file, line: e.line, method: e.request.method, target: route.redactor.url(e.request.target), side, message });
  }

  private async one(e: RecordedExchange, route: RouteInfo): Promise<void> {
    const name = route.name;
    const b = this.buffer;
    b.count(name, "total");
    if (!SAFE.has(e.request.method) && !this.opts.allowUnsafe) {
      b.count(name, "skipped.unsafe_method");
      return;
    }
    const headers = this.requestHeaders(e);
    let legacy: Outcome;
    let candidate: Outcome;
    let aa: Outcome | undefined;
    const target = this.opts.target;
    if (target !== undefined) {
      const rec = e.response;
      if (!rec) {
        b.count(name, "skipped.no_recorded_response");
        return;
      }
      b.count(name, "shadowed");
      legacy = { ok: true, answer: { status: rec.status, headers: rec.headers, body: rec.body, durationMs: rec.durationMs ?? Number.NaN } };
      candidate = await this.call(target, e, headers);
    } else {
      b.count(name, "shadowed");
      const l = this.opts.legacy as string;
      const c = this.opts.candidate as string;
      // Both at once, in random order, so neither side is systematically first.
      const legacyFirst = Math.random() < 0.5;
      const first = this.call(legacyFirst ? l : c, e, headers);
      const second = this.call(legacyFirst ? c : l, e, headers);
      if (SAFE.has(e.request.method) && this.opts.aa > 0) {
        this.aaAcc += this.opts.aa;
        if (this.aaAcc >= 1) {
          this.aaAcc -= 1;
          aa = await this.call(l, e, headers);
        }
      }
      const [a, z] = await Promise.all([first, second]);
      legacy = legacyFirst ? a : z;
      candidate = legacyFirst ? z : a;
    }
    if (!legacy.ok) {
      this.fail(e, route, "legacy", legacy.message);
      b.count(name, "skipped.legacy_failed");
      if (!candidate.ok) this.fail(e, route, "candidate", candidate.message);
      return;
    }
    if (aa?.ok) judgeAA(b, name, legacy.answer, aa.answer, route.rules);
    if (!candidate.ok) {
      this.fail(e, route, "candidate", candidate.message);
      b.count(name, candidate.timeout ? "candidate_timeout" : "candidate_error");
      return;
    }
    const l = legacy.answer;
    const c = candidate.answer;
    const j = judgePair(b, name, l, c, route.rules, new Set(), (differences) =>
      route.redactor.sample(
        Number.isFinite(e.time) ? new Date(e.time).toISOString() : new Date().toISOString(),
        { method: e.request.method, target: e.request.target, headers, body: e.request.body },
        l,
        c,
        differences,
      ),
    );
    if (j.outcome === "mismatched") this.mismatched++;
    else if (j.outcome !== "incomplete") this.matched++;
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
