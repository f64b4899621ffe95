/**
 * Go's time package as OPA's time built-ins use it: civil dates from
 * nanosecond instants in a time zone, Date's normalization (October 32 is
 * November 1), reference-time layouts ("2006-01-02T15:04:05Z07:00") for
 * formatting and parsing, and ParseDuration's syntax. The layout rules and
 * error texts follow Go's, because policies are written against OPA's
 * behaviour and its messages.
 *
 * Time zones come from the IANA database that Intl carries. An instant is a
 * bigint of nanoseconds; civil arithmetic is in JS numbers of seconds, which
 * are exact far beyond the int64-nanosecond range (years 1677 to 2262) that
 * every result must fit anyway.
 */
import { goTimeQuote } from "./go-text.ts";

// ---------------------------------------------------------------- calendar

export const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const floorDiv = (a: number, b: number): number => Math.floor(a / b);
const mod = (a: number, b: number): number => a - Math.floor(a / b) * b;

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1..12, day 1..31). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const mp = mod(month + 9, 12);
  const doy = floorDiv(153 * mp + 2, 5) + day - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day count from 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

export function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
}

// ---------------------------------------------------------------- zones

/** A time zone: its offset from UTC and abbreviation at an instant (in Unix seconds). */
export interface Zone {
  readonly name: string;
  offsetAt(unixSec: number): number;
  abbrevAt(unixSec: number): string;
}

export const UTC: Zone = { name: "UTC", offsetAt: () => 0, abbrevAt: () => "UTC" };

/** A zone with one offset and an optional name, as Go's FixedZone. */
export function fixedZone(name: string, offset: number): Zone {
  return { name, offsetAt: () => offset, abbrevAt: () => name };
}

/** Beyond this, Date and Intl cannot place an instant (±8.64e15 ms); such times are out of OPA's range anyway. */
const MAX_INTL_SECONDS = 8.64e12;

const PART_FIELDS = {
  timeZone: "UTC",
  hourCycle: "h23",
  era: "short",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
} as const;

/**
 * Which English locale names a zone's abbreviations the way the IANA
 * database does: en-US for the Americas (EST, PDT), en-GB for Europe (CET,
 * BST), and so on. Other zones fall back to the numeric form the database
 * itself uses where it has no letters ("+08", "-03").
 */
function abbrevLocale(zone: string): string {
  if (zone.startsWith("Europe/")) return "en-GB";
  if (zone === "Asia/Kolkata" || zone === "Asia/Calcutta") return "en-IN";
  if (zone.startsWith("Australia/")) return "en-AU";
  if (zone === "Pacific/Auckland" || zone === "NZ") return "en-NZ";
  return "en-US";
}

function numericAbbrev(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const h = String(Math.floor(abs / 3600)).padStart(2, "0");
  const m = Math.floor((abs % 3600) / 60);
  return m === 0 ? `${sign}${h}` : `${sign}${h}${String(m).padStart(2, "0")}`;
}

class IntlZone implements Zone {
  private readonly parts: Intl.DateTimeFormat;
  private readonly names: Intl.DateTimeFormat;

  constructor(readonly name: string) {
    this.parts = new Intl.DateTimeFormat("en-US", { ...PART_FIELDS, timeZone: name });
    this.names = new Intl.DateTimeFormat(abbrevLocale(name), { timeZone: name, timeZoneName: "short" });
  }

  offsetAt(unixSec: number): number {
    if (!(Math.abs(unixSec) < MAX_INTL_SECONDS)) return 0;
    const f: Record<string, string> = {};
    for (const p of this.parts.formatToParts(unixSec * 1000)) f[p.type] = p.value;
    const y = Number(f.year);
    const year = f.era === "BC" || f.era === "B" ? 1 - y : y;
    const local = daysFromCivil(year, Number(f.month), Number(f.day)) * 86400 + Number(f.hour) * 3600 + Number(f.minute) * 60 + Number(f.second);
    return local - unixSec;
  }

  abbrevAt(unixSec: number): string {
    if (!(Math.abs(unixSec) < MAX_INTL_SECONDS)) return "UTC";
    const name = this.names.formatToParts(unixSec * 1000).find((p) => p.type === "timeZoneName")?.value ?? "";
    if (/^[A-Z]{3,5}$/.test(name)) return name;
    // Local mean time before standard zones shows with seconds in Intl; the database calls it LMT.
    if (/^GMT[+-]\d+:\d\d:\d\d$/.test(name)) return "LMT";
    return numericAbbrev(this.offsetAt(unixSec));
  }
}

