/**
 * uuid.rfc4122 and uuid.parse called directly: OPA's uuid conformance cases
 * (input forms, versions 2 to 4, a non-string), stability per key, and the
 * shape of generated UUIDs.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { UUID_BUILTINS } from "../../../../src/policy/rego/builtins/uuid.ts";
import { BuiltinError, type BuiltinContext } from "../../../../src/policy/rego/builtins/types.ts";
import { fromJSON, toJSON, toJSONText, type Value } from "../../../../src/policy/rego/value.ts";
import { parseNumber } from "../../../../src/policy/rego/number.ts";
import { callIn, testContext } from "./helpers.ts";

const newCtx = () => testContext();
const call = (c: BuiltinContext, name: string, ...args: Value[]) => callIn(c, UUID_BUILTINS, name, ...args);

const ctx = newCtx();
const V4 = { variant: "RFC4122", version: 4 };

describe("uuid.parse", () => {
  const v2 = fromJSON({
    clocksequence: 12800,
    domain: "Person",
    id: 1000,
    macvariables: "local:unicast",
    nodeid: "32-50-96-b3-9f-47",
    time: parseNumber("1693566990121469600") as Value,
    variant: "RFC4122",
    version: 2,
  });
  const cases: [string, Value][] = [
    ["00000000-0000-4000-8000-000000000000", fromJSON(V4)],
    ["{00000000-0000-4000-8000-000000000000}", fromJSON(V4)],
    ["URN:uuid:00000000-0000-4000-8000-000000000000", fromJSON(V4)],
    ["000003e8-48b9-21ee-b200-325096b39f47", v2],
    ["urn:uuid:000003e8-48b9-21ee-b200-325096b39f47", v2],
    ["38074da4-0b00-388d-9c3c-362de965547a", fromJSON({ variant: "RFC4122", version: 3 })],
    ["6bea8ef2d3d33cd184e09bab06a52ece", fromJSON({ variant: "RFC4122", version: 3 })],
    ["00000000-0000-4000-c000-000000000000", fromJSON({ variant: "Microsoft", version: 4 })],
    ["00000000-0000-4000-0000-000000000000", fromJSON({ variant: "Reserved", version: 4 })],
  ];
  for (const [s, want] of cases) test(`uuid.parse(${s})`, () => expect(toJSONText(call(ctx, "uuid.parse", s) as Value)).toBe(toJSONText(want)));

  test("a version-1 UUID carries time, clock sequence and node", () => {
    // Node 01-00-5e-00-00-fb: its first byte has the multicast bit and not the local one.
    const got = toJSON(call(ctx, "uuid.parse", "6b1f6f7f-48b9-11ee-b200-01005e0000fb") as Value) as Record<string, unknown>;
    expect(got.version).toBe(1);
    expect(got.nodeid).toBe("01-00-5e-00-00-fb");
    expect(got.macvariables).toBe("global:multicast");
    expect(got.clocksequence).toBe(12800);
    expect(got.domain).toBeUndefined();
  });

  test("strings that are no UUID give no result", () => {
    for (const s of ["", "00000000-0000-4000-8000-00000000000", "00000000x0000-4000-8000-000000000000", "g0000000-0000-4000-8000-000000000000", "ü0000000-0000-4000-8000-000000000000"]) {
      expect(call(ctx, "uuid.parse", s)).toBeUndefined();
    }
  });

  test("a non-string is an operand error (undefined outside strict mode)", () => {
    expect(() => call(ctx, "uuid.parse", 123)).toThrow(BuiltinError);
  });
});

describe("uuid.rfc4122", () => {
  test("one value per key within a cache, fresh ones across caches", () => {
    const c = newCtx();
    const a = call(c, "uuid.rfc4122", "key");
    for (let i = 0; i < 100; i++) expect(call(c, "uuid.rfc4122", "key")).toBe(a as string);
    expect(call(c, "uuid.rfc4122", "other")).not.toBe(a as string);
    expect(call(newCtx(), "uuid.rfc4122", "key")).not.toBe(a as string);
  });

  test("every generated UUID is a version-4 RFC 4122 UUID that uuid.parse reads back", () => {
    fc.assert(
      fc.property(fc.string(), (k) => {
        const id = call(newCtx(), "uuid.rfc4122", k) as string;
        return /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id) && JSON.stringify(toJSON(call(ctx, "uuid.parse", id) as Value)) === JSON.stringify(V4);
      }),
    );
  });

  test("is marked nondeterministic", () => {
    expect(UUID_BUILTINS.find((d) => d.name === "uuid.rfc4122")?.nondeterministic).toBe(true);
  });
});
