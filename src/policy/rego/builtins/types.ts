/**
 * The contract between the evaluator and the built-in functions. Each family
 * file (strings.ts, time.ts, …) exports a `readonly BuiltinDef[]`; index.ts
 * assembles them into one table. See ../README.md ("Built-ins").
 */
import { typeName, type Value } from "../value.ts";

/** What a built-in may use of the evaluation calling it. */
export interface BuiltinContext {
  /** Strict built-in errors (OPA's `strict_error` / `--strict-builtin-errors`). */
  readonly strict: boolean;
  /** Nanoseconds since the epoch, read once per evaluation (every `time.now_ns()` in it agrees). */
  readonly nowNs: bigint;
  /** Where `print(...)` output goes (captured in library use). */
  print(line: string): void;
  /**
   * Per-policy cache for work that depends only on arguments (compiled
   * regexes, glob patterns, parsed keys). Key it by built-in name and argument.
   * Bounded (a BuiltinCache): arguments can come from input, so the oldest
   * entries make room for new ones.
   */
  readonly cache: Map<string, unknown>;
  /**
   * Per-evaluation memo for nondeterministic built-ins whose answer must be
   * stable within one decision and only there (uuid.rfc4122, rand.intn).
   */
  readonly evalMemo: Map<string, Value>;
  /** Charges work to the evaluation's step budget; throws FICUS_POLICY_BUDGET once it is spent. */
  charge(steps: number): void;
}

/** A function: one output, or `undefined` for "no result". */
export type BuiltinFunction = (args: readonly Value[], ctx: BuiltinContext) => Value | undefined;

/** A relation (e.g. `walk`): every output, in order. */
export type BuiltinRelation = (args: readonly Value[], ctx: BuiltinContext) => Iterable<Value>;

export type BuiltinDef =
  | {
      readonly name: string;
      /** Number of arguments (the output is not counted). */
      readonly arity: number;
      /** Declared operand types for compile-time checks, e.g. ["string", "any"]; optional. */
      readonly args?: readonly string[];
      readonly fn: BuiltinFunction;
      readonly relation?: false;
      /** Results vary between calls with the same arguments (time.now_ns, uuid.rfc4122, rand). */
      readonly nondeterministic?: boolean;
    }
  | {
      readonly name: string;
      readonly arity: number;
      readonly args?: readonly string[];
      readonly fn: BuiltinRelation;
      readonly relation: true;
      readonly nondeterministic?: boolean;
    };

export type BuiltinErrorCode = "eval_type_error" | "eval_builtin_error";

/** Thrown by a built-in; the evaluator adds the call's location. */
export class BuiltinError extends Error {
  constructor(
    readonly code: BuiltinErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "BuiltinError";
  }
}

/**
 * OPA's operand type error: `"<name>: operand <position> must be <expected> but got <type>"`.
 * `expected` as OPA words it: "string", "object", "one of {array, set}", …
 */
export function operandError(name: string, position: number, expected: string, got: Value): BuiltinError {
  return new BuiltinError("eval_type_error", `${name}: operand ${position} must be ${expected} but got ${typeName(got)}`);
}

/** Any other failure of a built-in: `"<name>: <message>"`. */
export function builtinError(name: string, message: string): BuiltinError {
  return new BuiltinError("eval_builtin_error", `${name}: ${message}`);
}

/** The policy-wide built-in cache: a Map that forgets its oldest entry once it holds `limit`. */
export class BuiltinCache extends Map<string, unknown> {
  constructor(private readonly limit = 1024) {
    super();
  }

  override set(key: string, value: unknown): this {
    if (this.size >= this.limit && !this.has(key)) this.delete(this.keys().next().value as string);
    return super.set(key, value);
  }
}