const ZONES = new Map<string, Zone>();

/** The process's own zone (TZ), as Go's time.Local. */
export function localZone(): Zone {
  const name = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  return name === "UTC" || name === "Etc/UTC" ? UTC : (loadZone(name) ?? UTC);
}

/**
 * An IANA zone by name, or undefined when there is none. Names are matched
 * as Go matches them against the database's files: exactly, so
 * "america/new_york" and offset strings like "+05:30" (which Intl accepts)
 * are unknown.
 */
export function loadZone(name: string): Zone | undefined {
  const cached = ZONES.get(name);
  if (cached !== undefined) return cached;
  if (!/^[A-Za-z]/.test(name) || name.includes("..")) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) return undefined;
  const zone = new IntlZone(name);
  ZONES.set(name, zone);
  return zone;
}

// ---------------------------------------------------------------- instants

export const NS_PER_SEC = 1_000_000_000n;
export const MIN_NS = -(2n ** 63n);
export const MAX_NS = 2n ** 63n - 1n;

/** An instant in a zone: Go's time.Time for what the built-ins need. */
export interface GoTime {
  /** Whole seconds since the epoch (floor), and the nanoseconds past them (0..999999999). */
  readonly sec: number;
  readonly nsec: number;
  readonly zone: Zone;
}

export function fromUnixNano(ns: bigint, zone: Zone): GoTime {
  let sec = ns / NS_PER_SEC;
  let nsec = ns % NS_PER_SEC;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS_PER_SEC;
  }
  return { sec: Number(sec), nsec: Number(nsec), zone };
}

export function unixNano(t: GoTime): bigint {
  return BigInt(t.sec) * NS_PER_SEC + BigInt(t.nsec);
}

export function inRange(t: GoTime): boolean {
  if (!Number.isSafeInteger(t.sec)) return false;
  const ns = unixNano(t);
  return ns >= MIN_NS && ns <= MAX_NS;
}

/** The civil fields of an instant in its zone. */
export interface Civil {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly min: number;
  readonly sec: number;
  readonly nsec: number;
  /** 0 = Sunday. */
  readonly weekday: number;
  /** 1..366. */
  readonly yday: number;
  readonly offset: number;
  /** The zone's abbreviation then; asked for only by layouts that show it (an Intl call). */
  abbrev(): string;
}

export function civil(t: GoTime): Civil {
  const offset = t.zone.offsetAt(t.sec);
  const local = t.sec + offset;
  const days = floorDiv(local, 86400);
  const secOfDay = local - days * 86400;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(secOfDay / 3600),
    min: Math.floor((secOfDay % 3600) / 60),
    sec: secOfDay % 60,
    nsec: t.nsec,
    weekday: mod(days + 4, 7),
    yday: days - daysFromCivil(year, 1, 1) + 1,
    offset,
    abbrev: () => t.zone.abbrevAt(t.sec),
  };
}

/**
 * Go's time.Date: every field may be out of its range and is carried into
 * the next (month 13 is January of the next year, day 0 the last of the
 * previous month); the zone's offset is looked up for the resulting wall
 * clock, and once more when that offset moves the instant across a change.
 */
export function goDate(year: number, month: number, day: number, hour: number, min: number, sec: number, nsec: number, zone: Zone): GoTime {
  const m0 = month - 1;
  const y = year + floorDiv(m0, 12);
  const m = mod(m0, 12) + 1;
  const carrySec = floorDiv(nsec, 1e9);
  const ns = nsec - carrySec * 1e9;
  const local = (daysFromCivil(y, m, 1) + day - 1) * 86400 + hour * 3600 + min * 60 + sec + carrySec;
  let offset = zone.offsetAt(local);
  if (offset !== 0) {
    const again = zone.offsetAt(local - offset);
    if (again !== offset) offset = again;
  }
  return { sec: local - offset, nsec: ns, zone };
}

export function addDate(t: GoTime, years: number, months: number, days: number): GoTime {
  const c = civil(t);
  return goDate(c.year + years, c.month + months, c.day + days, c.hour, c.min, c.sec, c.nsec, t.zone);
}

