/** Contract inference: schemas from samples (table-driven), the bounds that keep a learner small, and which bodies are learned from. */
import { describe, expect, test } from "bun:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { ContractLearner, contractSchema, detectFormat, type InferLimits, type JsonSchema, observeBody, type SchemaOptions } from "../../../src/observe/contract/index.ts";
import { Distinct, type DistinctState } from "../../../src/observe/contract/distinct.ts";

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: true });
addFormats(ajv as never);

function learn(samples: unknown[], limits: Partial<InferLimits> = {}): ContractLearner {
  const l = new ContractLearner(limits);
  for (const s of samples) l.observe(s);
  return l;
}

function infer(samples: unknown[], options: SchemaOptions = {}, limits: Partial<InferLimits> = {}): JsonSchema | undefined {
  return contractSchema(learn(samples, limits).state(), options);
}

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-1234-4abc-8def-${(i * 7919).toString(16).padStart(12, "0")}`;

describe("inferred schemas", () => {
  const cases: { name: string; samples: unknown[]; options?: SchemaOptions; limits?: Partial<InferLimits>; want: JsonSchema }[] = [
    { name: "scalars: integer, number, boolean, string, null", samples: [{ a: 1, b: 1.5, c: true, d: "x", e: null }], want: { type: "object", properties: { a: { type: "integer" }, b: { type: "number" }, c: { type: "boolean" }, d: { type: "string" }, e: { type: "null" } }, required: ["a", "b", "c", "d", "e"] } },
    { name: "integers and fractions together are numbers", samples: [{ a: 1 }, { a: 2.25 }], want: { type: "object", properties: { a: { type: "number" } }, required: ["a"] } },
    { name: "a property in fewer than 99% of the objects is optional", samples: [...times(98, () => ({ a: 1, b: 2 })), { a: 1 }, { a: 1 }], want: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a"] } },
    { name: "at 99% it is required", samples: [...times(99, () => ({ a: 1, b: 2 })), { a: 1 }], want: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"] } },
    { name: "the threshold is an option", samples: [...times(8, () => ({ a: 1, b: 2 })), { a: 1 }, { a: 1 }], options: { requiredRatio: 0.8 }, want: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"] } },
    { name: "few distinct strings over enough samples: an enum", samples: times(30, (i) => ({ s: ["paid", "open", "void"][i % 3] })), want: { type: "object", properties: { s: { type: "string", enum: ["open", "paid", "void"] } }, required: ["s"] } },
    { name: "too few samples: no enum", samples: times(19, (i) => ({ s: ["paid", "open"][i % 2] })), want: { type: "object", properties: { s: { type: "string" } }, required: ["s"] } },
    { name: "too many distinct strings: free text", samples: times(40, (i) => ({ s: `name ${i % 11}` })), want: { type: "object", properties: { s: { type: "string" } }, required: ["s"] } },
    { name: "enum thresholds are options", samples: times(4, (i) => ({ s: ["a", "b"][i % 2] })), options: { enumMinSamples: 4, enumMax: 2 }, want: { type: "object", properties: { s: { type: "string", enum: ["a", "b"] } }, required: ["s"] } },
    { name: "an enum with null", samples: times(30, (i) => ({ s: i % 3 === 0 ? null : ["a", "b"][i % 2] })), want: { type: "object", properties: { s: { type: ["null", "string"], enum: ["a", "b", null] } }, required: ["s"] } },
    { name: "an enum beside other types: anyOf", samples: times(30, (i) => ({ s: i % 3 === 0 ? i : ["a", "b"][i % 2] })), want: { type: "object", properties: { s: { anyOf: [{ type: "string", enum: ["a", "b"] }, { type: "integer" }] } }, required: ["s"] } },
    {
      name: "formats",
      samples: times(3, (i) => ({ at: `2024-05-0${i + 1}T10:00:0${i}.123+02:00`, day: `2024-05-0${i + 1}`, id: uuid(i), mail: `u${i}@example.com`, link: `https://example.com/a/${i}?q=1`, ip: `10.0.0.${i}` })),
      want: {
        type: "object",
        properties: { at: { type: "string", format: "date-time" }, day: { type: "string", format: "date" }, id: { type: "string", format: "uuid" }, ip: { type: "string", format: "ipv4" }, link: { type: "string", format: "uri" }, mail: { type: "string", format: "email" } },
        required: ["at", "day", "id", "ip", "link", "mail"],
      },
    },
    { name: "a format only when every string has it", samples: [{ at: "2024-05-01T10:00:00Z" }, { at: "yesterday" }], want: { type: "object", properties: { at: { type: "string" } }, required: ["at"] } },
    {
      name: "nested arrays of objects: items merged across items and samples",
      samples: [{ items: [{ sku: "a", qty: 1 }, { sku: "b", qty: 2, note: "x" }] }, { items: [{ sku: "c", qty: 3 }] }],
      want: { type: "object", properties: { items: { type: "array", items: { type: "object", properties: { note: { type: "string" }, qty: { type: "integer" }, sku: { type: "string" } }, required: ["qty", "sku"] } } }, required: ["items"] },
    },
    { name: "arrays of arrays", samples: [[[1, 2], [3]], [[]]], want: { type: "array", items: { type: "array", items: { type: "integer" } } } },
    { name: "mixed types: a type list", samples: [{ v: 1 }, { v: "1" }, { v: [1] }, { v: { a: 1 } }, { v: false }], want: { type: "object", properties: { v: { type: ["boolean", "integer", "string", "array", "object"], items: { type: "integer" }, properties: { a: { type: "integer" } }, required: ["a"] } }, required: ["v"] } },
    { name: "an always empty array says so", samples: [{ tags: [] }, { tags: [] }], want: { type: "object", properties: { tags: { type: "array", $comment: "always empty in the samples" } }, required: ["tags"] } },
    { name: "a nullable object", samples: [{ a: null }, { a: { b: 1 } }], want: { type: "object", properties: { a: { type: ["null", "object"], properties: { b: { type: "integer" } }, required: ["b"] } }, required: ["a"] } },
    { name: "a bare string root", samples: ["x", "y"], want: { type: "string" } },
    { name: "the dialect on request", samples: [1], options: { dialect: true }, want: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "integer" } },
    {
      name: "past the depth bound: counted, not described",
      samples: [{ a: { b: { c: { d: 1 } } } }],
      limits: { maxDepth: 2 },
      want: { type: "object", properties: { a: { type: "object", properties: { b: { type: "object", additionalProperties: true, $comment: "properties not described: deeper than 2 levels" } }, required: ["b"] } }, required: ["a"] },
    },
    {
      name: "past the property bound: the smallest names, and additionalProperties",
      samples: [{ d: 1, c: 1, b: 1, a: 1 }],
      limits: { maxProperties: 2 },
      want: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"], additionalProperties: true, $comment: "more than 2 property names seen; the first 2 in sort order are described" },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = infer(c.samples, c.options, c.limits);
      expect(got).toEqual(c.want);
      // Every inferred schema is valid 2020-12 under ajv's strict mode, and (at a 100% required ratio) accepts every sample it came from.
      const strictSchema = infer(c.samples, { ...c.options, requiredRatio: 1 }, c.limits) as JsonSchema;
      const validate = ajv.compile(strictSchema);
      for (const s of c.samples) expect({ s, ok: validate(s), errors: validate.errors }).toEqual({ s, ok: true, errors: null });
    });
  }

  test("no sample, no schema", () => {
    expect(infer([])).toBeUndefined();
  });
});

