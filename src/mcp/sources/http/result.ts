/**
 * An HTTP answer as an MCP CallToolResult (MCP 2025-11-25, server/tools "Tool
 * Result"): text for text and JSON bodies, an image or audio block or an embedded
 * resource (base64) for binary ones, structuredContent for JSON when the tool has
 * an output schema, and isError for non-2xx statuses. Never throws: whatever the
 * upstream sent, the agent gets a result that says what it was.
 */

import type { CallToolResult, JsonObject } from "../../types.ts";
import type { HttpAnswer } from "./spec.ts";

/** How the JSON body maps to structuredContent: not at all, as the object itself, or wrapped as {result: body}. */
export type StructuredMode = "none" | "object" | "wrap";

export interface ResultOptions {
  structured: StructuredMode;
  /** Text longer than this (bytes of UTF-8) is cut, with a note saying how long the body was. */
  maxTextBytes: number;
}

/** An error body is cut to this many bytes (4 KiB) in the message. */
export const ERROR_BODY_MAX = 4096;

/** The URI of a binary response body as an embedded resource. */
export const RESPONSE_URI = "ficus://response";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const utf8Lossy = new TextDecoder("utf-8");

function contentType(headers: readonly [string, string][]): string {
  for (const [k, v] of headers) {
    if (k.length === 12 && k.toLowerCase() === "content-type") {
      const semi = v.indexOf(";");
      return (semi === -1 ? v : v.slice(0, semi)).trim().toLowerCase();
    }
  }
  return "";
}

/** True for media types that are text by nature; "" (none sent) is decided by decoding. */
function isJsonType(mt: string): boolean {
  return mt === "application/json" || mt.endsWith("+json") || mt === "text/json";
}

/** Media types whose bodies are returned as binary blocks even when they happen to decode as UTF-8. */
function isBinaryType(mt: string): boolean {
  if (mt === "") return false;
  if (mt.startsWith("image/")) return mt !== "image/svg+xml";
  return (
    mt.startsWith("audio/") ||
    mt.startsWith("video/") ||
    mt === "application/octet-stream" ||
    mt === "application/pdf" ||
    mt === "application/zip" ||
    mt === "application/gzip" ||
    mt.startsWith("font/")
  );
}

function decode(body: Uint8Array): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}

/** Cuts `text` so its UTF-8 form fits in `max` bytes, never inside a character. */
function cut(text: string, body: Uint8Array, max: number): string {
  if (body.length <= max) return text;
  let end = max;
  while (end > 0 && ((body[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${utf8Lossy.decode(body.subarray(0, end))}\n… (cut: the body is ${body.length} bytes)`;
}

function binaryBlock(body: Uint8Array, mt: string): JsonObject {
  const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64");
  const mimeType = mt === "" ? "application/octet-stream" : mt;
  if (mt.startsWith("image/")) return { type: "image", data, mimeType };
  if (mt.startsWith("audio/")) return { type: "audio", data, mimeType };
  return { type: "resource", resource: { uri: RESPONSE_URI, mimeType, blob: data } };
}

function errorResult(status: number, detail: string): CallToolResult {
  return { content: [{ type: "text", text: `The upstream answered HTTP ${status}${detail}` }], isError: true };
}

/** The CallToolResult for one HTTP answer. */
export function toolResult(answer: HttpAnswer, opts: ResultOptions): CallToolResult {
  const { status, body } = answer;
  const mt = contentType(answer.headers);
  const ok = status >= 200 && status <= 299;
  const text = isBinaryType(mt) ? undefined : decode(body);

  if (!ok) {
    if (body.length === 0) return errorResult(status, " with an empty body.");
    if (text === undefined) return errorResult(status, ` with ${body.length} bytes of ${mt === "" ? "binary data" : mt}.`);
    return errorResult(status, `:\n${cut(text, body, ERROR_BODY_MAX)}`);
  }

  if (text === undefined) return { content: [binaryBlock(body, mt)] };

  if (opts.structured === "none") return { content: [{ type: "text", text: cut(text, body, opts.maxTextBytes) }] };

  // The tool promises structuredContent: the body must be JSON (an object unless wrapped).
  let value: unknown;
  let parsed = false;
  if (text.trim() !== "" && (mt === "" || isJsonType(mt) || mt.startsWith("text/"))) {
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  if (opts.structured === "wrap") {
    if (!parsed && text.trim() === "") {
      value = null;
      parsed = true;
    }
    if (parsed) return { content: [{ type: "text", text: cut(text === "" ? "null" : text, body, opts.maxTextBytes) }], structuredContent: { result: value } };
  } else if (parsed && value !== null && typeof value === "object" && !Array.isArray(value)) {
    return { content: [{ type: "text", text: cut(text, body, opts.maxTextBytes) }], structuredContent: value as JsonObject };
  }
  const what = parsed ? (Array.isArray(value) ? "a JSON array" : `the JSON value ${JSON.stringify(value).slice(0, 40)}`) : body.length === 0 ? "an empty body" : `a body that is not JSON (${mt === "" ? "no Content-Type" : mt})`;
  return {
    content: [{ type: "text", text: `The upstream answered HTTP ${status} with ${what}, but the tool's output schema promises a JSON object:\n${cut(text, body, ERROR_BODY_MAX)}` }],
    isError: true,
  };
}
