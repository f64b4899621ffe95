/**
 * The schema of `ficus.yaml`: the single source of validation, of the JSON
 * Schema printed by `ficus schema`, and of docs/configuration.md.
 *
 * Every object is strict (unknown keys are errors, with a "did you mean" hint
 * added by the loader). Units are parsed here, so the runtime reads numbers.
 */
import { authPoliciesSchema, authReferenceIssues, routeAuthSchema } from "../auth/schema.ts";
import { authzRouteSchema, decisionLogSchema } from "../authz/schema.ts";
import { rateLimitConfigSchema, rateLimitRouteFields } from "../ratelimit/schema.ts";
import { rateLimitIssues } from "../ratelimit/settings.ts";
import { sidecarSchema } from "../sidecar/schema.ts";
import { mcpConfigSchema, mcpIssues, routeMcpSchema } from "../mcp/schema.ts";
import { listenerTlsSchema, upstreamTlsSchema } from "../tls/schema.ts";
import { z } from "zod";
import { SECRET_HEADER_NAMES, SECRET_QUERY_NAMES, SECRET_WORDS } from "../core/secret-names.ts";
import { fieldNameProblem, fieldValueProblem } from "../core/http-grammar.ts";
import { compareRulesSchema } from "./compare-schema.ts";
import { duration, size } from "./fields.ts";

export { duration, size };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KIB = 1024;
const MIB = 1024 * KIB;


/** An http(s) URL, checked once here so the data plane never parses URLs. */
export const httpUrl = z.string().superRefine((s, ctx) => {
  let ok = false;
  try {
    const u = new URL(s);
    ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && /^https?:\/\/[^/]/.test(s);
  } catch {
    ok = false;
  }
  if (!ok) ctx.addIssue({ code: "custom", message: `expected an http(s) URL, got ${JSON.stringify(s)}` });
});

/**
 * An upstream endpoint: an http(s) URL of a host, a port and an optional base
 * path — nothing the data plane would silently drop. Credentials, a query or
 * a fragment in the URL are refused (they would not be sent), as is port 0.
 */
export const endpointUrl = httpUrl.superRefine((s, ctx) => {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return; // reported by httpUrl
  }
  const problem =
    u.username !== "" || u.password !== ""
      ? "credentials in an upstream URL are not sent; set the header with request_headers.add (authorization: ${UPSTREAM_AUTH})"
      : u.search !== "" || s.includes("?")
        ? "an upstream URL cannot carry a query (it would be dropped); the client's query is forwarded as it is"
        : u.hash !== "" || s.includes("#")
          ? "an upstream URL cannot carry a fragment"
          : u.port === "0"
            ? "port 0 is not a port an upstream can listen on"
            : undefined;
  if (problem) ctx.addIssue({ code: "custom", message: `${problem}, got ${JSON.stringify(s.replace(/\/\/[^/@]*@/, "//[redacted]@"))}` });
});

const LISTEN = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/;