describe("formats", () => {
  const table: [string, string | undefined][] = [
    ["2024-02-29T23:59:60Z", "date-time"],
    ["2024-02-29t01:02:03.5-05:30", "date-time"],
    ["2024-13-01T00:00:00Z", undefined],
    ["2024-02-29 01:02:03Z", undefined],
    ["2024-02-29", "date"],
    ["2024-02-30x", undefined],
    ["123e4567-e89b-12d3-a456-426614174000", "uuid"],
    ["123e4567-e89b-12d3-a456-42661417400g", undefined],
    ["a.b+tag@mail.example.org", "email"],
    ["no@tld", undefined],
    ["https://example.com:8443/x/y?z=1#f", "uri"],
    ["example.com/x", undefined],
    ["192.168.1.254", "ipv4"],
    ["256.1.1.1", undefined],
    ["1.2.3", undefined],
    ["plain", undefined],
  ];
  const formatsAjv = new Ajv2020({ strict: true, validateFormats: true });
  addFormats(formatsAjv as never);
  for (const [s, want] of table) {
    test(`${JSON.stringify(s)} → ${want ?? "none"}`, () => {
      expect(detectFormat(s) as string | undefined).toBe(want);
      // What is detected, ajv-formats accepts: a schema never rejects the values it was inferred from.
      if (want !== undefined) expect(formatsAjv.validate({ type: "string", format: want }, s)).toBe(true);
    });
  }
});

