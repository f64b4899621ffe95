/**
 * A tool call's result as the compare engine judges it: one JSON document
 * `{ structuredContent, content }` — structuredContent as it is, each text
 * item's text parsed when it is JSON (so a reordered or reformatted JSON text
 * is not a difference) and kept as a string otherwise, other content items as
 * they are — with a status of 200, or 500 for a tool error (isError), so a
 * result that turned into an error (or back) is a status mismatch and tool
 * errors count as errors for the gates. `_meta` is left out (it carries
 * per-call data: traces, timings). Paths in reports read `$.structuredContent…`
 * and `$.content[0].text…`.
 */
import type { Answer } from "../../../migration/judge.ts";
import type { CallToolResult, JsonObject } from "../../types.ts";

const JSON_FIELDS: readonly (readonly [string, string])[] = [["content-type", "application/json"]];
const encoder = new TextEncoder();

/** True when a text is a JSON object or array (it is then embedded as it is: numbers keep every digit). */
function isJsonText(text: string): boolean {
  const t = text.trimStart();
  if (!t.startsWith("{") && !t.startsWith("[")) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The compared document of a result, as JSON text. */
export function comparedDocument(result: CallToolResult): string {
  const parts: string[] = [];
  for (const item of Array.isArray(result.content) ? result.content : []) {
    if (item !== null && typeof item === "object" && item.type === "text" && typeof item.text === "string" && isJsonText(item.text)) {
      const { text, ...rest } = item;
      const others = JSON.stringify(rest);
      parts.push(`${others.slice(0, -1)}${others.length > 2 ? "," : ""}"text":${text}}`);
    } else parts.push(JSON.stringify(item) ?? "null");
  }
  const sc = result.structuredContent === undefined ? "" : `"structuredContent":${JSON.stringify(result.structuredContent)},`;
  return `{${sc}"content":[${parts.join(",")}]}`;
}

/** A result as an Answer for judgePair: status 200 (500 for isError), a JSON body, the time it took. */
export function answerOf(result: CallToolResult, durationMs: number): Answer {
  return { status: result.isError === true ? 500 : 200, headers: JSON_FIELDS, body: encoder.encode(comparedDocument(result)), durationMs };
}

/** True for a tool that may be mirrored: annotated read-only and not destructive. Unannotated tools never are. */
export function mirrorable(annotations: JsonObject | undefined): boolean {
  return annotations !== undefined && annotations.readOnlyHint === true && annotations.destructiveHint !== true;
}
