/**
 * Graph built-ins: walk (a relation over every [path, value] pair of a
 * document), graph.reachable and graph.reachable_paths.
 *
 * A graph is an object from node to its neighbours (an array or a set; any
 * other value, null included, means none). As in OPA, a node that is not a
 * key of the graph is never reached, and reachable_paths ends a path where it
 * would step onto such a node or back onto a node already on it.
 */
import { equal, RegoObject, RegoSet, type Value } from "../value.ts";
import { operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

/**
 * Every [path, value] pair of doc, depth first and parents before children, in
 * OPA's order of keys: the root first with path []. An array's path steps are
 * its indexes, an object's its keys, a set's its members. Lazy, so a caller
 * that stops early does not pay for the rest; each pair has its own path array.
 */
function* walkPairs(doc: Value, ctx: BuiltinContext): Generator<Value> {
  const stack: [readonly Value[], Value][] = [[[], doc]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [path, value] = top;
    ctx.charge(1);
    yield [path, value];
    const children: [Value, Value][] = [];
    if (Array.isArray(value)) (value as readonly Value[]).forEach((v, i) => children.push([i, v]));
    else if (value instanceof RegoObject) for (const [k, v] of value.entries()) children.push([k, v]);
    else if (value instanceof RegoSet) for (const v of value.values()) children.push([v, v]);
    // Pushed last-first so the stack pops them in order.
    for (let i = children.length - 1; i >= 0; i--) {
      const [k, v] = children[i] as [Value, Value];
      stack.push([[...path, k], v]);
    }
  }
}

function graphArg(name: string, args: readonly Value[]): RegoObject {
  const g = args[0] as Value;
  if (!(g instanceof RegoObject)) throw operandError(name, 1, "object", g);
  return g;
}

/** The nodes of an array or a set; any other value has none. */
function nodes(v: Value | undefined): readonly Value[] {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RegoSet) return v.values();
  return [];
}

function initialArg(name: string, args: readonly Value[]): readonly Value[] {
  const v = args[1] as Value;
  // OPA's wording, braces and all: "must be {array, set} but got string".
  if (!Array.isArray(v) && !(v instanceof RegoSet)) throw operandError(name, 2, "{array, set}", v);
  return nodes(v);
}

function reachable(args: readonly Value[], ctx: BuiltinContext): Value {
  const graph = graphArg("graph.reachable", args);
  const queue = [...initialArg("graph.reachable", args)];
  const reached = new RegoSet();
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as Value;
    if (reached.has(node)) continue;
    const edges = graph.get(node);
    if (edges === undefined) continue;
    ctx.charge(1);
    reached.add(node);
    for (const next of nodes(edges)) if (!reached.has(next)) queue.push(next);
  }
  return reached;
}

/**
 * Extends path (which already holds every node visited, so it doubles as the
 * cycle check) through node, adding each finished path to out.
 */
function extendPaths(graph: RegoObject, node: Value, path: readonly Value[], out: RegoSet, ctx: BuiltinContext): void {
  ctx.charge(1);
  const edges = graph.get(node);
  if (edges === undefined) {
    out.add(path);
    return;
  }
  const here = [...path, node];
  const next = nodes(edges);
  if (next.length === 0) {
    out.add(here);
    return;
  }
  for (const n of next) {
    if (here.some((seen) => equal(seen, n))) out.add(here);
    else extendPaths(graph, n, here, out, ctx);
  }
}

function reachablePaths(args: readonly Value[], ctx: BuiltinContext): Value {
  const graph = graphArg("graph.reachable_paths", args);
  const out = new RegoSet();
  for (const start of initialArg("graph.reachable_paths", args)) {
    const edges = graph.get(start);
    if (edges === undefined) continue;
    const next = nodes(edges);
    if (next.length === 0) out.add([start]);
    for (const n of next) extendPaths(graph, n, [start], out, ctx);
  }
  return out;
}

export const GRAPH: readonly BuiltinDef[] = [
  { name: "walk", arity: 1, args: ["any"], relation: true, fn: (args, ctx) => walkPairs(args[0] as Value, ctx) },
  { name: "graph.reachable", arity: 2, args: ["object", "any"], fn: reachable },
  { name: "graph.reachable_paths", arity: 2, args: ["object", "any"], fn: reachablePaths },
];
