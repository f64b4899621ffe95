/**
 * Rewrites test/conformance/opa-known-failures.tsv from a run of OPA's
 * conformance cases (at <repo>/../shared/conformance/opa): the current
 * failures, each keeping the reason already written for it, new ones marked
 * "TODO: reason" for a person to replace (the unit test fails while any TODO
 * is left). Usage: bun scripts/conformance-known.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatKnown, parseKnown, regenerateKnown, runConformance, TODO_REASON } from "../src/policy/rego/conformance/index.ts";

const ROOT = resolve(import.meta.dir, "..");
const CASES = resolve(ROOT, "../shared/conformance/opa");
const KNOWN = join(ROOT, "test/conformance/opa-known-failures.tsv");

if (!existsSync(CASES)) {
  process.stderr.write(`no OPA conformance cases at ${CASES}\n`);
  process.exit(1);
}
const report = await runConformance([CASES]);
const known = existsSync(KNOWN) ? parseKnown(readFileSync(KNOWN, "utf8")) : [];
const next = regenerateKnown(report.results, known);
writeFileSync(KNOWN, formatKnown(next));
const todo = next.filter((k) => k.reason === TODO_REASON).length;
const kept = new Set(next.map((k) => `${k.file}\t${k.note}`));
const removed = known.filter((k) => !kept.has(`${k.file}\t${k.note}`)).length;
process.stdout.write(`${report.passed}/${report.total} passed; ${next.length} known failures written to ${KNOWN} (${removed} removed, ${todo} need a reason)\n`);
