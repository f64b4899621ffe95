/**
 * Timestamps compared as instants: "2026-11-21T10:00:00Z",
 * "2026-11-21 11:00:00+01:00" and "2026-11-21T10:00:00.000000Z" are the same
 * instant. RFC 3339 / ISO 8601 (date, time with optional fraction to the
 * nanosecond, Z or an offset; none means UTC), HTTP dates (RFC 9110 §5.6.7:
 * IMF-fixdate, RFC 850, asctime), RFC 5322 dates, and epoch numbers (seconds
 * below 10^11, else milliseconds).
 *
 * Only real calendar dates are instants: every field is checked (February 30,
 * 24:00, minute 60, a weekday that is not the date's are not), so an invalid
 * date is compared as the string it is, never rolled over into another day.
 * No general-purpose date parser is used (Date.parse reads "hello 1" as
 * 2001-01-01).
 */

export interface Instant {
  readonly ms: number;
  /** Nanoseconds beyond the millisecond (0–999999). */
  readonly subMs: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const LONG_DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** RFC 5322 §3.3 (and IMF-fixdate, its GMT form): `[Sun, ]6 Nov 1994 08:49[:37] +0000|GMT|UT|EST…`. */
const RFC5322 = /^(?:([A-Za-z]{3}),\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4}|\d{2})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|[A-Za-z]{2,3})$/;
/** RFC 850, obsolete in HTTP: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850 = /^([A-Za-z]{6,9}),\s*(\d{2})-([A-Za-z]{3})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT$/;
/** ANSI C asctime(), obsolete in HTTP: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME = /^([A-Za-z]{3})\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})$/;

/** Zone names of RFC 5322 §4.3 (obs-zone), in minutes east of UTC; military letters are not accepted. */
const ZONES: Readonly<Record<string, number>> = { ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };

const DAY_MS = 86_400_000;
/** 400 Gregorian years, in days: the calendar repeats, so Date.UTC never sees a year below 100 (which it reads as 19xx). */
const DAYS_400_YEARS = 146_097;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Milliseconds since the epoch of a UTC date and time, or undefined when a
 * field is out of range. Second 60 (a leap second, RFC 3339 §5.7) is accepted
 * only at 23:59 UTC and is the next second's instant, as in POSIX time.
 */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, offsetMin: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(y + 400, mo - 1, d, h, mi, s) - DAYS_400_YEARS * DAY_MS - offsetMin * 60_000;
  if (s === 60 && mod(Math.floor((ms - 1000) / 60_000), 1440) !== 1439) return undefined;
  return ms;
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

function offsetMinutes(tz: string | undefined): number | undefined {
  if (!tz || tz === "Z" || tz === "z") return 0;
  const digits = tz.slice(1).replace(":", "");
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2, 4) || 0);
  if (h > 23 || m > 59) return undefined;
  return (tz[0] === "-" ? -1 : 1) * (h * 60 + m);
}

/** The weekday named (short or long), checked against the date; true when none is named. */
function weekdayMatches(name: string | undefined, ms: number, names: readonly string[]): boolean {
  if (name === undefined) return true;
  const day = mod(Math.floor(ms / DAY_MS) + 4, 7); // 1970-01-01 was a Thursday
  return names[day] === name.toLowerCase();
}

/** RFC 5322 §4.3: a two-digit year is 2000–2049 below 50, else 1950–1999. */
function fullYear(digits: string): number {
  const y = Number(digits);
  return digits.length === 4 ? y : y < 50 ? 2000 + y : 1900 + y;
}

function month(name: string): number {
  return MONTHS.indexOf(name.toLowerCase()) + 1;
}

function iso(m: RegExpExecArray): Instant | undefined {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0)) as [number, number, number, number, number, number];
  const offset = offsetMinutes(m[8]);
  if (offset === undefined) return undefined;
  const ms = utc(y, mo, d, h, mi, s, offset);
  if (ms === undefined) return undefined;
  const frac = (m[7] ?? "").padEnd(9, "0");
  return { ms: ms + Number(frac.slice(0, 3)), subMs: Number(frac.slice(3)) };
}

function mailDate(value: string): Instant | undefined {
  let m = RFC5322.exec(value);
  if (m) {
    const zone = m[8] as string;
    const offset = zone[0] === "+" || zone[0] === "-" ? offsetMinutes(zone) : ZONES[zone.toLowerCase()];
    if (offset === undefined) return undefined;
    const ms = utc(fullYear(m[4] as string), month(m[3] as string), Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0), offset);
    // The weekday is that of the local date written, before the offset is taken off.
    return ms !== undefined && weekdayMatches(m[1], ms + offset * 60_000, DAYS) ? { ms, subMs: 0 } : undefined;
  }
  m = RFC850.exec(value);
  if (m) {
    const ms = utc(fullYear(m[4] as string), month(m[3] as string), Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]), 0);
    return ms !== undefined && weekdayMatches(m[1], ms, LONG_DAYS) ? { ms, subMs: 0 } : undefined;
  }
  m = ASCTIME.exec(value);
  if (m) {
    const ms = utc(Number(m[7]), month(m[2] as string), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), 0);
    return ms !== undefined && weekdayMatches(m[1], ms, DAYS) ? { ms, subMs: 0 } : undefined;
  }
  return undefined;
}

/** The instant a value names, or undefined when it is not a valid timestamp (then it is compared as a plain value). */
export function parseInstant(value: unknown): Instant | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return { ms: Math.abs(value) < 1e11 ? value * 1000 : value, subMs: 0 };
  }
  if (typeof value !== "string") return undefined;
  const s = value.trim();
  const m = ISO.exec(s);
  return m ? iso(m) : mailDate(s);
}

export function sameInstant(a: Instant, b: Instant): boolean {
  return a.ms === b.ms && a.subMs === b.subMs;
}
