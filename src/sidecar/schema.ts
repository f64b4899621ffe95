/**
 * The configuration of the sidecar mode: the top-level `sidecar:` block.
 * Zod lives here only: the data plane reads what settings.ts compiles from
 * the validated output, and never loads this file. Routes are configured as
 * in proxy mode (auth, authz, rate limits); this block says how the front
 * (nginx, Caddy, Traefik, Envoy) describes the request it asks about, which
 * connections are trusted to name the client's address, and which headers
 * an allowed answer carries back.
 */
import { z } from "zod";
import { fieldNameProblem } from "../core/http-grammar.ts";
import { parseRange } from "./addresses.ts";

export const SIDECAR_FRONTS = ["auto", "nginx", "caddy", "traefik", "envoy"] as const;
export type SidecarFront = (typeof SIDECAR_FRONTS)[number];

const headerName = z.string().superRefine((name, ctx) => {
  const problem = fieldNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}: ${problem}` });
});

const range = z.string().superRefine((s, ctx) => {
  if (parseRange(s) === undefined) ctx.addIssue({ code: "custom", message: `expected an IP address or a CIDR range such as "10.0.0.0/8" or "fd00::/8", got ${JSON.stringify(s)}` });
});

/** Header names that never travel in an answer: framing, connection, credentials. */
const NOT_ANSWERED = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "trailer", "te", "content-length", "host", "authorization", "cookie", "set-cookie"]);

export const sidecarSchema = z
  .strictObject({
    front: z
      .enum(SIDECAR_FRONTS)
      .default("auto")
      .meta({
        description:
          "The front asking: nginx (auth_request; the original request in X-Original-Method and X-Original-URI), caddy or traefik (forward_auth / forwardAuth; X-Forwarded-Method, -Uri, -Host, -Proto), envoy (ext_authz HTTP service; the check request's own method and path, after envoy_path_prefix). auto tells nginx from Caddy/Traefik by the headers and refuses a request carrying both families; it never assumes Envoy. Set it in production. Default auto.",
      }),
    trusted_fronts: z
      .array(range)
      .max(256)
      .default(["127.0.0.0/8", "::1/128"])
      .meta({
        description:
          "Addresses (or CIDR ranges) of the fronts: only from these is the client's address read from X-Forwarded-For (and the scheme from X-Forwarded-Proto); from any other connection, the connection's own address counts. Default loopback [127.0.0.0/8, ::1/128].",
      }),
    envoy_path_prefix: z
      .string()
      .max(256)
      .regex(/^(?:\/[^?#\s]*[^/?#\s])?$/, 'expected "" or a path prefix such as "/ficus" (no trailing slash, no query)')
      .default("")
      .meta({ description: "With front envoy: the http_service path_prefix Envoy puts before the original path; removed before routing (a check request without it is refused). Default \"\"." }),
    answer_headers: z
      .array(headerName)
      .max(64)
      .default([])
      .superRefine((names, ctx) => {
        names.forEach((n, i) => {
          if (NOT_ANSWERED.has(n.toLowerCase())) ctx.addIssue({ code: "custom", message: `${JSON.stringify(n)} cannot be an answer header (it frames the message or carries a credential)`, path: [i] });
        });
      })
      .meta({
        description:
          "Request headers the enforcement layers set (e.g. the headers an authorization policy adds), returned in an allowed answer for the front to copy upstream, besides every auth identity_headers name. Incoming copies are removed before any layer runs, so a client cannot spoof them.",
      }),
  })
  .prefault({})
  .meta({ description: "The sidecar mode (ficus start --mode sidecar): Ficus answers another gateway's allow-or-deny questions with the routes' auth, authz and rate limits (docs/sidecar.md)." });

export type SidecarConfig = z.output<typeof sidecarSchema>;
