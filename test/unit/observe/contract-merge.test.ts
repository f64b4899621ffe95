/** Learner states merge exactly: merge(learn(A), learn(B)) = learn(A ∪ B), in any order and past the bounds; and a schema accepts what it was learned from. */
import { describe, expect, test } from "bun:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { ContractLearner, contractSchema, EndpointLearner, type ExchangeSample, type InferLimits } from "../../../src/observe/contract/index.ts";

const key = fc.constantFrom("a", "b", "c", "d", "e", "id", "x y", "__proto__");
const str = fc.oneof(
  fc.constantFrom("open", "paid", "void", "2024-01-01", "2024-01-01T00:00:00Z", "u@example.com", "https://example.com/x", "10.0.0.1", "123e4567-e89b-12d3-a456-426614174000", ""),
  fc.string({ maxLength: 6 }),
  fc.string({ minLength: 70, maxLength: 80 }),
);
const num = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
);
const scalar = fc.oneof(fc.constant(null), fc.boolean(), num, str);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(key, tie("value"), { maxKeys: 5 })),
}));

/** Bounds small enough that random documents pass every one of them. */
const tiny: Partial<InferLimits> = { maxDepth: 3, maxProperties: 3, maxArrayItems: 2, maxDistinct: 4, maxNodes: 40, maxValueChars: 8 };

function learn(samples: unknown[], limits: Partial<InferLimits>) {
  const l = new ContractLearner(limits);
  for (const s of samples) l.observe(s);
  return l.state();
}

/** Through JSON, as the store would hold it. */
const stored = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe("ContractLearner.merge", () => {
  for (const [name, limits] of [
    ["within the default bounds", {}],
    ["past tiny bounds", tiny],
  ] as const) {
    test(`merge(learn(A), learn(B)) = learn(A ++ B), ${name}`, () => {
      fc.assert(
        fc.property(fc.array(value, { maxLength: 12 }), fc.array(value, { maxLength: 12 }), (a, b) => {
          const whole = learn([...a, ...b], limits);
          const merged = ContractLearner.merge(stored(learn(a, limits)), stored(learn(b, limits)));
          expect(merged).toEqual(whole);
          expect(ContractLearner.merge(learn(b, limits), learn(a, limits))).toEqual(whole);
          expect(contractSchema(merged)).toEqual(contractSchema(whole));
        }),
        { numRuns: 300 },
      );
    });
  }

  test("merging with an empty state changes nothing", () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 10 }), (a) => {
        const s = learn(a, tiny);
        expect(ContractLearner.merge(s, learn([], tiny))).toEqual(s);
        expect(ContractLearner.merge(learn([], tiny), s)).toEqual(s);
      }),
      { numRuns: 100 },
    );
  });
});

describe("a schema accepts the samples it was learned from", () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: true });
  addFormats(ajv as never);
  test("every sample validates (required at 100%, arrays within maxArrayItems)", () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 30 }), (samples) => {
        const schema = contractSchema(learn(samples, {}), { requiredRatio: 1, enumMinSamples: 1 });
        const validate = ajv.compile(schema as object);
        for (const s of samples) {
          if (!validate(s)) throw new Error(`${JSON.stringify(s)} rejected by ${JSON.stringify(schema)}: ${ajv.errorsText(validate.errors)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("EndpointLearner.merge", () => {
  const query = fc.array(fc.tuple(fc.constantFrom("page", "limit", "q", "sort", "ids"), fc.oneof(fc.integer({ min: 0, max: 50 }).map(String), fc.constantFrom("true", "asc", "desc", "x y", "1.5"))), { maxLength: 4 });
  const exchange: fc.Arbitrary<ExchangeSample> = fc.record({
    query: query.map((q) => new URLSearchParams(q).toString()),
    request: fc.option(value.map((v) => ({ body: JSON.stringify(v), contentType: "application/json" })), { nil: null }),
    status: fc.constantFrom(200, 201, 404, 500, 999),
    response: fc.oneof(
      value.map((v) => ({ body: JSON.stringify(v), contentType: "application/json" })),
      fc.constant({ body: "<html>", contentType: "text/html" }),
      fc.constant({ body: new Uint8Array([0xff, 0xfe]), contentType: null }),
    ),
  });
  const learnAll = (xs: ExchangeSample[]) => {
    const l = new EndpointLearner(tiny);
    for (const x of xs) l.observe(x);
    return l.state();
  };
  test("merge(learn(A), learn(B)) = learn(A ++ B)", () => {
    fc.assert(
      fc.property(fc.array(exchange, { maxLength: 10 }), fc.array(exchange, { maxLength: 10 }), (a, b) => {
        expect(EndpointLearner.merge(stored(learnAll(a)), stored(learnAll(b)))).toEqual(learnAll([...a, ...b]));
      }),
      { numRuns: 200 },
    );
  });
});
