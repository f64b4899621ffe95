/**
 * The audit log of MCP tool calls (`mcp.audit`): the outermost guard writes
 * one JSON line per tools/call when it ends (audit/line.ts for the fields),
 * through one buffered writer per service shared by its endpoints.
 */
import { isAbsolute, resolve } from "node:path";
import { Redactor } from "../../../migration/redact.ts";
import type { CallEnd, CallGuard, GuardedCall } from "../guard.ts";
import type { GuardDeps } from "../index.ts";
import { type AuditArguments, auditLine } from "./line.ts";
import { AuditWriter } from "./writer.ts";

export { type AuditArguments, type AuditLine, argsDigest, auditLine, auditResult } from "./line.ts";
export { AuditWriter } from "./writer.ts";
export { type AuditFilter, filterAuditLines, parseAuditFilter } from "./query.ts";

const SHARED_KEY = "audit:writer";

export class AuditGuard implements CallGuard {
  readonly name = "audit";

  constructor(
    private readonly writer: { write(line: string): void },
    private readonly mode: AuditArguments,
    private readonly redactor: Redactor | undefined,
  ) {}

  after(call: GuardedCall, end: CallEnd): undefined {
    this.writer.write(auditLine(call, end, this.mode, this.redactor, Date.now(), performance.now()));
    return undefined;
  }
}

/** Where a configured output goes: stdout, stderr, or a file relative to the config's folder. */
export function auditOutputPath(output: string, configDir: string): string {
  if (output === "stdout" || output === "stderr" || isAbsolute(output)) return output;
  return resolve(configDir, output);
}

export function createAuditGuard(deps: GuardDeps): CallGuard | undefined {
  const c = deps.config.mcp.audit;
  if (!c.enabled) return undefined;
  let writer = deps.shared.get(SHARED_KEY) as AuditWriter | undefined;
  if (writer === undefined) {
    const out = auditOutputPath(c.output, deps.configDir);
    try {
      writer = new AuditWriter(out);
    } catch (err) {
      deps.logger.error("the MCP audit log cannot be opened; tool calls are served without it", { output: out, error: (err as Error).message });
      return undefined;
    }
    deps.shared.set(SHARED_KEY, writer);
    const w = writer;
    deps.onClose(() => w.close());
  }
  return new AuditGuard(writer, c.arguments, c.arguments === "values" ? new Redactor(deps.config.redact) : undefined);
}