// ---------------------------------------------------------------- layouts

/** Go's predefined layouts, by the names OPA accepts in place of a layout. */
export const NAMED_LAYOUTS: ReadonlyMap<string, string> = new Map([
  ["ANSIC", "Mon Jan _2 15:04:05 2006"],
  ["UnixDate", "Mon Jan _2 15:04:05 MST 2006"],
  ["RubyDate", "Mon Jan 02 15:04:05 -0700 2006"],
  ["RFC822", "02 Jan 06 15:04 MST"],
  ["RFC822Z", "02 Jan 06 15:04 -0700"],
  ["RFC850", "Monday, 02-Jan-06 15:04:05 MST"],
  ["RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"],
  ["RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"],
  ["RFC3339", "2006-01-02T15:04:05Z07:00"],
  ["RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"],
]);

export const RFC3339 = "2006-01-02T15:04:05Z07:00";
export const RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00";

/** The elements of a layout (the reference time's parts). */
type Elem =
  | "Jan"
  | "January"
  | "Mon"
  | "Monday"
  | "MST"
  | "1"
  | "01"
  | "2"
  | "_2"
  | "02"
  | "__2"
  | "002"
  | "06"
  | "2006"
  | "15"
  | "3"
  | "03"
  | "4"
  | "04"
  | "5"
  | "05"
  | "PM"
  | "pm"
  | "-070000"
  | "-07:00:00"
  | "-0700"
  | "-07:00"
  | "-07"
  | "Z070000"
  | "Z07:00:00"
  | "Z0700"
  | "Z07:00"
  | "Z07"
  | Frac;

/** A fractional second: `.000` (fixed digits) or `.999` (trailing zeros dropped), with `.` or `,`. */
interface Frac {
  readonly frac: "0" | "9";
  readonly digits: number;
  readonly sep: string;
}

interface Chunk {
  readonly prefix: string;
  readonly elem: Elem | undefined;
  readonly text: string;
  readonly suffix: string;
}

const ZONE_ELEMS = ["-070000", "-07:00:00", "-0700", "-07:00", "-07"] as const;

const isDigitAt = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39;
const lowerAt = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 0x61 && s.charCodeAt(i) <= 0x7a;

/** Splits a layout at its first element: literal prefix, the element, the rest (Go's nextStdChunk). */
export function nextChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const found = elemAt(layout, i);
    if (found !== undefined) {
      const [elem, start, end] = found;
      return { prefix: layout.slice(0, start), elem, text: layout.slice(start, end), suffix: layout.slice(end) };
    }
  }
  return { prefix: layout, elem: undefined, text: "", suffix: "" };
}

/** The element starting at i (or, for `_2006`, at i + 1), with its bounds. */
function elemAt(l: string, i: number): [Elem, number, number] | undefined {
  const at = (s: string): boolean => l.startsWith(s, i);
  switch (l[i]) {
    case "J":
      if (at("January")) return ["January", i, i + 7];
      if (at("Jan") && !lowerAt(l, i + 3)) return ["Jan", i, i + 3];
      return undefined;
    case "M":
      if (at("Monday")) return ["Monday", i, i + 6];
      if (at("Mon") && !lowerAt(l, i + 3)) return ["Mon", i, i + 3];
      if (at("MST")) return ["MST", i, i + 3];
      return undefined;
    case "0": {
      const d = l[i + 1];
      if (d !== undefined && d >= "1" && d <= "6") return [`0${d}` as Elem, i, i + 2];
      if (at("002")) return ["002", i, i + 3];
      return undefined;
    }
    case "1":
      return at("15") ? ["15", i, i + 2] : ["1", i, i + 1];
    case "2":
      return at("2006") ? ["2006", i, i + 4] : ["2", i, i + 1];
    case "_":
      if (l[i + 1] === "2") {
        // `_2006` is a literal underscore before the year.
        if (l.startsWith("2006", i + 1)) return ["2006", i + 1, i + 5];
        return ["_2", i, i + 2];
      }
      if (at("__2")) return ["__2", i, i + 3];
      return undefined;
    case "3":
    case "4":
    case "5":
      return [l[i] as Elem, i, i + 1];
    case "P":
      return l[i + 1] === "M" ? ["PM", i, i + 2] : undefined;
    case "p":
      return l[i + 1] === "m" ? ["pm", i, i + 2] : undefined;
    case "-":
      for (const z of ZONE_ELEMS) if (at(z)) return [z, i, i + z.length];
      return undefined;
    case "Z":
      for (const z of ZONE_ELEMS) if (at(`Z${z.slice(1)}`)) return [`Z${z.slice(1)}` as Elem, i, i + z.length];
      return undefined;
    case ".":
    case ",": {
      const ch = l[i + 1];
      if (ch !== "0" && ch !== "9") return undefined;
      let j = i + 1;
      while (l[j] === ch) j++;
      // Only a run of digits that ends the number is a fractional second.
      if (isDigitAt(l, j)) return undefined;
      return [{ frac: ch, digits: j - (i + 1), sep: l[i] as string }, i, j];
    }
  }
  return undefined;
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? `-${s}` : s;
}

