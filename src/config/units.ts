/**
 * Human units in configuration: durations ("250ms", "5s", "2m", "1h", "7d") and
 * byte sizes ("512KiB", "10MB", "1GiB"). Plain numbers are milliseconds and
 * bytes. Parsed once at load; the hot path reads numbers.
 */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration into milliseconds, or returns undefined when the text is not one. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (DURATION_MS[m[2] as string] as number));
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?$/i;
const SIZE_BYTES: Record<string, number> = {
  b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3, tb: 1e12, tib: 1024 ** 4,
};

/** Parses a byte size into bytes, or returns undefined when the text is not one. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE.exec(value.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (SIZE_BYTES[(m[2] ?? "b").toLowerCase()] as number));
}

/** The longest delay a timer accepts (2^31-1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration in the largest unit that states it exactly ("250ms", "5s", "7d"); non-whole values in ms. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const u = DURATION_MS[unit] as number;
    if (ms >= u && ms % u === 0) return `${ms / u}${unit}`;
  }
  if (ms === MAX_TIMER_MS) return `${ms}ms (24.8d)`;
  return `${ms}ms`;
}

/** A size in the largest binary unit that states it exactly ("64KiB", "1GiB"), else bytes. */
export function formatSize(bytes: number): string {
  for (const unit of ["TiB", "GiB", "MiB", "KiB"] as const) {
    const u = SIZE_BYTES[unit.toLowerCase()] as number;
    if (bytes >= u && bytes % u === 0) return `${bytes / u}${unit}`;
  }
  return `${bytes}B`;
}
