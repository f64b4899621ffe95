/**
 * HAR 1.2 (browsers' devtools, Playwright's recordHar). A HAR is one JSON
 * document, but it is read as a stream: a small scanner finds `log.entries`
 * and hands each entry's text to JSON.parse on its own, so a file of any size
 * is read in constant memory and a truncated or corrupt entry costs only
 * itself (reported with the line it starts on).
 */
import { normalizeMessage } from "../../compare/index.ts";
import type { RecordedExchange, InputItem } from "../exchange.ts";
import { splitTarget } from "../exchange.ts";
import type { ByteSource } from "./source.ts";

interface HarHeader {
  name: string;
  value: string;
}
interface HarEntry {
  startedDateTime?: string;
  time?: number;
  request?: { method?: string; url?: string; headers?: HarHeader[]; postData?: { text?: string; encoding?: string } };
  response?: { status?: number; headers?: HarHeader[]; content?: { size?: number; text?: string; encoding?: string } };
}

const utf8 = new TextEncoder();

function headersOf(list: HarHeader[] | undefined): [string, string][] {
  // HTTP/2 pseudo-headers (":authority", ":path") are not header fields of a replayed HTTP/1.1 request.
  return (list ?? []).filter((h) => typeof h?.name === "string" && typeof h.value === "string" && !h.name.startsWith(":")).map((h) => [h.name, h.value]);
}

function bodyOf(text: string | undefined, encoding: string | undefined): Uint8Array | undefined {
  if (text === undefined || text === "") return undefined;
  return encoding === "base64" ? Uint8Array.from(Buffer.from(text, "base64")) : utf8.encode(text);
}

/** One HAR entry as an exchange; throws a readable message when it lacks what a replay needs. */
export function harEntry(e: HarEntry, file: string, line: number): RecordedExchange {
  const req = e.request;
  if (!req || typeof req.method !== "string" || typeof req.url !== "string") throw new Error("entry without request.method and request.url");
  const { host, target } = splitTarget(req.url);
  if (!target.startsWith("/")) throw new Error(`request.url is not an http(s) URL: ${JSON.stringify(req.url.slice(0, 80))}`);
  const res = e.response;
  const content = res?.content;
  // Status 0: the browser got no answer. A body the HAR left out (size > 0, no text) cannot be compared against.
  const hasResponse = res !== undefined && typeof res.status === "number" && res.status >= 100 && !(content?.text === undefined && (content?.size ?? 0) > 0);
  // HAR content is the decoded payload (HAR 1.2 §content), while the headers still name the coding the server used;
  // some tools store the coded bytes instead (base64). Either way the response is kept as its payload.
  const payload = hasResponse ? normalizeMessage({ status: res.status, headers: headersOf(res.headers), body: bodyOf(content?.text, content?.encoding) ?? new Uint8Array(0) }, { mayBeDecoded: true }) : undefined;
  return {
    time: e.startedDateTime ? Date.parse(e.startedDateTime) : Number.NaN,
    route: undefined,
    request: { method: req.method.toUpperCase(), target, host, headers: headersOf(req.headers), body: bodyOf(req.postData?.text, req.postData?.encoding) },
    response: payload
      ? { status: res?.status as number, headers: payload.headers ?? [], body: payload.body, durationMs: typeof e.time === "number" && e.time >= 0 ? e.time : undefined }
      : undefined,
    file,
    line,
  };
}

export async function* readHar(src: ByteSource): AsyncGenerator<InputItem> {
  const decoder = new TextDecoder();
  let depth = 0;
  let inString = false;
  let escape = false;
  let line = 1;
  // Phase 1: find "entries" as a key two levels down (root → log); phase 2: cut the array into entries.
  let inEntries = false;
  let done = false;
  let lastString = "";
  let stringStart = -1;
  let keyPending = "";
  let entryParts: string[] = [];
  let entryStart = -1;
  let entryLine = 0;
  let stringParts = "";
  for await (const chunk of src.chunks()) {
    if (done) continue; // drain (keeps the byte count honest for progress)
    const text = decoder.decode(chunk, { stream: true });
    stringStart = inString && !inEntries ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      if (inString) {
        if (escape) escape = false;
        else if (c === 92) escape = true;
        else if (c === 34) {
          inString = false;
          if (!inEntries && stringStart >= 0) {
            lastString = stringParts + text.slice(stringStart, i);
            stringParts = "";
          }
        }
        continue;
      }
      switch (c) {
        case 34: // "
          inString = true;
          if (!inEntries) {
            stringStart = i + 1;
            stringParts = "";
          }
          break;
        case 58: // :
          if (!inEntries) keyPending = lastString;
          break;
        case 44: // ,
          keyPending = "";
          break;
        case 123: // {
        case 91: // [
          if (inEntries && depth === 3 && c === 123) {
            entryStart = i;
            entryLine = line;
            entryParts = [];
          }
          if (!inEntries && c === 91 && depth === 2 && keyPending === "entries") inEntries = true;
          depth++;
          break;
        case 125: // }
        case 93: // ]
          depth--;
          if (inEntries && depth === 3 && c === 125 && entryStart >= 0) {
            entryParts.push(text.slice(entryStart, i + 1));
            entryStart = -1;
            const body = entryParts.join("");
            entryParts = [];
            try {
              yield { exchange: harEntry(JSON.parse(body) as HarEntry, src.path, entryLine) };
            } catch (err) {
              yield { corrupt: { file: src.path, line: entryLine, message: (err as Error).message } };
            }
          } else if (inEntries && depth === 2 && c === 93) {
            done = true;
          }
          break;
      }
      if (done) break;
    }
    if (entryStart >= 0) {
      entryParts.push(text.slice(entryStart));
      entryStart = 0;
    }
    if (inString && !inEntries && stringStart >= 0) stringParts += text.slice(stringStart);
  }
  if (!inEntries) yield { corrupt: { file: src.path, line: 1, message: "not a HAR file: no log.entries array" } };
  else if (!done) yield { corrupt: { file: src.path, line: entryParts.length > 0 ? entryLine : line, message: "truncated: the file ends inside log.entries" } };
}
