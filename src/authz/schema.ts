/**
 * The configuration of authorization: `authz:` on a route (simple rules, a
 * Rego policy, dry-run, fail-open or closed) and the top-level
 * `decision_log:`. Zod lives here only: the data plane reads what
 * settings.ts compiles from the validated output (see src/authz/README.md).
 */
import { z } from "zod";
import { fieldNameProblem } from "../core/http-grammar.ts";
import { duration, size } from "../config/fields.ts";

const KIB = 1024;
const MIB = 1024 * KIB;


/** A claim path: "org.id" (dot-separated), or a list of keys for names that hold dots ("https://acme.example/tenant"). */
const claimPath = z
  .union([
    z
      .string()
      .min(1)
      .max(256)
      .refine((s) => s.split(".").every((k) => k !== ""), { message: 'expected keys separated by single dots, such as "realm_access.roles"; give a list of keys for names that hold dots' }),
    z.array(z.string().min(1).max(256)).min(1).max(16),
  ])
  .meta({ description: 'Where the claim is: keys separated by dots ("realm_access.roles", "org.id"), or a list of keys when a key holds a dot (["https://acme.example/claims", "tenant"]).' });

const claimValue = z.union([z.string().max(1024), z.number(), z.boolean()]);

const claimRule = z
  .strictObject({
    claim: claimPath,
    equals: claimValue.optional().meta({ description: "The claim must equal this value (a string, number or boolean). When the claim is a list, one of its items must." }),
    in: z.array(claimValue).min(1).max(1024).optional().meta({ description: "The claim must be one of these values. When the claim is a list, one of its items must be." }),
  })
  .superRefine((r, ctx) => {
    if ((r.equals === undefined) === (r.in === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of equals or in", path: ["equals"] });
  })
  .meta({ description: "A claim condition: the identity's claim at `claim` equals a value, or is in a set." });

/** One path or several: Rego modules, data files. */
function paths(what: string) {
  return z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(256)])
    .transform((v) => (typeof v === "string" ? [v] : v))
    .meta({ description: `${what} A path or a list of paths, relative to the configuration file's folder.` });
}

const headerNames = (what: string) =>
  z
    .array(
      z.string().superRefine((name, ctx) => {
        const problem = fieldNameProblem(name);
        if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}` });
      }),
    )
    .max(256)
    .default([])
    .meta({ description: what });

export const policySchema = z
  .strictObject({
    module: paths("The Rego module file(s)."),
    data: paths("JSON or YAML data file(s), merged at the top of `data` (objects key by key; any other collision is an error).").optional(),
    query: z
      .string()
      .regex(/^data(\.[A-Za-z_][A-Za-z0-9_]*|\["[^"\\]+"\])+$/, 'expected a reference into data, such as "data.http.allow"')
      .default("data.http.allow")
      .meta({
        description:
          "The rule giving the decision: true (allow), false or undefined (deny), or an object {allow, status, message, headers} (status: a 4xx for the denial, default 403; message: for the JSON error body; headers: added to the upstream request when allowed). Default data.http.allow.",
      }),
    strict: z.boolean().default(false).meta({ description: "A built-in's error (e.g. json.unmarshal of bad text) is a policy error (on_error applies) instead of making its expression undefined, as OPA's --strict-builtin-errors. Default false." }),
    budget: z
      .strictObject({
        steps: z.number().int().min(100).max(100_000_000).default(100_000).meta({ description: "Evaluation steps one decision may take before it is stopped as an error. Default 100000." }),
        time: duration("20ms", "Time one decision may take before it is stopped as an error.", { min: 1, max: 10_000 }),
      })
      .prefault({})
      .meta({ description: "Bounds on one decision; spending either is a policy error (fail closed by default)." }),
  })
  .meta({ description: "A Rego policy deciding each request (docs/policy.md; the input document is described in docs/security.md)." });

/** `authz:` on a route. */
export const authzRouteSchema = z
  .strictObject({
    scopes: z.array(z.string().min(1).max(256)).max(64).default([]).meta({ description: "Scopes the identity must all have (a JWT's scope or scp, an API key's scopes)." }),
    roles: z.array(z.string().min(1).max(256)).max(256).default([]).meta({ description: "Roles of which the identity must have at least one (Keycloak's realm and client roles, a roles claim, an API key's roles)." }),
    claims: z.array(claimRule).max(64).default([]).meta({ description: "Claim conditions, all of which must hold." }),
    policy: policySchema.optional(),
    dry_run: z
      .boolean()
      .default(false)
      .meta({ description: "Evaluate, log and count every decision, but never block: how a policy is tried on live traffic before it is enforced. Default false." }),
    on_error: z
      .enum(["deny", "allow"])
      .default("deny")
      .meta({ description: "When the policy fails (an error, a budget stop, a decision of the wrong shape): deny answers 500 FICUS_AUTHZ_ERROR (fail closed); allow lets the request through. Either way the decision is logged and counted as error. Default deny." }),
    allow_headers: headerNames(
      "Header names the policy may see although they look secret (Authorization, Cookie, and names with words such as token, key, secret, session are removed from input.headers otherwise).",
    ),
    allow_query: z
      .array(z.string().min(1).max(256))
      .max(256)
      .default([])
      .meta({ description: "Query parameter names the policy may see although they look secret (access_token, api_key, … are removed from input.query otherwise)." }),
  })
  .superRefine((a, ctx) => {
    if (a.scopes.length + a.roles.length + a.claims.length === 0 && a.policy === undefined) {
      ctx.addIssue({ code: "custom", message: "says nothing to check: give scopes, roles, claims or a policy" });
    }
  })
  .meta({ description: "Authorization of the route's requests: simple rules (scopes, roles, claims) and/or a Rego policy; every one must allow." });

/** The top-level `decision_log:`. */
export const decisionLogSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "One JSON line per authorization decision. Default true." }),
    output: z.string().min(1).default("stdout").meta({ description: "stdout, stderr or a file path (appended to; reopened when rotated). Default stdout." }),
    sample: z.number().min(0).max(1).default(1).meta({ description: "Fraction of allow decisions logged (every k-th); denials, dry-run denials and errors are always logged. Default 1." }),
    max_buffer: size("1MiB", "Decision lines held in memory while the output is slow; past it new lines are dropped and counted (ficus_decision_log_dropped_total), never waited for.", {
      min: 64 * KIB,
      max: 256 * MIB,
    }),
  })
  .prefault({})
  .meta({ description: "The authorization decision log (fields in docs/security.md)." });

export type AuthzRouteConfig = z.output<typeof authzRouteSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type DecisionLogConfig = z.output<typeof decisionLogSchema>;