function formatZone(elem: string, offset: number): string {
  if (offset === 0 && elem.startsWith("Z")) return "Z";
  let zone = Math.trunc(offset / 60);
  let abs = offset;
  let out = "+";
  if (zone < 0) {
    out = "-";
    zone = -zone;
    abs = -abs;
  }
  const colon = elem.includes(":");
  out += pad(Math.trunc(zone / 60), 2);
  const body = elem.slice(1);
  if (body !== "07") out += (colon ? ":" : "") + pad(zone % 60, 2);
  if (body === "070000" || body === "07:00:00") out += (colon ? ":" : "") + pad(abs % 60, 2);
  return out;
}

function formatFrac(f: Frac, nsec: number): string {
  if (f.frac === "9" && (f.digits === 0 || nsec === 0)) return "";
  let digits = pad(nsec, 9).slice(0, Math.min(f.digits, 9));
  if (f.frac === "9") digits = digits.replace(/0+$/, "");
  return digits === "" ? "" : f.sep + digits;
}

function formatElem(elem: Elem, c: Civil): string {
  if (typeof elem === "object") return formatFrac(elem, c.nsec);
  switch (elem) {
    case "Jan":
      return (MONTHS[c.month - 1] as string).slice(0, 3);
    case "January":
      return MONTHS[c.month - 1] as string;
    case "Mon":
      return (WEEKDAYS[c.weekday] as string).slice(0, 3);
    case "Monday":
      return WEEKDAYS[c.weekday] as string;
    case "MST": {
      const name = c.abbrev();
      return name !== "" ? name : formatZone("-0700", c.offset);
    }
    case "1":
      return String(c.month);
    case "01":
      return pad(c.month, 2);
    case "2":
      return String(c.day);
    case "_2":
      return c.day < 10 ? ` ${c.day}` : String(c.day);
    case "02":
      return pad(c.day, 2);
    case "__2":
      return String(c.yday).padStart(3, " ");
    case "002":
      return pad(c.yday, 3);
    case "06":
      return pad(c.year % 100, 2);
    case "2006":
      return pad(c.year, 4);
    case "15":
      return pad(c.hour, 2);
    case "3":
      return String(c.hour % 12 === 0 ? 12 : c.hour % 12);
    case "03":
      return pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
    case "4":
      return String(c.min);
    case "04":
      return pad(c.min, 2);
    case "5":
      return String(c.sec);
    case "05":
      return pad(c.sec, 2);
    case "PM":
      return c.hour >= 12 ? "PM" : "AM";
    case "pm":
      return c.hour >= 12 ? "pm" : "am";
  }
  return formatZone(elem, c.offset);
}

/** Go's Time.Format. */
export function formatTime(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = "";
  let rest = layout;
  for (;;) {
    const chunk = nextChunk(rest);
    out += chunk.prefix;
    if (chunk.elem === undefined) return out;
    out += formatElem(chunk.elem, c);
    rest = chunk.suffix;
  }
}

// ---------------------------------------------------------------- parsing

/** A failure of Go's time.Parse, with its message. */
export class TimeParseError extends Error {}

/** Marks a value that does not fit the element being read. */
const BAD = Symbol("bad");

