/**
 * Endpoint discovery for observe mode (issue 14): concrete request paths become
 * templates (`/orders/123`, `/orders/987` → `/orders/{id}`).
 *
 * Three sources, in order of precedence: the operator's overrides
 * (`/users/{user}/repos/{repo}`, optionally `GET /search/{q}`), the router's
 * templates (`/orders/:id`, `/files/*`), and what is learned online. Learning
 * keeps a trie of path positions: a segment that looks like an identifier
 * (see `segments.ts`) goes to the position's parameter; a word is kept as a
 * literal until its position has seen more than `maxDistinct` of them, and then
 * the position collapses into a parameter, literals and subtrees folded in.
 *
 * Memory is bounded: at most `maxDistinct` literals per position, `maxNodes`
 * positions and `maxTemplates` templates; past a cap (or a path longer than
 * `maxPathLength` or deeper than `maxSegments`) a path's template is
 * `(other)`. A learner's state is a JSON snapshot; snapshots merge (the union
 * of the tries, collapsed again where the union is too wide), and `canonical`
 * maps a template learned earlier or elsewhere to its current form, so that
 * per-endpoint profiles from several workers can be keyed alike.
 */
import { FicusError } from "../core/errors.ts";
import { idKind } from "./segments.ts";

/** The template of every path past a cap. */
export const OTHER = "(other)";
/** The parameter a learned position becomes. */
export const PARAM = "{id}";

export interface TemplateOptions {
  /** Templates learned at most; past it new shapes are `(other)`. Default 1000. */
  readonly maxTemplates?: number;
  /** Distinct literal values a position keeps; one more collapses it into a parameter. Default 64. */
  readonly maxDistinct?: number;
  /** Trie positions at most (bounds memory however deep the paths). Default 8 × maxTemplates. */
  readonly maxNodes?: number;
  /** Longer paths (query excluded) are `(other)`. Default 2048. */
  readonly maxPathLength?: number;
  /** Paths with more segments are `(other)`. Default 32. */
  readonly maxSegments?: number;
  /** Operator templates, first precedence: `/users/{user}/repos/{repo}`, `GET /search/{q}`, `/files/*`. */
  readonly overrides?: readonly string[];
  /** The router's templates (`/orders/:id`, `/files/*`), optionally for some methods only. */
  readonly routes?: readonly (string | { readonly template: string; readonly methods?: readonly string[] })[];
  /** A snapshot to start from (the merged state of the fleet). */
  readonly seed?: TemplatesSnapshot;
}

/** One trie position, serialized: whether a template ends here, whether it collapsed, its literals and its parameter. */
export interface TrieState {
  end?: true;
  collapsed?: true;
  lits?: [string, TrieState][];
  param?: TrieState;
}

/** Paths sent to `(other)`, by reason. */
export interface OverflowCounts {
  templates: number;
  nodes: number;
  length: number;
  segments: number;
}

/** A learner's state: JSON, mergeable across workers and instances. */
export interface TemplatesSnapshot {
  readonly version: 1;
  readonly maxDistinct: number;
  readonly maxTemplates: number;
  readonly root: TrieState;
  readonly overflow: OverflowCounts;
}

const DEFAULTS = { maxTemplates: 1000, maxDistinct: 64, maxPathLength: 2048, maxSegments: 32 } as const;

class Node {
  lits: Map<string, Node> | undefined = undefined;
  param: Node | undefined = undefined;
  collapsed = false;
  end = false;
  /** The template of paths ending here (set when `end`). */
  template: string | undefined = undefined;
}

interface Pattern {
  readonly template: string;
  readonly methods: ReadonlySet<string> | undefined;
}

class PatternNode {
  readonly lits = new Map<string, PatternNode>();
  param: PatternNode | undefined = undefined;
  readonly end: Pattern[] = [];
  readonly rest: Pattern[] = [];
}

