/**
 * The strangler router: picks the route for a request in time that depends on
 * the number of path segments, not on the number of routes.
 *
 * Precedence (most specific wins), documented in docs/routing.md:
 *  1. Host: exact host, then wildcard hosts (longest suffix first), then routes without a host.
 *  2. Path, within one host class: exact path, then templates (segment by segment,
 *     a static segment beats ":param", which beats "*"), then prefixes (longest first).
 *  3. Same path: routes with more conditions (methods + headers) first, then file order.
 * A route whose methods or header conditions fail is skipped and the next most
 * specific one is tried.
 */

export interface HeaderCondition {
  readonly name: string;
  /** A string must equal the header value; true means present; false means absent. */
  readonly value: string | boolean;
}

export interface RouteMatcher {
  readonly host?: string | undefined;
  readonly path?: string | undefined;
  readonly prefix?: string | undefined;
  readonly methods?: readonly string[] | undefined;
  readonly headers?: readonly HeaderCondition[] | undefined;
}

export interface RouterEntry<T> {
  readonly value: T;
  readonly match: RouteMatcher;
  /** File order, the last tie-breaker. */
  readonly order: number;
}

export interface RouteMatch<T> {
  readonly value: T;
  /** Template parameters (":name" → value, "*" → the rest of the path); empty for exact/prefix routes. */
  readonly params: Record<string, string>;
}

/** What the router needs to know about a request; headers are looked up lazily. */
export interface RequestFacts {
  readonly host: string;
  readonly path: string;
  readonly method: string;
  header(name: string): string | null;
}

interface Candidate<T> {
  readonly value: T;
  readonly methods: ReadonlySet<string> | undefined;
  readonly headers: readonly HeaderCondition[];
  readonly weight: number;
  readonly order: number;
  /** Parameter names by segment index, for templates. */
  readonly paramAt?: readonly (string | undefined)[];
  readonly hasWildcard?: boolean;
}

class TrieNode<T> {
  readonly statics = new Map<string, TrieNode<T>>();
  param: TrieNode<T> | undefined;
  /** Templates ending at this node. */
  terminal: Candidate<T>[] | undefined;
  /** Templates ending with "*" at this node. */
  wildcard: Candidate<T>[] | undefined;
  /** Prefix routes whose prefix ends at this node. */
  prefix: Candidate<T>[] | undefined;
}

class HostTable<T> {
  readonly exact = new Map<string, Candidate<T>[]>();
  readonly root = new TrieNode<T>();
  hasTemplates = false;
  hasPrefixes = false;
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function byPrecedence<T>(a: Candidate<T>, b: Candidate<T>): number {
  return b.weight - a.weight || a.order - b.order;
}

function insertSorted<T>(list: Candidate<T>[] | undefined, c: Candidate<T>): Candidate<T>[] {
  const out = list ?? [];
  out.push(c);
  out.sort(byPrecedence);
  return out;
}

function splitPath(path: string): string[] {
  return path.split("/").slice(1);
}

/** Normalizes a prefix for segment matching: "/api/" and "/api" both mean the segments ["api"]. */
function prefixSegments(prefix: string): string[] {
  return splitPath(prefix).filter((s, i, all) => !(s === "" && i === all.length - 1));
}

export class Router<T> {
  private readonly byHost = new Map<string, HostTable<T>>();
  /** Wildcard hosts as [".example.com", table], longest suffix first. */
  private readonly wildcardHosts: [string, HostTable<T>][] = [];
  private readonly anyHost = new HostTable<T>();
  readonly size: number;

  constructor(entries: readonly RouterEntry<T>[]) {
    for (const e of entries) this.add(e);
    this.wildcardHosts.sort((a, b) => b[0].length - a[0].length);
    this.size = entries.length;
  }

  private tableFor(host: string | undefined): HostTable<T> {
    if (host === undefined || host === "" || host === "*") return this.anyHost;
    const h = host.toLowerCase();
    if (h.startsWith("*.")) {
      const suffix = h.slice(1);
      let entry = this.wildcardHosts.find(([s]) => s === suffix);
      if (!entry) {
        entry = [suffix, new HostTable<T>()];
        this.wildcardHosts.push(entry);
      }
      return entry[1];
    }
    let t = this.byHost.get(h);
    if (!t) {
      t = new HostTable<T>();
      this.byHost.set(h, t);
    }
    return t;
  }

