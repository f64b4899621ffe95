/**
 * The config fragments of TLS: `tls:` on the listener (termination, SNI,
 * client certificates) and `tls:` on an upstream (custom CA, client
 * certificate, server name, verification). Paths only: the files are read
 * and checked by settings.ts when the gateway starts or reloads, since zod
 * cannot see a file's contents. The lead adds these to src/config/schema.ts.
 */
import { z } from "zod";

/** A file path in a TLS field (`${ENV}` already substituted by the loader). */
function pemPath(description: string) {
  return z
    .string()
    .min(1, "must name a file")
    .max(4096, "must be a path of at most 4096 characters")
    .refine((p) => !p.includes("\0"), "must not contain a NUL character")
    .meta({ description });
}

/** A DNS name a client asks for with SNI: "api.example.com", or a wildcard of one label "*.example.com". */
const SERVER_NAME = /^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

const serverName = z
  .string()
  .max(253, "must be a DNS name of at most 253 characters")
  .regex(SERVER_NAME, 'expected a DNS name such as "api.example.com" or "*.example.com"')
  .transform((s) => s.toLowerCase());

export const sniEntrySchema = z
  .strictObject({
    server_name: serverName.meta({ description: 'The name clients ask for (SNI): "api.example.com", or "*.example.com" for one label under it. Case-insensitive.' }),
    cert: pemPath("PEM certificate chain served to clients asking for server_name (leaf first, then intermediates)."),
    key: pemPath("PEM private key of that certificate (unencrypted)."),
  })
  .meta({ description: "A certificate served to clients that ask for server_name." });

export const CLIENT_AUTH = ["none", "optional", "required"] as const;

/** Top-level `tls:`: the data-plane listener serves HTTPS when it is present. */
export const listenerTlsSchema = z
  .strictObject({
    cert: pemPath("PEM certificate chain served by default (clients that send no server name, or one no sni entry matches): leaf first, then intermediates."),
    key: pemPath("PEM private key of the default certificate (unencrypted)."),
    sni: z
      .array(sniEntrySchema)
      .max(1000, "at most 1000 sni entries")
      .default([])
      .meta({ description: "More certificates, each chosen by the name the client asks for (SNI). Default none." }),
    client_ca: pemPath("PEM bundle of the CAs that client certificates must chain to (mTLS). Required when client_auth is optional or required.").optional(),
    client_auth: z
      .enum(CLIENT_AUTH)
      .default("none")
      .meta({
        description:
          "Client certificates (mTLS). none: not asked for. optional: asked for; a client without one, or with one that does not verify against client_ca (expired, another CA), is served without a certificate identity. required: the handshake fails without a certificate that verifies. The verified certificate (subject, SANs, issuer, fingerprint) is available to auth layers. Default none.",
      }),
    watch_interval: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(1000)
      .meta({
        description:
          "How often (ms) the certificate, key and CA files are checked for changes; a change that loads and verifies is served to new connections at once, while open connections keep their session. 0 turns watching off (a config reload still re-reads them). Default 1000.",
      }),
  })
  .superRefine((t, ctx) => {
    if (t.client_auth !== "none" && t.client_ca === undefined) {
      ctx.addIssue({ code: "custom", message: `client_auth ${t.client_auth} needs client_ca (the CAs client certificates must chain to)`, path: ["client_ca"] });
    }
    if (t.client_auth === "none" && t.client_ca !== undefined) {
      ctx.addIssue({ code: "custom", message: "client_ca is set but client_auth is none, so no client certificate is asked for; set client_auth to optional or required", path: ["client_auth"] });
    }
    const seen = new Map<string, number>();
    t.sni.forEach((e, i) => {
      const prev = seen.get(e.server_name);
      if (prev !== undefined) ctx.addIssue({ code: "custom", message: `duplicate server_name ${JSON.stringify(e.server_name)} (also sni[${prev}])`, path: ["sni", i, "server_name"] });
      seen.set(e.server_name, i);
    });
  })
  .meta({ description: "TLS on the data-plane listener (HTTPS): the default certificate, more certificates by server name (SNI), client certificates (mTLS). Files are re-read when they change." });

/** An upstream's `tls:`, for its https endpoints. */
export const upstreamTlsSchema = z
  .strictObject({
    ca: pemPath("PEM bundle of the CAs the upstream's certificate must chain to, instead of the system's trusted roots.").optional(),
    cert: pemPath("PEM client certificate presented to the upstream (for upstreams that require mTLS).").optional(),
    key: pemPath("PEM private key of the client certificate (unencrypted).").optional(),
    server_name: serverName
      .optional()
      .meta({ description: "Server name sent with SNI and checked against the upstream's certificate. Default: the endpoint URL's host." }),
    insecure_skip_verify: z
      .boolean()
      .default(false)
      .meta({
        description:
          "Accept any certificate from the upstream, unverified: for tests only, since anyone on the path can then read and change the traffic. Logged as a warning at every load. Default false.",
      }),
  })
  .superRefine((t, ctx) => {
    if ((t.cert === undefined) !== (t.key === undefined)) {
      ctx.addIssue({ code: "custom", message: "give cert and key together (the client certificate and its private key)", path: [t.cert === undefined ? "cert" : "key"] });
    }
    if (t.insecure_skip_verify && t.ca !== undefined) {
      ctx.addIssue({ code: "custom", message: "ca has no effect with insecure_skip_verify: true (nothing is verified); remove one of them", path: ["insecure_skip_verify"] });
    }
  })
  .meta({ description: "TLS to the upstream's https endpoints: a custom CA, a client certificate, the server name. Verification is always on unless insecure_skip_verify." });

export type ListenerTlsConfig = z.output<typeof listenerTlsSchema>;
export type UpstreamTlsConfig = z.output<typeof upstreamTlsSchema>;