const isParamText = (s: string) => s.length > 2 && s.charCodeAt(0) === 123 && s.charCodeAt(s.length - 1) === 125;

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new FicusError("FICUS_CONFIG_INVALID", `observe templates: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

export class TemplateLearner {
  readonly maxTemplates: number;
  readonly maxDistinct: number;
  readonly maxNodes: number;
  readonly maxPathLength: number;
  readonly maxSegments: number;
  private root = new Node();
  private readonly overrides: PatternNode | undefined;
  private readonly routes: PatternNode | undefined;
  private templates = 0;
  private nodes = 1;
  private readonly overflowCounts: OverflowCounts = { templates: 0, nodes: 0, length: 0, segments: 0 };
  /** The current path's segments and, per segment, whether it went to a parameter (reused: no allocation per call). */
  private readonly segs: string[] = [];
  private readonly asParam: Uint8Array;
  private count = 0;

  constructor(opts: TemplateOptions = {}) {
    this.maxTemplates = positiveInt("maxTemplates", opts.maxTemplates, DEFAULTS.maxTemplates);
    this.maxDistinct = positiveInt("maxDistinct", opts.maxDistinct, DEFAULTS.maxDistinct);
    this.maxNodes = positiveInt("maxNodes", opts.maxNodes, this.maxTemplates * 8);
    this.maxPathLength = positiveInt("maxPathLength", opts.maxPathLength, DEFAULTS.maxPathLength);
    this.maxSegments = positiveInt("maxSegments", opts.maxSegments, DEFAULTS.maxSegments);
    this.asParam = new Uint8Array(this.maxSegments);
    this.overrides = patterns(opts.overrides ?? [], "overrides");
    this.routes = patterns(
      (opts.routes ?? []).map((r) => (typeof r === "string" ? r : r.methods && r.methods.length > 0 ? `${r.methods.join(",")} ${r.template}` : r.template)),
      "routes",
    );
    if (opts.seed) this.absorb(opts.seed);
  }

  /**
   * The template of one request, learning from it. On the request path:
   * O(segments), and for a known shape no allocation but the segment strings.
   */
  templateOf(method: string, path: string): string {
    const split = this.split(path);
    if (split !== undefined) return split;
    const fixed = this.matchPatterns(method);
    if (fixed !== undefined) return fixed;
    return this.walk(true) ?? OTHER;
  }

  /** The template a path (or an older template) has now, without learning; `undefined` when the learner does not know its shape. */
  lookup(method: string, path: string): string | undefined {
    if (path === OTHER) return OTHER;
    const split = this.split(path, false);
    if (split !== undefined) return split;
    return this.matchPatterns(method) ?? this.walk(false);
  }

  /** A template learned earlier or by another worker, in its current form (itself when unknown). */
  canonical(method: string, template: string): string {
    return this.lookup(method, template) ?? template;
  }

  /** Every learned template, sorted. */
  list(): string[] {
    return listTemplates(this.snapshot());
  }

  /** Counts for monitoring the caps. */
  stats(): { templates: number; nodes: number; overflow: OverflowCounts } {
    return { templates: this.templates, nodes: this.nodes, overflow: { ...this.overflowCounts } };
  }

  /** The learned state as JSON (the overrides and routes are configuration, not state). */
  snapshot(): TemplatesSnapshot {
    return { version: 1, maxDistinct: this.maxDistinct, maxTemplates: this.maxTemplates, root: toState(this.root), overflow: { ...this.overflowCounts } };
  }

  /** Folds a snapshot (another worker's, or the merged one) into this learner. */
  absorb(s: TemplatesSnapshot): void {
    this.mergeNode(this.root, fromState(s.root, 0, this.maxSegments));
    for (const k of Object.keys(this.overflowCounts) as (keyof OverflowCounts)[]) this.overflowCounts[k] += s.overflow[k];
    this.renumber();
  }

  /** The snapshot of the union of two learners' inputs (limits of `a`, collapsed again where the union is too wide). */
  static merge(a: TemplatesSnapshot, b: TemplatesSnapshot): TemplatesSnapshot {
    const l = new TemplateLearner({ maxDistinct: a.maxDistinct, maxTemplates: a.maxTemplates, maxNodes: Number.MAX_SAFE_INTEGER });
    l.absorb(a);
    l.absorb(b);
    return l.snapshot();
  }

  /** Splits `path` into `this.segs`; returns `(other)` when it is past a limit. */
  private split(path: string, count = true): string | undefined {
    let end = path.length;
    const q = path.indexOf("?");
    if (q >= 0) end = q;
    const h = path.indexOf("#");
    if (h >= 0 && h < end) end = h;
    if (end > this.maxPathLength) {
      if (count) this.overflowCounts.length++;
      return OTHER;
    }
    let n = 0;
    let start = 0;
    while (start < end) {
      let slash = path.indexOf("/", start);
      if (slash < 0 || slash > end) slash = end;
      if (slash > start) {
        if (n === this.maxSegments) {
          if (count) this.overflowCounts.segments++;
          return OTHER;
        }
        this.segs[n++] = path.slice(start, slash);
      }
      start = slash + 1;
    }
    this.count = n;
    return undefined;
  }

  private matchPatterns(method: string): string | undefined {
    if (this.overrides) {
      const p = this.matchFrom(this.overrides, 0, method);
      if (p) return p.template;
    }
    if (this.routes) {
      const p = this.matchFrom(this.routes, 0, method);
      if (p) return p.template;
    }
    return undefined;
  }

  /** Literal beats parameter beats trailing `*`, backtracking like the router. */
  private matchFrom(node: PatternNode, i: number, method: string): Pattern | undefined {
    if (i === this.count) return pick(node.end, method) ?? pick(node.rest, method);
    const seg = this.segs[i] as string;
    const lit = node.lits.get(seg);
    if (lit) {
      const p = this.matchFrom(lit, i + 1, method);
      if (p) return p;
    }
    if (node.param) {
      const p = this.matchFrom(node.param, i + 1, method);
      if (p) return p;
    }
    return pick(node.rest, method);
  }

  /** Walks (and when `learn`, grows) the learned trie along `this.segs`. */
  private walk(learn: boolean): string | undefined {
    let node = this.root;
    const n = this.count;
    for (let i = 0; i < n; i++) {
      const seg = this.segs[i] as string;
      const lit = node.lits?.get(seg);
      if (lit) {
        node = lit;
        this.asParam[i] = 0;
        continue;
      }
      let toParam = node.collapsed || isParamText(seg) || idKind(seg) !== undefined;
      if (!toParam) {
        if (!learn) return undefined;
        if ((node.lits?.size ?? 0) >= this.maxDistinct) {
          this.collapse(node);
          toParam = true;
        }
      }
      if (toParam) {
        if (!node.param) {
          if (!learn) return undefined;
          if (this.nodes >= this.maxNodes) {
            this.overflowCounts.nodes++;
            return undefined;
          }
          node.param = new Node();
          this.nodes++;
        }
        node = node.param;
        this.asParam[i] = 1;
        continue;
      }
      if (this.nodes >= this.maxNodes) {
        this.overflowCounts.nodes++;
        return undefined;
      }
      const next = new Node();
      this.nodes++;
      node.lits ??= new Map();
      node.lits.set(seg, next);
      node = next;
      this.asParam[i] = 0;
    }
    if (node.end) return node.template;
    if (!learn) return undefined;
    if (this.templates >= this.maxTemplates) {
      this.overflowCounts.templates++;
      return undefined;
    }
    let t = "";
    for (let i = 0; i < n; i++) t += this.asParam[i] === 1 ? `/${PARAM}` : `/${this.segs[i]}`;
    node.end = true;
    node.template = t === "" ? "/" : t;
    this.templates++;
    return node.template;
  }

  /** Turns a position into a parameter: its literals (with their subtrees) fold into it, then templates are renamed. */
  private collapse(node: Node): void {
    this.foldLiterals(node);
    this.renumber();
  }

  private foldLiterals(node: Node): void {
    node.collapsed = true;
    const lits = node.lits;
    node.lits = undefined;
    if (!lits) return;
    for (const child of lits.values()) {
      if (node.param) this.mergeNode(node.param, child);
      else node.param = child;
    }
  }

  /** Folds `src` into `dst` (the union of two subtrees), collapsing positions that become too wide. */
  private mergeNode(dst: Node, src: Node): void {
    if (src.end) dst.end = true;
    if (src.collapsed && !dst.collapsed) this.foldLiterals(dst);
    if (src.param) {
      if (dst.param) this.mergeNode(dst.param, src.param);
      else dst.param = src.param;
    }
    if (src.lits) {
      for (const [k, c] of src.lits) {
        if (dst.collapsed) {
          if (dst.param) this.mergeNode(dst.param, c);
          else dst.param = c;
          continue;
        }
        dst.lits ??= new Map();
        const mine = dst.lits.get(k);
        if (mine) this.mergeNode(mine, c);
        else dst.lits.set(k, c);
      }
    }
    if (dst.lits && dst.lits.size > this.maxDistinct) this.foldLiterals(dst);
  }

  /** Recomputes every template string and the counts, then enforces the template cap (widest positions collapse first). */
  private renumber(): void {
    for (;;) {
      let templates = 0;
      let nodes = 0;
      let widest: Node | undefined;
      const visit = (node: Node, prefix: string) => {
        nodes++;
        if (node.end) {
          templates++;
          node.template = prefix === "" ? "/" : prefix;
        }
        if (node.lits) {
          if (node.lits.size >= 2 && (!widest || node.lits.size > (widest.lits?.size ?? 0))) widest = node;
          for (const [k, c] of node.lits) visit(c, `${prefix}/${k}`);
        }
        if (node.param) visit(node.param, `${prefix}/${PARAM}`);
      };
      visit(this.root, "");
      this.templates = templates;
      this.nodes = nodes;
      if (templates <= this.maxTemplates) return;
      if (widest) {
        this.foldLiterals(widest);
        continue;
      }
      // No position left to collapse: keep the first templates in trie order.
      let keep = this.maxTemplates;
      const trim = (node: Node) => {
        if (node.end) {
          if (keep > 0) keep--;
          else {
            node.end = false;
            node.template = undefined;
          }
        }
        if (node.lits) for (const c of node.lits.values()) trim(c);
        if (node.param) trim(node.param);
      };
      trim(this.root);
    }
  }
}

/** Every template a snapshot holds, sorted. */
export function listTemplates(s: TemplatesSnapshot): string[] {
  const out: string[] = [];
  const visit = (st: TrieState, prefix: string) => {
    if (st.end) out.push(prefix === "" ? "/" : prefix);
    for (const [k, c] of st.lits ?? []) visit(c, `${prefix}/${k}`);
    if (st.param) visit(st.param, `${prefix}/${PARAM}`);
  };
  visit(s.root, "");
  return out.sort();
}

/** Does `template` (learned or configured: `{name}`, `:name`, trailing `*`) match the concrete `path`? */
export function templateMatches(template: string, path: string): boolean {
  if (template === OTHER) return true;
  const t = template.split("/").filter((s) => s !== "");
  let end = path.length;
  for (const c of ["?", "#"]) {
    const i = path.indexOf(c);
    if (i >= 0 && i < end) end = i;
  }
  const p = path.slice(0, end).split("/").filter((s) => s !== "");
  const rest = t[t.length - 1] === "*";
  const fixed = rest ? t.length - 1 : t.length;
  if (rest ? p.length < fixed : p.length !== fixed) return false;
  for (let i = 0; i < fixed; i++) {
    const s = t[i] as string;
    if (!(isParamText(s) || (s.startsWith(":") && s.length > 1) || s === p[i])) return false;
  }
  return true;
}

function toState(n: Node): TrieState {
  const s: TrieState = {};
  if (n.end) s.end = true;
  if (n.collapsed) s.collapsed = true;
  if (n.lits && n.lits.size > 0) s.lits = [...n.lits].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, c]) => [k, toState(c)]);
  if (n.param) s.param = toState(n.param);
  return s;
}

function fromState(s: TrieState, depth: number, maxDepth: number): Node {
  const n = new Node();
  n.end = s.end === true;
  n.collapsed = s.collapsed === true;
  if (depth >= maxDepth) return n;
  if (s.lits && s.lits.length > 0) {
    n.lits = new Map();
    for (const [k, c] of s.lits) n.lits.set(k, fromState(c, depth + 1, maxDepth));
  }
  if (s.param) n.param = fromState(s.param, depth + 1, maxDepth);
  return n;
}

function pick(list: readonly Pattern[], method: string): Pattern | undefined {
  for (const p of list) if (!p.methods || p.methods.has(method.toUpperCase())) return p;
  return undefined;
}

const METHOD_LIST = /^[A-Za-z]+(,[A-Za-z]+)*$/;

/** Parses configured templates into a matcher trie; `undefined` when there are none. */
function patterns(list: readonly string[], option: string): PatternNode | undefined {
  if (list.length === 0) return undefined;
  const root = new PatternNode();
  for (const raw of list) {
    const text = raw.trim();
    const space = text.indexOf(" ");
    let methods: Set<string> | undefined;
    let path = text;
    if (space > 0) {
      const m = text.slice(0, space);
      if (!METHOD_LIST.test(m)) throw new FicusError("FICUS_CONFIG_INVALID", `observe templates: ${option} entry "${raw}" must be "/path" or "METHOD /path"`);
      methods = new Set(m.toUpperCase().split(","));
      path = text.slice(space + 1).trim();
    }
    if (!path.startsWith("/")) throw new FicusError("FICUS_CONFIG_INVALID", `observe templates: ${option} entry "${raw}" must start with "/"`);
    const segs = path.split("/").filter((s) => s !== "");
    const out: string[] = [];
    let node = root;
    let rest = false;
    segs.forEach((s, i) => {
      if (s === "*") {
        if (i !== segs.length - 1) throw new FicusError("FICUS_CONFIG_INVALID", `observe templates: ${option} entry "${raw}" may use "*" only as its last segment`);
        rest = true;
        out.push("*");
        return;
      }
      const name = s.startsWith(":") ? s.slice(1) : isParamText(s) ? s.slice(1, -1) : undefined;
      if (name !== undefined) {
        if (name === "" || /[{}/]/.test(name)) throw new FicusError("FICUS_CONFIG_INVALID", `observe templates: ${option} entry "${raw}" has an empty or invalid parameter name`);
        node.param ??= new PatternNode();
        node = node.param;
        out.push(`{${name}}`);
        return;
      }
      if (s.includes("{") || s.includes("}")) throw new FicusError("FICUS_CONFIG_INVALID", `observe templates: ${option} entry "${raw}": a parameter must be a whole segment ("{name}" or ":name")`);
      let next = node.lits.get(s);
      if (!next) {
        next = new PatternNode();
        node.lits.set(s, next);
      }
      node = next;
      out.push(s);
    });
    const p: Pattern = { template: out.length === 0 ? "/" : `/${out.join("/")}`, methods };
    const list2 = rest ? node.rest : node.end;
    // Method-specific patterns are tried before ones for any method; otherwise the first configured wins.
    const at = methods ? list2.findIndex((x) => !x.methods) : -1;
    if (at >= 0) list2.splice(at, 0, p);
    else list2.push(p);
  }
  return root;
}
