/**
 * Sharing equal parts of tool definitions. Thousands of tools from one
 * OpenAPI document (or one upstream) repeat the same sub-schemas — `{type:
 * "string"}`, a common object schema, the same annotations — and a JSON
 * object costs far more in memory than its text. An Interner deep-copies a
 * value so that equal subtrees become one frozen object: the copy also cuts
 * every link to the document it came from (a dereferenced OpenAPI document,
 * a parser's caches), so those can be collected. Used once per load and
 * dropped; the values it returns are immutable.
 */
export class Interner {
  private readonly table = new Map<string, unknown>();

  intern<T>(value: T): T {
    return this.walk(value) as T;
  }

  private walk(v: unknown): unknown {
    if (v === null || typeof v !== "object") return v;
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x) => this.walk(x));
    else {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) o[k] = this.walk(x);
      out = o;
    }
    const key = JSON.stringify(out);
    const hit = this.table.get(key);
    if (hit !== undefined) return hit;
    Object.freeze(out);
    this.table.set(key, out);
    return out;
  }
}
