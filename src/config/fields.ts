/**
 * Config fields in human units, parsed at load so the runtime reads a number; out-of-range values are errors.
 * In their own file so that every schema fragment (src/auth, src/authz, src/ratelimit, …) uses the same ones:
 * config/schema.ts imports those fragments, so they cannot import it back.
 */
import { z } from "zod";
import { formatDuration, formatSize, MAX_TIMER_MS, parseDuration, parseSize } from "./units.ts";

export interface Bounds {
  /** Smallest accepted value (inclusive). Default 0. */
  readonly min?: number;
  /** Largest accepted value (inclusive). */
  readonly max?: number;
}

/** A field in human units, parsed at load so the runtime reads a number; out-of-range values are errors. */
function unitField(
  parse: (v: string | number) => number | undefined,
  format: (n: number) => string,
  example: string,
  defaultValue: string | number,
  description: string,
  bounds: Required<Bounds> & { readonly why?: string },
) {
  const range = bounds.min > 0 ? `${format(bounds.min)} to ${format(bounds.max)}` : `at most ${format(bounds.max)}`;
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      const n = parse(v ?? defaultValue);
      if (n === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${example}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      if (n < bounds.min || n > bounds.max) {
        ctx.addIssue({ code: "custom", message: `must be ${range}${bounds.why ? ` (${bounds.why})` : ""}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    })
    .meta({ description: `${description} Default ${defaultValue}; ${range}.` });
}

/**
 * A duration field: "250ms", "5s", "2m", "1h" or a number of milliseconds. Durations
 * arm timers, whose longest delay is 2^31-1 ms (about 24.8 days): a longer one would
 * fire at once, so that is the default upper bound.
 */
export function duration(defaultValue: string, description: string, bounds: Bounds = {}) {
  const max = bounds.max ?? MAX_TIMER_MS;
  return unitField(parseDuration, formatDuration, 'a duration such as "500ms", "5s" or "2m"', defaultValue, description, {
    min: bounds.min ?? 0,
    max,
    why: max === MAX_TIMER_MS ? "the longest timer the runtime can arm" : undefined,
  } as Required<Bounds> & { why?: string });
}

/** A byte-size field: "512KiB", "10MB", "1GiB" or a number of bytes, within `bounds`. */
export function size(defaultValue: string | number, description: string, bounds: Bounds & { readonly max: number }) {
  return unitField(parseSize, formatSize, 'a size such as "64KiB" or "10MB"', defaultValue, description, { min: bounds.min ?? 0, max: bounds.max });
}
