/**
 * net.cidr_* built-ins, called directly: OPA's conformance cases (netcidr*)
 * plus Go's parsing and formatting rules, and properties of merge and expand.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { NET_BUILTINS } from "../../../../src/policy/rego/builtins/net.ts";
import { fromJSON, toJSON, type Value } from "../../../../src/policy/rego/value.ts";
import { callIn, expectBuiltinError, family, set, testContext } from "./helpers.ts";

const { call, errorOf } = family(NET_BUILTINS, () => testContext());

describe("net.cidr_contains", () => {
  const cases: [string, string, boolean][] = [
    ["10.0.0.0/8", "10.1.0.0/24", true],
    ["10.0.0.0/8", "10.1.2.3", true],
    ["10.0.0.0/8", "11.0.0.0/24", false],
    ["10.0.0.0/8", "10.0.0.0/7", false],
    ["10.0.0.0/8", "10.0.0.0/8", true],
    ["192.168.1.0/28", "192.168.1.15", true],
    ["192.168.1.0/28", "192.168.1.16", false],
    ["2001:4860:4860::8888/32", "2001:4860:4860:1234::8888/40", true],
    ["2001:4860:4860::8888/32", "2001:4860:4860:1234:5678:1234:5678:8888/128", true],
    ["2001:4860:4860::8888/32", "2001:4861::1", false],
    ["0.0.0.0/0", "255.255.255.255", true],
    // Go: an IPv4 address is never in a network that is not IPv4(-mapped)...
    ["::/0", "10.0.0.1", false],
    // ...and an IPv4-mapped IPv6 network is an IPv4 one.
    ["::ffff:0:0/96", "10.0.0.1", true],
    ["::ffff:10.0.0.0/104", "10.2.3.4", true],
    ["10.0.0.0/8", "::ffff:10.2.3.4", true],
  ];
  for (const [a, b, want] of cases) {
    test(`${a} ⊇ ${b} is ${want}`, () => expect(call("net.cidr_contains", a, b)).toBe(want));
  }

  test("malformed CIDR a", () => {
    expectBuiltinError(errorOf("net.cidr_contains", "not-a-cidr", "192.168.1.67"), "eval_builtin_error", "net.cidr_contains: invalid CIDR address: not-a-cidr");
  });
  test("malformed CIDR b", () => {
    expectBuiltinError(errorOf("net.cidr_contains", "192.168.1.0/28", "not-a-cidr"), "eval_builtin_error", "net.cidr_contains: not a valid textual representation of an IP address or CIDR: not-a-cidr");
  });
  test("type errors name operand 1, as OPA does for either operand", () => {
    expect(errorOf("net.cidr_contains", 1, "10.0.0.1").message).toBe("net.cidr_contains: operand 1 must be string but got number");
    expectBuiltinError(errorOf("net.cidr_contains", "10.0.0.0/8", null), "eval_type_error", "net.cidr_contains: operand 1 must be string but got null");
  });
});

describe("net.cidr_intersects", () => {
  const cases: [string, string, boolean][] = [
    ["fd1e:5bfe:8af3:9ddc::/64", "fd1e:5bfe:8af3:9ddc:1111::/72", true],
    ["fd1e:5bfe:8af3:9ddc::/64", "2001:4860:4860::8888/32", false],
    ["192.168.1.0/24", "192.168.1.128/25", true],
    ["192.168.1.128/25", "192.168.1.0/24", true],
    ["192.168.1.0/25", "192.168.1.128/25", false],
    ["10.0.0.0/8", "::ffff:10.0.0.0/104", true],
  ];
  for (const [a, b, want] of cases) {
    test(`${a} ∩ ${b} is ${want}`, () => expect(call("net.cidr_intersects", a, b)).toBe(want));
  }
  test("malformed CIDR b", () => {
    expectBuiltinError(errorOf("net.cidr_intersects", "192.168.1.0/28", "not-a-cidr"), "eval_builtin_error", "net.cidr_intersects: invalid CIDR address: not-a-cidr");
  });
});

describe("net.cidr_is_valid (Go's ParseCIDR)", () => {
  const cases: [Value, boolean][] = [
    ["10.0.0.0/8", true],
    ["10.0.0.1/32", true],
    ["10.0.0.0/33", false],
    ["10.0.0.0/08", true],
    ["10.0.0.0/", false],
    ["10.0.0.0/+8", false],
    ["10.0.0.0", false],
    ["010.0.0.0/8", false],
    ["256.0.0.0/8", false],
    ["1.2.3/8", false],
    ["1.2.3.4.5/8", false],
    ["::/0", true],
    ["::1/128", true],
    ["::1/129", false],
    ["2001:db8::/32", true],
    ["2001:DB8::/32", true],
    ["2001:db8:::/32", false],
    ["2001::db8::1/64", false],
    ["1:2:3:4:5:6:7:8/64", true],
    ["1:2:3:4:5:6:7::/64", true],
    ["1:2:3:4:5:6:7:8::/64", false],
    ["1:2:3:4:5:6:7/64", false],
    ["12345::/16", false],
    ["::ffff:1.2.3.4/128", true],
    ["::1.2.3.4/128", true],
    ["1:2:3:4:5:6:1.2.3.4/128", true],
    ["1:2:3:4:5:1.2.3.4/128", false],
    ["::ffff:01.2.3.4/128", false],
    ["fe80::1%eth0/64", false],
    ["", false],
    [1, false],
    [null, false],
  ];
  for (const [s, want] of cases) {
    test(`${JSON.stringify(s)} is ${want}`, () => expect(call("net.cidr_is_valid", s)).toBe(want));
  }
});

describe("net.cidr_expand", () => {
  test("includes host and broadcast", () => {
    expect(toJSON(call("net.cidr_expand", "192.168.1.1/30") as Value)).toEqual(["192.168.1.0", "192.168.1.1", "192.168.1.2", "192.168.1.3"]);
  });
  test("invalid mask", () => {
    expectBuiltinError(errorOf("net.cidr_expand", "192.168.1.1/33"), "eval_builtin_error", "net.cidr_expand: invalid CIDR address: 192.168.1.1/33");
  });
  test("IPv6, printed as Go does", () => {
    expect(toJSON(call("net.cidr_expand", "2001:db8::/126") as Value)).toEqual(["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"]);
  });
  test("IPv4-mapped addresses print dotted", () => {
    expect(toJSON(call("net.cidr_expand", "::ffff:10.0.0.0/127") as Value)).toEqual(["10.0.0.0", "10.0.0.1"]);
  });
  test("a huge network runs into the budget instead of memory", () => {
    expect(() => callIn(testContext({ budget: 1000 }), NET_BUILTINS, "net.cidr_expand", "2001:db8::/64")).toThrow("budget");
  });
  const formats: [string, string][] = [
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["ABCD:0DB8:0:0:0:0:0:0", "abcd:db8::"],
    ["::1.2.3.4", "::102:304"],
  ];
  for (const [input, want] of formats) {
    test(`${input} prints as ${want}`, () => expect(toJSON(call("net.cidr_expand", `${input}/128`) as Value)).toEqual([want]));
  }
  test("printing is canonical: the printed form parses back to itself", () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => (n < 0x100 ? 0 : n).toString(16));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const text = groups.join(":");
        const printed = toJSON(call("net.cidr_expand", `${text}/128`) as Value) as string[];
        expect(printed.length).toBe(1);
        const p = printed[0] as string;
        expect(call("net.cidr_contains", `${p}/128`, text)).toBe(true);
        expect(toJSON(call("net.cidr_expand", `${p}/128`) as Value)).toEqual([p]);
      }),
    );
  });
});

describe("net.cidr_contains_matches", () => {
  test("arrays", () => {
    expect(toJSON(call("net.cidr_contains_matches", ["1.1.2.0/24", "1.1.1.0/24"], ["1.1.1.1", "1.1.2.1"]) as Value)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });
  test("arrays of tuples", () => {
    expect(toJSON(call("net.cidr_contains_matches", [["1.1.2.0/24", 1], "1.1.1.0/24"], ["1.1.1.1", "1.1.2.1"]) as Value)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });
  test("sets of strings", () => {
    expect(toJSON(call("net.cidr_contains_matches", set("1.1.1.0/24", "1.1.2.0/24"), set("1.1.1.1", "1.1.2.1")) as Value)).toEqual([
      ["1.1.1.0/24", "1.1.1.1"],
      ["1.1.2.0/24", "1.1.2.1"],
    ]);
  });
  test("objects report keys; a string reports itself", () => {
    const cidrs = fromJSON({ a: "10.0.0.0/8", b: ["192.168.0.0/16", "x"] });
    expect(toJSON(call("net.cidr_contains_matches", cidrs, "10.1.1.1") as Value)).toEqual([["a", "10.1.1.1"]]);
  });
  test("sets of tuples report the whole tuple", () => {
    const cidrs = set(["1.1.1.0/24", "bar"]);
    expect(toJSON(call("net.cidr_contains_matches", cidrs, set(["1.1.1.7", "q"])) as Value)).toEqual([
      [
        ["1.1.1.0/24", "bar"],
        ["1.1.1.7", "q"],
      ],
    ]);
  });
  test("bad set", () => {
    expectBuiltinError(errorOf("net.cidr_contains_matches", set(["1.1.1.0/24", "bar"], ["1.1.2.0/24", "foo"]), set(1, ["1.1.2.1", "qux"])), "eval_builtin_error", "net.cidr_contains_matches: operand 2: element must be string or non-empty array");
  });
  test("an empty tuple in operand 1", () => {
    expect(errorOf("net.cidr_contains_matches", [[]], "1.1.1.1").message).toBe(
      "net.cidr_contains_matches: operand 1: element must be string or non-empty array",
    );
  });
  test("malformed CIDR", () => {
    expect(errorOf("net.cidr_contains_matches", ["nope"], ["1.1.1.1"]).message).toBe("net.cidr_contains_matches: invalid CIDR address: nope");
  });
});

describe("net.cidr_merge", () => {
  const cases: [unknown[], string[]][] = [
    [["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"], ["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"]],
    [["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128", "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"], ["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"]],
    [["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64", "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"], ["2601:600:8a80:207e::/64"]],
    [["192.0.128.0/24", "192.0.129.0/24"], ["192.0.128.0/23"]],
    [["192.0.129.0/24", "192.0.130.0/24"], ["192.0.129.0/24", "192.0.130.0/24"]],
    [["192.0.128.0/24", "192.0.129.0/24", "192.0.130.0/24"], ["192.0.128.0/23", "192.0.130.0/24"]],
    [["10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"], ["10.0.0.0/8"]],
    [["1.1.1.0/25", "1.1.1.128/26", "1.1.1.192/26", "2001:db8::/33", "2001:db8:8000::/33"], ["1.1.1.0/24", "2001:db8::/32"]],
    [["192.0.128.0", "192.0.129.0"], ["192.0.128.0/23"]],
    // A lone IPv4 address keeps its classful mask and its own text, as in OPA.
    [["10.1.2.3"], ["10.1.2.3/8"]],
    [["0.0.0.0/0", "10.0.0.0/8"], ["0.0.0.0/0"]],
    [[], []],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => {
      expect(toJSON(call("net.cidr_merge", fromJSON(input)) as Value)).toEqual([...want].sort());
    });
  }
  test("a set operand", () => {
    expect(toJSON(call("net.cidr_merge", set("10.0.0.0/25", "10.0.0.128/25")) as Value)).toEqual(["10.0.0.0/24"]);
  });
  test("IPv6 without a prefix", () => {
    expectBuiltinError(errorOf("net.cidr_merge", ["2601:600:8a80:207e:a57d:7567:e2c9:e7b3"]), "eval_builtin_error", "net.cidr_merge: IPv6 invalid: needs prefix length");
  });
  test("other errors", () => {
    expect(errorOf("net.cidr_merge", [1]).message).toBe("net.cidr_merge: element must be string");
    expect(errorOf("net.cidr_merge", ["x/9"]).message).toBe("net.cidr_merge: invalid CIDR address: x/9");
    expect(errorOf("net.cidr_merge", "10.0.0.0/8").message).toBe("net.cidr_merge: operand must be an array");
  });

  test("the merged blocks cover exactly the inputs' addresses, without overlap", () => {
    const block = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 25, max: 32 })).map(([host, len]) => `10.0.0.${host}/${len}`);
    const addresses = (cidrs: readonly string[]): Set<string> => {
      const out = new Set<string>();
      for (const c of cidrs) for (const a of toJSON(call("net.cidr_expand", c) as Value) as string[]) out.add(a);
      return out;
    };
    fc.assert(
      fc.property(fc.array(block, { maxLength: 12 }), (cidrs) => {
        const merged = toJSON(call("net.cidr_merge", cidrs) as Value) as string[];
        const want = addresses(cidrs);
        expect([...addresses(merged)].sort()).toEqual([...want].sort());
        let total = 0;
        for (const m of merged) total += (toJSON(call("net.cidr_expand", m) as Value) as string[]).length;
        expect(total).toBe(want.size);
      }),
    );
  });
});
