/**
 * The wire format of experiment results: what a process running experiments
 * sends to a gateway (POST /admin/experiments/results) and what the local
 * store takes. Types and limits only, so the library imports nothing heavy.
 *
 * Values travel as JSON text (not parsed JSON) so that numbers keep their
 * exact digits: the gateway compares the texts with the compare engine, as it
 * compares two HTTP bodies.
 */

/** The version field of a batch; the gateway refuses other versions. */
export const BATCH_VERSION = 1;
/** The largest batch body the gateway reads (413 beyond). */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** The largest value text (one side of one call) the gateway takes; larger ones are skipped by the library. */
export const MAX_VALUE_CHARS = 1024 * 1024;
/** At most this many experiments and results in one batch. */
export const MAX_BATCH_EXPERIMENTS = 1000;
export const MAX_BATCH_RESULTS = 10_000;
/** Experiment names: like route names (letters, digits, `_`, `.`, `-`, starting with a letter or digit). */
export const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** The entry an experiment's results appear under in the report and the admin API. */
export const EXPERIMENT_PREFIX = "experiment:";

/** What an error thrown by `use` or `try` is recorded as. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  /** `err.code` when it is a string or a number (Node's system errors, many libraries). */
  readonly code?: string | number;
}

/**
 * One side of one call: its value as JSON text, the error it threw, or (for
 * `try` and the A/A call only) that it did not settle within the timeout.
 * `ms` is how long it took (to settling, or to the timeout).
 */
export type Outcome =
  | { readonly value: string; readonly ms: number }
  | { readonly error: ErrorInfo; readonly ms: number }
  | { readonly timeout: true; readonly ms: number };

/** One sampled call: both sides, and a second call of `use` when the call was picked for A/A. */
export interface ExperimentResult {
  /** When `use` was called (ms since the epoch). */
  readonly time: number;
  /** The call's `context` as JSON text, stored with mismatch samples. */
  readonly context?: string;
  readonly use: Outcome;
  readonly try: Outcome;
  readonly aa?: Outcome;
}

/** Skipped calls: counted, not compared (the same reasons a route reports). */
export interface ExperimentSkips {
  /** Sampled calls not tried because `maxInflight` tries were running, or dropped because the queue was full. */
  readonly concurrency_limit?: number;
  /** Sampled calls whose value text was over the size limit. */
  readonly body_too_large?: number;
}

/** One experiment's part of a batch. */
export interface ExperimentEntry {
  readonly name: string;
  /** Calls made since the previous batch (sampled or not): the entry's `total`. */
  readonly calls: number;
  readonly skipped?: ExperimentSkips;
  /** The compare rules (the `compare:` block of a route); the gateway validates and compiles them once per name. */
  readonly compare?: unknown;
  /** JSONPath patterns of values hidden in stored samples (a route's `shadow.redact`). */
  readonly redact?: readonly string[];
  readonly results: readonly ExperimentResult[];
}

export interface ExperimentBatch {
  readonly version: typeof BATCH_VERSION;
  /** Who sent it (host and process id), for the gateway's log. */
  readonly source?: string;
  readonly experiments: readonly ExperimentEntry[];
}
