/**
 * Time built-ins: time.now_ns, time.parse_ns, time.parse_rfc3339_ns,
 * time.parse_duration_ns, time.date, time.clock, time.weekday, time.format,
 * time.add_date and time.diff.
 *
 * Instants are int64 nanoseconds, as in OPA: beyond 2^53 they are exact
 * bigints (numFromBigInt), and a result outside int64 is OPA's "time outside
 * of valid range". A time argument is either the nanoseconds or an array
 * [ns, zone] (and for time.format [ns, zone, layout]); the zone is an IANA
 * name, "Local" (the process's zone) or "UTC"/"" . The Go semantics (layouts,
 * normalization, durations) live in go-time.ts.
 *
 * time.now_ns reads ctx.nowNs, which the evaluator reads once per
 * evaluation, so every call in one evaluation agrees.
 */
import { numFromBigInt, toBigInt } from "../number.ts";
import { isNumber, type Value } from "../value.ts";
import {
  addDate,
  civil,
  daysIn,
  formatTime,
  fromUnixNano,
  inRange,
  loadZone,
  localZone,
  MAX_NS,
  MIN_NS,
  NAMED_LAYOUTS,
  parseDuration,
  parseTime,
  RFC3339,
  RFC3339_NANO,
  TimeParseError,
  UTC,
  unixNano,
  WEEKDAYS,
  type GoTime,
  type Zone,
} from "./go-time.ts";
import { BuiltinError, builtinError, operandError, type BuiltinDef } from "./types.ts";

const TIME_OPERAND = "either number (ns) or [number (ns), string (tz)]";

function zoneNamed(name: string, tz: string): Zone {
  if (tz === "" || tz === "UTC") return UTC;
  if (tz === "Local") return localZone();
  if (tz.includes("..") || tz.startsWith("/") || tz.startsWith("\\")) throw builtinError(name, "time: invalid location name");
  const zone = loadZone(tz);
  if (zone === undefined) throw builtinError(name, `unknown time zone ${tz}`);
  return zone;
}

/** A time operand (ns, [ns, tz] or [ns, tz, layout]) as an instant in its zone, and the layout if given. */
function timeOperand(name: string, arg: Value): { t: GoTime; layout: string } {
  let n: Value;
  let zone = UTC;
  let layout = "";
  if (Array.isArray(arg)) {
    const items = arg as readonly Value[];
    if (items.length === 0) throw operandError(name, 1, TIME_OPERAND, arg);
    n = items[0] as Value;
    if (!isNumber(n)) throw operandError(name, 1, "number", n);
    if (items.length > 1) {
      const tz = items[1] as Value;
      if (typeof tz !== "string") throw operandError(name, 1, "string", tz);
      zone = zoneNamed(name, tz);
    }
    if (items.length > 2) {
      const l = items[2] as Value;
      if (typeof l !== "string") throw operandError(name, 1, "string", l);
      layout = l;
    }
  } else if (isNumber(arg)) {
    n = arg;
  } else {
    throw operandError(name, 1, TIME_OPERAND, arg);
  }
  const ns = isNumber(n) ? toBigInt(n) : undefined;
  if (ns === undefined || ns < MIN_NS || ns > MAX_NS) throw builtinError(name, "timestamp too big");
  return { t: fromUnixNano(ns, zone), layout };
}

/** An instant as OPA returns it, or its range error. */
function nanos(name: string, t: GoTime): Value {
  if (!inRange(t)) throw builtinError(name, "time outside of valid range");
  return numFromBigInt(unixNano(t));
}

function stringArg(name: string, args: readonly Value[], position: number): string {
  const v = args[position - 1] as Value;
  if (typeof v !== "string") throw operandError(name, position, "string", v);
  return v;
}

/** builtins.IntOperand: an integer that fits Go's int. */
function intArg(name: string, args: readonly Value[], position: number): number {
  const v = args[position - 1] as Value;
  if (!isNumber(v)) throw operandError(name, position, "number", v);
  const b = toBigInt(v);
  if (b === undefined || b < MIN_NS || b > MAX_NS) {
    throw new BuiltinError("eval_type_error", `${name}: operand ${position} must be integer number but got floating-point number`);
  }
  return Number(b);
}

