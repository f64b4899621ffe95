/**
 * `ficus compare LEGACY CANDIDATE [--rules FILE] [--json]`: compares two saved
 * responses. Each file holds a JSON document or a raw HTTP/1.x response as
 * `curl -i` writes it. Exit 0 equal, 1 different, 2 usage or read error, 3
 * incomplete (a `budget` set in the rules ran out).
 */
import { readFileSync } from "node:fs";
import { compareMessages, compileRules, formatVerdict, type HttpMessage, loadRulesFile, looksLikeHttp, normalizeMessage, parseRawHttp } from "../../compare/index.ts";
import { FicusError } from "../../core/errors.ts";
import { reportError, safeJson, safeText } from "../output.ts";

function readMessage(path: string): HttpMessage {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new FicusError("FICUS_COMPARE_INPUT", `cannot read ${path}: ${reason}`);
  }
  // curl writes chunked bodies de-chunked, and with --compressed decoded under the Content-Encoding it received.
  return looksLikeHttp(bytes) ? normalizeMessage(parseRawHttp(bytes), { mayBeDecoded: true }) : { body: bytes };
}

export function compareCommand(legacyPath: string, candidatePath: string, opts: { rules?: string; json?: boolean }): number {
  try {
    const rules = opts.rules !== undefined ? loadRulesFile(opts.rules) : compileRules();
    // Offline, nothing waits on the comparison: no time budget unless the rules file sets one.
    const verdict = compareMessages(readMessage(legacyPath), readMessage(candidatePath), rules, { budgetMs: rules.budgetExplicit ? rules.budgetMs : Number.POSITIVE_INFINITY });
    if (opts.json) {
      const out: Record<string, unknown> = { equal: verdict.equal, differences: verdict.differences };
      if (verdict.truncated) out.truncated = true;
      if (verdict.incomplete) Object.assign(out, { incomplete: true, reason: verdict.reason });
      process.stdout.write(`${safeJson(out)}\n`);
    } else process.stdout.write(safeText(formatVerdict(verdict), true));
    return verdict.incomplete ? 3 : verdict.equal ? 0 : 1;
  } catch (err) {
    // Unreadable inputs and invalid rules are usage errors (2), whatever their code.
    reportError(err);
    return 2;
  }
}
