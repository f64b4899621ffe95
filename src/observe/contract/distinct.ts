/**
 * Bounded distinct-value tracking for contract inference: the exact values
 * (with counts) while there are at most `max` of them, then a HyperLogLog
 * sketch (256 registers, about 6.5% standard error) built from those values and
 * fed from there on. Both forms merge exactly: a union of counted values, or
 * the register-wise maximum, so merging two trackers gives the tracker of the
 * union of their inputs, whatever the order or the split across workers.
 *
 * Values are kept as keys: short strings verbatim, long ones (and those the
 * caller asks to hide, such as e-mail addresses) as a hash marked by a leading
 * U+0001, so they count as distinct without being stored.
 */

/** Registers of the sketch: 2^8 (256 bytes; about 6.5% standard error). */
const P = 8;
const M = 1 << P;
/** The bias constant of HyperLogLog for m ≥ 128 (Flajolet et al. 2007, §4). */
/** The hash has 53 bits: P index the register, the other 53 - P (more than 32) give the rank, split at 32 high bits. */
const LOW_BITS = 53 - P - 32;
const LOW = 2 ** LOW_BITS;
const ALPHA = 0.7213 / (1 + 1.079 / M);

/** A key that stands for a value without holding it starts with this character. */
export const HASHED = "\u0001";

/** The serialized form: exact values with counts (sorted by value), or a sketch (hex registers). */
export interface DistinctState {
  values?: [string, number][];
  sketch?: string;
}

/** 53 bits of a string's hash (cyrb53: two 32-bit multiplicative lanes), as a safe integer. */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The key a value is tracked by: itself when short and not hidden, else a hash of it. */
export function valueKey(s: string, maxChars: number, hide: boolean): string {
  if (!hide && s.length <= maxChars && !s.startsWith(HASHED)) return s;
  return HASHED + hash53(s).toString(36);
}

function addToSketch(regs: Uint8Array, key: string): void {
  const h = hash53(key);
  const idx = h % M;
  // The remaining bits: the rank is the number of leading zeros among them, plus one.
  const w = Math.floor(h / M);
  const hi = Math.floor(w / LOW);
  const rank = hi !== 0 ? Math.clz32(hi) + 1 : 32 + Math.clz32(w % LOW) - (32 - LOW_BITS) + 1;
  if (rank > (regs[idx] ?? 0)) regs[idx] = rank;
}

/** Distinct values seen at one position of a document. */
export class Distinct {
  /** The exact values with their counts, while there are at most `max`; null once past it. */
  private values: Map<string, number> | null = new Map();
  private sketch: Uint8Array | null = null;

  constructor(private readonly max: number) {}

  add(key: string, count = 1): void {
    if (this.values !== null) {
      this.values.set(key, (this.values.get(key) ?? 0) + count);
      if (this.values.size > this.max) this.toSketch();
    } else if (this.sketch !== null) addToSketch(this.sketch, key);
  }

  private toSketch(): void {
    const regs = new Uint8Array(M);
    for (const k of this.values?.keys() ?? []) addToSketch(regs, k);
    this.values = null;
    this.sketch = regs;
  }

  /** True while every value is known exactly. */
  get exact(): boolean {
    return this.values !== null;
  }

  /** The exact values and counts, or null past the cap. */
  entries(): ReadonlyMap<string, number> | null {
    return this.values;
  }

  /** The number of distinct values: exact under the cap, estimated past it (HyperLogLog with the small-range correction). */
  estimate(): number {
    if (this.values !== null) return this.values.size;
    const regs = this.sketch as Uint8Array;
    let sum = 0;
    let zeros = 0;
    for (const r of regs) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = (ALPHA * M * M) / sum;
    const e = raw <= 2.5 * M && zeros > 0 ? M * Math.log(M / zeros) : raw;
    // Past the cap there were more than `max` values: an estimate below that is only noise.
    return Math.max(Math.round(e), this.max + 1);
  }

  mergeFrom(other: Distinct): void {
    if (other.values !== null) {
      for (const [k, c] of other.values) this.add(k, c);
      return;
    }
    if (this.values !== null) this.toSketch();
    const mine = this.sketch as Uint8Array;
    const theirs = other.sketch as Uint8Array;
    for (let i = 0; i < M; i++) if ((theirs[i] ?? 0) > (mine[i] ?? 0)) mine[i] = theirs[i] ?? 0;
  }

  toState(): DistinctState {
    if (this.values !== null) return { values: [...this.values].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) };
    return { sketch: Buffer.from(this.sketch as Uint8Array).toString("hex") };
  }

  static fromState(s: DistinctState, max: number): Distinct {
    const d = new Distinct(max);
    if (typeof s.sketch === "string" && s.sketch.length === 2 * M && /^[0-9a-f]*$/.test(s.sketch)) {
      d.values = null;
      d.sketch = new Uint8Array(Buffer.from(s.sketch, "hex"));
    } else for (const [k, c] of s.values ?? []) d.add(k, c);
    return d;
  }
}
