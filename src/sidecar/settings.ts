/**
 * The sidecar block compiled for the data plane: the trusted fronts as an
 * address set, the answer headers lowercased and deduplicated (the sidecar's
 * own plus every identity header an auth policy sets).
 */
import type { AuthPolicyConfig } from "../auth/schema.ts";
import { AddressSet } from "./addresses.ts";
import type { SidecarConfig, SidecarFront } from "./schema.ts";

export interface SidecarSettings {
  readonly front: SidecarFront;
  readonly trusted: AddressSet;
  /** Envoy's path_prefix, "" when none. */
  readonly pathPrefix: string;
  /** Lowercase names: stripped from every check request, returned (with the values the layers set) in an allowed answer. */
  readonly answerHeaders: readonly string[];
}

/** Every header name an auth policy's identity_headers sets (subject, issuer, method, scopes, roles, claims). */
export function identityHeaderNames(policies: Iterable<Pick<AuthPolicyConfig, "identity_headers">>): string[] {
  const out: string[] = [];
  for (const p of policies) {
    const h = p.identity_headers;
    if (h === undefined) continue;
    for (const n of [h.subject, h.issuer, h.method, h.scopes, h.roles]) if (n !== undefined) out.push(n);
    out.push(...Object.keys(h.claims));
  }
  return out;
}

/**
 * Compiles the validated `sidecar:` block. `identityHeaders`: the identity header names of every auth policy
 * in the config (identityHeaderNames over auth_policies and the routes' inline policies).
 */
export function compileSidecar(config: SidecarConfig, identityHeaders: readonly string[] = []): SidecarSettings {
  const names = new Set<string>();
  for (const n of [...identityHeaders, ...config.answer_headers]) names.add(n.toLowerCase());
  return Object.freeze({
    front: config.front,
    trusted: new AddressSet(config.trusted_fronts),
    pathPrefix: config.envoy_path_prefix,
    answerHeaders: Object.freeze([...names]),
  });
}
