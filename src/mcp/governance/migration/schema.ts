/**
 * The config of migrating a federated MCP server (docs/mcp.md, "Migration"):
 * the fields a source (`mcp.sources.<s>`) gains — the rewritten server
 * (`candidate`), the stage in force, how the canary assigns callers, how
 * calls are shadowed, and the compare rules. The stage machine, gates and
 * results are the route migrations' own (src/migration), under the name
 * `mcp:<source>`.
 *
 * The canary, gate and shadow fields mirror the route's (src/config/schema.ts)
 * in shape and defaults, so the controller judges both alike; they are
 * declared here because src/config/schema.ts imports this file (through
 * src/mcp/schema.ts) and cannot be imported back.
 */
import { z } from "zod";
import { compareRulesSchema } from "../../../config/compare-schema.ts";
import { duration } from "../../../config/fields.ts";

export const MCP_STAGES = ["legacy", "shadow", "canary", "candidate"] as const;

const candidateSchema = z
  .strictObject({
    url: z.string().regex(/^https?:\/\/[^/]/).optional().meta({ description: "The rewritten MCP server over Streamable HTTP." }),
    headers: z.record(z.string(), z.string()).optional().meta({ description: "Headers sent to the candidate at url (use ${ENV} for secrets)." }),
    command: z.array(z.string().min(1)).min(1).optional().meta({ description: "The rewritten MCP server over stdio: the command and its arguments (spawned, supervised and restarted like a source's)." }),
    env: z.record(z.string(), z.string()).optional().meta({ description: "Environment of the candidate's command." }),
    cwd: z.string().optional().meta({ description: "Working folder of the candidate's command (default: the config file's folder)." }),
  })
  .superRefine((c, ctx) => {
    if ((c.url === undefined) === (c.command === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of url or command" });
    if (c.headers !== undefined && c.url === undefined) ctx.addIssue({ code: "custom", message: "headers are for a candidate at url", path: ["headers"] });
    if ((c.env !== undefined || c.cwd !== undefined) && c.command === undefined) ctx.addIssue({ code: "custom", message: "env and cwd are for a candidate command", path: ["env"] });
  })
  .meta({ description: "The rewritten MCP server this source migrates to (same tool names). With it, the source is a migration named mcp:<source>: `ficus report`, `ficus promote mcp:<source>` and `ficus rollback mcp:<source>` work on it as on a route." });

const gatesSchema = z
  .strictObject({
    mismatch_rate: z.number().min(0).max(1).default(0.01).meta({ description: "Budget of non-noise mismatches per compared call (those at min_severity or above). Default 0.01." }),
    min_severity: z.enum(["low", "medium", "high"]).default("medium").meta({ description: "Least severity of a mismatch that counts toward mismatch_rate (high: isError or a type differs; medium: a value). Default medium." }),
    error_margin: z.number().min(0).max(1).default(0.01).meta({ description: "The candidate's error rate (tool errors, failures, timeouts) may exceed legacy's by this much. Default 0.01." }),
    min_compared: z.number().int().min(1).default(20).meta({ description: "Compared calls before the rate gates judge. Default 20." }),
    latency: z
      .strictObject({
        p50_factor: z.number().min(1).default(1.2).meta({ description: "The candidate may be this much slower at the median. Default 1.2." }),
        p99_factor: z.number().min(1).default(1.5).meta({ description: "…and at p99. Default 1.5." }),
        min_samples: z.number().int().min(2).default(100).meta({ description: "Latency samples per side before the latency gates judge. Default 100." }),
        alpha: z.number().gt(0).lt(1).default(0.01).meta({ description: "Significance level of the Mann–Whitney test. Default 0.01." }),
      })
      .prefault({}),
  })
  .prefault({})
  .meta({ description: "Gates evaluated continuously in shadow and canary (as a route's canary.gates)." });

const canarySchema = z
  .strictObject({
    percent: z.number().min(0).max(100).default(1).meta({ description: "Share of callers the candidate serves in the canary stage, 0–100 (0.01 steps). Default 1." }),
    sticky: z
      .enum(["principal", "address"])
      .default("principal")
      .meta({ description: "What keeps a caller on one side: principal (the authenticated subject, else the client address; default) or address (the client address)." }),
    salt: z.string().default("").meta({ description: "Mixed into the hash (migrations with the same salt put a caller on the same side at the same percentage). Default empty." }),
    steps: z.array(z.number().gt(0).max(100)).min(1).default([1, 10, 50, 100]).meta({ description: "The percentages `promote` walks through; 100 makes the source served by the candidate. Default [1, 10, 50, 100]." }),
    rollback_to: z.enum(["shadow", "legacy"]).default("shadow").meta({ description: "The stage a rollback returns to. Default shadow." }),
    auto: z.boolean().default(true).meta({ description: "Promote automatically when every gate passes, roll back when one fails. Default true." }),
    step: z
      .strictObject({
        min_duration: duration("10m", "Least time in a step (shadow included) before an automatic promotion."),
        min_requests: z.number().int().min(0).default(500).meta({ description: "Least compared calls in a step before an automatic promotion. Default 500." }),
      })
      .prefault({}),
    gates: gatesSchema,
  })
  .superRefine((c, ctx) => {
    c.steps.forEach((p, i) => {
      if (i > 0 && p <= (c.steps[i - 1] as number)) ctx.addIssue({ code: "custom", message: `steps must increase: ${p} after ${c.steps[i - 1]}`, path: ["steps", i] });
    });
  })
  .prefault({})
  .meta({ description: "The canary stage of a migrating source: a sticky share of callers served by the candidate." });

const shadowSchema = z
  .strictObject({
    sample: z.number().min(0).max(1).default(1).meta({ description: "Fraction of read-only calls mirrored to the other side (every k-th). Default 1." }),
    aa: z.number().min(0).max(1).default(0.05).meta({ description: "Fraction of mirrored calls also sent to legacy a second time (A/A), to learn noise. Default 0.05." }),
    max_concurrency: z.number().int().min(1).default(16).meta({ description: "Mirror calls in flight per source (per worker); past it the copy is dropped and counted. Default 16." }),
    timeout: duration("10s", "Time allowed for a mirror call.", { min: 1 }),
    noise: z
      .strictObject({
        relative: z.number().min(0).default(0.2),
        absolute: z.number().min(0).max(1).default(0.0003),
        min_aa: z.number().int().min(1).default(20),
      })
      .prefault({})
      .meta({ description: "When a difference counts as noise (as a route's shadow.noise)." }),
    redact: z.array(z.string()).default([]).meta({ description: 'JSONPath patterns of values replaced by "[redacted]" in stored samples (the compared document: $.structuredContent…, $.content[*].text…), in addition to the top-level redact block.' }),
  })
  .prefault({})
  .meta({ description: "How calls are mirrored in shadow and canary. Only tools annotated readOnlyHint: true (and not destructiveHint) are ever mirrored." });

/** Fields of a source. */
export const migrationSourceFields = {
  candidate: candidateSchema.optional(),
  stage: z
    .enum(MCP_STAGES)
    .default("legacy")
    .meta({ description: "legacy: the source serves. shadow: it serves, and read-only calls are mirrored to the candidate and compared. canary: the candidate serves canary.percent of callers (sticky), read-only calls mirrored both ways. candidate: the candidate serves. Default legacy." }),
  canary: canarySchema,
  shadow: shadowSchema,
  compare: compareRulesSchema.prefault({}).meta({ description: "How the two results are compared: a document { structuredContent, content } (text that parses as JSON compared as JSON) with a status of 200, or 500 for a tool error (isError)." }),
};

/** Problems of a source's migration fields the field schemas cannot see alone (for mcpSourceSchema's superRefine). */
export function migrationSourceIssues(s: { stage?: string | undefined; candidate?: unknown; url?: unknown; command?: unknown }): { message: string; path: string[] }[] {
  const out: { message: string; path: string[] }[] = [];
  if (s.candidate !== undefined && s.url === undefined && s.command === undefined) out.push({ message: "candidate is for a federated MCP server (url or command)", path: ["candidate"] });
  if (s.stage !== undefined && s.stage !== "legacy" && s.candidate === undefined) out.push({ message: `stage ${s.stage} needs a candidate`, path: ["stage"] });
  return out;
}
