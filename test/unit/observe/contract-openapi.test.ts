/** The OpenAPI 3.1 export: documents from realistic learned contracts validate with swagger-parser, declare every path parameter, and have stable, unique operation ids. */
import { describe, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { type EndpointContract, EndpointLearner, endpointContract, type ExchangeSample, normalizeTemplate, operationIdFor, toOpenApi } from "../../../src/observe/contract/index.ts";

const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: "application/json" });
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const uuid = (i: number) => `${(0x1000 + i).toString(16).padStart(8, "0")}-1234-4abc-8def-${(i * 7919).toString(16).padStart(12, "0")}`;
const order = (i: number) => ({
  id: uuid(i),
  number: 1000 + i,
  status: ["open", "paid", "shipped"][i % 3],
  total: { amount: i * 1.25 + 0.5, currency: "EUR" },
  customer: { email: `c${i}@example.com`, name: `Customer ${i}` },
  items: times((i % 3) + 1, (k) => ({ sku: `SKU-${k}`, qty: k + 1, price: 9.99 })),
  created_at: `2024-03-${String((i % 28) + 1).padStart(2, "0")}T12:00:00Z`,
  ...(i % 4 === 0 ? { note: "leave at the door" } : {}),
  coupon: i % 5 === 0 ? null : "SPRING",
});
const problem = (detail: string) => ({ body: JSON.stringify({ type: "about:blank", title: "Not Found", status: 404, detail }), contentType: "application/problem+json" });

/** Traffic of a small orders service, learned per endpoint as observe mode would. */
function learned(): { method: string; template: string; learner: EndpointLearner; samples: Map<number, unknown[]> }[] {
  const out: { method: string; template: string; learner: EndpointLearner; samples: Map<number, unknown[]> }[] = [];
  const add = (method: string, template: string, xs: ExchangeSample[]) => {
    const learner = new EndpointLearner();
    const samples = new Map<number, unknown[]>();
    for (const x of xs) {
      learner.observe(x);
      const b = x.response?.body;
      if (typeof b === "string" && x.response?.contentType?.includes("json")) samples.set(x.status, [...(samples.get(x.status) ?? []), JSON.parse(b)]);
    }
    out.push({ method, template, learner, samples });
  };
  add("GET", "/orders", times(60, (i) => ({ query: `page=${i % 5}&limit=20${i % 2 ? "&status=paid" : ""}${i % 7 === 0 ? "&tag=a&tag=b" : ""}`, status: 200, response: json({ data: times(3, (k) => order(i + k)), page: i % 5, next: i % 5 === 4 ? null : `https://api.example.com/orders?page=${(i % 5) + 1}` }) })));
  add("GET", "/orders/{id}", [...times(50, (i) => ({ status: 200, response: json(order(i)) })), ...times(5, (i) => ({ status: 404, response: problem(`order ${i} not found`) }))]);
  add("POST", "/orders", times(30, (i) => ({ request: json({ items: [{ sku: "SKU-1", qty: i + 1 }], email: `c${i}@example.com` }), status: i % 10 === 0 ? 422 : 201, response: i % 10 === 0 ? json({ error: "invalid", fields: ["items"] }) : json(order(i)) })));
  add("DELETE", "/orders/{id}", times(10, () => ({ status: 204 })));
  add("PATCH", "/orders/{orderId}", times(10, (i) => ({ request: json({ status: "paid" }), status: 200, response: json(order(i)) })));
  add("GET", "/users/{userId}/orders/{orderId}", times(20, (i) => ({ status: 200, response: json(order(i)) })));
  add("GET", "/health", times(20, () => ({ status: 200, response: { body: "ok", contentType: "text/plain" } })));
  add("GET", "/files/{name}.json", times(20, (i) => ({ status: 200, response: json({ name: `f${i}`, size: i, ip: `10.0.0.${i}` }) })));
  add("GET", "/", times(5, () => ({ status: 200, response: json({ ok: true }) })));
  add("GET", "/a/{id}/b/{id}", times(5, () => ({ status: 200, response: json([]) })));
  add("PROPFIND", "/dav/{path}", times(3, () => ({ status: 207 })));
  add("GET", "/orders/{orderId}", times(5, (i) => ({ status: 200, response: json(order(i)) })));
  return out;
}