/** Go's getnum: one or two digits (exactly two when fixed). */
function getnum(s: string, fixed: boolean): [number, string] | typeof BAD {
  if (!isDigitAt(s, 0)) return BAD;
  if (!isDigitAt(s, 1)) return fixed ? BAD : [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

/** Go's getnum3: one to three digits (exactly three when fixed). */
function getnum3(s: string, fixed: boolean): [number, string] | typeof BAD {
  let i = 0;
  while (i < 3 && isDigitAt(s, i)) i++;
  if (i === 0 || (fixed && i !== 3)) return BAD;
  return [Number(s.slice(0, i)), s.slice(i)];
}

/** Go's atoi: an optional sign and decimal digits, nothing else. */
function atoi(s: string): number | typeof BAD {
  return /^[+-]?\d+$/.test(s) ? Number(s) : BAD;
}

/** A case-insensitive (ASCII) prefix match against a table of names. */
function lookupName(table: readonly string[], value: string): [number, string] | typeof BAD {
  for (let i = 0; i < table.length; i++) {
    const name = table[i] as string;
    if (value.length >= name.length && value.slice(0, name.length).toLowerCase() === name.toLowerCase()) return [i, value.slice(name.length)];
  }
  return BAD;
}

const cutSpace = (s: string): string => s.replace(/^ +/, "");

/** Matches a layout's literal text: a space matches any run of spaces. */
function skip(value: string, prefix: string): string | typeof BAD {
  let v = value;
  let p = prefix;
  while (p.length > 0) {
    if (p[0] === " ") {
      if (v.length > 0 && v[0] !== " ") return BAD;
      p = cutSpace(p);
      v = cutSpace(v);
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) return BAD;
    p = p.slice(1);
    v = v.slice(1);
  }
  return v;
}

const commaOrPeriod = (c: string | undefined): boolean => c === "." || c === ",";

/** Go's parseNanoseconds: `value` starts with the separator; `n` counts it. */
function parseNanoseconds(value: string, n: number): number | typeof BAD {
  if (!commaOrPeriod(value[0])) return BAD;
  const len = Math.min(n, 10);
  const ns = atoi(value.slice(1, len));
  if (ns === BAD) return BAD;
  return ns * 10 ** (10 - len);
}

/** Go's parseTimeZone: how long a zone abbreviation at the start of value is (0 when there is none). */
function timeZoneLength(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith("ChST") || value.startsWith("MeST")) return 4;
  if (value.startsWith("GMT")) return 3 + signedOffsetLength(value.slice(3));
  if (value[0] === "+" || value[0] === "-") return signedOffsetLength(value);
  let upper = 0;
  while (upper < 6 && upper < value.length && /[A-Z]/.test(value[upper] as string)) upper++;
  switch (upper) {
    case 3:
      return 3;
    case 4:
      return value[3] === "T" || value.startsWith("WITA") ? 4 : 0;
    case 5:
      return value[4] === "T" ? 5 : 0;
  }
  return 0;
}

/** Length of `+hh`/`-h` (hours up to 23) at the start of value, 0 when absent. */
function signedOffsetLength(value: string): number {
  const m = /^[+-](\d+)/.exec(value);
  if (m === null || Number(m[1]) > 23) return 0;
  return m[0].length;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  yday: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  pm: boolean;
  am: boolean;
  utc: boolean;
  zoneOffset: number | undefined;
  zoneName: string;
}

function parseError(layout: string, value: string, elemValue: string, elemLayout: string): TimeParseError {
  return new TimeParseError(
    `parsing time ${goTimeQuote(value)} as ${goTimeQuote(layout)}: cannot parse ${goTimeQuote(elemValue)} as ${goTimeQuote(elemLayout)}`,
  );
}

function parseMessage(value: string, message: string): TimeParseError {
  return new TimeParseError(`parsing time ${goTimeQuote(value)}${message}`);
}

/**
 * Reads one element from the start of value into f. Returns the rest of the
 * value, BAD when it does not fit, or a range error's subject ("month").
 */
function parseElem(elem: Elem, value: string, rest: string, f: Fields): string | typeof BAD | { range: string; rest: string } {
  if (typeof elem === "object") {
    if (elem.frac === "0") {
      const n = 1 + elem.digits;
      if (value.length < n) return BAD;
      const ns = parseNanoseconds(value, n);
      if (ns === BAD) return BAD;
      f.nsec = ns;
      return value.slice(n);
    }
    if (value.length < 2 || !commaOrPeriod(value[0]) || !isDigitAt(value, 1)) return value;
    let i = 0;
    while (isDigitAt(value, i + 1)) i++;
    const ns = parseNanoseconds(value, 1 + i);
    if (ns === BAD) return BAD;
    f.nsec = ns;
    return value.slice(1 + i);
  }
  const num = (r: [number, string] | typeof BAD, set: (n: number) => string | undefined): string | typeof BAD | { range: string; rest: string } => {
    if (r === BAD) return BAD;
    const range = set(r[0]);
    return range === undefined ? r[1] : { range, rest: r[1] };
  };
  switch (elem) {
    case "06": {
      if (value.length < 2) return BAD;
      const y = atoi(value.slice(0, 2));
      if (y === BAD) return BAD;
      f.year = y >= 69 ? y + 1900 : y + 2000;
      return value.slice(2);
    }
    case "2006": {
      if (value.length < 4 || !isDigitAt(value, 0)) return BAD;
      const y = atoi(value.slice(0, 4));
      if (y === BAD) return BAD;
      f.year = y;
      return value.slice(4);
    }
    case "Jan":
    case "January": {
      const table = elem === "Jan" ? MONTHS.map((m) => m.slice(0, 3)) : MONTHS;
      const r = lookupName(table, value);
      if (r === BAD) return BAD;
      f.month = r[0] + 1;
      return r[1];
    }
    case "Mon":
    case "Monday": {
      const table = elem === "Mon" ? WEEKDAYS.map((d) => d.slice(0, 3)) : WEEKDAYS;
      const r = lookupName(table, value);
      return r === BAD ? BAD : r[1];
    }
    case "1":
    case "01":
      return num(getnum(value, elem === "01"), (n) => {
        f.month = n;
        return n < 1 || n > 12 ? "month" : undefined;
      });
    case "2":
    case "_2":
    case "02": {
      const v = elem === "_2" && value[0] === " " ? value.slice(1) : value;
      // Any one- or two-digit day is read here; the date as a whole is checked at the end.
      return num(getnum(v, elem === "02"), (n) => {
        f.day = n;
        return undefined;
      });
    }
    case "__2":
    case "002": {
      let v = value;
      for (let k = 0; k < 2 && elem === "__2" && v[0] === " "; k++) v = v.slice(1);
      return num(getnum3(v, elem === "002"), (n) => {
        f.yday = n;
        return undefined;
      });
    }
    case "15":
      return num(getnum(value, false), (n) => {
        f.hour = n;
        return n < 0 || n >= 24 ? "hour" : undefined;
      });
    case "3":
    case "03":
      return num(getnum(value, elem === "03"), (n) => {
        f.hour = n;
        return n < 0 || n > 12 ? "hour" : undefined;
      });
    case "4":
    case "04":
      return num(getnum(value, elem === "04"), (n) => {
        f.min = n;
        return n < 0 || n >= 60 ? "minute" : undefined;
      });
    case "5":
    case "05":
      return parseSeconds(elem, value, rest, f);
    case "PM":
    case "pm": {
      if (value.length < 2) return BAD;
      const p = value.slice(0, 2);
      if (p === (elem === "PM" ? "PM" : "pm")) f.pm = true;
      else if (p === (elem === "PM" ? "AM" : "am")) f.am = true;
      else return BAD;
      return value.slice(2);
    }
    case "MST": {
      if (value.startsWith("UTC")) {
        f.utc = true;
        return value.slice(3);
      }
      const n = timeZoneLength(value);
      if (n === 0) return BAD;
      f.zoneName = value.slice(0, n);
      return value.slice(n);
    }
  }
  return parseZoneOffset(elem, value, f);
}

/** Seconds, then a fractional second the layout does not show (Go accepts one after the seconds). */
function parseSeconds(elem: "5" | "05", value: string, rest: string, f: Fields): string | typeof BAD | { range: string; rest: string } {
  const r = getnum(value, elem === "05");
  if (r === BAD) return BAD;
  f.sec = r[0];
  let v = r[1];
  if (f.sec < 0 || f.sec >= 60) return { range: "second", rest: v };
  if (v.length >= 2 && commaOrPeriod(v[0]) && isDigitAt(v, 1)) {
    const next = nextChunk(rest).elem;
    if (typeof next === "object") return v;
    let n = 2;
    while (isDigitAt(v, n)) n++;
    const ns = parseNanoseconds(v, n);
    if (ns === BAD) return BAD;
    f.nsec = ns;
    v = v.slice(n);
  }
  return v;
}

function parseZoneOffset(elem: string, value: string, f: Fields): string | typeof BAD | { range: string; rest: string } {
  if (elem.startsWith("Z") && value[0] === "Z") {
    f.utc = true;
    return value.slice(1);
  }
  const body = elem.slice(1);
  let sign: string;
  let hh: string;
  let mm = "00";
  let ss = "00";
  let rest: string;
  if (body === "07:00") {
    if (value.length < 6 || value[3] !== ":") return BAD;
    [sign, hh, mm, rest] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), value.slice(6)];
  } else if (body === "07") {
    if (value.length < 3) return BAD;
    [sign, hh, rest] = [value.slice(0, 1), value.slice(1, 3), value.slice(3)];
  } else if (body === "07:00:00") {
    if (value.length < 9 || value[3] !== ":" || value[6] !== ":") return BAD;
    [sign, hh, mm, ss, rest] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), value.slice(7, 9), value.slice(9)];
  } else if (body === "070000") {
    if (value.length < 7) return BAD;
    [sign, hh, mm, ss, rest] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), value.slice(7)];
  } else {
    if (value.length < 5) return BAD;
    [sign, hh, mm, rest] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), value.slice(5)];
  }
  const h = getnum(hh, true);
  const m = getnum(mm, true);
  const s = getnum(ss, true);
  if (h === BAD || m === BAD || s === BAD) return BAD;
  // Offsets of 24 hours or 60 minutes are written by some, so only beyond is out of range.
  let range: string | undefined;
  if (h[0] > 24) range = "time zone offset hour";
  if (m[0] > 60) range = "time zone offset minute";
  if (s[0] > 60) range = "time zone offset second";
  const offset = (h[0] * 60 + m[0]) * 60 + s[0];
  if (sign === "+") f.zoneOffset = offset;
  else if (sign === "-") f.zoneOffset = -offset;
  else return BAD;
  return range === undefined ? rest : { range, rest };
}

