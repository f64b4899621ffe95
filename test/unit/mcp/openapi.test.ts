// OpenAPI documents as HTTP tools (src/mcp/sources/http/openapi.ts): 3.0 and 3.1 with $refs,
// parameters and bodies, selection, invalid and circular documents, reading over HTTP, scale.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FicusError } from "../../../src/core/errors.ts";
import { isValidToolName } from "../../../src/mcp/names.ts";
import { compileHttpTool, type HttpToolSpec, type OpenApiSelection, type OpenApiTools, openApiTools, openApiToolsFromDocument } from "../../../src/mcp/sources/http/index.ts";

const DIR = join(import.meta.dir, "../../fixtures/openapi");
const dec = new TextDecoder();

function tool(r: OpenApiTools, name: string): HttpToolSpec {
  const t = r.tools.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no tool ${name} in ${r.tools.map((x) => x.name).join(", ")}`);
  return t;
}

async function failure(p: Promise<unknown>): Promise<FicusError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FicusError);
    expect((e as FicusError).code).toBe("FICUS_MCP_SOURCE_INVALID");
    return e as FicusError;
  }
  throw new Error("expected a FicusError");
}

function noRefs(v: unknown): boolean {
  return !JSON.stringify(v).includes('"$ref"');
}

describe("OpenAPI 3.0 (petstore-3.0.yaml)", () => {
  let r: OpenApiTools;
  beforeAll(async () => {
    r = await openApiTools("petstore-3.0.yaml", {}, DIR);
  });

  test("document facts: title, version, servers with variables replaced by their defaults", () => {
    expect(r.title).toBe("Petstore");
    expect(r.version).toBe("1.2.0");
    expect(r.servers).toEqual(["https://pets.example.test/v1"]);
  });

  test("one tool per operation, named from operationId or method and path; multipart skipped with its reason", () => {
    expect(r.tools.map((t) => t.name)).toEqual(["listPets", "createPet", "showPetById", "replacePet", "deletePet", "get_store_inventory", "placeOrder"]);
    expect(r.skipped).toEqual([{ operation: "uploadPhoto (POST /pets/{petId}/photo)", reason: "the request body is multipart/form-data; HTTP tools send JSON bodies only" }]);
    for (const t of r.tools) {
      expect(isValidToolName(t.name)).toBe(true);
      expect(noRefs(t)).toBe(true);
    }
  });

  test("query and header parameters ($ref'd and inline) become arguments; cookies are skipped", () => {
    const t = tool(r, "listPets");
    expect(t.inputSchema).toEqual({
      type: "object",
      properties: {
        limit: { type: "integer", maximum: 100, format: "int32", description: "How many pets to return." },
        tag: { type: "array", items: { type: "string" }, description: "Only pets with these tags." },
        "X-Request-Id": { type: "string" },
      },
    });
    expect(t.call).toEqual({ method: "GET", path: "/pets", query: { limit: "limit", tag: "tag" }, headers: { "X-Request-Id": "X-Request-Id" } });
    expect(t.title).toBe("List pets");
    expect(t.description).toBe("List pets\n\nReturns the pets, a page at a time.");
    expect(t.annotations).toEqual({ title: "List pets", readOnlyHint: true, openWorldHint: false });
  });

  test("the 200 object response is the output schema, 3.0 nullable rewritten to a type list", () => {
    expect(tool(r, "listPets").outputSchema).toMatchObject({ type: "object", properties: { next: { type: ["string", "null"] }, items: { type: "array" } } });
    expect(tool(r, "createPet").outputSchema).toMatchObject({ type: "object", required: ["id", "name"] }); // 201
    expect(tool(r, "placeOrder").outputSchema).toBeUndefined(); // an array: no structured output
    expect(tool(r, "get_store_inventory").outputSchema).toEqual({ type: "object", additionalProperties: { type: "integer", exclusiveMinimum: 0 } });
  });

  test("an object JSON body ($ref'd requestBody) merges its properties as arguments; JSON is chosen over XML", () => {
    const t = tool(r, "createPet");
    expect(t.inputSchema).toEqual({ type: "object", properties: { name: { type: "string", examples: ["Rex"] }, tag: { type: ["string", "null"] } }, required: ["name"] });
    expect(t.call).toEqual({ method: "POST", path: "/pets", body: ["name", "tag"] });
    expect(t.annotations).toEqual({ title: "Create a pet", readOnlyHint: false, openWorldHint: false });
  });

  test("a body property that clashes with a parameter keeps the body as one argument", () => {
    const t = tool(r, "replacePet");
    expect(Object.keys(t.inputSchema.properties as object)).toEqual(["petId", "id", "body"]);
    expect(t.inputSchema.required).toEqual(["petId", "body"]);
    expect(t.call).toEqual({ method: "PUT", path: "/pets/{petId}", query: { id: "id" }, body: "body" });
    expect(t.annotations).toEqual({ readOnlyHint: false, idempotentHint: true, openWorldHint: false });
  });

  test("a header parameter named like the path parameter is prefixed; DELETE is destructive; deprecated is said", () => {
    const t = tool(r, "deletePet");
    expect(t.call).toEqual({ method: "DELETE", path: "/pets/{petId}", headers: { petId: "header_petId" } });
    expect(t.inputSchema.required).toEqual(["petId"]);
    expect(t.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(t.description).toBe("Deprecated. Delete a pet");
  });

  test("a non-object JSON body is one argument named body", () => {
    const t = tool(r, "placeOrder");
    expect(t.call.body).toBe("body");
    expect(t.inputSchema).toMatchObject({ properties: { body: { type: "array" } }, required: ["body"] });
  });

  test("the specs compile, and a call makes the request the operation describes", () => {
    for (const spec of r.tools) compileHttpTool(spec);
    const list = compileHttpTool(tool(r, "listPets")).request({ limit: 5, tag: ["a b", "c"], "X-Request-Id": "r1" });
    expect(list.target).toBe("/pets?limit=5&tag=a%20b&tag=c");
    expect(list.headers).toContainEqual(["x-request-id", "r1"]);
    const create = compileHttpTool(tool(r, "createPet")).request({ name: "Rex" });
    expect(create.method).toBe("POST");
    expect(JSON.parse(dec.decode(create.body))).toEqual({ name: "Rex" });
    const del = compileHttpTool(tool(r, "deletePet")).request({ petId: "p/1", header_petId: "h" });
    expect(del.target).toBe("/pets/p%2F1");
    expect(del.headers).toContainEqual(["petid", "h"]);
  });
});

describe("OpenAPI 3.1 (petstore-3.1.json)", () => {
  let r: OpenApiTools;
  beforeAll(async () => {
    r = await openApiTools(join(DIR, "petstore-3.1.json"), {}, "/elsewhere");
  });

  test("tools, with an absolute path ignoring baseDir", () => {
    expect(r.title).toBe("Petstore 3.1");
    expect(r.servers).toEqual(["https://pets31.example.test"]);
    expect(r.tools.map((t) => t.name)).toEqual(["listOwnerPets", "adoptPet", "patch_pet"]);
    expect(r.skipped).toEqual([]);
  });

  test("a $ref'd path parameter, a required enum query, an Accept header parameter ignored, 3.1 type lists kept", () => {
    const t = tool(r, "listOwnerPets");
    expect(t.inputSchema).toEqual({
      type: "object",
      properties: {
        ownerId: { type: "string", pattern: "^[a-z0-9-]+$" },
        status: { type: "string", enum: ["available", "sold"] },
        "X-Trace": { type: ["string", "null"] },
      },
      required: ["ownerId", "status"],
    });
    expect(t.call.headers).toEqual({ "X-Trace": "X-Trace" });
    expect(t.outputSchema).toMatchObject({ properties: { pets: { items: { properties: { weight: { type: "number", exclusiveMinimum: 0 } } } } } });
  });

  test("a oneOf body (merge-patch+json) is one body argument carrying the body's description", () => {
    const t = tool(r, "adoptPet");
    expect(t.call).toEqual({ method: "POST", path: "/owners/{ownerId}/pets", body: "body" });
    expect(t.inputSchema).toMatchObject({ properties: { body: { description: "The pet to adopt.", oneOf: [{ required: ["name"] }, { required: ["petId"] }] } }, required: ["ownerId", "body"] });
  });

  test("an object body open to any property stays one argument; an invalid operationId is sanitized", () => {
    const t = tool(r, "patch_pet");
    expect(t.call.body).toBe("body");
    expect(t.inputSchema.required).toEqual(["id"]);
    expect(t.annotations).toEqual({ readOnlyHint: false, openWorldHint: false });
  });
});

describe("selection", () => {
  const cases: [string, OpenApiSelection, string[]][] = [
    ["everything by default", {}, ["listPets", "createPet", "showPetById", "replacePet", "deletePet", "get_store_inventory", "placeOrder"]],
    ["empty lists select everything", { include: { tags: [] } }, ["listPets", "createPet", "showPetById", "replacePet", "deletePet", "get_store_inventory", "placeOrder"]],
    ["include a tag", { include: { tags: ["store"] } }, ["get_store_inventory", "placeOrder"]],
    ["include operationId globs", { include: { operations: ["list*", "*Pet"] } }, ["listPets", "createPet", "replacePet", "deletePet"]],
    ["an operation without an id is matched by its tool name", { include: { operations: ["get_store_*"] } }, ["get_store_inventory"]],
    ["include path globs", { include: { paths: ["/pets/*"] } }, ["showPetById", "replacePet", "deletePet"]],
    ["any list of include matches", { include: { tags: ["store"], operations: ["showPetById"] } }, ["showPetById", "get_store_inventory", "placeOrder"]],
    ["exclude after include", { include: { tags: ["pets"] }, exclude: { operations: ["delete*", "replace*"] } }, ["listPets", "createPet", "showPetById"]],
    ["exclude only", { exclude: { paths: ["/pets*"] } }, ["get_store_inventory", "placeOrder"]],
    ["nothing matches", { include: { tags: ["nope"] } }, []],
  ];
  test.each(cases)("%s", async (_what, selection, names) => {
    const r = await openApiTools("petstore-3.0.yaml", selection, DIR);
    expect(r.tools.map((t) => t.name)).toEqual(names);
  });

  test("excluded operations are not reported as skipped", async () => {
    const r = await openApiTools("petstore-3.0.yaml", { exclude: { operations: ["uploadPhoto"] } }, DIR);
    expect(r.skipped).toEqual([]);
  });
});

function doc(paths: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { openapi: "3.1.0", info: { title: "Gen", version: "1" }, paths, ...extra };
}
const ok = { "200": { description: "ok" } };

describe("names", () => {
  test("colliding sanitized names get _2, _3, and stay the same whatever the selection", async () => {
    const d = doc({
      "/a": { get: { operationId: "do it", responses: ok }, post: { operationId: "do_it", responses: ok }, put: { operationId: "do-it!", tags: ["x"], responses: ok } },
      "/b": { get: { operationId: "do it", responses: ok } },
    });
    const all = await openApiToolsFromDocument(d, {}, "gen");
    expect(all.tools.map((t) => t.name)).toEqual(["do_it", "do-it", "do_it_2", "do_it_3"]);
    const some = await openApiToolsFromDocument(d, { include: { paths: ["/b"] } }, "gen");
    expect(some.tools.map((t) => t.name)).toEqual(["do_it_3"]);
  });

  test("a 200-character operationId becomes a 128-character name; its _2 twin also fits", async () => {
    const long = `op${"x".repeat(198)}`;
    const d = doc({ "/a": { get: { operationId: long, responses: ok } }, "/b": { get: { operationId: long.replace("op", "op"), responses: ok } } });
    const names = (await openApiToolsFromDocument(d, {}, "gen")).tools.map((t) => t.name);
    expect(names.length).toBe(2);
    expect(new Set(names).size).toBe(2);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(128);
      expect(isValidToolName(n)).toBe(true);
    }
  });

  test("the description is summary and description, cut to 1024 characters", async () => {
    const d = doc({ "/a": { get: { operationId: "a", summary: "Short", description: "y".repeat(2000), responses: ok } } });
    const t = (await openApiToolsFromDocument(d, {}, "gen")).tools[0];
    expect(t?.description?.length).toBe(1024);
    expect(t?.description?.startsWith("Short\n\nyyy")).toBe(true);
  });
});

describe("operations that cannot be tools are skipped with why", () => {
  test.each<[string, Record<string, unknown>, string]>([
    ["form body", { post: { operationId: "f", requestBody: { content: { "application/x-www-form-urlencoded": { schema: { type: "object" } } } }, responses: ok } }, "application/x-www-form-urlencoded"],
    ["required object query parameter", { get: { operationId: "f", parameters: [{ name: "filter", in: "query", required: true, style: "deepObject", schema: { type: "object" } }], responses: ok } }, 'parameter "filter" is an object'],
    ["required content-serialized parameter", { get: { operationId: "f", parameters: [{ name: "q", in: "query", required: true, content: { "application/json": { schema: { type: "object" } } } }], responses: ok } }, "(content)"],
  ])("%s", async (_what, item, reason) => {
    const r = await openApiToolsFromDocument(doc({ "/x": item }), {}, "gen");
    expect(r.tools).toEqual([]);
    expect(r.skipped.length).toBe(1);
    expect(r.skipped[0]?.reason).toContain(reason);
  });

  test("an optional object query parameter is left out; the operation stays", async () => {
    const r = await openApiToolsFromDocument(doc({ "/x": { get: { operationId: "f", parameters: [{ name: "filter", in: "query", schema: { type: "object" } }, { name: "n", in: "query", schema: { type: "integer" } }], responses: ok } } }), {}, "gen");
    expect(r.tools[0]?.inputSchema).toEqual({ type: "object", properties: { n: { type: "integer" } } });
  });
});

describe("invalid documents: FICUS_MCP_SOURCE_INVALID naming the document and the pointer", () => {
  test("schema violation (broken.yaml)", async () => {
    const e = await failure(openApiTools("broken.yaml", {}, DIR));
    expect(e.message).toContain(join(DIR, "broken.yaml"));
    expect(e.message).toContain("#/paths/~1things/get/responses/200 must have required property 'description'");
  });

  test("a $ref to nothing (missing-ref.yaml)", async () => {
    const e = await failure(openApiTools("missing-ref.yaml", {}, DIR));
    expect(e.message).toContain(join(DIR, "missing-ref.yaml"));
    expect(e.message).toContain("#/paths/~1things/get/responses/200/content/application~1json/schema");
    expect(e.message).toContain("#/components/schemas/Thing");
  });

  test("not YAML (not-yaml.yaml): the parser's line", async () => {
    const e = await failure(openApiTools("not-yaml.yaml", {}, DIR));
    expect(e.message).toContain(join(DIR, "not-yaml.yaml"));
    expect(e.message).toMatch(/\(\d+:\d+\)/);
  });

  test("a missing file cannot be read", async () => {
    const e = await failure(openApiTools("nope.yaml", {}, DIR));
    expect(e.message).toContain(`OpenAPI document ${join(DIR, "nope.yaml")} cannot be read`);
  });

  test("an in-memory document is named by its origin", async () => {
    const e = await failure(openApiToolsFromDocument({ openapi: "3.0.3", info: { title: "x" }, paths: {} }, {}, "inline:orders"));
    expect(e.message).toContain("OpenAPI document inline:orders is invalid");
    expect(e.message).toContain("#/info must have required property 'version'");
  });

  test.each<[string, unknown, string]>([
    ["Swagger 2.0", { swagger: "2.0", info: { title: "x", version: "1" }, paths: {} }, "Swagger 2.0"],
    ["an unsupported version", { openapi: "4.0.0", info: { title: "x", version: "1" }, paths: {} }, "Unsupported OpenAPI version"],
    ["not an object", "openapi: 3.0.0", "not an object"],
  ])("%s", async (_what, d, fragment) => {
    const e = await failure(openApiToolsFromDocument(d, {}, "gen"));
    expect(e.message).toContain(fragment);
  });
});

describe("circular $refs (circular.yaml)", () => {
  test("converts without hanging; each cycle is cut with a description and the schemas serialize", async () => {
    const r = await openApiTools("circular.yaml", {}, DIR);
    expect(r.tools.map((t) => t.name)).toEqual(["getTree", "putTree", "addPerson"]);
    const json = JSON.stringify(r.tools); // would throw on a cycle
    expect(json).not.toContain('"$ref"');
    const tree = tool(r, "getTree").outputSchema as Record<string, any>;
    expect(tree.properties.children.items).toEqual({ description: "A recursive schema (Node) repeats here; its definition is given where it first appears in this schema." });
    const put = tool(r, "putTree");
    expect(put.call.body).toEqual(["value", "children"]);
    const person = tool(r, "addPerson");
    // Person → employer (Company) → staff → items (Person, first expansion here) → employer (Company again): cut
    expect((person.inputSchema.properties as Record<string, any>).employer.properties.staff.items.properties.employer.description).toContain("recursive schema");
    // as output, Person itself is the root: its second appearance is cut
    expect((person.outputSchema as Record<string, any>).properties.employer.properties.staff.items.description).toContain("recursive schema");
    for (const spec of r.tools) compileHttpTool(spec);
  });

  test("mutually recursive schemas with many branches stay bounded", async () => {
    const schemas: Record<string, unknown> = {};
    const N = 12;
    for (let i = 0; i < N; i++) {
      const properties: Record<string, unknown> = {};
      for (let j = 0; j < N; j++) properties[`p${j}`] = { $ref: `#/components/schemas/S${j}` };
      schemas[`S${i}`] = { type: "object", properties };
    }
    const d = doc({ "/s": { get: { operationId: "s", responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/S0" } } } } } } } }, { components: { schemas } });
    const start = performance.now();
    const r = await openApiToolsFromDocument(d, {}, "gen");
    const size = JSON.stringify(r.tools).length;
    console.log(`12 mutually recursive schemas: ${(performance.now() - start).toFixed(0)} ms, ${size} bytes`);
    expect(size).toBeLessThan(5_000_000);
  });
});