/** Parses "host:port", "[::1]:port" or ":port" into parts; undefined if invalid. */
export function parseListen(value: string): { hostname: string; port: number } | undefined {
  const m = LISTEN.exec(value.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export function listenAddress(defaultValue: string, description: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parseListen(v ?? defaultValue);
      if (!parsed) {
        ctx.addIssue({ code: "custom", message: `expected HOST:PORT such as "0.0.0.0:8080" or "[::1]:8080", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return parsed;
    })
    .meta({ description: `${description} Default ${defaultValue}.` });
}

const healthSchema = z
  .strictObject({
    max_failures: z.number().int().min(1).default(5).meta({ description: "Consecutive failures (connect errors, resets, timeouts, 502/503/504) that eject an endpoint. Default 5." }),
    ejection: duration("10s", "Base ejection time; doubles with each repeated ejection of the same endpoint.", { min: 1 }),
    max_ejection: duration("5m", "Upper bound of the ejection time.", { min: 1 }),
  })
  .meta({ description: "Passive health checking (outlier ejection)." });

const upstreamObject = z
  .strictObject({
    endpoints: z.array(endpointUrl).min(1).meta({ description: "Endpoint base URLs. A path in the URL is prefixed to every forwarded path." }),
    balance: z.enum(["round_robin", "least_outstanding"]).default("round_robin").meta({ description: "How a request picks an endpoint. Default round_robin." }),
    health: healthSchema.optional(),
    tls: upstreamTlsSchema.optional(),
  })
  .superRefine((u, ctx) => {
    if (u.tls !== undefined && !u.endpoints.some((e) => e.startsWith("https:"))) ctx.addIssue({ code: "custom", message: "tls applies to https:// endpoints, and this upstream has none", path: ["tls"] });
  })
  .meta({ description: "An upstream: endpoints, balancing, passive health and TLS to the endpoints." });

/** A route's upstream: a URL, a list of URLs, the name of an entry in `upstreams`, or an inline object. */
const upstreamRef = z
  .union([
    z.string().superRefine((s, ctx) => {
      if (NAME.test(s) && !s.includes(":")) return; // a name from `upstreams`, resolved after parsing
      const r = endpointUrl.safeParse(s);
      if (!r.success) ctx.addIssue({ code: "custom", message: r.error.issues[0]?.message ?? "invalid URL" });
    }),
    z.array(endpointUrl).min(1),
    upstreamObject,
  ])
  .meta({ description: "An http(s) URL, a list of URLs, the name of an entry of `upstreams`, or an object with endpoints." });

/** Fields a route must not set or remove: they frame the message or belong to one connection (RFC 9110 §7.6.1). */
const FRAMING_FIELDS = new Set(["connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer", "content-length", "host"]);

/** A header name in config: the RFC 9110 token grammar. */
export const headerName = z.string().superRefine((name, ctx) => {
  const problem = fieldNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}` });
});

/** A header value in config: no CR, LF, NUL or other controls, bytes only (RFC 9110 §5.5). */
export const headerValue = z.string().superRefine((value, ctx) => {
  const problem = fieldValueProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid header value ${JSON.stringify(value)}: ${problem}` });
});

/** Field names as record keys: checked here so the message names the key (zod reports only "Invalid key in record"). */
function headerKeys(record: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const name of Object.keys(record)) {
    const problem = fieldNameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}`, path: [name] });
  }
}

/** A map of header name to `value`, names checked against the token grammar. */
export function headerRecord<V extends z.ZodType>(value: V) {
  return z.record(z.string(), value).superRefine(headerKeys);
}

