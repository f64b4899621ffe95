/**
 * RegoError: every error the Rego engine raises (syntax, compile, evaluation,
 * budget). `code` is Ficus's (FICUS_POLICY_*), `regoCode` is OPA's
 * (rego_parse_error, eval_conflict_error, ...), and the message is formatted as
 * OPA prints it, so OPA's conformance cases can match it as a substring.
 */
import { FicusError, type ErrorCode } from "../../../core/errors.ts";

export interface RegoErrorDetail {
  readonly regoCode: string;
  readonly message: string;
  readonly text: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** `<file>:<line>[:<col>]: <code>: <text>` as OPA prints errors. */
export function formatRegoMessage(regoCode: string, text: string, pos?: Partial<Position>, withCol = false): string {
  if (pos?.file === undefined || pos.line === undefined) return `${regoCode}: ${text}`;
  const where = withCol && pos.col !== undefined ? `${pos.file}:${pos.line}:${pos.col}` : `${pos.file}:${pos.line}`;
  return `${where}: ${regoCode}: ${text}`;
}

export class RegoError extends FicusError {
  readonly regoCode: string;
  /** The message without its location and code prefix. */
  readonly text: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly errors: readonly RegoErrorDetail[];

  constructor(ficusCode: ErrorCode, regoCode: string, text: string, pos?: Partial<Position>, errors?: readonly RegoErrorDetail[]) {
    const withCol = ficusCode === "FICUS_POLICY_SYNTAX";
    const message = formatRegoMessage(regoCode, text, pos, withCol);
    super(ficusCode, message);
    this.name = "RegoError";
    this.regoCode = regoCode;
    this.text = text;
    if (pos?.file !== undefined) this.file = pos.file;
    if (pos?.line !== undefined) this.line = pos.line;
    if (pos?.col !== undefined) this.col = pos.col;
    this.errors = errors ?? [this.detail()];
  }

  /** Ficus's code (FICUS_POLICY_SYNTAX / _COMPILE / _EVAL / _BUDGET); the same as `code`. */
  get ficusCode(): ErrorCode {
    return this.code;
  }

  detail(): RegoErrorDetail {
    const d: { -readonly [K in keyof RegoErrorDetail]: RegoErrorDetail[K] } = { regoCode: this.regoCode, message: this.message, text: this.text };
    if (this.file !== undefined) d.file = this.file;
    if (this.line !== undefined) d.line = this.line;
    if (this.col !== undefined) d.col = this.col;
    return d;
  }

  /** One error standing for several found in the same pass (the first one's fields, all in `errors`). */
  static combine(list: readonly RegoError[]): RegoError {
    const first = list[0] as RegoError;
    if (list.length === 1) return first;
    const details = list.map((e) => e.detail());
    const err = new RegoError(first.code, first.regoCode, first.text, first, details);
    Object.defineProperty(err, "message", { value: list.map((e) => e.message).join("\n"), enumerable: false });
    return err;
  }
}

export function syntaxError(text: string, pos: Position): RegoError {
  return new RegoError("FICUS_POLICY_SYNTAX", "rego_parse_error", text, pos);
}

export function compileError(regoCode: string, text: string, pos?: Partial<Position>): RegoError {
  return new RegoError("FICUS_POLICY_COMPILE", regoCode, text, pos);
}

export function evalError(regoCode: string, text: string, pos?: Partial<Position>): RegoError {
  return new RegoError("FICUS_POLICY_EVAL", regoCode, text, pos);
}

export function budgetError(text: string): RegoError {
  return new RegoError("FICUS_POLICY_BUDGET", "eval_budget_error", text);
}
