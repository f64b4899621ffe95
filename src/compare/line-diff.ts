/**
 * Line alignment of two texts, shared by the compare engine (text bodies) and
 * report.html (side-by-side bodies): the `diff` package's Myers O(ND) diff
 * over the lines, bounded in time and edit length, with each run of removed
 * lines paired in order with the run of added lines next to it ("change").
 */
import { diffArrays } from "diff";

export type LineOp = { readonly kind: "same" | "del" | "add"; readonly text: string } | { readonly kind: "change"; readonly left: string; readonly right: string };

export interface LineDiffLimits {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Give up when more than this many lines must be removed or added. */
  readonly maxEditLength: number;
}

/** Pairs a run of removed lines with the run of added lines beside it; what is left over stays removed or added. */
function pairRun(out: LineOp[], dels: readonly string[], adds: readonly string[]): void {
  const n = Math.max(dels.length, adds.length);
  for (let p = 0; p < n; p++) {
    const left = dels[p];
    const right = adds[p];
    if (left !== undefined && right !== undefined) out.push({ kind: "change", left, right });
    else if (left !== undefined) out.push({ kind: "del", text: left });
    else out.push({ kind: "add", text: right as string });
  }
}

/**
 * Aligns the lines of `a` (legacy) and `b` (candidate). Undefined when the
 * limits were reached: the caller then falls back (`alignByPosition`) or
 * gives up.
 */
export function alignLines(a: readonly string[], b: readonly string[], limits: LineDiffLimits): LineOp[] | undefined {
  const changes = diffArrays(a as string[], b as string[], { timeout: Math.max(0, limits.timeoutMs), maxEditLength: limits.maxEditLength });
  if (!changes) return undefined;
  const out: LineOp[] = [];
  let dels: string[] = [];
  let adds: string[] = [];
  for (const c of changes) {
    if (c.removed) dels = dels.length === 0 ? c.value : dels.concat(c.value);
    else if (c.added) adds = adds.length === 0 ? c.value : adds.concat(c.value);
    else {
      if (dels.length > 0 || adds.length > 0) {
        pairRun(out, dels, adds);
        dels = [];
        adds = [];
      }
      for (const text of c.value) out.push({ kind: "same", text });
    }
  }
  pairRun(out, dels, adds);
  return out;
}

/** Line i against line i: the cheap alignment when a diff would cost too much. */
export function alignByPosition(a: readonly string[], b: readonly string[]): LineOp[] {
  const out: LineOp[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) out.push({ kind: "same", text: x as string });
    else if (x === undefined) out.push({ kind: "add", text: y as string });
    else if (y === undefined) out.push({ kind: "del", text: x });
    else out.push({ kind: "change", left: x, right: y });
  }
  return out;
}
