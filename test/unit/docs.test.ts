/** The generated reference docs match the code (regenerate with: bun scripts/gen-docs.ts). */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configurationDoc, errorsDoc, policyBuiltinsDoc } from "../../scripts/gen-docs.ts";

const docs = join(import.meta.dir, "../../docs");

test("docs/configuration.md is generated from the current schema", () => {
  expect(readFileSync(join(docs, "configuration.md"), "utf8")).toBe(configurationDoc());
});

test("docs/errors.md is generated from the current error table", () => {
  expect(readFileSync(join(docs, "errors.md"), "utf8")).toBe(errorsDoc());
});

test("docs/policy-builtins.md is generated from the current built-in table", () => {
  expect(readFileSync(join(docs, "policy-builtins.md"), "utf8")).toBe(policyBuiltinsDoc());
});
