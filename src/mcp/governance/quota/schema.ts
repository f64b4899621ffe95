/**
 * The config of quotas and budgets of an MCP endpoint: `routes[].mcp.quotas`
 * (rate limits per tool call, GCRA as src/ratelimit), `routes[].mcp.budget`
 * (cost units per principal per UTC day) and each tool's cost
 * (`sources.<s>.per_tool.<tool>.cost`). Zod lives here only.
 */
import { z } from "zod";
import { rateField } from "../../../ratelimit/schema.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CLAIM = /^claim:[^.\s]+(?:\.[^.\s]+)*$/;

const keyPart = z
  .union([z.enum(["principal", "tool", "endpoint", "client_ip"]), z.string().regex(CLAIM, 'expected principal, tool, endpoint, client_ip or "claim:<name>" (a dotted path such as "claim:tenant.id")').max(256)])
  .meta({
    description:
      'One part of a quota\'s key: principal (the identity\'s subject; an anonymous caller is counted by its address), tool (the name agents see), endpoint, client_ip, or "claim:<name>" (a claim of the verified identity, by dotted path).',
  });

const onBackendError = z
  .enum(["open", "closed"])
  .default("open")
  .meta({ description: "When Redis is unreachable or slower than rate_limit.redis.timeout: let the call through (open) or answer a tool error (closed). Default open." });

export const quotaSchema = z
  .strictObject({
    name: z.string().regex(NAME, "expected a name of letters, digits, '_', '.', '-'").meta({ description: "The quota's name: in the tool error, notes and ficus_mcp_quota_total." }),
    rate: rateField('Calls allowed per period: "100/m", "10/s", "5/10s" (as rate_limit rates).'),
    burst: z.number().int().min(1).max(1_000_000_000).optional().meta({ description: "Calls that may arrive at once on an idle key. Default: the rate's count." }),
    key: z.array(keyPart).min(1).max(8).default(["principal", "tool"]).meta({ description: "What the quota counts by: one bucket per distinct value of these parts. Default [principal, tool]." }),
    tools: z.array(z.string().min(1).max(256)).min(1).max(1000).default(["*"]).meta({ description: "Globs over the names agents see: the tools this quota applies to. Default all." }),
    on_backend_error: onBackendError,
  })
  .meta({ description: "A rate limit on tool calls (GCRA): fleet-wide in Redis when rate_limit.redis is configured, else per process." });

export const budgetSchema = z
  .strictObject({
    limit: z.number().int().min(1).max(1e15).meta({ description: "Cost units each key may spend per UTC day (a tool's cost is sources.<s>.per_tool.<tool>.cost, default 1)." }),
    key: z
      .union([z.literal("principal"), z.string().regex(CLAIM, 'expected principal or "claim:<name>"').max(256)])
      .default("principal")
      .meta({ description: 'Whose budget: principal (the identity\'s subject; an anonymous caller by its address), or "claim:<name>" (e.g. a tenant shared by its users). Default principal.' }),
    store: z.string().min(1).default(".ficus/mcp-budgets.db").meta({ description: "SQLite file of the spent units when Redis is not configured (created with its folder, relative to the config file's folder; shared by the gateway's workers and the admin API). Default .ficus/mcp-budgets.db." }),
    on_backend_error: onBackendError,
  })
  .meta({ description: "A daily budget of cost units per principal (or claim): counted in Redis (rate_limit.redis) or in a local SQLite file; a call past it is a tool error stating when it resets (00:00 UTC)." });

export type QuotaConfig = z.output<typeof quotaSchema>;
export type BudgetConfig = z.output<typeof budgetSchema>;

/** Fields of a route's `mcp:` block. */
export const quotaRouteFields = {
  quotas: z
    .array(quotaSchema)
    .max(32)
    .superRefine((qs, ctx) => {
      const seen = new Set<string>();
      qs.forEach((q, i) => {
        if (seen.has(q.name)) ctx.addIssue({ code: "custom", message: `quota ${JSON.stringify(q.name)} is listed twice`, path: [i, "name"] });
        seen.add(q.name);
      });
    })
    .optional()
    .meta({ description: "Rate limits on this endpoint's tool calls; every quota that applies to a tool must admit. A refusal is a tool error with the retry delay (_meta io.ficus/retry_after_ms)." }),
  budget: budgetSchema.optional(),
};

/** Fields of a source's `per_tool` entry. */
export const quotaPerToolFields = {
  cost: z.number().int().min(0).max(1e12).optional().meta({ description: "Cost units one call of this tool spends from mcp.budget. Default 1; 0 is free." }),
};
