import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AddressSet, clientFromForwardedFor, parseAddress, parseRange } from "../../../src/sidecar/addresses.ts";

describe("addresses", () => {
  test.each([
    ["127.0.0.1", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["[::1]", true],
    ["fe80::1%eth0", true],
    ["2001:db8::8a2e:370:7334", true],
    ["1:2:3:4:5:6:7:8", true],
    ["1:2:3:4:5:6:7:8:9", false],
    ["1::2::3", false],
    ["256.1.1.1", false],
    ["01.1.1.1", false],
    ["1.1.1", false],
    ["example.com", false],
    ["", false],
    ["unknown", false],
  ])("parseAddress(%p) is an address: %p", (text, ok) => {
    expect(parseAddress(text) !== undefined).toBe(ok);
  });

  test.each([
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["127.0.0.0/8", "::ffff:127.9.9.9", true],
    ["::1/128", "::1", true],
    ["::1/128", "::2", false],
    ["fd00::/8", "fd12:3456::1", true],
    ["fd00::/8", "fe80::1", false],
    ["192.168.1.7", "192.168.1.7", true],
    ["192.168.1.7", "192.168.1.8", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["0.0.0.0/0", "2001:db8::1", false],
  ])("%p contains %p: %p", (range, address, yes) => {
    expect(new AddressSet([range]).has(address)).toBe(yes);
  });

  test.each(["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8", "1.2.3.4/08x"])("a malformed range is refused: %p", (r) => {
    expect(parseRange(r)).toBeUndefined();
    expect(() => new AddressSet([r])).toThrow(/not an IP address or CIDR range/);
  });

  test("an IPv4 address and its IPv4-mapped IPv6 form are the same address (property)", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(parseAddress(`::ffff:${ip}`)).toEqual(parseAddress(ip) as Uint8Array);
        expect(new AddressSet([`${ip}/32`]).has(`::ffff:${ip}`)).toBe(true);
      }),
    );
  });

  test("every IPv6 address fast-check makes parses, and a /128 of it contains only it (property)", () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(parseAddress(ip)).toBeDefined();
        expect(new AddressSet([`${ip}/128`]).has(ip)).toBe(true);
      }),
    );
  });

  describe("the client in X-Forwarded-For: the rightmost entry that is not a trusted front", () => {
    const trusted = new AddressSet(["127.0.0.0/8", "10.0.0.0/8"]);
    test.each([
      ["203.0.113.7", "203.0.113.7"],
      ["203.0.113.7, 10.0.0.2", "203.0.113.7"],
      // The client wrote the first entry itself: the front appended the address it saw.
      ["1.2.3.4, 203.0.113.7", "203.0.113.7"],
      ["1.2.3.4, 203.0.113.7, 10.1.1.1, 127.0.0.1", "203.0.113.7"],
      ["10.0.0.5, 127.0.0.1", "10.0.0.5"],
      ["[2001:db8::1]:4711, 10.0.0.1", "2001:db8::1"],
      ["203.0.113.7:5555", "203.0.113.7"],
      ["garbage, 10.0.0.9", "10.0.0.9"],
      ["garbage", undefined],
      ["", undefined],
    ])("%p → %p", (list, client) => {
      expect(clientFromForwardedFor(list, trusted)).toBe(client as string);
    });
  });
});