function goParse(name: string, layout: string, value: string): Value {
  let t: GoTime;
  try {
    t = parseTime(layout, value);
  } catch (e) {
    if (e instanceof TimeParseError) throw builtinError(name, e.message);
    throw e;
  }
  return nanos(name, t);
}

/**
 * time.diff: the calendar difference [years, months, days, hours, minutes,
 * seconds] between two instants, both read in the first one's zone, the
 * earlier subtracted from the later with borrows carried upwards (a day
 * borrowed is the length of the earlier instant's month).
 */
function diff(a: GoTime, b: GoTime): number[] {
  const first = a.sec < b.sec || (a.sec === b.sec && a.nsec <= b.nsec);
  const c1 = civil(first ? a : { ...a, sec: b.sec, nsec: b.nsec });
  const c2 = civil(first ? { ...a, sec: b.sec, nsec: b.nsec } : a);
  let [year, month, day] = [c2.year - c1.year, c2.month - c1.month, c2.day - c1.day];
  let [hour, min, sec] = [c2.hour - c1.hour, c2.min - c1.min, c2.sec - c1.sec];
  if (sec < 0) {
    sec += 60;
    min--;
  }
  if (min < 0) {
    min += 60;
    hour--;
  }
  if (hour < 0) {
    hour += 24;
    day--;
  }
  if (day < 0) {
    day += daysIn(c1.month, c1.year);
    month--;
  }
  if (month < 0) {
    month += 12;
    year--;
  }
  return [year, month, day, hour, min, sec];
}

function timeFn(name: string, f: (t: GoTime, layout: string) => Value): BuiltinDef {
  return {
    name,
    arity: 1,
    args: ["any"],
    fn: (args) => {
      const { t, layout } = timeOperand(name, args[0] as Value);
      return f(t, layout);
    },
  };
}

export const TIME_BUILTINS: readonly BuiltinDef[] = [
  { name: "time.now_ns", arity: 0, args: [], nondeterministic: true, fn: (_args, ctx) => numFromBigInt(ctx.nowNs) },
  {
    name: "time.parse_ns",
    arity: 2,
    args: ["string", "string"],
    fn: (args) => {
      const layout = stringArg("time.parse_ns", args, 1);
      const value = stringArg("time.parse_ns", args, 2);
      return goParse("time.parse_ns", NAMED_LAYOUTS.get(layout) ?? layout, value);
    },
  },
  {
    name: "time.parse_rfc3339_ns",
    arity: 1,
    args: ["string"],
    fn: (args) => goParse("time.parse_rfc3339_ns", RFC3339, stringArg("time.parse_rfc3339_ns", args, 1)),
  },
  {
    name: "time.parse_duration_ns",
    arity: 1,
    args: ["string"],
    fn: (args) => {
      const text = stringArg("time.parse_duration_ns", args, 1);
      try {
        return numFromBigInt(parseDuration(text));
      } catch (e) {
        if (e instanceof TimeParseError) throw builtinError("time.parse_duration_ns", e.message);
        throw e;
      }
    },
  },
  timeFn("time.date", (t) => {
    const c = civil(t);
    return [c.year, c.month, c.day];
  }),
  timeFn("time.clock", (t) => {
    const c = civil(t);
    return [c.hour, c.min, c.sec];
  }),
  timeFn("time.weekday", (t) => WEEKDAYS[civil(t).weekday] as string),
  timeFn("time.format", (t, layout) => formatTime(t, layout === "" ? RFC3339_NANO : (NAMED_LAYOUTS.get(layout) ?? layout))),
  {
    name: "time.add_date",
    arity: 4,
    args: ["any", "number", "number", "number"],
    fn: (args) => {
      const name = "time.add_date";
      const { t } = timeOperand(name, args[0] as Value);
      const years = intArg(name, args, 2);
      const months = intArg(name, args, 3);
      const days = intArg(name, args, 4);
      return nanos(name, addDate(t, years, months, days));
    },
  },
  {
    name: "time.diff",
    arity: 2,
    args: ["any", "any"],
    fn: (args) => {
      const a = timeOperand("time.diff", args[0] as Value).t;
      const b = timeOperand("time.diff", args[1] as Value).t;
      return diff(a, b);
    },
  },
];