/**
 * Go's time.Parse: the value read against the layout element by element,
 * then the date checked as a whole. Without zone information the time is
 * UTC; a zone abbreviation other than UTC (and the local zone's own) leaves
 * the clock as UTC, as Go does when it cannot know the offset.
 */
export function parseTime(layout: string, value: string): GoTime {
  const f: Fields = {
    year: 0,
    month: -1,
    day: -1,
    yday: -1,
    hour: 0,
    min: 0,
    sec: 0,
    nsec: 0,
    pm: false,
    am: false,
    utc: false,
    zoneOffset: undefined,
    zoneName: "",
  };
  let rest = layout;
  let v = value;
  for (;;) {
    const chunk = nextChunk(rest);
    const skipped = skip(v, chunk.prefix);
    if (skipped === BAD) throw parseError(layout, value, v, chunk.prefix);
    v = skipped;
    if (chunk.elem === undefined) {
      if (v.length !== 0) throw parseMessage(value, `: extra text: ${goTimeQuote(v)}`);
      break;
    }
    rest = chunk.suffix;
    const r = parseElem(chunk.elem, v, rest, f);
    if (r === BAD) throw parseError(layout, value, v, chunk.text);
    if (typeof r === "object") throw parseMessage(value, `: ${r.range} out of range`);
    v = r;
  }
  return finishParse(f, value);
}

