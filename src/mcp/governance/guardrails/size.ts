/**
 * The size cap on tool results (`max_result_bytes`). A result's size is the
 * bytes of what it carries: the UTF-8 text of text items and embedded
 * resources, the base64 of images, audio and blobs, the JSON of any other
 * item, and the JSON of structuredContent. Truncation keeps items in order
 * while they fit, cuts the first text that does not (on a character
 * boundary) and ends it with a marker saying how much was over, drops the
 * items and the structuredContent that no longer fit, and says so in the
 * marker. For a tool with an outputSchema the structuredContent is kept first
 * (it is what the agent's client checks); when even it does not fit, the
 * result becomes a tool error, since a client would reject it without one.
 */
import type { CallToolResult, JsonObject } from "../../types.ts";

/** Bytes kept free for the marker when cutting (the marker is under 160 bytes). */
const MARKER_ROOM = 160;

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** The longest prefix of `s` of at most `bytes` UTF-8 bytes, never splitting a character. */
export function cutUtf8(s: string, bytes: number): string {
  if (bytes <= 0) return "";
  if (s.length * 3 <= bytes) return s;
  const { read } = encoder.encodeInto(s, new Uint8Array(bytes));
  return s.slice(0, read);
}

function textOf(item: JsonObject): string | undefined {
  if (item !== null && typeof item === "object" && item.type === "text" && typeof item.text === "string") return item.text;
  return undefined;
}

/** The text of an embedded resource item, when it has one. */
function resourceTextOf(item: JsonObject): string | undefined {
  if (item === null || typeof item !== "object" || item.type !== "resource") return undefined;
  const r = item.resource;
  if (r === null || typeof r !== "object") return undefined;
  const t = (r as JsonObject).text;
  return typeof t === "string" ? t : undefined;
}

/** Bytes an item carries. */
export function itemBytes(item: JsonObject): number {
  const text = textOf(item) ?? resourceTextOf(item);
  if (text !== undefined) return utf8Bytes(text);
  if ((item.type === "image" || item.type === "audio") && typeof item.data === "string") return item.data.length;
  if (item.type === "resource" && item.resource !== null && typeof item.resource === "object") {
    const blob = (item.resource as JsonObject).blob;
    if (typeof blob === "string") return blob.length;
  }
  return utf8Bytes(JSON.stringify(item) ?? "");
}

export function structuredBytes(sc: JsonObject | undefined): number {
  return sc === undefined ? 0 : utf8Bytes(JSON.stringify(sc) ?? "");
}

/** A result's size (see the header), and the parts' sizes for truncate(). */
export interface Measure {
  readonly total: number;
  readonly items: readonly number[];
  readonly structured: number;
}

/**
 * The size of a result, or undefined when it fits in `max` (known from character counts alone when it can be: a
 * character is at most 3 UTF-8 bytes). `always`: measured even when it fits.
 */
export function measure(result: CallToolResult, max: number, always = false): Measure | undefined {
  const content = Array.isArray(result.content) ? result.content : [];
  let bound = 0;
  let cheap = true;
  for (const item of content) {
    const t = textOf(item);
    if (t === undefined) {
      cheap = false;
      break;
    }
    bound += t.length * 3;
  }
  if (!always && cheap && result.structuredContent === undefined && bound <= max) return undefined;
  const items = content.map((i) => (i !== null && typeof i === "object" ? itemBytes(i) : 0));
  const structured = structuredBytes(result.structuredContent);
  let total = structured;
  for (const n of items) total += n;
  return total <= max && !always ? undefined : { total, items, structured };
}

/** The marker ending a cut result. */
export function marker(over: number, droppedItems: number, droppedStructured: boolean): string {
  let s = `[… truncated by Ficus: ${over} bytes over max_result_bytes`;
  if (droppedItems > 0) s += `; ${droppedItems} content item${droppedItems === 1 ? "" : "s"} dropped`;
  if (droppedStructured) s += "; structuredContent dropped";
  return `${s}]`;
}

/** What truncate() did. */
export interface Truncated {
  readonly result: CallToolResult;
  /** The structuredContent of a tool with an outputSchema did not fit: the result is now a tool error. */
  readonly failed: boolean;
}

/**
 * The result cut to `max` bytes (see the header). `structuredFirst`: the tool declares an outputSchema; `over`:
 * the bytes over the cap the marker states (of the result as received, when redaction changed it).
 * Never changes `result`: what changes is copied.
 */
export function truncate(result: CallToolResult, m: Measure, max: number, structuredFirst: boolean, over = m.total - max): Truncated {
  const content = Array.isArray(result.content) ? result.content : [];
  // Everything is kept when it fits with the marker (text was dropped before redaction, and what is left fits).
  let budget = m.total <= max - MARKER_ROOM ? m.total : Math.max(0, max - MARKER_ROOM);
  const sc = result.structuredContent;
  let keepStructured = false;
  if (sc !== undefined && structuredFirst && m.structured <= budget) {
    keepStructured = true;
    budget -= m.structured;
  }
  const out: JsonObject[] = [];
  let droppedItems = 0;
  /** The index in `out` of the text item the marker ends, once one was cut. */
  let cutAt = -1;
  for (let i = 0; i < content.length; i++) {
    const item = content[i] as JsonObject;
    const n = m.items[i] ?? 0;
    if (cutAt < 0 && n <= budget) {
      out.push(item);
      budget -= n;
      continue;
    }
    const text = cutAt < 0 ? textOf(item) : undefined;
    const rtext = cutAt < 0 && text === undefined ? resourceTextOf(item) : undefined;
    if (text !== undefined && budget > 0) {
      out.push({ ...item, text: cutUtf8(text, budget) });
      cutAt = out.length - 1;
      budget = 0;
    } else if (rtext !== undefined && budget > 0) {
      out.push({ ...item, resource: { ...(item.resource as JsonObject), text: cutUtf8(rtext, budget) } });
      cutAt = out.length - 1;
      budget = 0;
    } else droppedItems++;
  }
  if (sc !== undefined && !structuredFirst && m.structured <= budget) keepStructured = true;
  const droppedStructured = sc !== undefined && !keepStructured;
  const note = marker(over, droppedItems, droppedStructured);
  const cut = out[cutAt];
  if (cut !== undefined && cut.type === "text") out[cutAt] = { ...cut, text: `${cut.text as string}\n${note}` };
  else if (cut !== undefined) {
    const res = cut.resource as JsonObject;
    out[cutAt] = { ...cut, resource: { ...res, text: `${res.text as string}\n${note}` } };
  } else out.push({ type: "text", text: note });
  const next: CallToolResult = { ...result, content: out };
  if (droppedStructured) delete next.structuredContent;
  const failed = droppedStructured && structuredFirst && result.isError !== true;
  if (failed) next.isError = true;
  return { result: next, failed };
}