test("an in-memory document is not changed by conversion", async () => {
  const d = JSON.parse(JSON.stringify({ ...doc({}), openapi: "3.0.3" })) as Record<string, unknown>;
  d.paths = { "/a/{id}": { get: { operationId: "a", parameters: [{ $ref: "#/components/parameters/Id" }], responses: ok } } };
  d.components = { parameters: { Id: { name: "id", in: "path", required: true, schema: { type: "string", nullable: true } } } };
  const before = JSON.stringify(d);
  const r = await openApiToolsFromDocument(d, {}, "gen");
  expect(r.tools[0]?.inputSchema).toEqual({ type: "object", properties: { id: { type: ["string", "null"] } }, required: ["id"] });
  expect(JSON.stringify(d)).toBe(before);
});

describe("reading over HTTP", () => {
  let server: ReturnType<typeof Bun.serve> | undefined;
  beforeAll(() => {
    const yaml = readFileSync(join(DIR, "petstore-3.0.yaml"));
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/openapi.yaml") return new Response(yaml, { headers: { "content-type": "application/yaml" } });
        return new Response("not here", { status: 404 });
      },
    });
  });
  afterAll(() => server?.stop(true));

  test("an http URL is fetched and converted", async () => {
    const r = await openApiTools(`http://127.0.0.1:${server?.port}/openapi.yaml`, {}, "/ignored");
    expect(r.title).toBe("Petstore");
    expect(r.tools.length).toBe(7);
  });

  test("a 404 names the URL", async () => {
    const url = `http://127.0.0.1:${server?.port}/missing.yaml`;
    const e = await failure(openApiTools(url, {}, "/ignored"));
    expect(e.message).toContain(url);
    expect(e.message).toContain("cannot be read");
  });
});