function finishParse(f: Fields, value: string): GoTime {
  if (f.pm && f.hour < 12) f.hour += 12;
  else if (f.am && f.hour === 12) f.hour = 0;
  if (f.yday >= 0) dayOfYear(f, value);
  else {
    if (f.month < 0) f.month = 1;
    if (f.day < 0) f.day = 1;
  }
  if (f.day < 1 || f.day > daysIn(f.month, f.year)) throw parseMessage(value, ": day out of range");
  if (f.utc) return goDate(f.year, f.month, f.day, f.hour, f.min, f.sec, f.nsec, UTC);
  const wall = goDate(f.year, f.month, f.day, f.hour, f.min, f.sec, f.nsec, UTC);
  if (f.zoneOffset !== undefined) return { sec: wall.sec - f.zoneOffset, nsec: wall.nsec, zone: fixedZone("", f.zoneOffset) };
  if (f.zoneName !== "") {
    const offset = localOffsetNamed(f.zoneName, wall.sec);
    if (offset !== undefined) return { sec: wall.sec - offset, nsec: wall.nsec, zone: localZone() };
    return { ...wall, zone: fixedZone(f.zoneName, 0) };
  }
  return wall;
}

/** The local zone's offset under an abbreviation it uses near that time, as Go's lookupName. */
function localOffsetNamed(name: string, sec: number): number | undefined {
  const local = localZone();
  if (local === UTC) return undefined;
  const halfYear = 182 * 86400;
  for (const at of [sec, sec - halfYear, sec + halfYear]) {
    const offset = local.offsetAt(at);
    if (local.abbrevAt(at - offset) === name) return offset;
  }
  return undefined;
}

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/** A day of the year into month and day, which must agree with any month and day also given. */
function dayOfYear(f: Fields, value: string): void {
  let yday = f.yday;
  let m = 0;
  let d = 0;
  if (isLeap(f.year)) {
    if (yday === 31 + 29) {
      m = 2;
      d = 29;
    } else if (yday > 31 + 29) yday--;
  }
  if (yday < 1 || yday > 365) throw parseMessage(value, ": day-of-year out of range");
  if (m === 0) {
    m = Math.floor((yday - 1) / 31) + 1;
    if ((DAYS_BEFORE[m] as number) < yday) m++;
    d = yday - (DAYS_BEFORE[m - 1] as number);
  }
  if (f.month >= 0 && f.month !== m) throw parseMessage(value, ": day-of-year does not match month");
  f.month = m;
  if (f.day >= 0 && f.day !== d) throw parseMessage(value, ": day-of-year does not match day");
  f.day = d;
}