function framingCheck(names: readonly string[], ctx: z.RefinementCtx, key: string): void {
  for (const n of names) {
    if (FRAMING_FIELDS.has(n.toLowerCase())) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(n)} cannot be changed by a route: it frames the message or belongs to one connection (the gateway sets it)${n.toLowerCase() === "host" ? "; use preserve_host to send the client's Host" : ""}`,
        path: key === "add" ? [key, n] : [key],
      });
    }
  }
}

const headerOps = z
  .strictObject({
    add: headerRecord(headerValue).default({}).meta({ description: "Headers to set (replacing any value already present). Names are tokens; values are ASCII or Latin-1 without control characters." }),
    remove: z.array(headerName).default([]).meta({ description: "Header names to remove." }),
  })
  .superRefine((ops, ctx) => {
    framingCheck(Object.keys(ops.add), ctx, "add");
    framingCheck(ops.remove, ctx, "remove");
  })
  .meta({ description: "Header changes. Framing and connection fields (Content-Length, Transfer-Encoding, Connection, Host, …) cannot be set or removed." });

const timeoutsSchema = z
  .strictObject({
    header: duration("30s", "Time from sending the request until the response headers arrive, connection setup included (a refused connection fails at once with 502).", { min: 1 }),
    idle: duration("60s", "Longest the upstream may pause while sending the response body (the body is cut and counted as the upstream's failure). A client that stalls is bounded by limits.client_idle_timeout.", { min: 1 }),
    total: duration("0ms", "Bound on the whole exchange including the body; 0 means no bound."),
  })
  .meta({ description: "Upstream timeouts; a timeout answers 504 and aborts the upstream request." });

const retriesSchema = z
  .strictObject({
    attempts: z.number().int().min(0).max(10).default(1).meta({ description: "Retries after the first try (0 disables). Default 1." }),
    on: z
      .array(z.enum(["connect-failure", "502", "503", "504", "reset"]))
      .default(["connect-failure", "502", "503"])
      .meta({ description: "Conditions that allow a retry. Default [connect-failure, 502, 503]." }),
    budget: z.number().min(0).max(1).default(0.2).meta({ description: "Retries may add at most this fraction of the route's request rate. Default 0.2." }),
    min_per_second: z.number().min(0).default(10).meta({ description: "Retries always allowed per second regardless of the budget. Default 10." }),
    backoff: duration("25ms", "Pause before a retry (jittered ±50%).", { max: 60_000 }),
  })
  .meta({ description: "Retries: idempotent methods without a request body only." });

const matchSchema = z
  .strictObject({
    host: z.string().optional().meta({ description: 'Host to match (port ignored): "api.example.com" or "*.example.com".' }),
    path: z
      .string()
      .startsWith("/")
      .optional()
      .meta({ description: 'Exact path, or a template with ":name" segments and a final "*" (e.g. /orders/:id, /files/*).' }),
    prefix: z.string().startsWith("/").optional().meta({ description: "Path prefix, matched on segment boundaries (/api matches /api and /api/x, not /apix)." }),
    methods: z
      .array(z.string().regex(/^[A-Za-z]+$/).transform((m) => m.toUpperCase()))
      .optional()
      .meta({ description: "Methods to match; any method when absent." }),
    headers: z
      .record(z.string(), z.union([z.string(), z.boolean()]))
      .superRefine(headerKeys)
      .optional()
      .meta({ description: "Header conditions: a string value must equal; true means present; false means absent." }),
  })
  .superRefine((m, ctx) => {
    if (m.path !== undefined && m.prefix !== undefined) {
      ctx.addIssue({ code: "custom", message: "give either path or prefix, not both", path: ["prefix"] });
    }
    if (m.path !== undefined) {
      const segs = m.path.split("/");
      segs.forEach((s, i) => {
        if (s === "*" && i !== segs.length - 1) ctx.addIssue({ code: "custom", message: `"*" must be the last segment of a path template, got ${JSON.stringify(m.path)}`, path: ["path"] });
        if (s.startsWith(":") && !/^:[A-Za-z_][A-Za-z0-9_]*$/.test(s)) ctx.addIssue({ code: "custom", message: `invalid parameter segment ${JSON.stringify(s)} in ${JSON.stringify(m.path)}`, path: ["path"] });
      });
    }
  })
  .meta({ description: "Conditions a request must meet; all given conditions must hold." });

const rewriteSchema = z
  .strictObject({
    strip_prefix: z.string().startsWith("/").optional().meta({ description: "Remove this prefix from the path before forwarding." }),
    prefix: z.string().startsWith("/").optional().meta({ description: "Prepend this to the (stripped) path." }),
    path: z.string().startsWith("/").optional().meta({ description: 'Replace the path with a template using the route\'s ":name" parameters and "*" (e.g. /v2/orders/:id).' }),
  })
  .meta({ description: "Path rewriting, applied after matching." });

const shadowSchema = z
  .strictObject({
    sample: z.number().min(0).max(1).default(1).meta({ description: "Fraction of requests mirrored to the candidate, chosen deterministically (every k-th). Default 1." }),
    after_cutover: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .meta({
        description:
          "In the candidate stage, fraction of requests (served by the candidate) also sent to legacy and compared, to keep watching after cutover until legacy is switched off. Default 0 (legacy gets no traffic).",
      }),
    max_concurrency: z.number().int().min(1).default(64).meta({ description: "Candidate calls in flight per route (per worker); past it the mirror copy is dropped and counted. Default 64." }),
    timeout: duration("10s", "Time allowed for the candidate's whole response.", { min: 1 }),
    max_body: size("1MiB", "Largest request body buffered for mirroring; larger requests are not shadowed (skipped: body_too_large).", { max: 64 * MIB }),
    allow_unsafe: z
      .boolean()
      .default(false)
      .meta({ description: "Also mirror POST, PUT, PATCH and DELETE. The candidate then performs writes too: point it at its own data store. Default false." }),
    aa: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .meta({ description: "Fraction of mirrored safe requests also sent to legacy a second time (A/A), to learn which paths differ between two legacy answers (noise). Default 0.05." }),
    noise: z
      .strictObject({
        relative: z.number().min(0).default(0.2).meta({ description: "A path's difference is significant when its candidate difference rate exceeds the A/A rate by at least this fraction of it. Default 0.2." }),
        absolute: z.number().min(0).max(1).default(0.0003).meta({ description: "…and by at least this absolute rate (a floor). Default 0.0003 (0.03%)." }),
        min_aa: z.number().int().min(1).default(20).meta({ description: "A/A comparisons needed before a path can be learned as noise. Default 20." }),
      })
      .prefault({})
      .meta({ description: "When a difference counts as noise (Diffy's significance rule)." }),
    redact: z.array(z.string()).default([]).meta({ description: "JSONPath patterns of body values replaced by \"[redacted]\" in stored samples and recordings, in addition to the top-level redact block (secret-looking headers, parameters and keys)." }),
  })
  .meta({ description: "How the shadow stage mirrors requests to the candidate." });

const canarySchema = z
  .strictObject({
    percent: z.number().min(0).max(100).default(1).meta({ description: "Share of requests the candidate serves in the canary stage, 0–100 (0.01 steps). Default 1." }),
    sticky: z
      .strictObject({
        header: headerName.optional().meta({ description: "Request header whose value keeps a client on one side (e.g. x-user-id)." }),
        cookie: headerName.optional().meta({ description: "Cookie whose value keeps a client on one side." }),
        fallback: z.enum(["ip", "none"]).default("ip").meta({ description: "Without header or cookie: the client address (ip), or assignment per request (none). Default ip." }),
        salt: z.string().default("").meta({ description: "Mixed into the hash. Routes with the same salt put a given key on the same side at the same percentage. Default empty." }),
      })
      .prefault({})
      .meta({ description: "What keeps a client on one side." }),
    allow_force: z.boolean().default(true).meta({ description: "Honour X-Ficus-Force: legacy|candidate (for testing). Default true." }),
    steps: z
      .array(z.number().gt(0).max(100))
      .min(1)
      .default([1, 10, 50, 100])
      .meta({ description: "The percentages `promote` walks through in the canary stage; reaching 100 makes the route candidate. Default [1, 10, 50, 100]." }),
    rollback_to: z.enum(["shadow", "legacy"]).default("shadow").meta({ description: "The stage a rollback returns to. Default shadow." }),
    auto: z
      .boolean()
      .default(true)
      .meta({ description: "Promote automatically through shadow and each step when every gate passes, and roll back automatically when one fails. Default true." }),
    step: z
      .strictObject({
        min_duration: duration("10m", "Least time in a step (shadow included) before an automatic promotion."),
        min_requests: z.number().int().min(0).default(500).meta({ description: "Least compared requests in a step before an automatic promotion. Default 500." }),
      })
      .prefault({})
      .meta({ description: "What each step needs before it can be promoted." }),
    gates: z
      .strictObject({
        mismatch_rate: z.number().min(0).max(1).default(0.01).meta({ description: "Budget of non-noise mismatches per compared request (those at min_severity or above). Default 0.01." }),
        min_severity: z
          .enum(["low", "medium", "high"])
          .default("medium")
          .meta({
            description:
              "Least severity of a mismatch that counts toward mismatch_rate, judged by its most severe non-noise difference. high: a status, type or missing field; medium: a different value or order; low: an extra field or a differing header. Lower ones are still reported and kept as signatures. Default medium.",
          }),
        error_margin: z.number().min(0).max(1).default(0.01).meta({ description: "The candidate's error rate (5xx, timeouts) may exceed legacy's by this much. Default 0.01." }),
        min_compared: z.number().int().min(1).default(20).meta({ description: "Compared requests before the rate gates judge. Default 20." }),
        latency: z
          .strictObject({
            p50_factor: z.number().min(1).default(1.2).meta({ description: "The candidate may be this much slower at the median (Mann–Whitney U test). Default 1.2." }),
            p99_factor: z.number().min(1).default(1.5).meta({ description: "…and at p99. Default 1.5." }),
            min_samples: z.number().int().min(2).default(100).meta({ description: "Latency samples per side before the latency gates judge. Default 100." }),
            alpha: z.number().gt(0).lt(1).default(0.01).meta({ description: "Significance level of the Mann–Whitney test. Default 0.01." }),
          })
          .prefault({}),
      })
      .prefault({})
      .meta({ description: "Gates evaluated continuously in shadow and canary." }),
  })
  .superRefine((c, ctx) => {
    c.steps.forEach((p, i) => {
      if (i > 0 && p <= (c.steps[i - 1] as number)) ctx.addIssue({ code: "custom", message: `steps must increase: ${p} after ${c.steps[i - 1]}`, path: ["steps", i] });
    });
  })
  .meta({ description: "The canary stage: a sticky share of requests served by the candidate." });

/** Words or names for the redact block: each needs a letter or digit (separators alone would match nothing). */
const redactNames = z.array(z.string().regex(/[A-Za-z0-9]/, "expected a word or name with a letter or digit")).default([]);

export const STAGES = ["legacy", "shadow", "canary", "candidate"] as const;

export const routeSchema = z
  .strictObject({
    name: z.string().regex(NAME, "expected a name of letters, digits, '_', '.', '-'").meta({ description: "Unique route name, used in metrics, logs and the admin API." }),
    match: matchSchema.prefault({}),
    upstream: upstreamRef.optional().meta({ description: "Where the route sends requests (for a route being migrated, say `legacy` instead). An http(s) URL, a list of URLs, the name of an entry of `upstreams`, or an object with endpoints." }),
    legacy: upstreamRef.optional().meta({ description: "The existing implementation (same forms as `upstream`)." }),
    candidate: upstreamRef.optional().meta({ description: "The new implementation (same forms as `upstream`)." }),
    stage: z
      .enum(STAGES)
      .default("legacy")
      .meta({
        description:
          "legacy: serve from legacy. shadow: serve from legacy and mirror to the candidate, comparing the answers. canary: the candidate serves canary.percent of requests (sticky), and each side's requests are mirrored to the other and compared. candidate: serve from the candidate. Default legacy.",
      }),
    canary: canarySchema.prefault({}),
    served_by_header: z.boolean().default(true).meta({ description: "On a route with a candidate, answer with X-Ficus-Served-By: legacy|candidate. Default true." }),
    compare: compareRulesSchema.prefault({}),
    shadow: shadowSchema.prefault({}),
    rewrite: rewriteSchema.optional(),
    request_headers: headerOps.optional(),
    response_headers: headerOps.optional(),
    timeouts: timeoutsSchema.prefault({}),
    retries: retriesSchema.prefault({}),
    max_body: size(0, "Largest request body accepted (413 above it); 0 means no limit.", { max: 1024 ** 4 }),
    preserve_host: z.boolean().default(false).meta({ description: "Send the client's Host header upstream instead of the endpoint's. Default false." }),
    auth: routeAuthSchema.optional(),
    authz: authzRouteSchema.optional(),
    ...rateLimitRouteFields,
    mcp: routeMcpSchema.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.upstream !== undefined && r.legacy !== undefined) ctx.addIssue({ code: "custom", message: "give either upstream or legacy, not both (they mean the same)", path: ["legacy"] });
    if (r.stage !== "legacy" && r.candidate === undefined) ctx.addIssue({ code: "custom", message: `stage ${r.stage} needs a candidate`, path: ["stage"] });
    if (r.canary.sticky.header !== undefined && r.canary.sticky.cookie !== undefined) {
      ctx.addIssue({ code: "custom", message: "give either header or cookie, not both", path: ["canary", "sticky", "cookie"] });
    }
  })
  .meta({ description: "A route: what it matches and where it sends the request." });

export const configSchema = z
  .strictObject({
    mode: z
      .enum(["proxy", "sidecar", "edge-mcp"])
      .default("proxy")
      .meta({
        description:
          "proxy: Ficus forwards each request to its route's upstream. sidecar: another gateway (nginx auth_request, Caddy forward_auth, Traefik forwardAuth, Envoy ext_authz) keeps the traffic and asks Ficus to allow or deny each request; routes then need no upstream (docs/sidecar.md). edge-mcp: Ficus serves MCP to AI agents from the sources of the mcp block (docs/mcp.md); with no route, one MCP endpoint is served at /mcp. Default proxy.",
      }),
    listen: listenAddress("0.0.0.0:8080", "Data-plane listen address."),
    tls: listenerTlsSchema.optional(),
    admin: z
      .strictObject({
        listen: listenAddress("127.0.0.1:9901", "Admin API listen address."),
        token_env: z
          .string()
          .default("FICUS_ADMIN_TOKEN")
          .meta({ description: "Environment variable holding the admin bearer token (required when the admin API is not on loopback). Default FICUS_ADMIN_TOKEN." }),
      })
      .prefault({})
      .meta({ description: "The admin API (health, readiness, metrics, config, routes)." }),
    workers: z.number().int().min(0).max(256).default(0).meta({ description: "Worker processes sharing the listen port; 0 means one per CPU. Default 0." }),
    upstreams: z.record(z.string().regex(NAME), upstreamObject).default({}).meta({ description: "Named upstreams that routes refer to by name." }),
    routes: z.array(routeSchema).default([]).meta({ description: "The routes; the most specific match wins (docs/routing.md)." }),
    auth_policies: authPoliciesSchema,
    decision_log: decisionLogSchema,
    rate_limit: rateLimitConfigSchema.prefault({}),
    sidecar: sidecarSchema.prefault({}),
    mcp: mcpConfigSchema.prefault({}),
    default_route: z.string().optional().meta({ description: "Name of the route that serves requests no route matches (otherwise 404)." }),
    upstream_connections: z
      .strictObject({
        connect_timeout: duration("5s", "Longest a TCP (and TLS) connection to an upstream may take to open; past it the attempt fails as FICUS_UPSTREAM_UNREACHABLE (retried when the route's retries allow). A route's timeouts.header bounds it too.", { min: 1, max: 600_000 }),
        idle_timeout: duration("4s", "How long an idle keep-alive connection to an upstream is kept for reuse; keep it below the upstreams' own keep-alive timeout (often 5s).", { min: 1, max: 3_600_000 }),
        max_idle: z.number().int().min(0).max(100_000).default(256).meta({ description: "Idle keep-alive connections kept per upstream origin (scheme, host, port); 0 closes each after use. Default 256." }),
      })
      .prefault({})
      .meta({ description: "Connections to upstreams: one keep-alive pool per origin, shared by every route that sends there and kept across reloads (new settings apply to pools opened after the reload)." }),
    limits: z
      .strictObject({
        max_url_bytes: size("8KiB", "Longest request target (path and query); 414 above it.", { min: 64, max: 16 * KIB }),
        max_header_bytes: size("16KiB", "Largest request header section; above it the gateway answers 431 FICUS_HEADERS_TOO_LARGE.", { min: KIB, max: 16 * KIB }),
        client_idle_timeout: duration("60s", "A client connection idle this long between requests is closed; a client that takes longer than this to send a request head, or pauses this long in a request body, gets 408 FICUS_CLIENT_TIMEOUT (never counted against the upstream); a client that reads nothing of a response for this long is disconnected.", { min: 1000, max: 255_000 }),
      })
      .prefault({})
      .meta({ description: "Limits on what clients may send." }),
    reload: z
      .strictObject({
        max_removed_routes: z
          .number()
          .min(0)
          .max(1)
          .default(0.5)
          .meta({
            description:
              "Largest share of the running routes a reload may remove (by name) without force; a reload to a config with no routes is always refused without force. Judged by the running config. Force: POST /admin/reload?force=true or `ficus reload --force`. Default 0.5.",
          }),
        settle: duration("200ms", "After the file changes, wait until its size and modification time have stayed the same this long before reading it (an editor or a copy may still be writing).", { min: 10, max: 10_000 }),
      })
      .prefault({})
      .meta({ description: "Hot reload on file change, SIGHUP and POST /admin/reload; an invalid config is always rejected and the running one kept." }),
    shutdown: z
      .strictObject({
        drain_timeout: duration("30s", "On SIGTERM, time allowed for in-flight requests to finish before exit."),
      })
      .prefault({})
      .meta({ description: "Graceful shutdown." }),
    access_log: z
      .strictObject({
        enabled: z.boolean().default(true).meta({ description: "One JSON line per request. Default true." }),
        sample: z.number().min(0).max(1).default(1).meta({ description: "Fraction of requests logged (errors are always logged). Default 1." }),
        output: z.string().default("stdout").meta({ description: "stdout, stderr or a file path. Default stdout." }),
      })
      .prefault({})
      .meta({ description: "The access log (fields in docs/observability.md)." }),
    log: z
      .strictObject({
        level: z.enum(["debug", "info", "warn", "error"]).default("info").meta({ description: "Application log level (JSON lines on stderr). Default info." }),
      })
      .prefault({})
      .meta({ description: "Application logs." }),
    store: z
      .strictObject({
        path: z.string().min(1, "must name a file (an empty path would give each process a private, temporary store)").default(".ficus/results.db").meta({ description: "SQLite file holding shadow results and migration state (created with its folder), used when url is not set. Default .ficus/results.db." }),
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgres:// or postgresql:// URL")
          .optional()
          .meta({
            description:
              "PostgreSQL database shared by a fleet of gateways, e.g. postgres://ficus:${PG_PASSWORD}@db:5432/ficus. Results merge across instances and a promote, pause or rollback through any instance is obeyed by all. Replaces path when set.",
          }),
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier")
          .default("ficus")
          .meta({ description: "PostgreSQL schema holding Ficus's tables (created if missing). Gateways sharing a migration use the same one. Default ficus." }),
        affects_readiness: z
          .boolean()
          .default(false)
          .meta({
            description:
              "When true, /readyz answers 503 while the store cannot be read (routes with a candidate only). The gateway serves on the last known stages either way; turn this on to have a load balancer prefer instances that see the fleet's commands. Default false.",
          }),
        samples_per_signature: z.number().int().min(0).max(100).default(5).meta({ description: "Sample pairs kept per mismatch signature. Default 5." }),
        retention: duration("7d", "Signatures not seen for this long are deleted.", { min: 60_000, max: 3650 * 86_400_000 }),
        flush_interval: duration("1s", "How often buffered results are written.", { min: 10, max: 600_000 }),
      })
      .prefault({})
      .meta({ description: "Where shadow-stage results are kept." }),
    redact: z
      .strictObject({
        defaults: z
          .boolean()
          .default(true)
          .meta({
            description: `Keep the built-in secret words (${SECRET_WORDS.join(", ")}) and names (the ${SECRET_HEADER_NAMES.join(", ")} headers; the ${SECRET_QUERY_NAMES.join(", ")} query parameter). false: only the lists below. Default true.`,
          }),
        headers: redactNames.meta({ description: "More words (or names) making a header field secret, matched like the built-in words (docs/shadow.md#redaction)." }),
        query: redactNames.meta({ description: "More words making a query or form parameter secret." }),
        body_keys: redactNames.meta({ description: "More words making a JSON key secret: its value is hidden at any depth (in addition to each route's shadow.redact paths)." }),
        keep: redactNames.meta({ description: "Whole names (headers, parameters, keys; case-insensitive) never redacted, e.g. next_page_token." }),
      })
      .prefault({})
      .meta({ description: "What is hidden in shadow samples, recordings and replay reports: header fields, query and form parameters, and JSON values whose name looks secret." }),
    record: z
      .strictObject({
        dir: z.string().min(1, "must name a folder").default(".ficus/recordings").meta({ description: "Where `ficus record start` writes recordings when it names no folder (created if missing). Default .ficus/recordings." }),
        max_file_size: size("64MiB", "A recording file is closed and the next one opened past this many bytes (before compression).", { min: KIB, max: 16 * 1024 * MIB }),
        max_body: size("1MiB", "Exchanges whose request or response body is larger are not recorded (counted as skipped).", { max: 64 * MIB }),
        queue: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(1000)
          .meta({ description: "Exchanges waiting for the writer, per process; past it new ones are dropped and counted, so a slow disk never slows the data plane. Default 1000." }),
        queue_bytes: size("64MiB", "Bytes of bodies waiting for the writer, per process; past it new exchanges are dropped and counted (bounds memory whatever max_body is).", { min: 64 * KIB, max: 4 * 1024 * MIB }),
      })
      .prefault({})
      .meta({ description: "Recording traffic to Ficus JSON Lines (started and stopped at runtime with `ficus record` or the admin API)." }),
    tracing: z
      .strictObject({
        otlp_endpoint: httpUrl.optional().meta({ description: "OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. Tracing is off without it." }),
        service_name: z.string().default("ficus").meta({ description: "service.name of the exported spans. Default ficus." }),
        sample: z.number().min(0).max(1).default(1).meta({ description: "Fraction of new traces sampled (a sampled parent is always followed). Default 1." }),
        headers: headerRecord(headerValue).default({}).meta({ description: "Extra headers for the exporter (use ${ENV} for secrets)." }),
      })
      .prefault({})
      .meta({ description: "OpenTelemetry tracing over OTLP/HTTP; off unless otlp_endpoint is set." }),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.routes.forEach((r, i) => {
      if ((c.mode !== "sidecar" || r.candidate !== undefined) && r.mcp === undefined && r.upstream === undefined && r.legacy === undefined) {
        ctx.addIssue({ code: "custom", message: "is required (the route's upstream: give `upstream`, or `legacy` for a route being migrated)", path: ["routes", i, "upstream"] });
      }
      const prev = seen.get(r.name);
      if (prev !== undefined) ctx.addIssue({ code: "custom", message: `duplicate route name ${JSON.stringify(r.name)} (also routes[${prev}])`, path: ["routes", i, "name"] });
      seen.set(r.name, i);
      for (const field of ["upstream", "legacy", "candidate"] as const) {
        const ref = r[field];
        if (typeof ref === "string" && !ref.includes(":") && !(ref in c.upstreams)) {
          const known = Object.keys(c.upstreams);
          ctx.addIssue({
            code: "custom",
            message: `unknown upstream ${JSON.stringify(ref)}; expected an http(s) URL or one of: ${known.length ? known.join(", ") : "(no upstreams defined)"}`,
            path: ["routes", i, field],
          });
        }
      }
    });
    for (const issue of authReferenceIssues(c.auth_policies, c.routes)) ctx.addIssue({ code: "custom", message: issue.message, path: ["routes", issue.route, "auth"] });
    for (const issue of rateLimitIssues(c)) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    for (const issue of mcpIssues(c)) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    if (c.default_route !== undefined && !seen.has(c.default_route)) {
      ctx.addIssue({ code: "custom", message: `no route named ${JSON.stringify(c.default_route)}; known routes: ${[...seen.keys()].join(", ") || "(none)"}`, path: ["default_route"] });
    }
  });

export type FicusConfig = z.output<typeof configSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type UpstreamObject = z.output<typeof upstreamObject>;

/** JSON Schema (draft 2020-12) of the input format, for editors. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, title: "Ficus configuration (ficus.yaml)" };
}