test("1,000 operations convert in well under a second", async () => {
  const paths: Record<string, unknown> = {};
  for (let i = 0; i < 500; i++) {
    paths[`/things${i}/{id}`] = {
      parameters: [{ $ref: "#/components/parameters/Id" }],
      get: { operationId: `getThing${i}`, tags: [`t${i % 10}`], parameters: [{ name: "fields", in: "query", schema: { type: "array", items: { type: "string" } } }], responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } } } },
      put: { operationId: `putThing${i}`, requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } }, responses: ok },
    };
  }
  const d = doc(paths, {
    components: {
      parameters: { Id: { name: "id", in: "path", required: true, schema: { type: "string" } } },
      schemas: { Thing: { type: "object", required: ["name"], properties: { name: { type: "string" }, size: { type: "integer" }, tags: { type: "array", items: { type: "string" } } } } },
    },
  });
  const start = performance.now();
  const r = await openApiToolsFromDocument(d, {}, "gen");
  const ms = performance.now() - start;
  console.log(`1,000 operations: ${ms.toFixed(0)} ms`);
  expect(r.tools.length).toBe(1000);
  expect(r.skipped).toEqual([]);
  expect(tool(r, "putThing499").call).toEqual({ method: "PUT", path: "/things499/{id}", body: ["name", "size", "tags"] });
  expect(ms).toBeLessThan(5000); // generous: the target is < 1 s
});
