/**
 * time.* built-ins, called directly: OPA's conformance cases (folder time,
 * and the time.now_ns consistency case) plus Go's layout, parsing and
 * duration rules that OPA inherits.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { TIME_BUILTINS } from "../../../../src/policy/rego/builtins/time.ts";
import { numFromBigInt, parseNumber, toBigInt } from "../../../../src/policy/rego/number.ts";
import { toJSONText, type Value } from "../../../../src/policy/rego/value.ts";
import { expectBuiltinError, family, testContext } from "./helpers.ts";

const NOW = 1670006453141828752n;
const { call, errorOf: failure } = family(TIME_BUILTINS, testContext({ nowNs: NOW }));

const n = (text: string): Value => parseNumber(text) as Value;
const ns = (b: bigint): Value => numFromBigInt(b);
const text = (v: Value | undefined): string => toJSONText(v as Value);

describe("conformance cases (time)", () => {
  test("time/parse_rfc3339_nanos: the int64 limits exactly", () => {
    const cases: [string, string][] = [
      ["1677-09-21T00:12:43.145224192-00:00", "-9223372036854775808"],
      ["1970-01-01T00:00:00-00:00", "0"],
      ["2017-06-02T19:00:00-07:00", "1496455200000000000"],
      ["2262-04-11T23:47:16.854775807-00:00", "9223372036854775807"],
    ];
    for (const [input, want] of cases) expect(text(call("time.parse_rfc3339_ns", input))).toBe(want);
  });

  test("time/parse_rfc3339_nanos_too_small and _too_large", () => {
    for (const input of ["1677-09-21T00:12:43.145224191-00:00", "2262-04-11T23:47:16.854775808-00:00"]) {
      const e = failure("time.parse_rfc3339_ns", input);
      expect(e.code).toBe("eval_builtin_error");
      expect(e.message).toContain("time outside of valid range");
    }
  });

  test("time/parse duration nanos", () => expect(call("time.parse_duration_ns", "100ms")).toBe(100000000));
  test("time/date", () => expect(call("time.date", n("1517814000000000000"))).toEqual([2018, 2, 5]));
  test("time/clock with NY tz", () => expect(call("time.clock", [n("1517832000000000000"), "America/New_York"])).toEqual([7, 0, 0]));
  test("time/clock leap day", () => expect(call("time.clock", n("1582977600000000000"))).toEqual([12, 0, 0]));
  test("time/weekday", () => expect(call("time.weekday", n("1518177600000000000"))).toBe("Friday"));

  test("time/date, weekday and format too big", () => {
    for (const name of ["time.date", "time.weekday", "time.format"]) {
      expectBuiltinError(failure(name, n("1582977600000000000000")), "eval_builtin_error", `${name}: timestamp too big`);
    }
  });

  test("time/add_date year month day", () => {
    expect(text(call("time.add_date", n("1585852421593912000"), 3, 9, 12))).toBe("1705257221593912000");
  });

  test("time/add_date too large result", () => {
    expectBuiltinError(failure("time.add_date", 0, 2262, 1, 1), "eval_builtin_error", "time.add_date: time outside of valid range");
  });

  test("time/diff", () => {
    const parse = (s: string): Value => call("time.parse_ns", "2006-01-02", s) as Value;
    expect(call("time.diff", ns(NOW + 61_000_000_000n), ns(NOW))).toEqual([0, 0, 0, 0, 1, 1]);
    expect(call("time.diff", [ns(NOW + 60_000_000_000n), "UTC"], [ns(NOW), "Asia/Shanghai"])).toEqual([0, 0, 0, 0, 1, 0]);
    expect(call("time.diff", parse("2020-02-02"), parse("2020-03-01"))).toEqual([0, 0, 28, 0, 0, 0]);
    expect(call("time.diff", parse("2021-02-02"), parse("2021-03-01"))).toEqual([0, 0, 27, 0, 0, 0]);
    expect(call("time.diff", parse("2004-02-29"), parse("2005-03-01"))).toEqual([1, 0, 1, 0, 0, 0]);
  });

  test("time/format", () => {
    const t = n("1670006453141828752");
    expect(call("time.format", t)).toBe("2022-12-02T18:40:53.141828752Z");
    expect(call("time.format", [t, "Asia/Kolkata"])).toBe("2022-12-03T00:10:53.141828752+05:30");
    expect(call("time.format", [t, "Asia/Kolkata", "Mon Jan 02 15:04:05 -0700 2006"])).toBe("Sat Dec 03 00:10:53 +0530 2022");
    expect(call("time.format", [t, "Asia/Kolkata", "RFC1123Z"])).toBe("Sat, 03 Dec 2022 00:10:53 +0530");
  });

  test("time.now_ns reads the evaluation's clock", () => {
    expect(text(call("time.now_ns"))).toBe(NOW.toString());
    expect(text(call("time.now_ns"))).toBe(text(call("time.now_ns")));
    expect(TIME_BUILTINS.find((d) => d.name === "time.now_ns")?.nondeterministic).toBe(true);
  });
});

describe("time.format layouts", () => {
  const t = n("1670006453141828752"); // 2022-12-02T18:40:53.141828752Z, a Friday
  const cases: [string, string, string][] = [
    ["America/New_York", "ANSIC", "Fri Dec  2 13:40:53 2022"],
    ["America/New_York", "UnixDate", "Fri Dec  2 13:40:53 EST 2022"],
    ["Europe/Berlin", "RFC822", "02 Dec 22 19:40 CET"],
    ["UTC", "RFC850", "Friday, 02-Dec-22 18:40:53 UTC"],
    ["UTC", "RFC3339", "2022-12-02T18:40:53Z"],
    ["America/Los_Angeles", "RubyDate", "Fri Dec 02 10:40:53 -0800 2022"],
    ["UTC", "3:04PM", "6:40PM"],
    ["UTC", "Jan _2 15:04:05.000", "Dec  2 18:40:53.141"],
    ["UTC", "__2 002 .999 ,000000 pm", "336 336 .141 ,141828 pm"],
    ["America/New_York", "Z0700 Z07 -07:00:00 -070000 Z07:00", "-0500 -05 -05:00:00 -050000 -05:00"],
    ["UTC", "Z0700 Z07 -0700 Z07:00:00", "Z Z +0000 Z"],
    ["UTC", "January Monday 1/2/06 03:04:05 PM", "December Friday 12/2/22 06:40:53 PM"],
    ["UTC", "Janet Mondays", "Janet Fridays"],
    ["UTC", "_2006", "_2022"],
    ["UTC", ".9999999999 .0", ".141828752 .1"],
    ["Asia/Kolkata", "MST", "IST"],
    ["America/Sao_Paulo", "MST", "-03"],
  ];
  for (const [zone, layout, want] of cases) test(`${zone} ${layout}`, () => expect(call("time.format", [t, zone, layout])).toBe(want));

  test("whole seconds drop the fraction under .999", () => {
    expect(call("time.format", n("1670006453000000000"))).toBe("2022-12-02T18:40:53Z");
  });

  test("operand and zone errors", () => {
    expect(failure("time.format", [t, "Nowhere/Foo"]).message).toBe("time.format: unknown time zone Nowhere/Foo");
    expect(failure("time.format", [t, "america/new_york"]).message).toBe("time.format: unknown time zone america/new_york");
    expect(failure("time.format", [t, "../etc"]).message).toBe("time.format: time: invalid location name");
    expectBuiltinError(failure("time.format", "x"), "eval_type_error", "time.format: operand 1 must be either number (ns) or [number (ns), string (tz)] but got string");
    expect(failure("time.format", []).message).toBe("time.format: operand 1 must be either number (ns) or [number (ns), string (tz)] but got array");
    expect(failure("time.format", ["x"]).message).toBe("time.format: operand 1 must be number but got string");
    expect(failure("time.format", [t, 1]).message).toBe("time.format: operand 1 must be string but got number");
    expect(failure("time.format", 1.5).message).toBe("time.format: timestamp too big");
  });
});

describe("time.parse_ns as Go's time.Parse", () => {
  const ok: [string, string, string][] = [
    ["2006-01-02", "2020-02-03", "1580688000000000000"],
    ["RFC1123", "Mon, 03 Feb 2020 10:00:00 GMT", "1580724000000000000"],
    ["02 Jan 06 15:04 -0700", "03 Feb 20 10:00 +0530", "1580704200000000000"],
    ["Jan 2 2006", "feb  3 2020", "1580688000000000000"],
    ["2006 002", "2020 060", "1582934400000000000"],
    ["2006-01-02 3:04PM", "2020-02-03 12:30AM", "1580689800000000000"],
    ["2006-01-02T15:04:05Z07:00", "2020-02-03T10:00:00.5Z", "1580724000500000000"],
    ["2006-01-02T15:04:05.999Z", "2020-02-03T10:00:00Z", "1580724000000000000"],
    ["2006-01-02 MST", "2020-02-03 UTC", "1580688000000000000"],
  ];
  for (const [layout, value, want] of ok) test(`${layout} ← ${value}`, () => expect(text(call("time.parse_ns", layout, value))).toBe(want));

  const errors: [string, string, string][] = [
    ["2006-01-02", "2020-02-30", 'parsing time "2020-02-30": day out of range'],
    ["2006-01-02", "2020-13-01", 'parsing time "2020-13-01": month out of range'],
    ["2006-01-02", "2020-01-02x", 'parsing time "2020-01-02x": extra text: "x"'],
    ["2006-01-02 15:04", "2020-01-02 25:00", 'parsing time "2020-01-02 25:00": hour out of range'],
    ["RFC3339", "2017-06-02T19:00:00", 'parsing time "2017-06-02T19:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"'],
    ["2006-01-02", "2020-1-02", 'parsing time "2020-1-02" as "2006-01-02": cannot parse "1-02" as "01"'],
    ["2006-01-02T15:04:05.000Z", "2020-01-02T10:00:00.12Z", 'parsing time "2020-01-02T10:00:00.12Z" as "2006-01-02T15:04:05.000Z": cannot parse ".12Z" as ".000"'],
    ["2006 002", "2021 366", 'parsing time "2021 366": day-of-year out of range'],
    ["2006-01-02", "é", 'parsing time "\\xc3\\xa9" as "2006-01-02": cannot parse "\\xc3\\xa9" as "2006"'],
    ["3:04PM", "10:00PM", "time outside of valid range"],
  ];
  for (const [layout, value, message] of errors) {
    test(`${layout} ← ${value} fails`, () => {
      expectBuiltinError(failure("time.parse_ns", layout, value), "eval_builtin_error", `time.parse_ns: ${message}`);
    });
  }
});

describe("time.parse_duration_ns as Go's ParseDuration", () => {
  const ok: [string, string][] = [
    ["0", "0"],
    ["-0", "0"],
    ["1h30m1.5s", "5401500000000"],
    ["-1.5µs", "-1500"],
    ["1.5μs", "1500"],
    ["3us", "3000"],
    [".5h", "1800000000000"],
    ["1.h", "3600000000000"],
    ["+2m", "120000000000"],
    ["9223372036854775807ns", "9223372036854775807"],
    ["-9223372036854775808ns", "-9223372036854775808"],
    ["0.000000001s", "1"],
  ];
  for (const [input, want] of ok) test(input, () => expect(text(call("time.parse_duration_ns", input))).toBe(want));

  const errors: [string, string][] = [
    ["", 'time: invalid duration ""'],
    ["1", 'time: missing unit in duration "1"'],
    ["1x", 'time: unknown unit "x" in duration "1x"'],
    [".s", 'time: invalid duration ".s"'],
    ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'],
    ["3000000h", 'time: invalid duration "3000000h"'],
    ["1h-1m", 'time: unknown unit "h-" in duration "1h-1m"'],
  ];
  for (const [input, message] of errors) {
    test(`${JSON.stringify(input)} fails`, () => expect(failure("time.parse_duration_ns", input).message).toBe(`time.parse_duration_ns: ${message}`));
  }
});

describe("time.add_date and zones", () => {
  test("normalizes as Go's Date: Jan 31 + 1 month is March 2 or 3", () => {
    const jan31 = call("time.parse_ns", "2006-01-02", "2021-01-31") as Value;
    expect(call("time.date", call("time.add_date", jan31, 0, 1, 0) as Value)).toEqual([2021, 3, 3]);
    expect(call("time.date", call("time.add_date", jan31, 0, -2, -31) as Value)).toEqual([2020, 10, 31]);
  });

  test("keeps the wall clock across a DST change in the zone", () => {
    // 2021-03-13T12:00:00-05:00 in New York; a day later the clocks moved forward.
    const before = call("time.parse_rfc3339_ns", "2021-03-13T12:00:00-05:00") as Value;
    const after = call("time.add_date", [before, "America/New_York"], 0, 0, 1) as Value;
    expect(call("time.clock", [after, "America/New_York"])).toEqual([12, 0, 0]);
    expect(text(after)).toBe(text(call("time.parse_rfc3339_ns", "2021-03-14T12:00:00-04:00")));
  });

  test("operands must be integers", () => {
    expectBuiltinError(failure("time.add_date", 0, 1.5, 0, 0), "eval_type_error", "time.add_date: operand 2 must be integer number but got floating-point number");
    expect(failure("time.add_date", 0, 1, "x", 0).message).toBe("time.add_date: operand 3 must be number but got string");
  });
});

const instant = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
/** From 1910 on, when every zone below had an offset of whole minutes (RFC 3339 cannot write local mean time's seconds). */
const modernInstant = fc.bigInt({ min: -1893456000n * 1_000_000_000n, max: 2n ** 63n - 1n });

