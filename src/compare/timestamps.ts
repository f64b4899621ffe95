/**
 * Timestamps compared as instants: "2026-11-21T10:00:00Z",
 * "2026-11-21 11:00:00+01:00" and "2026-11-21T10:00:00.000000Z" are the same
 * instant. RFC 3339 / ISO 8601 (date, time with optional fraction to the
 * nanosecond, Z or an offset; none means UTC), HTTP and RFC 2822 dates, and
 * epoch numbers (seconds below 10^11, else milliseconds).
 */

export interface Instant {
  readonly ms: number;
  /** Nanoseconds beyond the millisecond (0–999999). */
  readonly subMs: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

export function parseInstant(value: unknown): Instant | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return { ms: Math.abs(value) < 1e11 ? value * 1000 : value, subMs: 0 };
  }
  if (typeof value !== "string") return undefined;
  const m = ISO.exec(value.trim());
  if (m) {
    const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0)) as [number, number, number, number, number, number];
    const frac = (m[7] ?? "").padEnd(9, "0");
    let ms = Date.UTC(y, mo - 1, d, h, mi, s) + Number(frac.slice(0, 3));
    const tz = m[8];
    if (tz && tz !== "Z" && tz !== "z") {
      const sign = tz[0] === "-" ? -1 : 1;
      const digits = tz.slice(1).replace(":", "");
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
    }
    return Number.isNaN(ms) ? undefined : { ms, subMs: Number(frac.slice(3)) };
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : { ms: parsed, subMs: 0 };
}

export function sameInstant(a: Instant, b: Instant): boolean {
  return a.ms === b.ms && a.subMs === b.subMs;
}
