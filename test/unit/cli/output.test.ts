/** Text from users and traffic printed by the CLI: control characters shown as escapes, never acted on. */
import { expect, test } from "bun:test";
import { safeJson, safeText } from "../../../src/cli/output.ts";

test.each([
  ["plain text, tabs\tand → arrows", false, "plain text, tabs\tand → arrows"],
  ["\x1b[31mred\x1b[0m", false, "\\x1b[31mred\\x1b[0m"],
  ["\x1b]0;title\x07", false, "\\x1b]0;title\\x07"],
  ["\u009b2J", false, "\\x9b2J"],
  ["a\rb\x00c\x7f", false, "a\\x0db\\x00c\\x7f"],
  ["line\nnext", false, "line\\x0anext"],
  ["line\nnext", true, "line\nnext"],
  ["\u202eevil\u2066", false, "\\u202eevil\\u2066"],
  ["Ünïcödé ✓ 日本", false, "Ünïcödé ✓ 日本"],
])("safeText(%p, multiline %p)", (input, multiline, want) => {
  expect(safeText(input, multiline)).toBe(want);
});

test("safeJson is still the same JSON, with C1 and bidi controls as \\u escapes", () => {
  const value = { reason: "\x1b[31m \u009b \u202e ok", n: 1 };
  const text = safeJson(value);
  expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  expect(JSON.parse(text)).toEqual(value);
});