describe("properties", () => {
  test("RFC3339Nano text parses back to the same instant, in any zone", () => {
    fc.assert(
      fc.property(modernInstant, fc.constantFrom("UTC", "America/New_York", "Asia/Kolkata", "Australia/Sydney"), (t, zone) => {
        const formatted = call("time.format", [ns(t), zone]) as string;
        expect(toBigInt(call("time.parse_rfc3339_ns", formatted) as never)).toBe(t);
      }),
    );
  });

  test("date, clock and weekday agree with JS Date in UTC", () => {
    fc.assert(
      fc.property(instant, (t) => {
        const ms = Number(t / 1_000_000n) - (t % 1_000_000n < 0n ? 1 : 0);
        const d = new Date(ms);
        expect(call("time.date", ns(t))).toEqual([d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]);
        expect(call("time.clock", ns(t))).toEqual([d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]);
        expect(call("time.weekday", ns(t))).toBe(["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][d.getUTCDay()]);
      }),
    );
  });

  test("add_date of nothing is the identity; diff is symmetric", () => {
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        expect(toBigInt(call("time.add_date", ns(a), 0, 0, 0) as never)).toBe(a);
        expect(call("time.diff", ns(a), ns(b))).toEqual(call("time.diff", ns(b), ns(a)) as Value[]);
      }),
    );
  });
});
