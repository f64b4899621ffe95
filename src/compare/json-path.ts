/**
 * The JSONPath subset compare rules use: `$`, `.name`, `['name']`, `[3]`,
 * `[*]` / `.*`, and `..name` / `..*` (any depth). Patterns compile to steps;
 * a walk keeps the set of partially matched patterns and advances it one path
 * segment at a time, so a comparison without rules does no path work at all,
 * and paths are only formatted for reported differences.
 */

export type Selector = { readonly any: true } | { readonly key: string } | { readonly index: number };

export interface Step {
  /** True for `..`: the selector may match at any depth below. */
  readonly descendant: boolean;
  readonly sel: Selector;
}

/** A segment of a concrete path: an object key, an array index, or a keyed array element. */
export type Segment = string | number | KeyedSegment;

export class KeyedSegment {
  constructor(
    readonly field: string,
    readonly value: string,
  ) {}
}

export class JsonPathError extends Error {}

const NAME = /^[^.[\]\s'"]+/;

/** Compiles a pattern; throws JsonPathError with the position of the problem. */
export function compileJsonPath(pattern: string): Step[] {
  if (!pattern.startsWith("$")) throw new JsonPathError(`a path must start with "$", got ${JSON.stringify(pattern)}`);
  const steps: Step[] = [];
  let i = 1;
  while (i < pattern.length) {
    let descendant = false;
    if (pattern.startsWith("..", i)) {
      descendant = true;
      i += 2;
    } else if (pattern[i] === ".") i += 1;
    else if (pattern[i] !== "[") throw new JsonPathError(`unexpected ${JSON.stringify(pattern[i])} at position ${i} of ${JSON.stringify(pattern)}`);
    if (pattern[i] === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) throw new JsonPathError(`unclosed "[" at position ${i} of ${JSON.stringify(pattern)}`);
      const inner = pattern.slice(i + 1, end).trim();
      let sel: Selector;
      if (inner === "*") sel = { any: true };
      else if (/^\d+$/.test(inner)) sel = { index: Number(inner) };
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) sel = { key: inner.slice(1, -1) };
      else throw new JsonPathError(`unsupported selector [${inner}] in ${JSON.stringify(pattern)}; use [*], [N] or ['name']`);
      steps.push({ descendant, sel });
      i = end + 1;
    } else if (pattern[i] === "*") {
      steps.push({ descendant, sel: { any: true } });
      i += 1;
    } else {
      const m = NAME.exec(pattern.slice(i));
      if (!m) throw new JsonPathError(`expected a name at position ${i} of ${JSON.stringify(pattern)}`);
      steps.push({ descendant, sel: { key: m[0] } });
      i += m[0].length;
    }
  }
  return steps;
}

function selects(sel: Selector, seg: Segment): boolean {
  if ("any" in sel) return true;
  if ("key" in sel) return typeof seg === "string" && seg === sel.key;
  return typeof seg === "number" && seg === sel.index;
}

/** A set of compiled patterns, each with a payload (the rule it belongs to). */
export class PathSet<T> {
  readonly patterns: readonly Step[][];
  readonly payloads: readonly T[];

  constructor(entries: readonly (readonly [Step[], T])[]) {
    this.patterns = entries.map((e) => e[0]);
    this.payloads = entries.map((e) => e[1]);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Match states at the root: every pattern at step 0, encoded as pattern × 256 + step. */
  root(): number[] {
    return this.patterns.map((_, p) => p * 256);
  }

  /** The states after descending into `seg`. */
  advance(states: readonly number[], seg: Segment): number[] {
    if (states.length === 0) return states as number[];
    const out: number[] = [];
    for (const s of states) {
      const p = s >> 8;
      const i = s & 255;
      const steps = this.patterns[p] as Step[];
      const step = steps[i];
      if (!step) continue;
      if (selects(step.sel, seg) && !out.includes(s + 1)) out.push(s + 1);
      if (step.descendant && !out.includes(s)) out.push(s);
    }
    return out;
  }

  /** The payloads of the patterns that end at this node. */
  matched(states: readonly number[]): T[] | undefined {
    let out: T[] | undefined;
    for (const s of states) {
      const p = s >> 8;
      if ((s & 255) === (this.patterns[p] as Step[]).length) (out ??= []).push(this.payloads[p] as T);
    }
    return out;
  }
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Formats a concrete path: $.items[3].name, $['odd key'], $.items[id=7]. */
export function formatPath(path: readonly Segment[]): string {
  let out = "$";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (seg instanceof KeyedSegment) out += `[${seg.field}=${seg.value}]`;
    else out += SIMPLE_KEY.test(seg) ? `.${seg}` : `['${seg.replace(/'/g, "\\'")}']`;
  }
  return out;
}
