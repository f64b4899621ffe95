/** Ficus JSON Lines recordings (plain or gzip): one exchange per line; blank lines are skipped. */
import { type InputItem, parseExchangeLine } from "../exchange.ts";
import type { ByteSource } from "./source.ts";

export async function* readJsonl(src: ByteSource): AsyncGenerator<InputItem> {
  for await (const { text, line } of src.lines()) {
    if (text.trim() === "") continue;
    try {
      yield { exchange: parseExchangeLine(text, src.path, line) };
    } catch (err) {
      yield { corrupt: { file: src.path, line, message: (err as Error).message } };
    }
  }
}