describe("bounds", () => {
  test("a huge document: arrays walked to maxArrayItems, the state stays small", () => {
    const l = new ContractLearner();
    const doc = { items: times(100_000, (i) => ({ id: i, name: `n${i}`, tags: ["a", "b"] })) };
    const t0 = performance.now();
    expect(l.observe(doc)).toBe("json");
    expect(performance.now() - t0).toBeLessThan(200);
    const s = l.state();
    expect(s.root.object?.properties[0]?.[1].array).toMatchObject({ n: 1, sampled: 1, maxItems: 100_000, items: { n: 50 } });
    expect(JSON.stringify(s).length).toBeLessThan(20_000);
  });

  test("a document with more values than maxNodes is skipped and counted", () => {
    const l = new ContractLearner({ maxNodes: 100 });
    expect(l.observe(times(40, (i) => ({ a: i, b: i })))).toBe("too_complex");
    expect(l.observe({ a: 1 })).toBe("json");
    expect(l.state().bodies).toMatchObject({ json: 1, too_complex: 1 });
    expect(l.state().root.n).toBe(1);
  });

  test("100,000 levels deep: bounded by maxDepth, no stack overflow", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const l = new ContractLearner();
    expect(l.observe(deep)).toBe("json");
    const text = JSON.stringify(contractSchema(l.state()));
    expect(text).toContain("deeper than 12 levels");
    expect(text.length).toBeLessThan(2_000);
  });

  test("a map keyed by ids keeps maxProperties names", () => {
    const l = new ContractLearner({ maxProperties: 10 });
    for (let n = 0; n < 50; n++) l.observe({ byId: Object.fromEntries(times(200, (i) => [`k${n * 200 + i}`, { v: i }])) });
    const byId = l.state().root.object?.properties[0]?.[1].object;
    expect(byId?.truncated).toBe(true);
    expect(byId?.properties.length).toBe(10);
  });

  test("distinct values are exact up to maxDistinct, then estimated within 20%", () => {
    const l = new ContractLearner({ maxDistinct: 50 });
    for (let i = 0; i < 5_000; i++) l.observe(`value-${i % 2_000}`);
    const d = l.state().root.string?.distinct;
    expect(d?.values).toBeUndefined();
    expect(d?.sketch).toMatch(/^[0-9a-f]{512}$/);
    const est = Distinct.fromState(d as DistinctState, 50).estimate();
    expect(Math.abs(est - 2_000) / 2_000).toBeLessThan(0.2);
    // A state read back is the same state.
    expect(ContractLearner.fromState(l.state()).state()).toEqual(l.state());
    // Under the cap, the count is exact.
    const small = new ContractLearner({ maxDistinct: 50 });
    for (let i = 0; i < 500; i++) small.observe(`v${i % 50}`);
    expect(small.state().root.string?.distinct.values?.length).toBe(50);
  });

  test("long and formatted strings are kept as hashes, never verbatim", () => {
    const long = "x".repeat(500);
    const s = JSON.stringify(learn([{ a: long, mail: "someone@example.com" }]).state());
    expect(s).not.toContain(long);
    expect(s).not.toContain("someone@example.com");
  });

  test("values that are not JSON are refused, not learned", () => {
    const l = new ContractLearner();
    expect(l.observe({ a: undefined })).toBe("invalid");
    expect(l.observe({ a: Number.NaN })).toBe("invalid");
    expect(l.observe(10n)).toBe("invalid");
    expect(l.state().root.n).toBe(0);
    expect(l.state().bodies.invalid).toBe(3);
  });

  test("a __proto__ key is a property like any other", () => {
    const schema = infer([JSON.parse('{"__proto__": {"x": 1}, "a": 2}')]);
    expect(Object.keys(schema?.properties ?? {})).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(schema?.properties)).toBe(Object.prototype);
  });
});

describe("bodies", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const cases: [string, Uint8Array | string | null, string | undefined, string][] = [
    ["JSON by its media type", enc('{"a":1}'), "application/json; charset=utf-8", "json"],
    ["a +json media type", enc('{"type":"x"}'), "application/problem+json", "json"],
    ["JSON sniffed without a Content-Type", enc(' \n[1,2]'), undefined, "json"],
    ["a BOM", enc('\uFEFF{"a":1}'), "application/json", "json"],
    ["empty", new Uint8Array(0), "application/json", "empty"],
    ["absent", null, undefined, "empty"],
    ["HTML", enc("<html></html>"), "text/html", "non_json"],
    ["text without a type", enc("hello"), undefined, "non_json"],
    ["an image", new Uint8Array([0x89, 0x50, 0x4e, 0x47]), "image/png", "binary"],
    ["invalid UTF-8 under a JSON type", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "application/json", "binary"],
    ["bytes that are not text, no type", new Uint8Array([0xff, 0x00, 0x81]), undefined, "binary"],
    ["malformed JSON", enc('{"a":'), "application/json", "invalid"],
    ["Python's NaN", enc('{"a": NaN}'), "application/json", "invalid"],
    ["too large", enc(`{"a":"${"x".repeat(2_000)}"}`), "application/json", "too_large"],
    ["text as a string", '{"a":1}', "application/json", "json"],
  ];
  for (const [name, body, type, want] of cases) {
    test(name, () => {
      const l = new ContractLearner({ maxBodyBytes: 1_000 });
      expect(observeBody(l, body, type)).toBe(want as never);
      expect(l.state().bodies[want as "json"]).toBe(1);
    });
  }

  test("the media types of learned bodies are counted", () => {
    const l = new ContractLearner();
    observeBody(l, '{"a":1}', "application/json");
    observeBody(l, '{"a":1}', "Application/JSON");
    observeBody(l, '{"type":"t"}', "application/problem+json");
    expect(l.state().media).toEqual([
      ["application/json", 2],
      ["application/problem+json", 1],
    ]);
  });
});
