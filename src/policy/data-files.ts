/**
 * Data documents from several files merged into one `data`, as OPA's loader
 * does: objects merge key by key (at any depth), and any other collision is
 * a conflict the caller words (a config error for a route's policy, a usage
 * error for `ficus policy`). Used by the authorization settings and the CLI.
 */

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Merges `doc` into `into` (changing `into`, never `doc` or objects shared with it: merged objects are copies).
 * `conflict(path)` makes the error thrown when two files give different non-object values at `data.<path>`.
 */
export function mergeDataDocuments(into: Record<string, unknown>, doc: Record<string, unknown>, conflict: (path: readonly string[]) => Error, path: readonly string[] = []): void {
  for (const [k, v] of Object.entries(doc)) {
    const here = [...path, k];
    if (!Object.hasOwn(into, k)) {
      into[k] = v;
      continue;
    }
    const old = into[k];
    if (!isPlainObject(old) || !isPlainObject(v)) throw conflict(here);
    // Copy before merging so two files never share (and change) one object.
    const merged = Object.assign(Object.create(null) as Record<string, unknown>, old);
    mergeDataDocuments(merged, v, conflict, here);
    into[k] = merged;
  }
}
