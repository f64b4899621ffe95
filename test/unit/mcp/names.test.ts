// MCP tool-name rules (src/mcp/names.ts): validity, sanitizing, prefixing long names without collisions, globs.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compileGlobs, isValidToolName, matchesGlob, prefixedName, sanitizeToolName, shortHash, TOOL_NAME_MAX } from "../../../src/mcp/names.ts";

describe("isValidToolName", () => {
  test.each([
    ["getUser", true],
    ["DATA_EXPORT_v2", true],
    ["admin.tools.list", true],
    ["user-profile", true],
    ["a", true],
    ["x".repeat(128), true],
    ["x".repeat(129), false],
    ["", false],
    ["user profile", false],
    ["user/profile", false],
    ["naïve", false],
    ["a,b", false],
  ])("%p → %p", (name, valid) => {
    expect(isValidToolName(name)).toBe(valid);
  });
});

describe("sanitizeToolName", () => {
  test.each([
    ["getUser", "getUser"],
    ["get user", "get_user"],
    ["get   user", "get_user"],
    ["/pets/{petId}", "pets_petId"],
    ["patch pet!", "patch_pet"],
    ["a__b", "a__b"],
    ["__x", "__x"],
    ["café crème", "caf_cr_me"],
    ["", "tool"],
    ["ééé", "tool"],
    ["!!!", "tool"],
  ])("%p → %p", (input, out) => {
    expect(sanitizeToolName(input)).toBe(out);
  });

  test("a 200-character name is shortened to the maximum, keeping its start and end, with a hash", () => {
    const long = `start_${"m".repeat(188)}_end00`;
    const s = sanitizeToolName(long);
    expect(s.length).toBe(TOOL_NAME_MAX);
    expect(isValidToolName(s)).toBe(true);
    expect(s.startsWith("start_mmm")).toBe(true);
    expect(s.endsWith(`_end00_${shortHash(long)}`)).toBe(true);
    expect(sanitizeToolName(long)).toBe(s); // stable
  });

  test("two 200-character names that differ only in the cut middle stay distinct", () => {
    const a = `${"a".repeat(100)}X${"a".repeat(99)}`;
    const b = `${"a".repeat(100)}Y${"a".repeat(99)}`;
    expect(sanitizeToolName(a)).not.toBe(sanitizeToolName(b));
  });

  test("any string becomes a valid name, and a valid name is unchanged (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const out = sanitizeToolName(s);
        expect(isValidToolName(out)).toBe(true);
        if (isValidToolName(s)) expect(out).toBe(s);
      }),
    );
  });
});

describe("prefixedName", () => {
  test.each([
    ["github", "create_issue", "__", "github__create_issue"],
    ["github", "create_issue", ".", "github.create_issue"],
    ["", "create_issue", "__", "create_issue"],
    ["my server", "list files", "__", "my_server__list_files"],
  ])("%p + %p (sep %p) → %p", (prefix, name, sep, out) => {
    expect(prefixedName(prefix, name, sep)).toBe(out);
  });

  test("a too-long result fits the maximum and two long names never collide", () => {
    const prefix = "a_rather_long_source_prefix";
    const shared = "x".repeat(150);
    const n1 = prefixedName(prefix, `${shared}_create`);
    const n2 = prefixedName(prefix, `${shared}_update`);
    const n3 = prefixedName(prefix, `${"x".repeat(60)}1${"x".repeat(89)}_create`); // differs only inside the cut middle
    for (const n of [n1, n2, n3]) {
      expect(n.length).toBeLessThanOrEqual(TOOL_NAME_MAX);
      expect(isValidToolName(n)).toBe(true);
      expect(n.startsWith(`${prefix}__`)).toBe(true);
    }
    expect(new Set([n1, n2, n3]).size).toBe(3);
    expect(prefixedName(prefix, `${shared}_create`)).toBe(n1);
  });

  test("the same name under two prefixes stays distinct even when both are shortened", () => {
    const name = "y".repeat(200);
    expect(prefixedName("alpha", name)).not.toBe(prefixedName("beta", name));
  });

  test("always valid and within the maximum (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 200 }), (p, n) => {
        const out = prefixedName(p, n);
        expect(isValidToolName(out)).toBe(true);
      }),
    );
  });
});

describe("globs", () => {
  test.each([
    ["*", "anything", true],
    ["*", "", true],
    ["list*", "listPets", true],
    ["list*", "getList", false],
    ["*Pet", "showPet", true],
    ["get?", "getX", true],
    ["get?", "get", false],
    ["get?", "getXY", false],
    ["/pets/*", "/pets/{petId}", true],
    ["/pets/*", "/pets/{petId}/photo", true],
    ["/pets/*", "/petsx", false],
    ["a.b", "a.b", true],
    ["a.b", "axb", false],
    ["a+(b)", "a+(b)", true],
    ["[x]", "[x]", true],
    ["[x]", "x", false],
    ["Pets", "pets", false],
    ["user-*", "user-x", true],
    ["a/*-b", "a/x-b", true],
    ["^$|\\", "^$|\\", true],
  ])("%p matches %p: %p", (glob, name, ok) => {
    expect(matchesGlob(glob, name)).toBe(ok);
  });

  test("a literal with * appended matches itself and its extensions, whatever its characters (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 10 }), (lit, more) => {
        const clean = lit.replace(/[*?]/g, "");
        expect(matchesGlob(`${clean}*`, clean + more)).toBe(true);
        expect(matchesGlob(clean, clean)).toBe(true);
      }),
    );
  });

  test("compileGlobs: any of the list; an empty list matches nothing", () => {
    const m = compileGlobs(["list*", "deletePet", "?et"]);
    expect(["listPets", "deletePet", "get", "set"].every(m)).toBe(true);
    expect(["deletePets", "getPet", ""].some(m)).toBe(false);
    expect(compileGlobs([])("x")).toBe(false);
  });
});
