/**
 * The config of the guardrails (docs/mcp.md, "Guardrails"): `mcp.guardrails`
 * (argument checks, result size caps, secret redaction, deny patterns on
 * arguments) and the fields of a source's `per_tool.<tool>` entry that
 * override them for one tool. Patterns are compiled here, on the linear-time
 * engine that runs them (src/core/regex.ts), so a bad one is a config error
 * naming its field; JSON pointers are checked the same way.
 */
import { z } from "zod";
import { size } from "../../../config/fields.ts";
import { formatSize, parseSize } from "../../../config/units.ts";
import { compileUserRegex, UserRegexError } from "../../../core/regex.ts";
import { parsePointer } from "./deny.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
/** Smallest cap: room for the truncation marker and something worth reading. */
export const MIN_RESULT_BYTES = KIB;
const MAX_RESULT_BYTES = 1024 * MIB;

/** A user pattern, checked on the engine that will run it (RE2: linear time, no backreferences or lookaround). */
const regex = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((p, ctx) => {
    try {
      compileUserRegex(p);
    } catch (err) {
      if (err instanceof UserRegexError) ctx.addIssue({ code: "custom", message: err.message });
      else throw err;
    }
  });

/** An argument name, or a JSON pointer (RFC 6901) into the arguments when it starts with "/". */
const field = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((f, ctx) => {
    if (f.startsWith("/") && parsePointer(f) === undefined) ctx.addIssue({ code: "custom", message: `not a JSON pointer (RFC 6901: "~" must be followed by 0 or 1): ${JSON.stringify(f)}` });
  });

const onOversize = z.enum(["truncate", "error"]);

/** A size in bytes or human units, optional (a per-tool override): undefined when not set. */
const optionalSize = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const n = parseSize(v);
    if (n === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a size such as "64KiB" or "10MB", got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (n < MIN_RESULT_BYTES || n > MAX_RESULT_BYTES) {
      ctx.addIssue({ code: "custom", message: `must be ${formatSize(MIN_RESULT_BYTES)} to ${formatSize(MAX_RESULT_BYTES)}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

const denyRuleSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "a rule name is 1 to 64 of A-Z a-z 0-9 _ . -")
      .optional()
      .meta({ description: 'Names the rule in the metric and the log (rule="deny_arguments:<name>"). Default: its index in the list.' }),
    pattern: regex.meta({ description: "A regular expression (RE2 syntax, linear time: no backreferences or lookaround; `(?i)` for case-insensitive). A call is denied when it matches somewhere in one of the string values checked." }),
    fields: z
      .array(field)
      .max(100)
      .optional()
      .meta({ description: 'Which arguments are checked: argument names (top level) or JSON pointers into the arguments ("/filter/query"); every string inside the value found is checked, at any depth. Default: every string value of the arguments, at any depth.' }),
    message: z.string().min(1).max(1024).optional().meta({ description: "The tool error the agent reads when the rule denies a call. Default: one naming the rule." }),
    tools: z
      .array(z.string().min(1).max(256))
      .max(1000)
      .optional()
      .meta({ description: "Globs (* and ?) over the tool names agents see: the rule applies to these tools only. Default: every tool." }),
  })
  .meta({ description: "Tool calls whose arguments match this pattern are denied before the upstream is called." });

export const guardrailsConfigSchema = z
  .strictObject({
    validate_arguments: z
      .boolean()
      .default(true)
      .meta({ description: "Check each call's arguments against the tool's inputSchema before the upstream is called: arguments that do not fit are a tool error naming the problem, and the upstream never sees them. A schema that cannot be compiled is not enforced (logged once). Default true." }),
    max_result_bytes: size("1MiB", "Largest tool result passed to the agent (the bytes of its text, data and structuredContent), after redaction.", { min: MIN_RESULT_BYTES, max: MAX_RESULT_BYTES }),
    on_oversize: onOversize
      .default("truncate")
      .meta({ description: 'What happens to a result over max_result_bytes: "truncate" cuts text content and ends it with "[… truncated by Ficus: N bytes over max_result_bytes]", drops content items and structuredContent that no longer fit, and says so; "error" replaces it with a tool error. Default truncate.' }),
    redact: z
      .strictObject({
        defaults: z
          .boolean()
          .default(true)
          .meta({ description: "Redact the built-in secret patterns (bearer and basic credentials, JWTs, AWS, GCP, GitHub, Slack and Stripe keys, private key blocks, password=… and secret JSON fields, passwords in URLs). Default true." }),
        patterns: z.array(regex).max(200).default([]).meta({ description: "More patterns to redact (RE2 syntax); the whole match is replaced." }),
        replacement: z.string().max(256).default("[redacted]").meta({ description: 'What replaces a secret (taken literally). Default "[redacted]".' }),
      })
      .prefault({})
      .meta({ description: "Redaction of secrets in tool results: text content, embedded resources' text and the string values of structuredContent. Each redaction is counted." }),
    deny_arguments: z.array(denyRuleSchema).max(1000).default([]).meta({ description: "Deny patterns on arguments: a call matching one is a tool error (its message) and never reaches the upstream." }),
  })
  .meta({ description: "Guardrails on every tool call: arguments checked against the tool's schema and deny patterns before the upstream, secrets redacted from results and their size capped after it (docs/mcp.md, Guardrails)." });

/** Fields of a source's `per_tool` entry that the guardrails read (each overrides mcp.guardrails for that tool). */
export const guardrailsPerToolFields = {
  validate_arguments: z.boolean().optional().meta({ description: "Check this tool's arguments against its inputSchema (overrides mcp.guardrails.validate_arguments)." }),
  max_result_bytes: optionalSize.meta({ description: `Largest result of this tool (overrides mcp.guardrails.max_result_bytes); ${formatSize(MIN_RESULT_BYTES)} to ${formatSize(MAX_RESULT_BYTES)}.` }),
  on_oversize: onOversize.optional().meta({ description: "truncate or error (overrides mcp.guardrails.on_oversize)." }),
  redact: z.boolean().optional().meta({ description: "false: this tool's results are not redacted (mcp.guardrails.redact applies otherwise)." }),
};

export type GuardrailsConfig = z.output<typeof guardrailsConfigSchema>;
export type DenyRuleConfig = z.output<typeof denyRuleSchema>;
/** A per_tool entry as the guardrails read it. */
export interface GuardrailsPerTool {
  readonly validate_arguments?: boolean | undefined;
  readonly max_result_bytes?: number | undefined;
  readonly on_oversize?: "truncate" | "error" | undefined;
  readonly redact?: boolean | undefined;
}
