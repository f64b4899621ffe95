/**
 * The JSONPath subset compare rules and redaction paths use: `$`, `.name`,
 * `['name']`, `[3]`, `[*]` / `.*`, and `..name` / `..*` (any depth). Patterns
 * compile to steps; a walk keeps the set of partially matched patterns and
 * advances it one path segment at a time, so a comparison without rules does
 * no path work at all, and paths are only formatted for reported differences.
 *
 * In core, not in compare: the config schema checks patterns with
 * compileJsonPath, and src/config never imports src/compare.
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

/** The most steps a pattern may have (a matcher state packs a step into 8 bits; real paths have a handful). */
export const MAX_PATH_STEPS = 64;

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
    if (steps.length > MAX_PATH_STEPS) throw new JsonPathError(`a path may have at most ${MAX_PATH_STEPS} steps, ${JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 77)}...` : pattern)} has more`);
  }
  return steps;
}

function selects(sel: Selector, seg: Segment): boolean {
  if ("any" in sel) return true;
  if ("key" in sel) return typeof seg === "string" && seg === sel.key;
  return typeof seg === "number" && seg === sel.index;
}

/**
 * A state of the matcher: which patterns are partially matched, and how far.
 * States are interned, and their transitions cached, so walking a document
 * costs one map lookup per node.
 */
export interface MatchState<T> {
  /** Pattern × 256 + step, sorted. */
  readonly items: readonly number[];
  /** The payloads of patterns that end exactly here. */
  readonly matched: readonly T[] | undefined;
  readonly next: Map<string, MatchState<T>>;
}

/** A set of compiled patterns, each with a payload (the rule it belongs to), matched as a lazily built DFA. */
export class PathSet<T> {
  readonly patterns: readonly Step[][];
  readonly payloads: readonly T[];
  private readonly states = new Map<string, MatchState<T>>();
  /** Keys and indices some pattern names: every other key (or index) behaves the same. */
  private readonly namedKeys = new Set<string>();
  private readonly namedIndices = new Set<number>();
  readonly dead: MatchState<T>;
  readonly start: MatchState<T>;

  constructor(entries: readonly (readonly [Step[], T])[]) {
    // A state item is pattern × 256 + step: a step past 255 would read as the next pattern's.
    for (const [steps] of entries) if (steps.length > MAX_PATH_STEPS) throw new JsonPathError(`a path may have at most ${MAX_PATH_STEPS} steps, got ${steps.length}`);
    this.patterns = entries.map((e) => e[0]);
    this.payloads = entries.map((e) => e[1]);
    for (const steps of this.patterns) {
      for (const st of steps) {
        if ("key" in st.sel) this.namedKeys.add(st.sel.key);
        else if ("index" in st.sel) this.namedIndices.add(st.sel.index);
      }
    }
    this.dead = this.intern([]);
    this.start = this.intern(this.patterns.map((_, p) => p * 256));
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  private intern(items: number[]): MatchState<T> {
    const key = items.join(",");
    let st = this.states.get(key);
    if (!st) {
      let matched: T[] | undefined;
      for (const it of items) {
        const p = it >> 8;
        if ((it & 255) === (this.patterns[p] as Step[]).length) (matched ??= []).push(this.payloads[p] as T);
      }
      st = { items, matched, next: new Map() };
      this.states.set(key, st);
    }
    return st;
  }

  /** The state after descending into `seg`. */
  advance(state: MatchState<T>, seg: Segment): MatchState<T> {
    if (state === this.dead) return state;
    // Segments that no pattern names are interchangeable: one cache entry serves them all.
    const cls =
      typeof seg === "string" ? (this.namedKeys.has(seg) ? `k:${seg}` : "k") : typeof seg === "number" ? (this.namedIndices.has(seg) ? `i:${seg}` : "i") : "x";
    let nxt = state.next.get(cls);
    if (nxt) return nxt;
    const out: number[] = [];
    for (const s of state.items) {
      const steps = this.patterns[s >> 8] as Step[];
      const step = steps[s & 255];
      if (!step) continue;
      if (selects(step.sel, seg) && !out.includes(s + 1)) out.push(s + 1);
      if (step.descendant && !out.includes(s)) out.push(s);
    }
    out.sort((x, y) => x - y);
    nxt = this.intern(out);
    state.next.set(cls, nxt);
    return nxt;
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