function contracts(): EndpointContract[] {
  return learned().map((e) => endpointContract(e.method, e.template, e.learner.state()));
}

const info = { title: "Orders (observed)", version: "2024-03-01", description: "Inferred by Ficus observe mode" };

describe("toOpenApi", () => {
  test("the document validates with swagger-parser (OpenAPI 3.1), also as YAML", async () => {
    const doc = toOpenApi(contracts(), info, { servers: ["https://api.example.com"] });
    expect(doc.openapi).toBe("3.1.0");
    const api = await new SwaggerParser().validate(structuredClone(doc) as never);
    expect(Object.keys(api.paths ?? {}).length).toBeGreaterThan(5);
    const fromYaml = parseYaml(toYaml(doc)) as Record<string, unknown>;
    expect(fromYaml).toEqual(doc);
    await new SwaggerParser().validate(fromYaml as never);
  });

  test("a broken document is refused by the same validator (the test can fail)", async () => {
    const doc = toOpenApi(contracts(), info) as { paths: Record<string, Record<string, { responses: unknown }>> };
    (doc.paths["/orders"] as Record<string, { responses: unknown }>).get = { responses: "nope" };
    await expect(new SwaggerParser().validate(doc as never)).rejects.toThrow();
  });

  test("every path parameter is declared, once, as required; no other path parameter", () => {
    const doc = toOpenApi(contracts(), info) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean }[] }>> };
    for (const [path, item] of Object.entries(doc.paths)) {
      const placeholders = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
      expect(new Set(placeholders).size).toBe(placeholders.length);
      for (const op of Object.values(item)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === "path");
        expect(declared.map((p) => p.name)).toEqual(placeholders as string[]);
        for (const p of declared) expect(p.required).toBe(true);
      }
    }
    expect(Object.keys(doc.paths)).toContain("/a/{id}/b/{id_2}");
    expect(Object.keys(doc.paths)).toContain("/files/{name}.json");
  });

  test("operation ids: unique, readable, independent of the input order", () => {
    const cs = contracts();
    const doc = toOpenApi(cs, info) as { paths: Record<string, Record<string, { operationId: string }>> };
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("getOrdersById");
    expect(ids).toContain("getUsersByUserIdOrdersByOrderId");
    expect(ids).toContain("getRoot");
    expect(toOpenApi([...cs].reverse(), info)).toEqual(doc);
    const shuffled = [...cs.slice(5), ...cs.slice(0, 5)];
    expect(toOpenApi(shuffled, info)).toEqual(doc);
  });

  test("ids that would collide get a suffix", () => {
    expect(operationIdFor("get", "/orders-x")).toBe(operationIdFor("get", "/orders_x"));
    const doc = toOpenApi(
      [
        { method: "GET", template: "/orders_x", responses: {} },
        { method: "GET", template: "/orders-x", responses: {} },
      ],
      info,
    ) as { paths: Record<string, { get: { operationId: string } }> };
    expect(doc.paths["/orders-x"]?.get.operationId).toBe("getOrdersX");
    expect(doc.paths["/orders_x"]?.get.operationId).toBe("getOrdersX_2");
  });

  test("what OpenAPI cannot hold is listed, not silently dropped", () => {
    const doc = toOpenApi(contracts(), info) as { paths: Record<string, Record<string, unknown>>; "x-ficus-skipped": { method: string; template: string; reason: string }[] };
    expect(doc["x-ficus-skipped"]).toEqual([
      { method: "PROPFIND", template: "/dav/{path}", reason: "OpenAPI has no field for this method" },
      { method: "GET", template: "/orders/{orderId}", reason: "the same path as /orders/{id}, which has this method already" },
    ]);
    // PATCH /orders/{orderId} joined /orders/{id}, under its parameter name.
    expect(Object.keys(doc.paths["/orders/{id}"] ?? {})).toEqual(["get", "delete", "patch"]);
    expect(doc.paths["/orders/{orderId}"]).toBeUndefined();
  });

  test("query parameters, bodies and statuses as observed", () => {
    const doc = toOpenApi(contracts(), info) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const list = doc.paths["/orders"]?.get as { parameters: unknown[]; responses: Record<string, unknown> };
    expect(list.parameters).toEqual([
      { name: "limit", in: "query", required: true, schema: { type: "integer" } },
      { name: "page", in: "query", required: true, schema: { type: "integer" } },
      { name: "status", in: "query", required: false, schema: { type: "string", enum: ["paid"] } },
      { name: "tag", in: "query", required: false, schema: { type: "array", items: { type: "string" } } },
    ]);
    const one = doc.paths["/orders/{id}"]?.get as { responses: Record<string, { description: string; content?: Record<string, unknown> }> };
    expect(Object.keys(one.responses)).toEqual(["200", "404"]);
    expect(Object.keys(one.responses["404"]?.content ?? {})).toEqual(["application/problem+json"]);
    const del = doc.paths["/orders/{id}"]?.delete as { responses: Record<string, unknown> };
    expect(del.responses).toEqual({ "204": { description: "No Content" } });
    const health = doc.paths["/health"]?.get as { responses: Record<string, unknown> };
    expect(health.responses).toEqual({ "200": { description: "OK" } });
    const create = doc.paths["/orders"]?.post as { requestBody: { required: boolean; content: Record<string, { schema: { properties: Record<string, unknown> } }> } };
    expect(create.requestBody.required).toBe(true);
    expect(create.requestBody.content["application/json"]?.schema.properties.email).toEqual({ type: "string", format: "email" });
    const order = (one.responses["200"]?.content?.["application/json"] as { schema: { properties: Record<string, unknown>; required: string[] } }).schema;
    expect(order.properties.id).toEqual({ type: "string", format: "uuid" });
    expect(order.properties.status).toEqual({ type: "string", enum: ["open", "paid", "shipped"] });
    expect(order.properties.coupon).toEqual({ type: ["null", "string"], enum: ["SPRING", null] });
    expect(order.properties.customer).toEqual({ type: "object", properties: { email: { type: "string", format: "email" }, name: { type: "string" } }, required: ["email", "name"] });
    expect(order.required).not.toContain("note");
    expect(order.required).toContain("created_at");
  });

  test("each response schema is valid JSON Schema 2020-12 and accepts the observed bodies", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: true });
    addFormats(ajv as never);
    for (const e of learned()) {
      const c = endpointContract(e.method, e.template, e.learner.state(), { requiredRatio: 1 });
      for (const [status, bodies] of e.samples) {
        const schema = c.responses[String(status)]?.schema;
        expect(schema).toBeDefined();
        const validate = ajv.compile(schema as object);
        for (const b of bodies) expect([e.method, e.template, status, validate(b) ? "ok" : ajv.errorsText(validate.errors)]).toEqual([e.method, e.template, status, "ok"]);
      }
    }
  });

  test("an empty set of endpoints is still a valid document", async () => {
    const doc = toOpenApi([], info);
    expect(doc.paths).toEqual({});
    await new SwaggerParser().validate(doc as never);
  });

  test("templates are normalized to OpenAPI paths", () => {
    expect(normalizeTemplate("orders/{id}")).toEqual({ key: "/orders/{id}", names: ["id"] });
    expect(normalizeTemplate("/x/{ a }/{a}")).toEqual({ key: "/x/{a}/{a_2}", names: ["a", "a_2"] });
  });
});
