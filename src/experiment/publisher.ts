/**
 * Where experiment results go. A publisher takes one batch at a time and
 * resolves when it is stored, or rejects (the batch is then dropped and
 * counted: results are statistics, and a caller is never held up for them).
 *
 * `gatewayPublisher` posts batches to a running gateway's admin API; it uses
 * only `fetch`, so it runs under Node ≥ 20 and Bun alike. The local SQLite
 * store (Bun only) is `localStore` in `ficus/experiment/local`.
 */
import { type ExperimentBatch, type ExperimentEntry, MAX_BATCH_BYTES } from "./wire.ts";

export interface Publisher {
  publish(batch: ExperimentBatch): Promise<void>;
  close?(): Promise<void>;
}

/** A publisher's failure: `rejected` when the gateway refused the batch (4xx), else it was unreachable or failing. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly kind: "unreachable" | "rejected",
    /** The gateway's FICUS_* code when it answered with one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "PublishError";
  }
}

export interface GatewayOptions {
  /** The admin API, e.g. http://127.0.0.1:9901 (default: FICUS_ADMIN_URL, else that address). */
  readonly admin?: string;
  /** The admin bearer token (default: FICUS_ADMIN_TOKEN). */
  readonly token?: string;
  /** How long one POST may take, ms (default 5000). */
  readonly timeout?: number;
}

const env = (name: string): string | undefined => (typeof process !== "undefined" ? process.env[name] : undefined) || undefined;

/** Posts batches to POST /admin/experiments/results of a gateway. */
export function gatewayPublisher(o: GatewayOptions = {}): Publisher {
  const admin = o.admin ?? env("FICUS_ADMIN_URL") ?? "http://127.0.0.1:9901";
  const url = new URL("/admin/experiments/results", admin).href;
  const token = o.token ?? env("FICUS_ADMIN_TOKEN");
  const timeout = o.timeout ?? 5000;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return {
    async publish(batch) {
      const body = JSON.stringify(batch);
      if (Buffer.byteLength(body) > MAX_BATCH_BYTES) {
        // Escaping can make a batch larger than its values: send it in halves.
        const halves = splitBatch(batch);
        if (!halves) throw new PublishError(`one result is over the gateway's ${MAX_BATCH_BYTES}-byte batch limit; lower maxValueChars`, "rejected");
        for (const half of halves) await this.publish(half);
        return;
      }
      let res: Response;
      try {
        res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeout) });
      } catch (err) {
        throw new PublishError(`cannot reach the gateway at ${url}: ${(err as Error).message}`, "unreachable");
      }
      const text = await res.text().catch(() => "");
      if (res.ok) return;
      let code: string | undefined;
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = body.error?.code;
        message = `${code}: ${body.error?.message}`;
      } catch {
        // Not a Ficus answer (a proxy's error page): keep the text.
      }
      const kind = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 ? "rejected" : "unreachable";
      throw new PublishError(`the gateway at ${url} answered ${res.status}: ${message}`, kind, code);
    },
  };
}

/** A batch cut in two by results (counters stay in the first half); undefined when it holds one result or none. */
export function splitBatch(batch: ExperimentBatch): [ExperimentBatch, ExperimentBatch] | undefined {
  const total = batch.experiments.reduce((n, e) => n + e.results.length, 0);
  if (total < 2) return undefined;
  let left = Math.floor(total / 2);
  const first: ExperimentEntry[] = [];
  const second: ExperimentEntry[] = [];
  for (const e of batch.experiments) {
    const take = Math.min(left, e.results.length);
    left -= take;
    first.push({ ...e, results: e.results.slice(0, take) });
    if (take < e.results.length) second.push({ ...e, calls: 0, skipped: undefined, results: e.results.slice(take) });
  }
  return [
    { ...batch, experiments: first },
    { ...batch, experiments: second },
  ];
}
