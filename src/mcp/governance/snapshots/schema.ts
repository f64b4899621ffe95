/**
 * The config of MCP error snapshots (`mcp.snapshots`): what a failed tool
 * call looked like (arguments redacted, the result or error, the tool's
 * definition), kept in a SQLite file shared by the gateway's processes.
 */
import { z } from "zod";
import { duration, size } from "../../../config/fields.ts";

const DAY = 86_400_000;

export const snapshotsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "Keep a snapshot of each failed tool call (a JSON-RPC error, a tool error, a result that breaks the tool's outputSchema, a denial by policy, quota or guardrails). Default true." }),
    path: z.string().min(1).default(".ficus/mcp-snapshots.db").meta({ description: "SQLite file of the snapshots (created with its folder), relative to the config file's folder; shared by the gateway's processes and the admin API. Default .ficus/mcp-snapshots.db." }),
    retention: duration("7d", "Snapshots older than this are deleted (swept each minute).", { min: 60_000, max: 3650 * DAY }),
    max: z.number().int().min(1).max(10_000_000).default(10_000).meta({ description: "At most this many snapshots are kept (the oldest go first). Default 10000." }),
    max_bytes: size("64KiB", "Longest stored result, error or arguments of one snapshot; longer ones are cut.", { min: 256, max: 16 * 1024 * 1024 }),
  })
  .meta({ description: "Snapshots of failed tool calls, for `ficus mcp errors` and `ficus mcp replay` (docs/mcp.md, Governance)." });

export type SnapshotsConfig = z.output<typeof snapshotsConfigSchema>;
