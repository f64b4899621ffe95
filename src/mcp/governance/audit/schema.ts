/**
 * The config of the MCP audit log (`mcp.audit`): one JSON line per tool
 * call, written to stdout, stderr or a file, with the arguments as a digest,
 * as redacted values, or not at all.
 */
import { z } from "zod";

export const auditConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false).meta({ description: "Write one JSON line per tools/call (who, which tool, the decision, the outcome, how long). Default false." }),
    output: z.string().min(1).default("stdout").meta({ description: 'Where the lines go: "stdout", "stderr" or a file path (appended to, relative to the config file\'s folder; reopened when rotated away). Default stdout.' }),
    arguments: z
      .enum(["digest", "values", "none"])
      .default("digest")
      .meta({ description: '"digest": args_digest, the SHA-256 (hex) of the arguments\' RFC 8785 canonical JSON (equal arguments give equal digests whatever their key order); "values": args, the arguments with secret-looking keys redacted (the top-level redact block); "none": neither. Default digest.' }),
  })
  .meta({ description: "The audit log of tool calls (docs/mcp.md, Governance)." });

export type AuditConfig = z.output<typeof auditConfigSchema>;