// ---------------------------------------------------------------- durations

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["µs", 1_000n], // U+00B5 micro sign
  ["μs", 1_000n], // U+03BC Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

const LIMIT = 1n << 63n;

/**
 * Go's time.ParseDuration: a signed sequence of decimal numbers, each with
 * an optional fraction and a unit ("1h30m", "-1.5µs", "100ms"), in
 * nanoseconds within int64. Throws TimeParseError with Go's message.
 */
export function parseDuration(text: string): bigint {
  const invalid = (): TimeParseError => new TimeParseError(`time: invalid duration ${goTimeQuote(text)}`);
  let s = text;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let total = 0n;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const whole = m[1] as string;
    const frac = m[2];
    if (whole === "" && (frac === undefined || frac === "")) throw invalid();
    s = s.slice(m[0].length);
    let i = 0;
    while (i < s.length && s[i] !== "." && !isDigitAt(s, i)) i++;
    if (i === 0) throw new TimeParseError(`time: missing unit in duration ${goTimeQuote(text)}`);
    const unitName = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS.get(unitName);
    if (unit === undefined) throw new TimeParseError(`time: unknown unit ${goTimeQuote(unitName)} in duration ${goTimeQuote(text)}`);
    let v = whole === "" ? 0n : BigInt(whole);
    if (v > LIMIT / unit) throw invalid();
    v *= unit;
    if (frac !== undefined && frac !== "") {
      // Go keeps at most the digits that fit in int64 and scales in float64, truncating.
      const { digits, scale } = leadingFraction(frac);
      if (digits > 0n) {
        v += BigInt(Math.trunc(Number(digits) * (Number(unit) / scale)));
        if (v > LIMIT) throw invalid();
      }
    }
    total += v;
    if (total > LIMIT) throw invalid();
  }
  if (neg) return -total;
  if (total > LIMIT - 1n) throw invalid();
  return total;
}

function leadingFraction(frac: string): { digits: bigint; scale: number } {
  let digits = 0n;
  let scale = 1;
  for (const ch of frac) {
    if (digits > (LIMIT - 1n) / 10n) break;
    const next = digits * 10n + BigInt(Number(ch));
    if (next > LIMIT) break;
    digits = next;
    scale *= 10;
  }
  return { digits, scale };
}
