/**
 * `ficus/experiment/local`: experiment results judged in the calling process
 * and merged into a local SQLite store (the store a gateway keeps in
 * `store.path`), for programs that run without a gateway. Bun only: it uses
 * bun:sqlite. Under Node, publish to a gateway instead (the default).
 *
 *   import { experiment } from "ficus/experiment";
 *   import { localStore } from "ficus/experiment/local";
 *   experiment.configure({ publish: localStore({ path: ".ficus/results.db" }) });
 *
 * A gateway whose `store.path` is the same file reports the entries
 * (`ficus report`, GET /admin/migrations) as `experiment:NAME`.
 */
import { DEFAULT_REDACT, type RedactSettings } from "../migration/redact.ts";
import { SqliteStore } from "../migration/store.ts";
import { ExperimentJudge, ingestBatch, parseBatch } from "./ingest.ts";
import { PublishError, type Publisher } from "./publisher.ts";

export interface LocalStoreOptions {
  /** The SQLite file (created with its folder), or ":memory:". */
  readonly path: string;
  /** Sample pairs kept per mismatch signature (store.samples_per_signature). Default 5. */
  readonly samplesPerSignature?: number;
  /** Signatures not seen for this long are deleted, ms (store.retention). Default 7 days. */
  readonly retention?: number;
  /** What is hidden in samples (the top-level `redact:` block of ficus.yaml). Default: the built-in words. */
  readonly redact?: RedactSettings;
}

/** A publisher that judges batches here and writes them to the SQLite store at `path`. */
export function localStore(o: LocalStoreOptions): Publisher & { readonly store: () => SqliteStore } {
  const samples = o.samplesPerSignature ?? 5;
  const judge = new ExperimentJudge();
  let store: SqliteStore | undefined;
  const open = () => {
    store ??= new SqliteStore(o.path, samples, o.retention ?? 7 * 86_400_000);
    return store;
  };
  return {
    store: open,
    async publish(batch) {
      let valid: typeof batch;
      try {
        // The batch comes from this process, but its compare rules come from the caller's options.
        valid = parseBatch(batch);
      } catch (err) {
        throw new PublishError((err as Error).message, "rejected", "FICUS_BAD_REQUEST");
      }
      try {
        await ingestBatch(judge, valid, open(), samples, o.redact ?? DEFAULT_REDACT);
      } catch (err) {
        throw new PublishError(`cannot write experiment results to ${o.path}: ${(err as Error).message}`, "unreachable");
      }
    },
    async close() {
      await store?.close();
      store = undefined;
    },
  };
}
