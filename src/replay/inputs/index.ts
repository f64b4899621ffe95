/**
 * Opening recordings: Ficus JSON Lines (.jsonl, .ndjson, optionally .gz),
 * HAR 1.2 (.har) and GoReplay (.gor). The format comes from the name, else
 * from the first bytes.
 */
import { FicusError } from "../../core/errors.ts";
import type { InputItem } from "../exchange.ts";
import { readGor } from "./gor.ts";
import { readHar } from "./har.ts";
import { readJsonl } from "./jsonl.ts";
import { ByteSource } from "./source.ts";

export type InputFormat = "jsonl" | "har" | "gor";

export { ByteSource } from "./source.ts";
export { parseRawRequest } from "./gor.ts";

async function sniff(src: ByteSource): Promise<InputFormat | undefined> {
  for await (const chunk of src.chunks()) {
    const head = new TextDecoder().decode(chunk.subarray(0, 512)).trimStart();
    if (/^[123] [0-9a-f]+ \d+/.test(head)) return "gor";
    if (/^\{\s*"log"\s*:/.test(head)) return "har";
    if (head.startsWith("{")) return "jsonl";
    return undefined;
  }
  return undefined;
}

export async function detectFormat(path: string): Promise<InputFormat> {
  const name = path.toLowerCase().replace(/\.gz$/, "");
  if (name.endsWith(".har")) return "har";
  if (name.endsWith(".gor")) return "gor";
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  const sniffed = await sniff(new ByteSource(path));
  if (!sniffed) throw new FicusError("FICUS_REPLAY_INPUT", `${path}: not a recording Ficus can read (expected Ficus JSON Lines, HAR 1.2 or GoReplay)`);
  return sniffed;
}

/** An opened recording: its items, streamed, and how far reading has got (bytes). */
export interface Recording {
  readonly path: string;
  readonly format: InputFormat;
  readonly source: ByteSource;
  readonly items: AsyncGenerator<InputItem>;
}

export async function openRecording(path: string): Promise<Recording> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new FicusError("FICUS_REPLAY_INPUT", `${path}: no such file`);
  const format = await detectFormat(path);
  const source = new ByteSource(path);
  const items = format === "har" ? readHar(source) : format === "gor" ? readGor(source) : readJsonl(source);
  return { path, format, source, items };
}
