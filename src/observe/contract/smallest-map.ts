/**
 * A map bounded to `max` keys that keeps the `max` smallest keys (in code-unit
 * order) of all it was offered, whatever the order they came in: a key is
 * admitted while there is room or when it sorts before the largest kept key,
 * which is then evicted with its value. The kept set (and each kept key's
 * value, which then saw all of that key's inputs) is thus a function of the set
 * of keys offered, so two bounded maps merge exactly: the bounded map of the
 * union. `truncated` says that more than `max` keys were offered.
 *
 * Used for object property names, query parameter names and media types, where
 * an unbounded input (a map keyed by ids) must not grow the learner.
 */
export class SmallestMap<T> {
  readonly map = new Map<string, T>();
  truncated = false;
  private largest: string | undefined;

  constructor(private readonly max: number) {}

  /** The value for `key`, created by `make` if the key is admitted; undefined if it is not kept. */
  get(key: string, make: () => T): T | undefined {
    const v = this.map.get(key);
    if (v !== undefined) return v;
    if (this.map.size >= this.max) {
      this.truncated = true;
      if (this.max === 0 || this.largest === undefined || key >= this.largest) return undefined;
      this.map.delete(this.largest);
      this.largest = undefined;
    }
    const made = make();
    this.map.set(key, made);
    if (this.map.size >= this.max) this.largest = maxKey(this.map);
    return made;
  }

  /** The kept entries in key order. */
  sorted(): [string, T][] {
    return [...this.map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

function maxKey(m: Map<string, unknown>): string | undefined {
  let best: string | undefined;
  for (const k of m.keys()) if (best === undefined || k > best) best = k;
  return best;
}