  private add(e: RouterEntry<T>): void {
    const m = e.match;
    const table = this.tableFor(m.host);
    const headers = (m.headers ?? []).map((c) => ({ name: c.name.toLowerCase(), value: c.value }));
    const methods = m.methods && m.methods.length > 0 ? new Set(m.methods.map((x) => x.toUpperCase())) : undefined;
    const base = { value: e.value, methods, headers, weight: (methods ? 1 : 0) + headers.length, order: e.order };
    const path = m.path;
    if (path !== undefined && !path.includes("/:") && !path.endsWith("/*")) {
      table.exact.set(path, insertSorted(table.exact.get(path), base));
      return;
    }
    if (path !== undefined) {
      const segs = splitPath(path);
      const hasWildcard = segs[segs.length - 1] === "*";
      const body = hasWildcard ? segs.slice(0, -1) : segs;
      const paramAt = body.map((s) => (s.startsWith(":") ? s.slice(1) : undefined));
      let node = table.root;
      for (const s of body) {
        if (s.startsWith(":")) {
          node.param ??= new TrieNode<T>();
          node = node.param;
        } else {
          let next = node.statics.get(s);
          if (!next) {
            next = new TrieNode<T>();
            node.statics.set(s, next);
          }
          node = next;
        }
      }
      const c: Candidate<T> = { ...base, paramAt, hasWildcard };
      if (hasWildcard) node.wildcard = insertSorted(node.wildcard, c);
      else node.terminal = insertSorted(node.terminal, c);
      table.hasTemplates = true;
      return;
    }
    let node = table.root;
    for (const s of prefixSegments(m.prefix ?? "/")) {
      let next = node.statics.get(s);
      if (!next) {
        next = new TrieNode<T>();
        node.statics.set(s, next);
      }
      node = next;
    }
    node.prefix = insertSorted(node.prefix, base);
    table.hasPrefixes = true;
  }

  /** Finds the most specific route for a request, or undefined. */
  match(req: RequestFacts): RouteMatch<T> | undefined {
    const host = req.host;
    if (this.byHost.size > 0 && host !== "") {
      const t = this.byHost.get(host);
      if (t) {
        const r = this.matchTable(t, req);
        if (r) return r;
      }
    }
    for (const [suffix, t] of this.wildcardHosts) {
      if (host.length > suffix.length && host.endsWith(suffix)) {
        const r = this.matchTable(t, req);
        if (r) return r;
      }
    }
    return this.matchTable(this.anyHost, req);
  }

  private matchTable(t: HostTable<T>, req: RequestFacts): RouteMatch<T> | undefined {
    const exact = t.exact.get(req.path);
    if (exact) {
      const c = firstAccepted(exact, req);
      if (c) return { value: c.value, params: EMPTY_PARAMS };
    }
    if (!t.hasTemplates && !t.hasPrefixes) return undefined;
    const segs = splitPath(req.path);
    if (t.hasTemplates) {
      const r = searchTemplates(t.root, segs, 0, req);
      if (r) return r;
    }
    if (t.hasPrefixes) {
      // Walk down the static segments, remembering prefix nodes; the deepest accepted one wins.
      const stack: Candidate<T>[][] = [];
      let node: TrieNode<T> | undefined = t.root;
      let i = 0;
      while (node) {
        if (node.prefix) stack.push(node.prefix);
        if (i >= segs.length) break;
        node = node.statics.get(segs[i] as string);
        i++;
      }
      for (let k = stack.length - 1; k >= 0; k--) {
        const c = firstAccepted(stack[k] as Candidate<T>[], req);
        if (c) return { value: c.value, params: EMPTY_PARAMS };
      }
    }
    return undefined;
  }
}

function accepts<T>(c: Candidate<T>, req: RequestFacts): boolean {
  if (c.methods && !c.methods.has(req.method)) return false;
  for (const h of c.headers) {
    const v = req.header(h.name);
    if (h.value === true ? v === null : h.value === false ? v !== null : v !== h.value) return false;
  }
  return true;
}

function firstAccepted<T>(list: readonly Candidate<T>[], req: RequestFacts): Candidate<T> | undefined {
  for (const c of list) if (accepts(c, req)) return c;
  return undefined;
}

function params<T>(c: Candidate<T>, segs: readonly string[], depth: number): Record<string, string> {
  const out: Record<string, string> = {};
  const names = c.paramAt ?? [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (n !== undefined) out[n] = segs[i] as string;
  }
  if (c.hasWildcard) out["*"] = segs.slice(depth).join("/");
  return out;
}

/** Depth-first search: static child, then parameter child, then wildcard; the first accepted leaf is the most specific. */
function searchTemplates<T>(node: TrieNode<T>, segs: readonly string[], depth: number, req: RequestFacts): RouteMatch<T> | undefined {
  if (depth === segs.length) {
    if (node.terminal) {
      const c = firstAccepted(node.terminal, req);
      if (c) return { value: c.value, params: params(c, segs, depth) };
    }
  } else {
    const seg = segs[depth] as string;
    const s = node.statics.get(seg);
    if (s) {
      const r = searchTemplates(s, segs, depth + 1, req);
      if (r) return r;
    }
    if (node.param && seg !== "") {
      const r = searchTemplates(node.param, segs, depth + 1, req);
      if (r) return r;
    }
  }
  if (node.wildcard && depth < segs.length) {
    const c = firstAccepted(node.wildcard, req);
    if (c) return { value: c.value, params: params(c, segs, depth) };
  }
  return undefined;
}

/** RFC 3986 §5.2.4 remove_dot_segments, for paths containing "/." only. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segs = path.split("/");
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i] as string;
    if (s === ".." || s.toLowerCase() === "%2e%2e" || s.toLowerCase() === ".%2e" || s.toLowerCase() === "%2e.") {
      out.pop();
      if (i === segs.length - 1) out.push("");
    } else if (s === "." || s.toLowerCase() === "%2e") {
      if (i === segs.length - 1) out.push("");
    } else out.push(s);
  }
  return `/${out.join("/")}`;
}
