/**
 * The config of per-tool policy: `routes[].mcp.policy`, a Rego policy that
 * decides each tool call (and which tools a caller is shown) of one MCP
 * endpoint. Zod lives here only; settings.ts compiles the validated output.
 */
import { z } from "zod";
import { duration } from "../../../config/fields.ts";

const paths = (what: string) =>
  z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(256)])
    .transform((v) => (typeof v === "string" ? [v] : v))
    .meta({ description: `${what} A path or a list of paths, relative to the configuration file's folder.` });

export const mcpPolicySchema = z
  .strictObject({
    module: paths("The Rego module file(s).").optional(),
    modules: z.array(z.string().min(1)).min(1).max(256).optional().meta({ description: "The Rego module files (the same as module given a list)." }),
    data: paths("JSON or YAML data file(s), merged at the top of `data`.").optional(),
    query: z
      .string()
      .regex(/^data(\.[A-Za-z_][A-Za-z0-9_]*|\["[^"\\]+"\])+$/, 'expected a reference into data, such as "data.mcp.decision"')
      .default("data.mcp.decision")
      .meta({
        description:
          "The rule giving the decision: true (allow), false or undefined (deny), or an object {allow, message, arguments} (message: the tool error the agent reads on a denial; arguments: merged over the call's arguments when allowed). Default data.mcp.decision.",
      }),
    strict: z.boolean().default(false).meta({ description: "A built-in's error is a policy error (on_error applies) instead of making its expression undefined. Default false." }),
    budget: z
      .strictObject({
        steps: z.number().int().min(100).max(100_000_000).default(100_000).meta({ description: "Evaluation steps one decision may take. Default 100000." }),
        time: duration("20ms", "Time one decision may take.", { min: 1, max: 10_000 }),
      })
      .prefault({})
      .meta({ description: "Bounds on one decision; spending either is a policy error." }),
    dry_run: z.boolean().default(false).meta({ description: "Decide, log and count every call, but never deny or rewrite (and hide no tool). Default false." }),
    on_error: z
      .enum(["deny", "allow"])
      .default("deny")
      .meta({ description: "When the policy fails (an error, a budget stop, a decision of the wrong shape): deny the call (a tool error) and hide the tool from lists, or allow. Default deny." }),
  })
  .superRefine((p, ctx) => {
    if ((p.module === undefined) === (p.modules === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of module or modules", path: ["module"] });
  })
  .meta({ description: "A Rego policy deciding each tool call of this endpoint, and which tools each caller is shown (docs/mcp.md, Governance)." });

export type McpPolicyConfig = z.output<typeof mcpPolicySchema>;

/** Fields of a route's `mcp:` block. */
export const policyRouteFields = {
  policy: mcpPolicySchema.optional(),
};
